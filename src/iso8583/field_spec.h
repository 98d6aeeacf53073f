// The ISO 8583:1987 data element dictionary: what each field is, independent of wire encoding.
// Wire encodings (ASCII, BCD, hex) are chosen by a Profile (profile.h); one packer serves all.
//
// Source of the formats: ISO 8583:1987 field table as reproduced in jPOS (iso87ascii.xml /
// iso87binary.xml) and moov-io/iso8583 spec87.go; DE55 is declared binary, as EMV ICC data is.
#pragma once

#include <cstdint>
#include <string_view>

namespace tapstack::iso8583 {

// Highest data element number (primary + secondary bitmap). A tertiary bitmap (bit 65) is refused.
inline constexpr int kFieldNumberMax = 128;

enum class FieldType : std::uint8_t {
  kNumeric,          // n: digits 0-9
  kAlpha,            // a: letters and space
  kAlphaNumeric,     // an: letters, digits, space
  kAlphaNumericSpecial,  // ans: printable ASCII 0x20-0x7E
  kBinary,           // b: raw bytes (max length in bytes)
  kTrack,            // z: track 2/3 data, digits and '=' separator
  kSignedAmount,     // x+n: 'C' (credit) or 'D' (debit) then digits (max length counts digits)
};

enum class LengthKind : std::uint8_t {
  kFixed,  // exactly max_length
  kLl,     // 2-digit length prefix, up to 99
  kLll,    // 3-digit length prefix, up to 999
};

struct FieldSpec {
  FieldType type = FieldType::kAlphaNumericSpecial;
  LengthKind length_kind = LengthKind::kFixed;
  std::uint16_t max_length = 0;  // characters, digits or bytes (b); 0 = not defined
  std::string_view name;

  bool defined() const { return max_length != 0; }
};

// The 1987 dictionary entry for data element `number` (1..128). Field 1 is the secondary bitmap.
const FieldSpec& Field87(int number);

// "n", "an", "ans", "b", "z", "x+n", "a".
std::string_view FieldTypeName(FieldType type);

}  // namespace tapstack::iso8583
