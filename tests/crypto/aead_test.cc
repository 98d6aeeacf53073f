#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Ascii;
using testing::Hex;
using testing::ToHex;

const SecretBytes& TestKey() {
  static const SecretBytes key(
      Hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"));
  return key;
}
const Bytes& Nonce() {
  static const Bytes nonce = Hex("CAFEBABEFACEDBADDECAF888");
  return nonce;
}

TEST(CryptoAead, GcmSpecTestCases13And14) {
  // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14 (AES-256).
  const SecretBytes zero_key(Bytes(32, 0));
  const Bytes zero_nonce(12, 0);
  ASSERT_OK_AND_ASSIGN(Bytes tc13, AesGcmSeal(zero_key, zero_nonce, {}, {}));
  EXPECT_EQ(ToHex(tc13), "530F8AFBC74536B9A963B4F1C4CB738B");
  ASSERT_OK_AND_ASSIGN(Bytes tc14, AesGcmSeal(zero_key, zero_nonce, Bytes(16, 0), {}));
  EXPECT_EQ(ToHex(tc14), "CEA7403D4D606B6E074EC5D3BAF39D18D0D1C8A799996BF0265B98B5D48AB919");
  ASSERT_OK_AND_ASSIGN(Bytes opened, AesGcmOpen(zero_key, zero_nonce, tc14, {}));
  EXPECT_EQ(opened, Bytes(16, 0));
}

TEST(CryptoAead, RoundTripWithAssociatedData) {
  const Bytes plaintext = Ascii("PAN 6222020000001234, expiry 2812");
  const Bytes aad = Ascii("token-vault/v1/row-42");
  ASSERT_OK_AND_ASSIGN(Bytes sealed, AesGcmSeal(TestKey(), Nonce(), plaintext, aad));
  EXPECT_EQ(sealed.size(), plaintext.size() + kGcmTagBytes);
  ASSERT_OK_AND_ASSIGN(Bytes opened, AesGcmOpen(TestKey(), Nonce(), sealed, aad));
  EXPECT_EQ(opened, plaintext);
}

TEST(CryptoAead, TamperingIsACryptoFailure) {
  const Bytes plaintext = Ascii("balance=100.00 CNY");
  const Bytes aad = Ascii("wallet-7");
  ASSERT_OK_AND_ASSIGN(Bytes sealed, AesGcmSeal(TestKey(), Nonce(), plaintext, aad));

  Bytes ciphertext_flip = sealed;
  ciphertext_flip[0] ^= 0x01;
  EXPECT_CODE(AesGcmOpen(TestKey(), Nonce(), ciphertext_flip, aad), ErrorCode::kCryptoFailure);

  Bytes tag_flip = sealed;
  tag_flip.back() ^= 0x80;
  EXPECT_CODE(AesGcmOpen(TestKey(), Nonce(), tag_flip, aad), ErrorCode::kCryptoFailure);

  EXPECT_CODE(AesGcmOpen(TestKey(), Nonce(), sealed, Ascii("wallet-8")), ErrorCode::kCryptoFailure);
  EXPECT_CODE(AesGcmOpen(TestKey(), Nonce(), sealed, {}), ErrorCode::kCryptoFailure);

  Bytes other_nonce = Nonce();
  other_nonce[11] ^= 1;
  EXPECT_CODE(AesGcmOpen(TestKey(), other_nonce, sealed, aad), ErrorCode::kCryptoFailure);

  const SecretBytes other_key(Bytes(32, 7));
  EXPECT_CODE(AesGcmOpen(other_key, Nonce(), sealed, aad), ErrorCode::kCryptoFailure);

  Bytes truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_CODE(AesGcmOpen(TestKey(), Nonce(), truncated, aad), ErrorCode::kCryptoFailure);
}

TEST(CryptoAead, RejectsBadLengths) {
  EXPECT_CODE(AesGcmSeal(SecretBytes(Bytes(16, 1)), Nonce(), Hex("00"), {}),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(AesGcmSeal(TestKey(), Bytes(16, 0), Hex("00"), {}), ErrorCode::kInvalidArgument);
  EXPECT_CODE(AesGcmOpen(TestKey(), Nonce(), Bytes(15, 0), {}), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
