// TopUpPayment: how a transit operator is paid for a card top-up (or an opening fee) with the
// user's bound bank card: an authorisation through the card network that is captured when the
// card is loaded and reversed when the load cannot complete (shared/design/domain/transit-purse.md
// section 11: "paid but not written ... refund the payment"). The operator's load server owns the
// order state; an implementation owns the network messages (an in-app token payment through the
// operator's acquirer: 0100, then 0220 to capture or 0400 to reverse).
//
// Implementations must be idempotent per payment_ref (a second Capture or Reverse of the same
// payment answers OK without a second message) and thread-safe.
#pragma once

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
};

inline Result<nlohmann::json> TopUpPayment::PaymentRequest(std::string_view order_id,
                                                           std::uint32_t amount_fen) {
  return nlohmann::json{{"order_id", order_id}, {"amount_fen", amount_fen}, {"currency", "CNY"}};
}

}  // namespace tapstack::transit
