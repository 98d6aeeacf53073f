#include "emv/dol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "emv_test_util.h"
#include "support/vectors.h"

namespace tapstack::emv {
namespace {

using nlohmann::json;
using testing::Hex;
using testing::ToHex;

TagValues ValuesFromJson(const json& object) {
  TagValues values;
  for (const auto& [tag, value] : object.items()) {
    const Status status = values.SetHex(tag, value.get<std::string>());
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  return values;
}

TEST(DolVectorTest, Cdol1BuildMatchesPublishedVector) {
  const json v = tapstack::testing::VectorById(tapstack::testing::LoadVectors("emv_crypto.json"),
                                               "DOL-CDOL1-BUILD");
  const TagValues first = ValuesFromJson(v.at("sources").at(0));
  const TagValues second = ValuesFromJson(v.at("sources").at(1));
  const Bytes dol = Hex(v.at("dol").get<std::string>());
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes data, BuildDolData(dol, TagSources{&first, &second}));
  EXPECT_EQ(ToHex(data), v.at("expected_data").get<std::string>());
}

TEST(DolParseTest, ParsesTagsAndLengths) {
  EMV_ASSERT_OK_AND_ASSIGN(const std::vector<DolEntry> dol,
                           ParseDol(Hex("9F02069F03069F1A0295055F2A029A039C019F3704")));
  const std::vector<DolEntry> expected = {{0x9F02, 6}, {0x9F03, 6}, {0x9F1A, 2}, {0x95, 5},
                                          {0x5F2A, 2}, {0x9A, 3},   {0x9C, 1},   {0x9F37, 4}};
  EXPECT_EQ(dol, expected);
  EXPECT_EQ(DolDataLength(dol), 29u);
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes encoded, EncodeDol(dol));
  EXPECT_EQ(ToHex(encoded), "9F02069F03069F1A0295055F2A029A039C019F3704");
}

TEST(DolParseTest, EmptyDolIsEmpty) {
  EMV_ASSERT_OK_AND_ASSIGN(const std::vector<DolEntry> dol, ParseDol({}));
  EXPECT_TRUE(dol.empty());
}

TEST(DolParseTest, MalformedDolsAreRefusedWithOffsets) {
  const auto message = [](std::string_view hex) {
    const Bytes dol = Hex(hex);
    return ParseDol(dol).status().message();
  };
  EXPECT_EQ(message("9F02069F"), "dol offset 3: tag 9F truncated");
  EXPECT_EQ(message("9F0206DF01"), "dol offset 3: tag DF01 has no length");
  EXPECT_EQ(message("9F0280"), "dol offset 0: tag 9F02: length 80 is not a length");
  EXPECT_EQ(message("9F0283000001"), "dol offset 0: tag 9F02: length field too long");
  EXPECT_EQ(message("9F028101"), "");  // 81 xx is accepted
  EXPECT_EQ(message("0001"), "dol offset 0: 00 is not a tag");
}

TEST(DolParseTest, LimitsAreEnforced) {
  Bytes many;
  for (std::size_t i = 0; i <= kDolEntriesMax; ++i) many.insert(many.end(), {0x9C, 0x01});
  EXPECT_EQ(ParseDol(many).status().code(), ErrorCode::kOutOfRange);
  const Bytes big = Hex("DF01817FDF02817F");  // 254 bytes asked for
  const Result<std::vector<DolEntry>> result = ParseDol(big);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(result.status().message(),
            "dol offset 4: tag DF02: the DOL asks for more than 252 bytes");
}

std::string Built(std::string_view dol_hex, const TagValues& values) {
  const Bytes dol = Hex(dol_hex);
  Result<Bytes> data = BuildDolData(dol, TagSources{&values});
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return data.ok() ? ToHex(*data) : "";
}

TEST(DolBuildTest, NumericValuesAreRightAligned) {
  TagValues values;
  EMV_ASSERT_OK(values.SetHex("9F02", "1000"));
  EXPECT_EQ(Built("9F0206", values), "000000001000");  // shorter: 00 on the left
  EMV_ASSERT_OK(values.SetHex("9F02", "12345678901234"));
  EXPECT_EQ(Built("9F0206", values), "345678901234");  // longer: leftmost bytes dropped
  EMV_ASSERT_OK(values.SetHex("9A", "240217"));
  EXPECT_EQ(Built("9A02", values), "0217");
}

TEST(DolBuildTest, CompressedNumericValuesAreLeftAlignedWithFf) {
  TagValues values;
  EMV_ASSERT_OK(values.SetHex("5A", "5413330089020011"));
  EXPECT_EQ(Built("5A0A", values), "5413330089020011FFFF");
  EXPECT_EQ(Built("5A04", values), "54133300");
}

TEST(DolBuildTest, BinaryAndTextValuesAreLeftAlignedWithZeros) {
  TagValues values;
  EMV_ASSERT_OK(values.SetHex("95", "8000"));
  EMV_ASSERT_OK(values.SetHex("9F1C", "5445524D31"));            // an: "TERM1"
  EMV_ASSERT_OK(values.SetHex("50", "5649534120435245444954"));  // ans: "VISA CREDIT"
  EMV_ASSERT_OK(values.SetHex("DF01", "AABBCC"));                // unknown: b
  EXPECT_EQ(Built("9505", values), "8000000000");
  EXPECT_EQ(Built("9F1C08", values), "5445524D31000000");
  EXPECT_EQ(Built("5004", values), "56495341");
  EXPECT_EQ(Built("DF0102DF0104", values), "AABBAABBCC00");
}

TEST(DolBuildTest, ZeroLengthMissingAndConstructedEntries) {
  TagValues values;
  EMV_ASSERT_OK(values.SetHex("9C", "09"));
  EMV_ASSERT_OK(values.SetHex("70", "5A0112"));
  EXPECT_EQ(Built("9C00", values), "");            // zero length adds nothing
  EXPECT_EQ(Built("9F3704", values), "00000000");  // missing: zeros
  EXPECT_EQ(Built("7003", values), "000000");      // constructed: zeros (Book 3 5.4)
  EXPECT_EQ(Built("9F37049C019C00", values), "0000000009");
}

TEST(DolBuildTest, FirstSourceWins) {
  TagValues terminal;
  TagValues card;
  EMV_ASSERT_OK(terminal.SetHex("9F37", "11111111"));
  EMV_ASSERT_OK(card.SetHex("9F37", "22222222"));
  EMV_ASSERT_OK(card.SetHex("9F36", "0001"));
  const Bytes dol = Hex("9F37049F3602");
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes a, BuildDolData(dol, TagSources{&terminal, &card}));
  EXPECT_EQ(ToHex(a), "111111110001");
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes b, BuildDolData(dol, TagSources{&card, &terminal}));
  EXPECT_EQ(ToHex(b), "222222220001");
}

TEST(DolBuildTest, StrictModeRefusesMissingAndMisSizedValues) {
  TagValues values;
  EMV_ASSERT_OK(values.SetHex("9F02", "1000"));
  DolBuildOptions strict;
  strict.strict = true;
  const Bytes missing_dol = Hex("9F3704");
  const Result<Bytes> missing = BuildDolData(missing_dol, TagSources{&values}, strict);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "tag 9F37 (Unpredictable Number) is missing");
  const Bytes amount_dol = Hex("9F0206");
  const Result<Bytes> short_amount = BuildDolData(amount_dol, TagSources{&values}, strict);
  ASSERT_FALSE(short_amount.ok());
  EXPECT_EQ(short_amount.status().message(), "tag 9F02: expected 6 bytes, got 2");

  Bytes out = Hex("AA");
  const std::vector<DolEntry> dol = {{0x9F02, 2}, {0x9F37, 4}};
  EXPECT_FALSE(AppendDolData(dol, TagSources{&values}, out, strict).ok());
  EXPECT_EQ(ToHex(out), "AA");  // nothing appended on error
}

TEST(DolDataTest, CardSideSplitsTheData) {
  const std::vector<DolEntry> dol = {{0x9F02, 6}, {0x9C, 1}, {0x9F37, 4}, {0x9C, 1}};
  const Bytes data = Hex("0000000010000012345678FF");
  EMV_ASSERT_OK_AND_ASSIGN(const TagValues values, ParseDolData(dol, data));
  EXPECT_EQ(ToHex(*values.Get(0x9F02)), "000000001000");
  EXPECT_EQ(ToHex(*values.Get(0x9C)), "00");  // first occurrence kept
  EXPECT_EQ(ToHex(*values.Get(0x9F37)), "12345678");
  const Bytes short_data = Hex("00");
  const Result<TagValues> wrong = ParseDolData(dol, short_data);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "dol data: expected 12 bytes, got 1");
}

TEST(TagValuesTest, SetReplacesAndGetFinds) {
  TagValues values;
  EMV_ASSERT_OK(values.SetHex("9f02", "0000000010aa"));
  EXPECT_EQ(ToHex(*values.Get(0x9F02)), "0000000010AA");
  EMV_ASSERT_OK(values.Set(0x9F02, Hex("01")));
  EXPECT_EQ(values.size(), 1u);
  EXPECT_EQ(ToHex(*values.Get(0x9F02)), "01");
  EXPECT_FALSE(values.Get(0x9F03).has_value());
  EXPECT_FALSE(values.SetHex("9F", "01").ok());
  const Status bad_value = values.SetHex("9F02", "0G");
  ASSERT_FALSE(bad_value.ok());
  EXPECT_EQ(bad_value.message().rfind("tag 9F02: ", 0), 0u) << bad_value.message();
}

TEST(TagValuesTest, AddFromTreeKeepsFirstOccurrences) {
  const Bytes tlv =
      Hex("70085A01119F36020001"
          "5A0122");
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeTlv(tlv));
  TagValues values;
  EMV_ASSERT_OK(values.Set(0x9F36, Hex("FFFF")));
  EMV_ASSERT_OK(values.AddFromTree(tree));
  EXPECT_EQ(values.size(), 2u);
  EXPECT_EQ(ToHex(*values.Get(0x5A)), "11");
  EXPECT_EQ(ToHex(*values.Get(0x9F36)), "FFFF");  // already present: kept
  EXPECT_FALSE(values.Contains(0x70));            // templates are not values
}

TEST(TagSourcesTest, AddFirstTakesPriority) {
  TagValues a;
  TagValues b;
  EMV_ASSERT_OK(a.SetHex("9C", "01"));
  EMV_ASSERT_OK(b.SetHex("9C", "02"));
  TagSources sources{&a, nullptr};
  EXPECT_EQ(sources.size(), 1u);
  EXPECT_EQ(ToHex(*sources.Find(0x9C)), "01");
  sources.AddFirst(b);
  EXPECT_EQ(ToHex(*sources.Find(0x9C)), "02");
  EXPECT_FALSE(sources.Find(0x9F02).has_value());
}

}  // namespace
}  // namespace tapstack::emv
