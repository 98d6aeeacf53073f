// `tapstack iso8583 pack|unpack` through the built binary.
#include <gtest/gtest.h>

#include "core/hex.h"
#include "iso8583/message_json.h"
#include "iso8583/sample_messages.h"
#include "support/subprocess.h"

namespace tapstack::iso8583 {
namespace {

using tapstack::testing::RunProcess;
using tapstack::testing::TapstackBinary;

TEST(Iso8583CliTest, PackUnpackRoundTripEveryProfileAndFrame) {
  const nlohmann::json message = MessageToJson(testing::ContactlessAuthorization());
  for (const char* profile : {"ascii", "ascii-hexbitmap", "bcd"}) {
    for (const char* frame : {"none", "2byte"}) {
      auto packed = RunProcess(TapstackBinary(),
                               {"iso8583", "pack", "--profile", profile, "--frame", frame},
                               message.dump());
      ASSERT_EQ(packed.exit_code, 0) << profile << " " << frame << ": " << packed.err;
      std::string hex = packed.out.substr(0, packed.out.find('\n'));
      auto unpacked = RunProcess(TapstackBinary(),
                                 {"iso8583", "unpack", "--profile", profile, "--frame", frame, hex});
      ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
      EXPECT_EQ(nlohmann::json::parse(unpacked.out), message) << profile << " " << frame;
      if (std::string(frame) == "2byte") {
        // The header is the body length, excluding itself.
        EXPECT_EQ(std::stoul(hex.substr(0, 4), nullptr, 16), hex.size() / 2 - 2);
      }
    }
  }
}

TEST(Iso8583CliTest, UnpackAcceptsAllZeroSecondaryBitmap) {
  std::string hex = HexEncode(AsBytes("0800")) + "A000000000000000" + "0000000000000000" +
                    HexEncode(AsBytes("000001"));
  auto r = RunProcess(TapstackBinary(), {"iso8583", "unpack", "--profile", "ascii", hex});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["fields"]["3"], "000001");
}

TEST(Iso8583CliTest, BadInputExitsTwoWithOneLine) {
  struct Case {
    std::vector<std::string> args;
    std::string stdin_data;
    const char* expect;
  };
  const std::string bad_de3 = HexEncode(AsBytes("0100")) + "2000000000000000" + HexEncode(AsBytes("00A000"));
  for (const Case& c : std::vector<Case>{
           {{"iso8583", "unpack", bad_de3}, "", "DE3 at offset 14"},
           {{"iso8583", "unpack", "ABC"}, "", "odd length"},
           {{"iso8583", "unpack", "--profile", "ebcdic", "00"}, "", "unknown ISO 8583 profile"},
           {{"iso8583", "unpack", "--frame", "2byte", "0005" + HexEncode(AsBytes("01"))}, "", "truncated"},
           {{"iso8583", "pack"}, "{", "not valid JSON"},
           {{"iso8583", "pack"}, R"({"mti":"0100","fields":{"4":"12x"}})", "DE4"},
           {{"iso8583", "pack", "--bogus"}, "{}", "bogus"}}) {
    auto r = RunProcess(TapstackBinary(), c.args, c.stdin_data);
    EXPECT_EQ(r.exit_code, 2) << c.expect;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace tapstack::iso8583
