// Every payload of tests/vectors/emv_qr.json: expected validity, expected CRC, exact round trip.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "qr/cpm.h"
#include "qr/crc16.h"
#include "qr/mpm.h"
#include "qr_test_util.h"
#include "support/vectors.h"

namespace tapstack::qr {
namespace {

using qr::testing::Describe;
using qr::testing::HasIssue;

const nlohmann::json& Doc() {
  static const nlohmann::json doc = tapstack::testing::LoadVectors("emv_qr.json");
  return doc;
}

std::string Payload(const std::string& id) {
  return tapstack::testing::VectorById(Doc(), id).at("payload").get<std::string>();
}

TEST(QrVectorsTest, FileHasBothModes) {
  std::size_t mpm = 0;
  std::size_t cpm = 0;
  for (const auto& v : Doc().at("vectors")) (v.at("mode") == "mpm" ? mpm : cpm)++;
  EXPECT_GE(mpm, 7u);
  EXPECT_GE(cpm, 2u);
}

TEST(QrVectorsTest, EveryMpmPayloadHasItsExpectedValidityCrcAndRoundTrip) {
  for (const auto& v : Doc().at("vectors")) {
    if (v.at("mode") != "mpm") continue;
    const std::string id = v.at("id");
    const std::string payload = v.at("payload");
    const bool expected_valid = v.at("valid");
    SCOPED_TRACE("vector " + id);
    const MpmDecoded decoded = DecodeMpm(payload);
    EXPECT_EQ(decoded.valid(), expected_valid) << "errors:\n" << Describe(decoded.errors, "id");
    EXPECT_FALSE(decoded.objects.empty());  // the tree is there even for invalid payloads
    if (v.contains("crc")) {
      const std::string crc = v.at("crc");
      ASSERT_TRUE(decoded.crc_computed.has_value());
      EXPECT_EQ(FormatCrc16(*decoded.crc_computed), crc);
      EXPECT_EQ(payload.substr(payload.size() - 4), crc);
    }
    if (expected_valid) {
      auto encoded = EncodeMpm(decoded.objects);
      ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
      EXPECT_EQ(*encoded, payload);
    }
  }
}

TEST(QrVectorsTest, EveryCpmPayloadHasItsExpectedValidityAndRoundTrip) {
  for (const auto& v : Doc().at("vectors")) {
    if (v.at("mode") != "cpm") continue;
    const std::string id = v.at("id");
    const std::string payload = v.at("payload_base64");
    const bool expected_valid = v.at("valid");
    SCOPED_TRACE("vector " + id);
    const CpmDecoded decoded = DecodeCpm(payload);
    EXPECT_EQ(decoded.valid(), expected_valid) << "errors:\n" << Describe(decoded.errors, "tag");
    EXPECT_FALSE(decoded.objects.empty());
    EXPECT_EQ(payload.rfind(kCpmBase64Prefix, 0), 0u);
    if (expected_valid) {
      auto encoded = EncodeCpm(decoded.objects);
      ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
      EXPECT_EQ(*encoded, payload);
    }
  }
}

TEST(QrVectorsTest, M1TreeCountsCharactersAndNestsTemplates) {
  const MpmDecoded m1 = DecodeMpm(Payload("M1"));
  ASSERT_TRUE(m1.valid()) << Describe(m1.errors, "id");
  const MpmObject* language = m1.Find("64");
  ASSERT_NE(language, nullptr);
  EXPECT_TRUE(language->is_template);
  EXPECT_EQ(language->name, "Merchant Information - Language Template");
  EXPECT_EQ(language->length(), 20u);
  const MpmObject* name = language->Find("01");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->value, "最佳运输");
  EXPECT_EQ(name->length(), 4u);  // 12 UTF-8 bytes
  const MpmObject* additional = m1.Find("62");
  ASSERT_NE(additional, nullptr);
  ASSERT_NE(additional->Find("06"), nullptr);
  EXPECT_EQ(additional->Find("06")->value, "***");  // "the app prompts the user"
  EXPECT_EQ(m1.Find("54")->value, "23.72");
  EXPECT_EQ(m1.Find("91")->children.size(), 2u);
  EXPECT_EQ(m1.objects.front().id, "00");
  EXPECT_EQ(m1.objects.back().id, "63");
}

TEST(QrVectorsTest, M8PrimitiveUnionPayAccountIsNotATemplate) {
  const MpmDecoded m8 = DecodeMpm(Payload("M8"));
  ASSERT_TRUE(m8.valid()) << Describe(m8.errors, "id");
  const MpmObject* unionpay = m8.Find("15");
  ASSERT_NE(unionpay, nullptr);
  EXPECT_FALSE(unionpay->is_template);
  EXPECT_EQ(unionpay->name, "Merchant Account Information (UnionPay)");
  EXPECT_EQ(unionpay->value, "37210116372101160123456789ABCDE");
}

TEST(QrVectorsTest, Z2CrcWithZeroHighByteKeepsFourDigits) {
  const MpmDecoded z2 = DecodeMpm(Payload("Z2"));
  ASSERT_TRUE(z2.valid()) << Describe(z2.errors, "id");
  EXPECT_EQ(FormatCrc16(*z2.crc_computed), "00C0");
}

TEST(QrVectorsTest, N1TamperedAmountIsACrcMismatch) {
  const MpmDecoded n1 = DecodeMpm(Payload("N1"));
  EXPECT_TRUE(HasIssue(n1.errors, "id", {"id 63", "CRC mismatch", "A13A"}))
      << Describe(n1.errors, "id");
  EXPECT_EQ(n1.errors.size(), 1u) << Describe(n1.errors, "id");
  EXPECT_EQ(n1.Find("54")->value, "23.73");
}

TEST(QrVectorsTest, N6ThreeCharacterCrcIsReported) {
  const MpmDecoded n6 = DecodeMpm(Payload("N6"));
  EXPECT_TRUE(HasIssue(n6.errors, "id", {"id 63", "CRC object length 03; expected 04"}))
      << Describe(n6.errors, "id");
}

TEST(QrVectorsTest, C2HasTwoApplicationTemplatesAndCommonData) {
  const CpmDecoded c2 =
      DecodeCpm(tapstack::testing::VectorById(Doc(), "C2").at("payload_base64").get<std::string>());
  ASSERT_TRUE(c2.valid()) << Describe(c2.errors, "tag");
  std::size_t applications = 0;
  for (const CpmObject& o : c2.objects) applications += o.tag == 0x61 ? 1 : 0;
  EXPECT_EQ(applications, 2u);
  const CpmObject* common = c2.Find(0x62);
  ASSERT_NE(common, nullptr);
  ASSERT_NE(common->Find(0x5F20), nullptr);
  EXPECT_EQ(std::string(common->Find(0x5F20)->value.begin(), common->Find(0x5F20)->value.end()),
            "CARDHOLDER/EMV");
  const CpmObject* transparent = common->Find(0x64);
  ASSERT_NE(transparent, nullptr);
  ASSERT_NE(transparent->Find(0x9F26), nullptr);
  EXPECT_EQ(transparent->Find(0x9F26)->value.size(), 8u);
}

}  // namespace
}  // namespace tapstack::qr
