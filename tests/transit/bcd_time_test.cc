// BCD card time in China Standard Time (UTC+8): round trips, the UTC+8 day boundary, and every
// kind of bad input refused with the field named.
#include "transit/bcd_time.h"

#include <gtest/gtest.h>

#include <limits>

#include "core/hex.h"

namespace tapstack::transit {
namespace {

// 2026-01-01 00:00:00 in Beijing is 2025-12-31 16:00:00 UTC.
constexpr std::int64_t kNewYear2026Cst = 1'767'225'600 - 8 * 3600;

std::string Hex(ByteView b) { return HexEncode(b); }

Bytes FromHex(std::string_view hex) { return HexDecode(hex).value(); }

TEST(BcdTimeTest, MidnightInUtc8IsNotMidnightInUtc) {
  auto before = ToBcdDateTime(kNewYear2026Cst - 1);
  auto at = ToBcdDateTime(kNewYear2026Cst);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(Hex(*before), "20251231235959");
  EXPECT_EQ(Hex(*at), "20260101000000");
  // Both instants are on 31 December in UTC; only the local date moves.
  EXPECT_EQ(Hex(ToBcdDate(kNewYear2026Cst - 1).value()), "20251231");
  EXPECT_EQ(Hex(ToBcdDate(kNewYear2026Cst).value()), "20260101");
  EXPECT_EQ(Hex(ToBcdTime(kNewYear2026Cst - 1)), "235959");
  EXPECT_EQ(Hex(ToBcdTime(kNewYear2026Cst)), "000000");

  EXPECT_EQ(FromBcdDateTime(*before).value(), kNewYear2026Cst - 1);
  EXPECT_EQ(FromBcdDateTime(*at).value(), kNewYear2026Cst);
  EXPECT_EQ(FromBcdDate(FromHex("20260101")).value(), kNewYear2026Cst);
  EXPECT_EQ(FromBcdTime(FromHex("235959")).value(), 86'399);
  EXPECT_EQ(FromBcdDateAndTime(FromHex("20251231"), FromHex("235959")).value(),
            kNewYear2026Cst - 1);
  EXPECT_EQ(FormatChinaTime(kNewYear2026Cst), "2026-01-01 00:00:00");
}

TEST(BcdTimeTest, RoundTripsAcrossTheRange) {
  // A stride that is not a multiple of a minute, hour or day visits every field value.
  for (std::int64_t t = kBcdUnixSecondsMin; t < 4'200'000'000; t += 9'999'991) {
    auto bcd = ToBcdDateTime(t);
    ASSERT_TRUE(bcd.ok()) << t;
    auto back = FromBcdDateTime(*bcd);
    ASSERT_TRUE(back.ok()) << t << " " << back.status().ToString();
    EXPECT_EQ(*back, t);
    auto date = ToBcdDate(t).value();
    const BcdTime time = ToBcdTime(t);
    EXPECT_EQ(FromBcdDateAndTime(date, time).value(), t);
  }
}

TEST(BcdTimeTest, EndsOfTheRange) {
  EXPECT_EQ(Hex(ToBcdDateTime(kBcdUnixSecondsMin).value()), "19700101000000");
  EXPECT_EQ(Hex(ToBcdDateTime(kBcdUnixSecondsMax).value()), "99991231235959");
  EXPECT_EQ(FromBcdDateTime(FromHex("99991231235959")).value(), kBcdUnixSecondsMax);

  auto early = ToBcdDateTime(kBcdUnixSecondsMin - 1);
  EXPECT_EQ(early.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(early.status().message().find("1970-9999"), std::string::npos);
  EXPECT_EQ(ToBcdDateTime(kBcdUnixSecondsMax + 1).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(ToBcdDate(std::numeric_limits<std::int64_t>::max()).status().code(),
            ErrorCode::kOutOfRange);
  EXPECT_EQ(FormatChinaTime(std::numeric_limits<std::int64_t>::min()), "out of range");
  // The time of day exists for every instant, even far outside the card's years.
  EXPECT_EQ(ToBcdTime(std::numeric_limits<std::int64_t>::max()).size(), kBcdTimeBytes);
  EXPECT_EQ(ToBcdTime(std::numeric_limits<std::int64_t>::min()).size(), kBcdTimeBytes);
}

TEST(BcdTimeTest, LeapDays) {
  EXPECT_TRUE(FromBcdDate(FromHex("20240229")).ok());
  EXPECT_TRUE(FromBcdDate(FromHex("20000229")).ok());  // divisible by 400
  auto common = FromBcdDate(FromHex("20250229"));
  EXPECT_EQ(common.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(common.status().message().find("day 29 does not exist in 2025-02"), std::string::npos)
      << common.status().ToString();
  EXPECT_FALSE(FromBcdDate(FromHex("21000229")).ok());  // a century, not divisible by 400
}

TEST(BcdTimeTest, BadInputIsRefusedWithTheFieldNamed) {
  struct Case {
    const char* hex;
    const char* expected;
  };
  const Case cases[] = {
      {"202601010000", "entry time: expected 7 BCD bytes, got 6"},
      {"2026010100000000", "entry time: expected 7 BCD bytes, got 8"},
      {"202A0101000000", "entry time: BCD byte at offset 1 is 2A"},
      {"2026010100F000", "entry time: BCD byte at offset 5 is F0"},
      {"20261301000000", "entry time: month 13 is not 01-12"},
      {"20260001000000", "entry time: month 00 is not 01-12"},
      {"20260431000000", "entry time: day 31 does not exist in 2026-04"},
      {"20260100000000", "entry time: day 00 does not exist in 2026-01"},
      {"20260101240000", "entry time: hour 24 is not 00-23"},
      {"20260101006000", "entry time: minute 60 is not 00-59"},
      {"20260101000060", "entry time: second 60 is not 00-59"},
      {"19691231235959", "entry time: year 1969 is before 1970"},
  };
  for (const Case& c : cases) {
    auto r = FromBcdDateTime(FromHex(c.hex), "entry time");
    ASSERT_FALSE(r.ok()) << c.hex;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << c.hex;
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.hex << ": " << r.status().ToString();
  }
  EXPECT_NE(FromBcdDate(FromHex("202601")).status().message().find("date: expected 4 BCD bytes"),
            std::string::npos);
  EXPECT_NE(FromBcdTime(FromHex("2400")).status().message().find("time: expected 3 BCD bytes"),
            std::string::npos);
  EXPECT_NE(FromBcdTime(FromHex("235A00")).status().message().find("time: BCD byte at offset 1"),
            std::string::npos);
  EXPECT_NE(FromBcdDateAndTime(FromHex("20260101"), FromHex("250000"))
                .status()
                .message()
                .find("time: hour 25"),
            std::string::npos);
}

}  // namespace
}  // namespace tapstack::transit
