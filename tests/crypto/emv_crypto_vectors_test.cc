// Every vector in tests/vectors/emv_crypto.json, dispatched on its "algo". APDU and DOL vectors
// belong to the codec module and are skipped here by name; any other algo this file does not know
// fails the test, so a vector added to the file cannot be silently ignored.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "core/pan.h"
#include "crypto/block_cipher.h"
#include "crypto/emv_cryptogram.h"
#include "crypto/emv_key_derivation.h"
#include "crypto/kcv.h"
#include "crypto/mac.h"
#include "crypto_test_util.h"
#include "support/vectors.h"

namespace tapstack::crypto {
namespace {

using nlohmann::json;
using testing::Hex;
using testing::Key;
using testing::ToHex;

std::string S(const json& v, const char* field) { return v.at(field).get<std::string>(); }

std::uint16_t AtcFromHex(const std::string& hex) {
  const Bytes atc = Hex(hex);
  return static_cast<std::uint16_t>((atc.at(0) << 8) | atc.at(1));
}

void CheckArpcs(const json& v, const SecretBytes& key, const Bytes& arqc) {
  for (const json& a : v.at("arpc")) {
    SCOPED_TRACE("ARPC method " + std::to_string(a.at("method").get<int>()));
    if (a.at("method") == 1) {
      ASSERT_OK_AND_ASSIGN(Bytes arpc, GenerateArpcMethod1(key, arqc, Hex(S(a, "arc"))));
      EXPECT_EQ(ToHex(arpc), S(a, "expected_arpc"));
      EXPECT_OK(VerifyArpcMethod1(key, arqc, Hex(S(a, "arc")), arpc));
    } else {
      ASSERT_OK_AND_ASSIGN(Bytes arpc, GenerateArpcMethod2(key, arqc, Hex(S(a, "csu")), {}));
      EXPECT_EQ(ToHex(arpc), S(a, "expected_arpc"));
      EXPECT_OK(VerifyArpcMethod2(key, arqc, Hex(S(a, "csu")), {}, arpc));
    }
  }
}

void CheckMasterKey(const json& v, bool option_b) {
  const SecretBytes imk = Key(S(v, "imk"));
  const Result<SecretBytes> mk = option_b
                                     ? DeriveIccMasterKeyOptionB(imk, S(v, "pan"), S(v, "psn"))
                                     : DeriveIccMasterKeyOptionA(imk, S(v, "pan"), S(v, "psn"));
  ASSERT_TRUE(mk.ok()) << mk.status().ToString();
  EXPECT_EQ(ToHex(mk->reveal()), S(v, "expected_icc_mk"));
  EXPECT_TRUE(HasOddParity(mk->reveal()));
}

void CheckCommonSessionKey(const json& v) {
  ASSERT_OK_AND_ASSIGN(SecretBytes sk, DeriveCommonSessionKey(BlockCipher::kTdes,
                                                              Key(S(v, "icc_mk")), Hex(S(v, "r"))));
  EXPECT_EQ(ToHex(sk.reveal()), S(v, "expected_sk"));
}

// PYEMV-AC-DOC1/2 and PYEMV-ARPC-DOC: MAC algorithm 3 with padding 2, then ARPCs under the same
// key (an ARQC is given directly when there is no ac_data).
void CheckPyemvDoc(const json& v) {
  const SecretBytes sk = Key(S(v, "sk"));
  Bytes arqc;
  if (v.contains("ac_data")) {
    CryptogramOptions options;
    options.padding = MacPadding::kMethod2;
    ASSERT_OK_AND_ASSIGN(
        ApplicationCryptogram ac,
        GenerateApplicationCryptogram(BlockCipher::kTdes, sk, Hex(S(v, "ac_data")), options));
    EXPECT_EQ(ToHex(ac), S(v, "expected_arqc"));
    EXPECT_OK(
        VerifyApplicationCryptogram(BlockCipher::kTdes, sk, Hex(S(v, "ac_data")), ac, options));
    arqc.assign(ac.begin(), ac.end());
  } else {
    arqc = Hex(S(v, "arqc"));
  }
  if (v.contains("arpc")) CheckArpcs(v, sk, arqc);
}

void CheckRetailMac(const json& v) {
  const Bytes data = Hex(S(v, "data_hex"));
  ASSERT_EQ(data, testing::Ascii(S(v, "data_ascii")));
  const SecretBytes key = Key(S(v, "key_k") + S(v, "key_k2"));
  const MacPadding padding =
      v.at("padding_method") == 1 ? MacPadding::kMethod1 : MacPadding::kMethod2;
  ASSERT_OK_AND_ASSIGN(Bytes mac, Iso9797Alg3Mac(key, data, padding));
  EXPECT_EQ(ToHex(mac), S(v, "expected_mac"));
}

// The full Mastercard CVN 20 chain: IMK -> ICC MK (Option A) -> CSK from the ATC -> ARQC over
// the tag data || CVR with padding 2 -> ARPC method 1 under the session key.
void CheckMastercardCvn20(const json& v) {
  const json& tags = v.at("tags");
  ASSERT_OK_AND_ASSIGN(SecretBytes mk,
                       DeriveIccMasterKeyOptionA(Key(S(v, "imk_ac")), S(v, "pan"), S(v, "psn")));
  EXPECT_EQ(ToHex(mk.reveal()), S(v, "expanded_icc_mk_ac"));
  ASSERT_OK_AND_ASSIGN(SecretBytes sk, DeriveCommonSessionKeyFromAtc(BlockCipher::kTdes, mk,
                                                                     AtcFromHex(S(tags, "9F36"))));
  EXPECT_EQ(ToHex(sk.reveal()), S(v, "expanded_sk_ac"));
  ASSERT_OK_AND_ASSIGN(Bytes kcv, KeyCheckValue(BlockCipher::kTdes, sk, 2));
  EXPECT_EQ(ToHex(kcv), S(v, "sk_kcv2"));

  // The AC data starts with the tag values in CDOL order, then the CVR.
  std::string tag_data;
  for (const char* tag : {"9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37", "82", "9F36"}) {
    tag_data += S(tags, tag);
  }
  const std::string ac_data = S(v, "ac_data");
  EXPECT_EQ(ac_data.substr(0, tag_data.size()), tag_data);

  ASSERT_OK_AND_ASSIGN(ApplicationCryptogram ac,
                       GenerateApplicationCryptogram(BlockCipher::kTdes, sk, Hex(ac_data)));
  EXPECT_EQ(ToHex(ac), S(v, "expected_arqc"));
  for (const json& a : v.at("arpc")) {
    ASSERT_EQ(S(a, "key"), "sk");
  }
  CheckArpcs(v, sk, Bytes(ac.begin(), ac.end()));
}

void CheckCmac(const json& v, BlockCipher cipher) {
  ASSERT_OK_AND_ASSIGN(Bytes mac, Cmac(cipher, Key(S(v, "key")), Hex(S(v, "msg"))));
  EXPECT_EQ(ToHex(mac), S(v, "expected_cmac"));
}

// RFC 4493 subkeys are internal to CMAC; they are checked through the public API:
// L = AES(K, 0); for a one-block message M, CMAC = AES(K, M XOR K1), so K1 = AES^-1(K, CMAC) XOR M;
// for the empty message CMAC = AES(K, 80 00..00 XOR K2).
void CheckCmacSubkeys(const json& v) {
  const SecretBytes key = Key(S(v, "key"));
  const Bytes zero(16, 0);
  ASSERT_OK_AND_ASSIGN(Bytes l, Encrypt(BlockCipher::kAes, CipherMode::kEcb, key, zero));
  EXPECT_EQ(ToHex(l), S(v, "expected_L"));

  ASSERT_OK_AND_ASSIGN(Bytes mac_zero_block, Cmac(BlockCipher::kAes, key, zero));
  ASSERT_OK_AND_ASSIGN(Bytes k1, Decrypt(BlockCipher::kAes, CipherMode::kEcb, key, mac_zero_block));
  EXPECT_EQ(ToHex(k1), S(v, "expected_K1"));  // M = 0, so K1 = AES^-1(CMAC)

  ASSERT_OK_AND_ASSIGN(Bytes mac_empty, Cmac(BlockCipher::kAes, key, {}));
  ASSERT_OK_AND_ASSIGN(Bytes k2, Decrypt(BlockCipher::kAes, CipherMode::kEcb, key, mac_empty));
  k2[0] ^= 0x80;  // remove the padding block 80 00..00
  EXPECT_EQ(ToHex(k2), S(v, "expected_K2"));
}

void CheckLuhn(const json& v) {
  const std::string number = S(v, "number");
  EXPECT_EQ(LuhnValid(number), v.at("expected_valid").get<bool>());
  if (!v.at("expected_check_digit_to_append").is_null()) {
    ASSERT_OK_AND_ASSIGN(char digit, LuhnCheckDigit(number));
    EXPECT_EQ(std::string(1, digit), S(v, "expected_check_digit_to_append"));
    EXPECT_TRUE(LuhnValid(number + digit));
  }
}

void CheckKcv(const json& v) {
  const SecretBytes key = Key(S(v, "key"));
  ASSERT_OK_AND_ASSIGN(Bytes kcv3, KeyCheckValue(BlockCipher::kTdes, key));
  EXPECT_EQ(ToHex(kcv3), S(v, "expected_kcv3"));
  ASSERT_OK_AND_ASSIGN(Bytes kcv8, KeyCheckValue(BlockCipher::kTdes, key, 8));
  EXPECT_EQ(ToHex(kcv8), S(v, "expected_kcv8"));
}

TEST(CryptoEmvVectors, EveryVectorPassesOrIsSkippedByName) {
  const json doc = tapstack::testing::LoadVectors("emv_crypto.json");
  // Codec vectors (APDU building, GPO parsing, DOL building) are tested by the codec module.
  const std::set<std::string> not_crypto = {"apdu", "gpo", "dol_build"};
  int checked = 0;
  int skipped = 0;
  for (const json& v : doc.at("vectors")) {
    const std::string id = S(v, "id");
    const std::string algo = S(v, "algo");
    SCOPED_TRACE(id);
    if (not_crypto.count(algo) != 0) {
      ++skipped;
      continue;
    }
    ++checked;
    if (algo == "icc_mk_option_a") {
      CheckMasterKey(v, false);
    } else if (algo == "icc_mk_option_b") {
      CheckMasterKey(v, true);
    } else if (algo == "emv_csk_tdes") {
      CheckCommonSessionKey(v);
    } else if (id.rfind("PYEMV-", 0) == 0) {
      CheckPyemvDoc(v);
    } else if (algo == "iso9797_1_mac_alg3_des") {
      CheckRetailMac(v);
    } else if (id == "CVN-MC-20") {
      CheckMastercardCvn20(v);
    } else if (algo == "aes_cmac") {
      CheckCmac(v, BlockCipher::kAes);
    } else if (algo == "tdes_cmac") {
      CheckCmac(v, BlockCipher::kTdes);
    } else if (algo == "aes_cmac subkeys") {
      CheckCmacSubkeys(v);
    } else if (algo == "luhn") {
      CheckLuhn(v);
    } else if (algo == "kcv_tdes_legacy") {
      CheckKcv(v);
    } else {
      ADD_FAILURE() << "vector " << id << " has an algo this test does not know: " << algo;
    }
  }
  // 24 crypto vectors and 8 codec vectors in the file as copied; a change shows up here.
  EXPECT_EQ(checked, 24);
  EXPECT_EQ(skipped, 8);
}

}  // namespace
}  // namespace tapstack::crypto
