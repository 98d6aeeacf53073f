// Switch: the card network's authorisation switch, a pipeline of small steps over ISO 8583:
//   check fields → detect duplicates → route by BIN → (token ranges: TSP step) → convert
//   currency → forward to the issuer → answer the acquirer
// with stand-in processing (STIP) when the issuer cannot answer, store-and-forward advices for
// what was decided on its behalf, reversals of late approvals, a masked message journal, clearing
// records, completions, terminal reconciliation and settlement.
//
// Messages from acquirers (OnRequest):
//   0100/0101, 0200/0201  authorisation / financial request (and repeats)
//   0200/0201 with DE3 "20" a credit to the card (a refund, a wallet's withdrawal to the card):
//                         routed like any 0200 (token ranges through the TSP step), never stood
//                         in for (the issuer away or too slow: "91", DE44 "no stand-in for
//                         credits", no advice; a late issuer approval is reversed, DE3 kept; a
//                         credit forwarded but unanswered is reversed by a stored 0420 advice,
//                         DE3 kept, before the "91"), and
//                         its clearing record is a credit: reconciliation counts it in DE74/DE86
//                         (reversed: DE75/DE87), and settlement moves it from the acquirer to the
//                         issuer
//   0400/0401, 0420/0421  reversal request / advice (DE90 names the original)
//   0220/0221 with DE90   completion of a dual-message 0100 approval: DE4 = final amount (at most
//                         the authorised one); forwarded to the issuer (DE6 at the authorisation's
//                         rate when cross-border), stored while the issuer is away, and the
//                         clearing record settles at the completed amount → 0230
//   0120/0220             other advices from acquirers (forwarded, stored while the issuer is away)
//   0500/0501             terminal reconciliation (reconciliation_totals.h) → 0510
//   0800                  network management (sign-on 001, sign-off 002, echo 301) → 0810
//   anything else         answered with DE39 "12" (invalid transaction) when it is a request
// Token-provisioning ID&V (an 0100 with DE48 PV, iso8583/token_data.h) is routed like any 0100,
// but never stood in for: an issuer that is not signed on, unreachable or too slow gets the TSP
// a "91" (DE44 "no stand-in for ID&V") and no advice is stored.
// Token ranges: every answered authorisation or financial request is reported to the token
// service (TokenService::OnTokenUseAnswered, token_service.h).
// Response codes set by the switch itself: 30 format error (DE44 names the field), 15 no such
// issuer (also: token range and no token service), 14 token not resolved (token_service.h),
// 94 duplicate transmission, 91 issuer unavailable (STIP declined, an ID&V request or a credit), 12
// invalid transaction (also: completion of a reversed or already settled original), 13
// completion above the authorised amount, 25 completion of an unknown original, 96 a
// reconciliation the store failed. A request whose answer waits on a commit that fails (the
// clearing record of an approval, a reversal or a completion; a stand-in, reversal or
// completion advice; an acquirer's advice) gets no answer at all (LeaveUnanswered). So does a
// follow-up (reversal, completion, advice) or a repeat (0101, 0201) of a token use whose TSP step
// failed for now (the service unavailable, 91, or failing, 96): without the funding PAN the issuer
// cannot be reached, and an acknowledgement, or a decline of a repeat whose first copy the issuer
// approved, would leave its hold behind the acquirer's back; the acquirer repeats the follow-up,
// or reverses the original, until the TSP is back (LeaveUnansweredForTheTsp). An original gets
// the 91 or 96: nothing of it was booked.
//
// Reconciliation (0500 → 0510): the terminal's totals (DE74-77, DE86-89, DE97) for one currency
// (DE50) are compared with the switch's clearing records of that acquirer (DE32) and terminal
// (DE41) in that currency (acquirer-currency amounts) not yet in an in-balance close: approvals
// are debits (at their completed amount), reversed ones also debit reversals; approved credits
// (DE3 "20") are credits, reversed ones also credit reversals. The 0510 has DE39
// "00", DE66 "1" in balance / "2" out of balance and the switch's own totals in DE74-77, DE86-89,
// DE97 (DE15, DE50 echoed). In balance closes those records (a later 0500 starts from zero);
// out of balance is logged and changes nothing. A reversal of an original the switch never saw is
// recorded as a reversed clearing record, so it counts on both sides and an original arriving
// after its reversal is not settled.
//
// Durability: a clearing record for an approval, its completion, a reconciliation close and every
// store-and-forward advice are committed to the switch's store before the acquirer gets the
// response (group commit, BatchWriter).
// Order: an issuer's stored advices are delivered one at a time, oldest first (the next when the
// last is acknowledged), and reversals and completions for an issuer with advices still queued
// join the queue instead of overtaking them, so the issuer always sees a stand-in advice before
// the follow-ups of its request.
// Issuers are reached only through link::RequestSender (TCP or in-memory); the wiring calls
// OnIssuerReady and OnLateResponse from the links' handlers.
// Thread-safety: OnRequest and the callbacks may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/amount.h"
#include "core/clock.h"
#include "core/latency_histogram.h"
#include "core/status.h"
#include "link/message_handler.h"
#include "network/batch_writer.h"
#include "network/bin_table.h"
#include "network/duplicate_detector.h"
#include "network/fx.h"
#include "network/reconciliation_totals.h"
#include "network/token_service.h"
#include "store/store.h"

namespace asio {
class thread_pool;
}  // namespace asio

namespace tapstack::network {

// 128: with 32, 128 taps in flight got 6.3-6.8 k authorisations/s and 512 in flight no more
// (every thread waiting on the TSP's commit, batches capped at 32); with 128, 7.3-7.7 k/s and
// 9.8 k/s (the 2 cores then busy); 512 threads did no better (docs/PERFORMANCE.md).
inline constexpr int kTokenStepThreadsDefault = 128;
inline constexpr int kTokenStepThreadsMax = 1024;

// Issuer-set stand-in parameters ("enhanced" STIP approves within limits, "basic" declines).
struct StandInParameters {
  bool approve_within_limits = true;
  std::int64_t per_transaction_limit_minor = 50'000;  // in the issuer's billing currency
};

struct IssuerConfig {
  std::string institution_id;   // e.g. "48020000"
  std::string name;
  const Currency* billing_currency = nullptr;
  link::RequestSender* link = nullptr;  // not owned; must outlive the switch
  StandInParameters stand_in;
};

struct SwitchOptions {
  std::string network_institution_id = "00010000";  // DE33 on forwarded messages
  std::int64_t fx_markup_bps = 100;                   // 1.00% on cross-border conversions
  std::int64_t interchange_bps = 50;                  // paid by the acquirer to the issuer
  std::int64_t scheme_fee_bps = 5;                    // paid by each side to the network
  int saf_retry_interval_ms = 1'000;
  int saf_attempts_before_manual = 50;                // then the advice waits for an operator
  DuplicateDetector::Options duplicates;
  // Threads that run the TSP step for token-range authorisations (0: the request thread runs it).
  // The token service is synchronous and group-commits its decisions, so the more uses wait
  // together, the more share one commit; these threads mostly wait on that commit.
  int token_step_threads = kTokenStepThreadsDefault;
};

struct SwitchStats {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> approved{0};
  std::atomic<std::uint64_t> declined{0};
  std::atomic<std::uint64_t> stand_in_approved{0};
  std::atomic<std::uint64_t> stand_in_declined{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> format_errors{0};
  std::atomic<std::uint64_t> late_reversals{0};
  std::atomic<std::uint64_t> advices_delivered{0};
  std::atomic<std::uint64_t> completions{0};
  std::atomic<std::uint64_t> reconciliations{0};
  std::atomic<std::uint64_t> reconciliations_out_of_balance{0};
  std::atomic<std::uint64_t> token_declines{0};
  // Requests left unanswered because the store failed to commit what the answer depends on
  // (Switch::LeaveUnanswered): nonzero means the store refuses writes until the switch restarts.
  std::atomic<std::uint64_t> unanswered_store_failures{0};
  // Follow-ups and repeats left unanswered because the TSP could not map their token for now.
  std::atomic<std::uint64_t> unanswered_token_outages{0};
};

// One issuer as the operations console shows it (Switch::IssuerLinks).
struct IssuerLinkState {
  std::string institution_id;
  std::string name;
  bool ready = false;                  // the link is signed on (link::RequestSender::ready)
  std::int64_t advices_pending = 0;    // store-and-forward advices not yet acknowledged
  std::uint64_t stand_in_approved = 0;  // since this process started
  std::uint64_t stand_in_declined = 0;
};

// One row of the message journal (journal.h says what is masked or dropped).
struct JournalEntry {
  std::int64_t entry_id = 0;
  std::int64_t unix_ms = 0;
  std::string direction;      // "in" (to the switch) or "out"
  std::string peer;           // "acquirer" or the issuer's institution id
  std::string mti;
  std::string stan;           // DE11, "" when absent
  std::string masked_pan;     // DE2 masked, "" when absent
  std::string response_code;  // DE39, "" when absent
  std::string message_json;   // JournalJson: masked already
};

inline constexpr std::size_t kJournalQueryRowsMax = 1'000;
inline constexpr std::size_t kJournalQueryStansMax = 200;

// Which journal rows to read; the conditions that are set must all hold.
struct JournalQuery {
  std::string masked_pan;          // exactly this masked DE2 ("622202******0015"); empty: any
  std::string pan_last4;           // DE2 ends with these 4 digits; empty: any
  std::vector<std::string> stans;  // DE11 is one of these (at most kJournalQueryStansMax); empty: any
  std::size_t rows_max = 200;      // newest first, at most kJournalQueryRowsMax
};

// One approval as the switch recorded it for clearing and settlement.
struct ClearingRecord {
  std::int64_t record_id = 0;
  std::string issuer_id;
  std::string acquirer_id;  // DE32
  std::string terminal_id;  // DE41
  std::string masked_pan;
  std::string original_mti;           // 0100 or 0200; empty for a reversal that overtook it
  std::string txn_currency;           // ISO 4217 alpha, the acquirer's (DE49)
  std::int64_t txn_amount_minor = 0;  // what settles: authorised, or completed amount
  std::int64_t authorized_amount_minor = 0;
  std::string billing_currency;  // the issuer's
  std::int64_t billing_amount_minor = 0;
  std::string approval_code;
  bool stand_in = false;
  bool reversed = false;
  bool completed = false;
  bool reconciled = false;         // in an in-balance terminal reconciliation
  std::int64_t settled_cycle = 0;  // 0: not settled yet (the current cycle)
  bool credit = false;             // DE3 "20": a credit to the card, settled acquirer → issuer
};

struct ClearingFilter {
  std::string acquirer_id;         // empty: any
  std::string terminal_id;         // empty: any
  bool current_cycle_only = true;  // only records not settled yet
};

// One bank's position in one currency for a settlement cycle.
struct SettlementPosition {
  std::string institution_id;
  std::string currency;          // ISO 4217 alpha
  std::int64_t as_issuer_minor = 0;    // negative: owes for its cardholders' spending
  std::int64_t as_acquirer_minor = 0;  // positive: is owed for its merchants' sales
  std::int64_t fees_minor = 0;         // interchange received minus scheme fees paid (network: fees earned)
  std::int64_t net_minor = 0;
  std::int64_t transactions = 0;
};

struct SettlementReport {
  std::int64_t cycle = 0;
  std::int64_t records = 0;
  std::vector<SettlementPosition> positions;  // sorted by currency, institution
  std::string ToCsv() const;
  std::string ToJson() const;
};

class Switch final : public link::MessageHandler {
 public:
  // Opens the switch on `store` (clearing records, store-and-forward queue: migrations applied,
  // the queue reloaded) and `journal_store` (the message journal, written on its own thread so
  // journaling never delays an approval).
  static Result<std::unique_ptr<Switch>> Create(SwitchOptions options, BinTable bins, FxTable fx,
                                                const Clock& clock,
                                                std::unique_ptr<store::Store> store,
                                                std::unique_ptr<store::Store> journal_store);
  ~Switch() override;

  // Registers an issuer (before traffic). Errors: duplicate id, missing link or currency.
  Status AddIssuer(IssuerConfig issuer);

  // The TSP step for token BIN ranges (not owned; must outlive the switch; nullptr, the default,
  // declines token-range card numbers with "15"). See token_service.h. Set before traffic.
  void SetTokenService(TokenService* service) { token_service_ = service; }
  // Waits for token-step work in flight to finish; later token-range requests run on the request
  // thread. Call before destroying the issuer links (the destructor calls it too). Idempotent.
  void StopTokenStep();

  void OnRequest(iso8583::Message request, link::Reply reply) override;

  // The issuer's link became ready: deliver its stored advices.
  void OnIssuerReady(const std::string& institution_id);
  // A response that arrived after its request timed out: a late approval is reversed.
  void OnLateResponse(const std::string& institution_id, iso8583::Message response);
  // Retries undelivered advices for every ready issuer (called periodically by the wiring).
  void DeliverStoredAdvices();

  // Closes the current clearing cycle: every unreversed clearing record is settled into net
  // positions per bank and currency (they sum to zero per currency). A credit to a card counts
  // against the acquirer and for the issuer, its interchange going back to the acquirer; scheme
  // fees are charged on it as on a sale. Durable before returned.
  Result<SettlementReport> CutOff();

  // For the deterministic simulation (src/sim/), with token_step_threads = 0: returns once the
  // store and journal writers are idle (every submitted write committed and its callback run).
  // Work the callbacks start on other roles goes through links and is not waited for. Never call
  // it from a writer callback.
  void WaitIdle();

  // Advices not yet acknowledged, per issuer (for the console and tests).
  std::map<std::string, std::int64_t> PendingAdvices();

  // Clearing records matching `filter`, by record id (at most store::StoreOptions::query_rows_max).
  // Reads on the store's writer thread after every write submitted before the call.
  Result<std::vector<ClearingRecord>> ClearingRecords(const ClearingFilter& filter);

  // The switch's side of a terminal's open batch in `currency` (what a 0500 is compared with).
  Result<ReconciliationTotals> OpenBatchTotals(const std::string& acquirer_id,
                                               const std::string& terminal_id,
                                               const Currency& currency);

  const SwitchStats& stats() const { return stats_; }
  // kIoError once the store failed a commit that an answer waited on (LeaveUnanswered), or the
  // message journal failed a commit: the store may refuse every write until reopened, so the
  // process should restart (`tapstack serve` exits for its supervisor, as for an issuer whose
  // ledger failed). Thread-safe.
  Status Health() const;

  // Latency of every answered acquirer authorisation or financial request, from receipt by
  // OnRequest to the answer handed to the reply (µs, this process's clock). Read-only view for
  // the console and benchmarks; recorded with relaxed atomics.
  const LatencyHistogram& latency() const { return latency_; }

  // Every registered issuer with its link state, advices waiting and stand-in counts, by
  // institution id. Thread-safe.
  std::vector<IssuerLinkState> IssuerLinks();

  // Journal rows matching `query`, newest first. Reads on the journal's writer thread after every
  // entry submitted before the call. Errors: kInvalidArgument (pan_last4 not 4 digits, too many
  // STANs, rows_max 0 or above kJournalQueryRowsMax); the store's.
  Result<std::vector<JournalEntry>> JournalEntries(const JournalQuery& query);

 private:
  struct Issuer;
  struct Advice;
  Switch(SwitchOptions options, BinTable bins, FxTable fx, const Clock& clock);

  void Authorize(iso8583::Message request, link::Reply reply);
  void Reverse(iso8583::Message request, link::Reply reply);
  void Advise(iso8583::Message request, link::Reply reply);
  void Complete(iso8583::Message request, link::Reply reply);
  void Reconcile(iso8583::Message request, link::Reply reply);
  // The TSP step: for a DE2 in a token range, replaces DE2 with the funding PAN and keeps the
  // token in DE48 TK. Returns an empty code when the request can be routed, else the DE39 to
  // answer with and `detail` for DE44.
  std::string TokenStep(iso8583::Message& request, std::string* detail);
  // True when TokenStep's `code` says the token service failed for now (91 unavailable, 96
  // failing) rather than that the token does not resolve.
  static bool TokenServiceOutage(const std::string& code) { return code == "91" || code == "96"; }
  // A follow-up or a repeat whose TSP step failed for now: logged, counted, its duplicate entry
  // (under `key`, may be empty) abandoned, and no answer (see the header comment).
  void LeaveUnansweredForTheTsp(const iso8583::Message& request, const std::string& key,
                                const std::string& detail);
  void FormatError(const iso8583::Message& request, const std::string& detail, link::Reply reply);
  void OnIssuerResponse(std::shared_ptr<Issuer> issuer, iso8583::Message request,
                        Result<iso8583::Message> response, link::Reply reply,
                        std::string duplicate_key);
  void StandIn(std::shared_ptr<Issuer> issuer, iso8583::Message request, link::Reply reply,
               std::string duplicate_key, const std::string& why);
  // A forwarded request got no answer (timeout, link failure), or a repeat found the issuer's link
  // down: the issuer may have booked it. ReverseUnanswered when stand-in refuses it, else StandIn.
  void OnNoAnswer(std::shared_ptr<Issuer> issuer, iso8583::Message request, link::Reply reply,
                  std::string duplicate_key, const std::string& why);
  // StandIn's refusal: the answer is stored (stand_in_answers) before Finish gives it, so that a
  // restarted switch still treats a copy of the request as answered; none when it cannot be stored.
  void FinishStandInDecline(std::shared_ptr<Issuer> issuer, const iso8583::Message& request,
                            iso8583::Message response, link::Reply reply, const std::string& duplicate_key);
  // Whether StandIn approves `request` (an 0100/0200 within the issuer's stand-in limits, not a
  // credit, not an ID&V).
  static bool StandInApproves(const Issuer& issuer, const iso8583::Message& request);
  // A forwarded request that moves money got no answer (timeout, link failure) and stand-in will
  // refuse it: stores a reversal advice (0420, DE3 kept, DE90 naming it) for the issuer, which
  // may have booked it, then answers the acquirer as StandIn does ("91"; none when the advice
  // could not be stored) and starts delivering the advice.
  void ReverseUnanswered(std::shared_ptr<Issuer> issuer, iso8583::Message request, link::Reply reply,
                         std::string duplicate_key, const std::string& why);
  // Answers the acquirer (after the clearing record of an approval is durable) and reports the
  // answer of a token-range request to the token service.
  void Finish(const iso8583::Message& request, iso8583::Message response, link::Reply reply,
              const std::string& duplicate_key, const Issuer* issuer);
  // The store failed to commit the clearing record or advice that an answer to `request` depends
  // on (`what`): logs it and drops the acquirer's reply uncalled (link::Reply), since the outcome
  // is unknown until the store is reopened; the acquirer times out and reverses (an original) or
  // repeats (a reversal, a completion, an advice) to the restarted switch.
  void LeaveUnanswered(const iso8583::Message& request, const char* what, const Status& s);
  // TokenService::OnTokenUseAnswered for `request` (as Finish holds it: after the TSP step when
  // it ran) when it was in a token range and a token service is set.
  void ReportTokenUse(const iso8583::Message& request, const iso8583::Message& response);
  // Answers a true duplicate (94) or a repeat (the stored answer, or later when it is still being
  // decided) and returns true; false for a new request, which the caller must Complete.
  bool AnsweredAsRepeat(const iso8583::Message& request, const link::Reply& reply);
  void StoreAdvice(const std::string& issuer_id, iso8583::Message advice,
                   std::function<void(const Status&)> done);
  void SendAdvice(std::shared_ptr<Issuer> issuer, std::shared_ptr<Advice> advice);
  // True when a follow-up (reversal, completion) to `issuer` must join its store-and-forward
  // queue rather than go at once: the link is down, or advices stored earlier are still queued
  // (a follow-up must not overtake the stand-in advice of its original).
  bool MustQueueFollowUp(Issuer& issuer);
  void Journal(const char* direction, const std::string& peer, const iso8583::Message& m);
  std::shared_ptr<Issuer> IssuerFor(const std::string& pan, std::string* range_error);
  bool InTokenRange(std::string_view pan) const;
  // Authorize after the duplicate check: TSP step, routing, FX, forwarding (or stand-in).
  void Route(iso8583::Message request, link::Reply reply, const std::string& key,
             const Currency& currency);
  std::shared_ptr<Issuer> IssuerById(const std::string& institution_id);
  std::string NextApprovalCode();
  std::string NextStan();

  SwitchOptions options_;
  BinTable bins_;
  FxTable fx_;
  const Clock& clock_;
  std::unique_ptr<BatchWriter> writer_;
  std::unique_ptr<BatchWriter> journal_writer_;
  DuplicateDetector duplicates_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Issuer>> issuers_;
  std::atomic<std::int64_t> next_id_{1};
  std::atomic<std::uint32_t> approval_counter_{0};
  std::atomic<std::uint32_t> stan_counter_{0};
  std::int64_t cycle_ = 1;
  std::atomic<TokenService*> token_service_{nullptr};
  std::unique_ptr<asio::thread_pool> token_pool_;  // token_step_threads > 0
  std::atomic<bool> token_pool_stopped_{false};
  SwitchStats stats_;
  LatencyHistogram latency_;
};

}  // namespace tapstack::network
