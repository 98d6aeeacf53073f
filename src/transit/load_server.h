// LoadServer: one city operator's top-up (load) server, the order flow of
// shared/design/domain/transit-purse.md section 11:
//
//   CreateOrder     the user pays with a bound bank card (TopUpPayment::Authorize)   -> "paid"
//   AuthorizeLoad   the wallet forwards the card's INITIALIZE FOR LOAD answer; the server
//                   verifies MAC1 with the card's DLK and answers date, time, MAC2    ->
//                   "authorised"
//   (the wallet sends CREDIT FOR LOAD with them; the card answers a TAC)
//   ConfirmLoad     the TAC verifies with the card's DTK; the payment is captured    -> "loaded"
//
// Order states: "authorising" (written before Authorize, so a crash leaves a trace), "declined",
// "paid", "authorised", "loaded" (captured, or capture pending: see LoadOrder::captured),
// "cancelling" (reversal under way) and "refunded".
//
// The one rule that keeps money safe: a MAC2 is bound to the card's online counter, and the card
// takes at most one load per counter value. An order records the counter of its first INITIALIZE
// FOR LOAD; the server issues MAC2s for that counter only (at most kLoadAttemptsPerOrderMax, one
// per card random: a retry with the same random gets the same MAC2 back), and once the card shows
// a higher counter the load may have happened, so the order is only ever confirmed (TAC) or
// reconciled from the card's log (SFI 18), never given a second MAC2 and never reversed blindly.
//
// Keys: DLK and DTK are diversified per card from the city's load and TAC master keys
// (transit/card_personalisation.h CardKey) for each call and not kept.
// Durable before answered: every state change is committed before the call returns (MAC2 included:
// it is stored before it is sent). Thread-safe: one mutex around the owned store connection; the
// payment calls are made under it, so one server handles one order step at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "crypto/secret_bytes.h"
#include "store/store.h"
#include "transit/bcd_time.h"
#include "transit/card_registry.h"
#include "transit/city_network.h"
#include "transit/purse_commands.h"
#include "transit/top_up_payment.h"

namespace tapstack::transit {

inline constexpr std::size_t kLoadOrderIdBytesMax = 64;
inline constexpr std::size_t kLoadAttemptsPerOrderMax = 8;   // MAC2s issued for one order
inline constexpr std::size_t kLoadInitAnswerBytes = 16;      // INITIALIZE FOR LOAD response data
inline constexpr std::size_t kPaymentDataBytesMax = 16'384;  // the wallet's payment data, as JSON
inline constexpr std::uint8_t kLoadTransactionType = 0x02;   // EP load (transit-purse.md section 2)

enum class LoadOrderState {
  kAuthorising,
  kDeclined,
  kPaid,
  kAuthorised,
  kLoaded,
  kCancelling,
  kRefunded
};
// "authorising", "declined", "paid", "authorised", "loaded", "cancelling", "refunded".
std::string_view LoadOrderStateName(LoadOrderState state);

struct LoadOrder {
  std::string order_id;
  std::string card_serial;
  std::uint32_t amount_fen = 0;
  LoadOrderState state = LoadOrderState::kAuthorising;
  std::string payment_ref;     // empty until authorised
  std::string decline_reason;  // "declined" only
  // The card's online counter this order loads at (from its first INITIALIZE FOR LOAD).
  std::optional<std::uint16_t> online_counter;
  // The latest MAC2 attempt, or the one the card used once loaded.
  std::optional<std::uint32_t> balance_before_fen;
  std::optional<std::string> card_time_local;    // YYYYMMDDhhmmss sent with the MAC2
  std::optional<std::uint32_t> new_balance_fen;  // "loaded" only
  std::string tac;          // hex; "loaded" through ConfirmLoad only (a log record has none)
  bool captured = false;    // "loaded": the payment was captured (false: capture pending)
  std::string review_note;  // set by ReconcileFromCardLog when a human must look
  std::int64_t created_unix_ms = 0;
  std::int64_t updated_unix_ms = 0;
};

// AuthorizeLoad's answer: the data of CREDIT FOR LOAD (80 52 00 00 0B date | time | MAC2).
struct LoadAuthorization {
  BcdDate date{};
  BcdTime time{};
  crypto::PurseMac mac2{};
  TerminalId terminal_id{};  // the load terminal the wallet must have used in INITIALIZE FOR LOAD
};

// One confirmed load, as clearing needs it for balance continuity.
struct ConfirmedLoad {
  std::string order_id;
  std::uint16_t online_counter = 0;
  std::uint32_t amount_fen = 0;
  std::uint32_t new_balance_fen = 0;
  std::string local_time;  // YYYYMMDDhhmmss, China Standard Time
};

struct ReconcileReport {
  std::vector<std::string> loaded;  // authorised (or cancelling) orders found in the log
  std::vector<std::string>
      needs_review;                    // authorised orders the card's counter passed without them
  std::vector<std::string> anomalies;  // refunded orders that the log shows loaded
};

struct LoadServerOptions {
  std::shared_ptr<const CityNetwork> city;
  crypto::SecretBytes load_master_key;     // DLK master, 16 bytes
  crypto::SecretBytes tac_master_key;      // DTK master, 16 bytes
  TerminalId terminal_id{};                // this load server's terminal id in MAC1/MAC2/TAC
  TopUpPayment* payment = nullptr;         // not owned; must outlive the server
  const CardRegistry* registry = nullptr;  // not owned; the city's cards
  const Clock* clock = nullptr;            // default: SystemClock::Instance()
  std::unique_ptr<store::Store> store;     // the operator store (OpenOperatorStore); owned
};

class LoadServer {
 public:
  // Applies the operator schema. Errors (kInvalidArgument): no city, payment, registry or store; a
  // registry of another city; master keys not 16 bytes; store errors.
  static Result<std::unique_ptr<LoadServer>> Open(LoadServerOptions options);

  // A top-up order of `amount_fen` for an active card of this city, paid with `payment_data`
  // (TopUpPayment::Authorize). Idempotent by order_id: the same card, amount and payment data
  // return the stored order without a second Authorize (an order left "authorising" by a lost
  // answer or a crash calls Authorize again under the same order id).
  // Errors: kInvalidArgument (order id not 1-64 of [A-Za-z0-9._:-], bad serial, payment data too
  // large); kOutOfRange (amount outside the city's top_up_min/max); kNotFound (unknown card);
  // kFailedPrecondition (card not active; payment declined, then and on every retry);
  // kAlreadyExists (the order id with another body); kUnavailable (payment network: retry);
  // store errors.
  Result<LoadOrder> CreateOrder(std::string_view order_id, std::string_view card_serial,
                                std::uint32_t amount_fen, const nlohmann::json& payment_data);

  // The wallet sent INITIALIZE FOR LOAD (80 50 00 02 0B 01 | order amount | terminal_id) and
  // forwards the card's 16-byte answer: balance (4) | online counter (2) | key version (1) |
  // algorithm id (1) | card random (4) | MAC1 (4). Verifies MAC1 over balance | order amount | 02 |
  // terminal id with the card's load session key, checks the balance cap, and answers the MAC2
  // over amount | 02 | terminal id | date | time (now, China time).
  // Errors: kInvalidArgument (not 16 bytes; another algorithm or key version than the city's; an
  // online counter below the order's); kCryptoFailure (MAC1 does not verify: a wrong card, amount
  // or terminal id); kFailedPrecondition (the order is not paid or authorised; the balance would
  // pass the cap; the counter is at its maximum; the card's counter is past the order's: the load
  // may have happened, so ConfirmLoad or ReconcileFromCardLog); kOutOfRange
  // (kLoadAttemptsPerOrderMax MAC2s issued already); kNotFound (unknown order); store errors.
  Result<LoadAuthorization> AuthorizeLoad(std::string_view order_id, ByteView init_for_load_answer);

  // The card answered CREDIT FOR LOAD with `tac`: verifies it over new balance | online counter
  // (before its increment) | amount | 02 | terminal id | date | time with the card's DTK, marks the
  // order "loaded" and captures the payment. A capture the network cannot take now leaves the order
  // loaded with captured = false (RetryPendingCaptures). Idempotent: the same TAC again returns the
  // order. Errors: kInvalidArgument (not 4 bytes); kCryptoFailure (no issued MAC2 matches the TAC);
  // kFailedPrecondition (neither authorised nor cancelling, or loaded with another TAC); kNotFound;
  // store errors.
  Result<LoadOrder> ConfirmLoad(std::string_view order_id, ByteView tac);

  // The wallet read the card's log (SFI 18, READ RECORD 1..10). An authorised order whose counter,
  // amount, type 02, terminal id and card time match a load record is "loaded" and captured (a
  // cancelling one too: the reversal is dropped); an authorised order whose counter the card has
  // passed (below the highest load counter in the log + 1) without such a record is reported for a
  // human, and so is a refunded order that the log shows loaded.
  // Errors: kInvalidArgument (bad serial); store errors (payment errors leave capture pending).
  Result<ReconcileReport> ReconcileFromCardLog(std::string_view card_serial,
                                               const std::vector<PurseLogRecord>& log);

  // Gives up an order: "paid" -> reversed -> "refunded"; "authorised" -> the same when the card's
  // online counter (read by a fresh INITIALIZE FOR LOAD, which also ends any session the order's
  // MAC2 could complete) is still the order's. Idempotent ("refunded" returns the order).
  // Errors: kFailedPrecondition (loaded; authorising; declined; the counter advanced: "reconcile
  // from the card log first"); kInvalidArgument (a counter below the order's); kNotFound;
  // kUnavailable (the reversal: the order stays "cancelling", retry); store errors.
  Result<LoadOrder> CancelOrder(std::string_view order_id, std::uint16_t card_online_counter_now);

  // Captures every loaded order whose capture is pending. Returns how many are still pending.
  Result<std::size_t> RetryPendingCaptures();

  // Errors: kNotFound; store errors.
  Result<LoadOrder> Order(std::string_view order_id) const;
  // The card's orders, oldest first. Errors: store errors.
  Result<std::vector<LoadOrder>> OrdersForCard(std::string_view card_serial) const;
  // The card's loaded orders, by online counter. Errors: store errors.
  Result<std::vector<ConfirmedLoad>> ConfirmedLoads(std::string_view card_serial) const;

  const TerminalId& terminal_id() const { return options_.terminal_id; }

 private:
  struct Attempt;
  LoadServer(LoadServerOptions options, const Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  Result<LoadOrder> LoadOrderLocked(std::string_view order_id) const;
  Result<std::vector<Attempt>> AttemptsLocked(std::string_view order_id) const;
  Status SetState(std::string_view order_id, LoadOrderState state);
  // Marks the order loaded with `attempt` (and `tac` when known), then captures.
  Status MarkLoaded(const LoadOrder& order, std::int64_t attempt, ByteView tac);
  Status CaptureLocked(const LoadOrder& order);
  Result<LoadOrder> ReverseLocked(const LoadOrder& order);

  mutable std::mutex mu_;
  LoadServerOptions options_;
  const Clock& clock_;
};

}  // namespace tapstack::transit
