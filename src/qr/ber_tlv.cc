#include "qr/ber_tlv.h"

#include "core/hex.h"

namespace tapstack::qr {
namespace {

constexpr std::uint8_t kConstructedBit = 0x20;
constexpr std::uint8_t kTagNumberMask = 0x1F;  // all ones: more tag bytes follow
constexpr std::uint8_t kMoreBit = 0x80;
constexpr std::uint8_t kLongLengthBit = 0x80;

std::uint8_t FirstByte(std::uint32_t tag) {
  const std::size_t n = TagByteCount(tag);
  return n == 0 ? 0 : static_cast<std::uint8_t>(tag >> (8 * (n - 1)));
}

Status Err(std::size_t offset, const std::string& what) {
  return InvalidArgument("offset " + std::to_string(offset) + ": " + what);
}

}  // namespace

bool IsConstructedTag(std::uint32_t tag) { return (FirstByte(tag) & kConstructedBit) != 0; }

std::size_t TagByteCount(std::uint32_t tag) {
  std::size_t n = 0;
  while (tag != 0) {
    ++n;
    tag >>= 8;
  }
  return n;
}

std::string TagHex(std::uint32_t tag) {
  const std::size_t n = TagByteCount(tag);
  return HexEncode(UintToBytes(tag, n == 0 ? 1 : n));
}

Status CheckTag(std::uint32_t tag) {
  const std::size_t n = TagByteCount(tag);
  if (n == 0 || n > kBerTagBytesMax) {
    return InvalidArgument("tag " + TagHex(tag) + ": expected 1 to " +
                           std::to_string(kBerTagBytesMax) + " bytes");
  }
  const Bytes bytes = UintToBytes(tag, n);
  if (bytes[0] == 0xFF) return InvalidArgument("tag FF is a padding byte, not a tag");
  const bool multi = (bytes[0] & kTagNumberMask) == kTagNumberMask;
  if (!multi) {
    if (n != 1) {
      return InvalidArgument("tag " + TagHex(tag) +
                             ": the first byte ends the tag (low five bits "
                             "are not all ones)");
    }
    return Status::Ok();
  }
  if (n == 1) return InvalidArgument("tag " + TagHex(tag) + ": a subsequent tag byte is missing");
  for (std::size_t i = 1; i < n; ++i) {
    const bool last = i + 1 == n;
    if (((bytes[i] & kMoreBit) != 0) == last) {
      return InvalidArgument(
          "tag " + TagHex(tag) + ": bit 8 of byte " + std::to_string(i + 1) +
          (last ? " must be 0 in the last tag byte" : " must be 1 in a non-final tag byte"));
    }
  }
  return Status::Ok();
}

Result<BerHeader> ReadBerHeader(ByteView data, std::size_t offset) {
  BerHeader header;
  std::size_t pos = offset;
  if (pos >= data.size()) return Err(offset, "expected a tag, found the end of the data");
  const std::uint8_t first = data[pos++];
  if (first == 0x00 || first == 0xFF) {
    return Err(offset, "padding byte " + HexEncode(ByteView(&data[offset], 1)) +
                           " where a tag was expected (padding is not allowed)");
  }
  std::uint32_t tag = first;
  if ((first & kTagNumberMask) == kTagNumberMask) {
    for (;;) {
      if (pos >= data.size()) return Err(offset, "tag is truncated");
      if (pos - offset >= kBerTagBytesMax) {
        return Err(offset, "tag longer than " + std::to_string(kBerTagBytesMax) + " bytes");
      }
      const std::uint8_t b = data[pos++];
      tag = (tag << 8) | b;
      if ((b & kMoreBit) == 0) break;
    }
  }
  header.tag = tag;
  if (pos >= data.size()) return Err(offset, "tag " + TagHex(tag) + ": length is missing");
  const std::uint8_t l0 = data[pos++];
  std::size_t length = 0;
  if ((l0 & kLongLengthBit) == 0) {
    length = l0;
  } else {
    const std::size_t count = l0 & 0x7F;
    if (count == 0) return Err(offset, "tag " + TagHex(tag) + ": indefinite length (80)");
    if (count > 2) {
      return Err(offset, "tag " + TagHex(tag) + ": length form " + HexEncode(ByteView(&l0, 1)) +
                             "; at most 82 (two length bytes) is accepted");
    }
    if (data.size() - pos < count)
      return Err(offset, "tag " + TagHex(tag) + ": length is truncated");
    for (std::size_t i = 0; i < count; ++i) length = (length << 8) | data[pos++];
    const std::size_t minimal_floor = count == 1 ? 0x80 : 0x100;
    if (length < minimal_floor) {
      return Err(offset, "tag " + TagHex(tag) + ": length " + std::to_string(length) +
                             " is not in its shortest form");
    }
  }
  header.header_bytes = pos - offset;
  header.length = length;
  if (data.size() - pos < length) {
    return Err(offset, "tag " + TagHex(tag) + ": length " + std::to_string(length) +
                           " runs past the end (" + std::to_string(data.size() - pos) +
                           " byte(s) left)");
  }
  return header;
}

Status AppendBerHeader(std::uint32_t tag, std::size_t length, Bytes& out) {
  TS_RETURN_IF_ERROR(CheckTag(tag));
  if (length > kBerLengthMax) {
    return InvalidArgument("tag " + TagHex(tag) + ": length " + std::to_string(length) +
                           " exceeds " + std::to_string(kBerLengthMax));
  }
  const Bytes tag_bytes = UintToBytes(tag, TagByteCount(tag));
  out.insert(out.end(), tag_bytes.begin(), tag_bytes.end());
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
  } else if (length <= 0xFF) {
    out.push_back(0x81);
    out.push_back(static_cast<std::uint8_t>(length));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<std::uint8_t>(length >> 8));
    out.push_back(static_cast<std::uint8_t>(length));
  }
  return Status::Ok();
}

}  // namespace tapstack::qr
