#include "device/token_credentials.h"

#include <gtest/gtest.h>

#include "device_test_util.h"

namespace tapstack::device {
namespace {

using testing::HceCredentials;
using testing::Hex;
using testing::MasterKeyCredentials;

TEST(TokenCredentialsTest, MasterKeyCredentialsRoundTrip) {
  const TokenCredentials c = MasterKeyCredentials();
  DEVICE_ASSERT_OK_AND_ASSIGN(const crypto::SecretBytes encoded, EncodeTokenCredentials(c));
  DEVICE_ASSERT_OK_AND_ASSIGN(const TokenCredentials back,
                              DecodeTokenCredentials(encoded.reveal()));
  EXPECT_EQ(back.token_id, c.token_id);
  EXPECT_EQ(back.token_number, c.token_number);
  EXPECT_EQ(back.expiry_yymm, c.expiry_yymm);
  EXPECT_EQ(back.psn, c.psn);
  EXPECT_EQ(back.profile_name, c.profile_name);
  EXPECT_EQ(back.mode, KeyMode::kMasterKey);
  EXPECT_TRUE(back.icc_master_key.EqualsConstantTime(c.icc_master_key));
}

TEST(TokenCredentialsTest, LimitedUseBatchRoundTrips) {
  const TokenCredentials c = HceCredentials("tok-h", 5);
  DEVICE_ASSERT_OK_AND_ASSIGN(const crypto::SecretBytes encoded, EncodeTokenCredentials(c));
  DEVICE_ASSERT_OK_AND_ASSIGN(const TokenCredentials back,
                              DecodeTokenCredentials(encoded.reveal()));
  ASSERT_EQ(back.limited_use_keys.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(back.limited_use_keys[i].atc, c.limited_use_keys[i].atc);
    EXPECT_TRUE(
        back.limited_use_keys[i].session_key.EqualsConstantTime(c.limited_use_keys[i].session_key));
  }
  // A replenishment batch carries the id, the mode and the keys only.
  TokenCredentials batch;
  batch.token_id = "tok-h";
  batch.mode = KeyMode::kLimitedUse;
  batch.limited_use_keys = testing::LimitedUseKeys(6, 2);
  DEVICE_ASSERT_OK_AND_ASSIGN(const crypto::SecretBytes b, EncodeTokenCredentials(batch, true));
  DEVICE_ASSERT_OK_AND_ASSIGN(const TokenCredentials bb, DecodeTokenCredentials(b.reveal(), true));
  EXPECT_EQ(bb.limited_use_keys.size(), 2u);
  // ... and is not a full provisioning.
  EXPECT_FALSE(DecodeTokenCredentials(b.reveal()).ok());
}

TEST(TokenCredentialsTest, RefusesBadFields) {
  TokenCredentials c = MasterKeyCredentials();
  c.token_number = "12345";
  EXPECT_EQ(CheckTokenCredentials(c).code(), ErrorCode::kInvalidArgument);
  c = MasterKeyCredentials();
  c.expiry_yymm = "2813";
  EXPECT_EQ(CheckTokenCredentials(c).code(), ErrorCode::kInvalidArgument);
  c = MasterKeyCredentials();
  c.icc_master_key = crypto::SecretBytes(Hex("0011"));
  EXPECT_EQ(CheckTokenCredentials(c).code(), ErrorCode::kInvalidArgument);
  c = HceCredentials("tok-h", 2);
  c.limited_use_keys[1].atc = c.limited_use_keys[0].atc;
  EXPECT_EQ(CheckTokenCredentials(c).code(), ErrorCode::kInvalidArgument);
  c = HceCredentials("tok-h", kLimitedUseKeysPerBatchMax + 1);
  EXPECT_EQ(CheckTokenCredentials(c).code(), ErrorCode::kInvalidArgument);
}

TEST(TokenCredentialsTest, RefusesMalformedEncodings) {
  EXPECT_FALSE(DecodeTokenCredentials({}).ok());
  EXPECT_FALSE(DecodeTokenCredentials(Hex("DF0103")).ok());            // truncated
  EXPECT_FALSE(DecodeTokenCredentials(Hex("DF010141DF010141")).ok());  // repeated
  EXPECT_FALSE(DecodeTokenCredentials(Hex("DF7F0100")).ok());          // unknown tag
  EXPECT_FALSE(DecodeTokenCredentials(Hex("FF2000DF060102")).ok());    // key without fields
}

}  // namespace
}  // namespace tapstack::device
