// Two-phase transfers: hold → post (full or partial) or void, expiry, resolve at most once.
#include <gtest/gtest.h>

#include "state_machine_fixture.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;
namespace af = account_flags;
namespace tf = transfer_flags;

class StateMachineTwoPhaseTest : public StateMachineFixture {
 protected:
  void SetUp() override {
    // 1: a customer's funds (no overdraft) holding 1000; 2: a merchant; 3: the funding source.
    ASSERT_EQ(Accounts({MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits), MakeAccount(2),
                        MakeAccount(3)}),
              (std::vector<CreateAccountResult>(3, CreateAccountResult::kOk)));
    ASSERT_EQ(One(MakeTransfer(100, 3, 1, 1000)), TR::kOk);
  }
};

TEST_F(StateMachineTwoPhaseTest, HoldReservesThenPostMovesTheMoney) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300)), TR::kOk);
  EXPECT_EQ(Get(1).debits_pending, 300u);
  EXPECT_EQ(Get(2).credits_pending, 300u);
  EXPECT_EQ(Get(1).debits_posted, 0u);
  EXPECT_EQ(StateOf(10), PendingState::kPending);
  // The hold counts against the limit: only 700 are left.
  EXPECT_EQ(One(MakeTransfer(11, 1, 2, 701)), TR::kExceedsCredits);
  ExpectAuditOk();

  ASSERT_EQ(One(MakePost(12, 10)), TR::kOk);
  EXPECT_EQ(Get(1).debits_pending, 0u);
  EXPECT_EQ(Get(1).debits_posted, 300u);
  EXPECT_EQ(Get(2).credits_posted, 300u);
  EXPECT_EQ(StateOf(10), PendingState::kPosted);
  const TransferRecord post = sm_.FindTransfer(Id(12)).value();
  EXPECT_EQ(post.transfer.amount, 300u);  // the sentinel is stored as what was posted
  EXPECT_EQ(post.transfer.debit_account_id, Id(1));
  EXPECT_EQ(post.transfer.credit_account_id, Id(2));
  EXPECT_EQ(post.transfer.ledger, kCny);
  EXPECT_EQ(post.transfer.code, kCode);
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, PartialPostReleasesTheRest) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300)), TR::kOk);
  EXPECT_EQ(One(MakePost(11, 10, 301)), TR::kExceedsPendingTransferAmount);
  EXPECT_EQ(One(MakePost(12, 10, 0)), TR::kAmountMustNotBeZero);
  ASSERT_EQ(One(MakePost(13, 10, 120)), TR::kOk);  // the fuel pre-authorisation case
  EXPECT_EQ(Get(1).debits_pending, 0u);
  EXPECT_EQ(Get(1).debits_posted, 120u);
  EXPECT_EQ(Get(2).credits_posted, 120u);
  EXPECT_EQ(Get(2).credits_pending, 0u);
  EXPECT_EQ(One(MakeTransfer(14, 1, 2, 880)), TR::kOk);  // all the released money is usable
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, VoidReleasesTheHold) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300)), TR::kOk);
  Transfer wrong_amount = MakeVoid(11, 10);
  wrong_amount.amount = 299;
  EXPECT_EQ(One(wrong_amount), TR::kPendingTransferHasDifferentAmount);
  ASSERT_EQ(One(MakeVoid(12, 10)), TR::kOk);
  EXPECT_EQ(Get(1).debits_pending, 0u);
  EXPECT_EQ(Get(1).debits_posted, 0u);
  EXPECT_EQ(Get(2).credits_pending, 0u);
  EXPECT_EQ(StateOf(10), PendingState::kVoided);
  EXPECT_EQ(sm_.FindTransfer(Id(12))->transfer.amount, 300u);
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, ResolvesAtMostOnce) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300)), TR::kOk);
  ASSERT_EQ(One(MakePost(11, 10, 100)), TR::kOk);
  EXPECT_EQ(One(MakePost(12, 10, 100)), TR::kPendingTransferAlreadyPosted);
  EXPECT_EQ(One(MakeVoid(13, 10)), TR::kPendingTransferAlreadyPosted);
  ASSERT_EQ(One(MakePending(20, 1, 2, 50)), TR::kOk);
  ASSERT_EQ(One(MakeVoid(21, 20)), TR::kOk);
  EXPECT_EQ(One(MakePost(22, 20)), TR::kPendingTransferAlreadyVoided);
  EXPECT_EQ(One(MakeVoid(23, 20)), TR::kPendingTransferAlreadyVoided);
  // A retry of the resolving transfer itself is `exists`, not already_posted.
  EXPECT_EQ(One(MakePost(11, 10, 100)), TR::kExists);
  EXPECT_EQ(One(MakePost(11, 10, 99)), TR::kExistsWithDifferentAmount);
  EXPECT_EQ(One(MakeVoid(21, 20)), TR::kExists);
  EXPECT_EQ(Get(1).debits_posted, 100u);
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, RetryOfFullPostMatchesTheStoredAmount) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300)), TR::kOk);
  ASSERT_EQ(One(MakePost(11, 10)), TR::kOk);
  EXPECT_EQ(One(MakePost(11, 10)), TR::kExists);
  EXPECT_EQ(One(MakePost(11, 10, 300)), TR::kExists);  // same thing, spelled out
  Transfer explicit_fields = MakePost(11, 10);
  explicit_fields.debit_account_id = Id(1);
  explicit_fields.ledger = kCny;
  EXPECT_EQ(One(explicit_fields), TR::kExists);
  explicit_fields.debit_account_id = Id(3);
  EXPECT_EQ(One(explicit_fields), TR::kExistsWithDifferentDebitAccountId);
}

TEST_F(StateMachineTwoPhaseTest, PostValidationInPrecedenceOrder) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300)), TR::kOk);
  Transfer post = MakePost(11, 0);
  post.timeout = 5;
  EXPECT_EQ(One(post), TR::kPendingIdMustNotBeZero);
  post.pending_id = Id128::Max();
  EXPECT_EQ(One(post), TR::kPendingIdMustNotBeIntMax);
  post.pending_id = Id(11);
  EXPECT_EQ(One(post), TR::kPendingIdMustBeDifferent);
  post.pending_id = Id(99);
  EXPECT_EQ(One(post), TR::kTimeoutReservedForPendingTransfer);
  post.timeout = 0;
  EXPECT_EQ(One(post), TR::kPendingTransferNotFound);  // transient: id 11 is now burnt
  EXPECT_EQ(One(MakePost(11, 10)), TR::kIdAlreadyFailed);
  EXPECT_EQ(One(MakePost(12, 100)), TR::kPendingTransferNotPending);
  Transfer other = MakePost(13, 10);
  other.debit_account_id = Id(3);
  EXPECT_EQ(One(other), TR::kPendingTransferHasDifferentDebitAccountId);
  other = MakePost(13, 10);
  other.credit_account_id = Id(3);
  EXPECT_EQ(One(other), TR::kPendingTransferHasDifferentCreditAccountId);
  other = MakePost(13, 10);
  other.ledger = kUsd;
  EXPECT_EQ(One(other), TR::kPendingTransferHasDifferentLedger);
  other = MakePost(13, 10);
  other.code = 7;
  EXPECT_EQ(One(other), TR::kPendingTransferHasDifferentCode);
  EXPECT_EQ(StateOf(10), PendingState::kPending);
  EXPECT_EQ(One(MakePost(13, 10)), TR::kOk);
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, HoldExpiresNeverEarly) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300, /*timeout_s=*/60)), TR::kOk);
  const std::uint64_t created = sm_.FindTransfer(Id(10))->transfer.timestamp;
  EXPECT_EQ(sm_.NextExpiry(), created + 60 * kNanosPerSecond);
  now_ = created + 60 * kNanosPerSecond - 2;
  EXPECT_EQ(Expire(), 0u);  // one nanosecond before the instant: still held
  EXPECT_EQ(StateOf(10), PendingState::kPending);
  EXPECT_EQ(Get(1).debits_pending, 300u);
  now_ = created + 60 * kNanosPerSecond;
  EXPECT_EQ(Expire(), 1u);
  EXPECT_EQ(StateOf(10), PendingState::kExpired);
  EXPECT_EQ(Get(1).debits_pending, 0u);
  EXPECT_EQ(Get(2).credits_pending, 0u);
  EXPECT_EQ(One(MakePost(11, 10)), TR::kPendingTransferExpired);
  EXPECT_EQ(One(MakeVoid(12, 10)), TR::kPendingTransferExpired);
  EXPECT_EQ(Expire(), 0u);
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, PostAfterTheInstantFailsEvenBeforeASweep) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 300, 5)), TR::kOk);
  AdvanceSeconds(5);
  EXPECT_EQ(One(MakePost(11, 10)), TR::kPendingTransferExpired);
  EXPECT_EQ(StateOf(10), PendingState::kPending);  // not swept yet: still reserved
  EXPECT_EQ(Expire(), 1u);
  EXPECT_EQ(Get(1).debits_pending, 0u);
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, ResolvedHoldsDoNotExpireAndSweepsAreBounded) {
  ASSERT_EQ(One(MakePending(10, 1, 2, 10, 5)), TR::kOk);
  ASSERT_EQ(One(MakePost(11, 10)), TR::kOk);
  std::vector<Transfer> holds;
  for (std::uint64_t i = 0; i < 5; ++i) holds.push_back(MakePending(20 + i, 1, 2, 1, 5));
  ASSERT_EQ(Transfers(holds), std::vector<TR>(5, TR::kOk));
  AdvanceSeconds(10);
  EXPECT_EQ(sm_.ExpirePending(NextTimestamp(), 3), 3u);
  EXPECT_EQ(StateOf(20), PendingState::kExpired);  // earliest first
  EXPECT_EQ(StateOf(23), PendingState::kPending);
  EXPECT_EQ(Expire(), 2u);
  EXPECT_EQ(StateOf(10), PendingState::kPosted);
  EXPECT_EQ(Get(1).debits_posted, 10u);
  ExpectAuditOk();
}

TEST_F(StateMachineTwoPhaseTest, PendingAndPostInOneLinkedChain) {
  Transfer hold = MakePending(10, 1, 2, 300);
  hold.flags |= tf::kLinked;
  EXPECT_EQ(Transfers({hold, MakePost(11, 10, 200)}), (std::vector<TR>{TR::kOk, TR::kOk}));
  EXPECT_EQ(Get(1).debits_posted, 200u);
  EXPECT_EQ(Get(1).debits_pending, 0u);
  ExpectAuditOk();
}

}  // namespace
}  // namespace tapstack::ledger::testing
