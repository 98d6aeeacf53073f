// Card time: the BCD dates and times a transit purse and its terminals exchange, always in China
// Standard Time (UTC+8, no daylight saving since 1991), converted to and from Unix seconds.
//
//  - date-time, 7 bytes YYYYMMDDhhmmss: the SFI 18 log record and the trip record (SFI 1A);
//  - date, 4 bytes YYYYMMDD: DEBIT FOR PURCHASE / CREDIT FOR LOAD data, SFI 15 start and expiry;
//  - time, 3 bytes hhmmss: DEBIT FOR PURCHASE / CREDIT FOR LOAD data.
// (shared/design/domain/transit-purse.md sections 2 and 4.)
//
// Years 1970-9999 are representable. There are no leap seconds (ss is 00-59), as in Unix time.
// Every call is a pure function of its arguments; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::transit {

// China Standard Time is UTC+08:00 all year.
inline constexpr std::int64_t kChinaStandardTimeOffsetSeconds = 8 * 3600;
inline constexpr int kBcdYearMin = 1970;
inline constexpr int kBcdYearMax = 9999;
// The instants those years cover: 1970-01-01 00:00:00 and 9999-12-31 23:59:59 in UTC+8.
inline constexpr std::int64_t kBcdUnixSecondsMin = -kChinaStandardTimeOffsetSeconds;
inline constexpr std::int64_t kBcdUnixSecondsMax =
    253'402'300'799 - kChinaStandardTimeOffsetSeconds;

inline constexpr std::size_t kBcdDateTimeBytes = 7;
inline constexpr std::size_t kBcdDateBytes = 4;
inline constexpr std::size_t kBcdTimeBytes = 3;

using BcdDateTime = std::array<std::uint8_t, kBcdDateTimeBytes>;  // YYYYMMDDhhmmss
using BcdDate = std::array<std::uint8_t, kBcdDateBytes>;          // YYYYMMDD
using BcdTime = std::array<std::uint8_t, kBcdTimeBytes>;          // hhmmss

// Unix seconds -> BCD in China Standard Time. Errors (kOutOfRange): the instant is outside
// kBcdUnixSecondsMin..kBcdUnixSecondsMax (local years kBcdYearMin..kBcdYearMax).
Result<BcdDateTime> ToBcdDateTime(std::int64_t unix_seconds);
Result<BcdDate> ToBcdDate(std::int64_t unix_seconds);
BcdTime ToBcdTime(std::int64_t unix_seconds);  // every instant has a local time of day

// BCD in China Standard Time -> Unix seconds. `field` names the value in error messages (e.g.
// "entry time"). Errors (kInvalidArgument): wrong length; a nibble above 9 (byte offset named); an
// impossible date or time (month 13, 31 April, 29 February of a common year, hour 24, minute or
// second 60); a year before kBcdYearMin.
Result<std::int64_t> FromBcdDateTime(ByteView bcd, std::string_view field = "date-time");
// The first second (00:00:00) of the date.
Result<std::int64_t> FromBcdDate(ByteView bcd, std::string_view field = "date");
// Seconds since local midnight, 0-86399.
Result<std::int32_t> FromBcdTime(ByteView bcd, std::string_view field = "time");
// A date (4 bytes) and a time (3 bytes) as sent in DEBIT FOR PURCHASE and CREDIT FOR LOAD.
Result<std::int64_t> FromBcdDateAndTime(ByteView date, ByteView time);

// "2026-01-01 08:00:00" in China Standard Time, for logs and the wallet's trip list. Instants
// outside kBcdUnixSecondsMin..kBcdUnixSecondsMax print as "out of range".
std::string FormatChinaTime(std::int64_t unix_seconds);

}  // namespace tapstack::transit
