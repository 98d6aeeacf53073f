// Single-phase transfer rules: validation precedence, currencies, limits and credit lines,
// overflow, and idempotency by id (including remembered failures).
#include <gtest/gtest.h>

#include "state_machine_fixture.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;
namespace af = account_flags;
namespace tf = transfer_flags;

class StateMachineTransfersTest : public StateMachineFixture {};

TEST_F(StateMachineTransfersTest, MovesMoneyDoubleEntry) {
  CreateAccounts(2);
  EXPECT_EQ(One(MakeTransfer(10, 1, 2, 500)), TR::kOk);
  EXPECT_EQ(Get(1).debits_posted, 500u);
  EXPECT_EQ(Get(1).credits_posted, 0u);
  EXPECT_EQ(Get(2).credits_posted, 500u);
  EXPECT_EQ(Get(2).debits_posted, 0u);
  const auto record = sm_.FindTransfer(Id(10));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->transfer.amount, 500u);
  EXPECT_EQ(record->pending_state, PendingState::kNone);
  EXPECT_GT(record->transfer.timestamp, Get(2).timestamp);
  ExpectAuditOk();
}

TEST_F(StateMachineTransfersTest, ValidationInPrecedenceOrder) {
  CreateAccounts(2);
  Transfer t = MakeTransfer(0, 0, 0, 0, 0x8000, 0);
  t.code = 0;
  t.timestamp = 1;
  t.reserved[0] = 1;
  t.pending_id = Id(5);
  t.timeout = 3;
  EXPECT_EQ(One(t), TR::kTimestampMustBeZero);
  t.timestamp = 0;
  EXPECT_EQ(One(t), TR::kReservedField);
  t.reserved[0] = 0;
  EXPECT_EQ(One(t), TR::kReservedFlag);
  t.flags = tf::kPending | tf::kVoidPendingTransfer;
  EXPECT_EQ(One(t), TR::kIdMustNotBeZero);
  t.id = Id128::Max();
  EXPECT_EQ(One(t), TR::kIdMustNotBeIntMax);
  t.id = Id(10);
  EXPECT_EQ(One(t), TR::kFlagsAreMutuallyExclusive);
  t.flags = 0;
  EXPECT_EQ(One(t), TR::kPendingIdMustBeZero);
  t.pending_id = Id128{};
  EXPECT_EQ(One(t), TR::kTimeoutReservedForPendingTransfer);
  t.timeout = 0;
  EXPECT_EQ(One(t), TR::kDebitAccountIdMustNotBeZero);
  t.debit_account_id = Id128::Max();
  EXPECT_EQ(One(t), TR::kDebitAccountIdMustNotBeIntMax);
  t.debit_account_id = Id(1);
  EXPECT_EQ(One(t), TR::kCreditAccountIdMustNotBeZero);
  t.credit_account_id = Id128::Max();
  EXPECT_EQ(One(t), TR::kCreditAccountIdMustNotBeIntMax);
  t.credit_account_id = Id(1);
  EXPECT_EQ(One(t), TR::kAccountsMustBeDifferent);
  t.credit_account_id = Id(2);
  EXPECT_EQ(One(t), TR::kLedgerMustNotBeZero);
  t.ledger = kCny;
  EXPECT_EQ(One(t), TR::kCodeMustNotBeZero);
  t.code = kCode;
  EXPECT_EQ(One(t), TR::kAmountMustNotBeZero);
  t.amount = 1;
  EXPECT_EQ(One(t), TR::kOk);
  // None of the validation failures is remembered (they do not depend on the state).
  EXPECT_EQ(sm_.failure_count(), 0u);
  ExpectAuditOk();
}

TEST_F(StateMachineTransfersTest, AccountsMustExistAndShareTheTransfersCurrency) {
  CreateAccounts(2);
  ASSERT_EQ(OneAccount(MakeAccount(3, kUsd)), CreateAccountResult::kOk);
  EXPECT_EQ(One(MakeTransfer(10, 9, 2, 1)), TR::kDebitAccountNotFound);
  EXPECT_EQ(One(MakeTransfer(11, 1, 9, 1)), TR::kCreditAccountNotFound);
  EXPECT_EQ(One(MakeTransfer(12, 1, 3, 1)), TR::kAccountsMustHaveTheSameLedger);
  EXPECT_EQ(One(MakeTransfer(13, 1, 2, 1, 0, kUsd)), TR::kTransferMustHaveTheSameLedgerAsAccounts);
  EXPECT_EQ(Get(1).debits_posted, 0u);
  EXPECT_EQ(Get(3).credits_posted, 0u);
}

TEST_F(StateMachineTransfersTest, DebitLimitedAccountCannotGoNegative) {
  ASSERT_EQ(Accounts({MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits), MakeAccount(2),
                      MakeAccount(3)}),
            (std::vector<CreateAccountResult>(3, CreateAccountResult::kOk)));
  EXPECT_EQ(One(MakeTransfer(10, 1, 2, 1)), TR::kExceedsCredits);
  EXPECT_EQ(One(MakeTransfer(11, 3, 1, 100)), TR::kOk);  // fund it
  EXPECT_EQ(One(MakeTransfer(12, 1, 2, 60)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(13, 1, 2, 41)), TR::kExceedsCredits);
  EXPECT_EQ(One(MakeTransfer(14, 1, 2, 40)), TR::kOk);  // exactly to zero
  EXPECT_EQ(Get(1).debits_posted, Get(1).credits_posted);
  // Pending debits count against the limit too (pessimistic).
  EXPECT_EQ(One(MakeTransfer(15, 3, 1, 10)), TR::kOk);
  EXPECT_EQ(One(MakePending(16, 1, 2, 10)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(17, 1, 2, 1)), TR::kExceedsCredits);
  ExpectAuditOk();
}

TEST_F(StateMachineTransfersTest, CreditLineAllowsDebitsUpToItsLimit) {
  ASSERT_EQ(OneAccount(MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits, 1000)),
            CreateAccountResult::kOk);
  ASSERT_EQ(OneAccount(MakeAccount(2)), CreateAccountResult::kOk);
  EXPECT_EQ(One(MakeTransfer(10, 1, 2, 700)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(11, 1, 2, 301)), TR::kExceedsCredits);
  EXPECT_EQ(One(MakeTransfer(12, 1, 2, 300)), TR::kOk);  // balance −1000: the whole line
  EXPECT_EQ(One(MakeTransfer(13, 1, 2, 1)), TR::kExceedsCredits);
  EXPECT_EQ(One(MakeTransfer(14, 2, 1, 250)), TR::kOk);  // repayment restores room
  EXPECT_EQ(One(MakeTransfer(15, 1, 2, 250)), TR::kOk);
  EXPECT_EQ(Get(1).debits_posted, 1250u);
  EXPECT_EQ(Get(1).credits_posted, 250u);
  ExpectAuditOk();
}

TEST_F(StateMachineTransfersTest, CreditLimitedAccountMirrorsTheRule) {
  ASSERT_EQ(Accounts({MakeAccount(1), MakeAccount(2, kCny, af::kCreditsMustNotExceedDebits, 5)}),
            (std::vector<CreateAccountResult>(2, CreateAccountResult::kOk)));
  EXPECT_EQ(One(MakeTransfer(10, 1, 2, 6)), TR::kExceedsDebits);
  EXPECT_EQ(One(MakeTransfer(11, 1, 2, 5)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(12, 2, 1, 10)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(13, 1, 2, 10)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(14, 1, 2, 1)), TR::kExceedsDebits);
  ExpectAuditOk();
}

TEST_F(StateMachineTransfersTest, OverflowIsAnErrorNotAWrap) {
  CreateAccounts(3);
  const std::uint64_t max = ~std::uint64_t{0};
  EXPECT_EQ(One(MakeTransfer(10, 1, 2, max)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(11, 1, 3, 1)), TR::kOverflowsDebitsPosted);
  EXPECT_EQ(One(MakeTransfer(12, 3, 2, 1)), TR::kOverflowsCreditsPosted);
  EXPECT_EQ(One(MakePending(13, 1, 3, 1)), TR::kOverflowsDebits);
  EXPECT_EQ(One(MakePending(14, 3, 2, 1)), TR::kOverflowsCredits);
  Transfer far = MakePending(15, 3, 1, 1, ~std::uint32_t{0});
  EXPECT_EQ(One(far), TR::kOk);  // 136 years from 2026 still fits in u64 nanoseconds
  now_ = ~std::uint64_t{0} - 10 * kNanosPerSecond;
  EXPECT_EQ(One(MakePending(16, 3, 1, 1, 11)), TR::kOverflowsTimeout);
  EXPECT_EQ(Get(1).debits_posted, max);
  EXPECT_TRUE(IsTransientFailure(sm_.FindFailure(Id(11)).value()));
}

TEST_F(StateMachineTransfersTest, RetryWithSameBodyReturnsExists) {
  CreateAccounts(2);
  Transfer t = MakeTransfer(10, 1, 2, 500);
  t.user_data_128 = Id(77);
  ASSERT_EQ(One(t), TR::kOk);
  EXPECT_EQ(One(t), TR::kExists);
  t.flags = tf::kLinked;  // the link is not part of the transfer; exists does not break a chain
  EXPECT_EQ(Transfers({t, MakeTransfer(11, 1, 2, 1)}), (std::vector<TR>{TR::kExists, TR::kOk}));
  EXPECT_EQ(Get(1).debits_posted, 501u);  // the retry moved nothing
  EXPECT_EQ(sm_.transfer_count(), 2u);
}

TEST_F(StateMachineTransfersTest, DifferentBodyUnderTheSameIdIsNamed) {
  CreateAccounts(3);
  ASSERT_EQ(OneAccount(MakeAccount(4, kUsd)), CreateAccountResult::kOk);
  const Transfer base = MakeTransfer(10, 1, 2, 500);
  ASSERT_EQ(One(base), TR::kOk);
  struct Case {
    void (*edit)(Transfer&);
    TR expected;
  };
  const Case cases[] = {
      {[](Transfer& t) { t.flags = tf::kPending; }, TR::kExistsWithDifferentFlags},
      {[](Transfer& t) { t.pending_id = Id(3); }, TR::kExistsWithDifferentPendingId},
      {[](Transfer& t) { t.timeout = 3; }, TR::kExistsWithDifferentTimeout},
      {[](Transfer& t) { t.debit_account_id = Id(3); }, TR::kExistsWithDifferentDebitAccountId},
      {[](Transfer& t) { t.credit_account_id = Id(3); }, TR::kExistsWithDifferentCreditAccountId},
      {[](Transfer& t) { t.amount = 501; }, TR::kExistsWithDifferentAmount},
      {[](Transfer& t) { t.user_data_128 = Id(1); }, TR::kExistsWithDifferentUserData128},
      {[](Transfer& t) { t.user_data_64 = 1; }, TR::kExistsWithDifferentUserData64},
      {[](Transfer& t) { t.user_data_32 = 1; }, TR::kExistsWithDifferentUserData32},
      {[](Transfer& t) { t.ledger = kUsd; }, TR::kExistsWithDifferentLedger},
      {[](Transfer& t) { t.code = 9; }, TR::kExistsWithDifferentCode},
      // Several differences: the first in the documented order wins.
      {[](Transfer& t) { t.amount = 1, t.code = 9, t.debit_account_id = Id(3); },
       TR::kExistsWithDifferentDebitAccountId},
  };
  for (const Case& c : cases) {
    Transfer t = base;
    c.edit(t);
    EXPECT_EQ(One(t), c.expected) << CreateTransferResultName(c.expected);
  }
  EXPECT_EQ(Get(1).debits_posted, 500u);
  EXPECT_EQ(Get(3).debits_posted + Get(3).credits_posted, 0u);
  EXPECT_EQ(sm_.failure_count(), 0u);
}

TEST_F(StateMachineTransfersTest, TransientFailureIsRememberedAndNeverSucceedsLater) {
  ASSERT_EQ(Accounts({MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits), MakeAccount(2),
                      MakeAccount(3)}),
            (std::vector<CreateAccountResult>(3, CreateAccountResult::kOk)));
  const Transfer t = MakeTransfer(10, 1, 2, 100);
  ASSERT_EQ(One(t), TR::kExceedsCredits);
  ASSERT_EQ(One(MakeTransfer(11, 3, 1, 1000)), TR::kOk);  // now there would be money
  EXPECT_EQ(One(t), TR::kIdAlreadyFailed);                // but the id stays failed
  Transfer changed = t;
  changed.amount = 1;
  EXPECT_EQ(One(changed), TR::kIdAlreadyFailed);  // whatever the body
  EXPECT_EQ(sm_.FindFailure(Id(10)), TR::kExceedsCredits);
  EXPECT_FALSE(sm_.FindTransfer(Id(10)).has_value());
  EXPECT_EQ(Get(1).debits_posted, 0u);
  // Not found is transient too: the account appears later, the id stays failed.
  ASSERT_EQ(One(MakeTransfer(12, 1, 9, 5)), TR::kCreditAccountNotFound);
  ASSERT_EQ(OneAccount(MakeAccount(9)), CreateAccountResult::kOk);
  EXPECT_EQ(One(MakeTransfer(12, 1, 9, 5)), TR::kIdAlreadyFailed);
  // A validation failure is not remembered: fixing the body under the same id works.
  ASSERT_EQ(One(MakeTransfer(13, 1, 2, 0)), TR::kAmountMustNotBeZero);
  EXPECT_EQ(One(MakeTransfer(13, 1, 2, 5)), TR::kOk);
  EXPECT_EQ(sm_.failure_count(), 2u);
  ExpectAuditOk();
}

TEST_F(StateMachineTransfersTest, NoChangeRequestsReportUnchanged) {
  CreateAccounts(2);
  std::vector<CreateTransferResult> results(1);
  const std::vector<Transfer> ok = {MakeTransfer(10, 1, 2, 1)};
  EXPECT_TRUE(sm_.CreateTransfers(ok, NextTimestamp(), results));
  EXPECT_FALSE(sm_.CreateTransfers(ok, NextTimestamp(), results));  // exists
  const std::vector<Transfer> invalid = {MakeTransfer(11, 1, 2, 0)};
  EXPECT_FALSE(sm_.CreateTransfers(invalid, NextTimestamp(), results));
  const std::vector<Transfer> transient = {MakeTransfer(12, 1, 9, 1)};
  EXPECT_TRUE(sm_.CreateTransfers(transient, NextTimestamp(), results));  // failure remembered
}

TEST_F(StateMachineTransfersTest, TimestampMustIncrease) {
  CreateAccounts(2);
  std::vector<CreateTransferResult> results(1);
  const std::vector<Transfer> t = {MakeTransfer(10, 1, 2, 1)};
  EXPECT_THROW(sm_.CreateTransfers(t, sm_.last_timestamp(), results), std::logic_error);
}

TEST_F(StateMachineTransfersTest, DigestDependsOnEveryChange) {
  CreateAccounts(2);
  const Checksum before = sm_.Digest();
  ASSERT_EQ(One(MakeTransfer(10, 1, 2, 1)), TR::kOk);
  const Checksum after = sm_.Digest();
  EXPECT_NE(before, after);
  sm_.MutableAccountForTesting(Id(1))->debits_posted += 1;
  EXPECT_NE(sm_.Digest(), after);
}

}  // namespace
}  // namespace tapstack::ledger::testing
