#include "qr/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace tapstack::qr {
namespace {

std::string Text(const Bytes& b) { return {b.begin(), b.end()}; }

// RFC 4648 §10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    auto enc = Base64Encode(AsBytes(plain));
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(*enc, encoded);
    auto dec = Base64Decode(encoded);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(Text(*dec), plain);
  }
}

TEST(Base64Test, AllByteValuesRoundTrip) {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const Bytes part(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
    auto enc = Base64Encode(part);
    ASSERT_TRUE(enc.ok());
    auto dec = Base64Decode(*enc);
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(*dec, part);
  }
}

TEST(Base64Test, RejectsWhatEvpDecodeBlockWouldAccept) {
  EXPECT_FALSE(Base64Decode("Zm9v\n").ok());  // whitespace
  EXPECT_FALSE(Base64Decode(" Zm9v").ok());
  EXPECT_FALSE(Base64Decode("Zm9").ok());  // missing padding
  EXPECT_FALSE(Base64Decode("Zg=").ok());
  EXPECT_FALSE(Base64Decode("Z=g=").ok());      // padding inside
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());  // padding then more data
  EXPECT_FALSE(Base64Decode("Z===").ok());      // three padding characters
  EXPECT_FALSE(Base64Decode("====").ok());
  EXPECT_FALSE(Base64Decode("Zm-v").ok());  // base64url alphabet
  EXPECT_FALSE(Base64Decode("Zm_v").ok());
  EXPECT_FALSE(Base64Decode("Zh==").ok());  // non-zero unused bits (canonical is Zg==)
  EXPECT_FALSE(Base64Decode("Zm9=").ok());  // canonical is Zm8=
}

TEST(Base64Test, ErrorNamesTheOffset) {
  auto dec = Base64Decode("Zm9v!m9v");
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(dec.status().message().find("offset 4"), std::string::npos) << dec.status().message();
}

TEST(Base64Test, LimitsInputLength) {
  const std::string too_long(kBase64TextCharsMax + 4, 'A');
  EXPECT_EQ(Base64Decode(too_long).status().code(), ErrorCode::kOutOfRange);
  const Bytes too_many(kBase64TextCharsMax, 0);
  EXPECT_EQ(Base64Encode(too_many).status().code(), ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace tapstack::qr
