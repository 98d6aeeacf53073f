#include "qr/crc16.h"

#include <gtest/gtest.h>

#include <string>

namespace tapstack::qr {
namespace {

// The CRC catalogue's check value for CRC-16/CCITT-FALSE.
TEST(Crc16Test, CatalogueCheckValue) { EXPECT_EQ(Crc16CcittFalse("123456789"), 0x29B1); }

TEST(Crc16Test, EmptyInputIsInitialValue) { EXPECT_EQ(Crc16CcittFalse(""), 0xFFFF); }

TEST(Crc16Test, UpdateInPiecesEqualsWhole) {
  const std::string text = "00020101021229300012D156000000000510A93FO3230Q6304";
  for (std::size_t split = 0; split <= text.size(); ++split) {
    const std::uint16_t first = Crc16CcittFalseUpdate(
        kCrc16CcittFalseInit, AsBytes(std::string_view(text).substr(0, split)));
    EXPECT_EQ(Crc16CcittFalseUpdate(first, AsBytes(std::string_view(text).substr(split))),
              Crc16CcittFalse(text))
        << "split at " << split;
  }
}

// Bit-by-bit reference (the definition, no table) against the table-driven implementation.
std::uint16_t BitwiseCrc(std::string_view text) {
  std::uint16_t crc = 0xFFFF;
  for (char c : text) {
    crc = static_cast<std::uint16_t>(crc ^ (static_cast<std::uint8_t>(c) << 8));
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

TEST(Crc16Test, TableMatchesBitwiseDefinitionForEveryByte) {
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_EQ(Crc16CcittFalse(one), BitwiseCrc(one)) << "byte " << b;
    const std::string two = "63" + one + "04";
    EXPECT_EQ(Crc16CcittFalse(two), BitwiseCrc(two)) << "byte " << b;
  }
}

TEST(Crc16Test, SlicedLoopMatchesBitwiseDefinitionForEveryLengthAndAlignment) {
  std::string text;
  std::uint32_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245u + 12345u;
    text += static_cast<char>(x >> 24);
  }
  for (std::size_t start = 0; start < 4; ++start) {
    for (std::size_t length = 0; start + length <= text.size(); ++length) {
      const std::string_view part = std::string_view(text).substr(start, length);
      ASSERT_EQ(Crc16CcittFalse(part), BitwiseCrc(part))
          << "start " << start << " length " << length;
    }
  }
}

TEST(Crc16Test, FormatKeepsLeadingZerosUppercase) {
  EXPECT_EQ(FormatCrc16(0x00C0), "00C0");
  EXPECT_EQ(FormatCrc16(0x0ABC), "0ABC");
  EXPECT_EQ(FormatCrc16(0x0000), "0000");
  EXPECT_EQ(FormatCrc16(0xA13A), "A13A");
  EXPECT_EQ(FormatCrc16(0xFFFF), "FFFF");
}

TEST(Crc16Test, ParseAcceptsEitherCaseAndExactlyFourHexDigits) {
  std::uint16_t crc = 0;
  EXPECT_TRUE(ParseCrc16("a13a", crc));
  EXPECT_EQ(crc, 0xA13A);
  EXPECT_TRUE(ParseCrc16("00C0", crc));
  EXPECT_EQ(crc, 0x00C0);
  crc = 0x1234;
  EXPECT_FALSE(ParseCrc16("C0", crc));
  EXPECT_FALSE(ParseCrc16("0C0G", crc));
  EXPECT_FALSE(ParseCrc16("00C00", crc));
  EXPECT_FALSE(ParseCrc16(" 0C0", crc));
  EXPECT_EQ(crc, 0x1234);
}

}  // namespace
}  // namespace tapstack::qr
