#include "core/hex.h"

#include <gtest/gtest.h>

namespace tapstack {
namespace {

TEST(HexTest, RoundTripUppercase) {
  auto bytes = HexDecode("00ff7Fa0");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, (Bytes{0x00, 0xFF, 0x7F, 0xA0}));
  EXPECT_EQ(HexEncode(*bytes), "00FF7FA0");
}

TEST(HexTest, EmptyIsValid) {
  auto bytes = HexDecode("");
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(bytes->empty());
  EXPECT_EQ(HexEncode({}), "");
}

TEST(HexTest, OddLengthIsAnError) {
  auto r = HexDecode("ABC");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("odd length 3"), std::string::npos);
}

TEST(HexTest, BadCharacterNamesOffset) {
  auto r = HexDecode("00G1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("offset 2"), std::string::npos);
  EXPECT_FALSE(HexDecode("0 ").ok());
}

TEST(BcdTest, EncodeLeftPadsOddDigitCount) {
  EXPECT_EQ(HexEncode(*BcdEncode("123")), "0123");
  EXPECT_EQ(HexEncode(*BcdEncode("1234")), "1234");
  EXPECT_TRUE(BcdEncode("")->empty());
  EXPECT_FALSE(BcdEncode("12a4").ok());
}

TEST(BcdTest, DecodeRejectsNibblesAboveNine) {
  EXPECT_EQ(*BcdDecode(Bytes{0x01, 0x56}), "0156");
  auto r = BcdDecode(Bytes{0x01, 0x5A});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("offset 1"), std::string::npos);
}

TEST(BcdTest, FixedWidthRightAligns) {
  // EMV 9F02 amount authorised: n12 in 6 bytes; 99.99 CNY = 9999 minor units.
  EXPECT_EQ(HexEncode(*BcdEncodeFixed("9999", 6)), "000000009999");
  EXPECT_FALSE(BcdEncodeFixed("1234567890123", 6).ok());
}

TEST(BytesTest, UintRoundTrip) {
  EXPECT_EQ(HexEncode(UintToBytes(0x001C, 2)), "001C");
  EXPECT_EQ(BytesToUint(UintToBytes(0x0102030405060708ULL, 8)), 0x0102030405060708ULL);
  EXPECT_EQ(HexEncode(Concat({UintToBytes(1, 1), AsBytes("A")})), "0141");
}

TEST(BytesTest, IsAllDigits) {
  EXPECT_TRUE(IsAllDigits("0123"));
  EXPECT_FALSE(IsAllDigits(""));
  EXPECT_FALSE(IsAllDigits("12 3"));
}

}  // namespace
}  // namespace tapstack
