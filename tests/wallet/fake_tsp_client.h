// FakeTspClient: an in-memory TSP implementing the parts of the contract the wallet relies on:
// approve / step-up / decline by PAN, the OTP check (code "123456", 5 attempts, then locked and
// the pending token deleted), add-device from an active token, suspend / resume / delete with the
// contract's 409 for a state that forbids the change, transactions and the notification feed.
// Every call is counted; failures can be injected per token. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "wallet/tsp_client.h"

namespace tapstack::wallet::testing {

inline constexpr const char* kFakeOtp = "123456";
inline constexpr int kFakeOtpAttempts = 5;

class FakeTspClient final : public TspClient {
 public:
  // Behaviour per PAN (default: approve).
  void StepUp(const std::string& pan) {
    std::lock_guard l(mu_);
    step_up_.insert(pan);
  }
  void Decline(const std::string& pan, const std::string& reason) {
    std::lock_guard l(mu_);
    declines_[pan] = reason;
  }
  // State changes of `token_id` fail with kUnavailable until cleared.
  void FailStateChanges(const std::string& token_id, bool fail) {
    std::lock_guard l(mu_);
    if (fail)
      failing_.insert(token_id);
    else
      failing_.erase(token_id);
  }
  // The issuer suspends a token: state change plus a notification.
  void IssuerSuspend(const std::string& token_id) {
    std::lock_guard l(mu_);
    Token& t = tokens_.at(token_id);
    Notify(t, "suspend", "suspended", "issuer");
  }
  void AddTransaction(const std::string& token_id, TokenTransaction tx) {
    std::lock_guard l(mu_);
    transactions_[token_id].insert(transactions_[token_id].begin(), std::move(tx));
  }

  int provision_calls() {
    std::lock_guard l(mu_);
    return provision_calls_;
  }
  int otp_calls() {
    std::lock_guard l(mu_);
    return otp_calls_;
  }
  int add_device_calls() {
    std::lock_guard l(mu_);
    return add_device_calls_;
  }
  // "suspend:tok-1", "resume:tok-1", "delete:tok-1" in call order.
  std::vector<std::string> state_calls() {
    std::lock_guard l(mu_);
    return state_calls_;
  }
  std::string state(const std::string& token_id) {
    std::lock_guard l(mu_);
    return tokens_.at(token_id).token.state;
  }
  // Every PAN and CVV2 the fake was sent (tests check the wallet passed them on).
  std::vector<std::string> seen_pans() {
    std::lock_guard l(mu_);
    return seen_pans_;
  }
  std::string last_phone() {
    std::lock_guard l(mu_);
    return last_phone_;
  }

  Result<ProvisioningResult> Provision(const ProvisioningRequest& r) override {
    std::lock_guard l(mu_);
    ++provision_calls_;
    const std::string pan(r.pan.reveal());
    seen_pans_.push_back(pan);
    last_phone_ = r.phone;
    ProvisioningResult out;
    out.response_code = "00";
    if (auto d = declines_.find(pan); d != declines_.end()) {
      out.decision = ProvisioningDecision::kDeclined;
      out.decline_reason = d->second;
      out.response_code = "05";
      return out;
    }
    if (step_up_.count(pan) != 0) {
      // The same request while pending answers the same token with a fresh OTP.
      for (auto& [id, t] : tokens_) {
        if (t.pan == pan && t.token.device_id == r.device_id && t.token.state == "inactive") {
          t.attempts_left = kFakeOtpAttempts;
          out.decision = ProvisioningDecision::kStepUp;
          out.response_code = "85";
          out.token = t.token;
          out.otp = OtpChallenge{"+86*******8000", 1'800'000'000'000, t.attempts_left};
          return out;
        }
      }
      Token& t = NewToken(pan, r.device_id, r.storage, "inactive");
      out.decision = ProvisioningDecision::kStepUp;
      out.response_code = "85";
      out.token = t.token;
      out.otp = OtpChallenge{"+86*******8000", 1'800'000'000'000, kFakeOtpAttempts};
      return out;
    }
    Token& t = NewToken(pan, r.device_id, r.storage, "active");
    out.decision = ProvisioningDecision::kApproved;
    out.token = t.token;
    out.credentials = "C0FFEE" + t.token.token_id.substr(4);
    return out;
  }

  Result<OtpResult> VerifyOtp(const std::string& token_id, const std::string& otp) override {
    std::lock_guard l(mu_);
    ++otp_calls_;
    auto it = tokens_.find(token_id);
    if (it == tokens_.end() || it->second.token.state != "inactive") {
      return NotFound("tsp answered 404 not_found");
    }
    Token& t = it->second;
    OtpResult out;
    if (otp == kFakeOtp) {
      Notify(t, "activate", "active", "tsp");
      out.outcome = OtpOutcome::kApproved;
      out.token = t.token;
      out.credentials = "C0FFEE" + token_id.substr(4);
      return out;
    }
    if (--t.attempts_left == 0) {
      Notify(t, "delete", "deleted", "tsp");
      out.outcome = OtpOutcome::kLocked;
      return out;
    }
    out.outcome = OtpOutcome::kMismatch;
    out.attempts_left = t.attempts_left;
    return out;
  }

  Result<ProvisioningResult> AddDevice(const std::string& token_id,
                                       const AddDeviceRequest& r) override {
    std::lock_guard l(mu_);
    ++add_device_calls_;
    auto it = tokens_.find(token_id);
    if (it == tokens_.end()) return NotFound("tsp answered 404 not_found");
    if (it->second.token.state != "active") return FailedPrecondition("tsp answered 409");
    std::string pan = it->second.pan;
    Token& t = NewToken(pan, r.device_id, r.storage, "active");
    ProvisioningResult out;
    out.decision = ProvisioningDecision::kApproved;
    out.response_code = "00";
    out.token = t.token;
    out.credentials = "C0FFEE" + t.token.token_id.substr(4);
    return out;
  }

  Result<TspToken> Suspend(const std::string& id, const std::string&) override {
    return Change(id, "suspend", "active", "suspended");
  }
  Result<TspToken> Resume(const std::string& id, const std::string&) override {
    return Change(id, "resume", "suspended", "active");
  }
  Result<TspToken> Delete(const std::string& id, const std::string&) override {
    return Change(id, "delete", "", "deleted");
  }
  Result<std::string> ReplenishKeys(const std::string& id, int count) override {
    std::lock_guard l(mu_);
    auto it = tokens_.find(id);
    if (it == tokens_.end()) return NotFound("tsp answered 404 not_found");
    if (it->second.token.storage != "hce") return FailedPrecondition("tsp answered 409");
    return "BA7C" + std::to_string(count) + it->second.token.token_id.substr(4);
  }
  Result<TspToken> GetToken(const std::string& id) override {
    std::lock_guard l(mu_);
    auto it = tokens_.find(id);
    if (it == tokens_.end()) return NotFound("tsp answered 404 not_found");
    return it->second.token;
  }
  Result<std::vector<TokenTransaction>> ListTransactions(const std::string& id,
                                                         int limit) override {
    std::lock_guard l(mu_);
    std::vector<TokenTransaction> out = transactions_[id];
    if (out.size() > static_cast<std::size_t>(limit)) out.resize(static_cast<std::size_t>(limit));
    return out;
  }
  Result<std::vector<TokenNotification>> ListNotifications(std::int64_t after, int limit) override {
    std::lock_guard l(mu_);
    std::vector<TokenNotification> out;
    for (const TokenNotification& n : notifications_) {
      if (n.seq > after && static_cast<int>(out.size()) < limit) out.push_back(n);
    }
    return out;
  }

 private:
  struct Token {
    TspToken token;
    std::string pan;
    int attempts_left = kFakeOtpAttempts;
  };

  Token& NewToken(const std::string& pan, const std::string& device, const std::string& storage,
                  const std::string& state) {
    std::string id = "tok-" + std::to_string(++next_token_);
    Token t;
    t.pan = pan;
    t.token = TspToken{.token_id = id,
                       .token_last4 = std::to_string(1000 + next_token_),
                       .token_expiry = "3012",
                       .masked_pan = pan.substr(0, 6) + "******" + pan.substr(pan.size() - 4),
                       .par = "PAR" + pan.substr(0, 6),
                       .state = state,
                       .device_id = device,
                       .requestor_id = "40010000001",
                       .storage = storage};
    return tokens_[id] = t;
  }

  void Notify(Token& t, const std::string& event, const std::string& to,
              const std::string& initiator) {
    notifications_.push_back({.seq = static_cast<std::int64_t>(notifications_.size()) + 1,
                              .token_id = t.token.token_id,
                              .device_id = t.token.device_id,
                              .event = event,
                              .from = t.token.state,
                              .to = to,
                              .initiator = initiator,
                              .time_unix_ms = 0});
    t.token.state = to;
  }

  Result<TspToken> Change(const std::string& id, const std::string& action, const std::string& from,
                          const std::string& to) {
    std::lock_guard l(mu_);
    state_calls_.push_back(action + ":" + id);
    if (failing_.count(id) != 0) return Unavailable("tsp: connection refused (outcome unknown)");
    auto it = tokens_.find(id);
    if (it == tokens_.end()) return NotFound("tsp answered 404 not_found");
    Token& t = it->second;
    if (t.token.state == "deleted" || (!from.empty() && t.token.state != from)) {
      return FailedPrecondition("tsp answered 409 failed_precondition");
    }
    Notify(t, action, to, "wallet");
    return t.token;
  }

  std::mutex mu_;
  std::set<std::string> step_up_;
  std::map<std::string, std::string> declines_;
  std::set<std::string> failing_;
  std::map<std::string, Token> tokens_;
  std::map<std::string, std::vector<TokenTransaction>> transactions_;
  std::vector<TokenNotification> notifications_;
  std::vector<std::string> state_calls_;
  std::vector<std::string> seen_pans_;
  std::string last_phone_;
  int next_token_ = 0;
  int provision_calls_ = 0;
  int otp_calls_ = 0;
  int add_device_calls_ = 0;
};

}  // namespace tapstack::wallet::testing
