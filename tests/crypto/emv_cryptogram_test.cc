#include "crypto/emv_cryptogram.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

const char* const kTdesSk = "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB";
const char* const kAesSk = "000102030405060708090A0B0C0D0E0F";

CryptogramOptions Padding(MacPadding padding) {
  CryptogramOptions options;
  options.padding = padding;
  return options;
}

TEST(CryptoEmvCryptogram, PaddingMethodMattersForAlignedData) {
  // Pitfall 1/2: an aligned input gets no padding with method 1 but a whole block with method 2.
  const SecretBytes sk = Key(kTdesSk);
  const Bytes aligned = Hex("0123456789ABCDEF0123456789ABCDEF");
  ASSERT_OK_AND_ASSIGN(ApplicationCryptogram m1,
                       GenerateApplicationCryptogram(BlockCipher::kTdes, sk, aligned,
                                                     Padding(MacPadding::kMethod1)));
  ASSERT_OK_AND_ASSIGN(ApplicationCryptogram m2,
                       GenerateApplicationCryptogram(BlockCipher::kTdes, sk, aligned,
                                                     Padding(MacPadding::kMethod2)));
  EXPECT_NE(m1, m2);
  ASSERT_OK_AND_ASSIGN(Bytes alg3, Iso9797Alg3Mac(sk, aligned, MacPadding::kMethod1));
  EXPECT_EQ(ToHex(m1), ToHex(alg3));
}

TEST(CryptoEmvCryptogram, DefaultOptionsUseMethod2) {
  const SecretBytes sk = Key(kTdesSk);
  const Bytes data = Hex("000000002000000000000000012400000080000124110309003804823E58000001");
  ASSERT_OK_AND_ASSIGN(ApplicationCryptogram ac,
                       GenerateApplicationCryptogram(BlockCipher::kTdes, sk, data));
  EXPECT_EQ(ToHex(ac), "3B76CF10FECD8789");  // pyemv ac.py generate_ac docstring
}

TEST(CryptoEmvCryptogram, VerifyRejectsAnyDifference) {
  const SecretBytes sk = Key(kTdesSk);
  const Bytes data = Hex("0000000010000000000000000156");
  for (BlockCipher cipher : {BlockCipher::kTdes, BlockCipher::kAes, BlockCipher::kSm4}) {
    SCOPED_TRACE(BlockCipherName(cipher));
    const SecretBytes key = cipher == BlockCipher::kTdes ? sk.Clone() : Key(kAesSk);
    ASSERT_OK_AND_ASSIGN(ApplicationCryptogram ac,
                         GenerateApplicationCryptogram(cipher, key, data));
    EXPECT_OK(VerifyApplicationCryptogram(cipher, key, data, ac));
    ApplicationCryptogram flipped = ac;
    flipped[7] ^= 1;
    EXPECT_CODE(VerifyApplicationCryptogram(cipher, key, data, flipped), ErrorCode::kCryptoFailure);
    Bytes other_data = data;
    other_data[4] ^= 1;
    EXPECT_CODE(VerifyApplicationCryptogram(cipher, key, other_data, ac),
                ErrorCode::kCryptoFailure);
    EXPECT_CODE(VerifyApplicationCryptogram(cipher, key, data, ByteView(ac).first(4)),
                ErrorCode::kCryptoFailure);
  }
}

TEST(CryptoEmvCryptogram, AesIsCmacOverPrePaddedDataTruncatedToEightBytes) {
  // The documented [uncertain] choice: pad with the chosen method to 16-byte blocks, then CMAC.
  const SecretBytes sk = Key(kAesSk);
  const Bytes data = Hex("00000000999900000000000001248000000000012420990600ABCDEF121800001C");
  for (MacPadding padding : {MacPadding::kMethod1, MacPadding::kMethod2}) {
    ASSERT_OK_AND_ASSIGN(
        ApplicationCryptogram ac,
        GenerateApplicationCryptogram(BlockCipher::kAes, sk, data, Padding(padding)));
    ASSERT_OK_AND_ASSIGN(Bytes cmac, Cmac(BlockCipher::kAes, sk, PadIso9797(data, padding, 16)));
    EXPECT_EQ(ToHex(ac), ToHex(ByteView(cmac).first(8)));
  }
}

TEST(CryptoEmvCryptogram, Sm4IsConfigurableCbcMacOrCmac) {
  const SecretBytes sk = Key("0123456789ABCDEFFEDCBA9876543210");
  const Bytes data = Hex("00000000999900000000000001568000000000015620990600ABCDEF121800001C");
  ASSERT_OK_AND_ASSIGN(ApplicationCryptogram cbc,
                       GenerateApplicationCryptogram(BlockCipher::kSm4, sk, data));
  ASSERT_OK_AND_ASSIGN(Bytes alg1,
                       Iso9797Alg1Mac(BlockCipher::kSm4, sk, data, MacPadding::kMethod2));
  EXPECT_EQ(ToHex(cbc), ToHex(ByteView(alg1).first(8)));

  CryptogramOptions cmac_options;
  cmac_options.sm4_mac = Sm4CryptogramMac::kCmac;
  ASSERT_OK_AND_ASSIGN(ApplicationCryptogram cmac,
                       GenerateApplicationCryptogram(BlockCipher::kSm4, sk, data, cmac_options));
  ASSERT_OK_AND_ASSIGN(Bytes full,
                       Cmac(BlockCipher::kSm4, sk, PadIso9797(data, MacPadding::kMethod2, 16)));
  EXPECT_EQ(ToHex(cmac), ToHex(ByteView(full).first(8)));
  EXPECT_NE(cbc, cmac);
}

TEST(CryptoEmvCryptogram, EmptyDataWithMethod1IsOneZeroBlock) {
  const SecretBytes sk = Key(kTdesSk);
  ASSERT_OK_AND_ASSIGN(
      ApplicationCryptogram empty,
      GenerateApplicationCryptogram(BlockCipher::kTdes, sk, {}, Padding(MacPadding::kMethod1)));
  ASSERT_OK_AND_ASSIGN(Bytes zero_block, Iso9797Alg3Mac(sk, Bytes(8), MacPadding::kMethod1));
  EXPECT_EQ(ToHex(empty), ToHex(zero_block));
}

TEST(CryptoEmvCryptogram, RejectsBadKeysAndOversizedData) {
  EXPECT_CODE(GenerateApplicationCryptogram(BlockCipher::kDes, Key("0123456789ABCDEF"), Hex("00")),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(
      GenerateApplicationCryptogram(
          BlockCipher::kTdes, Key("0123456789ABCDEFFEDCBA987654321089ABCDEF01234567"), Hex("00")),
      ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateApplicationCryptogram(BlockCipher::kAes, Key("0123456789ABCDEF"), Hex("00")),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateApplicationCryptogram(BlockCipher::kTdes, Key(kTdesSk),
                                            Bytes(kCryptogramDataBytesMax + 1)),
              ErrorCode::kInvalidArgument);
  EXPECT_OK(GenerateApplicationCryptogram(BlockCipher::kTdes, Key(kTdesSk),
                                          Bytes(kCryptogramDataBytesMax)));
}

TEST(CryptoEmvArpc, Method1IsTdesOfArqcXorArc) {
  const SecretBytes key = Key(kTdesSk);
  const Bytes arqc = Hex("1234567890ABCDEF");
  ASSERT_OK_AND_ASSIGN(Bytes arpc, GenerateArpcMethod1(key, arqc, Hex("0000")));
  EXPECT_EQ(ToHex(arpc), "F5E6F44147E2F1B0");  // pyemv ac.py generate_arpc_1 docstring
  ASSERT_OK_AND_ASSIGN(Bytes with_arc, GenerateArpcMethod1(key, arqc, Hex("3030")));
  ASSERT_OK_AND_ASSIGN(Bytes direct,
                       Encrypt(BlockCipher::kTdes, CipherMode::kEcb, key, Hex("2204567890ABCDEF")));
  EXPECT_EQ(with_arc, direct);
  EXPECT_OK(VerifyArpcMethod1(key, arqc, Hex("3030"), with_arc));
  EXPECT_CODE(VerifyArpcMethod1(key, arqc, Hex("3031"), with_arc), ErrorCode::kCryptoFailure);
}

TEST(CryptoEmvArpc, Method2WithProprietaryData) {
  const SecretBytes key = Key(kTdesSk);
  const Bytes arqc = Hex("1234567890ABCDEF");
  const Bytes csu = Hex("00000000");
  ASSERT_OK_AND_ASSIGN(Bytes plain, GenerateArpcMethod2(key, arqc, csu, {}));
  EXPECT_EQ(ToHex(plain), "9308BEBC");  // pyemv ac.py generate_arpc_2 docstring
  const Bytes prop = Hex("0102030405060708");
  ASSERT_OK_AND_ASSIGN(Bytes with_prop, GenerateArpcMethod2(key, arqc, csu, prop));
  ASSERT_OK_AND_ASSIGN(Bytes mac,
                       Iso9797Alg3Mac(key, Concat({arqc, csu, prop}), MacPadding::kMethod2));
  EXPECT_EQ(ToHex(with_prop), ToHex(ByteView(mac).first(4)));
  EXPECT_OK(VerifyArpcMethod2(key, arqc, csu, prop, with_prop));
  EXPECT_CODE(VerifyArpcMethod2(key, arqc, csu, {}, with_prop), ErrorCode::kCryptoFailure);
}

TEST(CryptoEmvArpc, RejectsBadLengths) {
  const SecretBytes key = Key(kTdesSk);
  const Bytes arqc = Hex("1234567890ABCDEF");
  EXPECT_CODE(GenerateArpcMethod1(key, Hex("1234"), Hex("0000")), ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateArpcMethod1(key, arqc, Hex("00")), ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateArpcMethod1(Key("0123456789ABCDEF"), arqc, Hex("0000")),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateArpcMethod2(key, arqc, Hex("000000"), {}), ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateArpcMethod2(key, arqc, Hex("00000000"), Bytes(9)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateArpcMethod2(Key("0123456789ABCDEF"), arqc, Hex("00000000"), {}),
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
