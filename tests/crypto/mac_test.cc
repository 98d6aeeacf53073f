#include "crypto/mac.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Ascii;
using testing::Hex;
using testing::Key;
using testing::ToHex;

// ---- padding (design notes section 14, pitfall 2) ----------------------------------------------

TEST(CryptoMacPadding, Method1AddsNothingToAnAlignedInput) {
  EXPECT_EQ(ToHex(PadIso9797(Hex("0102030405060708"), MacPadding::kMethod1, 8)),
            "0102030405060708");
  EXPECT_EQ(ToHex(PadIso9797(Hex("010203"), MacPadding::kMethod1, 8)), "0102030000000000");
}

TEST(CryptoMacPadding, Method1TurnsEmptyInputIntoOneZeroBlock) {
  EXPECT_EQ(ToHex(PadIso9797({}, MacPadding::kMethod1, 8)), "0000000000000000");
  EXPECT_EQ(PadIso9797({}, MacPadding::kMethod1, 16), Bytes(16, 0));
}

TEST(CryptoMacPadding, Method2AlwaysAddsAtLeastOneByte) {
  EXPECT_EQ(ToHex(PadIso9797(Hex("0102030405060708"), MacPadding::kMethod2, 8)),
            "01020304050607088000000000000000");
  EXPECT_EQ(ToHex(PadIso9797(Hex("01020304050607"), MacPadding::kMethod2, 8)), "0102030405060780");
  EXPECT_EQ(ToHex(PadIso9797({}, MacPadding::kMethod2, 8)), "8000000000000000");
  EXPECT_EQ(PadIso9797(Bytes(16, 1), MacPadding::kMethod2, 16).size(), 32u);
}

TEST(CryptoMacPadding, MethodsGiveDifferentMacsForAlignedData) {
  const SecretBytes key = Key("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
  const Bytes aligned = Hex("0123456789ABCDEF0123456789ABCDEF");
  ASSERT_OK_AND_ASSIGN(Bytes m1, Iso9797Alg3Mac(key, aligned, MacPadding::kMethod1));
  ASSERT_OK_AND_ASSIGN(Bytes m2, Iso9797Alg3Mac(key, aligned, MacPadding::kMethod2));
  EXPECT_NE(m1, m2);
  // Method 2 on aligned data is method 1 on the data plus 80 00..00.
  ASSERT_OK_AND_ASSIGN(
      Bytes m1_extended,
      Iso9797Alg3Mac(key, Concat({aligned, Hex("8000000000000000")}), MacPadding::kMethod1));
  EXPECT_EQ(m2, m1_extended);
}

// ---- algorithm 1 -------------------------------------------------------------------------------

TEST(CryptoMacAlg1, SixteenByteKeyIsNotSingleDes) {
  const Result<Bytes> mac = Iso9797Alg1Mac(
      BlockCipher::kDes, Key("0123456789ABCDEFFEDCBA9876543210"), Hex("00"), MacPadding::kMethod2);
  ASSERT_FALSE(mac.ok());
  EXPECT_EQ(mac.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(mac.status().message().find("8 bytes"), std::string::npos);
}

TEST(CryptoMacAlg1, IsTheLastCbcBlockWithZeroIcv) {
  const SecretBytes key = Key("0123456789ABCDEF");
  const Bytes data = Hex("000102030405060708090A0B0C0D0E0F1011");
  ASSERT_OK_AND_ASSIGN(Bytes mac,
                       Iso9797Alg1Mac(BlockCipher::kDes, key, data, MacPadding::kMethod2));
  const Bytes padded = PadIso9797(data, MacPadding::kMethod2, 8);
  ASSERT_OK_AND_ASSIGN(Bytes cbc,
                       Encrypt(BlockCipher::kDes, CipherMode::kCbc, key, padded, Bytes(8)));
  EXPECT_EQ(mac, Bytes(cbc.end() - 8, cbc.end()));
}

TEST(CryptoMacAlg1, LongInputCrossesInternalChunks) {
  // 1000 bytes spans several internal 512-byte chunks; compare with one CBC pass.
  const SecretBytes key = Key("0123456789ABCDEFFEDCBA9876543210");
  Bytes data(1000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
  ASSERT_OK_AND_ASSIGN(Bytes mac,
                       Iso9797Alg1Mac(BlockCipher::kTdes, key, data, MacPadding::kMethod1));
  ASSERT_OK_AND_ASSIGN(Bytes cbc, Encrypt(BlockCipher::kTdes, CipherMode::kCbc, key,
                                          PadIso9797(data, MacPadding::kMethod1, 8), Bytes(8)));
  EXPECT_EQ(mac, Bytes(cbc.end() - 8, cbc.end()));
}

// ---- algorithm 3 (pitfall 3) -------------------------------------------------------------------

TEST(CryptoMacAlg3, DiffersFromTdesCbcMacForMultiBlockData) {
  const SecretBytes key = Key("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
  const Bytes one_block = Hex("0123456789ABCDEF");
  const Bytes two_blocks = Hex("0123456789ABCDEF0123456789ABCDEF");
  // One block: both are one TDES encryption.
  ASSERT_OK_AND_ASSIGN(Bytes alg3_one, Iso9797Alg3Mac(key, one_block, MacPadding::kMethod1));
  ASSERT_OK_AND_ASSIGN(Bytes tdes_one,
                       Iso9797Alg1Mac(BlockCipher::kTdes, key, one_block, MacPadding::kMethod1));
  EXPECT_EQ(alg3_one, tdes_one);
  // Two blocks: algorithm 3 chains single DES, so the results differ.
  ASSERT_OK_AND_ASSIGN(Bytes alg3_two, Iso9797Alg3Mac(key, two_blocks, MacPadding::kMethod1));
  ASSERT_OK_AND_ASSIGN(Bytes tdes_two,
                       Iso9797Alg1Mac(BlockCipher::kTdes, key, two_blocks, MacPadding::kMethod1));
  EXPECT_NE(alg3_two, tdes_two);
}

TEST(CryptoMacAlg3, SwappedKeyHalvesGiveADifferentMac) {
  // Pitfall 8: distinct halves, so swapping K and K' is detected.
  const Bytes data = Ascii("hello world");
  ASSERT_OK_AND_ASSIGN(Bytes mac, Iso9797Alg3Mac(Key("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB"), data,
                                                 MacPadding::kMethod1));
  ASSERT_OK_AND_ASSIGN(Bytes swapped, Iso9797Alg3Mac(Key("BBBBBBBBBBBBBBBBAAAAAAAAAAAAAAAA"), data,
                                                     MacPadding::kMethod1));
  EXPECT_EQ(ToHex(mac), "78DA3D3DEB48FD4D");  // pyemv tests/test_mac.py
  EXPECT_NE(mac, swapped);
}

TEST(CryptoMacAlg3, RejectsKeysOtherThanSixteenBytes) {
  EXPECT_CODE(Iso9797Alg3Mac(Key("0123456789ABCDEF"), Hex("00"), MacPadding::kMethod1),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Iso9797Alg3Mac(Key("0123456789ABCDEFFEDCBA987654321089ABCDEF01234567"), Hex("00"),
                             MacPadding::kMethod1),
              ErrorCode::kInvalidArgument);
}

// ---- CMAC ---------------------------------------------------------------------------------------

// Doubling in GF(2^128) / GF(2^64) as in SP 800-38B 6.1, written here only to derive expected
// values independently of OpenSSL's CMAC.
Bytes Double(const Bytes& in) {
  Bytes out(in.size());
  const std::uint8_t rb = in.size() == 16 ? 0x87 : 0x1B;
  for (std::size_t i = 0; i < in.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(in[i] << 1);
    if (i + 1 < in.size()) out[i] |= static_cast<std::uint8_t>(in[i + 1] >> 7);
  }
  if ((in[0] & 0x80) != 0) out.back() ^= rb;
  return out;
}

TEST(CryptoCmac, Sm4CmacMatchesSp800_38bConstructionOverSm4Ecb) {
  // No published CMAC-SM4 vector is in tests/vectors; check the OpenSSL wiring against the
  // SP 800-38B definition computed from SM4-ECB (whose vector is published).
  const SecretBytes key = Key("0123456789ABCDEFFEDCBA9876543210");
  ASSERT_OK_AND_ASSIGN(Bytes l, Encrypt(BlockCipher::kSm4, CipherMode::kEcb, key, Bytes(16)));
  const Bytes k1 = Double(l);
  const Bytes k2 = Double(k1);
  // Empty message: CMAC = E(80 00..00 XOR K2).
  Bytes last = k2;
  last[0] ^= 0x80;
  ASSERT_OK_AND_ASSIGN(Bytes expected_empty,
                       Encrypt(BlockCipher::kSm4, CipherMode::kEcb, key, last));
  ASSERT_OK_AND_ASSIGN(Bytes empty, Cmac(BlockCipher::kSm4, key, {}));
  EXPECT_EQ(empty, expected_empty);
  // One full block M: CMAC = E(M XOR K1).
  const Bytes m = Hex("0123456789ABCDEFFEDCBA9876543210");
  Bytes masked = m;
  for (std::size_t i = 0; i < 16; ++i) masked[i] ^= k1[i];
  ASSERT_OK_AND_ASSIGN(Bytes expected_block,
                       Encrypt(BlockCipher::kSm4, CipherMode::kEcb, key, masked));
  ASSERT_OK_AND_ASSIGN(Bytes block, Cmac(BlockCipher::kSm4, key, m));
  EXPECT_EQ(block, expected_block);
}

TEST(CryptoCmac, OutputSizesAndKeyChecks) {
  ASSERT_OK_AND_ASSIGN(
      Bytes aes192, Cmac(BlockCipher::kAes, Key("8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B"),
                         Hex("6BC1BEE22E409F96E93D7E117393172A")));
  EXPECT_EQ(ToHex(aes192), "9E99A7BF31E710900662F65E617C5184");  // SP 800-38B D.2 example 10
  ASSERT_OK_AND_ASSIGN(
      Bytes tdes, Cmac(BlockCipher::kTdes, Key("0123456789ABCDEF23456789ABCDEF01"), Hex("00")));
  EXPECT_EQ(tdes.size(), 8u);
  EXPECT_CODE(Cmac(BlockCipher::kDes, Key("0123456789ABCDEF"), Hex("00")),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(Cmac(BlockCipher::kAes, Key("0123456789ABCDEF"), Hex("00")),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(
      Cmac(BlockCipher::kSm4, Key("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"), Hex("00")),
      ErrorCode::kInvalidArgument);
}

// ---- HMAC ---------------------------------------------------------------------------------------

TEST(CryptoHmac, Rfc4231TestCases1And2) {
  ASSERT_OK_AND_ASSIGN(Bytes tc1, HmacSha256(SecretBytes(Bytes(20, 0x0B)), Ascii("Hi There")));
  EXPECT_EQ(ToHex(tc1), "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7");
  ASSERT_OK_AND_ASSIGN(
      Bytes tc2, HmacSha256(SecretBytes(Ascii("Jefe")), Ascii("what do ya want for nothing?")));
  EXPECT_EQ(ToHex(tc2), "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
}

TEST(CryptoHmac, RejectsEmptyAndHugeKeys) {
  EXPECT_CODE(HmacSha256(SecretBytes(), Ascii("x")), ErrorCode::kInvalidArgument);
  EXPECT_CODE(HmacSha256(SecretBytes(Bytes(kHmacKeyBytesMax + 1, 1)), Ascii("x")),
              ErrorCode::kInvalidArgument);
}

TEST(CryptoMac, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals(Hex("0102"), Hex("0102")));
  EXPECT_FALSE(ConstantTimeEquals(Hex("0102"), Hex("0103")));
  EXPECT_FALSE(ConstantTimeEquals(Hex("0102"), Hex("010203")));
  EXPECT_TRUE(ConstantTimeEquals({}, {}));
}

}  // namespace
}  // namespace tapstack::crypto
