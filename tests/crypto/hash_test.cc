#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Ascii;
using testing::ToHex;

TEST(CryptoHash, Sha256Fips180Examples) {
  ASSERT_OK_AND_ASSIGN(Bytes abc, Sha256(Ascii("abc")));
  EXPECT_EQ(ToHex(abc), "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_OK_AND_ASSIGN(Bytes empty, Sha256({}));
  EXPECT_EQ(ToHex(empty), "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
}

TEST(CryptoHash, Sm3GbT32905Examples) {
  ASSERT_OK_AND_ASSIGN(Bytes abc, Sm3(Ascii("abc")));
  EXPECT_EQ(ToHex(abc), "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0");
  std::string abcd16;
  for (int i = 0; i < 16; ++i) abcd16 += "abcd";
  ASSERT_OK_AND_ASSIGN(Bytes long_message, Hash(HashAlgorithm::kSm3, Ascii(abcd16)));
  EXPECT_EQ(ToHex(long_message),
            "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732");
}

}  // namespace
}  // namespace tapstack::crypto
