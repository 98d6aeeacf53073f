// Account creation rules: validation in precedence order, idempotency by id, linked chains.
#include <gtest/gtest.h>

#include "state_machine_fixture.h"

namespace tapstack::ledger::testing {
namespace {

using AR = CreateAccountResult;
class StateMachineAccountsTest : public StateMachineFixture {};

TEST_F(StateMachineAccountsTest, CreatesAndAssignsIncreasingTimestamps) {
  const auto results = Accounts({MakeAccount(1), MakeAccount(2, kUsd)});
  EXPECT_EQ(results, (std::vector<AR>{AR::kOk, AR::kOk}));
  EXPECT_EQ(sm_.account_count(), 2u);
  EXPECT_EQ(Get(1).ledger, kCny);
  EXPECT_EQ(Get(2).ledger, kUsd);
  EXPECT_EQ(Get(1).timestamp, kStart);
  EXPECT_EQ(Get(2).timestamp, kStart + 1);
  EXPECT_EQ(sm_.last_timestamp(), kStart + 1);
}

TEST_F(StateMachineAccountsTest, ValidationInPrecedenceOrder) {
  Account a = MakeAccount(0);
  a.timestamp = 5;
  a.flags = 0x8000;
  EXPECT_EQ(OneAccount(a), AR::kTimestampMustBeZero);
  a.timestamp = 0;
  a.reserved = 1;
  EXPECT_EQ(OneAccount(a), AR::kReservedField);
  a.reserved = 0;
  a.reserved_tail[3] = 1;
  EXPECT_EQ(OneAccount(a), AR::kReservedField);
  a.reserved_tail[3] = 0;
  EXPECT_EQ(OneAccount(a), AR::kReservedFlag);
  a.flags = 0;
  EXPECT_EQ(OneAccount(a), AR::kIdMustNotBeZero);
  a.id = Id128::Max();
  EXPECT_EQ(OneAccount(a), AR::kIdMustNotBeIntMax);
  a.id = Id(7);
  a.flags = account_flags::kDebitsMustNotExceedCredits | account_flags::kCreditsMustNotExceedDebits;
  a.debits_posted = 1;
  EXPECT_EQ(OneAccount(a), AR::kFlagsAreMutuallyExclusive);
  a.flags = 0;
  a.debits_pending = 1;
  EXPECT_EQ(OneAccount(a), AR::kDebitsPendingMustBeZero);
  a.debits_pending = 0;
  EXPECT_EQ(OneAccount(a), AR::kDebitsPostedMustBeZero);
  a.debits_posted = 0;
  a.credits_pending = 1;
  EXPECT_EQ(OneAccount(a), AR::kCreditsPendingMustBeZero);
  a.credits_pending = 0;
  a.credits_posted = 1;
  EXPECT_EQ(OneAccount(a), AR::kCreditsPostedMustBeZero);
  a.credits_posted = 0;
  a.credit_limit = 100;
  EXPECT_EQ(OneAccount(a), AR::kCreditLimitRequiresBalanceFlag);
  a.credit_limit = 0;
  a.ledger = 0;
  EXPECT_EQ(OneAccount(a), AR::kLedgerMustNotBeZero);
  a.ledger = kCny;
  a.code = 0;
  EXPECT_EQ(OneAccount(a), AR::kCodeMustNotBeZero);
  a.code = kCode;
  EXPECT_EQ(OneAccount(a), AR::kOk);
  EXPECT_EQ(sm_.account_count(), 1u);
}

TEST_F(StateMachineAccountsTest, RetryReturnsExistsAndDifferentBodyIsNamed) {
  ASSERT_EQ(OneAccount(MakeAccount(1, kCny, account_flags::kDebitsMustNotExceedCredits, 50)),
            AR::kOk);
  Account same = MakeAccount(1, kCny, account_flags::kDebitsMustNotExceedCredits, 50);
  EXPECT_EQ(OneAccount(same), AR::kExists);
  // The link flag is not part of the account: a retry inside a chain is `exists`, and `exists`
  // does not break the chain.
  Account linked = same;
  linked.flags |= account_flags::kLinked;
  EXPECT_EQ(Accounts({linked, MakeAccount(99)}), (std::vector<AR>{AR::kExists, AR::kOk}));
  Account a = same;
  a.flags = 0;
  EXPECT_EQ(OneAccount(a), AR::kExistsWithDifferentFlags);
  a = same;
  a.user_data_128 = Id(9);
  EXPECT_EQ(OneAccount(a), AR::kExistsWithDifferentUserData128);
  a = same;
  a.user_data_64 = 9;
  EXPECT_EQ(OneAccount(a), AR::kExistsWithDifferentUserData64);
  a = same;
  a.user_data_32 = 9;
  EXPECT_EQ(OneAccount(a), AR::kExistsWithDifferentUserData32);
  a = same;
  a.ledger = kUsd;
  EXPECT_EQ(OneAccount(a), AR::kExistsWithDifferentLedger);
  a = same;
  a.code = 2;
  EXPECT_EQ(OneAccount(a), AR::kExistsWithDifferentCode);
  a = same;
  a.credit_limit = 51;
  EXPECT_EQ(OneAccount(a), AR::kExistsWithDifferentCreditLimit);
  EXPECT_EQ(sm_.account_count(), 2u);
  EXPECT_EQ(Get(1).credit_limit, 50u);
}

TEST_F(StateMachineAccountsTest, LinkedChainIsAllOrNothing) {
  Account a1 = MakeAccount(1, kCny, account_flags::kLinked);
  Account a2 = MakeAccount(2, kCny, account_flags::kLinked);
  Account bad = MakeAccount(3, 0);  // ledger 0
  Account a4 = MakeAccount(4);
  EXPECT_EQ(Accounts({a1, a2, bad, a4}),
            (std::vector<AR>{AR::kLinkedEventFailed, AR::kLinkedEventFailed,
                             AR::kLedgerMustNotBeZero, AR::kOk}));
  EXPECT_EQ(sm_.FindAccount(Id(1)), nullptr);
  EXPECT_EQ(sm_.FindAccount(Id(2)), nullptr);
  EXPECT_NE(sm_.FindAccount(Id(4)), nullptr);
  // The same ids can be used again after a failed chain.
  EXPECT_EQ(Accounts({a1, MakeAccount(2)}), (std::vector<AR>{AR::kOk, AR::kOk}));
  // A chain left open at the end of the request.
  EXPECT_EQ(Accounts({MakeAccount(5), MakeAccount(6, kCny, account_flags::kLinked),
                      MakeAccount(7, kCny, account_flags::kLinked)}),
            (std::vector<AR>{AR::kOk, AR::kLinkedEventFailed, AR::kLinkedEventChainOpen}));
  EXPECT_EQ(sm_.FindAccount(Id(6)), nullptr);
  EXPECT_EQ(sm_.account_count(), 4u);
}

TEST_F(StateMachineAccountsTest, TwoEventsWithOneIdInARequest) {
  EXPECT_EQ(Accounts({MakeAccount(1), MakeAccount(1), MakeAccount(1, kUsd)}),
            (std::vector<AR>{AR::kOk, AR::kExists, AR::kExistsWithDifferentLedger}));
}

}  // namespace
}  // namespace tapstack::ledger::testing
