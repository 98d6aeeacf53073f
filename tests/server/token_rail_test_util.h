// A card network with a phone holding a payment token, for the end-to-end token tests
// (token_payment_test.cc, transit_top_up_test.cc): the demo issuer host (22 banks, their cards),
// the switch from OpenDemoSwitch with the seed's token BIN range and the demo TSP, and a phone's
// secure element with demo card 0 of bank 0 provisioned through the TSP (ID&V step-up over ISO
// 8583, the OTP read from the SMS outbox, credentials wrapped for that phone). One process,
// in-memory links (the same ISO 8583 bytes as TCP).
//
// The rail is assembled here as PaymentRail does, because the issuer links are wrapped to see what
// the issuer receives. Derived fixtures call TokenRailTest::SetUp() first (and return when it
// failed), add their acquirer side, and reset it before TokenRailTest::TearDown().
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "link/in_memory_link.h"
#include "server/demo_tsp.h"
#include "server/demo_wiring.h"
#include "server/payment_rail.h"
#include "store/sqlite_store.h"

namespace tapstack::server::testing {

inline constexpr int kCardsPerBank = 4;
inline constexpr std::string_view kWalletTrid = "40010000001";  // the seed's token requestor
inline constexpr std::string_view kDeviceId = "phone-1";
inline constexpr std::string_view kPhone = "+8613800138000";

#define RAIL_ASSERT_OK(expr)                                   \
  do {                                                         \
    const ::tapstack::Status rail_status_ = (expr);            \
    ASSERT_TRUE(rail_status_.ok()) << rail_status_.ToString(); \
  } while (false)
#define RAIL_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  RAIL_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(rail_result_, __LINE__), lhs, expr)
#define RAIL_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();     \
  lhs = std::move(tmp).value()

// The issuer side of the switch's link: records what the issuer receives, then delivers it.
class RecordingLink final : public link::RequestSender {
 public:
  explicit RecordingLink(link::MessageHandler& issuer) : link_(issuer) {}
  void Send(iso8583::Message request, link::ResponseCallback done) override {
    {
      std::lock_guard lock(mu_);
      seen_.push_back(request);
    }
    link_.Send(std::move(request), std::move(done));
  }
  bool ready() const override { return link_.ready(); }
  // What the issuer received with MTI `mti` (all when empty).
  std::vector<iso8583::Message> seen(std::string_view mti = "") const {
    std::lock_guard lock(mu_);
    std::vector<iso8583::Message> out;
    for (const iso8583::Message& m : seen_) {
      if (mti.empty() || m.mti() == mti) out.push_back(m);
    }
    return out;
  }
  void clear() {
    std::lock_guard lock(mu_);
    seen_.clear();
  }

 private:
  link::InMemoryLink link_;
  mutable std::mutex mu_;
  std::vector<iso8583::Message> seen_;
};

class TokenRailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-rail-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    RAIL_ASSERT_OK_AND_ASSIGN(demo_, demo::LoadDemoNetwork(*demo::DefaultSeedPath()));
    bank_ = &demo_.banks[0];
    RAIL_ASSERT_OK_AND_ASSIGN(pan_, PaymentRail::CardNumber(demo_, 0, 0));

    // Issuer host with the demo cards, as the demo runs them.
    RAIL_ASSERT_OK_AND_ASSIGN(std::vector<issuer::IssuerBankConfig> banks, DemoIssuerBanks(demo_, {}));
    const std::vector<std::string> bank_ids = InstitutionIds(banks);
    issuer::IssuerOptions issuer_options;
    issuer_options.data_dir = dir_;
    RAIL_ASSERT_OK_AND_ASSIGN(issuers_, issuer::IssuerHost::Open(issuer_options, std::move(banks)));
    RAIL_ASSERT_OK(SeedDemoCards(*issuers_, demo_, bank_ids, kCardsPerBank));

    // The switch with the seed's token BIN range; the TSP, which asks issuers for ID&V through it.
    RAIL_ASSERT_OK_AND_ASSIGN(auto switch_store, store::OpenSqlite(dir_, "network"));
    RAIL_ASSERT_OK_AND_ASSIGN(auto journal_store, store::OpenSqlite(dir_, "network_journal"));
    RAIL_ASSERT_OK_AND_ASSIGN(switch_, OpenDemoSwitch(demo_, SystemClock::Instance(), std::move(switch_store),
                                                      std::move(journal_store), DemoTokenBinRanges(demo_)));
    for (const demo::DemoBank& b : demo_.banks) {
      auto recording = std::make_unique<RecordingLink>(*issuers_);
      RAIL_ASSERT_OK(AddDemoIssuer(*switch_, b, *recording));
      issuer_links_[b.institution_id] = std::move(recording);
    }
    RAIL_ASSERT_OK_AND_ASSIGN(tsp_, DemoTsp::Open(demo_, dir_, SystemClock::Instance(), *switch_));
    switch_->SetTokenService(&tsp_->token_service());

    // The phone's secure element, then the card bound to it: ID&V asks for a step-up, the code
    // comes by SMS, and the credentials are wrapped for this secure element alone.
    device::SecureElementOptions se_options;
    se_options.data_dir = dir_ / "device";
    se_options.device_id = std::string(kDeviceId);
    RAIL_ASSERT_OK_AND_ASSIGN(se_, device::SecureElement::Open(se_options));
    tsp::ProvisionRequest request;
    request.requestor_id = std::string(kWalletTrid);
    request.device_id = std::string(kDeviceId);
    request.device_public_key = se_->public_key();
    request.pan = pan_;
    request.pan_expiry = demo::kDemoCardExpiry;
    RAIL_ASSERT_OK_AND_ASSIGN(request.cvv2,
                              demo::DemoCardCvv2(bank_->institution_id, pan_, demo::kDemoCardExpiry));
    request.holder_name = "LI LEI";
    request.phone = std::string(kPhone);
    RAIL_ASSERT_OK_AND_ASSIGN(const tsp::ProvisionOutcome pending, tsp_->service().Provision(request));
    ASSERT_EQ(pending.decision, tsp::ProvisionDecision::kStepUp) << pending.decline_reason;
    RAIL_ASSERT_OK_AND_ASSIGN(const std::vector<tsp::SmsOutboxMessage> sms, tsp_->service().SmsOutbox(kPhone, 0));
    ASSERT_FALSE(sms.empty());
    const std::string code = tsp::OtpFromSmsText(sms.back().text);
    ASSERT_FALSE(code.empty()) << sms.back().text;
    RAIL_ASSERT_OK_AND_ASSIGN(const tsp::OtpVerification verified,
                              tsp_->service().VerifyOtp(kWalletTrid, pending.token->token_id, code));
    ASSERT_EQ(verified.outcome, tsp::OtpOutcome::kVerified);
    token_ = *verified.approved.token;
    ASSERT_EQ(token_.state, tsp::TokenState::kActive);
    RAIL_ASSERT_OK(se_->InstallToken(token_.token_id, verified.approved.credentials));
    // From here on the issuer links record payments only (the ID&V request went through them).
    ASSERT_EQ(IssuerSaw().size(), 1u);
    EXPECT_EQ(IssuerSaw()[0].Get(2), std::optional<std::string_view>(pan_));
    for (auto& [id, recording] : issuer_links_) recording->clear();
  }

  void TearDown() override {
    se_.reset();
    if (switch_) switch_->SetTokenService(nullptr);
    tsp_.reset();
    switch_.reset();
    issuer_links_.clear();
    issuers_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::int64_t Available() { return *issuers_->AvailableMinor(bank_->institution_id, pan_); }
  const RecordingLink& Issuer() { return *issuer_links_[bank_->institution_id]; }
  std::vector<iso8583::Message> IssuerSaw() { return issuer_links_[bank_->institution_id]->seen(); }

  std::filesystem::path dir_;
  demo::DemoNetwork demo_;
  const demo::DemoBank* bank_ = nullptr;
  std::string pan_;
  std::unique_ptr<issuer::IssuerHost> issuers_;
  std::unique_ptr<network::Switch> switch_;
  std::map<std::string, std::unique_ptr<RecordingLink>> issuer_links_;
  std::unique_ptr<DemoTsp> tsp_;
  tsp::TokenRecord token_;
  std::unique_ptr<device::SecureElement> se_;
};

}  // namespace tapstack::server::testing
