#include "transit/bcd_time.h"

#include <chrono>
#include <cstdio>
#include <string_view>

#include "core/hex.h"

namespace tapstack::transit {

namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr std::int64_t kSecondsPerDay = 86'400;

// The local civil time of an instant in China Standard Time.
struct CivilTime {
  int year = 0;
  unsigned month = 0, day = 0;
  int hour = 0, minute = 0, second = 0;
};

// Only for instants inside kBcdUnixSecondsMin..kBcdUnixSecondsMax (no overflow there).
CivilTime ToCivil(std::int64_t unix_seconds) {
  const std::int64_t local = unix_seconds + kChinaStandardTimeOffsetSeconds;
  // Floor division: instants before the epoch have a negative day number.
  std::int64_t day_number = local / kSecondsPerDay;
  std::int64_t second_of_day = local % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    --day_number;
  }
  const year_month_day ymd{sys_days{days{day_number}}};
  CivilTime t;
  t.year = static_cast<int>(ymd.year());
  t.month = static_cast<unsigned>(ymd.month());
  t.day = static_cast<unsigned>(ymd.day());
  t.hour = static_cast<int>(second_of_day / 3600);
  t.minute = static_cast<int>(second_of_day / 60 % 60);
  t.second = static_cast<int>(second_of_day % 60);
  return t;
}

std::uint8_t Bcd2(int value) {  // 0-99
  return static_cast<std::uint8_t>((value / 10) << 4 | (value % 10));
}

bool InRange(std::int64_t unix_seconds) {
  return unix_seconds >= kBcdUnixSecondsMin && unix_seconds <= kBcdUnixSecondsMax;
}

Status CheckRange(std::int64_t unix_seconds) {
  if (!InRange(unix_seconds)) {
    return OutOfRange("unix time " + std::to_string(unix_seconds) +
                      " is outside the BCD card years " + std::to_string(kBcdYearMin) + "-" +
                      std::to_string(kBcdYearMax) + " (UTC+8)");
  }
  return Status::Ok();
}

// Decimal value of a run of BCD bytes, after checking the length and every nibble.
Result<std::string> Digits(ByteView bcd, std::size_t expected_bytes, std::string_view field) {
  if (bcd.size() != expected_bytes) {
    return InvalidArgument(std::string(field) + ": expected " + std::to_string(expected_bytes) +
                           " BCD bytes, got " + std::to_string(bcd.size()));
  }
  auto digits = BcdDecode(bcd);
  if (!digits.ok()) return digits.status().WithContext(field);
  return digits;
}

int Number(const std::string& digits, std::size_t pos, std::size_t count) {
  int n = 0;
  for (std::size_t i = pos; i < pos + count; ++i) n = n * 10 + (digits[i] - '0');
  return n;
}

// Unix seconds of local midnight of YYYYMMDD in `digits` (the first 8 characters).
Result<std::int64_t> MidnightOf(const std::string& digits, std::string_view field) {
  const int year = Number(digits, 0, 4);
  const unsigned month = static_cast<unsigned>(Number(digits, 4, 2));
  const unsigned day = static_cast<unsigned>(Number(digits, 6, 2));
  if (year < kBcdYearMin) {
    return InvalidArgument(std::string(field) + ": year " + digits.substr(0, 4) + " is before " +
                           std::to_string(kBcdYearMin));
  }
  if (month < 1 || month > 12) {
    return InvalidArgument(std::string(field) + ": month " + digits.substr(4, 2) + " is not 01-12");
  }
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                           std::chrono::day{day}};
  if (!ymd.ok()) {
    return InvalidArgument(std::string(field) + ": day " + digits.substr(6, 2) +
                           " does not exist in " + digits.substr(0, 4) + "-" + digits.substr(4, 2));
  }
  const std::int64_t day_number = sys_days{ymd}.time_since_epoch().count();
  return day_number * kSecondsPerDay - kChinaStandardTimeOffsetSeconds;
}

// Seconds since midnight of hhmmss in `digits` starting at `pos`.
Result<std::int32_t> SecondOfDay(const std::string& digits, std::size_t pos,
                                 std::string_view field) {
  const int hour = Number(digits, pos, 2);
  const int minute = Number(digits, pos + 2, 2);
  const int second = Number(digits, pos + 4, 2);
  if (hour > 23) {
    return InvalidArgument(std::string(field) + ": hour " + digits.substr(pos, 2) +
                           " is not 00-23");
  }
  if (minute > 59) {
    return InvalidArgument(std::string(field) + ": minute " + digits.substr(pos + 2, 2) +
                           " is not 00-59");
  }
  if (second > 59) {
    return InvalidArgument(std::string(field) + ": second " + digits.substr(pos + 4, 2) +
                           " is not 00-59");
  }
  return static_cast<std::int32_t>(hour * 3600 + minute * 60 + second);
}

}  // namespace

Result<BcdDateTime> ToBcdDateTime(std::int64_t unix_seconds) {
  TS_RETURN_IF_ERROR(CheckRange(unix_seconds));
  const CivilTime t = ToCivil(unix_seconds);
  return BcdDateTime{Bcd2(t.year / 100),
                     Bcd2(t.year % 100),
                     Bcd2(static_cast<int>(t.month)),
                     Bcd2(static_cast<int>(t.day)),
                     Bcd2(t.hour),
                     Bcd2(t.minute),
                     Bcd2(t.second)};
}

Result<BcdDate> ToBcdDate(std::int64_t unix_seconds) {
  TS_ASSIGN_OR_RETURN(BcdDateTime dt, ToBcdDateTime(unix_seconds));
  return BcdDate{dt[0], dt[1], dt[2], dt[3]};
}

BcdTime ToBcdTime(std::int64_t unix_seconds) {
  // Reduce first so that no instant, however far out, overflows.
  std::int64_t second_of_day = unix_seconds % kSecondsPerDay;
  second_of_day =
      (second_of_day + kChinaStandardTimeOffsetSeconds + kSecondsPerDay) % kSecondsPerDay;
  const int s = static_cast<int>(second_of_day);
  return BcdTime{Bcd2(s / 3600), Bcd2(s / 60 % 60), Bcd2(s % 60)};
}

Result<std::int64_t> FromBcdDateTime(ByteView bcd, std::string_view field) {
  TS_ASSIGN_OR_RETURN(std::string digits, Digits(bcd, kBcdDateTimeBytes, field));
  TS_ASSIGN_OR_RETURN(std::int64_t midnight, MidnightOf(digits, field));
  TS_ASSIGN_OR_RETURN(std::int32_t second_of_day, SecondOfDay(digits, 8, field));
  return midnight + second_of_day;
}

Result<std::int64_t> FromBcdDate(ByteView bcd, std::string_view field) {
  TS_ASSIGN_OR_RETURN(std::string digits, Digits(bcd, kBcdDateBytes, field));
  return MidnightOf(digits, field);
}

Result<std::int32_t> FromBcdTime(ByteView bcd, std::string_view field) {
  TS_ASSIGN_OR_RETURN(std::string digits, Digits(bcd, kBcdTimeBytes, field));
  return SecondOfDay(digits, 0, field);
}

Result<std::int64_t> FromBcdDateAndTime(ByteView date, ByteView time) {
  TS_ASSIGN_OR_RETURN(std::int64_t midnight, FromBcdDate(date, "date"));
  TS_ASSIGN_OR_RETURN(std::int32_t second_of_day, FromBcdTime(time, "time"));
  return midnight + second_of_day;
}

std::string FormatChinaTime(std::int64_t unix_seconds) {
  if (!InRange(unix_seconds)) return "out of range";
  const CivilTime t = ToCivil(unix_seconds);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return text;
}

}  // namespace tapstack::transit
