// Low-level BER tag and length readers shared by the TLV decoder and the DOL parser. Internal to
// src/emv: callers outside the module use tlv.h. Inline and allocation-free; errors are codes that
// each caller turns into its own message (which names the structure and the offset).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "emv/tlv.h"

namespace tapstack::emv::internal {

enum class TagReadError { kOk, kTruncated, kTooLong };

struct TagRead {
  TlvTag tag = 0;
  std::size_t bytes = 0;
};

// Reads the tag starting at data[pos] (pos < data.size()). A first byte whose low five bits are
// 11111 announces subsequent bytes; each subsequent byte with bit 8 set announces another.
inline TagReadError ReadTag(ByteView data, std::size_t pos, TagRead& out) {
  const std::uint8_t first = data[pos];
  TlvTag tag = first;
  std::size_t bytes = 1;
  if ((first & 0x1F) == 0x1F) {
    while (true) {
      if (pos + bytes >= data.size()) return TagReadError::kTruncated;
      if (bytes == kTlvTagBytesMax) return TagReadError::kTooLong;
      const std::uint8_t next = data[pos + bytes];
      tag = (tag << 8) | next;
      ++bytes;
      if ((next & 0x80) == 0) break;
    }
  }
  out.tag = tag;
  out.bytes = bytes;
  return TagReadError::kOk;
}

enum class LengthReadError { kOk, kMissing, kTruncated, kIndefinite, kTooLong };

struct LengthRead {
  std::size_t length = 0;
  std::size_t bytes = 0;  // size of the length field itself (1-3)
};

// Reads the BER length field starting at data[pos]: 00-7F, 81 xx or 82 xx xx. 80 (indefinite)
// and 83 or longer are refused.
inline LengthReadError ReadLength(ByteView data, std::size_t pos, LengthRead& out) {
  if (pos >= data.size()) return LengthReadError::kMissing;
  const std::uint8_t first = data[pos];
  if (first < 0x80) {
    out.length = first;
    out.bytes = 1;
    return LengthReadError::kOk;
  }
  if (first == 0x80) return LengthReadError::kIndefinite;
  const std::size_t following = first & 0x7F;
  if (following + 1 > kTlvLengthBytesMax) return LengthReadError::kTooLong;
  if (pos + following >= data.size()) return LengthReadError::kTruncated;
  std::size_t length = 0;
  for (std::size_t i = 1; i <= following; ++i) length = (length << 8) | data[pos + i];
  out.length = length;
  out.bytes = following + 1;
  return LengthReadError::kOk;
}

inline bool IsPaddingByte(std::uint8_t b) { return b == 0x00 || b == 0xFF; }

}  // namespace tapstack::emv::internal
