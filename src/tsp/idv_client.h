// IdvClient: the TSP side of token-provisioning ID&V (docs/tsp.md, "ID&V over ISO 8583"): before
// a card is tokenised, the TSP asks the card's issuer, through the network switch, with an
// ISO 8583:1987 0100 account-verification request, and reads the issuer's decision from the 0110.
//
// Request 0100 (ascii profile):
//   DE2 PAN · DE3 "000000" · DE4 "000000000000" · DE7 MMDDhhmmss (UTC) · DE11 STAN ·
//   DE12 hhmmss / DE13 MMDD (the TSP's local time is UTC) · DE14 PAN expiry YYMM ·
//   DE18 "6012" · DE22 "010" (manual key entry: card not present, so the issuer checks CVV2) ·
//   DE25 "51" (account verification) · DE32 acquirer id · DE41 terminal id · DE42 card acceptor ·
//   DE49 "156" · DE48 sub-elements (iso8583/token_data.h layout): C2 CVV2, PV "1" (a provisioning
//   ID&V), TR token requestor id, DI device id.
// Response 0110 → decision:
//   DE39 "85" and DE48 IV "G"             green: provision and activate
//   DE39 "85" and IV "Y" (or IV absent)   yellow: step-up (OTP). An approval that does not say
//                                         green is treated as yellow: the safer reading.
//   DE39 "91", a link error or no answer within the timeout, an answer that is not the 0110 of this
//   STAN                                  unavailable (nothing may be tokenised without the bank)
//   any other DE39 (IV "R")               red, with a reason: 14 card_unknown; 54 card_expired;
//                                         N7 cvv2_mismatch; 62/41/43 card_blocked; else (05 …)
//                                         issuer_declined.
// PV and IV are DE48 sub-elements of iso8583/token_data.h.
//
// STAN (DE11): IdvStanCounter keeps a per-day counter in the TSP's store (tsp_idv_stan). It reserves
// STANs in blocks of kIdvStanBlockStans: one committed transaction moves the stored counter to the
// end of the block, and the STANs of the block are then handed out from memory, so provisioning
// pays one durable commit per block instead of one per request. Unique within the process, and a
// restart on the same UTC day continues after the last block reserved (the unused rest of the
// block is skipped: gaps are harmless, a repeat is not, since the switch matches responses by MTI
// class + STAN + terminal and a repeat could pair a late answer with the wrong card).
// kIdvStansPerDayMax STANs per day (those skipped at restarts included); the counter restarts at 1
// on the next UTC day.
//
// The CVV2 is put into the request and nowhere else: it is never stored or logged here, and the
// message holding it is destroyed when Verify returns.
//
// Thread-safety: IdvClient::Verify is thread-safe if the RequestSender is (it keeps no state).
// IdvStanCounter is not (one thread at a time, like its store).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/pan.h"
#include "core/status.h"
#include "iso8583/message.h"
#include "link/message_handler.h"
#include "store/store.h"

namespace tapstack::tsp {

// How long Verify waits for the issuer's answer. The switch's own issuer timeout is shorter, so
// normally the switch answers 91 first.
inline constexpr int kIdvTimeoutMs = 10'000;
inline constexpr std::int64_t kIdvStansPerDayMax = 999'999;
// STANs reserved by one commit. A restart skips at most this many; 1,000 keeps a day's 999,999
// STANs enough for about a thousand restarts.
inline constexpr std::int64_t kIdvStanBlockStans = 1'000;
inline constexpr std::string_view kIdvMcc = "6012";
inline constexpr std::string_view kIdvPosEntryMode = "010";
inline constexpr std::string_view kIdvPosConditionCode = "51";

enum class IdvDecision { kGreen, kYellow, kRed, kUnavailable };

enum class IdvDeclineReason {
  kNone,
  kCardUnknown,
  kCardExpired,
  kCvv2Mismatch,
  kCardBlocked,
  kIssuerDeclined,
  kIssuerUnavailable,
};

// "card_unknown", "card_expired", "cvv2_mismatch", "card_blocked", "issuer_declined",
// "issuer_unavailable" ("" for kNone): the API's decline_reason values.
std::string_view IdvDeclineReasonName(IdvDeclineReason reason);

struct IdvResult {
  IdvDecision decision = IdvDecision::kUnavailable;
  std::string response_code;  // DE39 as received; "91" when no answer came
  IdvDeclineReason reason = IdvDeclineReason::kNone;  // kRed and kUnavailable only
};

struct IdvRequest {
  const Pan* pan = nullptr;  // required; not owned
  std::string pan_expiry;    // YYMM
  std::string cvv2;          // 3 digits
  std::string requestor_id;  // 11 digits
  std::string device_id;     // 1-64 printable ASCII
};

struct IdvClientOptions {
  std::string acquirer_id = "00010000";       // DE32: the TSP's institution id
  std::string terminal_id = "TSPIDV01";       // DE41
  std::string card_acceptor = "TAPSTACKTSP0001";  // DE42
  std::string currency_numeric = "156";       // DE49
  int timeout_ms = kIdvTimeoutMs;
  const Clock* clock = nullptr;  // required
};

// The 0100 for `request` (see above). Errors: kInvalidArgument naming the field (pan, pan_expiry,
// cvv2, requestor_id, device_id; DE48 encoding).
Result<iso8583::Message> BuildIdvRequest(const IdvRequest& request, std::string_view stan,
                                         const IdvClientOptions& options);

// The decision in `response` to the request with `stan` (see the mapping above).
IdvResult ParseIdvResponse(const Result<iso8583::Message>& response, std::string_view stan);

class IdvClient {
 public:
  // `link` (to the switch) is not owned and must outlive the client. Errors: kInvalidArgument for
  // a missing clock, a timeout <= 0, or ids of the wrong length.
  static Result<std::unique_ptr<IdvClient>> Create(link::RequestSender& link,
                                                   IdvClientOptions options);

  // Sends the 0100 and waits up to options.timeout_ms for the 0110. Network failures become
  // decision kUnavailable (never an error). Errors: BuildIdvRequest's.
  Result<IdvResult> Verify(const IdvRequest& request, std::string_view stan);

 private:
  IdvClient(link::RequestSender& link, IdvClientOptions options)
      : link_(link), options_(std::move(options)) {}

  link::RequestSender& link_;
  IdvClientOptions options_;
};

class IdvStanCounter {
 public:
  // Applies the TSP schema. `store` and `clock` are not owned. Errors: the store's.
  static Result<std::unique_ptr<IdvStanCounter>> Open(store::Store& store, const Clock& clock);
  // The next STAN of the current UTC day, 6 digits; its block's reservation is committed before
  // it is returned. Errors: kOutOfRange after kIdvStansPerDayMax STANs in one day; the store's.
  Result<std::string> Next();

 private:
  IdvStanCounter(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  store::Store& store_;
  const Clock& clock_;
  // The block in hand: STANs next_..last_ of UTC day day_ (YYYYMMDD) are reserved and unused.
  std::string day_;
  std::int64_t next_ = 1;
  std::int64_t last_ = 0;
};

}  // namespace tapstack::tsp
