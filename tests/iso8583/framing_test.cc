#include "iso8583/framing.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "iso8583/codec.h"

namespace tapstack::iso8583 {
namespace {

TEST(FramingTest, TwoByteHeaderExcludesItself) {
  std::string out;
  ASSERT_TRUE(AppendFrameHeader(FrameKind::k2ByteLength, 0x0123, out).ok());
  EXPECT_EQ(HexEncode(AsBytes(out)), "0123");
  std::string ascii;
  ASSERT_TRUE(AppendFrameHeader(FrameKind::k4DigitAscii, 291, ascii).ok());
  EXPECT_EQ(ascii, "0291");
}

TEST(FramingTest, PatchAfterPackingInPlace) {
  std::string out;
  ASSERT_TRUE(AppendFrameHeader(FrameKind::k2ByteLength, 0, out).ok());
  out += "0800ABC";
  PatchFrameHeader(FrameKind::k2ByteLength, 0, out);
  EXPECT_EQ(HexEncode(AsBytes(out.substr(0, 2))), "0007");
}

TEST(FramingTest, StreamReassembly) {
  Bytes stream = *HexDecode("0003414243" "0000" "00024445");
  std::vector<std::string> messages;
  ByteView rest = stream;
  for (;;) {
    auto frame = NextFrame(FrameKind::k2ByteLength, rest);
    ASSERT_TRUE(frame.ok());
    if (!frame->has_value()) break;
    messages.emplace_back(reinterpret_cast<const char*>((*frame)->message.data()),
                          (*frame)->message.size());
    rest = rest.subspan((*frame)->frame_bytes);
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"ABC", "", "DE"}));  // "" is a keep-alive
  EXPECT_TRUE(rest.empty());
  // A partial frame asks for more bytes.
  EXPECT_FALSE(NextFrame(FrameKind::k2ByteLength, *HexDecode("000341"))->has_value());
  EXPECT_FALSE(NextFrame(FrameKind::k2ByteLength, *HexDecode("00"))->has_value());
}

TEST(FramingTest, OversizedLengthRejectedFromHeaderAlone) {
  auto r = NextFrame(FrameKind::k2ByteLength, *HexDecode("FFFF"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("declared length 65535 exceeds"), std::string::npos);
  EXPECT_FALSE(NextFrame(FrameKind::k4DigitAscii, AsBytes("12a4")).ok());
  std::string out;
  EXPECT_FALSE(AppendFrameHeader(FrameKind::k2ByteLength, kMessageBytesMax + 1, out).ok());
}

TEST(FramingTest, UnframeExact) {
  EXPECT_EQ(UnframeExact(FrameKind::k2ByteLength, *HexDecode("000141"))->size(), 1u);
  EXPECT_FALSE(UnframeExact(FrameKind::k2ByteLength, *HexDecode("00034142")).ok());
  EXPECT_FALSE(UnframeExact(FrameKind::k2ByteLength, *HexDecode("00014142")).ok());
  EXPECT_EQ(UnframeExact(FrameKind::kNone, *HexDecode("4142"))->size(), 2u);
  EXPECT_EQ(*FrameKindByName("2byte"), FrameKind::k2ByteLength);
  EXPECT_FALSE(FrameKindByName("3byte").ok());
}

}  // namespace
}  // namespace tapstack::iso8583
