// Tax refunds: a registered operator credits a VAT refund in CNY at the network's rate without
// markup, from its prefunded account; a receipt is refunded once whatever the key.
#include <gtest/gtest.h>

#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

using TaxRefundTest = PlatformDbTest;

constexpr std::string_view kOperator = "globalrefund-demo";

TEST_P(TaxRefundTest, TaxRefundCreditsCnyOncePerReceipt) {
  const std::string account = NewAccount("owner-shopper", 2);
  auto refund = cn_->TaxRefund(kOperator, account, "GB-VAT-000123", Minor(10000, "EUR"), "tr-1");
  ASSERT_TRUE(refund.ok()) << refund.status().ToString();
  EXPECT_EQ(refund->kind, "tax_refund");
  EXPECT_EQ(refund->amount, Minor(10000, "EUR"));
  EXPECT_EQ(refund->payer_amount, Minor(78000, "CNY"));  // 100.00 EUR × 7.8, no markup
  EXPECT_EQ(refund->rate, "7.8000");
  EXPECT_EQ(refund->markup_bps, 0);
  EXPECT_EQ(refund->reference, "GB-VAT-000123");
  EXPECT_EQ(Balance(account), 78000);

  auto replay = cn_->TaxRefund(kOperator, account, "GB-VAT-000123", Minor(10000, "EUR"), "tr-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  auto duplicate = cn_->TaxRefund(kOperator, account, "GB-VAT-000123", Minor(10000, "EUR"), "tr-2");
  EXPECT_EQ(duplicate.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(duplicate.status().message().starts_with(
      "receipt_reference: GB-VAT-000123 was already refunded"))
      << duplicate.status().message();
  EXPECT_EQ(Balance(account), 78000);

  EXPECT_EQ(cn_->TaxRefund("nobody", account, "R-1", Minor(1, "EUR"), "tr-3").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(cn_->TaxRefund(kOperator, account, "R-1", Minor(1, "JPY"), "tr-4").status().code(),
            ErrorCode::kNotFound);  // no rate for the pair

  auto statement = cn_->MonthlyStatement(account, "2026-01");
  ASSERT_TRUE(statement.ok());
  ASSERT_EQ(statement->entries.size(), 1u);
  EXPECT_EQ(statement->entries[0].counterparty, "Global Refund Demo");
  ExpectAuditOk(*cn_);
}

TEST_P(TaxRefundTest, TaxRefundRespectsTheBalanceCap) {
  const std::string account = NewAccount("owner-capped", 1);  // balance_max_minor 1000000
  auto refused =
      cn_->TaxRefund(kOperator, account, "FR-1", Minor(130000, "EUR"), "tr-cap");  // 10140.00
  EXPECT_EQ(refused.status().code(), ErrorCode::kOutOfRange);
  EXPECT_TRUE(refused.status().message().starts_with("balance_max_minor:"));
  // The receipt was not consumed by the refusal.
  auto smaller = cn_->TaxRefund(kOperator, account, "FR-1", Minor(1000, "EUR"), "tr-cap-2");
  EXPECT_TRUE(smaller.ok()) << smaller.status().ToString();
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(TaxRefundTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
