// MPM decoding into a tree and encoding back (structure, offsets, CRC placement).
#include "qr/mpm.h"

#include <gtest/gtest.h>

#include <string>

#include "qr/crc16.h"
#include "qr_test_util.h"

namespace tapstack::qr {
namespace {

using qr::testing::Describe;
using qr::testing::HasIssue;
using qr::testing::WithCrc;

const MpmEncodeOptions kNoValidation = [] {
  MpmEncodeOptions options;
  options.validate = false;
  return options;
}();

// A minimal valid dynamic payload body (everything but the CRC object).
constexpr std::string_view kBody =
    "000201010212"
    "29300012D156000000000510A93FO3230Q"
    "52044111"
    "5303156"
    "540523.72"
    "5802CN"
    "5914BEST TRANSPORT"
    "6007BEIJING";

TEST(MpmDecodeTest, MinimalPayloadIsValidAndRoundTrips) {
  const std::string payload = WithCrc(kBody);
  const MpmDecoded decoded = DecodeMpm(payload);
  ASSERT_TRUE(decoded.valid()) << Describe(decoded.errors, "id");
  EXPECT_TRUE(decoded.warnings.empty()) << Describe(decoded.warnings, "id");
  EXPECT_TRUE(decoded.status().ok());
  ASSERT_EQ(decoded.objects.size(), 10u);
  EXPECT_EQ(decoded.objects[0].name, "Payload Format Indicator");
  EXPECT_EQ(decoded.objects[1].name, "Point of Initiation Method");
  const MpmObject& account = decoded.objects[2];
  EXPECT_EQ(account.id, "29");
  EXPECT_TRUE(account.is_template);
  ASSERT_EQ(account.children.size(), 2u);
  EXPECT_EQ(account.children[0].name, "Globally Unique Identifier");
  EXPECT_EQ(account.children[0].value, "D15600000000");
  EXPECT_EQ(account.children[0].offset, 16u);  // 12 + "2930"
  EXPECT_EQ(account.children[1].name, "Payment Network Specific");
  auto encoded = EncodeMpm(decoded.objects);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(*encoded, payload);
}

TEST(MpmDecodeTest, OffsetsCountCharacters) {
  const std::string payload =
      WithCrc(std::string(kBody) + "64200002ZH0104最佳运输0202北京" + "6106100000");
  const MpmDecoded decoded = DecodeMpm(payload);
  ASSERT_TRUE(decoded.valid()) << Describe(decoded.errors, "id");
  const MpmObject* postal = decoded.Find("61");
  ASSERT_NE(postal, nullptr);
  // Offset in characters: kBody, then 64 + 20 characters, although 64's value is 28 bytes.
  EXPECT_EQ(postal->offset, kBody.size() + 24);
  EXPECT_EQ(decoded.Find("64")->Find("02")->length(), 2u);
}

TEST(MpmDecodeTest, LowerCaseCrcIsAcceptedAndReEncodedUpperCase) {
  std::string payload = WithCrc(kBody);
  std::string lower = payload;
  for (std::size_t i = lower.size() - 4; i < lower.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i])));
  }
  if (lower == payload) GTEST_SKIP() << "CRC has no letters for this body";
  const MpmDecoded decoded = DecodeMpm(lower);
  ASSERT_TRUE(decoded.valid()) << Describe(decoded.errors, "id");
  EXPECT_EQ(*EncodeMpm(decoded.objects), payload);
}

TEST(MpmDecodeTest, TemplatesNestTwoLevelsInsideAdditionalData) {
  const std::string payload = WithCrc(std::string(kBody) +
                                      "6226"
                                      "0503ABC"
                                      "5015"
                                      "0004com1"
                                      "0103xyz");
  const MpmDecoded decoded = DecodeMpm(payload);
  ASSERT_TRUE(decoded.valid()) << Describe(decoded.errors, "id");
  const MpmObject* system = decoded.Find("62")->Find("50");
  ASSERT_NE(system, nullptr);
  EXPECT_TRUE(system->is_template);
  EXPECT_EQ(system->name, "Payment System Specific Template");
  ASSERT_EQ(system->children.size(), 2u);
  EXPECT_EQ(system->children[1].value, "xyz");
  EXPECT_EQ(*EncodeMpm(decoded.objects), payload);
}

TEST(MpmDecodeTest, RfuObjectsAreKeptAndIgnored) {
  const std::string payload = WithCrc(std::string(kBody) + "6505hello");
  const MpmDecoded decoded = DecodeMpm(payload);
  ASSERT_TRUE(decoded.valid()) << Describe(decoded.errors, "id");
  ASSERT_NE(decoded.Find("65"), nullptr);
  EXPECT_FALSE(decoded.Find("65")->is_template);
  EXPECT_EQ(decoded.Find("65")->name, "RFU for EMVCo");
}

TEST(MpmDecodeTest, AnyOrderOfMiddleObjectsIsAccepted) {
  // JPQR-style: 60 before 01.
  const std::string payload = WithCrc(
      "000201"
      "6007BEIJING"
      "010211"
      "29300012D156000000000510A93FO3230Q"
      "5802CN"
      "5303156"
      "52044111"
      "5914BEST TRANSPORT");
  const MpmDecoded decoded = DecodeMpm(payload);
  EXPECT_TRUE(decoded.valid()) << Describe(decoded.errors, "id");
  EXPECT_EQ(*EncodeMpm(decoded.objects), payload);
}

TEST(MpmDecodeTest, StructuralErrorKeepsWhatWasParsed) {
  const std::string payload = std::string(kBody) + "59XXoops";
  const MpmDecoded decoded = DecodeMpm(payload);
  EXPECT_FALSE(decoded.valid());
  EXPECT_EQ(decoded.objects.size(), 9u);
  EXPECT_TRUE(HasIssue(decoded.errors, "id",
                       {"id 59 at offset " + std::to_string(kBody.size()), "2-digit length"}))
      << Describe(decoded.errors, "id");
}

TEST(MpmDecodeTest, EmptyAndOversizedInput) {
  EXPECT_TRUE(HasIssue(DecodeMpm("").errors, "id", {"empty"}));
  const std::string huge(kMpmPayloadBytesMax + 1, '0');
  const MpmDecoded decoded = DecodeMpm(huge);
  EXPECT_TRUE(decoded.objects.empty());
  EXPECT_TRUE(HasIssue(decoded.errors, "id", {"bytes"})) << Describe(decoded.errors, "id");
}

TEST(MpmEncodeTest, BuildsFromObjectsWithCrcLast) {
  const std::vector<MpmObject> objects = {
      MpmObject::Primitive("00", "01"),
      MpmObject::Primitive("01", "11"),
      MpmObject::Primitive("63", "ZZZZ"),  // dropped and recomputed
      MpmObject::Primitive("15", "37210116372101160123456789ABCDE"),
      MpmObject::Primitive("52", "5812"),
      MpmObject::Primitive("53", "840"),
      MpmObject::Primitive("58", "US"),
      MpmObject::Primitive("59", "Café Ünïcode"),
      MpmObject::Primitive("60", "北京"),
      MpmObject::Template("62", {MpmObject::Primitive("05", "***")}),
  };
  auto encoded = EncodeMpm(objects);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_NE(encoded->find("5912Café Ünïcode"), std::string::npos);  // 12 characters, 15 bytes
  EXPECT_NE(encoded->find("6002北京"), std::string::npos);
  EXPECT_NE(encoded->find("62070503***"), std::string::npos);
  EXPECT_EQ(encoded->substr(encoded->size() - 8, 4), "6304");
  const std::string crc = encoded->substr(encoded->size() - 4);
  EXPECT_EQ(crc, FormatCrc16(Crc16CcittFalse(encoded->substr(0, encoded->size() - 4))));
  EXPECT_TRUE(DecodeMpm(*encoded).valid());
}

TEST(MpmEncodeTest, RejectsUnencodableObjects) {
  EXPECT_FALSE(EncodeMpm({{MpmObject::Primitive("5", "x")}}, kNoValidation).ok());
  EXPECT_FALSE(EncodeMpm({{MpmObject::Primitive("AB", "x")}}, kNoValidation).ok());
  EXPECT_FALSE(EncodeMpm({{MpmObject::Primitive("59", "")}}, kNoValidation).ok());
  EXPECT_FALSE(
      EncodeMpm({{MpmObject::Primitive("59", std::string(100, 'x'))}}, kNoValidation).ok());
  EXPECT_TRUE(EncodeMpm({{MpmObject::Primitive("59", std::string(99, 'x'))}}, kNoValidation).ok());
  EXPECT_FALSE(EncodeMpm({{MpmObject::Primitive("59", "bad \xFF")}}, kNoValidation).ok());
  // 99 characters of 3-byte text is 297 bytes and still encodable.
  std::string wide;
  for (int i = 0; i < 99; ++i) wide += "京";
  auto ok = EncodeMpm({{MpmObject::Primitive("59", wide)}}, kNoValidation);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->substr(0, 4), "5999");
  // Three levels of templates are not an MPM structure.
  const MpmObject deep = MpmObject::Template(
      "62",
      {MpmObject::Template("50", {MpmObject::Template("01", {MpmObject::Primitive("00", "x")})})});
  EXPECT_FALSE(EncodeMpm({{deep}}, kNoValidation).ok());
}

TEST(MpmEncodeTest, ValidatesByDefault) {
  auto encoded = EncodeMpm({{MpmObject::Primitive("00", "01")}});
  ASSERT_FALSE(encoded.ok());
  EXPECT_NE(encoded.status().message().find("missing"), std::string::npos)
      << encoded.status().message();
  EXPECT_TRUE(EncodeMpm({{MpmObject::Primitive("00", "01")}}, kNoValidation).ok());
}

}  // namespace
}  // namespace tapstack::qr
