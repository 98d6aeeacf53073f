#include "crypto/hkdf.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

// RFC 5869 Appendix A.1 (test case 1).
TEST(HkdfSha256Test, Rfc5869TestCase1) {
  ASSERT_OK_AND_ASSIGN(
      const SecretBytes okm,
      HkdfSha256(Key("0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B"),
                 Hex("000102030405060708090A0B0C"), Hex("F0F1F2F3F4F5F6F7F8F9"), 42));
  EXPECT_EQ(ToHex(okm.reveal()),
            "3CB25F25FAACD57A90434F64D0362F2A2D2D0A90CF1A5A4C5DB02D56ECC4C5BF34007208D5B887185865");
}

// RFC 5869 Appendix A.3 (test case 3): no salt, no info.
TEST(HkdfSha256Test, Rfc5869TestCase3EmptySaltAndInfo) {
  ASSERT_OK_AND_ASSIGN(const SecretBytes okm,
                       HkdfSha256(Key("0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B"), {}, {}, 42));
  EXPECT_EQ(ToHex(okm.reveal()),
            "8DA4E775A563C18F715F802A063C5A31B8A11F5C5EE1879EC3454E5F3C738D2D9D201395FAA4B61A96C8");
}

TEST(HkdfSha256Test, RefusesBadLengths) {
  EXPECT_EQ(HkdfSha256(SecretBytes(), {}, {}, 32).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(Key("0B"), {}, {}, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(Key("0B"), {}, {}, kHkdfSha256OutputBytesMax + 1).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_OK(HkdfSha256(Key("0B"), {}, {}, kHkdfSha256OutputBytesMax).status());
}

}  // namespace
}  // namespace tapstack::crypto
