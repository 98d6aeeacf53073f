// `tapstack emv ...` through CLI11, without the tapstack binary: the test registers the command
// on its own CLI::App and captures stdout.
#include "cli/emv_command.h"

#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/usage_error.h"

namespace tapstack::cli {
namespace {

using nlohmann::json;

// Restores std::cout even when the command throws.
class CaptureStdout {
 public:
  CaptureStdout() : old_(std::cout.rdbuf(captured_.rdbuf())) {}
  CaptureStdout(const CaptureStdout&) = delete;
  CaptureStdout& operator=(const CaptureStdout&) = delete;
  ~CaptureStdout() { std::cout.rdbuf(old_); }
  std::string str() const { return captured_.str(); }

 private:
  std::ostringstream captured_;
  std::streambuf* old_;
};

std::string RunEmv(std::vector<std::string> args) {
  CLI::App app{"test", "tapstack"};
  app.require_subcommand(1);
  RegisterEmvCommand(app);
  args.insert(args.begin(), {"tapstack", "emv"});
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  CaptureStdout capture;
  app.parse(static_cast<int>(argv.size()), argv.data());
  return capture.str();
}

std::string UsageErrorOf(std::vector<std::string> args) {
  try {
    RunEmv(std::move(args));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no usage error";
}

constexpr const char* kMc20Tags =
    R"({"9F02":"000000009999","9F03":"000000000000","9F1A":"0124","95":"8000000000",)"
    R"("5F2A":"0124","9A":"209906","9C":"00","9F37":"ABCDEF12","82":"1800"})";

TEST(EmvCommandTest, TlvPrintsTheTree) {
  const json tree = json::parse(RunEmv(
      {"tlv", "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A0000000031010870101"}));
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree[0]["tag"], "6F");
  EXPECT_EQ(tree[0]["name"], "File Control Information (FCI) Template");
  EXPECT_EQ(tree[0]["length"], 35);
  EXPECT_EQ(tree[0]["children"][0]["tag"], "84");
  const json& aid = tree[0]["children"][1]["children"][0]["children"][0]["children"][0];
  EXPECT_EQ(aid["tag"], "4F");
  EXPECT_EQ(aid["value"], "A0000000031010");
  EXPECT_FALSE(aid.contains("children"));
}

TEST(EmvCommandTest, TlvErrorsNameTheInput) {
  EXPECT_EQ(UsageErrorOf({"tlv", "9F0206000000"}),
            "hex: tlv offset 0: tag 9F02: value of 6 bytes overruns the input by 3 bytes");
  EXPECT_EQ(UsageErrorOf({"tlv", "9F0"}).rfind("hex: ", 0), 0u);
}

TEST(EmvCommandTest, DolBuildsTheData) {
  EXPECT_EQ(RunEmv({"dol", "--dol", "9F02069F03069F1A0295055F2A029A039C019F3704", "--tags",
                    R"([{"9C":"09","9A":"240217","5F2A":"0978","9F02":"000123456789",)"
                    R"("9F03":"000987654321","9F37":"DEADBEEF"},)"
                    R"({"9F1A":"0528","9F37":"DEADCAFE","95":"1234554321"}])"}),
            "00012345678900098765432105281234554321097824021709DEADBEEF\n");
  EXPECT_EQ(UsageErrorOf({"dol", "--dol", "9F02", "--tags", "{}"}),
            "--dol: dol offset 0: tag 9F02 has no length");
  EXPECT_EQ(UsageErrorOf({"dol", "--dol", "9F0206", "--tags", "{\"9F02\": 5}"}),
            "--tags: tag 9F02: value must be hex text");
  EXPECT_EQ(UsageErrorOf({"dol", "--dol", "9F0206", "--tags", "[1]"}),
            "--tags: every source must be a JSON object");
}

TEST(EmvCommandTest, ApduParsesCommandsAndResponses) {
  const json select = json::parse(RunEmv({"apdu", "00A404000E325041592E5359532E444446303100"}));
  EXPECT_EQ(select["ins"], "A4");
  EXPECT_EQ(select["instruction"], "SELECT");
  EXPECT_EQ(select["case"], 4);
  EXPECT_EQ(select["lc"], 14);
  EXPECT_EQ(select["le"], 256);
  const json response =
      json::parse(RunEmv({"apdu", "--response", "800E78000802020010010400180102019000"}));
  EXPECT_EQ(response["sw"], "9000");
  EXPECT_EQ(response["status"], "success");
  EXPECT_EQ(response["tlv"][0]["tag"], "80");
  const json not_found = json::parse(RunEmv({"apdu", "--response", "6A82"}));
  EXPECT_EQ(not_found["description"], "6A82 file or application not found");
  EXPECT_EQ(UsageErrorOf({"apdu", "00A4"}),
            "hex: c-apdu: 2 bytes; the header alone is 4 (CLA INS P1 P2)");
}

TEST(EmvCommandTest, ArqcThroughAProfile) {
  const json out = json::parse(
      RunEmv({"arqc", "--profile", "mc-cvn20", "--imk", "0123456789ABCDEFFEDCBA9876543210", "--pan",
              "1234567890123456", "--psn", "00", "--atc", "001C", "--un", "ABCDEF12", "--tags",
              kMc20Tags, "--iad", "0114A00003220000000000000000000000FF", "--arc", "0010"}));
  EXPECT_EQ(out["profile"], "mc-cvn20");
  EXPECT_EQ(out["ac_data"],
            "00000000999900000000000001248000000000012420990600ABCDEF121800001CA00003220000");
  EXPECT_EQ(out["arqc"], "CD29615D6452E70E");
  EXPECT_EQ(out["arpc"], "DFD0956606B68D64");
  EXPECT_EQ(out["issuer_authentication_data"], "DFD0956606B68D640010");
}

TEST(EmvCommandTest, ArqcDetectsTheProfileFromLowerCaseIad) {
  const json out =
      json::parse(RunEmv({"arqc", "--profile", "auto", "--imk", "0123456789ABCDEFFEDCBA9876543210",
                          "--pan", "1234567890123456", "--atc", "001c", "--tags", kMc20Tags,
                          "--iad", "0114a00003220000000000000000000000ff"}));
  EXPECT_EQ(out["profile"], "mc-cvn20");
  EXPECT_EQ(out["arqc"], "CD29615D6452E70E");
  EXPECT_FALSE(out.contains("arpc"));
}

TEST(EmvCommandTest, ArqcErrorsNameTheOption) {
  const std::vector<std::string> base = {
      "--imk", "0123456789ABCDEFFEDCBA9876543210", "--pan", "1234567890123456", "--atc", "001C"};
  const auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"arqc"};
    args.insert(args.end(), base.begin(), base.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return UsageErrorOf(args);
  };
  EXPECT_EQ(with({"--profile", "visa-cvn99", "--tags", kMc20Tags}),
            "--profile: unknown profile visa-cvn99");
  EXPECT_EQ(with({"--profile", "mc-cvn20", "--tags", R"({"9F02":"000000009999"})", "--iad",
                  "0114A00003220000000000000000000000FF"}),
            "--tags: ac data: tag 9F03 (Amount, Other (Numeric)) is missing");
  EXPECT_EQ(with({"--profile", "mc-cvn20", "--tags", kMc20Tags, "--iad", "0114"}),
            "--iad: iad: 2 bytes; profile mc-cvn20 reads 6 bytes at offset 2");
  EXPECT_EQ(with({"--profile", "mc-cvn20", "--tags", kMc20Tags, "--iad", "0114A0000322", "--csu",
                  "00000000"}),
            "--csu: profile mc-cvn20 uses ARPC method 1; give --arc");
  EXPECT_EQ(with({"--profile", "pboc-sm4", "--tags", kMc20Tags, "--arc", "3030"}),
            "--arc/--csu: profile pboc-sm4 has no ARPC method");
  EXPECT_EQ(with({"--profile", "mc-cvn20", "--tags", kMc20Tags, "--un", "ABCD"}),
            "--un: expected 4 bytes (8 hex digits); got 2");
  EXPECT_EQ(with({"--profile", "auto", "--tags", kMc20Tags, "--iad", "0000"}),
            "--profile: auto: no profile recognises IAD 0000");
  EXPECT_EQ(with({"--profile", "mc-cvn20", "--tags", "{not json"}).rfind("--tags: not JSON", 0),
            0u);
}

TEST(EmvCommandTest, ProfilesAreListed) {
  const json profiles = json::parse(RunEmv({"profiles"}));
  ASSERT_GE(profiles.size(), 10u);
  bool found = false;
  for (const json& p : profiles) {
    if (p["name"] == "visa-cvn18") {
      found = true;
      EXPECT_EQ(p["arpc_method"], "method-2");
      EXPECT_EQ(p["cipher"], "TDES");
      EXPECT_EQ(p["uncertain"], false);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace tapstack::cli
