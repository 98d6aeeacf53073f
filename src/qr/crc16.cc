#include "qr/crc16.h"

#include <array>

namespace tapstack::qr {
namespace {

constexpr std::uint16_t kPolynomial = 0x1021;

// Slicing-by-4 (Intel's "slicing-by-N", Kounavis & Berry 2005): kTables[k][b] is the register
// after shifting byte b, placed in the high byte, through 8 * (k + 1) zero bits. kTables[0] is the
// classic byte table; four bytes then take four independent look-ups instead of a chain of four.
constexpr std::uint16_t Advance(std::uint16_t reg, int bits) {
  for (int bit = 0; bit < bits; ++bit) {
    reg = (reg & 0x8000) != 0 ? static_cast<std::uint16_t>((reg << 1) ^ kPolynomial)
                              : static_cast<std::uint16_t>(reg << 1);
  }
  return reg;
}

constexpr std::array<std::array<std::uint16_t, 256>, 4> MakeTables() {
  std::array<std::array<std::uint16_t, 256>, 4> tables{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    tables[0][byte] = Advance(static_cast<std::uint16_t>(byte << 8), 8);
  }
  // Eight more bits through the complete byte table.
  for (std::size_t k = 1; k < 4; ++k) {
    for (unsigned byte = 0; byte < 256; ++byte) {
      const std::uint16_t prev = tables[k - 1][byte];
      tables[k][byte] = static_cast<std::uint16_t>((prev << 8) ^ tables[0][prev >> 8]);
    }
  }
  return tables;
}

constexpr auto kTables = MakeTables();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::uint16_t Crc16CcittFalseUpdate(std::uint16_t crc, ByteView data) {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  for (; n >= 4; n -= 4, p += 4) {
    // The register meets the first two bytes; all 16 of its bits are shifted out by the end.
    const auto hi = static_cast<std::uint8_t>((crc >> 8) ^ p[0]);
    const auto lo = static_cast<std::uint8_t>(crc ^ p[1]);
    crc = static_cast<std::uint16_t>(kTables[3][hi] ^ kTables[2][lo] ^ kTables[1][p[2]] ^
                                     kTables[0][p[3]]);
  }
  for (; n > 0; --n, ++p) {
    crc = static_cast<std::uint16_t>((crc << 8) ^
                                     kTables[0][static_cast<std::uint8_t>((crc >> 8) ^ *p)]);
  }
  return crc;
}

std::string FormatCrc16(std::uint16_t crc) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[crc & 0xF];
    crc = static_cast<std::uint16_t>(crc >> 4);
  }
  return out;
}

bool ParseCrc16(std::string_view text, std::uint16_t& crc) {
  if (text.size() != 4) return false;
  unsigned value = 0;
  for (char c : text) {
    const int v = HexValue(c);
    if (v < 0) return false;
    value = (value << 4) | static_cast<unsigned>(v);
  }
  crc = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace tapstack::qr
