#include "emv/tag_dictionary.h"

#include <gtest/gtest.h>

namespace tapstack::emv {
namespace {

TEST(TagDictionaryTest, HoldsTheUsualEmvTags) {
  const TlvTag required[] = {
      0x4F,   0x50,   0x57,   0x5A,   0x5F20, 0x5F24, 0x5F25, 0x5F28, 0x5F2A, 0x5F34,
      0x61,   0x6F,   0x70,   0x71,   0x72,   0x77,   0x80,   0x82,   0x84,   0x86,
      0x87,   0x88,   0x8A,   0x8C,   0x8D,   0x8E,   0x8F,   0x91,   0x94,   0x95,
      0x9A,   0x9B,   0x9C,   0x9D,   0x9F02, 0x9F03, 0x9F06, 0x9F07, 0x9F09, 0x9F10,
      0x9F12, 0x9F19, 0x9F1A, 0x9F1E, 0x9F21, 0x9F24, 0x9F25, 0x9F26, 0x9F27, 0x9F2A,
      0x9F33, 0x9F34, 0x9F35, 0x9F36, 0x9F37, 0x9F38, 0x9F4B, 0x9F4C, 0x9F5D, 0x9F66,
      0x9F69, 0x9F6A, 0x9F6B, 0x9F6C, 0x9F6E, 0xA5,   0xBF0C,
  };
  for (TlvTag tag : required) {
    const TagInfo* info = FindTagInfo(tag);
    ASSERT_NE(info, nullptr) << TlvTagHex(tag);
    EXPECT_FALSE(info->name.empty()) << TlvTagHex(tag);
    EXPECT_LE(info->length_min, info->length_max) << TlvTagHex(tag);
    EXPECT_TRUE(CheckTlvTag(tag).ok()) << TlvTagHex(tag);
  }
}

TEST(TagDictionaryTest, IsSortedAndWellFormed) {
  const auto tags = TagDictionary();
  for (std::size_t i = 1; i < tags.size(); ++i) EXPECT_LT(tags[i - 1].tag, tags[i].tag);
  for (const TagInfo& info : tags) {
    EXPECT_TRUE(CheckTlvTag(info.tag).ok()) << TlvTagHex(info.tag);
    EXPECT_EQ(FindTagInfo(info.tag), &info);
  }
}

TEST(TagDictionaryTest, FormatsDriveDolFilling) {
  EXPECT_EQ(TagFormatOf(0x9F02), TagFormat::kN);
  EXPECT_EQ(TagFormatOf(0x9A), TagFormat::kN);
  EXPECT_EQ(TagFormatOf(0x5F2A), TagFormat::kN);
  EXPECT_EQ(TagFormatOf(0x5A), TagFormat::kCn);
  EXPECT_EQ(TagFormatOf(0x95), TagFormat::kB);
  EXPECT_EQ(TagFormatOf(0x9F37), TagFormat::kB);
  EXPECT_EQ(TagFormatOf(0x8A), TagFormat::kAn);
  EXPECT_EQ(TagFormatOf(0x50), TagFormat::kAns);
  EXPECT_EQ(TagFormatOf(0xDF01), TagFormat::kB);  // unknown: binary
  EXPECT_EQ(TagFormatName(TagFormat::kN), "n");
  EXPECT_EQ(TagFormatName(TagFormat::kCn), "cn");
  EXPECT_EQ(TagFormatName(TagFormat::kB), "b");
  EXPECT_EQ(TagFormatName(TagFormat::kAn), "an");
  EXPECT_EQ(TagFormatName(TagFormat::kAns), "ans");
}

TEST(TagDictionaryTest, NamesAndUnknownTags) {
  EXPECT_EQ(TagName(0x9F26), "Application Cryptogram");
  EXPECT_EQ(TagName(0x9F36), "Application Transaction Counter (ATC)");
  EXPECT_EQ(TagName(0x84), "Dedicated File (DF) Name");
  EXPECT_EQ(TagName(0xDF01), "");
  EXPECT_EQ(FindTagInfo(0xDF8101), nullptr);
  EXPECT_EQ(FindTagInfo(0x9F02)->length_min, 6);
  EXPECT_EQ(FindTagInfo(0x9F10)->length_max, 32);
}

}  // namespace
}  // namespace tapstack::emv
