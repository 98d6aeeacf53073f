// Consumer-presented mode: BER-TLV subset, decoding, validation rules, encoding.
#include "qr/cpm.h"

#include <gtest/gtest.h>

#include <string>

#include "core/hex.h"
#include "qr/base64.h"
#include "qr/ber_tlv.h"
#include "qr_test_util.h"

namespace tapstack::qr {
namespace {

using qr::testing::Describe;
using qr::testing::HasIssue;

Bytes Hex(std::string_view hex) { return HexDecode(hex).value(); }

CpmObject Application(std::vector<CpmObject> extra = {}) {
  std::vector<CpmObject> children = {
      CpmObject::Primitive(0x4F, Hex("A0000000555555")),
      CpmObject::Primitive(0x57, Hex("1234567890123458D191220112345F"))};
  for (auto& o : extra) children.push_back(std::move(o));
  return CpmObject::Template(0x61, std::move(children));
}

void ExpectError(const std::string& tlv_hex, std::initializer_list<std::string_view> needles) {
  const CpmDecoded decoded = DecodeCpmBytes(Hex(tlv_hex));
  EXPECT_FALSE(decoded.valid()) << tlv_hex;
  EXPECT_TRUE(HasIssue(decoded.errors, "tag", needles)) << tlv_hex << "\nerrors:\n"
                                                        << Describe(decoded.errors, "tag");
}

void ExpectValid(const std::string& tlv_hex) {
  const CpmDecoded decoded = DecodeCpmBytes(Hex(tlv_hex));
  EXPECT_TRUE(decoded.valid()) << tlv_hex << "\n" << Describe(decoded.errors, "tag");
}

// 85 05 "CPV01"
constexpr std::string_view kFormat = "85054350563031";
// 61 1A 4F07 A0000000555555 570F 1234567890123458D191220112345F (EMVCo CPM v1.0 Annex B.1)
constexpr std::string_view kApplication =
    "611A4F07A0000000555555570F1234567890123458D191220112345F";

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}

TEST(CpmBerTlvTest, TagShapes) {
  EXPECT_TRUE(CheckTag(0x61).ok());
  EXPECT_TRUE(CheckTag(0x9F26).ok());
  EXPECT_TRUE(CheckTag(0x5F20).ok());
  EXPECT_TRUE(CheckTag(0xDF8101).ok());
  EXPECT_FALSE(CheckTag(0).ok());
  EXPECT_FALSE(CheckTag(0x9F).ok());        // subsequent byte missing
  EXPECT_FALSE(CheckTag(0x6126).ok());      // 61 ends the tag
  EXPECT_FALSE(CheckTag(0x9F81).ok());      // last byte has bit 8 set
  EXPECT_FALSE(CheckTag(0x9F2601).ok());    // 26 ends the tag
  EXPECT_FALSE(CheckTag(0x9F818101).ok());  // four bytes
  EXPECT_FALSE(CheckTag(0xFF).ok());
  EXPECT_TRUE(IsConstructedTag(0x61));
  EXPECT_TRUE(IsConstructedTag(0x63));
  EXPECT_FALSE(IsConstructedTag(0x9F26));
  EXPECT_FALSE(IsConstructedTag(0x85));
  EXPECT_EQ(TagHex(0x5F2D), "5F2D");
}

TEST(CpmBerTlvTest, LengthFormsAreMinimal) {
  for (const auto& [length, header] :
       std::vector<std::pair<std::size_t, std::string>>{{0, "5000"},
                                                        {127, "507F"},
                                                        {128, "508180"},
                                                        {255, "5081FF"},
                                                        {256, "50820100"},
                                                        {65535, "5082FFFF"}}) {
    Bytes out;
    ASSERT_TRUE(AppendBerHeader(0x50, length, out).ok());
    EXPECT_EQ(HexEncode(out), header);
    Bytes data = out;
    data.resize(data.size() + length);
    auto read = ReadBerHeader(data, 0);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->tag, 0x50u);
    EXPECT_EQ(read->length, length);
    EXPECT_EQ(read->header_bytes, out.size());
  }
  Bytes out;
  EXPECT_FALSE(AppendBerHeader(0x50, 65536, out).ok());
  EXPECT_FALSE(AppendBerHeader(0x9F, 1, out).ok());
}

TEST(CpmBerTlvTest, MalformedHeaders) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "end of the data"},
      {"00", "padding byte 00"},
      {"FF", "padding byte FF"},
      {"9F", "tag is truncated"},
      {"9F818101", "longer than 3 bytes"},
      {"50", "length is missing"},
      {"5080", "indefinite length"},
      {"508305000000", "at most 82"},
      {"508105"
       "0102030405",
       "shortest form"},
      {"50820050" + std::string(160, '0'), "shortest form"},
      {"5081", "length is truncated"},
      {"5003AABB", "runs past the end"},
  };
  for (const auto& [hex, needle] : cases) {
    auto read = ReadBerHeader(Hex(hex), 0);
    ASSERT_FALSE(read.ok()) << hex;
    EXPECT_NE(read.status().message().find(needle), std::string::npos)
        << hex << ": " << read.status().message();
  }
}

TEST(CpmTest, BuildsEmvcoAnnexB1FromObjects) {
  auto encoded = EncodeCpm({{CpmObject::Text(0x85, "CPV01"), Application()}});
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(*encoded, "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=");
  EXPECT_EQ(HexEncode(*EncodeCpmBytes({{CpmObject::Text(0x85, "CPV01"), Application()}})),
            Cat({kFormat, kApplication}));
}

TEST(CpmTest, DecodesNamesAndOffsets) {
  const CpmDecoded decoded = DecodeCpmBytes(Hex(Cat({kFormat, kApplication})));
  ASSERT_TRUE(decoded.valid()) << Describe(decoded.errors, "tag");
  ASSERT_EQ(decoded.objects.size(), 2u);
  EXPECT_EQ(decoded.objects[0].name, "Payload Format Indicator");
  const CpmObject& app = decoded.objects[1];
  EXPECT_EQ(app.offset, 7u);
  EXPECT_TRUE(app.constructed());
  ASSERT_EQ(app.children.size(), 2u);
  EXPECT_EQ(app.children[0].name, "Application Definition File (ADF) Name");
  EXPECT_EQ(app.children[0].offset, 9u);
  EXPECT_EQ(app.children[1].name, "Track 2 Equivalent Data");
  EXPECT_EQ(app.children[1].offset, 18u);
}

TEST(CpmTest, TransparentTemplateAndUnknownTagsAreKept) {
  const std::vector<CpmObject> objects = {
      CpmObject::Text(0x85, "CPV01"),
      Application({CpmObject::Primitive(0x9F7C, Hex("0102")),  // unknown: kept, ignored
                   CpmObject::Template(0x63, {CpmObject::Primitive(0x9F26, Hex("1122334455667788")),
                                              CpmObject::Primitive(0x9F27, Hex("80")),
                                              CpmObject::Primitive(0x9F36, Hex("0001")),
                                              CpmObject::Primitive(0x9F37, Hex("6D58EF13"))})}),
      CpmObject::Template(0xBF0C, {CpmObject::Primitive(0xDF01, Hex("00"))}),
  };
  auto tlv = EncodeCpmBytes(objects);
  ASSERT_TRUE(tlv.ok()) << tlv.status().ToString();
  const CpmDecoded decoded = DecodeCpmBytes(*tlv);
  ASSERT_TRUE(decoded.valid()) << Describe(decoded.errors, "tag");
  const CpmObject* transparent = decoded.Find(0x61)->Find(0x63);
  ASSERT_NE(transparent, nullptr);
  EXPECT_EQ(transparent->children.size(), 4u);
  EXPECT_EQ(*EncodeCpmBytes(decoded.objects), *tlv);
}

TEST(CpmTest, PayloadFormatIndicatorFirstAndCpv01) {
  ExpectError(Cat({kApplication, kFormat}), {"tag 61 at offset 0", "must start with tag 85"});
  ExpectError(Cat({"85054350563032", kApplication}), {"tag 85", "expected \"CPV01\""});
  ExpectError(Cat({"850443505630", kApplication}), {"tag 85", "expected \"CPV01\""});
  ExpectError(Cat({kFormat, kFormat, kApplication}), {"tag 85", "duplicate tag 85"});
}

TEST(CpmTest, ApplicationTemplateRules) {
  ExpectError(std::string(kFormat), {"missing application template 61"});
  ExpectError(Cat({kFormat, "6111570F1234567890123458D191220112345F"}), {"tag 61", "without 4F"});
  ExpectError(Cat({kFormat, "61094F07A0000000555555"}), {"tag 61", "neither 57", "nor 5A"});
  ExpectValid(Cat({kFormat, "61094F07A0000000555555", "620A5A081234567890123458"}));
  ExpectValid(Cat({kFormat, "61134F07A00000005555555A081234567890123458"}));
  ExpectError(Cat({kFormat, "620A5A081234567890123458", kApplication}),
              {"tag 61", "after the common data template"});
  ExpectError(Cat({kFormat, kApplication, "620A5A081234567890123458", "620A5A081234567890123458"}),
              {"tag 62", "duplicate tag 62"});
  ExpectError(Cat({kFormat,
                   "61234F07A0000000555555"
                   "4F07A0000000666666"
                   "570F1234567890123458D191220112345F"}),
              {"tag 61.4F", "duplicate tag 4F"});
}

TEST(CpmTest, KnownTagLengths) {
  ExpectValid(Cat({kFormat, "61184F05A000000055570F1234567890123458D191220112345F"}));
  ExpectError(Cat({kFormat, "61174F04A0000000570F1234567890123458D191220112345F"}),
              {"tag 61.4F", "4 byte(s); expected 5-16"});
  ExpectError(Cat({kFormat, "6126", kApplication.substr(4), "630A9F260711223344556677"}),
              {"tag 61.63.9F26", "7 byte(s); expected 8"});
}

TEST(CpmTest, StructuralErrorsKeepWhatWasParsed) {
  const CpmDecoded decoded = DecodeCpmBytes(Hex(Cat({kFormat, "611A4F07A000"})));
  EXPECT_FALSE(decoded.valid());
  EXPECT_EQ(decoded.objects.size(), 1u);
  EXPECT_TRUE(HasIssue(decoded.errors, "tag", {"offset 7", "runs past the end"}))
      << Describe(decoded.errors, "tag");
  ExpectError(Cat({kFormat, kApplication, "00"}), {"padding byte 00"});
  ExpectError("", {"no data objects"});
}

TEST(CpmTest, NestingIsLimited) {
  // 61 -> 63 -> 63 -> 63 -> 63 -> 9F26: five constructed levels.
  std::string inner =
      "9F2608"
      "1122334455667788";
  for (int i = 0; i < 4; ++i) inner = "63" + HexEncode(UintToBytes(inner.size() / 2, 1)) + inner;
  const std::string app =
      "4F07A0000000555555"
      "570F1234567890123458D191220112345F" +
      inner;
  ExpectError(Cat({kFormat, "61", HexEncode(UintToBytes(app.size() / 2, 1)), app}),
              {"nest deeper than 4"});
}

TEST(CpmTest, Base64LayerIsStrict) {
  const std::string good = "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=";
  EXPECT_TRUE(DecodeCpm(good).valid());
  EXPECT_TRUE(HasIssue(DecodeCpm(good + "\n").errors, "tag", {"base64"}));
  EXPECT_TRUE(HasIssue(DecodeCpm(good.substr(0, good.size() - 1)).errors, "tag", {"base64"}));
  EXPECT_TRUE(HasIssue(DecodeCpm("").errors, "tag", {"no data objects"}));
}

TEST(CpmTest, SizeLimit) {
  const Bytes big(kCpmPayloadBytesMax + 1, 0x50);
  EXPECT_TRUE(HasIssue(DecodeCpmBytes(big).errors, "tag", {"at most 2048"}));
  CpmEncodeOptions no_validation;
  no_validation.validate = false;
  EXPECT_FALSE(
      EncodeCpmBytes({{CpmObject::Primitive(0x50, Bytes(kCpmPayloadBytesMax, 0))}}, no_validation)
          .ok());
}

TEST(CpmTest, EncodeRejectsMalformedTrees) {
  CpmEncodeOptions no_validation;
  no_validation.validate = false;
  EXPECT_FALSE(EncodeCpmBytes({{CpmObject::Primitive(0x9F, Hex("00"))}}, no_validation).ok());
  EXPECT_FALSE(
      EncodeCpmBytes({{CpmObject::Template(0x9F26, {CpmObject::Primitive(0x50, Hex("41"))})}},
                     no_validation)
          .ok());
  auto invalid = EncodeCpmBytes({{Application()}});  // validates by default: 85 missing
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.status().message().find("tag 85"), std::string::npos)
      << invalid.status().message();
}

}  // namespace
}  // namespace tapstack::qr
