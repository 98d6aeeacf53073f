#include "crypto/emv_key_derivation.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

const char* const kImk = "0123456789ABCDEFFEDCBA9876543210";

std::string MkHex(const Result<SecretBytes>& mk) {
  EXPECT_TRUE(mk.ok()) << mk.status().ToString();
  return mk.ok() ? ToHex(mk->reveal()) : std::string();
}

TEST(CryptoEmvKeyDerivation, OptionBEqualsOptionAUpToSixteenDigits) {
  // Book 2 A1.4.2: Option B is only for PANs longer than 16 digits.
  const SecretBytes imk = Key(kImk);
  for (const char* pan : {"1234567890123456", "123456789012345", "123456789012"}) {
    SCOPED_TRACE(pan);
    EXPECT_EQ(MkHex(DeriveIccMasterKeyOptionB(imk, pan, "00")),
              MkHex(DeriveIccMasterKeyOptionA(imk, pan, "00")));
  }
  EXPECT_EQ(MkHex(DeriveIccMasterKeyOptionB(imk, "1234567890123456", "00")),
            "154F349D8585CB7F6B0798E9839B10C1");  // pyemv test_cvn_hsm.py mastercard_cvn20
}

TEST(CryptoEmvKeyDerivation, OptionBDiffersFromOptionAFromSeventeenDigits) {
  const SecretBytes imk = Key(kImk);
  for (const char* pan : {"12345678901234567", "123456789012345678", "1234567890123456789"}) {
    SCOPED_TRACE(pan);
    EXPECT_NE(MkHex(DeriveIccMasterKeyOptionB(imk, pan, "01")),
              MkHex(DeriveIccMasterKeyOptionA(imk, pan, "01")));
  }
  EXPECT_EQ(MkHex(DeriveIccMasterKeyOptionB(imk, "12345678901234567", "01")),
            "AD406D7F6D7570916D75E5DCAB8CF737");  // pyemv kd.py derive_icc_mk_b docstring
}

TEST(CryptoEmvKeyDerivation, OptionAPadsShortAndTruncatesLongInput) {
  const SecretBytes imk = Key(kImk);
  // 12-digit PAN + PSN = 14 digits, left-padded to 0012345678901234.
  EXPECT_EQ(MkHex(DeriveIccMasterKeyOptionA(imk, "123456789012", "34")),
            MkHex(DeriveIccMasterKeyOptionA(imk, "00123456789012", "34")));
  // 19-digit PAN + PSN = 21 digits; the rightmost 16 count.
  EXPECT_EQ(MkHex(DeriveIccMasterKeyOptionA(imk, "9999912345678901234", "56")),
            MkHex(DeriveIccMasterKeyOptionA(imk, "8888812345678901234", "56")));
}

TEST(CryptoEmvKeyDerivation, AbsentPsnMeansZeroZero) {
  const SecretBytes imk = Key(kImk);
  EXPECT_EQ(MkHex(DeriveIccMasterKeyOptionA(imk, "1234567890123456", "")),
            MkHex(DeriveIccMasterKeyOptionA(imk, "1234567890123456", "00")));
  EXPECT_EQ(MkHex(DeriveIccMasterKeyOptionB(imk, "12345678901234567", "")),
            MkHex(DeriveIccMasterKeyOptionB(imk, "12345678901234567", "00")));
}

TEST(CryptoEmvKeyDerivation, RejectsBadInputs) {
  const SecretBytes imk = Key(kImk);
  EXPECT_CODE(DeriveIccMasterKeyOptionA(imk, "12345678901A3456", "00"),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(DeriveIccMasterKeyOptionA(imk, "12345678901", "00"), ErrorCode::kInvalidArgument);
  EXPECT_CODE(DeriveIccMasterKeyOptionA(imk, "12345678901234567890", "00"),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(DeriveIccMasterKeyOptionA(imk, "1234567890123456", "1"), ErrorCode::kInvalidArgument);
  EXPECT_CODE(DeriveIccMasterKeyOptionB(imk, "12345678901234567", "0A"),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(DeriveIccMasterKeyOptionA(Key("0123456789ABCDEF"), "1234567890123456", "00"),
              ErrorCode::kInvalidArgument);
}

TEST(CryptoEmvKeyDerivation, OddParity) {
  Bytes key = Hex("0000FFFE0102037F");
  EXPECT_FALSE(HasOddParity(key));
  SetOddParity(key);
  EXPECT_EQ(ToHex(key), "0101FEFE0102027F");
  EXPECT_TRUE(HasOddParity(key));
}

TEST(CryptoEmvKeyDerivation, CommonSessionKeyFromAtcMatchesExplicitR) {
  const SecretBytes mk = Key(kImk);
  ASSERT_OK_AND_ASSIGN(SecretBytes from_atc,
                       DeriveCommonSessionKeyFromAtc(BlockCipher::kTdes, mk, 0x001C));
  EXPECT_EQ(ToHex(from_atc.reveal()), "E9FB384AF807B940FEDCEA613461B0C4");  // pyemv kd.py
  EXPECT_EQ(ToHex(AtcDiversifier(0x001C, 8)), "001C000000000000");
  EXPECT_EQ(ToHex(AtcDiversifier(0xABCD, 16)), "ABCD0000000000000000000000000000");
}

TEST(CryptoEmvKeyDerivation, AesSessionKeysFollowTheDocumentedConstruction) {
  // [uncertain against the EMV text] AES-128: SK = AES(MK)[R]; AES-256: F0/0F halves.
  const Bytes r = AtcDiversifier(0x0001, 16);
  const SecretBytes mk128 = Key("000102030405060708090A0B0C0D0E0F");
  ASSERT_OK_AND_ASSIGN(SecretBytes sk128, DeriveCommonSessionKey(BlockCipher::kAes, mk128, r));
  ASSERT_OK_AND_ASSIGN(Bytes expected128, Encrypt(BlockCipher::kAes, CipherMode::kEcb, mk128, r));
  EXPECT_EQ(Bytes(sk128.reveal().begin(), sk128.reveal().end()), expected128);

  const SecretBytes mk256 = Key("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  ASSERT_OK_AND_ASSIGN(SecretBytes sk256, DeriveCommonSessionKey(BlockCipher::kAes, mk256, r));
  const Bytes f =
      Hex("0001F000000000000000000000000000"    // F1: R with byte 2 = F0
          "00010F00000000000000000000000000");  // F2: R with byte 2 = 0F
  ASSERT_OK_AND_ASSIGN(Bytes expected256, Encrypt(BlockCipher::kAes, CipherMode::kEcb, mk256, f));
  EXPECT_EQ(ToHex(sk256.reveal()), ToHex(expected256));
  EXPECT_EQ(sk256.size(), 32u);

  const SecretBytes mk192 = Key("000102030405060708090A0B0C0D0E0F1011121314151617");
  ASSERT_OK_AND_ASSIGN(SecretBytes sk192, DeriveCommonSessionKey(BlockCipher::kAes, mk192, r));
  EXPECT_EQ(sk192.size(), 24u);
}

TEST(CryptoEmvKeyDerivation, CommonSessionKeyRejectsBadInputs) {
  EXPECT_CODE(DeriveCommonSessionKey(BlockCipher::kTdes, Key(kImk), Bytes(7)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(DeriveCommonSessionKey(BlockCipher::kAes, Key(kImk), Bytes(8)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(DeriveCommonSessionKey(BlockCipher::kDes, Key("0123456789ABCDEF"), Bytes(8)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(
      DeriveCommonSessionKey(BlockCipher::kTdes,
                             Key("0123456789ABCDEFFEDCBA987654321089ABCDEF01234567"), Bytes(8)),
      ErrorCode::kInvalidArgument);
}

TEST(CryptoEmvKeyDerivation, MastercardSessionKeyIsCskOverAtcZerosUn) {
  const SecretBytes mk = Key(kImk);
  ASSERT_OK_AND_ASSIGN(SecretBytes sk, DeriveMastercardSessionKey(mk, 0x001C, Hex("ABCDEF12")));
  ASSERT_OK_AND_ASSIGN(SecretBytes csk,
                       DeriveCommonSessionKey(BlockCipher::kTdes, mk, Hex("001C0000ABCDEF12")));
  EXPECT_TRUE(sk.EqualsConstantTime(csk));
  EXPECT_TRUE(HasOddParity(sk.reveal()));
  EXPECT_CODE(DeriveMastercardSessionKey(mk, 1, Hex("ABCDEF")), ErrorCode::kInvalidArgument);
}

TEST(CryptoEmvKeyDerivation, VisaSecureMessagingKey) {
  // MK_L XOR 000000000000001C = 0123456789ABCDF3 -> parity -> 0123456789ABCDF2;
  // MK_R XOR 000000000000FFE3 = FEDCBA987654CDF3 -> parity -> FEDCBA987654CDF2.
  ASSERT_OK_AND_ASSIGN(SecretBytes sk, DeriveVisaSecureMessagingKey(Key(kImk), 0x001C));
  EXPECT_EQ(ToHex(sk.reveal()), "0123456789ABCDF2FEDCBA987654CDF2");
  EXPECT_CODE(DeriveVisaSecureMessagingKey(Key("0123456789ABCDEF"), 1),
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
