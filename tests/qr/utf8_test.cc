#include "qr/utf8.h"

#include <gtest/gtest.h>

namespace tapstack::qr {
namespace {

TEST(QrUtf8Test, CountsCharactersNotBytes) {
  EXPECT_EQ(Utf8CharCount("BEIJING"), 7u);
  EXPECT_EQ(Utf8CharCount("最佳运输"), 4u);  // 12 bytes
  EXPECT_EQ(std::string_view("最佳运输").size(), 12u);
  EXPECT_EQ(Utf8CharCount("Caf\xC3\xA9"), 4u);       // é: 2 bytes
  EXPECT_EQ(Utf8CharCount("\xF0\x9F\x98\x80"), 1u);  // U+1F600: 4 bytes
  EXPECT_EQ(Utf8CharCount(""), 0u);
}

TEST(QrUtf8Test, FindsInvalidSequences) {
  EXPECT_FALSE(FindInvalidUtf8("plain ASCII").has_value());
  EXPECT_FALSE(FindInvalidUtf8("北京 \xF4\x8F\xBF\xBF").has_value());  // U+10FFFF is the last
  EXPECT_EQ(FindInvalidUtf8("ab\xFF"), 2u);                            // never a lead byte
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);                              // stray continuation
  EXPECT_EQ(FindInvalidUtf8("a\xC0\xAF"), 1u);                         // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);                      // overlong 3-byte
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);                      // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);                  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("ok\xE5\x8C"), 2u);                        // truncated at the end
  EXPECT_EQ(FindInvalidUtf8("\xE5\x8C"
                            "A"),
            0u);  // truncated mid-text
}

TEST(QrUtf8Test, StrayBytesCountAsOneCharacterEach) {
  EXPECT_EQ(Utf8CharCount("a\xFF\xFE"
                          "b"),
            4u);
  EXPECT_EQ(Utf8CharCount("\xE5\x8C"), 2u);
}

TEST(QrUtf8Test, AdvanceStopsAtTheEnd) {
  std::size_t got = 0;
  const std::string_view text = "北京AB";
  EXPECT_EQ(Utf8Advance(text, 0, 2, got), 6u);
  EXPECT_EQ(got, 2u);
  EXPECT_EQ(Utf8Advance(text, 3, 10, got), text.size());
  EXPECT_EQ(got, 3u);
}

TEST(QrUtf8Test, SanitizeReplacesStrayBytes) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("北京"), "北京");
}

TEST(QrUtf8Test, QuoteForMessageSanitisesAndTruncates) {
  EXPECT_EQ(QuoteForMessage("23,72"), "'23,72'");
  EXPECT_EQ(QuoteForMessage("a\xFF"), "'a\xEF\xBF\xBD'");
  EXPECT_EQ(QuoteForMessage("abcdef", 3), "'abc...'");
}

}  // namespace
}  // namespace tapstack::qr
