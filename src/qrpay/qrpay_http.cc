#include "qrpay/qrpay_http.h"

#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/bytes.h"
#include "json_api/json_api.h"
#include "qrpay/platform.h"

namespace tapstack::qrpay {

namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;
using json_api::ReplyError;
using json_api::ReplyJson;

// Card orders (tu-…, cp-…) and quote ids are the platform's; 64 bytes bounds them all.
constexpr std::size_t kPathIdBytesMax = 64;

// json_api's mapping, plus one case of the platform's: VerifyMerchantQr's "mac: the code was
// altered after it was issued" is the payer's input (the scanned code) to blame, not the server,
// so it is a 400 naming the payload. Any other crypto failure is OpenSSL's and stays internal.
void ReplyStatus(Response& res, const Status& s) {
  if (s.code() == ErrorCode::kCryptoFailure && json_api::FieldOf(s.message()) == "mac") {
    return json_api::ReplyError(res, 400, "crypto_failure", s.message(), "payload");
  }
  json_api::ReplyStatus(res, s);
}

#define QRPAY_OR_REPLY(lhs, expr)                              \
  auto TS_CONCAT_(qrpay_r_, __LINE__) = (expr);                \
  if (!TS_CONCAT_(qrpay_r_, __LINE__).ok()) {                  \
    ReplyStatus(res, TS_CONCAT_(qrpay_r_, __LINE__).status()); \
    return;                                                    \
  }                                                            \
  lhs = std::move(TS_CONCAT_(qrpay_r_, __LINE__)).value()

#define QRPAY_CHECK_OR_REPLY(expr)                          \
  if (const Status TS_CONCAT_(qrpay_s_, __LINE__) = (expr); \
      !TS_CONCAT_(qrpay_s_, __LINE__).ok()) {               \
    ReplyStatus(res, TS_CONCAT_(qrpay_s_, __LINE__));       \
    return;                                                 \
  }

// ---- Request bodies: every error names the member and what was expected. ----

Result<json> ParseBody(const Request& req, std::initializer_list<std::string_view> allowed) {
  return json_api::ParseBody(req, allowed, kQrpayRequestBodyBytesMax);
}

Result<std::string> String(const json& body, const char* name, bool required = true) {
  return json_api::StringMember(body, name, required);
}

// An integer that fits int64 (nlohmann keeps large positive numbers as uint64).
bool IsInt64(const json& value) {
  return value.is_number_integer() &&
         !(value.is_number_unsigned() &&
           value.get<std::uint64_t>() >
               static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
}

Result<std::int64_t> Integer(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end()) return InvalidArgument(std::string(name) + ": required");
  if (!IsInt64(*it)) {
    return InvalidArgument(std::string(name) + ": expected an integer");
  }
  return it->get<std::int64_t>();
}

// {"minor": integer > 0, "currency": ISO 4217 alpha}; nothing else.
Result<Amount> AmountMember(const json& body, const std::string& name) {
  const auto it = body.find(name);
  if (it == body.end()) return InvalidArgument(name + ": required");
  if (!it->is_object()) {
    return InvalidArgument(name + ": expected {\"minor\": integer, \"currency\": \"CNY\"}");
  }
  for (const auto& [key, value] : it->items()) {
    if (key != "minor" && key != "currency") {
      std::string member = name + ".";
      member += key;
      return InvalidArgument(member + ": unknown member");
    }
  }
  const auto minor = it->find("minor");
  if (minor == it->end() || !IsInt64(*minor) || minor->get<std::int64_t>() <= 0) {
    return InvalidArgument(name + ".minor: expected an integer > 0 (minor units)");
  }
  const auto currency = it->find("currency");
  if (currency == it->end() || !currency->is_string()) {
    return InvalidArgument(name + ".currency: expected an ISO 4217 alpha code");
  }
  Result<const Currency*> known = CurrencyByAlpha(currency->get<std::string>());
  if (!known.ok()) {
    return InvalidArgument(name + ".currency: \"" + currency->get<std::string>() +
                           "\" is not an ISO 4217 alpha code tapstack knows");
  }
  return Amount(minor->get<std::int64_t>(), **known);
}

Result<std::optional<Amount>> OptionalAmount(const json& body, const std::string& name) {
  if (!body.contains(name)) return std::optional<Amount>();
  TS_ASSIGN_OR_RETURN(const Amount amount, AmountMember(body, name));
  return std::optional<Amount>(amount);
}

Result<json> PaymentData(const json& body) {
  const auto it = body.find("payment_data");
  if (it == body.end()) return InvalidArgument("payment_data: required");
  if (!it->is_object()) return InvalidArgument("payment_data: expected a JSON object");
  return *it;
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

// platform.h's rule for idempotency keys, checked here so the header is what the error names.
Result<std::string> IdempotencyKey(const Request& req) {
  std::string key = req.get_header_value("Idempotency-Key");
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax ||
      !std::all_of(key.begin(), key.end(), IsKeyChar)) {
    return InvalidArgument("Idempotency-Key: header required, 1-" +
                           std::to_string(kIdempotencyKeyBytesMax) +
                           " characters of A-Z a-z 0-9 . _ : -");
  }
  return key;
}

// ---- Path parameters: malformed ids are 400 naming the parameter, unknown ones 404. ----

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

Status CheckAccountId(std::string_view field, std::string_view id) {
  if (id.size() == 17 && id[0] == 'a' && std::all_of(id.begin() + 1, id.end(), IsLowerHex)) {
    return Status::Ok();
  }
  return InvalidArgument(std::string(field) + ": expected \"a\" + 16 lowercase hex digits");
}

Status CheckMerchantId(std::string_view id) {
  if (!id.empty() && id.size() <= kMerchantIdBytesMax &&
      std::all_of(id.begin(), id.end(),
                  [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); })) {
    return Status::Ok();
  }
  return InvalidArgument("merchant: expected 1-" + std::to_string(kMerchantIdBytesMax) +
                         " characters of A-Z 0-9");
}

Status CheckPathId(std::string_view field, std::string_view id) {
  if (!id.empty() && id.size() <= kPathIdBytesMax && std::all_of(id.begin(), id.end(), IsKeyChar)) {
    return Status::Ok();
  }
  return InvalidArgument(std::string(field) + ": expected 1-" + std::to_string(kPathIdBytesMax) +
                         " characters of A-Z a-z 0-9 . _ : -");
}

// ---- Answers ----

json AmountJson(const Amount& amount) {
  return {{"minor", amount.minor_units()}, {"currency", std::string(amount.currency().alpha)}};
}

json AmountsJson(const std::vector<Amount>& amounts) {
  json out = json::array();
  for (const Amount& a : amounts) out.push_back(AmountJson(a));
  return out;
}

// A level's limits as amounts of the home currency; 0 = unlimited. The names are the config's
// without "_minor" (a 422 names the config's: daily_max_minor is limits.daily_max).
json LimitsJson(const LevelLimits& l, const Currency& home) {
  return {{"level", l.level},
          {"verified_with", l.verified_with},
          {"daily_max", AmountJson(Amount(l.daily_max_minor, home))},
          {"yearly_max", AmountJson(Amount(l.yearly_max_minor, home))},
          {"balance_max", AmountJson(Amount(l.balance_max_minor, home))}};
}

json PlatformJson(const PlatformInfo& info) {
  json levels = json::array();
  for (const LevelLimits& l : info.levels) levels.push_back(LimitsJson(l, *info.currency));
  return {{"platform_id", info.id},
          {"name", info.name},
          {"currency", std::string(info.currency->alpha)},
          {"country", info.country},
          {"utc_offset_minutes", info.utc_offset_minutes},
          {"levels", levels}};
}

json AccountJson(const AccountInfo& a) {
  return {{"account_id", a.account_id},
          {"owner_id", a.owner_id},
          {"alias", a.alias},
          {"level", a.level},
          {"balance", AmountJson(a.balance)},
          {"available", AmountJson(a.available)},
          {"spent_today", AmountJson(a.spent_today)},
          {"spent_this_year", AmountJson(a.spent_this_year)},
          {"limits", LimitsJson(a.limits, a.balance.currency())}};
}

json ReceiptJson(const Receipt& r) {
  json out = {{"receipt_id", r.receipt_id},
              {"kind", r.kind},
              {"amount", AmountJson(r.amount)},
              {"payer_amount", AmountJson(r.payer_amount)},
              {"fee", AmountJson(r.fee)},
              {"markup_bps", r.markup_bps},
              {"created_unix_ms", r.created_unix_ms}};
  auto opt = [&](const char* name, const std::string& v) {
    if (!v.empty()) out[name] = v;
  };
  opt("account_id", r.account_id);
  opt("merchant_id", r.merchant_id);
  opt("merchant_name", r.merchant_name);
  opt("payee_platform", r.payee_platform);
  opt("payment_id", r.payment_id);
  opt("rate", r.rate);
  opt("reference", r.reference);
  return out;
}

// A fresh receipt is 201, a replay 200 with Idempotent-Replayed (dcep_http's convention).
void ReplyReceipt(Response& res, const Result<Receipt>& receipt) {
  if (!receipt.ok()) return ReplyStatus(res, receipt.status());
  if (receipt->replayed) res.set_header("Idempotent-Replayed", "true");
  ReplyJson(res, receipt->replayed ? 200 : 201, {{"receipt", ReceiptJson(*receipt)}});
}

json PaymentRequestJson(const CardPaymentRequest& r) {
  return {{"order_id", r.order_id},
          {"merchant_name", r.merchant_name},
          {"merchant_country_numeric", r.merchant_country_numeric},
          {"amount", AmountJson(r.amount)},
          {"unpredictable_number", r.unpredictable_number}};
}

// mantissa / 10^scale as decimal text ("0.0780"), as the Quote's rate is written.
std::string RateText(std::int64_t mantissa, int scale) {
  std::string digits = std::to_string(mantissa < 0 ? -mantissa : mantissa);
  if (scale <= 0) return (mantissa < 0 ? "-" : "") + digits;
  const std::size_t width = static_cast<std::size_t>(scale);
  if (digits.size() <= width) digits.insert(0, width + 1 - digits.size(), '0');
  digits.insert(digits.size() - width, ".");
  return (mantissa < 0 ? "-" : "") + digits;
}

json FxJson(const FxConversion& fx) {
  return {{"from", AmountJson(fx.from)},
          {"to", AmountJson(fx.to)},
          {"rate", RateText(fx.rate_mantissa, fx.rate_scale)},
          {"markup_bps", fx.markup_bps},
          {"rate_source", fx.source},
          {"business_date", fx.business_date}};
}

json ScanJson(const ScanResult& s) {
  json out = {{"dynamic", s.dynamic},
              {"platform_id", s.platform_id},
              {"merchant_id", s.merchant_id},
              {"merchant_name", s.merchant_name},
              {"city", s.city},
              {"country", s.country},
              {"foreign", s.foreign}};
  if (s.currency != nullptr) out["currency"] = std::string(s.currency->alpha);
  if (s.amount) out["amount"] = AmountJson(*s.amount);
  if (!s.order_id.empty()) out["order_id"] = s.order_id;
  if (s.quote_preview) out["quote_preview"] = FxJson(*s.quote_preview);
  return out;
}

json QuoteJson(const Quote& q) {
  return {{"quote_id", q.quote_id},
          {"account_id", q.account_id},
          {"merchant_id", q.merchant_id},
          {"merchant_name", q.merchant_name},
          {"payee_platform", q.payee_platform},
          {"merchant_amount", AmountJson(q.merchant_amount)},
          {"payer_amount", AmountJson(q.payer_amount)},
          {"rate", q.rate},
          {"markup_bps", q.markup_bps},
          {"rate_source", q.rate_source},
          {"business_date", q.business_date},
          {"expires_unix_ms", q.expires_unix_ms}};
}

json StatementJson(const Statement& s) {
  json entries = json::array();
  for (const StatementEntry& e : s.entries) {
    entries.push_back({{"unix_ms", e.unix_ms},
                       {"kind", e.kind},
                       {"counterparty", e.counterparty},
                       {"receipt_id", e.receipt_id},
                       {"amount", AmountJson(e.amount)},
                       {"balance_after", AmountJson(e.balance_after)}});
  }
  return {{"account_id", s.account_id},
          {"month", s.month},
          {"opening_balance", AmountJson(s.opening_balance)},
          {"entries", entries},
          {"closing_balance", AmountJson(s.closing_balance)}};
}

json SettlementJson(const SettlementReport& r) {
  json lines = json::array();
  for (const SettlementLine& l : r.lines) {
    json line = {{"receipt_id", l.receipt_id},
                 {"kind", l.kind},
                 {"merchant_amount", AmountJson(l.merchant_amount)},
                 {"payer_amount", AmountJson(l.payer_amount)},
                 {"markup_bps", l.markup_bps}};
    if (!l.rate.empty()) line["rate"] = l.rate;
    lines.push_back(std::move(line));
  }
  json out = {{"merchant_id", r.merchant_id},
              {"business_date", r.business_date},
              {"lines", lines},
              {"merchant_total", AmountJson(r.merchant_total)},
              {"payer_totals", AmountsJson(r.payer_totals)}};
  if (r.merchant_currency != nullptr) {
    out["merchant_currency"] = std::string(r.merchant_currency->alpha);
  }
  return out;
}

// std::regex (ECMAScript) text matching `text` literally: platform ids are [a-z0-9-] (no
// special character outside a bracket expression), escaped anyway so a route never widens.
std::string RegexLiteral(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

class Routes {
 public:
  Routes(Platform& platform, QrpayHttpOptions options)
      : platform_(platform), options_(std::move(options)) {}

  bool Admin(const Request& req, Response& res) const {
    return json_api::CheckBearer(req, res, options_.admin_token);
  }

  // The caller's owner id when a holder check is configured; replies 401 and returns nullopt when
  // the check refuses. Without a check: an empty owner (anyone).
  std::optional<std::string> Holder(const Request& req, Response& res) const {
    if (!options_.holder) return std::string();
    Result<std::string> owner = options_.holder(req);
    if (!owner.ok()) {
      res.set_header("WWW-Authenticate", "Bearer");
      ReplyError(res, 401, "unauthenticated", owner.status().message());
      return std::nullopt;
    }
    return *owner;
  }

  // False (replied) unless the caller may act on `account_id`: another owner's account answers
  // 404 exactly as an unknown one.
  bool HolderOwns(const Request& req, Response& res, const std::string& account_id) const {
    const std::optional<std::string> owner = Holder(req, res);
    if (!owner) return false;
    if (owner->empty()) return true;
    Result<AccountInfo> info = platform_.Account(account_id);
    if (info.ok() && info->owner_id != *owner) {
      ReplyError(res, 404, "not_found", "account: no such account", "account");
      return false;
    }
    return true;
  }

  Platform& platform_;
  QrpayHttpOptions options_;
};

}  // namespace

void InstallQrpayRoutes(httplib::Server& server, Platform& platform, QrpayHttpOptions options) {
  auto routes = std::make_shared<Routes>(platform, std::move(options));
  const std::string base = "/v1/qrpay/" + RegexLiteral(platform.id());
  const std::string account = base + "/accounts/([^/]+)";
  const std::string merchant = base + "/merchants/([^/]+)";

  // Every handler below reads the path's own captures; `routes` keeps the platform and options.
  server.Get(base, [routes](const Request&, Response& res) {
    ReplyJson(res, 200, {{"platform", PlatformJson(routes->platform_.info())}});
  });

  // ---- Accounts ----
  server.Post(base + "/accounts", [routes](const Request& req, Response& res) {
    const std::optional<std::string> holder = routes->Holder(req, res);
    if (!holder) return;
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"owner_id", "level"}));
    std::string owner = *holder;
    if (owner.empty() || body.contains("owner_id")) {
      QRPAY_OR_REPLY(owner, String(body, "owner_id"));
    }
    if (!holder->empty() && owner != *holder) {
      return ReplyError(res, 400, "invalid_argument", "owner_id: must be the signed-in holder (or left out)",
                        "owner_id");
    }
    QRPAY_OR_REPLY(const std::int64_t level, Integer(body, "level"));
    if (level < kLevelLowest || level > kLevelHighest) {
      return ReplyError(
          res, 400, "invalid_argument",
          "level: expected " + std::to_string(kLevelLowest) + "-" + std::to_string(kLevelHighest),
          "level");
    }
    Platform& p = routes->platform_;
    QRPAY_OR_REPLY(const AccountInfo opened,
                   p.OpenAccount(owner, *p.info().currency, static_cast<int>(level)));
    ReplyJson(res, 201, {{"account", AccountJson(opened)}});
  });

  server.Get(account, [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const AccountInfo info, routes->platform_.Account(id));
    ReplyJson(res, 200, {{"account", AccountJson(info)}});
  });

  // ---- Cards: top-up, funding cards, withdrawal ----
  server.Post(account + "/top-ups", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"amount", "device_id"}));
    QRPAY_OR_REPLY(const Amount amount, AmountMember(body, "amount"));
    QRPAY_OR_REPLY(const std::string device, String(body, "device_id"));
    QRPAY_OR_REPLY(const CardPaymentRequest request,
                   routes->platform_.StartTopUp(id, amount, device));
    ReplyJson(res, 201, {{"payment_request", PaymentRequestJson(request)}});
  });

  server.Post(base + "/(top-ups|card-payments)/([^/]+)/complete",
              [routes](const Request& req, Response& res) {
                const bool top_up = req.matches[1].str() == "top-ups";
                const std::string order = req.matches[2].str();
                QRPAY_CHECK_OR_REPLY(CheckPathId("order", order));
                QRPAY_OR_REPLY(const json body, ParseBody(req, {"payment_data"}));
                QRPAY_OR_REPLY(const json payment_data, PaymentData(body));
                Platform& p = routes->platform_;
                ReplyReceipt(res, top_up ? p.CompleteTopUp(order, payment_data)
                                         : p.CompleteCardPayment(order, payment_data));
              });

  server.Get(account + "/funding-cards", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const std::vector<FundingCard> cards, routes->platform_.FundingCards(id));
    json out = json::array();
    for (const FundingCard& c : cards) {
      out.push_back({{"card_id", c.card_id},
                     {"token_last4", c.token_last4},
                     {"token_expiry", c.token_expiry}});
    }
    ReplyJson(res, 200, {{"cards", out}});
  });

  server.Post(account + "/withdrawals", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"card_id", "amount"}));
    QRPAY_OR_REPLY(const std::string card, String(body, "card_id"));
    QRPAY_OR_REPLY(const Amount amount, AmountMember(body, "amount"));
    QRPAY_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyReceipt(res, routes->platform_.Withdraw(id, card, amount, key));
  });

  // ---- Merchant QR: scan, pay, quote, card payment ----
  server.Post(base + "/scan", [routes](const Request& req, Response& res) {
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"payload"}));
    QRPAY_OR_REPLY(const std::string payload, String(body, "payload"));
    QRPAY_OR_REPLY(const ScanResult scan, routes->platform_.Scan(payload));
    ReplyJson(res, 200, {{"scan", ScanJson(scan)}});
  });

  server.Post(account + "/payments", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"payload", "amount"}));
    QRPAY_OR_REPLY(const std::string payload, String(body, "payload"));
    QRPAY_OR_REPLY(const std::optional<Amount> amount, OptionalAmount(body, "amount"));
    QRPAY_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyReceipt(res, routes->platform_.PayMerchantQr(id, payload, amount, key));
  });

  server.Post(account + "/quotes", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"payload", "amount"}));
    QRPAY_OR_REPLY(const std::string payload, String(body, "payload"));
    QRPAY_OR_REPLY(const std::optional<Amount> amount, OptionalAmount(body, "amount"));
    QRPAY_OR_REPLY(const Quote quote, routes->platform_.QuoteMerchantQr(id, payload, amount));
    ReplyJson(res, 201, {{"quote", QuoteJson(quote)}});
  });

  server.Post(account + "/quotes/([^/]+)/pay", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    const std::string quote = req.matches[2].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_CHECK_OR_REPLY(CheckPathId("quote", quote));
    QRPAY_OR_REPLY(const json body, ParseBody(req, {}));
    QRPAY_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyReceipt(res, routes->platform_.PayQuote(id, quote, key));
  });

  server.Post(account + "/card-payments", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const json body,
                   ParseBody(req, {"payload", "amount", "card_issuer_country", "device_id"}));
    QRPAY_OR_REPLY(const std::string payload, String(body, "payload"));
    QRPAY_OR_REPLY(const std::optional<Amount> amount, OptionalAmount(body, "amount"));
    QRPAY_OR_REPLY(const std::string country, String(body, "card_issuer_country"));
    QRPAY_OR_REPLY(const std::string device, String(body, "device_id"));
    QRPAY_OR_REPLY(const CardPaymentRequest request,
                   routes->platform_.StartCardPayment(id, payload, amount, country, device));
    ReplyJson(res, 201, {{"payment_request", PaymentRequestJson(request)}});
  });

  // ---- Payment codes and statements ----
  server.Post(account + "/payment-codes", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"device_id"}));
    QRPAY_OR_REPLY(const std::string device, String(body, "device_id"));
    QRPAY_OR_REPLY(const PaymentCode code, routes->platform_.IssuePaymentCode(id, device));
    ReplyJson(res, 201,
              {{"payment_code", {{"code", code.code}, {"expires_unix_ms", code.expires_unix_ms}}}});
  });

  server.Get(account + "/statements/([^/]+)", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account", id));
    if (!routes->HolderOwns(req, res, id)) return;
    QRPAY_OR_REPLY(const Statement statement,
                   routes->platform_.MonthlyStatement(id, req.matches[2].str()));
    ReplyJson(res, 200, {{"statement", StatementJson(statement)}});
  });

  // ---- Merchants ----
  server.Get(merchant, [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckMerchantId(id));
    QRPAY_OR_REPLY(const Amount balance, routes->platform_.MerchantBalance(id));
    ReplyJson(res, 200, {{"merchant", {{"merchant_id", id}, {"balance", AmountJson(balance)}}}});
  });

  server.Get(merchant + "/codes/static", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckMerchantId(id));
    QRPAY_OR_REPLY(const std::string payload, routes->platform_.MerchantStaticQr(id));
    ReplyJson(res, 200, {{"merchant_id", id}, {"payload", payload}});
  });

  server.Post(merchant + "/codes", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckMerchantId(id));
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"order_id", "amount", "validity_seconds"}));
    QRPAY_OR_REPLY(const std::string order, String(body, "order_id"));
    QRPAY_OR_REPLY(const Amount amount, AmountMember(body, "amount"));
    QRPAY_OR_REPLY(const std::int64_t validity, Integer(body, "validity_seconds"));
    QRPAY_OR_REPLY(const std::string payload,
                   routes->platform_.MerchantDynamicQr(id, order, amount, validity));
    ReplyJson(res, 201,
              {{"merchant_id", id},
               {"order_id", order},
               {"amount", AmountJson(amount)},
               {"validity_seconds", validity},
               {"payload", payload}});
  });

  server.Post(merchant + "/code-payments", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckMerchantId(id));
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"code", "amount"}));
    QRPAY_OR_REPLY(const std::string code, String(body, "code"));
    QRPAY_OR_REPLY(const Amount amount, AmountMember(body, "amount"));
    QRPAY_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyReceipt(res, routes->platform_.PayByPaymentCode(id, code, amount, key));
  });

  server.Post(merchant + "/refunds", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckMerchantId(id));
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"payment_id", "amount"}));
    QRPAY_OR_REPLY(const std::string payment, String(body, "payment_id"));
    QRPAY_OR_REPLY(const Amount amount, AmountMember(body, "amount"));
    QRPAY_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyReceipt(res, routes->platform_.RefundPayment(id, payment, amount, key));
  });

  server.Get(merchant + "/settlement/([^/]+)", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckMerchantId(id));
    QRPAY_OR_REPLY(const SettlementReport report,
                   routes->platform_.Settlement(id, req.matches[2].str()));
    ReplyJson(res, 200, {{"settlement", SettlementJson(report)}});
  });

  // ---- Admin: tax refunds, cash-in, the network's clearing, audit ----
  server.Post(base + "/tax-refunds", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    QRPAY_OR_REPLY(const json body,
                   ParseBody(req, {"operator_id", "account_id", "receipt_reference", "amount"}));
    QRPAY_OR_REPLY(const std::string op, String(body, "operator_id"));
    QRPAY_OR_REPLY(const std::string id, String(body, "account_id"));
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account_id", id));
    QRPAY_OR_REPLY(const std::string reference, String(body, "receipt_reference"));
    QRPAY_OR_REPLY(const Amount amount, AmountMember(body, "amount"));
    QRPAY_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyReceipt(res, routes->platform_.TaxRefund(op, id, reference, amount, key));
  });

  server.Post(base + "/agents/([^/]+)/cash-ins", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    const std::string agent = req.matches[1].str();
    QRPAY_CHECK_OR_REPLY(CheckPathId("agent", agent));
    QRPAY_OR_REPLY(const json body, ParseBody(req, {"account_id", "amount"}));
    QRPAY_OR_REPLY(const std::string id, String(body, "account_id"));
    QRPAY_CHECK_OR_REPLY(CheckAccountId("account_id", id));
    QRPAY_OR_REPLY(const Amount amount, AmountMember(body, "amount"));
    QRPAY_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyReceipt(res, routes->platform_.CashIn(agent, id, amount, key));
  });

  server.Post(base + "/clearing", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    // The network's message is the platform's to check: HandleClearing declines a malformed one
    // naming the member (clearing_link.h), which the network records as the answer.
    if (req.body.size() > kQrpayRequestBodyBytesMax) {
      return ReplyError(res, 400, "invalid_argument",
                        "body: larger than " + std::to_string(kQrpayRequestBodyBytesMax) + " bytes",
                        "body");
    }
    const json request = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      return ReplyError(res, 400, "invalid_argument", "body: expected a JSON object", "body");
    }
    const json answer = routes->platform_.HandleClearing(request);
    if (answer.value("status", "") == "error") {
      // Nothing was recorded (a store failure): the network retries with the same clearing_id.
      return ReplyError(res, 503, "unavailable",
                        "the payment could not be recorded: retry with the same clearing_id");
    }
    ReplyJson(res, 200, answer);
  });

  server.Get(base + "/audit", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    const Result<PlatformAudit> audit = routes->platform_.Audit();
    if (!audit.ok()) {
      // The operator needs the first difference the audit found (account labels and numbers,
      // nothing secret), so this admin route keeps the message of an internal error.
      if (audit.status().code() == ErrorCode::kInternal) {
        return ReplyError(res, 500, "internal", audit.status().message());
      }
      return ReplyStatus(res, audit.status());
    }
    ReplyJson(res, 200,
              {{"ledger_accounts", audit->ledger_accounts},
               {"journal_entries", audit->journal_entries},
               {"user_balances", AmountsJson(audit->user_balances)}});
  });
}

void InstallQrpayFallbackRoutes(httplib::Server& server, std::vector<std::string> platform_ids) {
  auto ids = std::make_shared<const std::vector<std::string>>(std::move(platform_ids));
  const auto answer = [ids](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    if (std::find(ids->begin(), ids->end(), id) == ids->end()) {
      return ReplyError(res, 404, "not_found",
                        "platform: \"" + id + "\" is not a platform served here", "platform");
    }
    ReplyError(res, 404, "not_found", "no route " + req.method + " " + req.path);
  };
  server.Get("/v1/qrpay/([^/]+)(/.*)?", answer);
  server.Post("/v1/qrpay/([^/]+)(/.*)?", answer);
}

}  // namespace tapstack::qrpay
