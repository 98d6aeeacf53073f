// `tapstack qr decode|encode` through the built binary: exit 0 valid, 1 invalid (JSON still on
// stdout), 2 bad command line or input.
#include <gtest/gtest.h>

#include "support/subprocess.h"
#include "support/vectors.h"

namespace tapstack::qr {
namespace {

using tapstack::testing::RunProcess;
using tapstack::testing::TapstackBinary;

TEST(QrCliTest, DecodeExitCodesFollowValidity) {
  auto doc = tapstack::testing::LoadVectors("emv_qr.json");
  int checked = 0;
  for (const auto& v : doc.at("vectors")) {
    const std::string payload = v.contains("payload") ? v.at("payload").get<std::string>()
                                                      : v.at("payload_base64").get<std::string>();
    auto r = RunProcess(TapstackBinary(), {"qr", "decode", payload});
    const bool valid = v.at("valid").get<bool>();
    EXPECT_EQ(r.exit_code, valid ? 0 : 1) << v.at("id") << ": " << r.err;
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << v.at("id") << ": " << r.out;
    EXPECT_EQ(json.at("valid").get<bool>(), valid) << v.at("id");
    if (!valid) {
      EXPECT_FALSE(json.at("errors").empty()) << v.at("id");
    }
    EXPECT_TRUE(r.err.empty()) << v.at("id") << ": " << r.err;
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST(QrCliTest, EncodeRoundTripsAndBadInputExitsTwo) {
  const std::string m1 = tapstack::testing::VectorById(tapstack::testing::LoadVectors("emv_qr.json"), "M1")
                             .at("payload")
                             .get<std::string>();
  auto decoded = RunProcess(TapstackBinary(), {"qr", "decode", m1});
  ASSERT_EQ(decoded.exit_code, 0);
  auto encoded = RunProcess(TapstackBinary(), {"qr", "encode"}, decoded.out);
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  EXPECT_EQ(encoded.out.substr(0, encoded.out.find('\n')), m1);
  auto bad = RunProcess(TapstackBinary(), {"qr", "encode"}, "{not json");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_FALSE(bad.err.empty());
  EXPECT_EQ(RunProcess(TapstackBinary(), {"qr", "decode"}).exit_code, 2);
}

}  // namespace
}  // namespace tapstack::qr
