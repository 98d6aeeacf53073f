// TopUpPayment: how a transit operator is paid for a card top-up (or an opening fee) with the
// user's bound bank card: an authorisation through the card network that is captured when the
// card is loaded and reversed when the load cannot complete (shared/design/domain/transit-purse.md
// section 11: "paid but not written ... refund the payment"). The operator's load server owns the
// order state; an implementation owns the network messages (an in-app token payment through the
// operator's acquirer: 0100, then 0220 to capture or 0400 to reverse).
//
// Refunds (a deleted card's balance and deposit) are credits to the bank card that paid: the
// operator keeps the card as CardOnFile gave it and later calls Refund.
//
// Implementations must be idempotent per payment_ref (a second Capture or Reverse of the same
// payment answers OK without a second message) and per refund_id while the process lives (the
// registry keeps the durable state of a refund), and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace tapstack::transit {

class TopUpPayment {
 public:
  virtual ~TopUpPayment() = default;

  // What the wallet needs before it pays `order_id` in-app: {"merchant_name", "amount_fen",
  // "currency": "CNY", "unpredictable_number": 8 hex digits the phone's cryptogram must carry, so a
  // cryptogram made for one order cannot pay another}. The same order gets the same answer.
  // Default (payments that need no challenge): the amount and currency only.
  virtual Result<nlohmann::json> PaymentRequest(std::string_view order_id, std::uint32_t amount_fen);

  // Authorises `amount_fen` (CNY) for `order_id` with the wallet's in-app payment data (opaque to
  // the operator). Returns the payment reference to capture or reverse later.
  // Errors: kFailedPrecondition for a decline (the message names the response code);
  // kInvalidArgument for unusable payment data; kUnavailable when the network cannot be reached
  // (nothing is held: the implementation reverses an authorisation whose answer it lost).
  virtual Result<std::string> Authorize(std::string_view order_id, std::uint32_t amount_fen,
                                        const nlohmann::json& payment_data) = 0;
  // Captures the authorised amount (the card was loaded). Errors: kNotFound (unknown reference),
  // kUnavailable (retry later).
  virtual Status Capture(std::string_view payment_ref) = 0;
  // Releases the authorisation (the load will not happen). Errors: kNotFound, kFailedPrecondition
  // (already captured), kUnavailable (retry later).
  virtual Status Reverse(std::string_view payment_ref) = 0;

  // The card that paid `payment_ref`, in a form the operator may keep to refund it later: an
  // opaque string of at most kCardOnFileBytesMax bytes (NetworkTopUpPayment: the device token and
  // its expiry; never a PAN). Errors: kNotFound (unknown reference); kFailedPrecondition (the
  // default: the implementation cannot refund).
  virtual Result<std::string> CardOnFile(std::string_view payment_ref);
  // Credits `amount_fen` (CNY) to `card_on_file` (as CardOnFile gave it): a refund, sent as a
  // credit to the card (0200 with DE3 "20"). Returns the credit's reference. The same refund_id
  // again returns the same reference without a message.
  // Errors: kInvalidArgument (card_on_file not from CardOnFile, zero amount); kFailedPrecondition
  // (refused, naming DE39; the default: cannot refund); kUnavailable (no answer, or an answer that leaves the outcome unknown:
  // nothing stays credited, the network and the terminal reverse it; retry with the same
  // refund_id).
  virtual Result<std::string> Refund(std::string_view refund_id, std::string_view card_on_file,
                                     std::uint32_t amount_fen);
};

inline constexpr std::size_t kCardOnFileBytesMax = 64;

inline Result<nlohmann::json> TopUpPayment::PaymentRequest(std::string_view order_id,
                                                           std::uint32_t amount_fen) {
  return nlohmann::json{{"order_id", order_id}, {"amount_fen", amount_fen}, {"currency", "CNY"}};
}

inline Result<std::string> TopUpPayment::CardOnFile(std::string_view payment_ref) {
  return FailedPrecondition("payment " + std::string(payment_ref) + ": this payment cannot be refunded");
}

inline Result<std::string> TopUpPayment::Refund(std::string_view refund_id, std::string_view,
                                                std::uint32_t) {
  return FailedPrecondition("refund " + std::string(refund_id) + ": this payment cannot be refunded");
}

}  // namespace tapstack::transit
