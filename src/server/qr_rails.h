// The card network as a wallet payment platform (qrpay/) sees it: the network's exchange rates
// (FxRateSource) and card payments and credits through an acquirer terminal per merchant
// (NetworkCardRail). The platform only knows the qrpay interfaces; this is where they meet the
// ISO 8583 rail.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/random_source.h"
#include "link/message_handler.h"
#include "network/fx.h"
#include "qrpay/card_rail.h"
#include "qrpay/rate_source.h"
#include "server/network_top_up_payment.h"

namespace tapstack::server {

// qrpay::RateSource over the network's rate table (network/fx.h: exact decimal rates, markup in
// basis points, half-up rounding to the target's minor unit). Thread-safe.
class FxRateSource final : public qrpay::RateSource {
 public:
  explicit FxRateSource(network::FxTable fx) : fx_(std::move(fx)) {}
  Result<qrpay::FxConversion> Convert(const Amount& amount, const Currency& to,
                                      std::int64_t markup_bps) const override;

 private:
  network::FxTable fx_;
};

struct NetworkCardRailOptions {
  link::RequestSender* link = nullptr;  // to the switch; required; must outlive the rail
  std::string acquirer_id;              // DE32 of every terminal (the platform's acquirer)
  const Clock* clock = nullptr;         // default: the system clock
  RandomSource* random = nullptr;       // unpredictable numbers; default: crypto::Csprng
};

// qrpay::CardRail through the card network. Each merchant gets its own acquirer terminal
// (NetworkTopUpPayment: the in-app token payment of one order, authorised then completed):
// DE41 "QR" + 6 digits in order of first use, DE42 the merchant id (its first 15 characters,
// padded), DE43 the merchant's name and city, its MCC and country. Charges are in CNY (the
// terminal's orders are fen); a credit is a 0200 with DE3 "200000" to the token
// (acquirer/pos_terminal.h kProcessingRefund).
// Credit is the merchant terminal's NetworkTopUpPayment::Credit: approved → the reference; "91",
// "96" or no answer → kUnavailable (keep the hold, retry with the same credit id); another DE39 →
// kFailedPrecondition naming it.
// Idempotency: Charge of an order already charged returns the first CardCharge; Credit of a
// credit id already approved returns the first reference (kept in memory: after a restart the
// platform's own journal says what was done). Thread-safety: thread-safe; calls block on the network.
class NetworkCardRail final : public qrpay::CardRail {
 public:
  // Errors: kInvalidArgument (no link; acquirer id not 1-11 digits).
  static Result<std::unique_ptr<NetworkCardRail>> Create(NetworkCardRailOptions options);

  Result<qrpay::CardPaymentRequest> PaymentRequest(const qrpay::CardOrder& order) override;
  Result<qrpay::CardCharge> Charge(const qrpay::CardOrder& order,
                                   const nlohmann::json& payment_data) override;
  Result<std::string> Credit(const qrpay::CardCredit& credit) override;

 private:
  explicit NetworkCardRail(NetworkCardRailOptions options) : options_(std::move(options)) {}
  // The merchant's terminal, created on first use. Errors: Create's.
  Result<NetworkTopUpPayment*> TerminalFor(const qrpay::CardMerchant& merchant);

  NetworkCardRailOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<NetworkTopUpPayment>> terminals_;  // by merchant id
  std::map<std::string, qrpay::CardCharge> charges_;                     // by order id
};

}  // namespace tapstack::server
