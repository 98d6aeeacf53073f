// Agent cash-in on IndusPay (PKR): the agent's prefunded float pays the user's balance, once per
// key; the balance cap and the float bound it; refusals name the field and are remembered; the
// statement names the agent; the float is funded once however often the platform opens.
#include <gtest/gtest.h>

#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

constexpr const char* kAgent = "agent-lahore-01";  // seed: float PKR 1,000,000.00
constexpr std::int64_t kAgentFloatMinor = 100'000'000;

class CashInTest : public PlatformDbTest {
 protected:
  void SetUp() override {
    PlatformDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    pk_ = OpenPlatform("induspay-pk", pk_dir_);
    ASSERT_NE(pk_, nullptr);
  }

  std::string PkAccount(const std::string& owner, int level) {
    auto account = pk_->OpenAccount(owner, Cur("PKR"), level);
    EXPECT_TRUE(account.ok()) << account.status().ToString();
    return account.ok() ? account->account_id : std::string();
  }

  std::int64_t PkBalance(const std::string& account_id) {
    auto info = pk_->Account(account_id);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->balance.minor_units() : -1;
  }

  void RestartPk() {
    pk_.reset();
    pk_ = OpenPlatform("induspay-pk", pk_dir_);
    ASSERT_NE(pk_, nullptr);
  }

  TempDir pk_dir_;
  std::unique_ptr<Platform> pk_;
};

TEST_P(CashInTest, CashGoesOnTheBalanceOnceAndTheStatementNamesTheAgent) {
  const std::string account = PkAccount("owner-ayesha", 2);
  auto receipt = pk_->CashIn(kAgent, account, Minor(250'000, "PKR"), "ci-1");
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->kind, "cash_in");
  EXPECT_EQ(receipt->account_id, account);
  EXPECT_EQ(receipt->merchant_id, kAgent);
  EXPECT_EQ(receipt->merchant_name, "Liberty Market Agent");
  EXPECT_EQ(receipt->amount, Minor(250'000, "PKR"));
  EXPECT_EQ(receipt->payer_amount, Minor(250'000, "PKR"));
  EXPECT_EQ(receipt->fee, Minor(0, "PKR"));
  EXPECT_EQ(receipt->receipt_id.size(), 32u);
  EXPECT_FALSE(receipt->replayed);
  EXPECT_EQ(PkBalance(account), 250'000);

  // A retry (the agent's app timed out) replays, also after a restart; nothing moves twice.
  RestartPk();
  auto again = pk_->CashIn(kAgent, account, Minor(250'000, "PKR"), "ci-1");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->receipt_id, receipt->receipt_id);
  EXPECT_EQ(PkBalance(account), 250'000);
  auto reused = pk_->CashIn(kAgent, account, Minor(1'000, "PKR"), "ci-1");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(reused.status().message(), kKeyReusedMessage);

  auto statement = pk_->MonthlyStatement(account, "2026-01");
  ASSERT_TRUE(statement.ok()) << statement.status().ToString();
  ASSERT_EQ(statement->entries.size(), 1u);
  EXPECT_EQ(statement->entries[0].kind, "cash_in");
  EXPECT_EQ(statement->entries[0].counterparty, "Liberty Market Agent");
  EXPECT_EQ(statement->entries[0].receipt_id, receipt->receipt_id);
  EXPECT_EQ(statement->entries[0].amount, Minor(250'000, "PKR"));
  EXPECT_EQ(statement->closing_balance, Minor(250'000, "PKR"));

  auto audit = pk_->Audit();
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  ASSERT_EQ(audit->user_balances.size(), 1u);
  EXPECT_EQ(audit->user_balances[0], Minor(250'000, "PKR"));
}

TEST_P(CashInTest, RefusalsNameTheField) {
  const std::string account = PkAccount("owner-bilal", 2);
  auto unknown = pk_->CashIn("agent-nowhere", account, Minor(100, "PKR"), "k-1");
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(unknown.status().message(),
            "agent_id: \"agent-nowhere\" is not an agent of induspay-pk");
  // An agent of another platform cannot credit CN accounts.
  const std::string cn_account = NewAccount("owner-li", 2);
  auto other_platform = cn_->CashIn(kAgent, cn_account, Minor(100, "CNY"), "k-2");
  EXPECT_EQ(other_platform.status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(other_platform.status().message().starts_with("agent_id:"))
      << other_platform.status().message();
  auto currency = pk_->CashIn(kAgent, account, Minor(100, "CNY"), "k-3");
  EXPECT_EQ(currency.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(currency.status().message(), "amount: expected > 0 in PKR");
  auto zero = pk_->CashIn(kAgent, account, Minor(0, "PKR"), "k-4");
  EXPECT_EQ(zero.status().code(), ErrorCode::kInvalidArgument);
  auto key = pk_->CashIn(kAgent, account, Minor(100, "PKR"), "bad key");
  EXPECT_EQ(key.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(key.status().message().starts_with("idempotency_key:")) << key.status().message();
  auto no_account = pk_->CashIn(kAgent, "a0000000000000000", Minor(100, "PKR"), "k-5");
  EXPECT_EQ(no_account.status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(no_account.status().message().starts_with("account_id:"))
      << no_account.status().message();
  EXPECT_EQ(PkBalance(account), 0);
  ExpectAuditOk(*pk_);
}

TEST_P(CashInTest, BalanceCapAndTheAgentsFloatBoundIt) {
  const std::string small = PkAccount("owner-cap", 1);  // balance_max_minor 5000000
  ASSERT_TRUE(pk_->CashIn(kAgent, small, Minor(4'000'000, "PKR"), "cap-1").ok());
  auto capped = pk_->CashIn(kAgent, small, Minor(1'000'001, "PKR"), "cap-2");
  EXPECT_EQ(capped.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(capped.status().message(),
            "balance_max_minor: level 1 allows a balance of 5000000; 4000000 held, 1000001 "
            "requested");
  // The refusal is remembered under its key, even once the cap would allow it.
  auto capped_again = pk_->CashIn(kAgent, small, Minor(1'000'001, "PKR"), "cap-2");
  EXPECT_EQ(capped_again.status(), capped.status());
  EXPECT_EQ(PkBalance(small), 4'000'000);

  // Reopening does not fund the agent again: the float is what the seed says, minus cash-ins.
  RestartPk();
  const std::string big = PkAccount("owner-big", 3);  // balance_max_minor 200000000
  const std::int64_t left = kAgentFloatMinor - 4'000'000;
  auto too_much = pk_->CashIn(kAgent, big, Minor(left + 1, "PKR"), "float-1");
  EXPECT_EQ(too_much.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(too_much.status().message(), "agent funds: " + std::to_string(left) + " available, " +
                                             std::to_string(left + 1) + " requested");
  ASSERT_TRUE(pk_->CashIn(kAgent, big, Minor(left, "PKR"), "float-2").ok());
  auto empty = pk_->CashIn(kAgent, big, Minor(1, "PKR"), "float-3");
  EXPECT_EQ(empty.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(empty.status().message(), "agent funds: 0 available, 1 requested");
  EXPECT_EQ(PkBalance(big), left);
  auto audit = pk_->Audit();
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  ASSERT_EQ(audit->user_balances.size(), 1u);
  EXPECT_EQ(audit->user_balances[0], Minor(kAgentFloatMinor, "PKR"));
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(CashInTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
