#include "core/hex.h"

#include <string.h>  // explicit_bzero (glibc)

namespace tapstack {

void SecureWipe(void* data, std::size_t size) {
  if (data != nullptr && size != 0) explicit_bzero(data, size);
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return InvalidArgument("hex has odd length " + std::to_string(hex.size()) +
                           "; expected an even number of hex digits");
  }
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      std::size_t bad = hi < 0 ? i : i + 1;
      return InvalidArgument("non-hex character at offset " + std::to_string(bad) +
                             "; expected 0-9 or A-F");
    }
    out[i / 2] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string HexEncode(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0F];
  }
  return out;
}

Result<Bytes> BcdEncode(std::string_view digits) {
  std::size_t pad = digits.size() % 2;
  Bytes out((digits.size() + pad) / 2, 0);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    char c = digits[i];
    if (c < '0' || c > '9') {
      return InvalidArgument("non-digit character at offset " + std::to_string(i) +
                             "; expected 0-9 for BCD");
    }
    std::size_t nibble = i + pad;
    auto v = static_cast<std::uint8_t>(c - '0');
    out[nibble / 2] |= (nibble % 2 == 0) ? static_cast<std::uint8_t>(v << 4) : v;
  }
  return out;
}

Result<std::string> BcdDecode(ByteView bcd) {
  std::string out(bcd.size() * 2, '0');
  for (std::size_t i = 0; i < bcd.size(); ++i) {
    int hi = bcd[i] >> 4;
    int lo = bcd[i] & 0x0F;
    if (hi > 9 || lo > 9) {
      return InvalidArgument("BCD byte at offset " + std::to_string(i) + " is " +
                             HexEncode(bcd.subspan(i, 1)) + "; expected two nibbles 0-9");
    }
    out[2 * i] = static_cast<char>('0' + hi);
    out[2 * i + 1] = static_cast<char>('0' + lo);
  }
  return out;
}

Result<Bytes> BcdEncodeFixed(std::string_view digits, std::size_t width_bytes) {
  if (digits.size() > width_bytes * 2) {
    return InvalidArgument(std::to_string(digits.size()) + " digits do not fit in " +
                           std::to_string(width_bytes) + " BCD bytes");
  }
  std::string padded(width_bytes * 2 - digits.size(), '0');
  padded += digits;
  return BcdEncode(padded);
}

Bytes UintToBytes(std::uint64_t value, std::size_t width_bytes) {
  Bytes out(width_bytes, 0);
  for (std::size_t i = 0; i < width_bytes && i < 8; ++i) {
    out[width_bytes - 1 - i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
  return out;
}

std::uint64_t BytesToUint(ByteView bytes) {
  std::uint64_t v = 0;
  for (std::uint8_t b : bytes) v = (v << 8) | b;
  return v;
}

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace tapstack
