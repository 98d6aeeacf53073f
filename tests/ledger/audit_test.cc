// Audit: passes on every state the rules produce, and catches each kind of deliberate damage.
#include "ledger/audit.h"

#include <gtest/gtest.h>

#include "state_machine_fixture.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;
namespace af = account_flags;

class AuditTest : public StateMachineFixture {
 protected:
  void SetUp() override {
    ASSERT_EQ(Accounts({MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits, 50), MakeAccount(2),
                        MakeAccount(3), MakeAccount(4, kUsd), MakeAccount(5, kUsd)}),
              (std::vector<CreateAccountResult>(5, CreateAccountResult::kOk)));
    ASSERT_EQ(Names(Transfers({MakeTransfer(10, 3, 1, 100), MakeTransfer(11, 1, 2, 120),
                               MakePending(12, 1, 2, 20), MakePending(13, 3, 2, 7),
                               MakeTransfer(14, 4, 5, 9, 0, kUsd), MakePending(15, 2, 3, 4, 1)})),
              "ok,ok,ok,ok,ok,ok");
    ASSERT_EQ(Names(Transfers({MakePost(16, 12, 15), MakeVoid(17, 13)})), "ok,ok");
    AdvanceSeconds(2);
    ASSERT_EQ(Expire(), 1u);
  }

  std::string AuditMessage() {
    const Status status = Audit(sm_);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), ErrorCode::kInternal);
    return status.message();
  }
};

TEST_F(AuditTest, ReportsTotalsPerCurrency) {
  AuditReport report;
  const Status status = Audit(sm_, &report);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(report.ledgers.size(), 2u);
  EXPECT_EQ(report.accounts, 5u);
  EXPECT_EQ(report.transfers, 8u);
  const LedgerTotals& cny = report.ledgers[0];
  EXPECT_EQ(cny.ledger, kCny);
  EXPECT_EQ(cny.accounts, 3u);
  EXPECT_EQ(cny.transfers, 7u);
  EXPECT_EQ(cny.debits_posted.ToDecimal(), "235");  // 100 + 120 + 15
  EXPECT_EQ(cny.credits_posted.ToDecimal(), "235");
  EXPECT_EQ(cny.debits_pending.ToDecimal(), "0");
  EXPECT_EQ(cny.holds_pending, 0u);
  EXPECT_EQ(report.ledgers[1].ledger, kUsd);
  EXPECT_EQ(report.ledgers[1].debits_posted.ToDecimal(), "9");
}

TEST_F(AuditTest, CatchesABalanceThatDisagreesWithItsTransfers) {
  sm_.MutableAccountForTesting(Id(2))->credits_posted += 1;
  const std::string message = AuditMessage();
  EXPECT_NE(message.find("account " + Id(2).ToHex()), std::string::npos) << message;
  EXPECT_NE(message.find("credits_posted"), std::string::npos) << message;
}

TEST_F(AuditTest, CatchesMoneyCreatedOnBothSidesOfOneAccount) {
  // Adding to both sides of one account keeps that account's balance but breaks its history.
  Account* a = sm_.MutableAccountForTesting(Id(3));
  a->debits_posted += 5;
  a->credits_posted += 5;
  EXPECT_NE(AuditMessage().find("debits_posted"), std::string::npos);
}

TEST_F(AuditTest, CatchesAnAccountOverItsCreditLine) {
  sm_.MutableAccountForTesting(Id(1))->debits_pending += 31;  // 100 credits + 50 limit < 181
  EXPECT_NE(AuditMessage().find("exceed credits"), std::string::npos);
}

TEST_F(AuditTest, CatchesPendingMoneyOutOfBalance) {
  ASSERT_EQ(One(MakePending(30, 3, 2, 8)), TR::kOk);
  sm_.MutableAccountForTesting(Id(2))->credits_pending -= 8;
  sm_.MutableAccountForTesting(Id(3))->debits_pending -= 8;  // balances but not per transfers
  EXPECT_NE(AuditMessage().find("pending"), std::string::npos);
}

TEST(AuditConservationTest, CatchesUnbalancedLoadedRows) {
  // Rows loaded from elsewhere (StoreLedger's path) that do not balance.
  StateMachine sm;
  Account a = MakeAccount(1);
  a.timestamp = 1;
  a.credits_posted = 10;
  Account b = MakeAccount(2);
  b.timestamp = 2;
  sm.LoadAccount(a);
  sm.LoadAccount(b);
  const Status status = Audit(sm);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("credits_posted"), std::string::npos) << status.message();
}

TEST(AuditConservationTest, CatchesAPendingTransferResolvedTwice) {
  StateMachine sm;
  Account a = MakeAccount(1);
  a.timestamp = 1;
  a.debits_posted = 2;
  Account b = MakeAccount(2);
  b.timestamp = 2;
  b.credits_posted = 2;
  sm.LoadAccount(a);
  sm.LoadAccount(b);
  Transfer pending = MakePending(10, 1, 2, 1);
  pending.timestamp = 3;
  sm.LoadTransfer(pending, PendingState::kPosted);
  Transfer post1 = MakePost(11, 10, 1);
  post1.debit_account_id = Id(1);
  post1.credit_account_id = Id(2);
  post1.ledger = kCny;
  post1.code = kCode;
  post1.timestamp = 4;
  Transfer post2 = post1;
  post2.id = Id(12);
  post2.timestamp = 5;
  sm.LoadTransfer(post1, PendingState::kNone);
  sm.LoadTransfer(post2, PendingState::kNone);
  const Status status = Audit(sm);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("resolved more than once"), std::string::npos)
      << status.message();
}

TEST(AuditConservationTest, CatchesAPostLargerThanItsHold) {
  StateMachine sm;
  Account a = MakeAccount(1);
  a.timestamp = 1;
  a.debits_posted = 5;
  Account b = MakeAccount(2);
  b.timestamp = 2;
  b.credits_posted = 5;
  sm.LoadAccount(a);
  sm.LoadAccount(b);
  Transfer pending = MakePending(10, 1, 2, 1);
  pending.timestamp = 3;
  sm.LoadTransfer(pending, PendingState::kPosted);
  Transfer post = MakePost(11, 10, 5);
  post.debit_account_id = Id(1);
  post.credit_account_id = Id(2);
  post.ledger = kCny;
  post.code = kCode;
  post.timestamp = 4;
  sm.LoadTransfer(post, PendingState::kNone);
  const Status status = Audit(sm);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("more than the pending amount"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace tapstack::ledger::testing
