// Foreign cards bound by visitors: card-funded QR payments with per-transaction and yearly USD
// limits (the yearly counter durable) and the fee above the free threshold; domestic cards pay
// neither.
#include <gtest/gtest.h>

#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

class VisitorCardTest : public PlatformDbTest {
 protected:
  void SetUp() override {
    PlatformDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    visitor_ = NewAccount("owner-visitor-hk", 1);
    auto code = cn_->MerchantStaticQr("BJNOODLES01");
    ASSERT_TRUE(code.ok());
    noodles_ = *code;
  }
  Result<Receipt> PayByCard(std::int64_t fen, std::string_view country = "HK") {
    auto request = cn_->StartCardPayment(visitor_, noodles_, Minor(fen, "CNY"), country, "phone-1");
    if (!request.ok()) return request.status();
    return cn_->CompleteCardPayment(request->order_id, {{"cryptogram", "good"}});
  }
  std::string visitor_;
  std::string noodles_;
};

TEST_P(VisitorCardTest, FreeUpToTheThresholdThreePercentAbove) {
  auto small = PayByCard(20000);  // CNY 200.00: free
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->kind, "card_payment");
  EXPECT_EQ(small->fee, Minor(0, "CNY"));
  EXPECT_EQ(small->payer_amount, Minor(20000, "CNY"));

  auto request = cn_->StartCardPayment(visitor_, noodles_, Minor(20001, "CNY"), "HK", "phone-1");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->amount, Minor(20601, "CNY"));  // 200.01 + 3% (6.0003 → 6.00)
  auto big = cn_->CompleteCardPayment(request->order_id, {{"cryptogram", "good"}});
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->fee, Minor(600, "CNY"));
  EXPECT_EQ(big->amount, Minor(20001, "CNY"));
  auto replay = cn_->CompleteCardPayment(request->order_id, {{"cryptogram", "good"}});
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(rail_.charges, 2);
  EXPECT_EQ(MerchantBalance("BJNOODLES01"), 40001);
  EXPECT_EQ(Balance(visitor_), 0) << "the balance is not touched";

  auto domestic = PayByCard(50000, "CN");
  ASSERT_TRUE(domestic.ok());
  EXPECT_EQ(domestic->fee, Minor(0, "CNY"));
  ExpectAuditOk(*cn_);
}

TEST_P(VisitorCardTest, PerTransactionAndYearlyUsdLimits) {
  // USD 5,000 at 0.138 USD per CNY: CNY 36,231.88 is USD 4,999.99…
  auto over = cn_->StartCardPayment(visitor_, noodles_, Minor(3623200, "CNY"), "RU", "phone-1");
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(over.status().message(),
            "per_transaction_max_usd_minor: a visitor's card may pay 5000.00 USD at once; "
            "5000.02 USD requested (36232.00 CNY at the network's rate)");
  EXPECT_TRUE(PayByCard(3623100, "RU").ok());  // USD 4,999.88

  // Nine more near the cap fill the year; the tenth is refused, also after a restart.
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(PayByCard(3623100, "RU").ok()) << i;
  RestartCn();
  auto year = cn_->StartCardPayment(visitor_, noodles_, Minor(100000, "CNY"), "RU", "phone-1");
  EXPECT_EQ(year.status().code(), ErrorCode::kOutOfRange);
  EXPECT_TRUE(year.status().message().starts_with(
      "yearly_max_usd_minor: a visitor's card may pay 50000.00 USD a year; 49998.80 USD used"))
      << year.status().message();
  // A Chinese card is not a visitor's card.
  EXPECT_TRUE(PayByCard(100000, "CN").ok());
  // A new year starts a new count.
  clock_.SetUnixMillis(1'798'761'600'000);  // 2027-01-01T00:00Z
  EXPECT_TRUE(PayByCard(100000, "RU").ok());
  ExpectAuditOk(*cn_);
}

TEST_P(VisitorCardTest, DynamicOrderPaidByCardCannotBePaidAgain) {
  auto code = cn_->MerchantDynamicQr("BJNOODLES01", "CARD-1", Minor(5000, "CNY"), 300);
  ASSERT_TRUE(code.ok());
  auto request = cn_->StartCardPayment(visitor_, *code, std::nullopt, "HK", "phone-1");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_TRUE(cn_->CompleteCardPayment(request->order_id, {{"cryptogram", "good"}}).ok());
  const std::string payer = NewAccount("owner-balance", 2);
  TopUp(payer, 10000);
  auto twice = cn_->PayMerchantQr(payer, *code, std::nullopt, "k");
  EXPECT_EQ(twice.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(twice.status().message().starts_with("order_id:"));
  auto declined_request = cn_->StartCardPayment(visitor_, noodles_, Minor(100, "CNY"), "HK", "p");
  ASSERT_TRUE(declined_request.ok());
  EXPECT_EQ(cn_->CompleteCardPayment(declined_request->order_id, {{"cryptogram", "declined"}})
                .status()
                .code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(cn_->StartCardPayment(visitor_, noodles_, Minor(100, "CNY"), "XX", "p").status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(VisitorCardTest, ADynamicOrderIsClaimedBeforeTheCardIsCharged) {
  auto code = cn_->MerchantDynamicQr("BJNOODLES01", "CLAIM-1", Minor(5000, "CNY"), 300);
  ASSERT_TRUE(code.ok());
  auto first = cn_->StartCardPayment(visitor_, *code, std::nullopt, "HK", "phone-1");
  auto second = cn_->StartCardPayment(visitor_, *code, std::nullopt, "CN", "phone-2");
  ASSERT_TRUE(first.ok() && second.ok());

  // The first charge's answer is lost: the order stays claimed while its outcome is open.
  rail_.charge_unavailable = 1;
  auto lost = cn_->CompleteCardPayment(first->order_id, {{"cryptogram", "good"}});
  EXPECT_EQ(lost.status().code(), ErrorCode::kUnavailable) << lost.status().ToString();
  EXPECT_EQ(rail_.charges_applied, 1);

  auto by_card = cn_->CompleteCardPayment(second->order_id, {{"cryptogram", "good"}});
  EXPECT_EQ(by_card.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(by_card.status().message().starts_with(
      "order_id: order CLAIM-1 of BJNOODLES01 was already paid or is being paid"))
      << by_card.status().message();
  const std::string payer = NewAccount("owner-balance", 2);
  TopUp(payer, 10000);
  auto by_balance = cn_->PayMerchantQr(payer, *code, std::nullopt, "k");
  EXPECT_EQ(by_balance.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(by_balance.status().message().starts_with("order_id:"));
  EXPECT_EQ(rail_.charges_applied, 2) << "the payer's top-up only: the second card not charged";

  // The retry of the first completes it: charged once, the merchant paid once.
  auto done = cn_->CompleteCardPayment(first->order_id, {{"cryptogram", "good"}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_FALSE(done->replayed);
  EXPECT_EQ(MerchantBalance("BJNOODLES01"), 5000);
  EXPECT_EQ(Balance(payer), 10000);
  EXPECT_EQ(rail_.charges_applied, 2);
  ExpectAuditOk(*cn_);
}

TEST_P(VisitorCardTest, ADeclinedChargeReleasesTheOrder) {
  auto code = cn_->MerchantDynamicQr("BJNOODLES01", "CLAIM-2", Minor(5000, "CNY"), 300);
  ASSERT_TRUE(code.ok());
  auto request = cn_->StartCardPayment(visitor_, *code, std::nullopt, "HK", "phone-1");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(cn_->CompleteCardPayment(request->order_id, {{"cryptogram", "declined"}})
                .status()
                .code(),
            ErrorCode::kFailedPrecondition);
  const std::string payer = NewAccount("owner-balance", 2);
  TopUp(payer, 10000);
  auto by_balance = cn_->PayMerchantQr(payer, *code, std::nullopt, "k");
  ASSERT_TRUE(by_balance.ok()) << by_balance.status().ToString();
  EXPECT_EQ(MerchantBalance("BJNOODLES01"), 5000);
  ExpectAuditOk(*cn_);
}

TEST_P(VisitorCardTest, YearlyUsdIsReservedBeforeTheCharge) {
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(PayByCard(3623100, "RU").ok()) << i;  // 44,998.92 USD
  // Two orders fit the year each (49,998.80 USD), not both.
  auto first = cn_->StartCardPayment(visitor_, noodles_, Minor(3623100, "CNY"), "RU", "phone-1");
  auto second = cn_->StartCardPayment(visitor_, noodles_, Minor(3623100, "CNY"), "RU", "phone-1");
  ASSERT_TRUE(first.ok() && second.ok());
  rail_.charge_unavailable = 1;  // the first is being charged while the second completes
  EXPECT_EQ(cn_->CompleteCardPayment(first->order_id, {{"cryptogram", "good"}}).status().code(),
            ErrorCode::kUnavailable);
  const int charged = rail_.charges_applied;
  auto over = cn_->CompleteCardPayment(second->order_id, {{"cryptogram", "good"}});
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_TRUE(over.status().message().starts_with("yearly_max_usd_minor:"))
      << over.status().message();
  EXPECT_EQ(rail_.charges_applied, charged) << "refused before charging";
  ASSERT_TRUE(cn_->CompleteCardPayment(first->order_id, {{"cryptogram", "good"}}).ok());
  EXPECT_EQ(MerchantBalance("BJNOODLES01"), 10 * 3623100);
  ExpectAuditOk(*cn_);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(VisitorCardTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
