// Linked transfers: a chain succeeds or fails as a unit, with TigerBeetle's result codes.
#include <gtest/gtest.h>

#include "state_machine_fixture.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;
namespace af = account_flags;
namespace tf = transfer_flags;

Transfer Linked(Transfer t) {
  t.flags |= tf::kLinked;
  return t;
}

class StateMachineLinkedTest : public StateMachineFixture {
 protected:
  void SetUp() override {
    // 1 holds 100 and may not go negative; 2 and 3 are open accounts.
    ASSERT_EQ(Accounts({MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits), MakeAccount(2),
                        MakeAccount(3)}),
              (std::vector<CreateAccountResult>(3, CreateAccountResult::kOk)));
    ASSERT_EQ(One(MakeTransfer(100, 3, 1, 100)), TR::kOk);
  }
};

TEST_F(StateMachineLinkedTest, ChainSucceedsAsAUnitAndSeesItsOwnEffects) {
  // Principal + fee; the second leg is only possible after the first.
  EXPECT_EQ(Transfers({Linked(MakeTransfer(10, 3, 1, 50)), MakeTransfer(11, 1, 2, 150)}),
            (std::vector<TR>{TR::kOk, TR::kOk}));
  EXPECT_EQ(Get(1).credits_posted, 150u);
  EXPECT_EQ(Get(1).debits_posted, 150u);
  ExpectAuditOk();
}

TEST_F(StateMachineLinkedTest, FailingEventUndoesTheWholeChain) {
  const auto results = Transfers({MakeTransfer(9, 3, 2, 1), Linked(MakeTransfer(10, 1, 2, 60)),
                                  Linked(MakeTransfer(11, 1, 2, 60)), MakeTransfer(12, 3, 2, 5),
                                  MakeTransfer(13, 3, 2, 7)});
  EXPECT_EQ(Names(results), "ok,linked_event_failed,exceeds_credits,linked_event_failed,ok");
  EXPECT_FALSE(sm_.FindTransfer(Id(10)).has_value());
  EXPECT_FALSE(sm_.FindTransfer(Id(12)).has_value());
  EXPECT_TRUE(sm_.FindTransfer(Id(13)).has_value());
  EXPECT_EQ(Get(1).debits_posted, 0u);
  EXPECT_EQ(Get(2).credits_posted, 8u);
  // The failing event's transient failure is remembered; the others' ids are free again.
  EXPECT_EQ(sm_.FindFailure(Id(11)), TR::kExceedsCredits);
  EXPECT_FALSE(sm_.FindFailure(Id(10)).has_value());
  EXPECT_EQ(One(MakeTransfer(10, 1, 2, 60)), TR::kOk);
  EXPECT_EQ(One(MakeTransfer(12, 3, 2, 5)), TR::kOk);
  ExpectAuditOk();
}

TEST_F(StateMachineLinkedTest, UndoRestoresHoldsAndPendingStates) {
  ASSERT_EQ(One(MakePending(20, 1, 2, 30)), TR::kOk);
  const auto results = Transfers({Linked(MakePost(21, 20, 10)), Linked(MakePending(22, 1, 2, 40)),
                                  MakeTransfer(23, 1, 2, 1000)});
  EXPECT_EQ(Names(results), "linked_event_failed,linked_event_failed,exceeds_credits");
  EXPECT_EQ(StateOf(20), PendingState::kPending);
  EXPECT_EQ(Get(1).debits_pending, 30u);
  EXPECT_EQ(Get(1).debits_posted, 0u);
  EXPECT_EQ(Get(2).credits_pending, 30u);
  EXPECT_FALSE(sm_.FindTransfer(Id(22)).has_value());
  EXPECT_EQ(One(MakePost(21, 20, 10)), TR::kOk);  // the hold is still there to post
  ExpectAuditOk();
}

TEST_F(StateMachineLinkedTest, ChainOpenAtTheEndOfTheRequest) {
  EXPECT_EQ(Names(Transfers({MakeTransfer(10, 3, 2, 1), Linked(MakeTransfer(11, 3, 2, 1)),
                             Linked(MakeTransfer(12, 3, 2, 1))})),
            "ok,linked_event_failed,linked_event_chain_open");
  EXPECT_EQ(Names(Transfers({Linked(MakeTransfer(13, 3, 2, 1))})), "linked_event_chain_open");
  // The last event gets chain_open even when the chain broke earlier.
  EXPECT_EQ(
      Names(Transfers({Linked(MakeTransfer(14, 1, 2, 1000)), Linked(MakeTransfer(15, 3, 2, 1))})),
      "exceeds_credits,linked_event_chain_open");
  EXPECT_EQ(Get(2).credits_posted, 1u);
  EXPECT_FALSE(sm_.FindFailure(Id(11)).has_value());
  ExpectAuditOk();
}

TEST_F(StateMachineLinkedTest, SeveralChainsInOneRequestAreIndependent) {
  const auto results = Transfers({Linked(MakeTransfer(10, 3, 2, 1)), MakeTransfer(11, 3, 2, 1),
                                  Linked(MakeTransfer(12, 3, 2, 1)), MakeTransfer(13, 1, 2, 1000),
                                  Linked(MakeTransfer(14, 3, 2, 1)), MakeTransfer(15, 3, 2, 1)});
  EXPECT_EQ(Names(results), "ok,ok,linked_event_failed,exceeds_credits,ok,ok");
  EXPECT_EQ(Get(2).credits_posted, 4u);
  ExpectAuditOk();
}

TEST_F(StateMachineLinkedTest, RetryOfASuccessfulChainAnswersExists) {
  const std::vector<Transfer> chain = {Linked(MakeTransfer(10, 3, 2, 1)),
                                       Linked(MakePending(11, 1, 2, 5)), MakePost(12, 11)};
  EXPECT_EQ(Names(Transfers(chain)), "ok,ok,ok");
  EXPECT_EQ(Names(Transfers(chain)), "exists,exists,exists");
  EXPECT_EQ(Get(2).credits_posted, 6u);
  ExpectAuditOk();
}

}  // namespace
}  // namespace tapstack::ledger::testing
