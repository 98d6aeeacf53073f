// Every vector in tests/vectors/pboc_purse.json: PBOC electronic purse (JR/T 0025 style) session
// keys = two-key TDES-ECB(card key, input); MAC1/MAC2 = leftmost 4 bytes of single-DES CBC-MAC
// (ISO/IEC 9797-1 algorithm 1, ICV 0) with padding method 2.
#include <gtest/gtest.h>

#include <string>

#include "crypto/block_cipher.h"
#include "crypto/mac.h"
#include "crypto_test_util.h"
#include "support/vectors.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

constexpr std::size_t kPbocMacBytes = 4;

TEST(CryptoPbocVectors, EveryVectorPasses) {
  const nlohmann::json doc = tapstack::testing::LoadVectors("pboc_purse.json");
  int session_keys = 0;
  int macs = 0;
  for (const nlohmann::json& v : doc.at("vectors")) {
    const std::string id = v.at("id");
    SCOPED_TRACE(id);
    if (v.contains("session_key_input")) {
      const std::string card_key =
          v.contains("card_key_dlk") ? v.at("card_key_dlk") : v.at("card_key_dpk");
      ASSERT_OK_AND_ASSIGN(Bytes sk, Encrypt(BlockCipher::kTdes, CipherMode::kEcb, Key(card_key),
                                             Hex(v.at("session_key_input").get<std::string>())));
      EXPECT_EQ(ToHex(sk), v.at("expected_session_key").get<std::string>());
      ++session_keys;
    } else if (v.contains("expected_mac")) {
      ASSERT_OK_AND_ASSIGN(
          Bytes mac, Iso9797Alg1Mac(BlockCipher::kDes, Key(v.at("session_key").get<std::string>()),
                                    Hex(v.at("data").get<std::string>()), MacPadding::kMethod2));
      mac.resize(kPbocMacBytes);
      EXPECT_EQ(ToHex(mac), v.at("expected_mac").get<std::string>());
      ++macs;
    } else {
      ADD_FAILURE() << "unknown PBOC vector shape: " << id;
    }
  }
  EXPECT_EQ(session_keys, 2);
  EXPECT_EQ(macs, 4);
}

// The session keys chain into the MACs: deriving the key and using it gives the published MAC.
TEST(CryptoPbocVectors, DerivedSessionKeyProducesPublishedMac) {
  const nlohmann::json doc = tapstack::testing::LoadVectors("pboc_purse.json");
  const nlohmann::json sk_vector = tapstack::testing::VectorById(doc, "PURCHASE-SK");
  const nlohmann::json mac_vector = tapstack::testing::VectorById(doc, "PURCHASE-MAC1");
  ASSERT_OK_AND_ASSIGN(Bytes sk,
                       Encrypt(BlockCipher::kTdes, CipherMode::kEcb,
                               Key(sk_vector.at("card_key_dpk").get<std::string>()),
                               Hex(sk_vector.at("session_key_input").get<std::string>())));
  ASSERT_OK_AND_ASSIGN(Bytes mac, Iso9797Alg1Mac(BlockCipher::kDes, SecretBytes(sk),
                                                 Hex(mac_vector.at("data").get<std::string>()),
                                                 MacPadding::kMethod2));
  EXPECT_EQ(ToHex(ByteView(mac).first(kPbocMacBytes)),
            mac_vector.at("expected_mac").get<std::string>());
}

}  // namespace
}  // namespace tapstack::crypto
