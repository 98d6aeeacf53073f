#include "transit/trip_record.h"

#include <algorithm>
#include <string_view>

#include "core/hex.h"
#include "transit/bcd_time.h"

namespace tapstack::transit {

namespace {

// Offsets of the layout in trip_record.h.
constexpr std::size_t kStateOffset = 0;
constexpr std::size_t kModeOffset = 1;
constexpr std::size_t kCityCodeOffset = 2;
constexpr std::size_t kLineOffset = 4;
constexpr std::size_t kEntryStationOffset = 6;
constexpr std::size_t kEntryTerminalOffset = 8;
constexpr std::size_t kEntryTimeOffset = 14;
constexpr std::size_t kMaxFareOffset = 21;
constexpr std::size_t kExitStationOffset = 25;
constexpr std::size_t kExitTimeOffset = 27;
constexpr std::size_t kFareChargedOffset = 34;
constexpr std::size_t kLastLegModeOffset = 38;
constexpr std::size_t kLastLegEndOffset = 39;
constexpr std::size_t kTransfersOffset = 46;
constexpr std::size_t kRfuOffset = 47;
static_assert(kRfuOffset + 1 == kTripRecordBytes);
static_assert(kLastLegEndOffset + kBcdDateTimeBytes == kTransfersOffset);

constexpr std::size_t kCityCodeDigits = 4;

std::string ByteHex(std::uint8_t b) { return HexEncode(ByteView(&b, 1)); }

std::string Where(std::size_t offset, std::size_t length, std::string_view field) {
  std::string where = "trip record byte " + std::to_string(offset);
  if (length > 1) where += "-" + std::to_string(offset + length - 1);
  return where + " (" + std::string(field) + ")";
}

Result<TransitMode> ModeFromByte(std::uint8_t b, std::size_t offset, std::string_view field) {
  switch (b) {
    case 0x00:
      return TransitMode::kNone;
    case 0x01:
      return TransitMode::kMetro;
    case 0x02:
      return TransitMode::kBus;
    default:
      return InvalidArgument(Where(offset, 1, field) +
                             ": expected 00 none, 01 metro or 02 bus, got " + ByteHex(b));
  }
}

void PutUint(TripRecordBytes& out, std::size_t offset, std::uint64_t value, std::size_t width) {
  const Bytes b = UintToBytes(value, width);
  std::copy(b.begin(), b.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
}

Status PutTime(TripRecordBytes& out, std::size_t offset, const std::optional<std::int64_t>& time,
               std::string_view field) {
  if (!time) return Status::Ok();  // all zero: none
  auto bcd = ToBcdDateTime(*time);
  if (!bcd.ok()) return bcd.status().WithContext(field);
  std::copy(bcd->begin(), bcd->end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
  return Status::Ok();
}

Result<std::optional<std::int64_t>> GetTime(ByteView bytes, std::size_t offset,
                                            std::string_view field) {
  const ByteView bcd = bytes.subspan(offset, kBcdDateTimeBytes);
  if (std::all_of(bcd.begin(), bcd.end(), [](std::uint8_t b) { return b == 0; })) {
    return std::optional<std::int64_t>();
  }
  TS_ASSIGN_OR_RETURN(std::int64_t t,
                      FromBcdDateTime(bcd, Where(offset, kBcdDateTimeBytes, field)));
  return std::optional<std::int64_t>(t);
}

}  // namespace

std::string_view TransitModeName(TransitMode mode) {
  switch (mode) {
    case TransitMode::kNone:
      return "none";
    case TransitMode::kMetro:
      return "metro";
    case TransitMode::kBus:
      return "bus";
  }
  return "unknown";
}

Status ValidateTripRecord(const TripRecord& r) {
  if (r.state != TripState::kIdle && r.state != TripState::kEntered &&
      r.state != TripState::kExited) {
    return InvalidArgument("trip record state: expected idle, entered or exited");
  }
  for (TransitMode m : {r.mode, r.last_leg_mode}) {
    if (m != TransitMode::kNone && m != TransitMode::kMetro && m != TransitMode::kBus) {
      return InvalidArgument("trip record mode: expected none, metro or bus");
    }
  }
  if (r.city_code.size() != kCityCodeDigits || !IsAllDigits(r.city_code)) {
    return InvalidArgument("trip record city code: expected 4 digits, got \"" + r.city_code + "\"");
  }
  if (r.state == TripState::kIdle) {
    if (r.mode != TransitMode::kNone) {
      return InvalidArgument("trip record mode: an idle record has mode none, got " +
                             std::string(TransitModeName(r.mode)));
    }
  } else {
    const char* state = r.state == TripState::kEntered ? "an entered" : "an exited";
    if (r.mode == TransitMode::kNone) {
      return InvalidArgument(std::string("trip record mode: ") + state +
                             " record needs metro or bus, got none");
    }
    if (!r.entry_time) {
      return InvalidArgument(std::string("trip record entry time: ") + state +
                             " record needs an entry time");
    }
    if (r.state == TripState::kExited && !r.exit_time) {
      return InvalidArgument("trip record exit time: an exited record needs an exit time");
    }
  }
  if ((r.last_leg_mode == TransitMode::kNone) != !r.last_leg_end_time) {
    return InvalidArgument(
        "trip record last leg: mode and end time are both set or both none (mode " +
        std::string(TransitModeName(r.last_leg_mode)) + ", end time " +
        (r.last_leg_end_time ? "set" : "none") + ")");
  }
  const std::pair<const std::optional<std::int64_t>*, const char*> times[] = {
      {&r.entry_time, "trip record entry time"},
      {&r.exit_time, "trip record exit time"},
      {&r.last_leg_end_time, "trip record last leg end time"}};
  for (const auto& [time, field] : times) {
    if (*time && !ToBcdDateTime(**time).ok()) {
      return InvalidArgument(std::string(field) + ": " + std::to_string(**time) +
                             " is outside the card's years " + std::to_string(kBcdYearMin) + "-" +
                             std::to_string(kBcdYearMax));
    }
  }
  return Status::Ok();
}

Result<TripRecordBytes> EncodeTripRecord(const TripRecord& r) {
  TS_RETURN_IF_ERROR(ValidateTripRecord(r));
  TripRecordBytes out{};
  out[kStateOffset] = static_cast<std::uint8_t>(r.state);
  out[kModeOffset] = static_cast<std::uint8_t>(r.mode);
  TS_ASSIGN_OR_RETURN(Bytes city, BcdEncodeFixed(r.city_code, 2));
  std::copy(city.begin(), city.end(), out.begin() + kCityCodeOffset);
  PutUint(out, kLineOffset, r.line, 2);
  PutUint(out, kEntryStationOffset, r.entry_station, 2);
  std::copy(r.entry_terminal_id.begin(), r.entry_terminal_id.end(),
            out.begin() + kEntryTerminalOffset);
  TS_RETURN_IF_ERROR(PutTime(out, kEntryTimeOffset, r.entry_time, "trip record entry time"));
  PutUint(out, kMaxFareOffset, r.max_fare_reserved_fen, 4);
  PutUint(out, kExitStationOffset, r.exit_station, 2);
  TS_RETURN_IF_ERROR(PutTime(out, kExitTimeOffset, r.exit_time, "trip record exit time"));
  PutUint(out, kFareChargedOffset, r.fare_charged_fen, 4);
  out[kLastLegModeOffset] = static_cast<std::uint8_t>(r.last_leg_mode);
  TS_RETURN_IF_ERROR(
      PutTime(out, kLastLegEndOffset, r.last_leg_end_time, "trip record last leg end time"));
  out[kTransfersOffset] = r.discounted_transfers;
  out[kRfuOffset] = 0x00;
  return out;
}

Result<TripRecord> DecodeTripRecord(ByteView bytes) {
  if (bytes.size() != kTripRecordBytes) {
    return InvalidArgument("trip record: expected " + std::to_string(kTripRecordBytes) +
                           " bytes, got " + std::to_string(bytes.size()));
  }
  TripRecord r;
  const std::uint8_t state = bytes[kStateOffset];
  if (state > 0x02) {
    return InvalidArgument(Where(kStateOffset, 1, "state") +
                           ": expected 00 idle, 01 entered or 02 exited, got " + ByteHex(state));
  }
  r.state = static_cast<TripState>(state);
  TS_ASSIGN_OR_RETURN(r.mode, ModeFromByte(bytes[kModeOffset], kModeOffset, "mode"));
  auto city = BcdDecode(bytes.subspan(kCityCodeOffset, 2));
  if (!city.ok()) return city.status().WithContext(Where(kCityCodeOffset, 2, "city code"));
  r.city_code = *city;
  r.line = static_cast<std::uint16_t>(BytesToUint(bytes.subspan(kLineOffset, 2)));
  r.entry_station = static_cast<std::uint16_t>(BytesToUint(bytes.subspan(kEntryStationOffset, 2)));
  std::copy_n(bytes.begin() + kEntryTerminalOffset, kTerminalIdBytes, r.entry_terminal_id.begin());
  TS_ASSIGN_OR_RETURN(r.entry_time, GetTime(bytes, kEntryTimeOffset, "entry time"));
  r.max_fare_reserved_fen =
      static_cast<std::uint32_t>(BytesToUint(bytes.subspan(kMaxFareOffset, 4)));
  r.exit_station = static_cast<std::uint16_t>(BytesToUint(bytes.subspan(kExitStationOffset, 2)));
  TS_ASSIGN_OR_RETURN(r.exit_time, GetTime(bytes, kExitTimeOffset, "exit time"));
  r.fare_charged_fen =
      static_cast<std::uint32_t>(BytesToUint(bytes.subspan(kFareChargedOffset, 4)));
  TS_ASSIGN_OR_RETURN(r.last_leg_mode,
                      ModeFromByte(bytes[kLastLegModeOffset], kLastLegModeOffset, "last leg mode"));
  TS_ASSIGN_OR_RETURN(r.last_leg_end_time, GetTime(bytes, kLastLegEndOffset, "last leg end time"));
  r.discounted_transfers = bytes[kTransfersOffset];
  if (bytes[kRfuOffset] != 0x00) {
    return InvalidArgument(Where(kRfuOffset, 1, "RFU") + ": expected 00, got " +
                           ByteHex(bytes[kRfuOffset]));
  }
  TS_RETURN_IF_ERROR(ValidateTripRecord(r));
  return r;
}

}  // namespace tapstack::transit
