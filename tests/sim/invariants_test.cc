// Each invariant of sim/invariants.h fails when the facts break it, and names itself.
#include "sim/invariants.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tapstack::sim {
namespace {

RunFacts Healthy() {
  RunFacts f;
  f.ledger_audits["issuer-a"] = Status::Ok();
  f.settlement_ran = true;
  f.settlement_net_by_currency["CNY"] = 0;
  TxnFacts held;
  held.label = "TERM0001 stan=000001 0100";
  held.card = "48020001/debit/0";
  held.dual_message = true;
  held.amount_minor = 1'000;
  held.approved = true;
  held.issuer_state = "pending";
  held.issuer_amount_minor = 1'000;
  held.step = 7;
  f.txns.push_back(held);
  f.cards.push_back({"48020001/debit/0", 1'000});
  return f;
}

bool Names(const std::vector<Violation>& v, const std::string& invariant) {
  for (const Violation& x : v) {
    if (x.invariant == invariant) return true;
  }
  return false;
}

TEST(InvariantsTest, HealthyFactsPass) { EXPECT_TRUE(CheckInvariants(Healthy()).empty()); }

TEST(InvariantsTest, LedgerAuditFailureIsNamed) {
  RunFacts f = Healthy();
  f.ledger_audits["issuer-a"] = Internal("ledger 1: debits_posted != credits_posted");
  EXPECT_TRUE(Names(CheckInvariants(f), "ledger-audit"));
}

TEST(InvariantsTest, ApprovalWithoutHoldIsNamedWithItsStep) {
  RunFacts f = Healthy();
  f.txns[0].issuer_state = "voided";
  f.cards[0].used_minor = 0;
  const auto v = CheckInvariants(f);
  ASSERT_TRUE(Names(v, "approval-held"));
  EXPECT_EQ(v[0].step, 7);
  EXPECT_NE(v[0].ToString().find("(step 7)"), std::string::npos);
}

TEST(InvariantsTest, HoldOfTheWrongAmountIsNamed) {
  RunFacts f = Healthy();
  f.txns[0].issuer_amount_minor = 900;
  f.cards[0].used_minor = 900;
  EXPECT_TRUE(Names(CheckInvariants(f), "approval-held"));
}

TEST(InvariantsTest, AcknowledgedReversalThatLeftItsHoldIsNamed) {
  RunFacts f = Healthy();
  f.txns[0].reversal_acknowledged = true;
  EXPECT_TRUE(Names(CheckInvariants(f), "reversal-undone"));
}

TEST(InvariantsTest, DeclineThatLeftAHoldIsNamed) {
  // The terminal heard a decline, the issuer holds the money (card-money agrees with the issuer,
  // so only this invariant sees it). A refunded sale holds nothing.
  RunFacts f = Healthy();
  f.txns[0].approved = false;
  f.txns[0].declined = true;
  const auto v = CheckInvariants(f);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].invariant, "decline-not-held");
  f.txns[0].issuer_state = "refunded";
  f.cards[0].used_minor = 0;
  EXPECT_TRUE(CheckInvariants(f).empty());
}

TEST(InvariantsTest, MoneyMovedTwiceOnACardIsNamed) {
  RunFacts f = Healthy();
  f.cards[0].used_minor = 2'000;  // a second hold or posting no transaction accounts for
  EXPECT_TRUE(Names(CheckInvariants(f), "card-money"));
}

TEST(InvariantsTest, SettlementNotZeroIsNamed) {
  RunFacts f = Healthy();
  f.settlement_net_by_currency["HKD"] = 15;
  EXPECT_TRUE(Names(CheckInvariants(f), "settlement-zero"));
  f = Healthy();
  f.settlement_ran = false;
  EXPECT_TRUE(Names(CheckInvariants(f), "settlement-zero"));
}

TEST(InvariantsTest, TokenTapApprovedWithoutItsAtcIsNamed) {
  RunFacts f = Healthy();
  f.txns[0].token = true;
  f.txns[0].phone = 0;
  f.txns[0].atc_recorded = false;
  EXPECT_TRUE(Names(CheckInvariants(f), "token-atc-durable"));
  f.txns[0].approved = false;  // a declined tap need not have spent its ATC
  EXPECT_FALSE(Names(CheckInvariants(f), "token-atc-durable"));
}

TEST(InvariantsTest, TokenApprovedAfterSuspensionIsNamed) {
  RunFacts f = Healthy();
  f.txns[0].token = true;
  f.txns[0].phone = 1;
  f.txns[0].first_at_switch_ms = 500;
  f.suspended_at_ms[1] = 400;
  EXPECT_TRUE(Names(CheckInvariants(f), "token-suspension"));
  f.suspended_at_ms[1] = 600;  // reached the switch before the suspension: fine
  EXPECT_FALSE(Names(CheckInvariants(f), "token-suspension"));
}

TEST(InvariantsTest, DisagreeingAnswersAndUnfinishedLoopsAreNamed) {
  RunFacts f = Healthy();
  f.txns[0].answers_disagree = true;
  EXPECT_TRUE(Names(CheckInvariants(f), "answers-agree"));
  f = Healthy();
  f.txns[0].reversal_unfinished = true;
  EXPECT_TRUE(Names(CheckInvariants(f), "run-finished"));
  f = Healthy();
  f.finished = false;
  f.unfinished_reason = "more than 10 steps";
  EXPECT_TRUE(Names(CheckInvariants(f), "run-finished"));
}

}  // namespace
}  // namespace tapstack::sim
