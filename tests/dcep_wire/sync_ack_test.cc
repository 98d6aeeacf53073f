#include "dcep_wire/sync_ack.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {
namespace {

SyncAckBody MakeBody(std::vector<RevokedDevice> revoked = {{"icbc", "watch-x"}, {"abc", "watch-x"}}) {
  SyncAckBody b;
  b.device_id = "watch-a";
  b.log_sequence_acknowledged = 12;
  b.operator_time_unix_s = testing::kNow;
  b.revocation_list_version = 4;
  b.revoked = std::move(revoked);
  return b;
}

class SyncAckTest : public ::testing::TestWithParam<crypto::SignatureScheme> {};

TEST_P(SyncAckTest, IssueParseVerify) {
  const auto key = testing::NewKey(GetParam());
  for (const SyncAckBody& body : {MakeBody(), MakeBody({})}) {
    auto encoded = IssueSyncAck(body, key);
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    auto ack = ParseSyncAck(*encoded);
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    EXPECT_EQ(ack->body, body);
    EXPECT_TRUE(VerifySyncAck(*ack, key.public_key()).ok());
    EXPECT_EQ(VerifySyncAck(*ack, testing::NewKey(GetParam()).public_key()).code(),
              ErrorCode::kCryptoFailure);
  }
}

TEST_P(SyncAckTest, EveryByteChangeIsRefused) {
  const auto key = testing::NewKey(GetParam());
  const crypto::PublicKey public_key = key.public_key();
  testing::ExpectEveryByteChangeRefused(*IssueSyncAck(MakeBody(), key), [&](const Bytes& bytes) {
    auto ack = ParseSyncAck(bytes);
    return ack.ok() && VerifySyncAck(*ack, public_key).ok();
  });
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, SyncAckTest, ::testing::ValuesIn(testing::AllSchemes()));

TEST(SyncAckParseTest, FullRevocationListFitsAndOneMoreIsRefused) {
  const auto key = testing::NewKey(crypto::SignatureScheme::kEd25519);
  std::vector<RevokedDevice> ids;
  for (std::size_t i = 0; i < kRevokedDevicesMax; ++i) {
    ids.push_back({std::string(kEntityIdBytesMax, 'o'),
                   std::string(kDeviceIdBytesMax - 6, 'w') + "-" + std::to_string(10000 + i)});
  }
  auto encoded = IssueSyncAck(MakeBody(ids), key);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_LE(encoded->size(), kSyncAckBytesMax);
  auto ack = ParseSyncAck(*encoded);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->body.revoked.size(), kRevokedDevicesMax);
  ids.push_back({"icbc", "one-more"});
  EXPECT_EQ(IssueSyncAck(MakeBody(ids), key).status().code(), ErrorCode::kOutOfRange);
}

TEST(SyncAckParseTest, Refusals) {
  const auto key = testing::NewKey(crypto::SignatureScheme::kSm2Sm3);
  const Bytes encoded = *IssueSyncAck(MakeBody(), key);
  Bytes bad = encoded;
  bad[0] = 0xE5;
  EXPECT_NE(ParseSyncAck(bad).status().message().find("expected tag E7"), std::string::npos);
  EXPECT_FALSE(ParseSyncAck(Bytes(encoded.begin(), encoded.end() - 1)).ok());
  EXPECT_EQ(ParseSyncAck(Bytes(kSyncAckBytesMax + 1, 0xE7)).status().code(), ErrorCode::kOutOfRange);
  EXPECT_FALSE(IssueSyncAck(MakeBody({{"icbc", "Bad Id"}}), key).ok());
  EXPECT_FALSE(IssueSyncAck(MakeBody({{"Bad Issuer", "watch-x"}}), key).ok());
  SyncAckBody body = MakeBody();
  body.operator_time_unix_s = -1;
  EXPECT_FALSE(IssueSyncAck(body, key).ok());
}

TEST(SyncAckParseTest, RevocationListMustBeIssuerDevicePairs) {
  const auto key = testing::NewKey(crypto::SignatureScheme::kEd25519);
  const Bytes encoded = *IssueSyncAck(MakeBody({{"icbc", "watch-x"}}), key);
  // C7 holds 42 04 "icbc" C1 07 "watch-x": swap the tags of the pair, then drop the device id.
  const Bytes pair = {0x42, 0x04, 'i', 'c', 'b', 'c', 0xC1, 0x07, 'w', 'a', 't', 'c', 'h', '-', 'x'};
  const auto at = std::search(encoded.begin(), encoded.end(), pair.begin(), pair.end());
  ASSERT_NE(at, encoded.end());
  Bytes swapped = encoded;
  const std::size_t i = static_cast<std::size_t>(at - encoded.begin());
  swapped[i] = 0xC1;
  swapped[i + 6] = 0x42;
  EXPECT_NE(ParseSyncAck(swapped).status().message().find("expected pairs 42"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::dcep_wire
