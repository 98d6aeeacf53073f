// Top-up from a bound card and withdrawal to it over the CardRail: idempotent by order, the
// funding card remembered as a token (never a PAN), holds posted or voided.
#include <gtest/gtest.h>

#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

class CardsTest : public PlatformDbTest {
 protected:
  void SetUp() override {
    PlatformDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    account_ = NewAccount("owner-cards", 2);
  }
  std::string account_;
};

TEST_P(CardsTest, TopUpChargesOnceAndRemembersTheToken) {
  auto request = cn_->StartTopUp(account_, Minor(50000, "CNY"), "device-1");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->amount, Minor(50000, "CNY"));
  EXPECT_EQ(request->unpredictable_number.size(), 8u);
  auto done = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->kind, "top_up");
  EXPECT_FALSE(done->replayed);
  EXPECT_EQ(Balance(account_), 50000);

  auto again = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(rail_.charges, 1) << "a completed order is answered from the journal";
  EXPECT_EQ(Balance(account_), 50000);

  auto cards = cn_->FundingCards(account_);
  ASSERT_TRUE(cards.ok());
  ASSERT_EQ(cards->size(), 1u);
  EXPECT_EQ((*cards)[0].token_last4, "1234");
  EXPECT_EQ((*cards)[0].token_expiry, "2812");
  EXPECT_EQ((*cards)[0].card_id.find(rail_.token), std::string::npos);
  EXPECT_EQ(cn_->CompleteTopUp("tu-unknown", {{"cryptogram", "good"}}).status().code(),
            ErrorCode::kNotFound);
  ExpectAuditOk(*cn_);
}

TEST_P(CardsTest, DeclinedChargeCreditsNothing) {
  auto request = cn_->StartTopUp(account_, Minor(50000, "CNY"), "device-1");
  ASSERT_TRUE(request.ok());
  auto declined = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "declined"}});
  EXPECT_EQ(declined.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(declined.status().message().find("DE39 51"), std::string::npos);
  EXPECT_EQ(Balance(account_), 0);
  EXPECT_TRUE(cn_->FundingCards(account_)->empty());
  EXPECT_EQ(cn_->StartTopUp(account_, Minor(-5, "CNY"), "device-1").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(cn_->StartTopUp(account_, Minor(5, "USD"), "device-1").status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(CardsTest, ALostChargeAnswerIsRetriedUnderTheSameOrder) {
  auto request = cn_->StartTopUp(account_, Minor(50000, "CNY"), "device-1");
  ASSERT_TRUE(request.ok());
  rail_.charge_unavailable = 1;
  auto lost = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}});
  EXPECT_EQ(lost.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(Balance(account_), 0);
  RestartCn();  // the "charging" row survives
  auto done = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(Balance(account_), 50000);
  EXPECT_EQ(rail_.charges_applied, 1);
  auto replay = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}});
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(Balance(account_), 50000);
  ExpectAuditOk(*cn_);
}

TEST_P(CardsTest, AChargeTheRailForgotIsLeftForReconciliation) {
  auto request = cn_->StartTopUp(account_, Minor(50000, "CNY"), "device-1");
  ASSERT_TRUE(request.ok());
  rail_.charge_unavailable = 1;
  EXPECT_EQ(cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}}).status().code(),
            ErrorCode::kUnavailable);
  rail_.ForgetOrders();  // the rail restarted: it cannot say whether it charged the order
  auto unknown = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}});
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(unknown.status().message().find("outcome of its card charge is unknown"),
            std::string::npos)
      << unknown.status().message();
  EXPECT_NE(unknown.status().message().find("reconciliation"), std::string::npos);
  EXPECT_EQ(Balance(account_), 0);
  // Still charging: asked again, the answer is the same (never a second credit or a release).
  EXPECT_EQ(cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}}).status().code(),
            ErrorCode::kUnavailable);
}

TEST_P(CardsTest, TheBalanceCapIsCheckedAgainBeforeCharging) {
  const std::string low = NewAccount("owner-cards-low", 1);  // balance_max_minor 1000000
  auto first = cn_->StartTopUp(low, Minor(1000000, "CNY"), "device-1");
  auto second = cn_->StartTopUp(low, Minor(1000000, "CNY"), "device-1");
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(cn_->CompleteTopUp(first->order_id, {{"cryptogram", "good"}}).ok());
  auto over = cn_->CompleteTopUp(second->order_id, {{"cryptogram", "good"}});
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_TRUE(over.status().message().starts_with("balance_max_minor:"))
      << over.status().message();
  EXPECT_EQ(rail_.charges, 1) << "refused without asking the rail";
  EXPECT_EQ(Balance(low), 1000000);

  // A top-up still being charged counts against the cap too.
  const std::string other = NewAccount("owner-cards-low-2", 1);
  auto a = cn_->StartTopUp(other, Minor(600000, "CNY"), "device-1");
  auto b = cn_->StartTopUp(other, Minor(600000, "CNY"), "device-1");
  ASSERT_TRUE(a.ok() && b.ok());
  rail_.charge_unavailable = 1;
  EXPECT_EQ(cn_->CompleteTopUp(a->order_id, {{"cryptogram", "good"}}).status().code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(cn_->CompleteTopUp(b->order_id, {{"cryptogram", "good"}}).status().code(),
            ErrorCode::kOutOfRange);
  EXPECT_EQ(rail_.charges_applied, 2);
  ExpectAuditOk(*cn_);
}

TEST_P(CardsTest, WithdrawalCreditsTheTokenAndPosts) {
  TopUp(account_, 80000);
  const std::string card = (*cn_->FundingCards(account_))[0].card_id;
  auto done = cn_->Withdraw(account_, card, Minor(30000, "CNY"), "w-1");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->kind, "withdrawal");
  EXPECT_EQ(rail_.last_credit.token, rail_.token);
  EXPECT_EQ(rail_.last_credit.amount, Minor(30000, "CNY"));
  EXPECT_EQ(Balance(account_), 50000);
  auto replay = cn_->Withdraw(account_, card, Minor(30000, "CNY"), "w-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(rail_.credits_applied, 1);
  EXPECT_EQ(Balance(account_), 50000);

  auto too_much = cn_->Withdraw(account_, card, Minor(50001, "CNY"), "w-2");
  EXPECT_EQ(too_much.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(too_much.status().message(), "balance: 50000 available, 50001 requested");
  EXPECT_EQ(cn_->Withdraw(account_, "c0000000000000000", Minor(1, "CNY"), "w-3").status().code(),
            ErrorCode::kNotFound);
  ExpectAuditOk(*cn_);
}

TEST_P(CardsTest, UnansweredWithdrawalKeepsItsHoldUntilRetried) {
  TopUp(account_, 80000);
  const std::string card = (*cn_->FundingCards(account_))[0].card_id;
  rail_.credit_unavailable = 1;
  auto lost = cn_->Withdraw(account_, card, Minor(30000, "CNY"), "w-lost");
  EXPECT_EQ(lost.status().code(), ErrorCode::kUnavailable);
  auto info = cn_->Account(account_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->balance, Minor(80000, "CNY"));
  EXPECT_EQ(info->available, Minor(50000, "CNY")) << "the hold stays while the rail is silent";
  ExpectAuditOk(*cn_);

  RestartCn();
  auto retried = cn_->Withdraw(account_, card, Minor(30000, "CNY"), "w-lost");
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_FALSE(retried->replayed) << "this retry completed the withdrawal";
  auto replay = cn_->Withdraw(account_, card, Minor(30000, "CNY"), "w-lost");
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->reference, retried->reference);
  EXPECT_EQ(Balance(account_), 50000);
  EXPECT_EQ((*cn_->Account(account_)).available, Minor(50000, "CNY"));
  EXPECT_EQ(rail_.credits_applied, 1);
  ExpectAuditOk(*cn_);
}

TEST_P(CardsTest, RefusedWithdrawalReleasesTheHold) {
  TopUp(account_, 80000);
  const std::string card = (*cn_->FundingCards(account_))[0].card_id;
  rail_.credit_refused = true;
  auto refused = cn_->Withdraw(account_, card, Minor(30000, "CNY"), "w-no");
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("DE39 57"), std::string::npos);
  auto info = cn_->Account(account_);
  EXPECT_EQ(info->balance, Minor(80000, "CNY"));
  EXPECT_EQ(info->available, Minor(80000, "CNY"));
  rail_.credit_refused = false;
  EXPECT_EQ(cn_->Withdraw(account_, card, Minor(30000, "CNY"), "w-no").status(), refused.status())
      << "the refusal is the key's outcome";
  ExpectAuditOk(*cn_);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(CardsTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
