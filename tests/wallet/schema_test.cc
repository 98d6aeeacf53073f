// The wallet schema: applied once, re-opening applies nothing, and no column can hold a CVV2.
#include "wallet/schema.h"

#include <gtest/gtest.h>

#include "store/store_fixture.h"

namespace tapstack::wallet {
namespace {

class WalletSchemaTest : public store::testing::StoreTest {};

TEST_P(WalletSchemaTest, AppliesOnceAndAgainIsANoOp) {
  TS_ASSERT_OK(ApplyWalletSchema(*store_));
  TS_ASSERT_OK(ApplyWalletSchema(*store_));
  auto version = store::SchemaVersion(*store_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, WalletMigrations().back().version);
  EXPECT_EQ(CountRows("wallet_users"), 0);
}

TEST_P(WalletSchemaTest, NoColumnIsMeantForAFullPanOrCvv2) {
  for (const store::Migration& m : WalletMigrations()) {
    for (const std::string* sql : {&m.sql, &m.sqlite_sql, &m.postgres_sql}) {
      EXPECT_EQ(sql->find("cvv"), std::string::npos) << m.description;
      EXPECT_EQ(sql->find(" pan "), std::string::npos) << m.description;
      EXPECT_EQ(sql->find("pan_ciphertext"), std::string::npos) << m.description;
    }
  }
}

TEST_P(WalletSchemaTest, ACardRowRefusesAnUnknownState) {
  TS_ASSERT_OK(ApplyWalletSchema(*store_));
  TS_ASSERT_OK(
      store_->Execute("INSERT INTO wallet_users (user_id, phone, password_hash, "
                      "created_unix_ms) VALUES ('u1', '+8613800138000', 'h', 0)"));
  auto bad = store_->Execute(
      "INSERT INTO wallet_cards (card_id, user_id, card_type, masked_pan, last4, pan_expiry, "
      "bin_low, state, created_unix_ms) VALUES ('c1', 'u1', 'debit', '622202******0015', '0015', "
      "'2812', '62220200', 'declined', 0)");
  EXPECT_EQ(bad.status().code(), ErrorCode::kFailedPrecondition) << bad.status().ToString();
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(WalletSchemaTest);

}  // namespace
}  // namespace tapstack::wallet
