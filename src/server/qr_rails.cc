#include "server/qr_rails.h"

#include <future>
#include <nlohmann/json.hpp>

#include "core/hex.h"
#include "crypto/csprng.h"

namespace tapstack::server {
namespace {

constexpr std::size_t kTerminalMerchantIdChars = 15;  // DE42
constexpr std::size_t kAcquirerIdDigitsMax = 11;      // DE32 n..11

std::string PadTo(std::string text, std::size_t width) {
  text.resize(width, ' ');
  return text;
}

Result<std::uint32_t> FenOf(const Amount& amount) {
  if (!(amount.currency() == Cny())) {
    return InvalidArgument("amount: the card rail charges in CNY only, got " +
                           std::string(amount.currency().alpha));
  }
  if (amount.minor_units() <= 0 || amount.minor_units() > UINT32_MAX) {
    return InvalidArgument("amount: expected 1-" + std::to_string(UINT32_MAX) + " fen, got " +
                           std::to_string(amount.minor_units()));
  }
  return static_cast<std::uint32_t>(amount.minor_units());
}

}  // namespace

Result<qrpay::FxConversion> FxRateSource::Convert(const Amount& amount, const Currency& to,
                                                  std::int64_t markup_bps) const {
  TS_ASSIGN_OR_RETURN(network::Conversion c, fx_.Convert(amount, to, markup_bps));
  qrpay::FxConversion out;
  out.from = amount;
  out.to = c.billing;
  out.rate_mantissa = c.rate.mantissa;
  out.rate_scale = c.rate.scale;
  out.markup_bps = c.markup_bps;
  out.source = c.rate.source;
  out.business_date = c.rate.business_date;
  return out;
}

Result<std::unique_ptr<NetworkCardRail>> NetworkCardRail::Create(NetworkCardRailOptions options) {
  if (options.link == nullptr) return InvalidArgument("options.link: required");
  if (options.acquirer_id.empty() || options.acquirer_id.size() > kAcquirerIdDigitsMax ||
      !IsAllDigits(options.acquirer_id)) {
    return InvalidArgument("options.acquirer_id: expected 1-11 digits");
  }
  return std::unique_ptr<NetworkCardRail>(new NetworkCardRail(std::move(options)));
}

Result<NetworkTopUpPayment*> NetworkCardRail::TerminalFor(const qrpay::CardMerchant& merchant) {
  std::lock_guard lock(mu_);
  if (auto it = terminals_.find(merchant.merchant_id); it != terminals_.end()) return it->second.get();
  auto country = CountryByAlpha2(merchant.country);
  if (!country.ok()) return InvalidArgument("merchant.country: " + country.status().message());
  NetworkTopUpPaymentOptions options;
  options.terminal.terminal_id = "QR" + std::string(6 - std::to_string(terminals_.size() + 1).size(), '0') +
                                 std::to_string(terminals_.size() + 1);
  options.terminal.merchant_id = PadTo(merchant.merchant_id.substr(0, kTerminalMerchantIdChars),
                                       kTerminalMerchantIdChars);
  options.terminal.name_location = merchant.name + " " + merchant.city;
  options.terminal.mcc = merchant.mcc;
  options.terminal.country_numeric = (*country)->numeric;
  options.terminal.acquirer_id = options_.acquirer_id;
  options.link = options_.link;
  options.clock = options_.clock;
  options.random = options_.random;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<NetworkTopUpPayment> terminal,
                      NetworkTopUpPayment::Create(std::move(options)));
  NetworkTopUpPayment* raw = terminal.get();
  terminals_.emplace(merchant.merchant_id, std::move(terminal));
  return raw;
}

Result<qrpay::CardPaymentRequest> NetworkCardRail::PaymentRequest(const qrpay::CardOrder& order) {
  TS_RETURN_IF_ERROR(FenOf(order.amount).status());
  TS_ASSIGN_OR_RETURN(NetworkTopUpPayment * terminal, TerminalFor(order.merchant));
  TS_ASSIGN_OR_RETURN(std::string number, terminal->NewUnpredictableNumber(order.order_id));
  qrpay::CardPaymentRequest request;
  request.order_id = order.order_id;
  request.merchant_name = terminal->terminal_config().name_location;
  request.merchant_country_numeric = terminal->terminal_config().country_numeric;
  request.amount = order.amount;
  request.unpredictable_number = number;
  return request;
}

Result<qrpay::CardCharge> NetworkCardRail::Charge(const qrpay::CardOrder& order,
                                                  const nlohmann::json& payment_data) {
  {
    std::lock_guard lock(mu_);
    if (auto it = charges_.find(order.order_id); it != charges_.end()) return it->second;
  }
  TS_ASSIGN_OR_RETURN(std::uint32_t fen, FenOf(order.amount));
  TS_ASSIGN_OR_RETURN(NetworkTopUpPayment * terminal, TerminalFor(order.merchant));
  TS_ASSIGN_OR_RETURN(std::string reference, terminal->Authorize(order.order_id, fen, payment_data));
  if (Status captured = terminal->Capture(reference); !captured.ok()) {
    // Not completed: release the hold rather than leave money neither charged nor free.
    (void)terminal->Reverse(reference);
    return captured;
  }
  qrpay::CardCharge charge;
  charge.reference = terminal->terminal_config().terminal_id + ":" + reference;
  // Authorize accepted the payment data, so these members are present and well formed.
  charge.token = payment_data.value("token", "");
  charge.token_expiry = payment_data.value("token_expiry", "");
  charge.token_last4 = charge.token.size() >= 4 ? charge.token.substr(charge.token.size() - 4) : "";
  std::lock_guard lock(mu_);
  return charges_.emplace(order.order_id, charge).first->second;
}

Result<std::string> NetworkCardRail::Credit(const qrpay::CardCredit& credit) {
  TS_ASSIGN_OR_RETURN(std::uint32_t fen, FenOf(credit.amount));
  TS_ASSIGN_OR_RETURN(NetworkTopUpPayment * terminal, TerminalFor(credit.merchant));
  return terminal->Credit(credit.credit_id, credit.token, credit.token_expiry, fen);
}

}  // namespace tapstack::server
