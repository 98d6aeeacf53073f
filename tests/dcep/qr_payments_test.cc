// Paying e-CNY merchants by QR code (dcep/qr_payments.h) over a whole network: issue, pay at the
// same and at another operator, the same order paid twice charges once, tampered and expired
// codes refused, static codes need the payer's amount, and the keys.
#include "dcep/qr_payments.h"

#include <gtest/gtest.h>

#include "dcep/ledger_ids.h"
#include "dcep_test_util.h"
#include "qr/mpm.h"

namespace tapstack::dcep {
namespace {

using testing::Must;

class QrPaymentsTest : public testing::DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    OpenNetwork();
    qr_ = std::make_unique<QrPayments>(&network_->config(),
                                       Must(MerchantQrKeys::Demo(network_->config())), &clock_);
  }

  std::string Code(std::string_view op, const std::string& merchant, std::int64_t amount_fen,
                   const std::string& order = "") {
    MerchantQrRequest request;
    request.merchant_id = merchant;
    request.amount_fen = amount_fen;
    request.order_id = order;
    return Must(qr_->Issue(op, request), "issue").payload;
  }

  std::int64_t Balance(std::string_view op, const std::string& wallet) {
    return Must(Op(op).Wallet(wallet)).balance_fen;
  }

  std::unique_ptr<QrPayments> qr_;
};

TEST_F(QrPaymentsTest, TheSameOrderPaidTwiceChargesOnce) {
  const std::string payer = FundedWallet("icbc", "13800000001", 10'000);
  const std::string shop = MerchantWalletId("icbc", "m-beijing-coffee");
  const std::string payload = Code("icbc", "m-beijing-coffee", 2'600, "A1024");
  const QrPaymentResult first =
      Must(qr_->Pay(Op("icbc"), {payer, payload, 0, "scan-1"}), "first scan");
  EXPECT_EQ(first.entry.status, "posted");
  EXPECT_EQ(first.entry.kind, "payment");
  EXPECT_EQ(first.entry.amount_fen, 2'600);
  EXPECT_EQ(first.entry.merchant_id, "m-beijing-coffee");
  EXPECT_FALSE(first.entry.replayed);
  EXPECT_EQ(first.code.order_id, "A1024");
  // A second scan with another key, and a retry with the amount spelled out: the first outcome.
  for (const QrPaymentOrder& again : {QrPaymentOrder{payer, payload, 0, "scan-2"},
                                      QrPaymentOrder{payer, payload, 2'600, "scan-1"}}) {
    const QrPaymentResult second = Must(qr_->Pay(Op("icbc"), again), "again");
    EXPECT_TRUE(second.entry.replayed);
    EXPECT_EQ(second.entry.entry_id, first.entry.entry_id);
  }
  EXPECT_EQ(Balance("icbc", payer), 10'000 - 2'600);
  EXPECT_EQ(Balance("icbc", shop), 2'600);
  // The merchant reusing the order id for another amount: refused, not charged.
  const std::string reused = Code("icbc", "m-beijing-coffee", 900, "A1024");
  const auto refused = qr_->Pay(Op("icbc"), {payer, reused, 0, "scan-3"});
  EXPECT_EQ(refused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(refused.status().message().rfind("merchant_order_id: order A1024", 0), 0u)
      << refused.status().message();
  // Another wallet scanning the paid order (here, or at another operator): refused, not charged.
  const std::string other = FundedWallet("icbc", "13800000002", 10'000);
  EXPECT_EQ(qr_->Pay(Op("icbc"), {other, payload, 0, "o-1"}).status().code(),
            ErrorCode::kAlreadyExists);
  const std::string far = FundedWallet("boc", "13900000002", 10'000);
  const auto far_paid = qr_->Pay(Op("boc"), {far, payload, 0, "f-1"});
  EXPECT_EQ(far_paid.status().code(), ErrorCode::kAlreadyExists) << far_paid.status().ToString();
  EXPECT_EQ(Balance("icbc", other), 10'000);
  EXPECT_EQ(Balance("boc", far), 10'000);
  EXPECT_EQ(Balance("icbc", shop), 2'600);
  // Another order of the same merchant is a new payment.
  Must(qr_->Pay(Op("icbc"), {payer, Code("icbc", "m-beijing-coffee", 400, "A1025"), 0, "k"}));
  EXPECT_EQ(Balance("icbc", payer), 10'000 - 2'600 - 400);
  ExpectNetworkBalanced();
}

TEST_F(QrPaymentsTest, AMerchantAtAnotherOperatorIsPaidThroughTheCentralBank) {
  const std::string payer = FundedWallet("icbc", "13800000001", 10'000);
  const std::string payload = Code("ccb", "m-shenzhen-grocer", 1'200, "G-7");
  const QrPaymentResult paid = Must(qr_->Pay(Op("icbc"), {payer, payload, 0, "k1"}));
  EXPECT_EQ(paid.entry.kind, "interbank_out");
  EXPECT_EQ(paid.entry.status, "posted");
  EXPECT_EQ(paid.entry.counter_operator, "ccb");
  EXPECT_EQ(Balance("ccb", MerchantWalletId("ccb", "m-shenzhen-grocer")), 1'200);
  const QrPaymentResult again = Must(qr_->Pay(Op("icbc"), {payer, payload, 0, "k2"}));
  EXPECT_TRUE(again.entry.replayed);
  EXPECT_EQ(Balance("icbc", payer), 10'000 - 1'200);
  // A wallet of a third operator pays the same order: ccb refuses the credit and boc reverses.
  const std::string far = FundedWallet("boc", "13900000002", 10'000);
  const auto far_paid = qr_->Pay(Op("boc"), {far, payload, 0, "f-1"});
  EXPECT_EQ(far_paid.status().code(), ErrorCode::kAlreadyExists) << far_paid.status().ToString();
  EXPECT_EQ(Balance("boc", far), 10'000);
  EXPECT_EQ(Balance("ccb", MerchantWalletId("ccb", "m-shenzhen-grocer")), 1'200);
  ExpectNetworkBalanced();
}

TEST_F(QrPaymentsTest, APayerRefusedForBalanceMayTopUpAndPayTheOrderLater) {
  const std::string payer = FundedWallet("icbc", "13800000001", 1'000);
  const std::string payload = Code("icbc", "m-beijing-coffee", 2'600, "A2048");
  EXPECT_EQ(qr_->Pay(Op("icbc"), {payer, payload, 0, "t-1"}).status().code(),
            ErrorCode::kFailedPrecondition);
  // The refusal leaves the order unpaid: another wallet may pay it, or this one after a top-up.
  EnsureFloat("icbc", 5'000);
  Must(Op("icbc").Exchange(payer, 5'000, false, "top-up"));
  const QrPaymentResult paid = Must(qr_->Pay(Op("icbc"), {payer, payload, 0, "t-2"}));
  EXPECT_FALSE(paid.entry.replayed);
  EXPECT_EQ(Balance("icbc", payer), 6'000 - 2'600);
  // The first key still answers its first outcome (the refusal), and charges nothing.
  EXPECT_EQ(qr_->Pay(Op("icbc"), {payer, payload, 0, "t-1"}).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Balance("icbc", payer), 6'000 - 2'600);
  ExpectNetworkBalanced();
}

TEST_F(QrPaymentsTest, AStaticCodeNeedsThePayersAmountAndKey) {
  const std::string payer = FundedWallet("boc", "13900000001", 10'000);
  const std::string payload = Code("icbc", "m-beijing-coffee", 0);
  const auto missing = qr_->Pay(Op("boc"), {payer, payload, 0, "s1"});
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message().rfind("amount_fen:", 0), 0u);
  const QrPaymentResult paid = Must(qr_->Pay(Op("boc"), {payer, payload, 1'500, "s1"}));
  EXPECT_FALSE(paid.code.dynamic);
  EXPECT_EQ(paid.entry.amount_fen, 1'500);
  // The same key again: the first outcome; a new key: a second coffee.
  EXPECT_TRUE(Must(qr_->Pay(Op("boc"), {payer, payload, 1'500, "s1"})).entry.replayed);
  EXPECT_FALSE(Must(qr_->Pay(Op("boc"), {payer, payload, 1'500, "s2"})).entry.replayed);
  EXPECT_EQ(Balance("boc", payer), 10'000 - 3'000);
}

TEST_F(QrPaymentsTest, TamperedExpiredAndMismatchedCodesAreRefusedWithoutCharging) {
  const std::string payer = FundedWallet("icbc", "13800000001", 10'000);
  const std::string payload = Code("icbc", "m-beijing-coffee", 2'600, "A1");
  // The amount edited to 0.26 yuan with a fresh CRC.
  qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  for (qr::MpmObject& o : decoded.objects) {
    if (o.id == "54") o.value = "0.26";
  }
  const std::string tampered = Must(qr::EncodeMpm(decoded.objects));
  const auto t = qr_->Pay(Op("icbc"), {payer, tampered, 0, "t"});
  EXPECT_EQ(t.status().code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(t.status().message().rfind("payload: mac:", 0), 0u) << t.status().message();

  const auto wrong_amount = qr_->Pay(Op("icbc"), {payer, payload, 100, "w"});
  EXPECT_EQ(wrong_amount.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(wrong_amount.status().message().rfind("amount_fen:", 0), 0u);

  const auto garbage = qr_->Pay(Op("icbc"), {payer, "000201", 0, "g"});
  EXPECT_EQ(garbage.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(garbage.status().message().rfind("payload: ", 0), 0u) << garbage.status().message();

  clock_.AdvanceMillis(kDynamicQrValiditySecondsDefault * 1'000);
  const auto expired = qr_->Pay(Op("icbc"), {payer, payload, 0, "e"});
  EXPECT_EQ(expired.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(expired.status().message().rfind("payload: expires_unix_s:", 0), 0u)
      << expired.status().message();
  EXPECT_EQ(Balance("icbc", payer), 10'000);
}

TEST_F(QrPaymentsTest, ARetryAfterTheCodeExpiredAnswersThePaymentMadeBefore) {
  const std::string payer = FundedWallet("icbc", "13800000001", 10'000);
  const std::string poor = FundedWallet("icbc", "13800000002", 100);
  const std::string payload = Code("icbc", "m-beijing-coffee", 2'600, "B7");
  const QrPaymentResult first = Must(qr_->Pay(Op("icbc"), {payer, payload, 0, "scan-1"}));
  const std::string poor_payload = Code("icbc", "m-beijing-coffee", 2'600, "B8");
  EXPECT_EQ(qr_->Pay(Op("icbc"), {poor, poor_payload, 0, "scan-1"}).status().code(),
            ErrorCode::kFailedPrecondition);  // balance: nothing paid

  clock_.AdvanceMillis(kDynamicQrValiditySecondsDefault * 1'000);
  // The same wallet, key and code: the first payment, not a second one.
  const QrPaymentResult retried = Must(qr_->Pay(Op("icbc"), {payer, payload, 0, "scan-1"}));
  EXPECT_TRUE(retried.entry.replayed);
  EXPECT_EQ(retried.entry.entry_id, first.entry.entry_id);
  EXPECT_EQ(retried.code.order_id, "B7");
  EXPECT_EQ(Balance("icbc", payer), 10'000 - 2'600);
  // Anything else with the expired code is refused as expired: another key, another wallet, and
  // the retry of a first try that was refused.
  for (const QrPaymentOrder& late : {QrPaymentOrder{payer, payload, 0, "scan-2"},
                                     QrPaymentOrder{poor, payload, 0, "scan-1"},
                                     QrPaymentOrder{poor, poor_payload, 0, "scan-1"}}) {
    const auto refused = qr_->Pay(Op("icbc"), late);
    EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_EQ(refused.status().message().rfind("payload: expires_unix_s:", 0), 0u)
        << refused.status().message();
  }
  EXPECT_EQ(Balance("icbc", poor), 100);
}

TEST_F(QrPaymentsTest, IssueChecksTheMerchantAndTheRequest) {
  MerchantQrRequest request;
  request.merchant_id = "m-shenzhen-grocer";  // a merchant of ccb
  EXPECT_EQ(qr_->Issue("icbc", request).status().code(), ErrorCode::kNotFound);
  request.merchant_id = "m-beijing-coffee";
  request.amount_fen = 100;
  auto no_order = qr_->Issue("icbc", request);
  EXPECT_EQ(no_order.status().message().rfind("order_id:", 0), 0u);
  request.order_id = "O1";
  request.expires_in_s = kDynamicQrValiditySecondsMax + 1;
  EXPECT_EQ(qr_->Issue("icbc", request).status().message().rfind("expires_in_s:", 0), 0u);
  request.expires_in_s = 60;
  request.city = "A city far too long";
  EXPECT_EQ(qr_->Issue("icbc", request).status().message().rfind("city:", 0), 0u);
  request.city = "北京";
  const IssuedMerchantQr issued = Must(qr_->Issue("icbc", request));
  EXPECT_EQ(issued.code.city, "北京");
  EXPECT_EQ(issued.code.expires_unix_s, testing::kMorningMillis / 1'000 + 60);
  // Static codes take no order or expiry; a long display name is cut to MPM's 25 characters.
  MerchantQrRequest fixed;
  fixed.merchant_id = "m-chengdu-school";
  fixed.order_id = "O2";
  EXPECT_EQ(qr_->Issue("boc", fixed).status().message().rfind("order_id:", 0), 0u);
  fixed.order_id.clear();
  const IssuedMerchantQr school = Must(qr_->Issue("boc", fixed));
  EXPECT_EQ(school.code.name, "Chengdu Longquanyi Tutori");
  EXPECT_EQ(school.code.city, kMerchantQrCityDefault);
}

TEST_F(QrPaymentsTest, EachOperatorHasItsOwnKeyApartFromItsIdKey) {
  const MerchantQrKeys keys = Must(MerchantQrKeys::Demo(network_->config()));
  const crypto::SecretBytes* icbc = Must(keys.Key("icbc"));
  const crypto::SecretBytes* ccb = Must(keys.Key("ccb"));
  EXPECT_EQ(icbc->size(), kMerchantQrKeyBytes);
  EXPECT_FALSE(icbc->EqualsConstantTime(*ccb));
  EXPECT_FALSE(icbc->EqualsConstantTime(DemoDcepIdKey("operator_icbc")));
  EXPECT_EQ(keys.Key("hsbc").status().code(), ErrorCode::kNotFound);
  // A code MACed by ccb's key but claiming icbc does not verify.
  MerchantQr code;
  code.operator_id = "icbc";
  code.merchant_id = "m-beijing-coffee";
  code.mcc = "5814";
  code.name = "Beijing Coffee Roasters";
  code.city = "Beijing";
  const std::string forged = Must(EncodeMerchantQr(code, *ccb));
  EXPECT_EQ(qr_->Check(forged).status().code(), ErrorCode::kCryptoFailure);
  MerchantQrKeys custom;
  EXPECT_EQ(custom.Set("icbc", crypto::SecretBytes(Bytes(16, 1))).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(custom.Set("ICBC", crypto::SecretBytes(Bytes(32, 1))).code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::dcep
