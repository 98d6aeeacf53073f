// Provisioning through TspService with a fake issuer: every ID&V decision, the OTP paths, the
// lock-out, another device, and no PAN or CVV2 in any file of the data directory.
#include "tsp/provisioning.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "crypto/device_key_wrap.h"
#include "device/token_credentials.h"
#include "provisioning_test_support.h"

namespace tapstack::tsp {
namespace {

using testing::MakeDevice;
using testing::TestDevice;

class ProvisioningTest : public testing::TspServiceTest {
 protected:
  ProvisionOutcome Provision(ProvisionRequest r) {
    auto out = service_->Provision(std::move(r));
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? std::move(*out) : ProvisionOutcome{};
  }
  std::string WrongOtp() {
    std::string w = LatestOtp();
    w[5] = w[5] == '9' ? '0' : static_cast<char>(w[5] + 1);
    return w;
  }
  TestDevice phone_ = MakeDevice("phone-1");
};

TEST_F(ProvisioningTest, GreenActivatesAndReturnsCredentialsForTheDevice) {
  issuer_.set_decision("G");
  const ProvisionOutcome out = Provision(Request(phone_));
  EXPECT_EQ(out.decision, ProvisionDecision::kApproved);
  EXPECT_EQ(out.response_code, "85");
  ASSERT_TRUE(out.token.has_value());
  EXPECT_EQ(out.token->state, TokenState::kActive);
  EXPECT_EQ(out.token->masked_pan, "411111******1111");
  auto plain = crypto::UnwrapOnDevice(phone_.key, phone_.id, out.token->token_id, out.credentials);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto c = device::DecodeTokenCredentials(plain->reveal());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->token_number, out.token->token_number);
  auto feed = service_->Notifications(testing::kWalletTrid, 0, 100);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), 1u);
  EXPECT_EQ((*feed)[0].event, "activate");
}

TEST_F(ProvisioningTest, RedAndUnavailableStoreNothing) {
  struct Case {
    std::string pan, cvv2, expiry, code, reason;
  };
  issuer_.AddCard(testing::kTestPanVisa2, {.block_code = "43"});
  const Case cases[] = {
      {"5105105105105100", "123", "2812", "14", "card_unknown"},
      {std::string(testing::kTestPanVisa), "123", "2901", "54", "card_expired"},
      {std::string(testing::kTestPanVisa), "321", "2812", "N7", "cvv2_mismatch"},
      {std::string(testing::kTestPanVisa2), "123", "2812", "43", "card_blocked"},
  };
  for (const Case& c : cases) {
    ProvisionRequest r = Request(phone_, c.pan);
    r.cvv2 = c.cvv2;
    r.pan_expiry = c.expiry;
    const ProvisionOutcome out = Provision(std::move(r));
    EXPECT_EQ(out.decision, ProvisionDecision::kDeclined) << c.code;
    EXPECT_EQ(out.response_code, c.code);
    EXPECT_EQ(out.decline_reason, c.reason);
    EXPECT_FALSE(out.token.has_value());
  }
  issuer_.set_down(true);
  const ProvisionOutcome down = Provision(Request(phone_));
  EXPECT_EQ(down.decision, ProvisionDecision::kDeclined);
  EXPECT_EQ(down.response_code, "91");
  EXPECT_EQ(down.decline_reason, "issuer_unavailable");
  EXPECT_EQ(CountTokens(), 0);
  EXPECT_TRUE(service_->SmsOutbox(testing::kPhone, 0)->empty());
}

TEST_F(ProvisioningTest, YellowSendsOtpAndRightCodeActivates) {
  const ProvisionOutcome out = Provision(Request(phone_, testing::kTestPanVisa, KeyStorage::kHce));
  EXPECT_EQ(out.decision, ProvisionDecision::kStepUp);
  ASSERT_TRUE(out.token.has_value());
  EXPECT_EQ(out.token->state, TokenState::kInactive);
  ASSERT_TRUE(out.otp.has_value());
  EXPECT_EQ(out.otp->masked_phone, "+86*******8000");
  EXPECT_EQ(out.otp->attempts_left, kOtpAttemptsMax);
  EXPECT_TRUE(out.credentials.empty());
  const std::string otp = LatestOtp();
  ASSERT_EQ(otp.size(), 6u);

  // Another requestor cannot even see the token.
  EXPECT_EQ(service_->VerifyOtp(testing::kOtherWalletTrid, out.token->token_id, otp)
                .status()
                .code(),
            ErrorCode::kNotFound);
  auto v = service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, otp);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->outcome, OtpOutcome::kVerified);
  ASSERT_TRUE(v->approved.token.has_value());
  EXPECT_EQ(v->approved.token->state, TokenState::kActive);
  auto plain = crypto::UnwrapOnDevice(phone_.key, phone_.id, out.token->token_id,
                                      v->approved.credentials);
  ASSERT_TRUE(plain.ok());
  auto c = device::DecodeTokenCredentials(plain->reveal());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->mode, device::KeyMode::kLimitedUse);
}

TEST_F(ProvisioningTest, SameRequestAgainGivesSameTokenAndFreshOtp) {
  const ProvisionOutcome first = Provision(Request(phone_));
  const std::string otp1 = LatestOtp();
  const ProvisionOutcome second = Provision(Request(phone_));
  ASSERT_TRUE(first.token && second.token);
  EXPECT_EQ(first.token->token_id, second.token->token_id);
  EXPECT_EQ(service_->SmsOutbox(testing::kPhone, 0)->size(), 2u);
  EXPECT_EQ(CountTokens(), 1);
  const std::string otp2 = LatestOtp();
  auto v = service_->VerifyOtp(testing::kWalletTrid, first.token->token_id, otp2);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->outcome, OtpOutcome::kVerified);
  (void)otp1;
}

TEST_F(ProvisioningTest, WrongAndExpiredCodes) {
  const ProvisionOutcome out = Provision(Request(phone_));
  ASSERT_TRUE(out.token);
  auto wrong = service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, WrongOtp());
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->outcome, OtpOutcome::kMismatch);
  EXPECT_EQ(wrong->attempts_left, kOtpAttemptsMax - 1);
  clock_.AdvanceMillis(kOtpValiditySeconds * 1000 + 1);
  auto expired = service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, LatestOtp());
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->outcome, OtpOutcome::kExpired);
  EXPECT_EQ(service_->GetToken(testing::kWalletTrid, out.token->token_id)->record.state,
            TokenState::kInactive);
}

TEST_F(ProvisioningTest, FifthWrongCodeDeletesTokenAndLocksOutTheCard) {
  const ProvisionOutcome out = Provision(Request(phone_));
  ASSERT_TRUE(out.token);
  const std::string wrong = WrongOtp();
  for (int i = 1; i < kOtpAttemptsMax; ++i) {
    EXPECT_EQ(service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, wrong)->outcome,
              OtpOutcome::kMismatch);
  }
  auto locked = service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, wrong);
  ASSERT_TRUE(locked.ok());
  EXPECT_EQ(locked->outcome, OtpOutcome::kLocked);
  EXPECT_EQ(service_->GetToken(testing::kWalletTrid, out.token->token_id)->record.state,
            TokenState::kDeleted);

  const std::size_t asked = issuer_.requests().size();
  const ProvisionOutcome again = Provision(Request(phone_));
  EXPECT_EQ(again.decision, ProvisionDecision::kDeclined);
  EXPECT_EQ(again.decline_reason, "locked_out");
  EXPECT_EQ(issuer_.requests().size(), asked);  // the issuer is not even asked
  // Another card is not locked out; this one is again after kOtpLockoutSeconds.
  EXPECT_EQ(Provision(Request(phone_, testing::kTestPanMastercard)).decision,
            ProvisionDecision::kStepUp);
  clock_.AdvanceMillis(kOtpLockoutSeconds * 1000 + 1);
  EXPECT_EQ(Provision(Request(phone_)).decision, ProvisionDecision::kStepUp);
}

TEST_F(ProvisioningTest, AnotherDeviceNeedsAnActiveSourceOfTheSameRequestor) {
  issuer_.set_decision("G");
  const ProvisionOutcome phone = Provision(Request(phone_));
  ASSERT_TRUE(phone.token);
  const TestDevice watch = MakeDevice("watch-1");
  const std::size_t asked = issuer_.requests().size();
  EXPECT_EQ(service_
                ->ProvisionToAnotherDevice(testing::kOtherWalletTrid, phone.token->token_id,
                                           watch.id, watch.public_key, KeyStorage::kSe)
                .status()
                .code(),
            ErrorCode::kNotFound);
  auto second = service_->ProvisionToAnotherDevice(testing::kWalletTrid, phone.token->token_id,
                                                   watch.id, watch.public_key, KeyStorage::kSe);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(issuer_.requests().size(), asked);  // no new ID&V
  ASSERT_TRUE(second->token);
  EXPECT_NE(second->token->token_id, phone.token->token_id);
  EXPECT_EQ(second->token->par, phone.token->par);
  EXPECT_EQ(second->token->device_id, "watch-1");
  EXPECT_EQ(second->token->state, TokenState::kActive);
  EXPECT_TRUE(crypto::UnwrapOnDevice(watch.key, watch.id, second->token->token_id,
                                     second->credentials)
                  .ok());
  EXPECT_FALSE(crypto::UnwrapOnDevice(phone_.key, phone_.id, second->token->token_id,
                                      second->credentials)
                   .ok());
  ASSERT_TRUE(service_->Suspend(testing::kWalletTrid, phone.token->token_id, "lost").ok());
  const TestDevice tablet = MakeDevice("tablet-1");
  EXPECT_EQ(service_
                ->ProvisionToAnotherDevice(testing::kWalletTrid, phone.token->token_id,
                                           tablet.id, tablet.public_key, KeyStorage::kSe)
                .status()
                .code(),
            ErrorCode::kFailedPrecondition);
}

TEST_F(ProvisioningTest, BadFieldsAreNamedAndStoreNothing) {
  ProvisionRequest r = Request(phone_);
  r.pan = "4111111111111112";  // Luhn failure
  auto bad = service_->Provision(r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("pan:", 0), 0u);
  EXPECT_EQ(bad.status().message().find("4111111111111112"), std::string::npos);
  r = Request(phone_);
  r.phone = "13800138000";
  EXPECT_EQ(service_->Provision(r).status().message().rfind("phone:", 0), 0u);
  r = Request(phone_);
  r.device_public_key.resize(64);
  EXPECT_EQ(service_->Provision(r).status().message().rfind("device_public_key:", 0), 0u);
  EXPECT_TRUE(issuer_.requests().empty());
  EXPECT_EQ(CountTokens(), 0);
}

TEST_F(ProvisioningTest, ProvisionAndVerifyOtpCommitOnceEach) {
  ASSERT_TRUE(Provision(Request(phone_, testing::kTestPanMastercard)).token);  // reserves STANs
  const std::int64_t before = store_->stats().transactions_committed;
  const ProvisionOutcome out = Provision(Request(phone_));
  ASSERT_TRUE(out.token);
  // The token with its audit entry, the key binding, the challenge and the outbox SMS.
  EXPECT_EQ(store_->stats().transactions_committed - before, 1);
  const std::size_t feed_before = service_->Notifications(testing::kWalletTrid, 0, 100)->size();
  auto v = service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, LatestOtp());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->outcome, OtpOutcome::kVerified);
  // The verification, the activation with its audit entry and its feed row.
  EXPECT_EQ(store_->stats().transactions_committed - before, 2);
  auto feed = service_->Notifications(testing::kWalletTrid, 0, 100);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), feed_before + 1);
  EXPECT_EQ(feed->back().event, "activate");
  EXPECT_EQ(feed->back().token_id, out.token->token_id);
}

TEST_F(ProvisioningTest, VerifyOtpFailingAfterTheCodeMatchedLeavesNoPartialState) {
  const ProvisionOutcome out = Provision(Request(phone_, testing::kTestPanVisa, KeyStorage::kHce));
  ASSERT_TRUE(out.token);
  const std::string otp = LatestOtp();
  // No ATCs left: the credentials (the last step) fail after the code matched and the token was
  // activated inside the transaction.
  ASSERT_TRUE(store_
                  ->Execute("UPDATE tsp_token_keys SET next_atc = ? WHERE token_id = ?",
                            {std::int64_t{kAtcMax}, out.token->token_id})
                  .ok());
  const std::size_t feed_before = service_->Notifications(testing::kWalletTrid, 0, 100)->size();
  auto failed = service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, otp);
  EXPECT_EQ(failed.status().code(), ErrorCode::kFailedPrecondition) << failed.status().ToString();
  EXPECT_EQ(service_->GetToken(testing::kWalletTrid, out.token->token_id)->record.state,
            TokenState::kInactive);
  auto state = store_->QueryRow("SELECT state FROM tsp_otp_challenges WHERE token_id = ?",
                                {out.token->token_id});
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state->GetText(0), "pending");
  EXPECT_EQ(service_->Notifications(testing::kWalletTrid, 0, 100)->size(), feed_before);
  // Once the cause is gone the same code still works.
  ASSERT_TRUE(store_
                  ->Execute("UPDATE tsp_token_keys SET next_atc = 1 WHERE token_id = ?",
                            {out.token->token_id})
                  .ok());
  auto v = service_->VerifyOtp(testing::kWalletTrid, out.token->token_id, otp);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->outcome, OtpOutcome::kVerified);
}

TEST_F(ProvisioningTest, ConcurrentCardsAllBindAndShareCommits) {
  constexpr int kThreads = 4;
  constexpr int kCardsPerThread = 6;
  constexpr int kCards = kThreads * kCardsPerThread;
  std::vector<TestDevice> devices;
  for (int i = 0; i < kCards; ++i) devices.push_back(MakeDevice("device-" + std::to_string(i)));
  ASSERT_TRUE(Provision(Request(phone_, testing::kTestPanMastercard)).token);  // reserves STANs
  const std::int64_t before = store_->stats().transactions_committed;
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCardsPerThread; ++c) {
        const int i = t * kCardsPerThread + c;
        ProvisionRequest r = Request(devices[static_cast<std::size_t>(i)]);
        r.phone = "+861390000" + std::to_string(1000 + i);  // one phone per card
        const std::string phone = r.phone;
        auto out = service_->Provision(std::move(r));
        if (!out.ok() || !out->token) continue;
        auto sms = service_->SmsOutbox(phone, 0);
        if (!sms.ok() || sms->size() != 1) continue;
        const std::string& text = sms->back().text;
        std::string code;
        for (std::size_t k = 0; k + 6 <= text.size() && code.empty(); ++k) {
          if (IsAllDigits(text.substr(k, 6))) code = text.substr(k, 6);
        }
        auto v = service_->VerifyOtp(testing::kWalletTrid, out->token->token_id, code);
        if (v.ok() && v->outcome == OtpOutcome::kVerified && v->approved.token &&
            v->approved.token->state == TokenState::kActive) {
          verified.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(verified.load(), kCards);
  auto active = store_->QueryRow("SELECT count(*) AS n FROM tsp_tokens WHERE state = 'active'");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(*active->GetInt64(0), kCards);
  EXPECT_EQ(service_->Notifications(testing::kWalletTrid, 0, 100)->size(),
            static_cast<std::size_t>(kCards));
  // At most one commit per call; fewer when calls overlapped (not guaranteed on a busy machine).
  EXPECT_LE(store_->stats().transactions_committed - before, 2 * kCards);
}

// Every file under `dir`, as bytes.
std::string AllBytes(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

TEST_F(ProvisioningTest, NoPanOrCvv2InAnyFileOfTheDataDir) {
  issuer_.set_decision("G");
  ASSERT_EQ(Provision(Request(phone_)).decision, ProvisionDecision::kApproved);
  issuer_.set_decision("Y");
  ASSERT_EQ(Provision(Request(phone_, testing::kTestPanMastercard)).decision,
            ProvisionDecision::kStepUp);
  service_.reset();
  store_.reset();
  atc_store_.reset();
  const std::string bytes = AllBytes(dir_->path());
  ASSERT_GT(bytes.size(), 10'000u);  // the databases are there
  EXPECT_NE(bytes.find("411111"), std::string::npos);  // masked PANs are (first six)
  EXPECT_EQ(bytes.find(testing::kTestPanVisa), std::string::npos);
  EXPECT_EQ(bytes.find(testing::kTestPanMastercard), std::string::npos);
  EXPECT_EQ(bytes.find("C2003123"), std::string::npos);  // DE48 CVV2 sub-element
  EXPECT_EQ(bytes.find("\"cvv2\":\"123\""), std::string::npos);
  EXPECT_EQ(bytes.find("cvv2"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::tsp
