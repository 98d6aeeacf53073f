// Cross-border: quotes shown before paying (rate and markup), own foreign-currency merchants paid
// through the FX positions, partner-platform merchants paid through the QR clearing with each
// side keeping its own ledger, and the settlement report with both sides.
#include <gtest/gtest.h>

#include "platform_test_util.h"
#include "qr/mpm.h"

namespace tapstack::qrpay::testing {
namespace {

class CrossBorderTest : public PlatformDbTest {
 protected:
  void SetUp() override {
    PlatformDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    payer_ = NewAccount("owner-traveller", 3);
    TopUp(payer_, 1000000);
    pk_ = OpenPlatform("induspay-pk", pk_dir_);
    ASSERT_NE(pk_, nullptr);
    clearing_.payee = pk_.get();
  }
  std::string payer_;
  TempDir pk_dir_;
  std::unique_ptr<Platform> pk_;
};

TEST_P(CrossBorderTest, MoscowQuoteShowsRateAndMarkupThenPaysBothSides) {
  auto code = cn_->MerchantDynamicQr("MOSARBAT01", "RU-42", Minor(100000, "RUB"), 600);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  auto quote = cn_->QuoteMerchantQr(payer_, *code, std::nullopt);
  ASSERT_TRUE(quote.ok()) << quote.status().ToString();
  EXPECT_EQ(quote->merchant_amount, Minor(100000, "RUB"));
  EXPECT_EQ(quote->payer_amount, Minor(7878, "CNY"));  // 1000.00 × 0.0780 × 1.01 = 78.78
  EXPECT_EQ(quote->rate, "0.0780");
  EXPECT_EQ(quote->markup_bps, 100);
  EXPECT_EQ(quote->merchant_name, "Arbat Souvenirs");
  EXPECT_EQ(quote->expires_unix_ms, clock_.NowUnixMillis() + 120'000);

  auto paid = cn_->PayQuote(payer_, quote->quote_id, "pay-ru");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->kind, "cross_border_payment");
  EXPECT_EQ(paid->amount, Minor(100000, "RUB"));
  EXPECT_EQ(paid->payer_amount, Minor(7878, "CNY"));
  EXPECT_EQ(Balance(payer_), 1000000 - 7878);
  EXPECT_EQ(MerchantBalance("MOSARBAT01"), 100000);

  // A second payment of the same quote or the same order is refused.
  auto quote_again = cn_->PayQuote(payer_, quote->quote_id, "pay-ru-2");
  EXPECT_EQ(quote_again.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(quote_again.status().message().starts_with("quote_id: already paid"));
  auto requote = cn_->QuoteMerchantQr(payer_, *code, std::nullopt);
  ASSERT_TRUE(requote.ok());
  auto order_again = cn_->PayQuote(payer_, requote->quote_id, "pay-ru-3");
  EXPECT_EQ(order_again.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(order_again.status().message().starts_with("order_id:"));

  auto report = cn_->Settlement("MOSARBAT01", "2026-01-01");  // 08:00 local in Beijing
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->lines.size(), 1u);
  EXPECT_EQ(report->lines[0].merchant_amount, Minor(100000, "RUB"));
  EXPECT_EQ(report->lines[0].payer_amount, Minor(7878, "CNY"));
  EXPECT_EQ(report->lines[0].rate, "0.0780");
  EXPECT_EQ(report->lines[0].markup_bps, 100);
  EXPECT_EQ(report->merchant_total, Minor(100000, "RUB"));
  ASSERT_EQ(report->payer_totals.size(), 1u);
  EXPECT_EQ(report->payer_totals[0], Minor(7878, "CNY"));
  EXPECT_TRUE(cn_->Settlement("MOSARBAT01", "2026-01-02")->lines.empty());
  ExpectAuditOk(*cn_);
}

TEST_P(CrossBorderTest, CrossBorderRefundsReturnTheSameShareOfThePayerAmount) {
  auto code = cn_->MerchantStaticQr("LDNCAMDEN01");
  ASSERT_TRUE(code.ok());
  auto quote = cn_->QuoteMerchantQr(payer_, *code, Minor(1001, "GBP"));
  ASSERT_TRUE(quote.ok()) << quote.status().ToString();
  EXPECT_EQ(quote->payer_amount, Minor(9200, "CNY"));  // 10.01 × 9.1 × 1.01 = 92.0010…
  ASSERT_TRUE(cn_->PayQuote(payer_, quote->quote_id, "pay-gb").ok());
  const std::string payment = (*cn_->PayQuote(payer_, quote->quote_id, "pay-gb")).receipt_id;
  auto part = cn_->RefundPayment("LDNCAMDEN01", payment, Minor(333, "GBP"), "rf-1");
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(part->payer_amount, Minor(3060, "CNY"));  // ⌊9200 × 333 / 1001⌋
  auto rest = cn_->RefundPayment("LDNCAMDEN01", payment, Minor(668, "GBP"), "rf-2");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->payer_amount, Minor(6140, "CNY"));  // the remainder: exactly what was paid
  EXPECT_EQ(Balance(payer_), 1000000);
  EXPECT_EQ(MerchantBalance("LDNCAMDEN01"), 0);
  ExpectAuditOk(*cn_);
}

TEST_P(CrossBorderTest, ExpiredQuoteIsRefused) {
  auto code = cn_->MerchantStaticQr("HKVICTORIA01");
  ASSERT_TRUE(code.ok());
  auto quote = cn_->QuoteMerchantQr(payer_, *code, Minor(5000, "HKD"));
  ASSERT_TRUE(quote.ok());
  clock_.AdvanceMillis(120'000);
  auto late = cn_->PayQuote(payer_, quote->quote_id, "late");
  EXPECT_EQ(late.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(late.status().message().starts_with("quote_id: the quote expired"));
  const std::string other = NewAccount("owner-other", 3);
  auto fresh = cn_->QuoteMerchantQr(payer_, *code, Minor(5000, "HKD"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(cn_->PayQuote(other, fresh->quote_id, "not-mine").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Balance(payer_), 1000000);
  auto home = cn_->MerchantStaticQr("BJNOODLES01");
  EXPECT_EQ(cn_->QuoteMerchantQr(payer_, *home, Minor(100, "CNY")).status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST_P(CrossBorderTest, PartnerMerchantIsPaidThroughTheClearing) {
  auto code = pk_->MerchantStaticQr("LHRANARKALI01");
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  auto scan = cn_->Scan(*code);
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->foreign);
  EXPECT_EQ(scan->platform_id, "induspay-pk");
  auto quote = cn_->QuoteMerchantQr(payer_, *code, Minor(100000, "PKR"));
  ASSERT_TRUE(quote.ok()) << quote.status().ToString();
  EXPECT_EQ(quote->payer_amount, Minor(2576, "CNY"));  // 1000.00 × 0.0255 × 1.01 = 25.755 → 25.76
  EXPECT_EQ(quote->payee_platform, "induspay-pk");

  auto paid = cn_->PayQuote(payer_, quote->quote_id, "pay-pk");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->kind, "partner_payment");
  EXPECT_FALSE(paid->reference.empty());  // the payee's payment id
  EXPECT_EQ(clearing_.last_request["type"], "qr_payment");
  EXPECT_EQ(clearing_.last_request["payer_amount"]["minor"], 2576);
  EXPECT_EQ(clearing_.last_request["amount"]["currency"], "PKR");
  EXPECT_EQ(clearing_.last_request["rate"], "0.0255");
  EXPECT_TRUE(
      clearing_.last_request["payer_alias"].get<std::string>().starts_with("tapstack-cn:u"));
  EXPECT_EQ(Balance(payer_), 1000000 - 2576);
  auto pk_merchant = pk_->MerchantBalance("LHRANARKALI01");
  ASSERT_TRUE(pk_merchant.ok());
  EXPECT_EQ(*pk_merchant, Minor(100000, "PKR"));

  // The payee side's settlement shows both sides too.
  auto report = pk_->Settlement("LHRANARKALI01", "2026-01-01");
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->lines.size(), 1u);
  EXPECT_EQ(report->lines[0].payer_amount, Minor(2576, "CNY"));
  // The same clearing id again: the first answer, no second credit.
  const nlohmann::json again = pk_->HandleClearing(clearing_.last_request);
  EXPECT_EQ(again["status"], "approved");
  EXPECT_EQ(*pk_->MerchantBalance("LHRANARKALI01"), Minor(100000, "PKR"));
  ExpectAuditOk(*cn_);
  ExpectAuditOk(*pk_);
}

TEST_P(CrossBorderTest, PartnerDeclineVoidsTheHoldAndSilenceKeepsIt) {
  auto dynamic = pk_->MerchantDynamicQr("KHIBURNS01", "PK-1", Minor(50000, "PKR"), 600);
  ASSERT_TRUE(dynamic.ok());
  // No answer: the hold stays, a retry with the same key completes it.
  auto quote = cn_->QuoteMerchantQr(payer_, *dynamic, std::nullopt);
  ASSERT_TRUE(quote.ok());
  clearing_.unavailable = 1;
  auto lost = cn_->PayQuote(payer_, quote->quote_id, "pay-k1");
  EXPECT_EQ(lost.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ((*cn_->Account(payer_)).available,
            Minor(1000000 - quote->payer_amount.minor_units(), "CNY"));
  EXPECT_EQ(Balance(payer_), 1000000);
  auto retried = cn_->PayQuote(payer_, quote->quote_id, "pay-k1");
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_FALSE(retried->replayed) << "this retry completed the payment";
  EXPECT_EQ(Balance(payer_), 1000000 - quote->payer_amount.minor_units());

  // The same order through another quote: the payee declines (single use), the hold is voided.
  auto requote = cn_->QuoteMerchantQr(payer_, *dynamic, std::nullopt);
  ASSERT_TRUE(requote.ok());
  auto declined = cn_->PayQuote(payer_, requote->quote_id, "pay-k2");
  EXPECT_EQ(declined.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(declined.status().message().starts_with("declined by induspay-pk: order_id:"))
      << declined.status().message();
  auto info = cn_->Account(payer_);
  EXPECT_EQ(info->available, info->balance);
  EXPECT_EQ(*pk_->MerchantBalance("KHIBURNS01"), Minor(50000, "PKR"));

  // A tampered partner code: only the payee can tell, and it declines.
  qr::MpmDecoded decoded = qr::DecodeMpm(*pk_->MerchantStaticQr("KHIBURNS01"));
  for (qr::MpmObject& object : decoded.objects) {
    if (object.id == "59") object.value = "Burns Road Biryani 2";
  }
  qr::MpmEncodeOptions options;
  options.validate = false;
  auto tampered = qr::EncodeMpm(decoded.objects, options);
  ASSERT_TRUE(tampered.ok());
  auto tq = cn_->QuoteMerchantQr(payer_, *tampered, Minor(1000, "PKR"));
  ASSERT_TRUE(tq.ok()) << tq.status().ToString();
  auto refused = cn_->PayQuote(payer_, tq->quote_id, "pay-k3");
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("mac:"), std::string::npos)
      << refused.status().message();
  info = cn_->Account(payer_);
  EXPECT_EQ(info->available, info->balance);
  ExpectAuditOk(*cn_);
  ExpectAuditOk(*pk_);
}

TEST_P(CrossBorderTest, ADefiniteClearingErrorReleasesTheHold) {
  auto code = pk_->MerchantStaticQr("LHRANARKALI01");
  ASSERT_TRUE(code.ok());
  auto quote = cn_->QuoteMerchantQr(payer_, *code, Minor(100000, "PKR"));
  ASSERT_TRUE(quote.ok());
  clearing_.fail_with = NotFound("payee_platform: not a member of the clearing");
  auto refused = cn_->PayQuote(payer_, quote->quote_id, "pay-nf");
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("not a member of the clearing"), std::string::npos)
      << refused.status().message();
  auto info = cn_->Account(payer_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->available, info->balance) << "the hold was voided";
  EXPECT_EQ(info->spent_today, Minor(0, "CNY"));
  EXPECT_EQ(info->spent_this_year, Minor(0, "CNY"));
  clearing_.fail_with = Status::Ok();
  const int sent = clearing_.sent;
  auto replay = cn_->PayQuote(payer_, quote->quote_id, "pay-nf");
  EXPECT_EQ(replay.status(), refused.status()) << "the refusal is remembered under the key";
  EXPECT_EQ(clearing_.sent, sent);
  ExpectAuditOk(*cn_);
}

TEST_P(CrossBorderTest, AnAnswerWithoutAStatusKeepsTheHold) {
  auto code = pk_->MerchantStaticQr("LHRANARKALI01");
  ASSERT_TRUE(code.ok());
  auto quote = cn_->QuoteMerchantQr(payer_, *code, Minor(100000, "PKR"));
  ASSERT_TRUE(quote.ok());
  clearing_.answer_override = nlohmann::json{{"status", 3}, {"reason", 4}};
  auto odd = cn_->PayQuote(payer_, quote->quote_id, "pay-odd");
  EXPECT_EQ(odd.status().code(), ErrorCode::kUnavailable) << odd.status().ToString();
  EXPECT_EQ(cn_->Account(payer_)->available, Minor(1000000 - 2576, "CNY"));
  clearing_.answer_override = nlohmann::json::array();
  EXPECT_EQ(cn_->PayQuote(payer_, quote->quote_id, "pay-odd").status().code(),
            ErrorCode::kUnavailable);
  clearing_.answer_override.reset();
  auto paid = cn_->PayQuote(payer_, quote->quote_id, "pay-odd");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(Balance(payer_), 1000000 - 2576);
  ExpectAuditOk(*cn_);
}

TEST_P(CrossBorderTest, MalformedClearingRequestsAreDeclinedNamingTheMember) {
  auto code = pk_->MerchantStaticQr("LHRANARKALI01");
  ASSERT_TRUE(code.ok());
  const nlohmann::json valid = {{"type", "qr_payment"},
                                {"clearing_id", "tapstack-cn:c1"},
                                {"payer_platform", "tapstack-cn"},
                                {"payee_platform", "induspay-pk"},
                                {"payload", *code},
                                {"amount", {{"minor", 1000}, {"currency", "PKR"}}},
                                {"payer_amount", {{"minor", 26}, {"currency", "CNY"}}},
                                {"rate", "0.0255"},
                                {"markup_bps", 100},
                                {"payer_alias", "tapstack-cn:u1"}};
  const struct {
    const char* member;
    nlohmann::json value;
    const char* reason;
  } cases[] = {
      {"type", 5, "type: expected \"qr_payment\""},
      {"payee_platform", false, "payee_platform: this is induspay-pk"},
      {"markup_bps", "x", "markup_bps: expected an integer"},
      {"payer_alias", 7, "payer_alias: expected a string"},
      {"payer_platform", nlohmann::json::array(), "payer_platform: expected a string"},
      {"rate", 0.0255, "rate: expected decimal text"},
  };
  int n = 0;
  for (const auto& c : cases) {
    nlohmann::json request = valid;
    request["clearing_id"] = "tapstack-cn:bad" + std::to_string(++n);
    request[c.member] = c.value;
    const nlohmann::json answer = pk_->HandleClearing(request);
    EXPECT_EQ(answer["status"], "declined") << c.member;
    EXPECT_EQ(answer["reason"], c.reason) << c.member;
  }
  EXPECT_EQ(pk_->HandleClearing(nlohmann::json::array())["status"], "declined");
  EXPECT_EQ(*pk_->MerchantBalance("LHRANARKALI01"), Minor(0, "PKR"));
  EXPECT_EQ(pk_->HandleClearing(valid)["status"], "approved");
  EXPECT_EQ(*pk_->MerchantBalance("LHRANARKALI01"), Minor(1000, "PKR"));
}

TEST_P(CrossBorderTest, ARefusedQuotePaymentLeavesTheQuoteUsable) {
  const std::string poor = NewAccount("owner-poor", 3);
  TopUp(poor, 1000);
  auto code = cn_->MerchantStaticQr("MOSARBAT01");
  ASSERT_TRUE(code.ok());
  auto quote = cn_->QuoteMerchantQr(poor, *code, Minor(100000, "RUB"));
  ASSERT_TRUE(quote.ok()) << quote.status().ToString();
  auto short_of_money = cn_->PayQuote(poor, quote->quote_id, "q-1");
  EXPECT_EQ(short_of_money.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(short_of_money.status().message(), "balance: 1000 available, 7878 requested");
  TopUp(poor, 10000);
  auto paid = cn_->PayQuote(poor, quote->quote_id, "q-2");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(Balance(poor), 11000 - 7878);
  EXPECT_EQ(cn_->PayQuote(poor, quote->quote_id, "q-3").status().message().substr(0, 22),
            "quote_id: already paid");
  ExpectAuditOk(*cn_);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(CrossBorderTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
