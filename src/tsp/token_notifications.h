// TokenNotifications: the durable feed of token lifecycle events per token requestor (GET
// /v1/tsp/notifications): a TokenEventListener that appends each event to tsp_notifications with
// a sequence number, which the wallet reads with List(requestor, after, limit) and pages through
// by the last seq it saw (at-least-once delivery; the wallet de-duplicates by seq).
//
// TokenLifecycle calls the listener after the change committed, so the feed never shows a change
// that rolled back; a crash between that commit and this append loses the event (the audit log
// still has it). A failed append is logged (token id and error, nothing else) and swallowed:
// listeners must not throw, and the lifecycle change itself already happened.
//
// Thread-safety: none; OnTokenEvent runs on the caller's thread, which must be the one allowed to
// use `store` (TspService calls the lifecycle under its store mutex). `store` and `clock` are not
// owned and must outlive the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "tsp/token_events.h"

namespace tapstack::tsp {

inline constexpr std::size_t kNotificationsListMax = 100;

struct TokenNotification {
  std::int64_t seq = 0;
  std::string requestor_id;
  std::string token_id;
  std::string device_id;
  std::string event;      // "activate", "suspend", "resume", "delete", "update_pan"
  std::string from;       // token state names
  std::string to;
  std::string initiator;  // "issuer", "wallet", "tsp"
  std::int64_t time_unix_ms = 0;
};

class TokenNotifications final : public TokenEventListener {
 public:
  // Applies the TSP schema. `next` (may be null) also hears every event, after the append.
  // Errors: the store's.
  static Result<std::unique_ptr<TokenNotifications>> Open(store::Store& store,
                                                          TokenEventListener* next = nullptr);

  void OnTokenEvent(const TokenEvent& event) override;

  // Appends one event; inside a transaction the caller has open on the store, it commits with it
  // (provisioning records an activation in the activation's own transaction, and then calls
  // Forward after the commit). Errors: the store's.
  Status Append(const TokenEvent& event);
  // Passes an event recorded with Append to `next`, if any. Call after the commit.
  void Forward(const TokenEvent& event) {
    if (next_ != nullptr) next_->OnTokenEvent(event);
  }

  // The events of `requestor_id` with seq > `after`, oldest first, at most `limit`
  // (1..kNotificationsListMax). Errors: kInvalidArgument (limit); the store's.
  Result<std::vector<TokenNotification>> List(std::string_view requestor_id, std::int64_t after,
                                              std::size_t limit);

 private:
  TokenNotifications(store::Store& store, TokenEventListener* next)
      : store_(store), next_(next) {}

  store::Store& store_;
  TokenEventListener* next_;
};

}  // namespace tapstack::tsp
