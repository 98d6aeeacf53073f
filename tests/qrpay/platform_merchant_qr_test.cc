// Paying merchants by scanning their codes from the balance: static and dynamic codes, tampered,
// expired and reused codes, limits, idempotency and refunds.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "crypto/hash.h"
#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

constexpr std::string_view kNoodles = "BJNOODLES01";

class MerchantQrPayTest : public PlatformDbTest {
 protected:
  void SetUp() override {
    PlatformDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    payer_ = NewAccount("owner-payer", 2);
    TopUp(payer_, 500000);
    auto code = cn_->MerchantStaticQr(kNoodles);
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    static_code_ = *code;
  }
  std::string Dynamic(std::string_view order_id, std::int64_t fen, std::int64_t validity_s = 300) {
    auto code = cn_->MerchantDynamicQr(kNoodles, order_id, Minor(fen, "CNY"), validity_s);
    EXPECT_TRUE(code.ok()) << code.status().ToString();
    return code.ok() ? *code : std::string();
  }
  std::string payer_;
  std::string static_code_;
};

TEST_P(MerchantQrPayTest, ScanShowsWhatThePayerConfirms) {
  auto scan = cn_->Scan(Dynamic("ORDER-1", 2350));
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_TRUE(scan->dynamic);
  EXPECT_EQ(scan->merchant_name, "Old Beijing Noodles");
  EXPECT_EQ(scan->city, "Beijing");
  EXPECT_EQ(*scan->amount, Minor(2350, "CNY"));
  EXPECT_EQ(scan->order_id, "ORDER-1");
  EXPECT_FALSE(scan->foreign);
  EXPECT_FALSE(scan->quote_preview.has_value());

  auto moscow = cn_->MerchantDynamicQr("MOSARBAT01", "RU-1", Minor(100000, "RUB"), 300);
  ASSERT_TRUE(moscow.ok()) << moscow.status().ToString();
  auto foreign = cn_->Scan(*moscow);
  ASSERT_TRUE(foreign.ok());
  EXPECT_TRUE(foreign->foreign);
  ASSERT_TRUE(foreign->quote_preview.has_value());
  EXPECT_EQ(foreign->quote_preview->to, Minor(7878, "CNY"));  // 1000 RUB × 0.078 × 1.01
  EXPECT_EQ(foreign->quote_preview->markup_bps, 100);

  EXPECT_EQ(cn_->Scan("not a code").status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(MerchantQrPayTest, StaticCodePaysAndRetriesReplay) {
  auto paid = cn_->PayMerchantQr(payer_, static_code_, Minor(2500, "CNY"), "key-1");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->kind, "qr_payment");
  EXPECT_EQ(paid->merchant_name, "Old Beijing Noodles");
  EXPECT_EQ(paid->payer_amount, Minor(2500, "CNY"));
  EXPECT_FALSE(paid->replayed);
  EXPECT_EQ(Balance(payer_), 497500);
  EXPECT_EQ(MerchantBalance(std::string(kNoodles)), 2500);

  auto again = cn_->PayMerchantQr(payer_, static_code_, Minor(2500, "CNY"), "key-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->receipt_id, paid->receipt_id);
  EXPECT_EQ(Balance(payer_), 497500);

  auto reused = cn_->PayMerchantQr(payer_, static_code_, Minor(2600, "CNY"), "key-1");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(reused.status().message(), kKeyReusedMessage);

  RestartCn();  // the journal, not memory, answers retries
  auto after_restart = cn_->PayMerchantQr(payer_, static_code_, Minor(2500, "CNY"), "key-1");
  ASSERT_TRUE(after_restart.ok());
  EXPECT_TRUE(after_restart->replayed);
  EXPECT_EQ(Balance(payer_), 497500);
  ExpectAuditOk(*cn_);
}

TEST_P(MerchantQrPayTest, RefusalsAreRememberedUnderTheKey) {
  auto no_amount = cn_->PayMerchantQr(payer_, static_code_, std::nullopt, "key-2");
  EXPECT_EQ(no_amount.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(no_amount.status().message().starts_with("amount: required for a static code"));
  auto replay = cn_->PayMerchantQr(payer_, static_code_, std::nullopt, "key-2");
  EXPECT_EQ(replay.status(), no_amount.status());

  auto too_much = cn_->PayMerchantQr(payer_, static_code_, Minor(600000, "CNY"), "key-3");
  EXPECT_EQ(too_much.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(too_much.status().message(), "balance: 500000 available, 600000 requested");
  // Topping up does not turn the remembered refusal into a payment.
  TopUp(payer_, 200000);
  EXPECT_EQ(cn_->PayMerchantQr(payer_, static_code_, Minor(600000, "CNY"), "key-3").status(),
            too_much.status());
  EXPECT_EQ(Balance(payer_), 700000);
  ExpectAuditOk(*cn_);
}

TEST_P(MerchantQrPayTest, AStoreErrorInsideAPaymentIsNotRememberedAsARefusal) {
  // The op id the platform derives for (qr_payment, payer, key) (platform.h: Idempotency).
  std::string parts;
  for (std::string_view part :
       {std::string_view("tapstack qrpay operation"), std::string_view("tapstack-cn"),
        std::string_view("qr_payment"), std::string_view(payer_), std::string_view("key-st")}) {
    parts.append(part);
    parts += '\x1F';
  }
  auto digest = crypto::Sha256(ByteView(reinterpret_cast<const std::uint8_t*>(parts.data()),
                                        parts.size()));
  ASSERT_TRUE(digest.ok());
  std::string op_id;
  for (std::size_t i = 0; i < 16; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    op_id += kHex[(*digest)[i] >> 4];
    op_id += kHex[(*digest)[i] & 0x0F];
  }
  // A row already holding that payment id: the payment's last insert (after its ledger transfers)
  // fails with the store's kAlreadyExists.
  auto other = OpenStore("tapstack-cn", cn_dir_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto insert = (*other)->Execute(
      "INSERT INTO qrpay_payments (payment_id, kind, account_id, merchant_id, refund_of,"
      " amount_minor, currency, payer_amount_minor, payer_currency, rate, markup_bps,"
      " refunded_minor, payer_refunded_minor, local_day, created_ms)"
      " VALUES (?, 'qr_payment', 'x', 'x', '', 0, 156, 0, 156, '', 0, 0, 0, 0, 0)",
      {op_id});
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();

  auto failed = cn_->PayMerchantQr(payer_, static_code_, Minor(2500, "CNY"), "key-st");
  EXPECT_EQ(failed.status().code(), ErrorCode::kInternal) << failed.status().ToString();
  EXPECT_EQ(Balance(payer_), 500000);
  EXPECT_EQ(MerchantBalance(std::string(kNoodles)), 0);

  ASSERT_TRUE(
      (*other)->Execute("DELETE FROM qrpay_payments WHERE payment_id = ?", {op_id}).ok());
  auto paid = cn_->PayMerchantQr(payer_, static_code_, Minor(2500, "CNY"), "key-st");
  ASSERT_TRUE(paid.ok()) << "not remembered: " << paid.status().ToString();
  EXPECT_EQ(paid->receipt_id, op_id);
  EXPECT_EQ(Balance(payer_), 497500);
  ExpectAuditOk(*cn_);
}

TEST_P(MerchantQrPayTest, DynamicOrderPaysOnceEvenAcrossRestarts) {
  const std::string code = Dynamic("ORDER-7", 4200);
  auto paid = cn_->PayMerchantQr(payer_, code, std::nullopt, "key-a");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->reference, "ORDER-7");
  auto wrong_amount = cn_->PayMerchantQr(payer_, code, Minor(1, "CNY"), "key-w");
  EXPECT_EQ(wrong_amount.status().code(), ErrorCode::kInvalidArgument);

  auto second = cn_->PayMerchantQr(payer_, code, std::nullopt, "key-b");
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(
      second.status().message().starts_with("order_id: order ORDER-7 of BJNOODLES01 was "
                                            "already paid"))
      << second.status().message();
  RestartCn();
  auto third = cn_->PayMerchantQr(payer_, code, std::nullopt, "key-c");
  EXPECT_EQ(third.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Balance(payer_), 500000 - 4200);
  ExpectAuditOk(*cn_);
}

TEST_P(MerchantQrPayTest, TamperedAndExpiredCodesAreRefused) {
  const std::string code = Dynamic("ORDER-9", 9900, 60);
  const std::string cheaper = ReplaceQrObject(code, "54", "0.99");
  ASSERT_FALSE(cheaper.empty());
  auto tampered = cn_->PayMerchantQr(payer_, cheaper, std::nullopt, "key-t");
  EXPECT_EQ(tampered.status().code(), ErrorCode::kCryptoFailure);
  EXPECT_TRUE(tampered.status().message().starts_with("mac:")) << tampered.status().message();

  const std::string bad_crc = code.substr(0, code.size() - 1) + (code.back() == '0' ? "1" : "0");
  EXPECT_EQ(cn_->PayMerchantQr(payer_, bad_crc, std::nullopt, "key-crc").status().code(),
            ErrorCode::kInvalidArgument);

  clock_.AdvanceMillis(61'000);
  auto expired = cn_->PayMerchantQr(payer_, code, std::nullopt, "key-e");
  EXPECT_EQ(expired.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(expired.status().message().starts_with("expiry:")) << expired.status().message();
  EXPECT_EQ(Balance(payer_), 500000);
  EXPECT_EQ(MerchantBalance(std::string(kNoodles)), 0);
}

TEST_P(MerchantQrPayTest, ForeignMerchantsGoThroughAQuote) {
  auto moscow = cn_->MerchantStaticQr("MOSARBAT01");
  ASSERT_TRUE(moscow.ok());
  auto refused = cn_->PayMerchantQr(payer_, *moscow, Minor(1000, "RUB"), "key-f");
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("QuoteMerchantQr"), std::string::npos);
}

TEST_P(MerchantQrPayTest, DailyAndYearlyLimitsNameTheNumbers) {
  const std::string small = NewAccount("owner-small", 1);  // 200000 a day, 10000000 a year
  TopUp(small, 900000);
  ASSERT_TRUE(cn_->PayMerchantQr(small, static_code_, Minor(150000, "CNY"), "d1").ok());
  auto over = cn_->PayMerchantQr(small, static_code_, Minor(60000, "CNY"), "d2");
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(over.status().message(),
            "daily_max_minor: level 1 allows 200000 a day; 150000 spent today, 60000 requested");
  EXPECT_TRUE(cn_->PayMerchantQr(small, static_code_, Minor(50000, "CNY"), "d3").ok());
  auto info = cn_->Account(small);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->spent_today, Minor(200000, "CNY"));
  clock_.AdvanceMillis(24 * 3'600'000LL);  // the next local day
  EXPECT_TRUE(cn_->PayMerchantQr(small, static_code_, Minor(60000, "CNY"), "d4").ok())
      << "a new day resets the daily cap";
  EXPECT_EQ((*cn_->Account(small)).spent_this_year, Minor(260000, "CNY"));
}

TEST_P(MerchantQrPayTest, YearlyLimit) {
  config_.platforms[0].levels[0].yearly_max_minor = 250000;  // as a deployment might set it
  RestartCn();
  const std::string small = NewAccount("owner-yearly", 1);
  TopUp(small, 900000);
  ASSERT_TRUE(cn_->PayMerchantQr(small, static_code_, Minor(200000, "CNY"), "y1").ok());
  clock_.AdvanceMillis(24 * 3'600'000LL);
  auto over = cn_->PayMerchantQr(small, static_code_, Minor(60000, "CNY"), "y2");
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(over.status().message(),
            "yearly_max_minor: level 1 allows 250000 a year; 200000 spent this year, 60000 "
            "requested");
}

TEST_P(MerchantQrPayTest, RefundsNeverExceedWhatWasPaid) {
  auto paid = cn_->PayMerchantQr(payer_, static_code_, Minor(3000, "CNY"), "key-r");
  ASSERT_TRUE(paid.ok());
  auto first = cn_->RefundPayment(kNoodles, paid->receipt_id, Minor(1000, "CNY"), "refund-1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->payer_amount, Minor(1000, "CNY"));
  auto replay = cn_->RefundPayment(kNoodles, paid->receipt_id, Minor(1000, "CNY"), "refund-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  ASSERT_TRUE(cn_->RefundPayment(kNoodles, paid->receipt_id, Minor(1500, "CNY"), "refund-2").ok());
  auto too_much = cn_->RefundPayment(kNoodles, paid->receipt_id, Minor(600, "CNY"), "refund-3");
  EXPECT_EQ(too_much.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(too_much.status().message(), "amount: 500 left to refund of 3000 paid; 600 requested");
  ASSERT_TRUE(cn_->RefundPayment(kNoodles, paid->receipt_id, Minor(500, "CNY"), "refund-4").ok());
  EXPECT_EQ(Balance(payer_), 500000);
  EXPECT_EQ(MerchantBalance(std::string(kNoodles)), 0);
  EXPECT_EQ(cn_->RefundPayment(kNoodles, "nope", Minor(1, "CNY"), "refund-5").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(cn_->RefundPayment("SHDUMPLING01", paid->receipt_id, Minor(1, "CNY"), "refund-6")
                .status()
                .code(),
            ErrorCode::kNotFound);
  ExpectAuditOk(*cn_);
}

TEST_P(MerchantQrPayTest, ConcurrentPaymentsShareCommitsAndBalance) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = cn_->PayMerchantQr(payer_, static_code_, Minor(100, "CNY"),
                                    "c-" + std::to_string(t) + "-" + std::to_string(i));
        if (r.ok()) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(Balance(payer_), 500000 - kThreads * kEach * 100);
  EXPECT_EQ(MerchantBalance(std::string(kNoodles)), kThreads * kEach * 100);
  ExpectAuditOk(*cn_);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(MerchantQrPayTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
