// IssuerHost: one process role hosting many issuer banks. It answers ISO 8583 from the network:
//   0100/0101 authorisation → rules, then a pending hold in the ledger (card account → bank
//             settlement account), released by reversal or expiry, posted by a completion
//   0200/0201 financial      → rules, then a posted transfer
//   0200/0201 with DE3 "20"  → a credit to the card (a refund, a wallet's withdrawal to the card;
//                              "Credits" below): a posted transfer from the bank's settlement
//                              account to the card account (a debit card's deposit grows, a
//                              credit card owes less). No card status, expiry or limit rule;
//                              "14" unknown card, "13" zero amount, "30" DE49 not the card's
//                              currency without DE6, "12" a credit already reversed (its
//                              reversal came first) or a credit as 0100/0120/0220; a repeat
//                              of the same credit gets "00" and its first DE38, another credit
//                              under the same key (DE32, DE41, DE11, DE7: a different amount or
//                              card) "94" (duplicate transmission), crediting nothing
//   0220/0221 with DE90 naming an 0100 original: a completion (clearing) → posts the original's
//             hold, all of it or part (the rest is released); a repeat changes nothing.
//             0230 "00" when posted (or already posted), "13" for a zero amount or one above the
//             hold, "25" when there is no hold to post (never held, reversed or expired: a
//             warning with the masked PAN is logged; "25" rather than "00" so the acquirer's
//             reconciliation sees that no money moved), "30" for a malformed DE90 or an amount in
//             another currency than the card's without DE6
//   0400/0420 (+ repeats)    → void of the original hold (0100), or a refund (0200) of what
//                              the sale's posting moved (the network's stand-in posting when
//                              there is one), once; a reversal that finds nothing to void or
//                              refund leaves a remembered failure, so the original (or its
//                              stand-in advice) arriving after it is refused ("12") or not
//                              booked; with DE3 "20": a transfer back of what the credit posted (when
//                              the card no longer holds it, the bank's credit recovery account
//                              pays, so the bank's settlement position still matches the
//                              network's), or, for a credit not posted, a remembered failure
//                              under the reversal's id so a late credit is refused ("12").
//                              Acknowledged even when the original is unknown
//   0120/0121 stand-in advice → the hold the network approved on the bank's behalf, under the
//                              same id as the bank's own approval of that request, so a
//                              completion finds it and a request the bank had approved itself
//                              is not held twice (see "Stand-in advices" below)
//   0220/0221 without DE90   → the stand-in financial advice: a posted transfer (a sale the
//                              bank posted itself is refunded first, as for 0120 below)
//   0800                     → 0810 "00"
//   0100/0101 with DE48 PV   → token-provisioning ID&V (identity_verification.h): answered at
//                              once on the calling thread, not queued; DE39 "85" with DE48 IV
//                              "G" / "Y" per the bank's idv_decision, or a decline with IV "R".
//                              Nothing is held or written and the daily counters are untouched,
//                              so a repeat gets the same answer and changes nothing either.
// Stand-in advices are never declined: if the card cannot cover one, the bank's stand-in loss
// account pays.
// Cards are found by a keyed HMAC-SHA-256 fingerprint of the PAN (never stored in clear).
//
// Card-not-present requests (IsCardNotPresent(DE22)) of a bank with a card verification key must
// carry the CVV2 in DE48 tag "C2" (3 digits, tag/length/value as in iso8583/token_data.h, e.g.
// "C2003123"), unless the bank sets cvv2_required_for_card_not_present = false or the network
// marks the request DE48 CV "V" (its TSP verified the token's cryptogram: an in-app token
// payment carries the card's ARQC instead of a CVV2); a CVV2 that is
// present is checked whatever the entry mode. Failures answer "N7". The expected CVV2 is computed
// in memory (crypto/card_verification.h, service code 000, the card's expiry on file), compared in
// constant time and wiped; neither value is stored or logged.
//
// Durability: requests are queued and applied in batches by one worker; a batch's ledger
// transfers are made durable by one group commit (ledger::Ledger) before any of its responses is
// sent. Ids of ledger transfers derive from (bank, DE32, DE41, DE11, DE7) — for reversals and
// completions those of the original named by DE90 — so a repeat or a retry after a crash never
// holds, posts or credits twice.
//
// Stand-in advices: the advice tries the hold id of the request ("hold|key"). When that id exists
// because the bank approved the request itself (its response reached the network too late), the
// network's approval is what the acquirer got, so the advice takes the hold over: in one atomic
// ledger chain the bank's hold is voided and a stand-in hold ("advice|key") is placed — one hold
// either way. The network also reverses a late approval (0400 with DE39 "68"); such a reversal only
// ever voids the bank's own hold, so after a takeover it changes nothing, and when it came first
// the advice sees the hold voided "for lateness" and places the stand-in hold anew. Reversals
// from the acquirer and completions act on the stand-in hold when there is one. An advice for a
// sale the acquirer has already reversed (the bank's hold voided by that reversal, or a reversal
// that found no hold at all) places nothing. A stand-in 0220 does the same for a sale: the bank's
// own posting is refunded under the id the network's late reversal would use (so only one of them
// refunds it) and the stand-in posting stands. The other way round, a request (or its repeat)
// arriving after the network's advice of it is answered from the stand-in booking ("00" with its
// approval code, nothing booked again; "12" once it was reversed): the network stood in but left
// the acquirer unanswered when its store failed, and the acquirer repeated. These orderings were
// found by the deterministic simulation (src/sim, docs/RELIABILITY.md).
//
// Daily amount and velocity counters are kept in memory (they restart at zero after a restart);
// credits do not count.
// Thread-safety: OnRequest from any thread; card administration and look-ups from any thread.
//
// Credits to a card account: a merchant's refund of an earlier purchase, or a wallet platform's
// withdrawal of a user's balance to a bound card. Both reach the issuer as an 0200 (or 0201
// repeat) whose DE3 transaction type is "20" (ISO 8583:1987 DE3 positions 1-2: "returns"), sent
// by an acquirer through the network like any financial request.
//
// What the issuer checks, and what it deliberately does not:
//   * the card must exist ("14"), the amount must not be zero ("13"), and without a billing amount
//     (DE6) the transaction currency (DE49) must be the card's ("30"): the money has to land in
//     a known account, in its currency;
//   * card status and expiry are NOT checked: a blocked, lost, stolen or expired card still has
//     its account, which is what is credited. Card schemes expect issuers to accept refunds to
//     such cards (refusing would strand the cardholder's money at the merchant); a lost card's
//     account moves to the replacement card with the credit in it. The status only stops spending;
//   * no CVV2, merchant category, per-transaction, daily amount or velocity rule applies, and a
//     credit does not count toward the card's daily amount or velocity: those rules limit what the
//     card can spend, and a credit spends nothing;
//   * a credit is single-message only: an 0100 (or an 0120/0220 advice) with DE3 "20" is answered
//     "12" and moves nothing (the network never stands in for a credit, and advices from
//     acquirers are not cleared by the network).
// Which DE3 is a credit: iso8583/processing_code.h (IsCreditProcessingCode).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/currency.h"
#include "core/pan.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "issuer/authorization_rules.h"
#include "issuer/card.h"
#include "issuer/identity_verification.h"
#include "ledger/ledger.h"
#include "link/message_handler.h"
#include "store/store.h"

namespace tapstack::issuer {

struct IssuerBankConfig {
  std::string institution_id;
  std::string name;
  const Currency* currency = nullptr;
  std::vector<std::pair<std::string, std::string>> bin_ranges;  // 8-digit low/high, credit and debit
  crypto::SecretBytes pan_fingerprint_key;                       // HMAC key, 32 bytes
  // The CVK for CVV2 (key A ‖ key B, 16 bytes; crypto/card_verification.h). Empty: the bank does
  // not verify CVV2.
  crypto::SecretBytes card_verification_key;
  // With a CVK: card-not-present requests without a CVV2 are declined ("N7").
  bool cvv2_required_for_card_not_present = true;
  // What token-provisioning ID&V answers for a card that passes its checks
  // (identity_verification.h): step-up (yellow) unless the bank decides otherwise.
  IdvDecision idv_decision = IdvDecision::kStepUp;

  // A deliberate copy, keys included (SecretBytes does not copy implicitly).
  IssuerBankConfig Clone() const;
};

struct IssuerOptions {
  std::filesystem::path data_dir;
  std::string name = "issuer";                     // files: <name>.db (cards), ledger <name>-ledger
  const Clock* clock = nullptr;                    // default: the system clock
  std::uint32_t hold_timeout_s = 7 * 24 * 3600;    // an uncleared hold is released after this
  // Beyond this many queued requests, a request gets 91 at once; a repeat (0101, 0201, 0121 …)
  // gets no answer, since an earlier copy of it may be queued or booked.
  std::size_t queue_max = 65'536;
  // Where the card records live, e.g. store::OpenPostgres(url, "issuer"); the host takes it over
  // (nothing else may use it while the host is open). Empty: SQLite <data_dir>/<name>.db. The
  // ledger is the file ledger in data_dir either way. A shared_ptr rather than a unique_ptr so
  // IssuerOptions stays copyable for callers that pass it as an lvalue; a unique_ptr converts.
  std::shared_ptr<store::Store> cards_store;
  // The ledger log's preallocation chunk (ledger::LedgerOptions::log_preallocate_bytes).
  std::uint64_t ledger_preallocate_bytes = ledger::kLogPreallocateBytesDefault;
  // How the ledger opens its log file; empty = the POSIX file. The simulator injects disk faults.
  ledger::LogFileOpener open_ledger_file;
};

// What became of an authorisation (FindAuthorization).
struct AuthorizationState {
  // kRefunded: an 0200 posted at once and then refunded by its reversal (0400/0420).
  enum State { kNotFound, kPending, kPosted, kVoided, kExpired, kRefunded };
  State state = kNotFound;
  std::int64_t amount_minor = 0;  // held (for an 0200: posted at once), in the card's currency
  std::int64_t posted_minor = 0;  // kPosted: what the completion (or the 0200 itself) posted
  bool stand_in = false;          // approved by the network on the bank's behalf (0120 advice)
};

// "not_found", "pending", "posted", "voided", "expired", "refunded".
std::string_view AuthorizationStateName(AuthorizationState::State state);

struct NewCard {
  std::string institution_id;
  std::string pan;             // validated; never stored
  std::string expiry;          // YYMM
  CardType type = CardType::kDebit;
  std::int64_t opening_balance_minor = 0;  // debit: deposit; credit: credit line
  std::int64_t per_transaction_limit_minor = 0;
  std::int64_t daily_limit_minor = 0;
  int daily_transactions_max = 0;
  std::set<std::string> blocked_mccs;
};

struct IssuerStats {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> approved{0};
  std::atomic<std::uint64_t> declined{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> identity_verifications{0};  // ID&V requests (also in approved/declined)
  // Left without an answer because the ledger failed (ledger_failed()), or a repeat that found
  // the queue full.
  std::atomic<std::uint64_t> unanswered{0};
};

class IssuerHost final : public link::MessageHandler {
 public:
  // Opens the card store and the ledger, creates the banks' own accounts and starts the worker.
  // The banks' keys are copied. Errors: a bank without currency, with a PAN key under 16 bytes or
  // a card verification key that is neither empty nor 16 bytes (kInvalidArgument); store and
  // ledger errors.
  static Result<std::unique_ptr<IssuerHost>> Open(IssuerOptions options,
                                                  std::span<const IssuerBankConfig> banks);
  ~IssuerHost() override;

  // Issues cards with their ledger accounts and opening funds, in one batch (one ledger group
  // commit, one store transaction). Idempotent: issuing the same PAN again changes nothing and
  // succeeds. Errors (nothing is issued): unknown bank, PAN outside the bank's ranges, bad PAN or
  // expiry.
  Status IssueCards(std::span<const NewCard> cards);
  Status IssueCard(const NewCard& card) { return IssueCards(std::span(&card, 1)); }
  // Errors: kNotFound for an unknown card.
  Status SetCardStatus(std::string_view institution_id, std::string_view pan, CardStatus status);
  // The card's available funds or credit (credits - debits incl. pending, plus the credit line).
  Result<std::int64_t> AvailableMinor(std::string_view institution_id, std::string_view pan);
  std::size_t card_count() const;

  void OnRequest(iso8583::Message request, link::Reply reply) override;

  // The authorisation the bank knows by these request fields (DE32, DE41, DE11, DE7 of the 0100;
  // `acquirer_id` may be empty when the request had no DE32). kNotFound when it never held it.
  // A hold past its timeout is kExpired even before the ledger's sweep released it. A stand-in
  // approval the card could not cover (paid by the stand-in loss account) is kPosted, stand_in.
  // Errors: kNotFound for a bank not hosted here; kInvalidArgument for a STAN that is not 6
  // digits or a transmission time that is not 10; ledger errors.
  Result<AuthorizationState> FindAuthorization(std::string_view institution_id, std::string_view acquirer_id,
                                               std::string_view terminal_id, std::string_view stan,
                                               std::string_view transmission_time);

  ledger::Ledger& ledger() { return *ledger_; }
  const IssuerStats& stats() const { return stats_; }

  // True once a ledger write or sync failed. The requests of the batch being written then get no
  // answer (their outcome is unknown), and neither does any later request but sign-on and echo
  // (0800), until the host is closed and reopened, which recovers exactly what reached the disk:
  // senders time out and stand in, reverse or repeat, as when the host has crashed. A supervisor
  // restarts a host that reports this.
  bool ledger_failed() const { return ledger_failed_.load(); }

  // For the deterministic simulation (src/sim/): returns once no request is queued and the worker
  // has finished its batch (ledger commit and replies included). Requests that arrive meanwhile
  // are waited for too. Thread-safe; never call it from a reply callback.
  void WaitIdle();

 private:
  struct Bank;
  struct Pending {
    iso8583::Message request;
    link::Reply reply;
  };
  IssuerHost() = default;
  // Token-provisioning ID&V: checks and answers `request` at once (identity_verification.h).
  iso8583::Message AnswerIdentityVerification(const iso8583::Message& request);
  void Worker();
  void ProcessBatch(std::vector<Pending>& batch);
  const Bank* BankForPan(std::string_view pan) const;
  std::string Fingerprint(const Bank& bank, std::string_view pan) const;

  IssuerOptions options_;
  const Clock* clock_ = nullptr;
  std::map<std::string, std::unique_ptr<Bank>> banks_;
  std::shared_ptr<store::Store> cards_store_;  // guarded by cards_mu_
  std::unique_ptr<ledger::Ledger> ledger_;
  mutable std::mutex cards_mu_;
  std::unordered_map<std::string, CardRecord> cards_;  // by fingerprint
  struct DayActivity {
    std::string day;  // YYMMDD the counters belong to
    DailyActivity today;
  };
  std::unordered_map<std::string, DayActivity> activity_;  // by fingerprint; worker thread only
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool batch_running_ = false;          // the worker is processing a batch (queue_mu_)
  std::atomic<bool> ledger_failed_{false};
  std::condition_variable idle_cv_;     // WaitIdle: queue empty and no batch running
  std::thread worker_;
  IssuerStats stats_;
};

}  // namespace tapstack::issuer
