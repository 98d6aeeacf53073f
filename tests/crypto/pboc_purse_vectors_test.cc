// Every vector in tests/vectors/pboc_purse.json, computed through crypto/purse_crypto.h: PBOC
// electronic purse (JR/T 0025 style) session keys = two-key TDES-ECB(card key, input); MAC1/MAC2 =
// leftmost 4 bytes of single-DES CBC-MAC (ISO/IEC 9797-1 algorithm 1, ICV 0) with padding method 2.
#include <gtest/gtest.h>

#include <string>

#include "crypto/purse_crypto.h"
#include "crypto_test_util.h"
#include "support/vectors.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

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
      ASSERT_OK_AND_ASSIGN(SecretBytes sk,
                           DerivePurseSessionKey(PurseAlgorithm::kTdes, Key(card_key),
                                                 Hex(v.at("session_key_input").get<std::string>())));
      EXPECT_EQ(ToHex(sk.reveal()), v.at("expected_session_key").get<std::string>());
      ++session_keys;
    } else if (v.contains("expected_mac")) {
      ASSERT_OK_AND_ASSIGN(PurseMac mac,
                           PurseSessionMac(PurseAlgorithm::kTdes,
                                           Key(v.at("session_key").get<std::string>()),
                                           Hex(v.at("data").get<std::string>())));
      EXPECT_EQ(ToHex(mac), v.at("expected_mac").get<std::string>());
      ++macs;
    } else {
      ADD_FAILURE() << "unknown PBOC vector shape: " << id;
    }
  }
  EXPECT_EQ(session_keys, 2);
  EXPECT_EQ(macs, 4);
}

// The published session-key inputs are exactly what the input builders produce from their parts.
TEST(CryptoPbocVectors, SessionInputsAreBuiltFromTheirParts) {
  const Bytes random = Hex("11223344");
  EXPECT_EQ(ToHex(LoadSessionInput(random, 0x0000)), "1122334400008000");
  EXPECT_EQ(ToHex(PurchaseSessionInput(random, 0x0000, 0x00010001)), "1122334400000001");
}

// The session keys chain into the MACs: deriving the key and using it gives the published MAC.
TEST(CryptoPbocVectors, DerivedSessionKeyProducesPublishedMac) {
  const nlohmann::json doc = tapstack::testing::LoadVectors("pboc_purse.json");
  const nlohmann::json sk_vector = tapstack::testing::VectorById(doc, "PURCHASE-SK");
  for (const char* mac_id : {"PURCHASE-MAC1", "PURCHASE-MAC2"}) {
    SCOPED_TRACE(mac_id);
    const nlohmann::json mac_vector = tapstack::testing::VectorById(doc, mac_id);
    ASSERT_OK_AND_ASSIGN(
        SecretBytes sk,
        DerivePurseSessionKey(PurseAlgorithm::kTdes,
                              Key(sk_vector.at("card_key_dpk").get<std::string>()),
                              Hex(sk_vector.at("session_key_input").get<std::string>())));
    ASSERT_OK_AND_ASSIGN(PurseMac mac, PurseSessionMac(PurseAlgorithm::kTdes, sk,
                                                       Hex(mac_vector.at("data").get<std::string>())));
    EXPECT_EQ(ToHex(mac), mac_vector.at("expected_mac").get<std::string>());
  }
}

}  // namespace
}  // namespace tapstack::crypto
