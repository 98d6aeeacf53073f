// "Show to pay": one-time 18-digit payment codes issued to an account and paid by a merchant's
// scanner; expired, used, unknown and malformed codes are refused with the reason.
#include <gtest/gtest.h>

#include "platform_test_util.h"
#include "qrpay/payment_code.h"

namespace tapstack::qrpay::testing {
namespace {

constexpr std::string_view kShop = "SHDUMPLING01";

class PaymentCodePayTest : public PlatformDbTest {
 protected:
  void SetUp() override {
    PlatformDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    payer_ = NewAccount("owner-show", 2);
    TopUp(payer_, 100000);
  }
  std::string payer_;
};

TEST_P(PaymentCodePayTest, CodePaysOnceThenIsSpent) {
  auto code = cn_->IssuePaymentCode(payer_, "device-1");
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(code->code.size(), kPaymentCodeDigits);
  EXPECT_TRUE(code->code.starts_with(kPaymentCodePrefix));
  EXPECT_EQ(code->expires_unix_ms, clock_.NowUnixMillis() + kPaymentCodeValiditySeconds * 1000);
  auto paid = cn_->PayByPaymentCode(kShop, code->code, Minor(1880, "CNY"), "scan-1");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->kind, "code_payment");
  EXPECT_EQ(paid->account_id, payer_);
  EXPECT_EQ(Balance(payer_), 100000 - 1880);
  EXPECT_EQ(MerchantBalance(std::string(kShop)), 1880);
  // The scanner's retry is the same payment; a second scan of the code is refused.
  auto retry = cn_->PayByPaymentCode(kShop, code->code, Minor(1880, "CNY"), "scan-1");
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed);
  auto again = cn_->PayByPaymentCode(kShop, code->code, Minor(1880, "CNY"), "scan-2");
  EXPECT_EQ(again.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(again.status().message().starts_with("code: already used"))
      << again.status().message();
  EXPECT_EQ(Balance(payer_), 100000 - 1880);
  ExpectAuditOk(*cn_);
}

TEST_P(PaymentCodePayTest, ExpiredUnknownAndMalformedCodes) {
  auto code = cn_->IssuePaymentCode(payer_, "device-1");
  ASSERT_TRUE(code.ok());
  auto other = cn_->IssuePaymentCode(payer_, "device-1");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->code, code->code);
  clock_.AdvanceMillis(kPaymentCodeValiditySeconds * 1000);
  auto expired = cn_->PayByPaymentCode(kShop, code->code, Minor(100, "CNY"), "scan-e");
  EXPECT_EQ(expired.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(expired.status().message().starts_with("code: expired"))
      << expired.status().message();

  std::string unknown = code->code;
  unknown[17] = unknown[17] == '9' ? '0' : static_cast<char>(unknown[17] + 1);
  auto not_ours = cn_->PayByPaymentCode(kShop, unknown, Minor(100, "CNY"), "scan-u");
  EXPECT_EQ(not_ours.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(cn_->PayByPaymentCode(kShop, "1234", Minor(100, "CNY"), "scan-m").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(cn_->IssuePaymentCode("a0000000000000000", "device-1").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(Balance(payer_), 100000);
}

TEST_P(PaymentCodePayTest, CodePaymentsCountTowardTheDailyLimit) {
  const std::string small = NewAccount("owner-show-small", 1);  // 200000 a day
  TopUp(small, 300000);
  auto first = cn_->IssuePaymentCode(small, "device-2");
  ASSERT_TRUE(cn_->PayByPaymentCode(kShop, first->code, Minor(190000, "CNY"), "s-1").ok());
  auto second = cn_->IssuePaymentCode(small, "device-2");
  auto over = cn_->PayByPaymentCode(kShop, second->code, Minor(20000, "CNY"), "s-2");
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(over.status().message(),
            "daily_max_minor: level 1 allows 200000 a day; 190000 spent today, 20000 requested");
}

TEST_P(PaymentCodePayTest, MerchantAbroadScansInItsCurrencyPayerPaysCnyWithMarkup) {
  auto code = cn_->IssuePaymentCode(payer_, "device-1");
  ASSERT_TRUE(code.ok());
  auto paid = cn_->PayByPaymentCode("MOSARBAT01", code->code, Minor(50000, "RUB"), "ru-till-1");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->amount, Minor(50000, "RUB"));
  EXPECT_EQ(paid->payer_amount, Minor(3939, "CNY"));  // 500.00 × 0.0780 × 1.01 = 39.39
  EXPECT_EQ(paid->rate, "0.0780");
  EXPECT_EQ(paid->markup_bps, 100);
  EXPECT_EQ(Balance(payer_), 100000 - 3939);
  EXPECT_EQ(MerchantBalance("MOSARBAT01"), 50000);
  auto wrong = cn_->IssuePaymentCode(payer_, "device-1");
  EXPECT_EQ(cn_->PayByPaymentCode("MOSARBAT01", wrong->code, Minor(100, "CNY"), "ru-till-2")
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  ExpectAuditOk(*cn_);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(PaymentCodePayTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
