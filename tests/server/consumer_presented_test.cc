// "Show to pay" end to end (issue #8): a demo card bound to a phone through the TSP (ID&V with the
// issuer over ISO 8583, OTP from the SMS outbox, credentials wrapped for the phone's secure
// element); the wallet makes an EMVCo consumer-presented QR code (acquirer/consumer_presented.h);
// the merchant's scanner reads it and its POS terminal sends the 0100 (DE22 "032") through the
// network: switch → TSP (ARQC with 9F02 = 0, ATC) → issuer, who authorises DE4 and places the
// hold. One process, PaymentRail over in-memory links (the same ISO 8583 bytes as TCP).
#include "acquirer/consumer_presented.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "acquirer/pos_terminal.h"
#include "core/hex.h"
#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "emv/tlv.h"
#include "qr/cpm.h"
#include "server/payment_rail.h"
#include "tsp/otp_challenge.h"

namespace tapstack::server {
namespace {

constexpr int kCardsPerBank = 4;
constexpr std::string_view kDeviceId = "phone-1";
constexpr std::string_view kPhone = "+8613800138000";
constexpr std::int64_t kNoodles = 23'50;  // CNY 23.50

#define CPM_ASSERT_OK(expr)                                  \
  do {                                                       \
    const ::tapstack::Status cpm_status_ = (expr);           \
    ASSERT_TRUE(cpm_status_.ok()) << cpm_status_.ToString(); \
  } while (false)
#define CPM_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  CPM_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(cpm_result_, __LINE__), lhs, expr)
#define CPM_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();    \
  lhs = std::move(tmp).value()

class ConsumerPresentedRailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-cpm-rail-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    CPM_ASSERT_OK_AND_ASSIGN(demo_, demo::LoadDemoNetwork(*demo::DefaultSeedPath()));
    PaymentRailOptions options;
    options.data_dir = dir_;
    options.cards_per_bank = kCardsPerBank;
    CPM_ASSERT_OK_AND_ASSIGN(rail_, PaymentRail::Start(demo_, options));
    bank_ = &demo_.banks[0];
    CPM_ASSERT_OK_AND_ASSIGN(pan_, PaymentRail::CardNumber(demo_, 0, 0));

    // The phone's secure element, then the card bound to it as the wallet does it: Provision
    // (ID&V with the issuer through the switch asks for a step-up), the OTP from the SMS outbox,
    // VerifyOtp, the credentials wrapped for this secure element alone.
    device::SecureElementOptions se_options;
    se_options.data_dir = dir_ / "device";
    se_options.device_id = std::string(kDeviceId);
    CPM_ASSERT_OK_AND_ASSIGN(se_, device::SecureElement::Open(se_options));
    tsp::TspService& tsp = rail_->tsp().service();
    const std::string requestor = demo_.tsp.requestors.at(0).id;
    tsp::ProvisionRequest request;
    request.requestor_id = requestor;
    request.device_id = std::string(kDeviceId);
    request.device_public_key = se_->public_key();
    request.pan = pan_;
    request.pan_expiry = demo::kDemoCardExpiry;
    CPM_ASSERT_OK_AND_ASSIGN(
        request.cvv2, demo::DemoCardCvv2(bank_->institution_id, pan_, demo::kDemoCardExpiry));
    request.holder_name = "LI LEI";
    request.phone = std::string(kPhone);
    CPM_ASSERT_OK_AND_ASSIGN(tsp::ProvisionOutcome outcome, tsp.Provision(request));
    ASSERT_EQ(outcome.decision, tsp::ProvisionDecision::kStepUp) << outcome.decline_reason;
    CPM_ASSERT_OK_AND_ASSIGN(const std::vector<tsp::SmsOutboxMessage> sms,
                             tsp.SmsOutbox(kPhone, 0));
    ASSERT_FALSE(sms.empty());
    const std::string code = tsp::OtpFromSmsText(sms.back().text);
    ASSERT_FALSE(code.empty()) << sms.back().text;
    CPM_ASSERT_OK_AND_ASSIGN(const tsp::OtpVerification verified,
                             tsp.VerifyOtp(requestor, outcome.token->token_id, code));
    ASSERT_EQ(verified.outcome, tsp::OtpOutcome::kVerified);
    token_ = *verified.approved.token;
    ASSERT_EQ(token_.state, tsp::TokenState::kActive);
    CPM_ASSERT_OK(se_->InstallToken(token_.token_id, verified.approved.credentials));

    // The noodle shop's terminal (a CNY merchant of the seed) behind the scanner.
    const demo::DemoMerchant& m = demo_.merchants[0];
    terminal_ = std::make_unique<acquirer::PosTerminal>(
        acquirer::TerminalConfig{m.terminal_id, m.merchant_id, m.name + " " + m.city, m.mcc,
                                 (*CountryByAlpha2(m.country))->numeric, m.acquirer_id},
        rail_->acquirer_link(), SystemClock::Instance());
  }

  void TearDown() override {
    terminal_.reset();
    se_.reset();
    rail_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The wallet shows a code: biometric check, then the kernel against the secure element.
  Result<std::string> ShowCode(const Clock& clock = SystemClock::Instance()) {
    se_->BiometricVerified();
    return acquirer::MakeConsumerPresentedCode(
        [this](ByteView capdu) -> Result<Bytes> { return se_->Transmit(capdu); }, clock);
  }

  // The merchant scans `text` for `minor` CNY fen and sends the purchase; the scanner's refusal
  // is returned as an error, and nothing is sent then.
  Result<acquirer::PurchaseResult> Scan(std::string_view text, std::int64_t minor = kNoodles) {
    TS_ASSIGN_OR_RETURN(const acquirer::Purchase purchase,
                        acquirer::ConsumerPresentedPurchase(
                            text, Amount(minor, Cny()), SystemClock::Instance().NowUnixMillis()));
    std::promise<acquirer::PurchaseResult> done;
    terminal_->Purchase(purchase,
                        [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

  std::int64_t Available() { return *rail_->issuers().AvailableMinor(bank_->institution_id, pan_); }

  // A token decline: 14 from the switch's TSP step, the token in DE2, no ARPC, no hold.
  void ExpectTokenDecline(const acquirer::PurchaseResult& r, std::int64_t available_before) {
    ASSERT_TRUE(r.response.ok()) << r.response.status().ToString();
    EXPECT_EQ(r.response_code(), "14");
    EXPECT_EQ(r.response->Get(44), std::optional<std::string_view>("token not resolved"));
    EXPECT_EQ(r.response->Get(2), std::optional<std::string_view>(token_.token_number));
    EXPECT_FALSE(r.response->Has(55));
    EXPECT_EQ(Available(), available_before);
  }

  std::filesystem::path dir_;
  demo::DemoNetwork demo_;
  std::unique_ptr<PaymentRail> rail_;
  const demo::DemoBank* bank_ = nullptr;
  std::string pan_;
  std::unique_ptr<device::SecureElement> se_;
  tsp::TokenRecord token_;
  std::unique_ptr<acquirer::PosTerminal> terminal_;
};

TEST_F(ConsumerPresentedRailTest, ShowToPayIsApprovedOnTheFundingCardOnce) {
  const std::int64_t before = Available();
  CPM_ASSERT_OK_AND_ASSIGN(const std::string code, ShowCode());
  EXPECT_EQ(code.substr(0, 7), "hQVDUFY");
  EXPECT_EQ(code.find(pan_), std::string::npos);

  CPM_ASSERT_OK_AND_ASSIGN(const acquirer::PurchaseResult r, Scan(code));
  ASSERT_TRUE(r.response.ok()) << r.response.status().ToString();
  ASSERT_EQ(r.response_code(), "00") << r.response->Get(44).value_or("");
  // The issuer authorised DE4 (the code said 9F02 = 0): the hold is on the real card; the
  // merchant only ever sees the token, with the TSP's ARPC in DE55.
  EXPECT_EQ(Available(), before - kNoodles);
  EXPECT_EQ(r.response->Get(2), std::optional<std::string_view>(token_.token_number));
  EXPECT_EQ(r.response->Get(4), std::optional<std::string_view>("000000002350"));
  ASSERT_TRUE(r.response->Has(55));
  CPM_ASSERT_OK_AND_ASSIGN(const emv::TlvTree tree, emv::DecodeTlv(AsBytes(*r.response->Get(55))));
  ASSERT_NE(tree.FindRoot(0x91), nullptr);
  EXPECT_TRUE(rail_->issuers().ledger().Audit().ok());

  // The same code again (shown twice, or photographed): its ATC is spent.
  CPM_ASSERT_OK_AND_ASSIGN(const acquirer::PurchaseResult again, Scan(code));
  ExpectTokenDecline(again, before - kNoodles);

  // The wallet's next code pays again, for another amount.
  CPM_ASSERT_OK_AND_ASSIGN(const std::string next, ShowCode());
  CPM_ASSERT_OK_AND_ASSIGN(const acquirer::PurchaseResult second, Scan(next, 8'00));
  EXPECT_EQ(second.response_code(), "00");
  EXPECT_EQ(Available(), before - kNoodles - 8'00);
}

TEST_F(ConsumerPresentedRailTest, StaleTamperedAndSuspendedCodesAreRefused) {
  const std::int64_t before = Available();
  const std::uint64_t requests = rail_->network().stats().requests;

  // A code made 61 s ago: the scanner refuses it and sends nothing.
  ManualClock past(SystemClock::Instance().NowUnixMillis() - 61'000);
  CPM_ASSERT_OK_AND_ASSIGN(const std::string stale, ShowCode(past));
  const Result<acquirer::PurchaseResult> refused = Scan(stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition) << refused.status().ToString();
  EXPECT_EQ(rail_->network().stats().requests, requests);

  // A tampered cryptogram (one bit of 9F26 in template 63): well formed for the scanner, declined
  // by the TSP, and its ATC is not spent.
  CPM_ASSERT_OK_AND_ASSIGN(const std::string genuine, ShowCode());
  qr::CpmDecoded decoded = qr::DecodeCpm(genuine);
  ASSERT_TRUE(decoded.valid());
  bool flipped = false;
  for (qr::CpmObject& app : decoded.objects) {
    if (app.tag != 0x61) continue;
    for (qr::CpmObject& t : app.children) {
      if (t.tag != 0x63) continue;
      for (qr::CpmObject& o : t.children) {
        if (o.tag == 0x9F26) {
          o.value[0] ^= 0x01;
          flipped = true;
        }
      }
    }
  }
  ASSERT_TRUE(flipped);
  CPM_ASSERT_OK_AND_ASSIGN(const std::string tampered, qr::EncodeCpm(decoded.objects));
  CPM_ASSERT_OK_AND_ASSIGN(const acquirer::PurchaseResult tampered_result, Scan(tampered));
  ExpectTokenDecline(tampered_result, before);

  // The issuer suspends the token: a fresh code is declined; resumed, the same code pays.
  ASSERT_TRUE(rail_->tsp()
                  .service()
                  .IssuerChange(token_.token_id, tsp::LifecycleAction::kSuspend,
                                bank_->institution_id, "lost phone")
                  .ok());
  CPM_ASSERT_OK_AND_ASSIGN(const std::string suspended, ShowCode());
  CPM_ASSERT_OK_AND_ASSIGN(const acquirer::PurchaseResult suspended_result, Scan(suspended));
  ExpectTokenDecline(suspended_result, before);
  ASSERT_TRUE(rail_->tsp()
                  .service()
                  .IssuerChange(token_.token_id, tsp::LifecycleAction::kResume,
                                bank_->institution_id, "found")
                  .ok());
  CPM_ASSERT_OK_AND_ASSIGN(const acquirer::PurchaseResult resumed, Scan(suspended));
  EXPECT_EQ(resumed.response_code(), "00");
  EXPECT_EQ(Available(), before - kNoodles);
}

}  // namespace
}  // namespace tapstack::server
