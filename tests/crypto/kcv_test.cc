#include "crypto/kcv.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Key;
using testing::ToHex;

TEST(CryptoKcv, TdesLegacyAndFullLength) {
  // pyemv pyemv/tools.py docstring (also tests/vectors/emv_crypto.json KCV-IMK).
  const SecretBytes key = Key("0123456789ABCDEFFEDCBA9876543210");
  ASSERT_OK_AND_ASSIGN(Bytes kcv, KeyCheckValue(BlockCipher::kTdes, key));
  EXPECT_EQ(ToHex(kcv), "08D7B4");
  ASSERT_OK_AND_ASSIGN(Bytes full, KeyCheckValue(BlockCipher::kTdes, key, 8));
  EXPECT_EQ(ToHex(full), "08D7B4FB629D0885");
}

TEST(CryptoKcv, AesAndSm4UseTheEncryptedZeroBlock) {
  const SecretBytes aes = Key("000102030405060708090A0B0C0D0E0F");
  ASSERT_OK_AND_ASSIGN(Bytes kcv, KeyCheckValue(BlockCipher::kAes, aes, 16));
  ASSERT_OK_AND_ASSIGN(Bytes zero_block,
                       Encrypt(BlockCipher::kAes, CipherMode::kEcb, aes, Bytes(16)));
  EXPECT_EQ(kcv, zero_block);
  ASSERT_OK_AND_ASSIGN(Bytes sm4,
                       KeyCheckValue(BlockCipher::kSm4, Key("0123456789ABCDEFFEDCBA9876543210")));
  EXPECT_EQ(sm4.size(), 3u);
}

TEST(CryptoKcv, RejectsBadLengthsAndKeys) {
  const SecretBytes tdes = Key("0123456789ABCDEFFEDCBA9876543210");
  EXPECT_CODE(KeyCheckValue(BlockCipher::kTdes, tdes, 0), ErrorCode::kInvalidArgument);
  EXPECT_CODE(KeyCheckValue(BlockCipher::kTdes, tdes, 9), ErrorCode::kInvalidArgument);
  EXPECT_CODE(KeyCheckValue(BlockCipher::kDes, tdes), ErrorCode::kInvalidArgument);
  EXPECT_CODE(KeyCheckValue(BlockCipher::kAes, Key("0123456789ABCDEF")),
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
