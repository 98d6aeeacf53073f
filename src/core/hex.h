// Hexadecimal and BCD conversions. Hex output is uppercase, as payment tools print it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack {

// "0A1b" -> {0x0A, 0x1B}. Errors: odd length, or a non-hex character (its offset is named).
// Whitespace is not accepted; the empty string decodes to no bytes.
Result<Bytes> HexDecode(std::string_view hex);

// {0x0A, 0x1B} -> "0A1B".
std::string HexEncode(ByteView bytes);

// Packs decimal digits two per byte (packed BCD, high nibble first). An odd digit count is padded
// on the left with 0 ("123" -> 01 23), the convention for ISO 8583 numeric and EMV n fields.
// Errors: a non-digit character (its offset is named).
Result<Bytes> BcdEncode(std::string_view digits);

// Unpacks packed BCD into digits. Errors: a nibble above 9 (byte offset named).
Result<std::string> BcdDecode(ByteView bcd);

// Packs `digits` right-aligned into exactly `width_bytes` bytes of BCD (EMV n format, e.g. amount
// 9F02 is n12 in 6 bytes). Errors: non-digit, or more digits than fit.
Result<Bytes> BcdEncodeFixed(std::string_view digits, std::size_t width_bytes);

// Big-endian unsigned integer of `width_bytes` bytes (1..8) to bytes, and back.
Bytes UintToBytes(std::uint64_t value, std::size_t width_bytes);
std::uint64_t BytesToUint(ByteView bytes);

// True when every character is an ASCII digit (the empty string is not all digits).
bool IsAllDigits(std::string_view s);

}  // namespace tapstack
