// The 48-byte CAPP trip record: a fresh card is idle, records round-trip byte for byte at the
// documented offsets, and every malformed record is refused naming the byte and field.
#include "transit/trip_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "core/hex.h"
#include "transit/bcd_time.h"

namespace tapstack::transit {
namespace {

constexpr std::int64_t kEntry = 1'767'225'600 + 30;   // 2026-01-01 08:00:30 CST
constexpr std::int64_t kExit = kEntry + 25 * 60 + 5;  // 08:25:35

TripRecord EnteredMetro() {
  TripRecord r;
  r.state = TripState::kEntered;
  r.mode = TransitMode::kMetro;
  r.city_code = "1000";
  r.line = 4;
  r.entry_station = 0x0193;
  r.entry_terminal_id = {0x10, 0x00, 0x00, 0x00, 0x12, 0x34};
  r.entry_time = kEntry;
  r.max_fare_reserved_fen = 600;
  r.last_leg_mode = TransitMode::kBus;
  r.last_leg_end_time = kEntry - 600;
  r.discounted_transfers = 1;
  return r;
}

std::string Slice(const TripRecordBytes& b, std::size_t offset, std::size_t length) {
  return HexEncode(ByteView(b).subspan(offset, length));
}

TEST(TripRecordTest, AFreshCardIsIdle) {
  const TripRecordBytes zeros{};
  auto r = DecodeTripRecord(zeros);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, TripState::kIdle);
  EXPECT_EQ(r->mode, TransitMode::kNone);
  EXPECT_FALSE(r->entry_time.has_value());
  EXPECT_EQ(*r, TripRecord{});
  EXPECT_EQ(EncodeTripRecord(TripRecord{}).value(), zeros);
}

TEST(TripRecordTest, EnteredRecordHasTheDocumentedLayout) {
  auto bytes = EncodeTripRecord(EnteredMetro());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_EQ(bytes->size(), 48u);
  EXPECT_EQ(Slice(*bytes, 0, 1), "01");                            // state entered
  EXPECT_EQ(Slice(*bytes, 1, 1), "01");                            // metro
  EXPECT_EQ(Slice(*bytes, 2, 2), "1000");                          // city code BCD
  EXPECT_EQ(Slice(*bytes, 4, 2), "0004");                          // line
  EXPECT_EQ(Slice(*bytes, 6, 2), "0193");                          // entry station
  EXPECT_EQ(Slice(*bytes, 8, 6), "100000001234");                  // entry terminal
  EXPECT_EQ(Slice(*bytes, 14, 7), "20260101080030");               // entry time, UTC+8
  EXPECT_EQ(Slice(*bytes, 21, 4), "00000258");                     // 600 fen reserved
  EXPECT_EQ(Slice(*bytes, 25, 13), "00000000000000000000000000");  // no exit yet
  EXPECT_EQ(Slice(*bytes, 38, 1), "02");                           // last leg bus
  EXPECT_EQ(Slice(*bytes, 39, 7), "20260101075030");               // ended 10 minutes before entry
  EXPECT_EQ(Slice(*bytes, 46, 2), "0100");                         // 1 discounted transfer, RFU

  auto back = DecodeTripRecord(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, EnteredMetro());
}

TEST(TripRecordTest, ExitedRecordRoundTrips) {
  TripRecord r = EnteredMetro();
  r.state = TripState::kExited;
  r.exit_station = 104;
  r.exit_time = kExit;
  r.fare_charged_fen = 400;
  r.last_leg_mode = TransitMode::kMetro;
  r.last_leg_end_time = kExit;
  r.discounted_transfers = 0;
  auto bytes = EncodeTripRecord(r);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(Slice(*bytes, 25, 2), "0068");
  EXPECT_EQ(Slice(*bytes, 27, 7), "20260101082535");
  EXPECT_EQ(Slice(*bytes, 34, 4), "00000190");
  EXPECT_EQ(DecodeTripRecord(*bytes).value(), r);
}

// Bytes of a valid entered record, to be broken one field at a time.
TripRecordBytes Valid() { return EncodeTripRecord(EnteredMetro()).value(); }

TEST(TripRecordTest, EachDecodeErrorNamesTheByteAndField) {
  struct Case {
    const char* what;
    std::function<void(TripRecordBytes&)> breaks;
    const char* expected;
  };
  const Case cases[] = {
      {"state 03", [](TripRecordBytes& b) { b[0] = 0x03; },
       "trip record byte 0 (state): expected 00 idle, 01 entered or 02 exited, got 03"},
      {"mode 03", [](TripRecordBytes& b) { b[1] = 0x03; },
       "trip record byte 1 (mode): expected 00 none, 01 metro or 02 bus, got 03"},
      {"city code not BCD", [](TripRecordBytes& b) { b[3] = 0x0A; },
       "trip record byte 2-3 (city code): BCD byte at offset 1 is 0A"},
      {"entry time not BCD", [](TripRecordBytes& b) { b[16] = 0x1B; },
       "trip record byte 14-20 (entry time): BCD byte at offset 2 is 1B"},
      {"entry time 30 February",
       [](TripRecordBytes& b) {
         b[16] = 0x02;
         b[17] = 0x30;
       },
       "trip record byte 14-20 (entry time): day 30 does not exist in 2026-02"},
      {"exit time hour 24",
       [](TripRecordBytes& b) {
         const BcdDateTime t = ToBcdDateTime(kExit).value();
         std::copy(t.begin(), t.end(), b.begin() + 27);
         b[31] = 0x24;
       },
       "trip record byte 27-33 (exit time): hour 24 is not 00-23"},
      {"last leg mode 05", [](TripRecordBytes& b) { b[38] = 0x05; },
       "trip record byte 38 (last leg mode): expected 00 none, 01 metro or 02 bus, got 05"},
      {"last leg time minute 61", [](TripRecordBytes& b) { b[44] = 0x61; },
       "trip record byte 39-45 (last leg end time): minute 61 is not 00-59"},
      {"RFU set", [](TripRecordBytes& b) { b[47] = 0x01; },
       "trip record byte 47 (RFU): expected 00, got 01"},
      {"entered without mode", [](TripRecordBytes& b) { b[1] = 0x00; },
       "trip record mode: an entered record needs metro or bus, got none"},
      {"entered without entry time",
       [](TripRecordBytes& b) { std::fill(b.begin() + 14, b.begin() + 21, 0); },
       "trip record entry time: an entered record needs an entry time"},
      {"exited without exit time", [](TripRecordBytes& b) { b[0] = 0x02; },
       "trip record exit time: an exited record needs an exit time"},
      {"last leg mode without time",
       [](TripRecordBytes& b) { std::fill(b.begin() + 39, b.begin() + 46, 0); },
       "trip record last leg: mode and end time are both set or both none (mode bus, end time "
       "none)"},
      {"last leg time without mode", [](TripRecordBytes& b) { b[38] = 0x00; },
       "trip record last leg: mode and end time are both set or both none (mode none, end time "
       "set)"},
      {"idle with a mode", [](TripRecordBytes& b) { b[0] = 0x00; },
       "trip record mode: an idle record has mode none, got metro"},
  };
  ASSERT_TRUE(DecodeTripRecord(Valid()).ok());
  for (const Case& c : cases) {
    TripRecordBytes b = Valid();
    c.breaks(b);
    auto r = DecodeTripRecord(b);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.what << ": " << r.status().ToString();
  }
}

TEST(TripRecordTest, WrongLengthIsRefused) {
  const Bytes short_record(47, 0);
  const Bytes long_record(49, 0);
  EXPECT_EQ(DecodeTripRecord(short_record).status().message(),
            "trip record: expected 48 bytes, got 47");
  EXPECT_EQ(DecodeTripRecord(long_record).status().message(),
            "trip record: expected 48 bytes, got 49");
  EXPECT_EQ(DecodeTripRecord(ByteView()).status().code(), ErrorCode::kInvalidArgument);
}

TEST(TripRecordTest, EncodeRefusesWhatDecodeWouldRefuse) {
  TripRecord r = EnteredMetro();
  r.city_code = "100";
  EXPECT_NE(
      EncodeTripRecord(r).status().message().find("city code: expected 4 digits, got \"100\""),
      std::string::npos);
  r = EnteredMetro();
  r.entry_time = kBcdUnixSecondsMin - 1;  // 1969 in Beijing
  EXPECT_NE(EncodeTripRecord(r).status().message().find("trip record entry time"),
            std::string::npos);
  r = EnteredMetro();
  r.exit_time.reset();
  r.state = TripState::kExited;
  EXPECT_FALSE(EncodeTripRecord(r).ok());
  r = EnteredMetro();
  r.state = static_cast<TripState>(7);
  EXPECT_FALSE(EncodeTripRecord(r).ok());
  r = EnteredMetro();
  r.mode = static_cast<TransitMode>(9);
  EXPECT_FALSE(EncodeTripRecord(r).ok());
}

}  // namespace
}  // namespace tapstack::transit
