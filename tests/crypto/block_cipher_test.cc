#include "crypto/block_cipher.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

struct KnownAnswer {
  BlockCipher cipher;
  const char* key;
  const char* plaintext;
  const char* ciphertext;
  const char* source;
};

TEST(CryptoBlockCipher, PublishedEcbKnownAnswers) {
  const KnownAnswer vectors[] = {
      {BlockCipher::kAes, "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
       "69C4E0D86A7B0430D8CDB78070B4C55A", "FIPS 197 Appendix C.1 (AES-128)"},
      {BlockCipher::kAes, "000102030405060708090A0B0C0D0E0F1011121314151617",
       "00112233445566778899AABBCCDDEEFF", "DDA97CA4864CDFE06EAF70A0EC0D7191",
       "FIPS 197 Appendix C.2 (AES-192)"},
      {BlockCipher::kAes, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
       "00112233445566778899AABBCCDDEEFF", "8EA2B7CA516745BFEAFC49904B496089",
       "FIPS 197 Appendix C.3 (AES-256)"},
      {BlockCipher::kDes, "0123456789ABCDEF", "4E6F772069732074", "3FA40E8A984D4815",
       "FIPS 81 Appendix B (single DES, \"Now is t\")"},
      {BlockCipher::kSm4, "0123456789ABCDEFFEDCBA9876543210", "0123456789ABCDEFFEDCBA9876543210",
       "681EDF34D206965E86B3E94F536E4246", "GB/T 32907-2016 Appendix A example 1"},
  };
  for (const KnownAnswer& v : vectors) {
    SCOPED_TRACE(v.source);
    ASSERT_OK_AND_ASSIGN(Bytes ct,
                         Encrypt(v.cipher, CipherMode::kEcb, Key(v.key), Hex(v.plaintext)));
    EXPECT_EQ(ToHex(ct), v.ciphertext);
    ASSERT_OK_AND_ASSIGN(Bytes pt, Decrypt(v.cipher, CipherMode::kEcb, Key(v.key), ct));
    EXPECT_EQ(ToHex(pt), v.plaintext);
  }
}

TEST(CryptoBlockCipher, AesCbcMatchesSp800_38a) {
  // NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first two blocks.
  const SecretBytes key = Key("2B7E151628AED2A6ABF7158809CF4F3C");
  const Bytes iv = Hex("000102030405060708090A0B0C0D0E0F");
  const Bytes pt = Hex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51");
  ASSERT_OK_AND_ASSIGN(Bytes ct, Encrypt(BlockCipher::kAes, CipherMode::kCbc, key, pt, iv));
  EXPECT_EQ(ToHex(ct), "7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B2");
  ASSERT_OK_AND_ASSIGN(Bytes back, Decrypt(BlockCipher::kAes, CipherMode::kCbc, key, ct, iv));
  EXPECT_EQ(back, pt);
}

TEST(CryptoBlockCipher, SingleDesIsTdesWithEqualKeysAndTwoKeyIsK1K2K1) {
  const Bytes block = Hex("4E6F772069732074");
  ASSERT_OK_AND_ASSIGN(
      Bytes des, Encrypt(BlockCipher::kDes, CipherMode::kEcb, Key("0123456789ABCDEF"), block));
  ASSERT_OK_AND_ASSIGN(Bytes tdes, Encrypt(BlockCipher::kTdes, CipherMode::kEcb,
                                           Key("0123456789ABCDEF0123456789ABCDEF"), block));
  EXPECT_EQ(des, tdes);
  ASSERT_OK_AND_ASSIGN(Bytes two_key, Encrypt(BlockCipher::kTdes, CipherMode::kEcb,
                                              Key("0123456789ABCDEFFEDCBA9876543210"), block));
  ASSERT_OK_AND_ASSIGN(Bytes three_key,
                       Encrypt(BlockCipher::kTdes, CipherMode::kEcb,
                               Key("0123456789ABCDEFFEDCBA98765432100123456789ABCDEF"), block));
  EXPECT_EQ(two_key, three_key);
}

TEST(CryptoBlockCipher, CbcRoundTripsForEveryCipher) {
  struct Case {
    BlockCipher cipher;
    const char* key;
  };
  const Case cases[] = {
      {BlockCipher::kDes, "0123456789ABCDEF"},
      {BlockCipher::kTdes, "0123456789ABCDEFFEDCBA9876543210"},
      {BlockCipher::kTdes, "0123456789ABCDEFFEDCBA987654321089ABCDEF01234567"},
      {BlockCipher::kAes, "000102030405060708090A0B0C0D0E0F"},
      {BlockCipher::kAes, "000102030405060708090A0B0C0D0E0F1011121314151617"},
      {BlockCipher::kAes, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"},
      {BlockCipher::kSm4, "0123456789ABCDEFFEDCBA9876543210"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(BlockCipherName(c.cipher)) + " " + c.key);
    const std::size_t block = BlockBytes(c.cipher);
    Bytes data(4 * block);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    const Bytes iv(block, 0x5A);
    ASSERT_OK_AND_ASSIGN(Bytes ct, Encrypt(c.cipher, CipherMode::kCbc, Key(c.key), data, iv));
    EXPECT_NE(ct, data);
    ASSERT_OK_AND_ASSIGN(Bytes ecb, Encrypt(c.cipher, CipherMode::kEcb, Key(c.key), data));
    EXPECT_NE(ct, ecb);
    ASSERT_OK_AND_ASSIGN(Bytes pt, Decrypt(c.cipher, CipherMode::kCbc, Key(c.key), ct, iv));
    EXPECT_EQ(pt, data);
  }
}

TEST(CryptoBlockCipher, InPlaceDecryption) {
  const SecretBytes key = Key("0123456789ABCDEFFEDCBA9876543210");
  Bytes buffer = Hex("681EDF34D206965E86B3E94F536E4246");
  EXPECT_OK(DecryptInto(BlockCipher::kSm4, CipherMode::kEcb, key, buffer, {}, buffer));
  EXPECT_EQ(ToHex(buffer), "0123456789ABCDEFFEDCBA9876543210");
}

TEST(CryptoBlockCipher, EmptyDataGivesEmptyOutput) {
  ASSERT_OK_AND_ASSIGN(Bytes out, Encrypt(BlockCipher::kAes, CipherMode::kEcb,
                                          Key("000102030405060708090A0B0C0D0E0F"), {}));
  EXPECT_TRUE(out.empty());
}

TEST(CryptoBlockCipher, RejectsUnalignedData) {
  EXPECT_CODE(Encrypt(BlockCipher::kAes, CipherMode::kEcb, Key("000102030405060708090A0B0C0D0E0F"),
                      Bytes(15)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kDes, CipherMode::kEcb, Key("0123456789ABCDEF"), Bytes(7)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Decrypt(BlockCipher::kTdes, CipherMode::kCbc, Key("0123456789ABCDEFFEDCBA9876543210"),
                      Bytes(12), Bytes(8)),
              ErrorCode::kInvalidArgument);
  // 8-byte aligned is not 16-byte aligned.
  EXPECT_CODE(Encrypt(BlockCipher::kSm4, CipherMode::kEcb, Key("0123456789ABCDEFFEDCBA9876543210"),
                      Bytes(24)),
              ErrorCode::kInvalidArgument);
  const Result<Bytes> result = Encrypt(BlockCipher::kAes, CipherMode::kEcb,
                                       Key("000102030405060708090A0B0C0D0E0F"), Bytes(17));
  EXPECT_NE(result.status().message().find("not a multiple of the 16-byte block"),
            std::string::npos)
      << result.status().message();
}

TEST(CryptoBlockCipher, RejectsWrongKeyLengths) {
  const Bytes block8(8);
  const Bytes block16(16);
  EXPECT_CODE(
      Encrypt(BlockCipher::kDes, CipherMode::kEcb, Key("0123456789ABCDEF0123456789ABCDEF"), block8),
      ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kTdes, CipherMode::kEcb, Key("0123456789ABCDEF"), block8),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kTdes, CipherMode::kEcb,
                      Key("0123456789ABCDEF0123456789ABCDEF01"), block8),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kAes, CipherMode::kEcb, Key("0123456789ABCDEF"), block16),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kSm4, CipherMode::kEcb,
                      Key("0123456789ABCDEF0123456789ABCDEF01234567"), block16),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kAes, CipherMode::kEcb, SecretBytes(), block16),
              ErrorCode::kInvalidArgument);
  EXPECT_OK(CheckKeyLength(BlockCipher::kTdes, 24));
  EXPECT_CODE(CheckKeyLength(BlockCipher::kAes, 20), ErrorCode::kInvalidArgument);
}

TEST(CryptoBlockCipher, ChecksIv) {
  const SecretBytes key = Key("000102030405060708090A0B0C0D0E0F");
  EXPECT_CODE(Encrypt(BlockCipher::kAes, CipherMode::kEcb, key, Bytes(16), Bytes(16)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kAes, CipherMode::kCbc, key, Bytes(16)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Encrypt(BlockCipher::kAes, CipherMode::kCbc, key, Bytes(16), Bytes(8)),
              ErrorCode::kInvalidArgument);
}

TEST(CryptoBlockCipher, IntoRejectsWrongOutputSize) {
  Bytes out(8);
  EXPECT_CODE(EncryptInto(BlockCipher::kAes, CipherMode::kEcb,
                          Key("000102030405060708090A0B0C0D0E0F"), Bytes(16), {}, out),
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
