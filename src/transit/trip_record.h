// The CAPP trip record: SFI 1A record 01 of the transit purse, exactly 48 bytes. The card stores
// it as opaque bytes (UPDATE CAPP DATA CACHE, committed with the debit); gates and bus validators
// read it at every tap and write the next state. It replaces online state for entry/exit fares:
// the entry record carries the maximum fare, charged when the exit is missing
// (shared/design/domain/transit-purse.md section 8).
//
// Byte layout. Public sources describe the fields of the SFI 1A CAPP record but not a byte layout
// we can rely on (notes section 2, "SFI 1A CAPP (bus example) [S, uncertain]": status 00 initial /
// 01 entered / 02 exited, entry city, line, station, terminal, time, "marked amount", exit fields,
// fare). The offsets and the 48-byte size are OUR OWN CHOICE; values follow the card's
// conventions (big-endian integers, amounts in fen, BCD times in UTC+8, industry codes from the
// SFI 1E trip record: 01 metro, 02 bus).
//
// | Off | Len | Field                                                                  |
// |-----|-----|------------------------------------------------------------------------|
// |  0  |  1  | state: 00 idle, 01 entered, 02 exited (notes s.2, SFI 1A status)       |
// |  1  |  1  | mode of the current/last trip: 00 none, 01 metro, 02 bus               |
// |  2  |  2  | city code, 4 BCD digits (as SFI 17, e.g. 10 00 = Beijing)              |
// |  4  |  2  | line id                                                                |
// |  6  |  2  | entry station id (0 for a bus boarding without stops)                  |
// |  8  |  6  | entry terminal id (PSAM number)                                        |
// | 14  |  7  | entry time YYYYMMDDhhmmss (all zero: none)                             |
// | 21  |  4  | maximum fare reserved, fen (notes s.8 "maximum amount")                |
// | 25  |  2  | exit station id                                                        |
// | 27  |  7  | exit time YYYYMMDDhhmmss (all zero: none)                              |
// | 34  |  4  | fare charged for the trip, fen                                         |
// | 38  |  1  | transfer: mode of the last completed journey leg (00 none, 01, 02)     |
// | 39  |  7  | transfer: end time of that leg (all zero: none)                        |
// | 46  |  1  | transfer: discounted transfers in the current chain                    |
// | 47  |  1  | RFU, 00                                                                |
//
// A fresh card holds 48 zero bytes: that decodes as an idle record.
// Encode and Decode are pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::transit {

// Where the record lives on the card (device/transit_applet.h, UPDATE CAPP DATA CACHE).
inline constexpr std::uint8_t kTripRecordSfi = 0x1A;
inline constexpr std::uint8_t kTripRecordId = 0x01;
inline constexpr std::size_t kTripRecordBytes = 48;
inline constexpr std::size_t kTerminalIdBytes = 6;

using TripRecordBytes = std::array<std::uint8_t, kTripRecordBytes>;
using TerminalId = std::array<std::uint8_t, kTerminalIdBytes>;

enum class TripState : std::uint8_t { kIdle = 0x00, kEntered = 0x01, kExited = 0x02 };

// Industry codes of the T-Union trip record (notes section 2, SFI 1E): 01 metro, 02 bus.
enum class TransitMode : std::uint8_t { kNone = 0x00, kMetro = 0x01, kBus = 0x02 };

std::string_view TransitModeName(TransitMode mode);  // "none", "metro", "bus"

struct TripRecord {
  TripState state = TripState::kIdle;
  TransitMode mode = TransitMode::kNone;
  std::string city_code = "0000";  // 4 digits; "0000" on a fresh card
  std::uint16_t line = 0;
  std::uint16_t entry_station = 0;
  TerminalId entry_terminal_id{};
  std::optional<std::int64_t> entry_time;  // Unix seconds
  std::uint32_t max_fare_reserved_fen = 0;
  std::uint16_t exit_station = 0;
  std::optional<std::int64_t> exit_time;  // Unix seconds
  std::uint32_t fare_charged_fen = 0;
  // Transfers: the last completed journey leg (metro exit or bus boarding) and the chain count.
  TransitMode last_leg_mode = TransitMode::kNone;
  std::optional<std::int64_t> last_leg_end_time;  // Unix seconds
  std::uint8_t discounted_transfers = 0;

  friend bool operator==(const TripRecord&, const TripRecord&) = default;
};

// Rules both Encode and Decode enforce, so every encoded record decodes to itself:
//  - state entered or exited needs mode metro or bus and an entry time; exited needs an exit time;
//  - state idle has mode none;
//  - city code is 4 decimal digits;
//  - last_leg_mode none <=> no last_leg_end_time;
//  - times lie in years 1970-9999 (UTC+8).
// Errors (kInvalidArgument) name the field and what was expected.
Status ValidateTripRecord(const TripRecord& record);

Result<TripRecordBytes> EncodeTripRecord(const TripRecord& record);

// Errors (kInvalidArgument): not 48 bytes; a state or mode byte outside its codes; non-BCD city
// code; a bad BCD time (byte offset and field named); RFU byte not 00; the rules above.
Result<TripRecord> DecodeTripRecord(ByteView bytes);

}  // namespace tapstack::transit
