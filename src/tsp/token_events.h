// Token lifecycle notifications: what the TSP tells the token requestor (wallet) after a change,
// like UnionPay International's TOKEN_STATE_UPDATE / TOKEN_INFO_UPDATE and MDES notifications
// (emv-and-tokenization.md §5). The wallet implements TokenEventListener later; tests use
// RecordingTokenEventListener.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tsp/token_state.h"

namespace tapstack::tsp {

struct TokenEvent {
  std::string token_id;
  std::string requestor_id;  // whom to notify
  std::string device_id;
  LifecycleAction action = LifecycleAction::kActivate;
  TokenState from = TokenState::kInactive;
  TokenState to = TokenState::kInactive;
  Initiator initiator;
  std::int64_t time_unix_ms = 0;
  std::int64_t audit_seq = 0;  // the audit entry that recorded the change
};

class TokenEventListener {
 public:
  virtual ~TokenEventListener() = default;
  // Called once per committed change, after the commit, on the caller's thread. Must not throw;
  // delivery to the wallet (queueing, retries) is the implementation's job.
  virtual void OnTokenEvent(const TokenEvent& event) = 0;
};

// Keeps every event, for tests. Thread-safe.
class RecordingTokenEventListener final : public TokenEventListener {
 public:
  void OnTokenEvent(const TokenEvent& event) override {
    std::lock_guard lock(mu_);
    events_.push_back(event);
  }
  std::vector<TokenEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<TokenEvent> events_;
};

}  // namespace tapstack::tsp
