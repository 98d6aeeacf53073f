// TokenKeys: SE credentials open only on their device; HCE batches never reuse an ATC.
#include "tsp/token_keys.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/device_key_wrap.h"
#include "device/token_credentials.h"
#include "emv/card_keys.h"
#include "emv/cryptogram_profile.h"
#include "provisioning_test_support.h"

namespace tapstack::tsp {
namespace {

using testing::MakeDevice;
using testing::TestDevice;

class TokenKeysTest : public testing::VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    OpenKeys();
  }
  void OpenKeys() {
    std::vector<TokenRangeKeys> ranges;
    ranges.push_back(testing::DemoRangeKeys());
    auto keys = TokenKeys::Open(*store_, *vault_, clock_, std::move(ranges));
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
  }
  Result<device::TokenCredentials> Open(const TestDevice& d, const TokenRecord& t,
                                        const Bytes& blob, bool replenishment = false) {
    TS_ASSIGN_OR_RETURN(crypto::SecretBytes plain,
                        crypto::UnwrapOnDevice(d.key, d.id, t.token_id, blob));
    return device::DecodeTokenCredentials(plain.reveal(), replenishment);
  }

  TestDevice phone_ = MakeDevice("se-0001");
  std::unique_ptr<TokenKeys> keys_;
};

TEST_P(TokenKeysTest, SeCredentialsCarryTheDerivedMasterKeyForThatDeviceOnly) {
  const TokenRecord t = ActiveToken(testing::kTestPanVisa);
  ASSERT_TRUE(keys_->Bind(t.token_id, KeyStorage::kSe, phone_.public_key).ok());
  auto blob = keys_->WrappedCredentials(t.token_id);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  auto c = Open(phone_, t, *blob);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mode, device::KeyMode::kMasterKey);
  EXPECT_EQ(c->token_number, t.token_number);
  EXPECT_EQ(c->expiry_yymm, t.token_expiry);
  EXPECT_EQ(c->psn, "00");
  auto mk = emv::DeriveCardMasterKey(*emv::FindCryptogramProfile("mc-cvn20"),
                                     testing::DemoRangeKeys().issuer_master_key, t.token_number,
                                     "00");
  ASSERT_TRUE(mk.ok());
  EXPECT_TRUE(c->icc_master_key.EqualsConstantTime(*mk));

  // Another device (other key, or the same key under another id) cannot open it.
  const TestDevice watch = MakeDevice("se-0001");
  EXPECT_EQ(Open(watch, t, *blob).status().code(), ErrorCode::kCryptoFailure);
  TestDevice renamed{"se-0002", std::move(phone_.key), phone_.public_key};
  EXPECT_EQ(Open(renamed, t, *blob).status().code(), ErrorCode::kCryptoFailure);
  // An SE token gets no replenishment.
  EXPECT_EQ(keys_->ReplenishBatch(t.token_id, 5).status().code(), ErrorCode::kFailedPrecondition);
}

TEST_P(TokenKeysTest, HceBatchesNeverReuseAnAtcAcrossReopen) {
  const TokenRecord t = ActiveToken(testing::kTestPanVisa);
  ASSERT_TRUE(keys_->Bind(t.token_id, KeyStorage::kHce, phone_.public_key).ok());
  auto first = keys_->WrappedCredentials(t.token_id);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto c = Open(phone_, t, *first);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mode, device::KeyMode::kLimitedUse);
  EXPECT_TRUE(c->icc_master_key.empty());
  ASSERT_EQ(c->limited_use_keys.size(), kHceInitialKeys);
  std::set<std::uint16_t> atcs;
  for (const auto& k : c->limited_use_keys) EXPECT_TRUE(atcs.insert(k.atc).second);
  EXPECT_EQ(*atcs.begin(), 1);

  // The key for an ATC is the session key the TSP verifies ARQCs with.
  const auto& profile = *emv::FindCryptogramProfile("mc-cvn20");
  auto mk = emv::DeriveCardMasterKey(profile, testing::DemoRangeKeys().issuer_master_key,
                                     t.token_number, "00");
  auto sk = emv::DeriveCardSessionKey(profile, *mk, c->limited_use_keys[0].atc, {});
  EXPECT_TRUE(c->limited_use_keys[0].session_key.EqualsConstantTime(*sk));

  // Reopen everything (a TSP restart): the next batch continues after the last ATC issued.
  keys_.reset();
  vault_.reset();
  Reopen();
  auto vault = OpenVault(*store_, testing::DemoKek1());
  ASSERT_TRUE(vault.ok());
  vault_ = std::move(*vault);
  OpenKeys();
  auto batch = keys_->ReplenishBatch(t.token_id, 7);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  auto r = Open(phone_, t, *batch, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->limited_use_keys.size(), 7u);
  for (const auto& k : r->limited_use_keys) EXPECT_TRUE(atcs.insert(k.atc).second) << k.atc;
  EXPECT_EQ(*keys_->NextAtc(t.token_id), kHceInitialKeys + 7 + 1);
  EXPECT_EQ(keys_->ReplenishBatch(t.token_id, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(keys_->ReplenishBatch(t.token_id, device::kLimitedUseKeysPerBatchMax + 1).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(TokenKeysTest, OnlyActiveTokensAndGoodKeys) {
  auto t = vault_->Tokenize(testing::TestPan(testing::kTestPanVisa), testing::DemoRequest());
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(keys_->Bind(t->record.token_id, KeyStorage::kSe, phone_.public_key).ok());
  EXPECT_EQ(keys_->WrappedCredentials(t->record.token_id).status().code(),
            ErrorCode::kFailedPrecondition);
  Bytes bad = phone_.public_key;
  bad[10] ^= 0x01;  // no longer on the curve
  const Status s = keys_->Bind(t->record.token_id, KeyStorage::kSe, bad);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("device_public_key:", 0), 0u);
  EXPECT_EQ(ParseKeyStorage("tee").status().code(), ErrorCode::kInvalidArgument);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(TokenKeysTest);

}  // namespace
}  // namespace tapstack::tsp
