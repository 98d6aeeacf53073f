// PosTerminal: a merchant's terminal at the acquirer. It builds ISO 8583 authorisation (0100) and
// financial (0200) requests with its own STAN and RRN, sends them over its link, and when the
// outcome is unknown (timeout, lost link) sends a reversal (0400, repeated as 0401) until it is
// acknowledged, so a hold never outlives a sale the customer did not complete.
// Keeps batch totals (approved count and amount per currency) for 0500 reconciliation.
// Thread-safety: Purchase may be called from many threads; callbacks run on the link's threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "core/amount.h"
#include "core/clock.h"
#include "core/status.h"
#include "link/message_handler.h"

namespace tapstack::acquirer {

struct TerminalConfig {
  std::string terminal_id;   // DE41, 8 characters
  std::string merchant_id;   // DE42, 15 characters
  std::string name_location; // DE43, up to 40 characters
  std::string mcc;           // DE18
  std::uint16_t country_numeric = 156;  // DE19
  std::string acquirer_id;   // DE32
  int reversal_attempts_max = 5;
};

enum class EntryMode { kContactless, kCardNotPresent, kManual };

struct Purchase {
  std::string pan;           // or a payment token
  std::string expiry;        // YYMM (DE14), optional
  Amount amount{Cny()};
  EntryMode entry = EntryMode::kCardNotPresent;
  bool single_message = false;   // 0200 instead of 0100
  std::string icc_data;      // DE55 bytes for contactless, optional
  std::string token_data;    // DE48, optional
};

struct PurchaseResult {
  // The response when one arrived; kUnavailable when the outcome was unknown (a reversal has
  // then been sent).
  Result<iso8583::Message> response{Unavailable("no response")};
  std::string stan;
  std::string rrn;
  bool approved() const { return response.ok() && response->Get(39) == std::string_view("00"); }
  std::string response_code() const {
    return response.ok() ? std::string(response->Get(39).value_or("")) : std::string();
  }
};

struct BatchTotals {
  std::int64_t approved = 0;
  std::int64_t declined = 0;
  std::int64_t unknown = 0;
  std::map<std::string, std::int64_t> approved_minor;  // per ISO 4217 alpha
};

class PosTerminal {
 public:
  PosTerminal(TerminalConfig config, link::RequestSender& link, const Clock& clock);

  void Purchase(const acquirer::Purchase& purchase, std::function<void(PurchaseResult)> done);

  // Builds the request Purchase() would send (for tests and tools).
  iso8583::Message BuildRequest(const acquirer::Purchase& purchase, const std::string& stan);

  BatchTotals totals() const;
  std::uint64_t reversals_sent() const { return reversals_sent_; }

 private:
  void SendReversal(iso8583::Message original, int attempt);
  std::string NextStan();

  TerminalConfig config_;
  link::RequestSender& link_;
  const Clock& clock_;
  std::atomic<std::uint32_t> stan_{0};
  mutable std::mutex mu_;
  BatchTotals totals_;
  std::atomic<std::uint64_t> reversals_sent_{0};
};

}  // namespace tapstack::acquirer
