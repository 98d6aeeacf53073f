// Every vector in tests/vectors/sm_crypto.json: SM4 (GB/T 32907-2016 App. A example 1) and SM3
// (GB/T 32905-2016 App. A example 1).
#include <gtest/gtest.h>

#include <string>

#include "crypto/block_cipher.h"
#include "crypto/hash.h"
#include "crypto_test_util.h"
#include "support/vectors.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

TEST(CryptoSmVectors, EveryVectorPasses) {
  const nlohmann::json doc = tapstack::testing::LoadVectors("sm_crypto.json");
  int checked = 0;
  for (const nlohmann::json& v : doc.at("vectors")) {
    const std::string id = v.at("id");
    SCOPED_TRACE(id);
    if (v.contains("plaintext")) {
      const SecretBytes key = Key(v.at("key").get<std::string>());
      const Bytes plaintext = Hex(v.at("plaintext").get<std::string>());
      ASSERT_OK_AND_ASSIGN(Bytes ciphertext,
                           Encrypt(BlockCipher::kSm4, CipherMode::kEcb, key, plaintext));
      EXPECT_EQ(ToHex(ciphertext), v.at("expected_ciphertext").get<std::string>());
      ASSERT_OK_AND_ASSIGN(Bytes back,
                           Decrypt(BlockCipher::kSm4, CipherMode::kEcb, key, ciphertext));
      EXPECT_EQ(back, plaintext);
      ++checked;
    } else if (v.contains("message_ascii")) {
      ASSERT_OK_AND_ASSIGN(Bytes digest,
                           Sm3(testing::Ascii(v.at("message_ascii").get<std::string>())));
      EXPECT_EQ(ToHex(digest), v.at("expected_digest").get<std::string>());
      ++checked;
    } else {
      ADD_FAILURE() << "unknown SM vector shape: " << id;
    }
  }
  EXPECT_EQ(checked, 2);
}

}  // namespace
}  // namespace tapstack::crypto
