#include "device/device_store.h"

#include <gtest/gtest.h>

#include "device_test_util.h"

namespace tapstack::device {
namespace {

using testing::HceCredentials;
using testing::MasterKeyCredentials;
using testing::TempDir;

TEST(DeviceStoreTest, DeviceIdsAreSafeDirectoryNames) {
  EXPECT_TRUE(DeviceStore::CheckDeviceId("phone-01_a").ok());
  EXPECT_FALSE(DeviceStore::CheckDeviceId("").ok());
  EXPECT_FALSE(DeviceStore::CheckDeviceId("../etc").ok());
  EXPECT_FALSE(DeviceStore::CheckDeviceId("Phone").ok());
  EXPECT_FALSE(DeviceStore::CheckDeviceId(std::string(65, 'a')).ok());
}

TEST(DeviceStoreTest, AtcOnlyGrowsAndSurvivesReopen) {
  TempDir dir;
  {
    DEVICE_ASSERT_OK_AND_ASSIGN(auto store, DeviceStore::Open(dir.path(), "dev-1"));
    DEVICE_ASSERT_OK(store->InsertToken(MasterKeyCredentials()));
    EXPECT_EQ(store->InsertToken(MasterKeyCredentials()).code(), ErrorCode::kAlreadyExists);
    DEVICE_ASSERT_OK_AND_ASSIGN(const std::uint16_t one, store->NextAtc("tok-1", 0));
    EXPECT_EQ(one, 1);
    DEVICE_ASSERT_OK_AND_ASSIGN(const std::uint16_t two, store->NextAtc("tok-1", 1));
    EXPECT_EQ(two, 2);
    // A stale in-memory ATC cannot move the stored one backwards or reuse a value.
    EXPECT_EQ(store->NextAtc("tok-1", 1).status().code(), ErrorCode::kFailedPrecondition);
  }
  DEVICE_ASSERT_OK_AND_ASSIGN(auto store, DeviceStore::Open(dir.path(), "dev-1"));
  DEVICE_ASSERT_OK_AND_ASSIGN(const std::vector<StoredToken> tokens, store->LoadTokens());
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].atc, 2);
  EXPECT_TRUE(tokens[0].credentials.icc_master_key.EqualsConstantTime(
      MasterKeyCredentials().icc_master_key));
  EXPECT_EQ(store->NextAtc("tok-1", kAtcMax).status().code(), ErrorCode::kOutOfRange);
}

TEST(DeviceStoreTest, LimitedUseKeysAreTakenOnceInAtcOrder) {
  TempDir dir;
  DEVICE_ASSERT_OK_AND_ASSIGN(auto store, DeviceStore::Open(dir.path(), "dev-1"));
  DEVICE_ASSERT_OK(store->InsertToken(HceCredentials("tok-h", 2)));
  DEVICE_ASSERT_OK_AND_ASSIGN(std::size_t n, store->CountLimitedUseKeys("tok-h"));
  EXPECT_EQ(n, 2u);
  DEVICE_ASSERT_OK_AND_ASSIGN(auto first, store->TakeLimitedUseKey("tok-h"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->atc, 1);
  DEVICE_ASSERT_OK_AND_ASSIGN(auto second, store->TakeLimitedUseKey("tok-h"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->atc, 2);
  DEVICE_ASSERT_OK_AND_ASSIGN(auto none, store->TakeLimitedUseKey("tok-h"));
  EXPECT_FALSE(none.has_value());
  DEVICE_ASSERT_OK_AND_ASSIGN(const std::uint16_t atc, store->Atc("tok-h"));
  EXPECT_EQ(atc, 2);

  // Keys for ATCs already passed are refused; fresh ones are accepted.
  EXPECT_EQ(store->AddLimitedUseKeys("tok-h", testing::LimitedUseKeys(2, 2)).code(),
            ErrorCode::kInvalidArgument);
  DEVICE_ASSERT_OK(store->AddLimitedUseKeys("tok-h", testing::LimitedUseKeys(3, 2)));
  DEVICE_ASSERT_OK_AND_ASSIGN(n, store->CountLimitedUseKeys("tok-h"));
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(store->AddLimitedUseKeys("tok-h", testing::LimitedUseKeys(4, 1)).code(),
            ErrorCode::kInvalidArgument);  // ATC 4 already held
}

TEST(DeviceStoreTest, TransitStateIsCompareAndSetAndExpressMovesOnDelete) {
  TempDir dir;
  DEVICE_ASSERT_OK_AND_ASSIGN(auto store, DeviceStore::Open(dir.path(), "dev-1"));
  DEVICE_ASSERT_OK(store->InsertTransitCard(testing::TransitProfile("bj-1", {}, 300)));
  DEVICE_ASSERT_OK(store->InsertTransitCard(testing::TransitProfile("sh-1")));
  EXPECT_EQ(store->InsertTransitCard(testing::TransitProfile("bj-1")).code(),
            ErrorCode::kAlreadyExists);
  TransitCardProfile bad = testing::TransitProfile("xx-1");
  bad.balance_fen = bad.balance_cap_fen + 1;
  EXPECT_EQ(store->InsertTransitCard(bad).code(), ErrorCode::kInvalidArgument);

  DEVICE_ASSERT_OK_AND_ASSIGN(auto cards, store->LoadTransitCards());
  ASSERT_EQ(cards.size(), 2u);
  EXPECT_TRUE(cards[0].express);  // the first card installed
  EXPECT_FALSE(cards[1].express);
  const TransitCardState opening = cards[0].state;
  EXPECT_EQ(opening.balance_fen, 300u);
  EXPECT_TRUE(opening.log.empty());
  EXPECT_EQ(opening.capp_record, Bytes(kTransitCappRecordBytes, 0x00));

  TransitCardState next = opening;
  next.balance_fen = 200;
  next.offline_counter = 1;
  next.log.push_back(Bytes(kTransitLogRecordBytes, 0x42));
  next.last_purchase = TransitPurchaseProof{0, 0x06, {1, 2, 3, 4}, {5, 6, 7, 8}};
  DEVICE_ASSERT_OK(store->UpdateTransitCardState("bj-1", opening, next));
  // A stale `expected` (the state before) cannot overwrite the newer one.
  EXPECT_EQ(store->UpdateTransitCardState("bj-1", opening, opening).code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store->UpdateTransitCardState("nope", opening, next).code(), ErrorCode::kNotFound);
  TransitCardState malformed = next;
  malformed.log.push_back(Bytes(3, 0x00));
  EXPECT_EQ(store->UpdateTransitCardState("bj-1", next, malformed).code(),
            ErrorCode::kInvalidArgument);

  DEVICE_ASSERT_OK(store->SetExpressTransitCard("sh-1"));
  EXPECT_EQ(store->SetExpressTransitCard("nope").code(), ErrorCode::kNotFound);
  store.reset();
  DEVICE_ASSERT_OK_AND_ASSIGN(store, DeviceStore::Open(dir.path(), "dev-1"));
  DEVICE_ASSERT_OK_AND_ASSIGN(cards, store->LoadTransitCards());
  EXPECT_EQ(cards[0].state, next);
  EXPECT_FALSE(cards[0].express);
  EXPECT_TRUE(cards[1].express);
  EXPECT_TRUE(cards[0].profile.purchase_key.EqualsConstantTime(
      testing::TransitProfile().purchase_key));

  DEVICE_ASSERT_OK(store->DeleteTransitCard("sh-1"));
  EXPECT_EQ(store->DeleteTransitCard("sh-1").code(), ErrorCode::kNotFound);
  DEVICE_ASSERT_OK_AND_ASSIGN(cards, store->LoadTransitCards());
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_TRUE(cards[0].express);
}

}  // namespace
}  // namespace tapstack::device
