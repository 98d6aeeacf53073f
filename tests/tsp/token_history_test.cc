// TokenHistory: uses recorded by token id, listed newest first, never the token number or PAN.
#include "tsp/token_history.h"

#include <gtest/gtest.h>

#include "tsp/tsp_test_support.h"

namespace tapstack::tsp {
namespace {

class TokenHistoryTest : public testing::VaultTest {};

TokenUseRecord Use(const TokenRecord& t, std::int64_t amount, std::string stan) {
  return TokenUseRecord{t.token_number, "0100", amount, 156, "COFFEE SHOP SHANGHAI", "5812", "071",
                        "00", "A1B2C3", std::move(stan), "TERM0001", 1'767'225'600'000 + amount};
}

TEST_P(TokenHistoryTest, RecordsAndListsNewestFirst) {
  auto history = TokenHistory::Open(*store_, *vault_);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  const TokenRecord a = ActiveToken(testing::kTestPanVisa);
  const TokenRecord b = ActiveToken(testing::kTestPanMastercard);
  ASSERT_TRUE((*history)->RecordUse(Use(a, 100, "000001")).ok());
  ASSERT_TRUE((*history)->RecordUse(Use(b, 200, "000002")).ok());
  ASSERT_TRUE((*history)->RecordUse(Use(a, 300, "000003")).ok());
  TokenRecord unknown;
  unknown.token_number = "4999000000000000";
  EXPECT_EQ((*history)->RecordUse(Use(unknown, 1, "1")).code(), ErrorCode::kNotFound);

  auto list = (*history)->List(a.token_id, 10);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].amount_minor, 300);
  EXPECT_EQ((*list)[0].stan, "000003");
  EXPECT_EQ((*list)[1].amount_minor, 100);
  EXPECT_EQ((*list)[1].merchant, "COFFEE SHOP SHANGHAI");
  EXPECT_EQ((*list)[1].currency_numeric, 156);
  EXPECT_EQ((*list)[1].pos_entry_mode, "071");
  EXPECT_EQ((*history)->List(a.token_id, 1)->size(), 1u);
  EXPECT_EQ((*history)->List(a.token_id, 0).status().code(), ErrorCode::kInvalidArgument);

  // No column of the table holds the token number or the PAN.
  auto rows = store_->Query("SELECT * FROM tsp_token_history");
  ASSERT_TRUE(rows.ok());
  for (const store::Row& r : *rows) {
    for (const store::Value& v : r.values()) {
      if (v.type() != store::Value::Type::kText) continue;
      EXPECT_NE(v.text(), a.token_number);
      EXPECT_EQ(v.text().find(testing::kTestPanVisa), std::string::npos);
    }
  }
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(TokenHistoryTest);

}  // namespace
}  // namespace tapstack::tsp
