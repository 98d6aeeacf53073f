// Platform accounts: deterministic ids, levels and their limits, the pseudonymous alias, and the
// balance cap on credits.
#include <gtest/gtest.h>

#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

using AccountsTest = PlatformDbTest;

TEST_P(AccountsTest, SameOwnerSameAccountAnotherLevelRefused) {
  auto first = cn_->OpenAccount("owner-li-wei", Cny(), 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->account_id.size(), 17u);
  EXPECT_EQ(first->account_id[0], 'a');
  EXPECT_EQ(first->level, 2);
  EXPECT_EQ(first->limits.verified_with, "ID verified");
  EXPECT_EQ(first->limits.daily_max_minor, 1000000);
  EXPECT_EQ(first->balance, Minor(0, "CNY"));

  auto again = cn_->OpenAccount("owner-li-wei", Cny(), 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->account_id, first->account_id);
  EXPECT_EQ(again->alias, first->alias);

  auto other_level = cn_->OpenAccount("owner-li-wei", Cny(), 3);
  EXPECT_EQ(other_level.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(other_level.status().message().find("level 2"), std::string::npos);

  auto other = cn_->OpenAccount("owner-zhang-min", Cny(), 1);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->account_id, first->account_id);
  EXPECT_NE(other->alias, first->alias);
  // The alias says nothing about the owner.
  EXPECT_EQ(first->alias.find("li-wei"), std::string::npos);
  EXPECT_TRUE(first->alias.starts_with("tapstack-cn:u")) << first->alias;
  ExpectAuditOk(*cn_);
}

TEST_P(AccountsTest, BadOpenRequestsNameTheField) {
  auto currency = cn_->OpenAccount("owner-a", Cur("PKR"), 1);
  EXPECT_EQ(currency.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(currency.status().message().starts_with("home_currency:"))
      << currency.status().message();
  auto level = cn_->OpenAccount("owner-a", Cny(), 4);
  EXPECT_EQ(level.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(level.status().message().starts_with("level:"));
  auto owner = cn_->OpenAccount("", Cny(), 1);
  EXPECT_EQ(owner.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cn_->Account("a0000000000000000").status().code(), ErrorCode::kNotFound);
}

TEST_P(AccountsTest, BalanceCapRefusesATopUpBeyondTheLevel) {
  const std::string account = NewAccount("owner-cap", 1);  // balance_max_minor 1000000
  TopUp(account, 900000);
  auto refused = cn_->StartTopUp(account, Minor(100001, "CNY"), "device-1");
  EXPECT_EQ(refused.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(refused.status().message(),
            "balance_max_minor: level 1 allows a balance of 1000000; 900000 held, 100001 "
            "requested");
  auto fits = cn_->StartTopUp(account, Minor(100000, "CNY"), "device-1");
  EXPECT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(Balance(account), 900000);
}

TEST_P(AccountsTest, AccountsSurviveARestart) {
  const std::string account = NewAccount("owner-restart", 3);
  TopUp(account, 12345);
  RestartCn();
  auto info = cn_->Account(account);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->level, 3);
  EXPECT_EQ(info->balance, Minor(12345, "CNY"));
  ExpectAuditOk(*cn_);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(AccountsTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
