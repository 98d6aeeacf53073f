#include "iso8583/codec.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "iso8583/sample_messages.h"

namespace tapstack::iso8583 {
namespace {

std::string PackHex(const Message& m, const Profile& p) {
  std::string out;
  Status s = Pack(m, p, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return HexEncode(AsBytes(out));
}

Status UnpackHex(std::string_view hex, const Profile& p, Message& out) {
  return Unpack(*HexDecode(hex), p, out);
}

Message EchoRequest() {
  Message m("0800");
  m.Set(7, "1121093000");
  m.Set(11, "000001");
  m.Set(70, "301");
  return m;
}

// Known answers worked out by hand from the 1987 layout: bit 1 (secondary present) and bit 7 give
// primary byte 0 = 0x82; bit 11 gives byte 1 = 0x20; field 70 is bit 6 of the secondary bitmap.
TEST(CodecTest, EchoRequestAsciiKnownBytes) {
  EXPECT_EQ(PackHex(EchoRequest(), AsciiProfile()),
            HexEncode(AsBytes("0800")) + "8220000000000000" + "0400000000000000" +
                HexEncode(AsBytes("1121093000000001301")));
}

TEST(CodecTest, EchoRequestHexBitmapKnownBytes) {
  EXPECT_EQ(PackHex(EchoRequest(), AsciiHexBitmapProfile()),
            HexEncode(AsBytes("080082200000000000000400000000000000" "1121093000000001301")));
}

TEST(CodecTest, EchoRequestBcdKnownBytes) {
  EXPECT_EQ(PackHex(EchoRequest(), BcdProfile()),
            "0800" "8220000000000000" "0400000000000000" "1121093000" "000001" "0301");
}

TEST(CodecTest, PrimaryOnlyWhenNoSecondaryFields) {
  Message m("0810");
  m.Set(11, "000001");
  m.Set(39, "00");
  EXPECT_EQ(PackHex(m, AsciiProfile()),
            HexEncode(AsBytes("0810")) + "0020000002000000" + HexEncode(AsBytes("00000100")));
}

TEST(CodecTest, BcdVariableNumericsAndTrack) {
  Message m("0200");
  m.Set(2, "6250947000000000014");  // 19 digits: LL = 0x19, right pad nibble 0
  m.Set(35, "6250=2912");            // z: '=' is nibble D, odd count padded with F
  m.Set(32, "123");                  // odd n LLVAR: right-padded
  std::string hex = PackHex(m, BcdProfile());
  EXPECT_EQ(hex, "0200" "4000000120000000" "19" "62509470000000000140" "03" "1230" "09" "6250D2912F");
  Message back;
  ASSERT_TRUE(UnpackHex(hex, BcdProfile(), back).ok());
  EXPECT_EQ(back, m);
}

TEST(CodecTest, FixedFieldsArePadded) {
  Message m("0110");
  m.Set(4, "9999");      // n12: zeros on the left
  m.Set(38, "A1B2");     // an6: spaces on the right
  m.Set(28, "D500");     // x+n8: zeros after the sign
  std::string out;
  ASSERT_TRUE(Pack(m, AsciiProfile(), out).ok());
  EXPECT_NE(out.find("000000009999"), std::string::npos);
  EXPECT_NE(out.find("A1B2  "), std::string::npos);
  EXPECT_NE(out.find("D00000500"), std::string::npos);
}

class ProfileRoundTrip : public ::testing::TestWithParam<const Profile*> {};

TEST_P(ProfileRoundTrip, ContactlessAuthorizationIsByteExact) {
  const Profile& p = *GetParam();
  Message original = testing::ContactlessAuthorization();
  original.Set(90, "010000000111210930000000004802000000000000");
  original.Set(128, std::string(8, '\x5A'));
  std::string wire;
  ASSERT_TRUE(Pack(original, p, wire).ok());
  Message back;
  Status s = Unpack(AsBytes(wire), p, back);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(back, original);
  std::string again;
  ASSERT_TRUE(Pack(back, p, again).ok());
  EXPECT_EQ(again, wire);
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, ProfileRoundTrip,
                         ::testing::Values(&AsciiProfile(), &AsciiHexBitmapProfile(), &BcdProfile()),
                         [](const ::testing::TestParamInfo<const Profile*>& param_info) {
                           std::string name(param_info.param->name);
                           return name == "ascii-hexbitmap" ? std::string("ascii_hexbitmap") : name;
                         });

TEST(CodecTest, AllZeroSecondaryBitmapIsAcceptedAndKept) {
  // npm iso_8583 always sets bit 1, even with no field above 64.
  std::string hex = HexEncode(AsBytes("0800")) + "A000000000000000" + "0000000000000000" +
                    HexEncode(AsBytes("000001"));
  Message m;
  Status s = UnpackHex(hex, AsciiProfile(), m);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*m.Get(3), "000001");
  EXPECT_TRUE(m.force_secondary_bitmap());
  EXPECT_EQ(PackHex(m, AsciiProfile()), hex);
}

struct BadWire {
  const char* name;
  std::string hex;
  const char* expect;  // a fragment of the error message
};

TEST(CodecTest, ErrorsNameFieldOffsetAndReason) {
  const std::string mti = HexEncode(AsBytes("0100"));
  const std::vector<BadWire> cases = {
      {"non-digit numeric", mti + "2000000000000000" + HexEncode(AsBytes("00A000")),
       "DE3 at offset 14: 'A' is not allowed; expected n6"},
      {"truncated fixed", mti + "2000000000000000" + HexEncode(AsBytes("0000")),
       "DE3 at offset 12: truncated value: needs 6 bytes, 4 remain"},
      {"LL above max", mti + "4000000000000000" + HexEncode(AsBytes("204111111111111111111111")),
       "DE2 at offset 12: length 20 exceeds n..19 (LLVAR)"},
      {"LL not digits", mti + "4000000000000000" + HexEncode(AsBytes("1X")),
       "DE2 at offset 13: length prefix has 'X'"},
      {"value overruns message", mti + "4000000000000000" + HexEncode(AsBytes("16411111")),
       "DE2 at offset 14: truncated value: needs 16 bytes, 6 remain"},
      {"trailing bytes", mti + "2000000000000000" + HexEncode(AsBytes("000000XY")),
       "2 trailing bytes at offset 18"},
      {"tertiary bitmap", mti + "8000000000000000" + "8000000000000000",
       "DE65 at offset 20: bit 65 (tertiary bitmap)"},
      {"truncated bitmap", mti + "20000000", "primary bitmap at offset 4: truncated"},
      {"bad MTI", HexEncode(AsBytes("01A0")) + "0000000000000000", "MTI at offset 2"},
      {"short MTI", "3031", "MTI at offset 0: truncated"},
  };
  for (const BadWire& c : cases) {
    Message m;
    Status s = UnpackHex(c.hex, AsciiProfile(), m);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << c.name << ": " << s.message();
  }
}

TEST(CodecTest, BcdErrors) {
  Message m;
  Status bad_nibble = UnpackHex("0200" "2000000000000000" "00A000", BcdProfile(), m);
  ASSERT_FALSE(bad_nibble.ok());
  EXPECT_NE(bad_nibble.message().find("DE3 at offset 11: BCD nibble A is not a digit"),
            std::string::npos)
      << bad_nibble.message();
  // DE2 with 15 digits must end in a 0 pad nibble.
  Status bad_pad = UnpackHex("0200" "4000000000000000" "15" "4111111111111115", BcdProfile(), m);
  ASSERT_FALSE(bad_pad.ok());
  EXPECT_NE(bad_pad.message().find("pad nibble is 5; expected 0"), std::string::npos)
      << bad_pad.message();
}

TEST(CodecTest, HexBitmapRejectsNonHex) {
  Message m;
  Status s = Unpack(AsBytes("0800822000000000000G"), AsciiHexBitmapProfile(), m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("primary bitmap at offset 18"), std::string::npos) << s.message();
}

TEST(CodecTest, PackRejectsBadValues) {
  struct Case {
    int field;
    std::string value;
    const char* expect;
  };
  for (const Case& c : std::vector<Case>{{4, "12x", "DE4: 'x' at position 2 is not allowed"},
                                         {4, "1234567890123", "DE4: length 13 exceeds n12"},
                                         {2, "41111111111111111111", "DE2: length 20 exceeds n..19"},
                                         {52, "1234", "DE52: 4 bytes; expected exactly 8"},
                                         {28, "X100", "DE28: 'X' at position 0"},
                                         {35, "4111A", "DE35: 'A' at position 4"},
                                         {43, std::string("caf\xC3\xA9"), "DE43: byte 0xC3"}}) {
    Message m("0100");
    m.Set(c.field, c.value);
    std::string out;
    Status s = Pack(m, AsciiProfile(), out);
    ASSERT_FALSE(s.ok()) << c.field;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
  Message bad_mti("01X0");
  std::string out;
  EXPECT_FALSE(Pack(bad_mti, AsciiProfile(), out).ok());
}

TEST(CodecTest, RefusesOversizedInputBeforeParsing) {
  std::string big(kMessageBytesMax + 1, '0');
  Message m;
  Status s = Unpack(AsBytes(big), AsciiProfile(), m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("limit"), std::string::npos);
}

TEST(CodecTest, ProfileByName) {
  EXPECT_EQ((*ProfileByName("bcd"))->id, ProfileId::kBcd);
  EXPECT_EQ((*ProfileByName("ascii-hexbitmap"))->id, ProfileId::kAsciiHexBitmap);
  EXPECT_FALSE(ProfileByName("ebcdic").ok());
}

}  // namespace
}  // namespace tapstack::iso8583
