// The subset of BER-TLV (EMV Book 3 Annex B, ISO/IEC 8825-1) that consumer-presented QR payloads
// use: tags of 1–3 bytes, definite lengths in short form or 81/82 long form, no padding bytes.
//
// Kept inside qr/ so the module does not depend on the general emv/ codec. A tag is held as its
// encoded bytes read big-endian (0x9F26, 0x5F20, 0x61), the way EMV documents write tags.
// Pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::qr {

inline constexpr std::size_t kBerTagBytesMax = 3;
inline constexpr std::size_t kBerLengthMax = 0xFFFF;  // 82 xx xx is the longest form accepted

struct BerHeader {
  std::uint32_t tag = 0;
  std::size_t header_bytes = 0;  // tag + length bytes
  std::size_t length = 0;        // value bytes
};

// Bit 6 of the tag's first byte (0x20): the value is itself a sequence of TLV objects.
bool IsConstructedTag(std::uint32_t tag);

// Number of bytes `tag` occupies (1–4; 0 for tag 0).
std::size_t TagByteCount(std::uint32_t tag);

// "9F26", "61": the tag's bytes in uppercase hex.
std::string TagHex(std::uint32_t tag);

// Checks that `tag` is a well-formed BER tag of at most kBerTagBytesMax bytes: a first byte whose
// low five bits are all ones is followed by bytes with bit 8 set except the last; otherwise the
// tag is that one byte. 0x00 and 0xFF (padding bytes in EMV records) are not tags here.
Status CheckTag(std::uint32_t tag);

// Reads the tag and length at data[offset]. Errors (kInvalidArgument, naming the offset): a
// truncated or over-long tag, padding bytes, an indefinite (80) or over-long length form, a
// non-minimal length encoding (81 05 instead of 05; rejected so that re-encoding is byte-exact),
// or a value running past the end of `data`.
Result<BerHeader> ReadBerHeader(ByteView data, std::size_t offset);

// Appends the tag and the minimal length encoding. Errors: a malformed tag, length > kBerLengthMax.
Status AppendBerHeader(std::uint32_t tag, std::size_t length, Bytes& out);

}  // namespace tapstack::qr
