// PosTerminal: a merchant's terminal at the acquirer. It builds ISO 8583 authorisation (0100) and
// financial (0200) requests with its own STAN and RRN, sends them over its link, and when the
// outcome is unknown (timeout, lost link) sends a reversal (0400, repeated as 0401) until it is
// acknowledged, so a hold never outlives a sale the customer did not complete.
//
// Dual-message authorisations are completed with Complete(): an 0220 financial advice naming the
// 0100 in DE90 with the final amount in DE4 (at most the authorised one), repeated as 0221 until
// acknowledged; the network then settles the captured amount. An approved 0100 that will not be
// completed (the goods cannot be delivered) is released with ReverseAuthorization(): an 0400.
//
// A credit to the card (a refund, a wallet's withdrawal to the card) is a Purchase with
// single_message and processing_code kProcessingRefund: an 0200 with DE3 "200000".
//
// It keeps batch totals per currency (network/reconciliation_totals.h for what counts as debits,
// credits and their reversals) and closes a currency's batch with CloseBatch(): an 0500 with those
// totals; the 0510 says whether the network's records agree (DE66 "1") and carries the network's
// totals.
// An in-balance answer resets the batch (what was sent is taken off; sales made meanwhile stay),
// and the batch's open authorisations can no longer be completed.
// Thread-safety: every call may be made from many threads; callbacks run on the link's threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/amount.h"
#include "core/clock.h"
#include "core/status.h"
#include "iso8583/processing_code.h"
#include "link/message_handler.h"
#include "network/reconciliation_totals.h"

namespace tapstack::acquirer {

struct TerminalConfig {
  std::string terminal_id;              // DE41, 8 characters
  std::string merchant_id;              // DE42, 15 characters
  std::string name_location;            // DE43, up to 40 characters
  std::string mcc;                      // DE18
  std::uint16_t country_numeric = 156;  // DE19
  std::string acquirer_id;              // DE32
  int reversal_attempts_max = 5;
  int completion_attempts_max = 5;      // 0220 then 0221 repeats; then left to the back office
  int reconciliation_attempts_max = 3;  // 0500 then 0501 repeats (same STAN: the network answers
                                        // a repeat with its stored 0510)
  std::size_t open_authorizations_max = 10'000;  // completable 0100 approvals kept; oldest dropped
  // Where the STAN counter (DE11) starts: the next STAN is stan_start + 1. A real terminal keeps
  // its counter across restarts so that (DE32, DE41, DE11, DE7) never repeats inside the network's
  // duplicate window; a terminal that cannot (a tool, a test) starts at a random point.
  std::uint32_t stan_start = 0;
};

// DE22 / DE25 per mode: kContactless "071" / "00"; kManual "011" / "00"; kCardNotPresent "812" /
// "59"; kInAppChip "092" / "59": an in-app payment whose EMV cryptogram (made by the phone's
// secure element for this order) is in DE55. PAN entry mode 09 is "PAN/token entry via electronic
// commerce containing a DSRP cryptogram in DE55" (Mastercard DE22 values, as Galileo's DE022
// table lists them); PIN digit 2: no PIN pad. The TSP takes 09 as the in-app channel, which
// requires DE48 DI (tsp/token_authorization.h). kConsumerQr "032" / "00": a consumer-presented QR
// code scanned at the merchant (EMVCo CPM, qr/cpm.h) with the phone's cryptogram in DE55; PAN
// entry mode 03 is "bar code" (ISO 8583:1987 DE22 position 1-2), which QR acquirers use for
// scanned codes.
enum class EntryMode { kContactless, kCardNotPresent, kManual, kInAppChip, kConsumerQr };

// DE3 processing codes: iso8583/processing_code.h.
using iso8583::kProcessingPurchase;
using iso8583::kProcessingRefund;
using iso8583::IsCreditProcessingCode;

struct Purchase {
  std::string pan;     // or a payment token
  std::string expiry;  // YYMM (DE14), optional
  Amount amount{Cny()};
  EntryMode entry = EntryMode::kCardNotPresent;
  bool single_message = false;       // 0200 instead of 0100
  std::string processing_code = std::string(kProcessingPurchase);  // DE3
  std::string icc_data;              // DE55 bytes for contactless and in-app chip, optional
  std::string card_sequence_number;  // DE23 (n3, "0" + the card's PSN 5F34), optional
  std::string token_data;            // DE48, optional
  std::string cvv2;  // card-not-present: the card security code, sent in DE48 tag C2
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
  // Purchase() outcomes since the terminal started, credits included (all currencies; not reset
  // by CloseBatch).
  std::int64_t approved = 0;
  std::int64_t declined = 0;
  std::int64_t unknown = 0;
  // The open batch, per ISO 4217 alpha: approved sales net of reversals, at completed amounts
  // (always debits_minor - debit_reversals_minor of `by_currency`; credits are not in it).
  std::map<std::string, std::int64_t> approved_minor;
  // The open batch's reconciliation totals, per ISO 4217 alpha (what CloseBatch sends).
  std::map<std::string, network::ReconciliationTotals> by_currency;
};

struct ReconciliationResult {
  bool in_balance = false;                 // 0510 DE66 "1"
  network::ReconciliationTotals terminal;  // what the 0500 carried
  network::ReconciliationTotals network;   // the network's totals from the 0510
  iso8583::Message response;               // the 0510
};

class PosTerminal {
 public:
  PosTerminal(TerminalConfig config, link::RequestSender& link, const Clock& clock);

  // Sends the purchase (0100, or 0200 when single_message) and calls `done` with the outcome. An
  // approval counts in the open batch: a debit, or with a credit processing code (DE3 "20",
  // IsCreditProcessingCode) a credit (network/reconciliation_totals.h). An unknown outcome sends
  // the reversal (0400, repeated as 0401) and, once acknowledged, counts the debit or credit and
  // its reversal. Without sending anything, `done` gets kInvalidArgument in `response` when
  // processing_code is not 6 digits, or is a credit's without single_message (a credit is an 0200
  // only).
  void Purchase(const acquirer::Purchase& purchase, std::function<void(PurchaseResult)> done);

  // Builds the request Purchase() would send (for tests and tools).
  iso8583::Message BuildRequest(const acquirer::Purchase& purchase, const std::string& stan);

  // Completes the approved 0100 with STAN `authorization_stan` for `final_amount` (same currency,
  // 0 < final <= authorised): sends 0220 (repeated as 0221 until acknowledged, at most
  // completion_attempts_max). `done` gets the 0230 (DE39 "00": the batch now counts the final
  // amount; "25": the network does not know the original), or, without sending anything,
  // kNotFound (no open approved 0100 with that STAN), kInvalidArgument (currency or amount),
  // kFailedPrecondition (a completion of it is already in flight); or kUnavailable when no
  // attempt was acknowledged.
  void Complete(const std::string& authorization_stan, const Amount& final_amount,
                std::function<void(Result<iso8583::Message>)> done);

  // Reverses the approved, not yet completed 0100 with STAN `authorization_stan` in full: sends
  // 0400 (repeated as 0401 until acknowledged, at most reversal_attempts_max) with the 0100's
  // DE2, DE3, DE4, DE7, DE11, DE12, DE13, DE32, DE37, DE41, DE42, DE49 and DE90 naming it, as the
  // reversal of an unknown outcome does. `done` gets the 0410 (DE39 "00": the hold is released,
  // the batch counts a debit reversal and the authorisation can no longer be completed; another
  // code leaves it open), or, without sending anything, kNotFound (no open approved 0100 with that
  // STAN: unknown, completed, reversed, or in a closed batch), kFailedPrecondition (a completion
  // or reversal of it is in flight); or kUnavailable when no attempt was acknowledged (it stays
  // open: the call may be repeated).
  void ReverseAuthorization(const std::string& authorization_stan,
                            std::function<void(Result<iso8583::Message>)> done);

  // Closes the batch of `currency`: sends 0500 (DE7, DE11, DE15 today's date MMDD, DE32, DE41,
  // DE42, DE50, DE74-77, DE86-89, DE97), repeated as 0501 when the link fails. `done` gets the
  // outcome; errors: kUnavailable (no answer), kFailedPrecondition (0510 DE39 not "00"; the
  // message names DE39 and DE44), kInvalidArgument (an 0510 without DE66 "1"/"2" or totals).
  void CloseBatch(const Currency& currency, std::function<void(Result<ReconciliationResult>)> done);

  BatchTotals totals() const;
  std::uint64_t reversals_sent() const { return reversals_sent_; }

 private:
  struct OpenAuthorization {
    std::string request;        // the 0100 as sent, iso8583::CompactMessage (kept by the thousand)
    std::string approval_code;  // DE38 of the 0110
    std::string currency;       // ISO 4217 alpha
    std::int64_t authorized_minor = 0;
    std::uint64_t sequence = 0;  // order of approval, to tell which batch close covered it
    bool completing = false;     // a completion or a reversal of it is in flight
  };

  void SendReversal(iso8583::Message original, int attempt);
  void SendAuthorizationReversal(iso8583::Message original, int attempt,
                                 std::string authorization_stan,
                                 std::function<void(Result<iso8583::Message>)> done);
  // The 0400 (attempt 0) or 0401 (a repeat) of `original`.
  iso8583::Message ReversalOf(const iso8583::Message& original, int attempt) const;
  void SendCompletion(iso8583::Message advice, int attempt, std::string authorization_stan,
                      std::string currency, std::int64_t delta_minor,
                      std::function<void(Result<iso8583::Message>)> done);
  void SendReconciliation(iso8583::Message request, int attempt, const std::string& currency,
                          network::ReconciliationTotals sent,
                          std::function<void(Result<ReconciliationResult>)> done);
  std::string NextStan();
  // DE7 (MMDDhhmmss, UTC), DE12 (hhmmss), DE13 (MMDD) and day of year for now.
  struct Now {
    std::string mmdd, hhmmss;
    int yday = 0;
  };
  Now LocalNow() const;

  TerminalConfig config_;
  link::RequestSender& link_;
  const Clock& clock_;
  std::atomic<std::uint32_t> stan_{0};
  mutable std::mutex mu_;
  BatchTotals totals_;
  std::map<std::string, OpenAuthorization> open_authorizations_;  // by STAN
  std::deque<std::string> open_order_;                            // STANs, oldest first
  std::uint64_t next_sequence_ = 1;
  std::atomic<std::uint64_t> reversals_sent_{0};
};

}  // namespace tapstack::acquirer
