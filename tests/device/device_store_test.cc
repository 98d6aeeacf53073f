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

}  // namespace
}  // namespace tapstack::device
