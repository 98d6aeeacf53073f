#include "dcep_wire/sync_ack.h"

#include <gtest/gtest.h>

#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {
namespace {

SyncAckBody MakeBody(std::vector<std::string> revoked = {"watch-x", "watch-y"}) {
  SyncAckBody b;
  b.device_id = "watch-a";
  b.log_sequence_acknowledged = 12;
  b.operator_time_unix_s = testing::kNow;
  b.revocation_list_version = 4;
  b.revoked_device_ids = std::move(revoked);
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
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < kRevokedDevicesMax; ++i) {
    ids.push_back(std::string(kDeviceIdBytesMax - 6, 'w') + "-" + std::to_string(10000 + i));
  }
  auto encoded = IssueSyncAck(MakeBody(ids), key);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_LE(encoded->size(), kSyncAckBytesMax);
  auto ack = ParseSyncAck(*encoded);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->body.revoked_device_ids.size(), kRevokedDevicesMax);
  ids.push_back("one-more");
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
  EXPECT_FALSE(IssueSyncAck(MakeBody({"Bad Id"}), key).ok());
  SyncAckBody body = MakeBody();
  body.operator_time_unix_s = -1;
  EXPECT_FALSE(IssueSyncAck(body, key).ok());
}

}  // namespace
}  // namespace tapstack::dcep_wire
