#include "emv/apdu.h"

#include <gtest/gtest.h>

#include <string>

#include "emv_test_util.h"

namespace tapstack::emv {
namespace {

using testing::Hex;
using testing::ToHex;

CommandApdu ParseOk(std::string_view hex) {
  const Bytes bytes = Hex(hex);
  Result<CommandApdu> command = ParseCommandApdu(bytes);
  EXPECT_TRUE(command.ok()) << hex << ": " << command.status().ToString();
  return command.ok() ? *command : CommandApdu();
}

std::string ParseError(std::string_view hex) {
  const Bytes bytes = Hex(hex);
  return ParseCommandApdu(bytes).status().message();
}

std::string Encoded(const CommandApdu& command) {
  Result<Bytes> bytes = EncodeCommandApdu(command);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? ToHex(*bytes) : "";
}

TEST(CommandApduTest, Case1HeaderOnly) {
  const CommandApdu command = ParseOk("00A40400");
  EXPECT_EQ(command.Case(), ApduCase::kCase1);
  EXPECT_EQ(command.cla, 0x00);
  EXPECT_EQ(command.ins, 0xA4);
  EXPECT_EQ(command.p1, 0x04);
  EXPECT_EQ(command.p2, 0x00);
  EXPECT_TRUE(command.data.empty());
  EXPECT_FALSE(command.le.has_value());
  EXPECT_EQ(Encoded(command), "00A40400");
}

TEST(CommandApduTest, Case2LeOnlyWith00Meaning256) {
  const CommandApdu get_data = ParseOk("80CA9F3600");
  EXPECT_EQ(get_data.Case(), ApduCase::kCase2);
  EXPECT_EQ(get_data.le, 256);
  EXPECT_EQ(Encoded(get_data), "80CA9F3600");
  const CommandApdu get_response = ParseOk("00C0000010");
  EXPECT_EQ(get_response.le, 16);
  EXPECT_EQ(Encoded(get_response), "00C0000010");
}

TEST(CommandApduTest, Case3DataWithoutLe) {
  const CommandApdu command = ParseOk("842400000812345678AABBCCDD");
  EXPECT_EQ(command.Case(), ApduCase::kCase3);
  EXPECT_EQ(ToHex(command.data), "12345678AABBCCDD");
  EXPECT_FALSE(command.le.has_value());
  EXPECT_EQ(Encoded(command), "842400000812345678AABBCCDD");
}

TEST(CommandApduTest, Case4DataAndLe) {
  const CommandApdu command = ParseOk("00A4040007A000000003101000");
  EXPECT_EQ(command.Case(), ApduCase::kCase4);
  EXPECT_EQ(ToHex(command.data), "A0000000031010");
  EXPECT_EQ(command.le, 256);
  EXPECT_EQ(Encoded(command), "00A4040007A000000003101000");
}

TEST(CommandApduTest, MaximumShortLengths) {
  CommandApdu command;
  command.cla = 0x80;
  command.ins = 0xAE;
  command.data.assign(kShortLcMax, 0x11);
  command.le = kShortLeMax;
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes bytes, EncodeCommandApdu(command));
  EXPECT_EQ(bytes.size(), 4u + 1 + 255 + 1);
  EXPECT_EQ(bytes[4], 0xFF);
  EXPECT_EQ(bytes.back(), 0x00);
  EMV_ASSERT_OK_AND_ASSIGN(const CommandApdu again, ParseCommandApdu(bytes));
  EXPECT_EQ(again, command);
}

TEST(CommandApduTest, MalformedCommandsAreRefused) {
  EXPECT_EQ(ParseError("00A404"), "c-apdu: 3 bytes; the header alone is 4 (CLA INS P1 P2)");
  EXPECT_EQ(ParseError("00A4040007A0000000031010A0B1"),
            "c-apdu offset 4: Lc 07 announces 7 data bytes but 9 bytes follow "
            "(expected 7, or 8 with Le)");
  EXPECT_EQ(ParseError("00A4040005A000"),
            "c-apdu offset 4: Lc 05 announces 5 data bytes but 2 bytes follow "
            "(expected 5, or 6 with Le)");
  EXPECT_EQ(ParseError("00A40400000007A0000000031010"),
            "c-apdu offset 4: a body starting with 00 followed by 9 more bytes is extended "
            "length, which is not supported");
}

TEST(CommandApduTest, EncodeRefusesOutOfRangeFields) {
  CommandApdu too_much;
  too_much.data.assign(kShortLcMax + 1, 0);
  EXPECT_FALSE(EncodeCommandApdu(too_much).ok());
  CommandApdu le_zero;
  le_zero.le = 0;
  EXPECT_FALSE(EncodeCommandApdu(le_zero).ok());
  CommandApdu le_big;
  le_big.le = 257;
  EXPECT_FALSE(EncodeCommandApdu(le_big).ok());
}

TEST(ResponseApduTest, ParsesDataAndStatusWord) {
  const Bytes bytes = Hex("800E78000802020010010400180102019000");
  EMV_ASSERT_OK_AND_ASSIGN(const ResponseApdu response, ParseResponseApdu(bytes));
  EXPECT_EQ(ToHex(response.data), "800E7800080202001001040018010201");
  EXPECT_TRUE(response.sw.IsSuccess());
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes again, EncodeResponseApdu(response));
  EXPECT_EQ(again, bytes);

  const Bytes status_only = Hex("6A82");
  EMV_ASSERT_OK_AND_ASSIGN(const ResponseApdu not_found, ParseResponseApdu(status_only));
  EXPECT_TRUE(not_found.data.empty());
  EXPECT_EQ(not_found.sw, kSwFileNotFound);
}

TEST(ResponseApduTest, MalformedResponsesAreRefused) {
  const Bytes one = Hex("90");
  EXPECT_EQ(ParseResponseApdu(one).status().message(),
            "r-apdu: 1 bytes; a response ends with the 2-byte status word");
  Bytes too_long(kResponseDataBytesMax + 3, 0x00);
  EXPECT_FALSE(ParseResponseApdu(too_long).ok());
  ResponseApdu response;
  response.data.assign(kResponseDataBytesMax + 1, 0);
  EXPECT_FALSE(EncodeResponseApdu(response).ok());
}

TEST(InstructionNameTest, NamesTheEmvCommandSet) {
  EXPECT_EQ(InstructionName(0xA4), "SELECT");
  EXPECT_EQ(InstructionName(0xA8), "GET PROCESSING OPTIONS");
  EXPECT_EQ(InstructionName(0xB2), "READ RECORD");
  EXPECT_EQ(InstructionName(0xAE), "GENERATE AC");
  EXPECT_EQ(InstructionName(0xCA), "GET DATA");
  EXPECT_EQ(InstructionName(0x01), "");
}

}  // namespace
}  // namespace tapstack::emv
