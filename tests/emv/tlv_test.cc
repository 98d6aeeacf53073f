#include "emv/tlv.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "emv_test_util.h"

namespace tapstack::emv {
namespace {

using testing::Hex;
using testing::ToHex;

// A PPSE FCI: 6F { 84 "2PAY.SYS.DDF01", A5 { BF0C { 61 { 4F A0000000031010, 87 01 } } } }.
constexpr std::string_view kPpseFci =
    "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A0000000031010870101";

// A DE55-style blob of 17 tags (120 bytes) as a terminal sends it to the acquirer.
constexpr std::string_view kDe55 =
    "9F2608CD29615D6452E70E"
    "9F270180"
    "9F10120114A00003220000000000000000000000FF"
    "9F3704ABCDEF12"
    "9F3602001C"
    "95058000000000"
    "9A03209906"
    "9C0100"
    "9F0206000000009999"
    "5F2A020124"
    "9F1A020124"
    "82021800"
    "9F0306000000000000"
    "9F3303E0F8C8"
    "9F34031E0300"
    "9F350122"
    "8407A0000000041010";

// Decoded trees view their input, so the fixture keeps every input alive for the test's duration.
class TlvFixture : public ::testing::Test {
 protected:
  Result<TlvTree> Decode(Bytes input, const TlvDecodeOptions& options = {}) {
    inputs_.push_back(std::make_unique<Bytes>(std::move(input)));
    return DecodeTlv(*inputs_.back(), options);
  }
  Result<TlvTree> DecodeHex(std::string_view hex, const TlvDecodeOptions& options = {}) {
    return Decode(Hex(hex), options);
  }

 private:
  std::vector<std::unique_ptr<Bytes>> inputs_;
};
class TlvDecodeTest : public TlvFixture {};
class TlvFindTest : public TlvFixture {};

void ExpectReencodesExactly(const Bytes& input) {
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeTlv(input));
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes again, EncodeTlvTree(tree));
  EXPECT_EQ(ToHex(again), ToHex(input));
}

TEST_F(TlvDecodeTest, PrimitiveObject) {
  const Bytes in = Hex("9F0206000000001000");
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeTlv(in));
  ASSERT_EQ(tree.size(), 1u);
  const TlvNode& node = tree.nodes()[0];
  EXPECT_EQ(node.tag, 0x9F02u);
  EXPECT_EQ(node.tag_bytes, 2);
  EXPECT_EQ(node.length_bytes, 1);
  EXPECT_FALSE(node.constructed);
  EXPECT_EQ(node.depth, 0);
  EXPECT_EQ(node.offset, 0u);
  EXPECT_EQ(ToHex(node.value), "000000001000");
  EXPECT_EQ(node.value.data(), in.data() + 3);  // a view, not a copy
}

TEST_F(TlvDecodeTest, ThreeAndFourByteTagsAreDecoded) {
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeHex("DF810102ABCD9F81820301EE"));
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree.nodes()[0].tag, 0xDF8101u);
  EXPECT_EQ(tree.nodes()[0].tag_bytes, 3);
  EXPECT_EQ(tree.nodes()[1].tag, 0x9F818203u);
  EXPECT_EQ(tree.nodes()[1].tag_bytes, 4);
  EXPECT_EQ(ToHex(tree.nodes()[1].value), "EE");
}

TEST_F(TlvDecodeTest, TagLongerThanFourBytesIsRefused) {
  const Result<TlvTree> tree = DecodeHex("9F8182830401EE");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tree.status().message(), "tlv offset 0: tag longer than 4 bytes");
}

TEST_F(TlvDecodeTest, LongFormLengthsAreDecodedAndKept) {
  // 81 03 is a non-minimal form of length 3: accepted and kept on re-encode.
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeHex("9F108103AABBCC"));
  EXPECT_EQ(tree.nodes()[0].length_bytes, 2);
  EXPECT_EQ(ToHex(tree.nodes()[0].value), "AABBCC");
  ExpectReencodesExactly(Hex("9F108103AABBCC"));

  // A template of 304 bytes (length field 82 01 30): 101 objects 5A 01 12 and one padding byte.
  Bytes children;
  while (children.size() + 3 <= 0x130) {
    children.insert(children.end(), {0x5A, 0x01, 0x12});
  }
  children.resize(0x130, 0x00);  // trailing padding inside the template
  Bytes in = Hex("70820130");
  in.insert(in.end(), children.begin(), children.end());
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree t2, DecodeTlv(in));
  EXPECT_EQ(t2.nodes()[0].length_bytes, 3);
  EXPECT_EQ(t2.nodes()[0].value.size(), 0x130u);
  EXPECT_EQ(t2.size(), 1u + 0x130 / 3);
  ExpectReencodesExactly(in);
}

TEST_F(TlvDecodeTest, LengthFieldOf83OrMoreIsRefused) {
  const Result<TlvTree> tree = DecodeHex("9F1083000003AABBCC");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(tree.status().message(), "tlv offset 0: tag 9F10: length field 83 longer than 3 bytes");
}

TEST_F(TlvDecodeTest, IndefiniteLengthIsRefused) {
  const Result<TlvTree> tree = DecodeHex("70805A01120000");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().message(),
            "tlv offset 0: tag 70: indefinite length (80) is not allowed in EMV");
}

TEST_F(TlvDecodeTest, TruncatedTagIsRefusedWithOffset) {
  const Result<TlvTree> tree = DecodeHex("5A01129F");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().message(), "tlv offset 3: tag 9F truncated at the end of the input");
}

TEST_F(TlvDecodeTest, MissingAndTruncatedLengthAreRefused) {
  Result<TlvTree> tree = DecodeHex("9F02");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().message(),
            "tlv offset 0: tag 9F02: length field missing at the end of the input");
  tree = DecodeHex("9F0282");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().message(),
            "tlv offset 0: tag 9F02: length field 82 truncated at the end of the input");
  tree = DecodeHex("9F028201");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().message(),
            "tlv offset 0: tag 9F02: length field 8201 truncated at the end of the input");
}

TEST_F(TlvDecodeTest, ValueOverrunningTheInputIsRefused) {
  const Result<TlvTree> tree = DecodeHex("9F02060000");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tree.status().message(),
            "tlv offset 0: tag 9F02: value of 6 bytes overruns the input by 4 bytes");
}

TEST_F(TlvDecodeTest, ValueOverrunningItsParentIsRefused) {
  // 70 holds 4 bytes, but its child 9F02 claims 6; the bytes after the template do not count.
  const Result<TlvTree> tree = DecodeHex("70049F020600000000000000");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().message(),
            "tlv offset 2: tag 9F02: value of 6 bytes overruns its parent by 5 bytes");
}

TEST_F(TlvDecodeTest, TruncationInsideATemplateNamesTheTemplate) {
  const Result<TlvTree> tree = DecodeHex("70045A01119F5A0111");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().message(),
            "tlv offset 5: tag 9F truncated inside template 70 at offset 0");
}

// n templates 70 nested inside each other around 5A 01 11.
Bytes Nested(std::size_t n) {
  Bytes inner = Hex("5A0111");
  for (std::size_t i = 0; i < n; ++i) {
    Bytes outer = {0x70, static_cast<std::uint8_t>(inner.size())};
    outer.insert(outer.end(), inner.begin(), inner.end());
    inner = outer;
  }
  return inner;
}

TEST_F(TlvDecodeTest, NestingUpToTheLimitIsAccepted) {
  // kTlvDepthMax - 1 templates put the innermost 5A at depth kTlvDepthMax - 1.
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, Decode(Nested(kTlvDepthMax - 1)));
  EXPECT_EQ(tree.nodes().back().depth, kTlvDepthMax - 1);
  EXPECT_EQ(tree.nodes().back().tag, 0x5Au);
}

TEST_F(TlvDecodeTest, NestingDeeperThanTheLimitIsRefused) {
  const Result<TlvTree> tree = Decode(Nested(kTlvDepthMax));
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(tree.status().message(), "tlv offset 16: nesting deeper than tlv_depth_max (8)");

  TlvDecodeOptions shallow;
  shallow.depth_max = 2;
  EXPECT_TRUE(Decode(Nested(1), shallow).ok());
  EXPECT_FALSE(Decode(Nested(2), shallow).ok());
}

TEST_F(TlvDecodeTest, ConstructedTemplatesFormATree) {
  const Bytes in = Hex(kPpseFci);
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeTlv(in));
  ASSERT_EQ(tree.size(), 7u);
  const TlvNode& fci = tree.nodes()[0];
  EXPECT_EQ(fci.tag, 0x6Fu);
  EXPECT_TRUE(fci.constructed);
  std::string child_tags;
  for (const TlvNode& child : tree.children(fci)) child_tags += TlvTagHex(child.tag) + " ";
  EXPECT_EQ(child_tags, "84 A5 ");
  const TlvNode* aid = tree.Find(0x4F);
  ASSERT_NE(aid, nullptr);
  EXPECT_EQ(ToHex(aid->value), "A0000000031010");
  EXPECT_EQ(aid->depth, 4);
  EXPECT_EQ(tree.nodes()[aid->parent].tag, 0x61u);
  const TlvNode* bf0c = tree.Find(0xBF0C);
  ASSERT_NE(bf0c, nullptr);
  EXPECT_TRUE(bf0c->constructed);
  EXPECT_EQ(bf0c->tag_bytes, 2);
  EXPECT_EQ(std::string(tree.Find(0x84)->value.begin(), tree.Find(0x84)->value.end()),
            "2PAY.SYS.DDF01");
  ExpectReencodesExactly(in);
}

TEST_F(TlvDecodeTest, UnknownTagsAreKept) {
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeHex("DF0102123470049F7F0100"));
  ASSERT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree.nodes()[0].tag, 0xDF01u);
  EXPECT_EQ(tree.nodes()[2].tag, 0x9F7Fu);
  ExpectReencodesExactly(Hex("DF0102123470049F7F0100"));
}

TEST_F(TlvDecodeTest, PaddingBetweenObjectsIsSkippedAndKept) {
  const Bytes in = Hex("009F0201AAFFFF5A011200");
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeTlv(in));
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(ToHex(tree.nodes()[0].leading_padding), "00");
  EXPECT_EQ(tree.nodes()[0].offset, 1u);
  EXPECT_EQ(ToHex(tree.nodes()[1].leading_padding), "FFFF");
  EXPECT_EQ(ToHex(tree.trailing_padding()), "00");
  ExpectReencodesExactly(in);
}

TEST_F(TlvDecodeTest, PaddingInsideATemplateIsKept) {
  const Bytes in = Hex("7006005A01120000");
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeTlv(in));
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(ToHex(tree.nodes()[1].leading_padding), "00");
  EXPECT_EQ(ToHex(tree.nodes()[0].trailing_padding), "0000");
  ExpectReencodesExactly(in);
}

TEST_F(TlvDecodeTest, OnlyPaddingAndEmptyInputGiveAnEmptyTree) {
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree empty, DecodeHex(""));
  EXPECT_TRUE(empty.empty());
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree padding, DecodeHex("0000FF"));
  EXPECT_TRUE(padding.empty());
  EXPECT_EQ(ToHex(padding.trailing_padding()), "0000FF");
  ExpectReencodesExactly(Hex("0000FF"));
}

TEST_F(TlvDecodeTest, PaddingCanBeTurnedOff) {
  TlvDecodeOptions options;
  options.allow_padding = false;
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeHex("0001AA", options));
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree.nodes()[0].tag, 0x00u);
  EXPECT_EQ(ToHex(tree.nodes()[0].value), "AA");
}

TEST_F(TlvDecodeTest, EmptyConstructedObjectHasNoChildren) {
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeHex("A500"));
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_TRUE(tree.nodes()[0].constructed);
  EXPECT_TRUE(tree.children(tree.nodes()[0]).empty());
}

TEST_F(TlvDecodeTest, De55BlobReencodesExactly) {
  const Bytes in = Hex(kDe55);
  EXPECT_EQ(in.size(), 120u);
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeTlv(in));
  EXPECT_EQ(tree.size(), 17u);
  ExpectReencodesExactly(in);
}

TEST_F(TlvFindTest, FindIsFirstMatchInDocumentOrderAtAnyDepth) {
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTree tree, DecodeHex("70035A01115A0122"));
  ASSERT_NE(tree.Find(0x5A), nullptr);
  EXPECT_EQ(ToHex(tree.Find(0x5A)->value), "11");
  ASSERT_NE(tree.FindRoot(0x5A), nullptr);
  EXPECT_EQ(ToHex(tree.FindRoot(0x5A)->value), "22");
  ASSERT_NE(tree.FindChild(tree.nodes()[0], 0x5A), nullptr);
  EXPECT_EQ(tree.FindChild(tree.nodes()[0], 0x9F02), nullptr);
  EXPECT_EQ(tree.Find(0x9F02), nullptr);
  std::string roots;
  for (const TlvNode& root : tree.roots()) roots += TlvTagHex(root.tag) + " ";
  EXPECT_EQ(roots, "70 5A ");
}

TEST_F(TlvDecodeTest, DecodeIntoReusesTheTreeAndClearsItOnError) {
  TlvTree tree;
  const Bytes first = Hex(kPpseFci);
  EMV_ASSERT_OK(DecodeTlvInto(first, tree));
  EXPECT_EQ(tree.size(), 7u);
  const Bytes second = Hex("5A0112");
  EMV_ASSERT_OK(DecodeTlvInto(second, tree));
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree.source().data(), second.data());
  const Bytes bad = Hex("5A05");
  EXPECT_FALSE(DecodeTlvInto(bad, tree).ok());
  EXPECT_TRUE(tree.empty());
}

TEST(TlvEncodeTest, LengthsUseTheShortestForm) {
  Bytes out;
  EMV_ASSERT_OK(AppendTlvLength(out, 0x7F));
  EMV_ASSERT_OK(AppendTlvLength(out, 0x80));
  EMV_ASSERT_OK(AppendTlvLength(out, 0xFF));
  EMV_ASSERT_OK(AppendTlvLength(out, 0x100));
  EMV_ASSERT_OK(AppendTlvLength(out, 0xFFFF));
  EXPECT_EQ(ToHex(out), "7F818081FF82010082FFFF");
  EXPECT_EQ(AppendTlvLength(out, 0x10000).code(), ErrorCode::kOutOfRange);
}

TEST(TlvEncodeTest, EncodeTlvBuildsTagLengthValue) {
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes one, EncodeTlv(0x9F36, Hex("001C")));
  EXPECT_EQ(ToHex(one), "9F3602001C");
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes empty, EncodeTlv(0x83, {}));
  EXPECT_EQ(ToHex(empty), "8300");
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes three, EncodeTlv(0xDF8101, Hex("01")));
  EXPECT_EQ(ToHex(three), "DF81010101");
  EXPECT_FALSE(EncodeTlv(0x9F, Hex("01")).ok());
  EXPECT_EQ(EncodeTlv(0x5A, Bytes(0x10000)).status().code(), ErrorCode::kOutOfRange);
}

TEST(TlvTagTest, CheckTlvTagFollowsTheBerRules) {
  EMV_EXPECT_OK(CheckTlvTag(0x5A));
  EMV_EXPECT_OK(CheckTlvTag(0x9F02));
  EMV_EXPECT_OK(CheckTlvTag(0xBF0C));
  EMV_EXPECT_OK(CheckTlvTag(0xDF8101));
  EXPECT_FALSE(CheckTlvTag(0x00).ok());
  EXPECT_FALSE(CheckTlvTag(0x9F).ok());      // announces more bytes
  EXPECT_FALSE(CheckTlvTag(0x5A01).ok());    // first byte does not announce more
  EXPECT_FALSE(CheckTlvTag(0x9F81).ok());    // last byte announces another
  EXPECT_FALSE(CheckTlvTag(0x9F0201).ok());  // middle byte ends the tag
}

TEST(TlvTagTest, HexRoundTrip) {
  EXPECT_EQ(TlvTagHex(0x9F02), "9F02");
  EXPECT_EQ(TlvTagHex(0x5A), "5A");
  EXPECT_EQ(TlvTagHex(0xDF8101), "DF8101");
  EMV_ASSERT_OK_AND_ASSIGN(const TlvTag tag, ParseTlvTagHex("9f02"));
  EXPECT_EQ(tag, 0x9F02u);
  EXPECT_FALSE(ParseTlvTagHex("").ok());
  EXPECT_FALSE(ParseTlvTagHex("9F").ok());
  EXPECT_FALSE(ParseTlvTagHex("9G02").ok());
  EXPECT_FALSE(ParseTlvTagHex("9F8182838405").ok());
  EXPECT_TRUE(TlvTagIsConstructed(0xBF0C));
  EXPECT_TRUE(TlvTagIsConstructed(0x70));
  EXPECT_FALSE(TlvTagIsConstructed(0x9F02));
  EXPECT_EQ(TlvTagBytes(0x9F02), 2u);
  EXPECT_EQ(TlvTagBytes(0xDF8101), 3u);
}

}  // namespace
}  // namespace tapstack::emv
