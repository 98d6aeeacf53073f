// CardRail: how a wallet platform moves money between a bound card and itself over the card
// network (implemented in server/ over an acquirer terminal per merchant and the ISO 8583 link to
// the switch; tests use a fake). The platform never sees a PAN: cards are device tokens, and a
// charge carries the cryptogram the phone's secure element made for that one order
// (acquirer/in_app_payment.h).
//
//   PaymentRequest(order)          what the wallet app needs to have its secure element pay the
//                                  order: the merchant's name and country, the amount and the
//                                  unpredictable number (9F37) the cryptogram must cover
//   Charge(order, payment_data)    authorises the order with the payment data (DE22 "092", DE55)
//                                  and completes it; an approval is final money for the merchant
//   Credit(credit)                 a credit to a card token (0200, DE3 "200000"): a withdrawal
//                                  from the wallet balance to the card, or a refund of a card
//                                  payment
//
// Idempotency: the same order id (or credit id) again returns the first outcome without a second
// message, so a platform that crashed between asking and recording can ask again.
// Thread-safety: implementations are thread-safe; calls block until the network answers.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/amount.h"
#include "core/status.h"

namespace tapstack::qrpay {

// The merchant side of a card payment: the platform itself for a top-up, the QR merchant for a
// QR payment funded by a card.
struct CardMerchant {
  std::string merchant_id;  // the platform's id for the merchant (the terminal is derived)
  std::string name;         // DE43 / the payment sheet; 1-25 characters
  std::string city;
  std::string country;      // ISO 3166-1 alpha-2
  std::string mcc;          // 4 digits
};

struct CardOrder {
  std::string order_id;  // unique per platform; [A-Za-z0-9._:-], 1-64
  CardMerchant merchant;
  Amount amount{Cny()};  // what the card is charged, in the merchant's currency
  std::string device_id;  // the device the token lives on (DE48 DI)
};

struct CardPaymentRequest {
  std::string order_id;
  std::string merchant_name;
  std::uint16_t merchant_country_numeric = 156;
  Amount amount{Cny()};
  std::string unpredictable_number;  // 8 hex digits
};

struct CardCharge {
  std::string reference;     // the rail's reference (e.g. "<terminal>:<STAN>")
  std::string token_last4;   // of the token that paid (never a PAN)
  std::string token;         // the token number (a device token, not a PAN): kept to credit it
  std::string token_expiry;  // YYMM
};

struct CardCredit {
  std::string credit_id;     // unique per platform; [A-Za-z0-9._:-], 1-64
  std::string token;         // the device token to credit
  std::string token_expiry;  // YYMM
  Amount amount{Cny()};
  CardMerchant merchant;     // who credits (the platform for a withdrawal)
};

class CardRail {
 public:
  virtual ~CardRail() = default;
  // Errors: kInvalidArgument (order id, amount not positive); kOutOfRange (too many open orders).
  virtual Result<CardPaymentRequest> PaymentRequest(const CardOrder& order) = 0;
  // Errors: kInvalidArgument (payment data not made for this order, naming the member);
  // kFailedPrecondition (declined: the message names DE39, e.g. "declined: DE39 51 insufficient
  // funds"; any other kFailedPrecondition, such as an order the rail does not know after a
  // restart, is not a decline: the outcome is for reconciliation); kUnavailable (no answer; the
  // rail reversed the authorisation, so nothing was charged: the caller may ask again under the
  // same order id, and a cryptogram already sent is then refused as a replay, so the app makes a
  // new one).
  virtual Result<CardCharge> Charge(const CardOrder& order, const nlohmann::json& payment_data) = 0;
  // Errors: kInvalidArgument; kFailedPrecondition (refused, naming DE39); kUnavailable (no answer;
  // retry with the same credit id).
  virtual Result<std::string> Credit(const CardCredit& credit) = 0;
};

}  // namespace tapstack::qrpay
