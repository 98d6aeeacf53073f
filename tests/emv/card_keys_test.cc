#include "emv/card_keys.h"

#include <gtest/gtest.h>

#include "crypto/block_cipher.h"
#include "crypto/emv_key_derivation.h"
#include "emv_test_util.h"

namespace tapstack::emv {
namespace {

using crypto::BlockCipher;
using crypto::SecretBytes;
using testing::Hex;
using testing::ToHex;

SecretBytes Key(std::string_view hex) { return SecretBytes::FromHex(hex).value(); }

std::string Encrypted(BlockCipher cipher, const SecretBytes& key, std::string_view block_hex) {
  const Bytes block = Hex(block_hex);
  Result<Bytes> out = crypto::Encrypt(cipher, crypto::CipherMode::kEcb, key, block);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? ToHex(*out) : "";
}

TEST(CardKeysTest, TdesMethodsAreTheCryptoDerivations) {
  const SecretBytes imk = Key("0123456789ABCDEFFEDCBA9876543210");
  EMV_ASSERT_OK_AND_ASSIGN(
      const SecretBytes a,
      DeriveCardMasterKey(*FindCryptogramProfile("mc-cvn20"), imk, "99012345678901234", "45"));
  EXPECT_EQ(ToHex(a.reveal()), "67F8292358083E5EA7AB7FDA58D53B6B");  // MKD-A vector
  EMV_ASSERT_OK_AND_ASSIGN(
      const SecretBytes b,
      DeriveCardMasterKey(*FindCryptogramProfile("visa-cvn18"), imk, "12345678901234567", "01"));
  EXPECT_EQ(ToHex(b.reveal()), "AD406D7F6D7570916D75E5DCAB8CF737");  // MKD-B vector
}

TEST(CardKeysTest, AesOptionCFollowsTheDocumentedLayout) {
  // [uncertain] method: this checks the layout the profile documents, not a published vector.
  const SecretBytes imk = Key("2B7E151628AED2A6ABF7158809CF4F3C");
  const CryptogramProfile& profile = *FindCryptogramProfile("emv-ccd-aes");
  EMV_ASSERT_OK_AND_ASSIGN(const SecretBytes mk,
                           DeriveCardMasterKey(profile, imk, "5413330089020011", "01"));
  // Y = PAN || PSN left-padded with 0 to 32 digits.
  EXPECT_EQ(ToHex(mk.reveal()),
            Encrypted(BlockCipher::kAes, imk, "00000000000000541333008902001101"));

  const SecretBytes imk256 =
      Key("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4");
  EMV_ASSERT_OK_AND_ASSIGN(const SecretBytes mk256,
                           DeriveCardMasterKey(profile, imk256, "5413330089020011", "01"));
  EXPECT_EQ(ToHex(mk256.reveal()),
            Encrypted(BlockCipher::kAes, imk256, "00000000000000541333008902001101") +
                Encrypted(BlockCipher::kAes, imk256, "FFFFFFFFFFFFFFABECCCFF76FDFFEEFE"));
}

TEST(CardKeysTest, Sm4MasterKeyFollowsTheDocumentedLayout) {
  // [uncertain] method: SM4(IMK)[Y || ~Y], Y = rightmost 16 digits of PAN || PSN.
  const SecretBytes imk = Key("0123456789ABCDEFFEDCBA9876543210");
  EMV_ASSERT_OK_AND_ASSIGN(
      const SecretBytes mk,
      DeriveCardMasterKey(*FindCryptogramProfile("pboc-sm4"), imk, "6222021234567890123", "01"));
  EXPECT_EQ(ToHex(mk.reveal()), Encrypted(BlockCipher::kSm4, imk,
                                          "2123456789012301"
                                          "DEDCBA9876FEDCFE"));
}

TEST(CardKeysTest, SessionKeysPerMethod) {
  const SecretBytes mk = Key("0123456789ABCDEFFEDCBA9876543210");
  EMV_ASSERT_OK_AND_ASSIGN(
      const SecretBytes none,
      DeriveCardSessionKey(*FindCryptogramProfile("visa-cvn10"), mk, 0x001C, {}));
  EXPECT_TRUE(none.EqualsConstantTime(mk));
  EMV_ASSERT_OK_AND_ASSIGN(
      const SecretBytes csk,
      DeriveCardSessionKey(*FindCryptogramProfile("mc-cvn20"), mk, 0x001C, {}));
  EXPECT_EQ(ToHex(csk.reveal()), "E9FB384AF807B940FEDCEA613461B0C4");  // CSK-doc vector
  EXPECT_FALSE(DeriveCardSessionKey(*FindCryptogramProfile("mc-cvn16"), mk, 0x001C, {}).ok());
}

TEST(CardKeysTest, BadInputsAreRefused) {
  const SecretBytes aes = Key("2B7E151628AED2A6ABF7158809CF4F3C");
  const CryptogramProfile& profile = *FindCryptogramProfile("emv-ccd-aes");
  EXPECT_FALSE(DeriveCardMasterKey(profile, aes, "54133300890", "01").ok());
  EXPECT_FALSE(DeriveCardMasterKey(profile, aes, "5413330089020011", "1").ok());
  EXPECT_FALSE(DeriveCardMasterKey(profile, aes, "541333008902001X", "01").ok());
  EXPECT_FALSE(DeriveCardMasterKey(profile, Key("0123456789ABCDEF"), "5413330089020011", "").ok());
  EXPECT_TRUE(DeriveCardMasterKey(profile, aes, "5413330089020011", "").ok());  // PSN absent
}

}  // namespace
}  // namespace tapstack::emv
