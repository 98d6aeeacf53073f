#include "server/network_top_up_payment.h"

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>
#include <utility>

#include "acquirer/in_app_payment.h"
#include "core/amount.h"
#include "core/hex.h"
#include "crypto/csprng.h"

namespace tapstack::server {

namespace {

constexpr std::size_t kTerminalIdChars = 8;       // DE41 ans8
constexpr std::size_t kMerchantIdChars = 15;      // DE42 ans15
constexpr std::size_t kAcquirerIdDigitsMax = 11;  // DE32 n..11
constexpr std::uint64_t kStanMax = 999'999;
constexpr std::size_t kTokenDigitsMin = 13;  // ISO/IEC 7812 card numbers, which tokens look like
constexpr std::size_t kTokenDigitsMax = 19;
// DE39 answers to a credit that mean "not decided" rather than "refused" (ISO 8583:1987).
constexpr std::string_view kIssuerUnavailableCode = "91";
constexpr std::string_view kSystemMalfunctionCode = "96";

bool IsOrderIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

Status CheckOrderId(std::string_view order_id) {
  if (order_id.empty() || order_id.size() > kTopUpOrderIdBytesMax ||
      !std::all_of(order_id.begin(), order_id.end(), IsOrderIdChar)) {
    return InvalidArgument("order id: expected 1-" + std::to_string(kTopUpOrderIdBytesMax) +
                           " of [A-Za-z0-9._:-]");
  }
  return Status::Ok();
}

// Runs an asynchronous terminal call and waits for its callback (on the link's thread).
template <typename T>
T Await(const std::function<void(std::function<void(T)>)>& call) {
  auto done = std::make_shared<std::promise<T>>();
  std::future<T> answer = done->get_future();
  call([done](T result) { done->set_value(std::move(result)); });
  return answer.get();
}

// "DE39 '51'" or "DE39 '14' (DE44 'token not resolved')".
std::string DescribeAnswer(const iso8583::Message& response) {
  std::string text = "DE39 '" + std::string(response.Get(39).value_or("")) + "'";
  if (const std::optional<std::string_view> why = response.Get(44)) {
    text += " (DE44 '" + std::string(*why) + "')";
  }
  return text;
}

}  // namespace

acquirer::TerminalConfig TransitTopUpTerminalConfig(std::string acquirer_id,
                                                    std::string_view city) {
  acquirer::TerminalConfig config;
  config.terminal_id = std::string(kTransitTopUpTerminalId);
  config.merchant_id = std::string(kTransitTopUpMerchantId);
  config.name_location = "Transit card top-up " + std::string(city);
  config.mcc = std::string(kTransitTopUpMcc);
  config.country_numeric = 156;
  config.acquirer_id = std::move(acquirer_id);
  return config;
}

Result<std::unique_ptr<NetworkTopUpPayment>> NetworkTopUpPayment::Create(
    NetworkTopUpPaymentOptions options) {
  const acquirer::TerminalConfig& t = options.terminal;
  if (options.link == nullptr) return InvalidArgument("options.link: required");
  if (t.terminal_id.size() != kTerminalIdChars) {
    return InvalidArgument("options.terminal.terminal_id: expected 8 characters (DE41)");
  }
  if (t.merchant_id.size() != kMerchantIdChars) {
    return InvalidArgument("options.terminal.merchant_id: expected 15 characters (DE42)");
  }
  if (t.mcc.size() != 4 || !IsAllDigits(t.mcc)) {
    return InvalidArgument("options.terminal.mcc: expected 4 digits (DE18)");
  }
  if (t.acquirer_id.empty() || t.acquirer_id.size() > kAcquirerIdDigitsMax ||
      !IsAllDigits(t.acquirer_id)) {
    return InvalidArgument("options.terminal.acquirer_id: expected 1-11 digits (DE32)");
  }
  if (t.name_location.empty()) {
    return InvalidArgument("options.terminal.name_location: required (DE43)");
  }
  if (options.orders_max == 0) return InvalidArgument("options.orders_max: expected at least 1");
  std::unique_ptr<NetworkTopUpPayment> payment(new NetworkTopUpPayment(std::move(options)));
  if (payment->options_.random == nullptr) {
    payment->own_random_ = std::make_unique<crypto::Csprng>();
    payment->options_.random = payment->own_random_.get();
  }
  if (payment->options_.clock == nullptr) payment->options_.clock = &SystemClock::Instance();
  // A terminal that cannot keep its STAN counter across restarts starts at a random point, so a
  // restarted operator does not repeat (DE32, DE41, DE11, DE7) inside the network's duplicate
  // window (pos_terminal.h).
  if (payment->options_.terminal.stan_start == 0) {
    TS_ASSIGN_OR_RETURN(const std::uint64_t start, payment->options_.random->Uniform(kStanMax));
    payment->options_.terminal.stan_start = static_cast<std::uint32_t>(start);
  }
  payment->terminal_ = std::make_unique<acquirer::PosTerminal>(
      payment->options_.terminal, *payment->options_.link, *payment->options_.clock);
  return payment;
}

NetworkTopUpPayment::NetworkTopUpPayment(NetworkTopUpPaymentOptions options)
    : options_(std::move(options)) {}

NetworkTopUpPayment::~NetworkTopUpPayment() = default;

bool NetworkTopUpPayment::FinishedLocked(const Order& order) const {
  if (order.in_flight) return false;
  if (order.payment_ref.empty()) return true;  // never paid, declined or no answer
  const auto it = payments_.find(order.payment_ref);
  return it == payments_.end() || it->second.state == PaymentState::kCaptured ||
         it->second.state == PaymentState::kReversed;
}

bool NetworkTopUpPayment::MakeRoomLocked() {
  for (auto it = order_sequence_.begin();
       orders_.size() >= options_.orders_max && it != order_sequence_.end();) {
    const auto order = orders_.find(*it);
    if (order == orders_.end()) {
      it = order_sequence_.erase(it);
      continue;
    }
    if (!FinishedLocked(order->second)) {
      ++it;
      continue;
    }
    if (!order->second.payment_ref.empty()) payments_.erase(order->second.payment_ref);
    orders_.erase(order);
    it = order_sequence_.erase(it);
  }
  return orders_.size() < options_.orders_max;
}

Result<std::string> NetworkTopUpPayment::NewUnpredictableNumber(std::string_view order_id) {
  TS_RETURN_IF_ERROR(CheckOrderId(order_id));
  std::lock_guard lock(mu_);
  if (const auto it = orders_.find(order_id); it != orders_.end()) {
    return it->second.unpredictable_number;
  }
  if (!MakeRoomLocked()) {
    return OutOfRange("top-up orders: " + std::to_string(options_.orders_max) +
                      " are open (authorised, not yet captured or reversed)");
  }
  TS_ASSIGN_OR_RETURN(std::string number, acquirer::NewInAppUnpredictableNumber(*options_.random));
  Order order;
  order.unpredictable_number = number;
  orders_.emplace(std::string(order_id), std::move(order));
  order_sequence_.emplace_back(order_id);
  return number;
}

Result<nlohmann::json> NetworkTopUpPayment::PaymentRequest(std::string_view order_id,
                                                           std::uint32_t amount_fen) {
  TS_ASSIGN_OR_RETURN(std::string number, NewUnpredictableNumber(order_id));
  return nlohmann::json{{"order_id", order_id},
                        {"merchant_name", options_.terminal.name_location},
                        {"amount_fen", amount_fen},
                        {"currency", "CNY"},
                        {"unpredictable_number", number}};
}

Result<std::string> NetworkTopUpPayment::Authorize(std::string_view order_id,
                                                   std::uint32_t amount_fen,
                                                   const nlohmann::json& payment_data) {
  TS_RETURN_IF_ERROR(CheckOrderId(order_id));
  const std::string what = "top-up order " + std::string(order_id);
  if (amount_fen == 0) return InvalidArgument(what + ": amount_fen must be more than 0");
  const Amount amount(static_cast<std::int64_t>(amount_fen), Cny());

  acquirer::Purchase purchase;
  {
    std::lock_guard lock(mu_);
    const auto it = orders_.find(order_id);
    if (it == orders_.end()) {
      return FailedPrecondition(what +
                                ": no unpredictable number was issued for it "
                                "(NewUnpredictableNumber first)");
    }
    Order& order = it->second;
    if (order.in_flight) return Unavailable(what + ": an authorisation is in flight; retry");
    Result<acquirer::Purchase> parsed =
        acquirer::InAppPurchaseFromJson(payment_data, amount, order.unpredictable_number);
    if (!parsed.ok()) return parsed.status().WithContext(what);
    purchase = std::move(*parsed);

    if (!order.payment_ref.empty()) {
      const auto paid = payments_.find(order.payment_ref);
      if (paid != payments_.end() && purchase.icc_data == order.icc_data &&
          paid->second.amount_fen == amount.minor_units()) {
        if (paid->second.state == PaymentState::kReversed ||
            paid->second.state == PaymentState::kReversing) {
          return FailedPrecondition(what + ": its payment " + order.payment_ref +
                                    " was reversed; a new order is needed");
        }
        return order.payment_ref;  // a retry of the approved authorisation
      }
      return AlreadyExists(what + ": already paid (payment " + order.payment_ref +
                           ") with other payment data or another amount");
    }
    if (!order.decline.empty() && purchase.icc_data == order.icc_data) {
      return FailedPrecondition(order.decline);  // the cryptogram was spent on the decline
    }
    order.in_flight = true;
    order.icc_data = purchase.icc_data;
    order.decline.clear();
  }

  const acquirer::PurchaseResult result =
      Await<acquirer::PurchaseResult>([&](std::function<void(acquirer::PurchaseResult)> done) {
        terminal_->Purchase(purchase, std::move(done));
      });

  std::lock_guard lock(mu_);
  Order& order = orders_.find(order_id)->second;  // an order in flight is never forgotten
  order.in_flight = false;
  if (!result.response.ok()) {
    return Unavailable(what + ": no answer to the 0100 (STAN " + result.stan +
                       "), reversed by the terminal: " + result.response.status().message());
  }
  if (!result.approved()) {
    order.decline = what + ": payment declined, " + DescribeAnswer(*result.response);
    return FailedPrecondition(order.decline);
  }
  order.payment_ref = result.stan;
  payments_[result.stan] = Payment{std::string(order_id), amount.minor_units(),
                                   PaymentState::kAuthorised, purchase.pan + ":" + purchase.expiry};
  return result.stan;
}

Status NetworkTopUpPayment::Capture(std::string_view payment_ref) {
  return Settle(payment_ref, true);
}

Status NetworkTopUpPayment::Reverse(std::string_view payment_ref) {
  return Settle(payment_ref, false);
}

Status NetworkTopUpPayment::Settle(std::string_view payment_ref, bool capture) {
  const std::string what = "payment " + std::string(payment_ref);
  const std::string stan(payment_ref);
  std::int64_t amount_fen = 0;
  {
    std::lock_guard lock(mu_);
    const auto it = payments_.find(payment_ref);
    if (it == payments_.end()) return NotFound(what + ": unknown");
    Payment& payment = it->second;
    switch (payment.state) {
      case PaymentState::kCaptured:
        if (capture) return Status::Ok();
        return FailedPrecondition(what + " was captured; it cannot be reversed");
      case PaymentState::kReversed:
        if (!capture) return Status::Ok();
        return FailedPrecondition(what + " was reversed; it cannot be captured");
      case PaymentState::kCapturing:
      case PaymentState::kReversing:
        return Unavailable(what + ": a capture or reversal is in flight; retry");
      case PaymentState::kAuthorised:
        break;
    }
    payment.state = capture ? PaymentState::kCapturing : PaymentState::kReversing;
    amount_fen = payment.amount_fen;
  }

  const Result<iso8583::Message> answer =
      Await<Result<iso8583::Message>>([&](std::function<void(Result<iso8583::Message>)> done) {
        if (capture) {
          terminal_->Complete(stan, Amount(amount_fen, Cny()), std::move(done));
        } else {
          terminal_->ReverseAuthorization(stan, std::move(done));
        }
      });

  std::lock_guard lock(mu_);
  Payment& payment = payments_.find(payment_ref)->second;  // in flight: never forgotten
  const bool done = answer.ok() && answer->Get(39) == std::string_view("00");
  payment.state = done ? (capture ? PaymentState::kCaptured : PaymentState::kReversed)
                       : PaymentState::kAuthorised;
  if (done) return Status::Ok();
  const std::string step = capture ? "capture (0220)" : "reversal (0400)";
  if (answer.ok()) {
    return FailedPrecondition(what + ": " + step + " refused, " + DescribeAnswer(*answer));
  }
  if (answer.status().code() == ErrorCode::kNotFound) {
    return FailedPrecondition(what + ": " + step +
                              ": the terminal no longer holds the "
                              "authorisation (" +
                              answer.status().message() + ")");
  }
  return answer.status().WithContext(what + ": " + step);
}

Result<std::string> NetworkTopUpPayment::CardOnFile(std::string_view payment_ref) {
  std::lock_guard lock(mu_);
  const auto it = payments_.find(payment_ref);
  if (it == payments_.end()) return NotFound("payment " + std::string(payment_ref) + ": unknown");
  return it->second.card_on_file;
}

Result<std::string> NetworkTopUpPayment::Refund(std::string_view refund_id,
                                                std::string_view card_on_file,
                                                std::uint32_t amount_fen) {
  const std::size_t colon = card_on_file.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("refund " + std::string(refund_id) +
                           ": card on file: expected \"<token>:<YYMM>\"");
  }
  return Credit(refund_id, card_on_file.substr(0, colon), card_on_file.substr(colon + 1),
                amount_fen);
}

Result<std::string> NetworkTopUpPayment::Credit(std::string_view credit_id, std::string_view token,
                                                std::string_view token_expiry,
                                                std::uint32_t amount_fen) {
  TS_RETURN_IF_ERROR(CheckOrderId(credit_id).WithContext("credit"));
  const std::string what = "credit " + std::string(credit_id);
  if (token.size() < kTokenDigitsMin || token.size() > kTokenDigitsMax || !IsAllDigits(token)) {
    return InvalidArgument(what + ": token: expected 13-19 digits");
  }
  if (token_expiry.size() != 4 || !IsAllDigits(token_expiry)) {
    return InvalidArgument(what + ": token expiry: expected YYMM");
  }
  if (amount_fen == 0) return InvalidArgument(what + ": amount_fen must be more than 0");
  {
    std::lock_guard lock(mu_);
    if (auto it = credits_.find(credit_id); it != credits_.end()) return it->second;
  }
  acquirer::Purchase purchase;
  purchase.pan = std::string(token);
  purchase.expiry = std::string(token_expiry);
  purchase.amount = Amount(static_cast<std::int64_t>(amount_fen), Cny());
  purchase.entry = acquirer::EntryMode::kCardNotPresent;
  purchase.single_message = true;
  purchase.processing_code = std::string(acquirer::kProcessingRefund);
  const acquirer::PurchaseResult result =
      Await<acquirer::PurchaseResult>([&](std::function<void(acquirer::PurchaseResult)> done) {
        terminal_->Purchase(purchase, std::move(done));
      });
  if (!result.response.ok()) {
    return Unavailable(what + ": no answer from the network (" + result.response.status().message() +
                       "); the terminal reversed it; retry with the same credit id");
  }
  // "91" and "96" say the outcome is not known, not that the credit was refused: the network
  // reverses a credit it forwarded without an answer (network/switch.h), so a retry under the
  // same id (a new 0200) cannot credit twice.
  if (const std::string code = result.response_code();
      code == kIssuerUnavailableCode || code == kSystemMalfunctionCode) {
    return Unavailable(what + ": DE39 " + code + ", outcome unknown; retry with the same credit id");
  }
  if (!result.approved()) {
    return FailedPrecondition(what + " refused: " + DescribeAnswer(*result.response));
  }
  std::lock_guard lock(mu_);
  return credits_.emplace(std::string(credit_id), options_.terminal.terminal_id + ":" + result.stan)
      .first->second;
}

}  // namespace tapstack::server
