// NetworkTopUpPayment: the transit operator's TopUpPayment (transit/top_up_payment.h) through the
// card network: the operator is a merchant with its own acquirer terminal (acquirer::PosTerminal),
// and the wallet pays each top-up order with an in-app token payment (acquirer/in_app_payment.h).
//
//   NewUnpredictableNumber(order)  the operator's app gives the wallet a fresh 9F37 for the order
//                                  (crypto::Csprng); the wallet's cryptogram covers it
//   Authorize(order, fen, data)    checks the payment data against the order (amount, CNY, that
//                                  number: nothing is sent otherwise), sends the 0100 (DE22 "092",
//                                  DE55, DE48 DI/TR) and waits for the answer; the reference is
//                                  the 0100's STAN (DE11)
//   Capture(ref)                   0220 completion of the authorised amount (PosTerminal::Complete)
//   Reverse(ref)                   0400 reversal of the approved 0100
//                                  (PosTerminal::ReverseAuthorization): the issuer releases the
//                                  hold
//   CardOnFile(ref)                "<token>:<YYMM>": the device token that paid and its expiry
//                                  (a token, never a PAN), for the operator to keep
//   Refund(id, card, fen)          Credit(id, token, expiry, fen): a refund to that token
//   Credit(id, token, expiry, fen) 0200 with DE3 "200000" (acquirer/pos_terminal.h
//                                  kProcessingRefund), card not present. Approved: the
//                                  reference "<DE41>:<STAN>"; DE39 "91" (issuer unavailable: the
//                                  switch reverses a forwarded credit it got no answer for) or
//                                  "96", or no answer (the terminal reverses it) → kUnavailable
//                                  (retry with the same id); any other DE39 → kFailedPrecondition
//                                  naming it
//
// Replay: a payment is accepted only for the order whose unpredictable number it carries, so a
// payment made for one order cannot pay another (refused here, before anything is sent); the same
// DE55 sent twice is refused by the TSP's ATC window anyway.
//
// Idempotency: Authorize again for an order that is paid, with the same payment data and amount,
// returns the same reference without a message (the load server retries an order left
// "authorising"); for an order whose payment data was declined it returns the same decline
// without a message (the cryptogram is spent). Capture or Reverse twice: OK without a second
// message. Capture after Reverse, or Reverse after Capture: kFailedPrecondition. Credit (and
// Refund) of an id already approved returns the first reference without a message (in memory:
// after a restart the caller's own durable state says what was done).
//
// Limits: at most orders_max orders are remembered; when full, the oldest finished ones (no
// payment, declined, captured or reversed) are forgotten, and NewUnpredictableNumber answers
// kOutOfRange when every remembered order still has an open authorisation.
//
// Durability: the orders, like the terminal's open authorisations, live in memory. The load
// server owns the durable order state; after a restart Capture and Reverse of an older reference
// answer kNotFound and the issuer's hold runs out by itself (issuer hold timeout).
//
// Thread-safety: every call may be made from many threads; calls block until the network answers
// (the link's timeout bounds the wait). No lock is held while waiting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "acquirer/pos_terminal.h"
#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "link/message_handler.h"
#include "transit/top_up_payment.h"

namespace tapstack::server {

// The operator's merchant data (tapstack's choices; a real operator gets them from its acquirer).
// MCC 4111: local and suburban commuter passenger transportation (ISO 18245).
inline constexpr std::string_view kTransitTopUpMcc = "4111";
inline constexpr std::string_view kTransitTopUpTerminalId = "TRTOPUP1";         // DE41, 8
inline constexpr std::string_view kTransitTopUpMerchantId = "TRANSITTOPUP001";  // DE42, 15
// Top-up orders remembered at once (as many as the terminal keeps open authorisations).
inline constexpr std::size_t kTopUpOrdersMax = 10'000;
inline constexpr std::size_t kTopUpOrderIdBytesMax = 64;

// The terminal of a city operator's top-up merchant: kTransitTopUpTerminalId,
// kTransitTopUpMerchantId, DE43 "Transit card top-up <city>", MCC 4111, country 156 (China),
// DE32 `acquirer_id`.
acquirer::TerminalConfig TransitTopUpTerminalConfig(std::string acquirer_id, std::string_view city);

struct NetworkTopUpPaymentOptions {
  acquirer::TerminalConfig terminal;    // e.g. TransitTopUpTerminalConfig(...)
  link::RequestSender* link = nullptr;  // to the switch; required; must outlive this
  const Clock* clock = nullptr;         // default: SystemClock::Instance()
  RandomSource* random = nullptr;       // unpredictable numbers (and the first STAN when
                                        // terminal.stan_start is 0); default: crypto::Csprng
  std::size_t orders_max = kTopUpOrdersMax;
};

class NetworkTopUpPayment final : public transit::TopUpPayment {
 public:
  // Errors (kInvalidArgument, naming the option): no link; terminal id not 8 characters, merchant
  // id not 15, MCC not 4 digits, acquirer id not 1-11 digits, empty name; orders_max 0.
  static Result<std::unique_ptr<NetworkTopUpPayment>> Create(NetworkTopUpPaymentOptions options);
  ~NetworkTopUpPayment() override;

  // The unpredictable number (8 hex digits) the wallet must put in the cryptogram for
  // `order_id`: fresh for a new order, the same one when asked again. Errors: kInvalidArgument
  // (order id not 1-64 of [A-Za-z0-9._:-]); kOutOfRange (orders_max orders open); the random
  // source's.
  Result<std::string> NewUnpredictableNumber(std::string_view order_id);
  // transit::TopUpPayment: {"order_id", "merchant_name" (DE43), "amount_fen", "currency": "CNY",
  // "unpredictable_number"} with NewUnpredictableNumber(order_id). Errors: as that call.
  Result<nlohmann::json> PaymentRequest(std::string_view order_id, std::uint32_t amount_fen) override;

  // transit::TopUpPayment (see the top of this file). Authorize errors: kInvalidArgument (bad
  // order id, zero amount, payment data not made for this order: InAppPurchaseFromJson's
  // message); kFailedPrecondition (no number was issued for the order; a decline, naming DE39 and
  // DE44; the order's payment was reversed); kAlreadyExists (the order is already paid with
  // another cryptogram); kUnavailable (no answer: the terminal reversed the 0100; or an
  // authorisation of the order is in flight).
  Result<std::string> Authorize(std::string_view order_id, std::uint32_t amount_fen,
                                const nlohmann::json& payment_data) override;
  // Errors: kNotFound (unknown reference); kFailedPrecondition (reversed; the network refused the
  // 0220, naming DE39; the terminal no longer holds the authorisation); kUnavailable (no
  // acknowledgement, or a capture or reversal of it in flight: retry).
  Status Capture(std::string_view payment_ref) override;
  // Errors: kNotFound; kFailedPrecondition (captured; the network refused the 0400, naming DE39;
  // the terminal no longer holds the authorisation); kUnavailable (as Capture).
  Status Reverse(std::string_view payment_ref) override;
  // Errors: kNotFound (unknown reference, e.g. after a restart).
  Result<std::string> CardOnFile(std::string_view payment_ref) override;
  // Errors: kInvalidArgument (card_on_file not "<token>:<YYMM>"), and Credit's.
  Result<std::string> Refund(std::string_view refund_id, std::string_view card_on_file,
                             std::uint32_t amount_fen) override;
  // A credit of `amount_fen` (CNY) to `token` (see the top of this file). Errors:
  // kInvalidArgument (credit id not 1-64 of [A-Za-z0-9._:-], token not 13-19 digits, expiry not
  // YYMM, zero amount); kFailedPrecondition (refused, naming DE39); kUnavailable (retry with the
  // same id: nothing stays credited).
  Result<std::string> Credit(std::string_view credit_id, std::string_view token,
                             std::string_view token_expiry, std::uint32_t amount_fen);

  acquirer::PosTerminal& terminal() { return *terminal_; }
  const acquirer::TerminalConfig& terminal_config() const { return options_.terminal; }

 private:
  enum class PaymentState { kAuthorised, kCapturing, kCaptured, kReversing, kReversed };
  struct Payment {
    std::string order_id;
    std::int64_t amount_fen = 0;
    PaymentState state = PaymentState::kAuthorised;
    std::string card_on_file;  // "<token>:<YYMM>"
  };
  struct Order {
    std::string unpredictable_number;  // 8 hex digits
    std::string icc_data;              // DE55 of the last 0100 sent for the order
    std::string payment_ref;           // set once approved
    std::string decline;               // the decline of icc_data, when it was declined
    bool in_flight = false;
  };

  explicit NetworkTopUpPayment(NetworkTopUpPaymentOptions options);
  // Forgets the oldest finished orders until one more fits. Requires mu_.
  bool MakeRoomLocked();
  bool FinishedLocked(const Order& order) const;
  // Capture (capture = true) or Reverse.
  Status Settle(std::string_view payment_ref, bool capture);

  NetworkTopUpPaymentOptions options_;
  std::unique_ptr<RandomSource> own_random_;  // when options_.random was not given
  std::unique_ptr<acquirer::PosTerminal> terminal_;
  std::mutex mu_;
  std::map<std::string, Order, std::less<>> orders_;
  std::deque<std::string> order_sequence_;                // order ids, oldest first
  std::map<std::string, Payment, std::less<>> payments_;  // by payment reference (STAN)
  std::map<std::string, std::string, std::less<>> credits_;  // approved credits' references by id
};

}  // namespace tapstack::server
