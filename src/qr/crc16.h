// CRC-16/CCITT-FALSE, the checksum that closes every EMVCo merchant-presented QR payload.
//
// EMV QRCPS Merchant-Presented Mode v1.0 §4.7.3 names ISO/IEC 13239: polynomial 0x1021, initial
// value 0xFFFF, no input or output reflection, no final XOR ("CRC-16/CCITT-FALSE" in the CRC
// catalogue; check value of "123456789" is 0x29B1). A checksum, not a cryptographic primitive: it
// detects scanning and typing errors, never tampering by someone who can recompute it.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"

namespace tapstack::qr {

inline constexpr std::uint16_t kCrc16CcittFalseInit = 0xFFFF;

// Continues a CRC over more bytes: Crc16CcittFalseUpdate(Crc16CcittFalseUpdate(init, a), b) equals
// the CRC of a followed by b. Table-driven (slicing-by-4).
std::uint16_t Crc16CcittFalseUpdate(std::uint16_t crc, ByteView data);

// The CRC of `data` from the initial value.
inline std::uint16_t Crc16CcittFalse(ByteView data) {
  return Crc16CcittFalseUpdate(kCrc16CcittFalseInit, data);
}

// The CRC of the bytes of `text` (for QR payloads: their UTF-8 bytes, never UTF-16 units).
inline std::uint16_t Crc16CcittFalse(std::string_view text) {
  return Crc16CcittFalse(AsBytes(text));
}

// Four uppercase hex digits with leading zeros kept: 0x00C0 -> "00C0" (never "C0").
std::string FormatCrc16(std::uint16_t crc);

// Parses exactly four hex digits, either case ("a13a" and "A13A" both give 0xA13A). Returns false
// (leaving `crc` unchanged) for any other length or a non-hex character.
bool ParseCrc16(std::string_view text, std::uint16_t& crc);

}  // namespace tapstack::qr
