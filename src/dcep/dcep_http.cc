#include "dcep/dcep_http.h"

#include <httplib.h>

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/hex.h"
#include "dcep/central_bank_client.h"
#include "dcep/contract_book.h"
#include "dcep/dcep_network.h"
#include "dcep/qr_payments.h"
#include "json_api/json_api.h"

namespace tapstack::dcep {

namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;
using json_api::ReplyError;
using json_api::ReplyJson;
using json_api::ReplyStatus;

constexpr char kOperatorPath[] = "/v1/dcep/operators/([^/]+)";
constexpr char kWalletPath[] = "/v1/dcep/operators/([^/]+)/wallets/([^/]+)";

// A body of at most kDcepRequestBodyBytesMax with only the `allowed` members.
Result<json> ParseBody(const Request& req, std::initializer_list<std::string_view> allowed) {
  return json_api::ParseBody(req, allowed, kDcepRequestBodyBytesMax);
}

Result<std::string> OptString(const json& body, const char* name, bool required = false) {
  return json_api::StringMember(body, name, required);
}

Result<std::int64_t> AmountFen(const json& body) {
  const auto it = body.find("amount_fen");
  if (it == body.end()) return InvalidArgument("amount_fen: required");
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    return InvalidArgument("amount_fen: expected an integer > 0");
  }
  return it->get<std::int64_t>();
}

Result<std::string> IdempotencyKey(const Request& req) {
  std::string key = req.get_header_value("Idempotency-Key");
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) {
    return InvalidArgument("Idempotency-Key: header required, 1-128 bytes");
  }
  return key;
}

Result<TierEvidence> Evidence(const json& body) {
  TierEvidence e;
  TS_ASSIGN_OR_RETURN(e.phone, OptString(body, "phone", true));
  TS_ASSIGN_OR_RETURN(e.name, OptString(body, "name"));
  TS_ASSIGN_OR_RETURN(e.id_number, OptString(body, "id_number"));
  TS_ASSIGN_OR_RETURN(e.bank_account, OptString(body, "bank_account"));
  if (const auto it = body.find("in_person"); it != body.end()) {
    if (!it->is_boolean()) return InvalidArgument("in_person: expected a boolean");
    e.in_person = it->get<bool>();
  }
  return e;
}

json LimitsJson(const TierLimits& t) {
  return {{"tier", t.tier},
          {"opened_with", t.opened_with},
          {"balance_max_fen", t.balance_max_fen},
          {"payment_max_fen", t.payment_max_fen},
          {"daily_max_fen", t.daily_max_fen}};
}

json WalletJson(const WalletInfo& w) {
  json out = {{"wallet_id", w.wallet_id},
              {"operator_id", w.operator_id},
              {"tier", w.tier},
              {"balance_fen", w.balance_fen},
              {"available_fen", w.available_fen},
              {"spent_today_fen", w.spent_today_fen},
              {"limits", LimitsJson(w.limits)}};
  if (!w.merchant_id.empty()) out["merchant_id"] = w.merchant_id;
  return out;
}

json EntryJson(const Entry& e) {
  json out = {{"entry_id", e.entry_id},   {"seq", e.seq},
              {"kind", e.kind},           {"status", e.status},
              {"amount_fen", e.amount_fen}, {"created_unix_ms", e.created_unix_ms}};
  auto opt = [&](const char* name, const std::string& v) {
    if (!v.empty()) out[name] = v;
  };
  opt("debit_wallet", e.debit_wallet);
  opt("credit_wallet", e.credit_wallet);
  opt("counter_operator", e.counter_operator);
  opt("counter_wallet", e.counter_wallet);
  opt("counter_device", e.counter_device);
  opt("merchant_id", e.merchant_id);
  opt("device_id", e.device_id);
  opt("contract_id", e.contract_id);
  opt("error", e.error_code);
  opt("reason", e.reason);
  return out;
}

void ReplyEntry(Response& res, const Result<Entry>& entry, int created_status) {
  if (!entry.ok()) return ReplyStatus(res, entry.status());
  if (entry->replayed) res.set_header("Idempotent-Replayed", "true");
  ReplyJson(res, entry->replayed ? 200 : created_status, {{"entry", EntryJson(*entry)}});
}

json ContractJson(const Contract& c) {
  json out = {{"contract_id", c.contract_id},
              {"operator_id", c.operator_id},
              {"template", ContractTemplateName(c.terms.kind)},
              {"terms", json::parse(c.terms_json, nullptr, false)},
              {"state", c.state},
              {"locked_fen", c.locked_fen},
              {"progress",
               {{"units_delivered", c.progress.units_delivered},
                {"released_fen", c.progress.released_fen},
                {"refunded_fen", c.progress.refunded_fen}}},
              {"created_unix_ms", c.created_unix_ms},
              {"updated_unix_ms", c.updated_unix_ms}};
  if (!c.events.empty()) {
    json events = json::array();
    for (const ContractEvent& e : c.events) {
      json ev = {{"event_id", e.event_id}, {"seq", e.seq},
                 {"action", e.action},     {"status", e.status},
                 {"units", e.units},       {"amount_fen", e.amount_fen},
                 {"created_unix_ms", e.created_unix_ms}};
      auto opt = [&](const char* name, const std::string& v) {
        if (!v.empty()) ev[name] = v;
      };
      opt("actor_wallet", e.actor_wallet);
      opt("merchant_id", e.merchant_id);
      opt("entry_id", e.entry_id);
      opt("error", e.error_code);
      opt("reason", e.reason);
      events.push_back(std::move(ev));
    }
    out["events"] = std::move(events);
  }
  return out;
}

void ReplyContract(Response& res, const Result<ContractOutcome>& outcome, int created_status) {
  if (!outcome.ok()) return ReplyStatus(res, outcome.status());
  if (outcome->replayed) res.set_header("Idempotent-Replayed", "true");
  ReplyJson(res, outcome->replayed ? 200 : created_status,
            {{"contract", ContractJson(outcome->contract)}, {"entry", EntryJson(outcome->entry)}});
}

Result<std::int64_t> PositiveInteger(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end()) return InvalidArgument(std::string(name) + ": required");
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    return InvalidArgument(std::string(name) + ": expected an integer > 0");
  }
  return it->get<std::int64_t>();
}

// Member `name` when present: an integer > 0; absent: 0.
Result<std::int64_t> OptPositiveInteger(const json& body, const char* name) {
  if (!body.contains(name)) return 0;
  return PositiveInteger(body, name);
}

json MerchantQrJson(const MerchantQr& code) {
  json out = {{"dynamic", code.dynamic},   {"operator_id", code.operator_id},
              {"merchant_id", code.merchant_id}, {"merchant_name", code.name},
              {"city", code.city},         {"mcc", code.mcc}};
  if (code.dynamic) {
    out["amount_fen"] = code.amount_fen;
    out["order_id"] = code.order_id;
    out["expires_unix_s"] = code.expires_unix_s;
  }
  return out;
}

// json_api's mapping, plus the QR case (as qrpay_http.cc): a code whose MAC does not verify is
// the payer's input to blame, not the server, so it is a 400 naming the payload. Any other crypto
// failure is OpenSSL's and stays internal.
void ReplyQrStatus(Response& res, const Status& s) {
  if (s.code() == ErrorCode::kCryptoFailure && json_api::FieldOf(s.message()) == "payload") {
    return ReplyError(res, 400, "crypto_failure", s.message(), "payload");
  }
  ReplyStatus(res, s);
}

// The merchant id of a path: 1-64 of a-z 0-9 - _ (tiers.h).
Status CheckMerchantPathId(std::string_view id) {
  const bool ok = !id.empty() && id.size() <= kMerchantIdBytesMax &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                  });
  if (ok) return Status::Ok();
  return InvalidArgument("merchant: expected 1-" + std::to_string(kMerchantIdBytesMax) +
                         " of a-z 0-9 - _");
}

class Routes {
 public:
  Routes(DcepNetwork& network, DcepHttpOptions options)
      : network_(network), options_(std::move(options)) {
    if (options_.qr_payments != nullptr) {
      qr_ = options_.qr_payments;
    } else if (Result<MerchantQrKeys> keys = MerchantQrKeys::Demo(network_.config()); keys.ok()) {
      qr_ = std::make_shared<const QrPayments>(&network_.config(), std::move(*keys));
    } else {
      qr_status_ = keys.status();
    }
  }

  // The QR service, or nullptr after replying 500 (the demo keys could not be derived).
  const QrPayments* Qr(Response& res) const {
    if (qr_ == nullptr) ReplyStatus(res, qr_status_);
    return qr_.get();
  }

  bool Admin(const Request& req, Response& res) const {
    return json_api::CheckBearer(req, res, options_.admin_token);
  }

  Operator* OperatorOf(const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    if (Status s = CheckOperatorId("operator", id); !s.ok()) {
      ReplyStatus(res, s);
      return nullptr;
    }
    Result<Operator*> op = network_.operator_of(id);
    if (!op.ok()) {
      ReplyError(res, 404, "not_found", op.status().message(), "operator");
      return nullptr;
    }
    return *op;
  }

  // The operator that keeps contract `contract_id` (its id names it).
  Operator* ContractOperator(const std::string& contract_id, Response& res) {
    Result<std::string> id = ContractOperatorId(contract_id);
    if (!id.ok()) {
      ReplyStatus(res, id.status());
      return nullptr;
    }
    Result<Operator*> op = network_.operator_of(*id);
    if (!op.ok()) {
      ReplyError(res, 404, "not_found", op.status().message(), "contract_id");
      return nullptr;
    }
    return *op;
  }

  std::optional<std::string> WalletOf(const Request& req, Response& res) {
    std::string wallet = req.matches[2].str();
    if (Status s = CheckWalletId("wallet", wallet); !s.ok()) {
      ReplyStatus(res, s);
      return std::nullopt;
    }
    return wallet;
  }

  DcepNetwork& network_;
  DcepHttpOptions options_;
  std::shared_ptr<const QrPayments> qr_;
  Status qr_status_;
};

#define DCEP_OR_REPLY(lhs, expr) JSON_API_ASSIGN_OR_REPLY(lhs, expr)

}  // namespace

void InstallDcepRoutes(httplib::Server& server, DcepNetwork& network, DcepHttpOptions options) {
  auto routes = std::make_shared<Routes>(network, std::move(options));

  server.Get("/v1/dcep/operators", [routes](const Request&, Response& res) {
    const DcepConfig& config = routes->network_.config();
    json operators = json::array();
    for (const OperatorInfo& op : config.operators) {
      operators.push_back({{"id", op.id}, {"name", op.name}});
    }
    json tiers = json::array();
    for (const TierLimits& t : config.tiers) tiers.push_back(LimitsJson(t));
    json merchants = json::array();
    for (const MerchantInfo& m : config.merchants) {
      merchants.push_back({{"id", m.id},
                           {"name", m.name},
                           {"operator", m.operator_id},
                           {"mcc", m.mcc},
                           {"wallet_id", MerchantWalletId(m.operator_id, m.id)}});
    }
    ReplyJson(res, 200, {{"operators", operators}, {"tiers", tiers}, {"merchants", merchants}});
  });

  server.Post(std::string(kOperatorPath) + "/wallets", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    DCEP_OR_REPLY(const json body,
                  ParseBody(req, {"phone", "name", "id_number", "bank_account", "in_person"}));
    DCEP_OR_REPLY(const TierEvidence evidence, Evidence(body));
    DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
    DCEP_OR_REPLY(const WalletInfo wallet, op->OpenWallet(evidence, key));
    ReplyJson(res, 201, {{"wallet", WalletJson(wallet)}});
  });

  server.Get(kWalletPath, [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    DCEP_OR_REPLY(const WalletInfo wallet, op->Wallet(*wallet_id));
    ReplyJson(res, 200, {{"wallet", WalletJson(wallet)}});
  });

  server.Post(std::string(kWalletPath) + "/tier", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    DCEP_OR_REPLY(const json body,
                  ParseBody(req, {"phone", "name", "id_number", "bank_account", "in_person"}));
    DCEP_OR_REPLY(const TierEvidence evidence, Evidence(body));
    DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
    DCEP_OR_REPLY(const WalletInfo wallet, op->UpgradeTier(*wallet_id, evidence, key));
    ReplyJson(res, 200, {{"wallet", WalletJson(wallet)}});
  });

  server.Get(std::string(kWalletPath) + "/view", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    DCEP_OR_REPLY(const CounterpartyView view, op->ViewForCounterparty(*wallet_id));
    json out = {{"wallet_id", view.wallet_id}, {"operator_id", view.operator_id},
                {"tier", view.tier}};
    if (view.name) out["name"] = *view.name;
    if (view.phone) out["phone"] = *view.phone;
    if (view.merchant_id) out["merchant_id"] = *view.merchant_id;
    ReplyJson(res, 200, {{"view", out}});
  });

  server.Post(std::string(kWalletPath) + "/exchange", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    DCEP_OR_REPLY(const json body, ParseBody(req, {"amount_fen", "direction"}));
    DCEP_OR_REPLY(const std::int64_t amount, AmountFen(body));
    DCEP_OR_REPLY(const std::string direction, OptString(body, "direction", true));
    if (direction != "to_wallet" && direction != "to_deposit") {
      return ReplyError(res, 400, "invalid_argument",
                        "direction: expected \"to_wallet\" or \"to_deposit\"", "direction");
    }
    DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyEntry(res, op->Exchange(*wallet_id, amount, direction == "to_deposit", key), 201);
  });

  server.Post(std::string(kWalletPath) + "/payments", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    DCEP_OR_REPLY(const json body,
                  ParseBody(req, {"payee_operator", "payee_wallet", "merchant_id", "amount_fen"}));
    PaymentOrder order;
    order.payer_wallet = *wallet_id;
    DCEP_OR_REPLY(order.payee_operator, OptString(body, "payee_operator"));
    DCEP_OR_REPLY(order.payee_wallet, OptString(body, "payee_wallet"));
    DCEP_OR_REPLY(order.merchant_id, OptString(body, "merchant_id"));
    if (order.merchant_id.empty() && order.payee_wallet.empty()) {
      return ReplyError(res, 400, "invalid_argument",
                        "payee_wallet: required (or merchant_id)", "payee_wallet");
    }
    DCEP_OR_REPLY(order.amount_fen, AmountFen(body));
    DCEP_OR_REPLY(order.idempotency_key, IdempotencyKey(req));
    ReplyEntry(res, op->Pay(order), 201);
  });

  // Merchant QR codes (dcep/qr_payments.h): the merchant's operator issues them; a payer's
  // operator pays a scanned one (the merchant may be at another operator).
  server.Post(std::string(kOperatorPath) + "/merchants/([^/]+)/qr",
              [routes](const Request& req, Response& res) {
                Operator* op = routes->OperatorOf(req, res);
                if (op == nullptr) return;
                const std::string merchant = req.matches[2].str();
                if (Status s = CheckMerchantPathId(merchant); !s.ok()) return ReplyStatus(res, s);
                const QrPayments* qr = routes->Qr(res);
                if (qr == nullptr) return;
                DCEP_OR_REPLY(const json body,
                              ParseBody(req, {"amount_fen", "order_id", "expires_in_s", "city"}));
                MerchantQrRequest request;
                request.merchant_id = merchant;
                DCEP_OR_REPLY(request.amount_fen, OptPositiveInteger(body, "amount_fen"));
                DCEP_OR_REPLY(request.order_id, OptString(body, "order_id"));
                DCEP_OR_REPLY(request.expires_in_s, OptPositiveInteger(body, "expires_in_s"));
                DCEP_OR_REPLY(request.city, OptString(body, "city"));
                DCEP_OR_REPLY(const IssuedMerchantQr issued, qr->Issue(op->id(), request));
                json out = MerchantQrJson(issued.code);
                out["payload"] = issued.payload;
                ReplyJson(res, 200, out);
              });

  server.Post(std::string(kWalletPath) + "/qr-payments", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    const QrPayments* qr = routes->Qr(res);
    if (qr == nullptr) return;
    DCEP_OR_REPLY(const json body, ParseBody(req, {"payload", "amount_fen"}));
    QrPaymentOrder order;
    order.payer_wallet = *wallet_id;
    DCEP_OR_REPLY(order.payload, OptString(body, "payload", true));
    DCEP_OR_REPLY(order.amount_fen, OptPositiveInteger(body, "amount_fen"));
    DCEP_OR_REPLY(order.idempotency_key, IdempotencyKey(req));
    const Result<QrPaymentResult> paid = qr->Pay(*op, order);
    if (!paid.ok()) return ReplyQrStatus(res, paid.status());
    if (paid->entry.replayed) res.set_header("Idempotent-Replayed", "true");
    ReplyJson(res, paid->entry.replayed ? 200 : 201,
              {{"entry", EntryJson(paid->entry)}, {"qr", MerchantQrJson(paid->code)}});
  });

  server.Get(std::string(kWalletPath) + "/history", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    auto number = [&](const char* name, std::int64_t fallback) -> std::optional<std::int64_t> {
      if (!req.has_param(name)) return fallback;
      const std::string v = req.get_param_value(name);
      if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) {
            return c >= '0' && c <= '9';
          })) {
        ReplyError(res, 400, "invalid_argument", std::string(name) + ": expected an integer >= 0",
                   name);
        return std::nullopt;
      }
      return std::stoll(v);
    };
    const auto before = number("before", 0);
    if (!before) return;
    const auto limit = number("limit", 50);
    if (!limit) return;
    DCEP_OR_REPLY(const HistoryPage page,
                  op->History(*wallet_id, *before, static_cast<std::size_t>(*limit)));
    json entries = json::array();
    for (const Entry& e : page.entries) entries.push_back(EntryJson(e));
    json out = {{"entries", entries}};
    out["next_before"] = page.next_before == 0 ? json(nullptr) : json(page.next_before);
    ReplyJson(res, 200, out);
  });

  server.Post(std::string(kWalletPath) + "/purses/([^/]+)/(fund|defund)",
              [routes](const Request& req, Response& res) {
                Operator* op = routes->OperatorOf(req, res);
                if (op == nullptr) return;
                const auto wallet_id = routes->WalletOf(req, res);
                if (!wallet_id) return;
                const std::string device = req.matches[3].str();
                if (Status s = CheckDeviceId("device", device); !s.ok()) {
                  return ReplyStatus(res, s);
                }
                DCEP_OR_REPLY(const json body, ParseBody(req, {"amount_fen"}));
                DCEP_OR_REPLY(const std::int64_t amount, AmountFen(body));
                DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
                const bool fund = req.matches[4].str() == "fund";
                ReplyEntry(res,
                           fund ? op->FundOfflinePurse(*wallet_id, device, amount, key)
                                : op->DefundOfflinePurse(*wallet_id, device, amount, key),
                           201);
              });

  // Hardware wallets (dcep/hardware_wallets.h), called by the wallet app while the device is
  // online: the root key to personalise the applet with, the operator's certificate chain for
  // the device's key, a load order for its purse, and the settlement of its log.
  server.Get("/v1/dcep/root-key", [routes](const Request&, Response& res) {
    const crypto::PublicKey& root = routes->network_.root_authority().public_key();
    DCEP_OR_REPLY(const Bytes raw, root.ToRaw());
    ReplyJson(res, 200, {{"scheme", crypto::SignatureSchemeName(root.scheme())},
                         {"public_key", HexEncode(raw)}});
  });
  server.Post(std::string(kWalletPath) + "/devices", [routes](const Request& req, Response& res) {
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const auto wallet_id = routes->WalletOf(req, res);
    if (!wallet_id) return;
    DCEP_OR_REPLY(const json body, ParseBody(req, {"device_id", "scheme", "public_key"}));
    DCEP_OR_REPLY(const std::string device, json_api::StringMember(body, "device_id", true));
    if (Status s = CheckDeviceId("device_id", device); !s.ok()) return ReplyStatus(res, s);
    DCEP_OR_REPLY(const std::string scheme_name, json_api::StringMember(body, "scheme", false));
    DCEP_OR_REPLY(const std::string key_hex, json_api::StringMember(body, "public_key", true));
    crypto::SignatureScheme scheme = crypto::SignatureScheme::kSm2Sm3;
    if (!scheme_name.empty()) {
      bool known = false;
      for (crypto::SignatureScheme s : {crypto::SignatureScheme::kSm2Sm3,
                                        crypto::SignatureScheme::kEcdsaP256Sha256,
                                        crypto::SignatureScheme::kEd25519}) {
        if (crypto::SignatureSchemeName(s) == scheme_name) scheme = s, known = true;
      }
      if (!known) {
        return ReplyError(res, 400, "invalid_argument",
                          "scheme: expected SM2-SM3, ECDSA-P256-SHA256 or Ed25519", "scheme");
      }
    }
    Result<Bytes> key = HexDecode(key_hex);
    if (!key.ok()) return ReplyError(res, 400, "invalid_argument", "public_key: expected hex", "public_key");
    DCEP_OR_REPLY(HardwareWallets* const wallets, routes->network_.hardware_wallets(op->id()));
    DCEP_OR_REPLY(const Bytes chain, wallets->CertifyDevice(*wallet_id, device, scheme, *key));
    ReplyJson(res, 201, {{"device_id", device}, {"chain", HexEncode(chain)}});
  });
  server.Post(std::string(kWalletPath) + "/devices/([^/]+)/loads",
              [routes](const Request& req, Response& res) {
                Operator* op = routes->OperatorOf(req, res);
                if (op == nullptr) return;
                const auto wallet_id = routes->WalletOf(req, res);
                if (!wallet_id) return;
                const std::string device = req.matches[3].str();
                if (Status s = CheckDeviceId("device", device); !s.ok()) return ReplyStatus(res, s);
                DCEP_OR_REPLY(const json body, ParseBody(req, {"amount_fen"}));
                DCEP_OR_REPLY(const std::int64_t amount, AmountFen(body));
                DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
                DCEP_OR_REPLY(HardwareWallets* const wallets, routes->network_.hardware_wallets(op->id()));
                DCEP_OR_REPLY(const Bytes order, wallets->Load(*wallet_id, device, amount, key));
                ReplyJson(res, 201, {{"device_id", device}, {"load_order", HexEncode(order)}});
              });
  server.Post(std::string(kOperatorPath) + "/devices/([^/]+)/uploads",
              [routes](const Request& req, Response& res) {
                Operator* op = routes->OperatorOf(req, res);
                if (op == nullptr) return;
                const std::string device = req.matches[2].str();
                if (Status s = CheckDeviceId("device", device); !s.ok()) return ReplyStatus(res, s);
                DCEP_OR_REPLY(const json body, ParseBody(req, {"log"}));
                DCEP_OR_REPLY(const std::string log_hex, json_api::StringMember(body, "log", true));
                Result<Bytes> log = HexDecode(log_hex);
                if (!log.ok()) return ReplyError(res, 400, "invalid_argument", "log: expected hex", "log");
                DCEP_OR_REPLY(HardwareWallets* const wallets, routes->network_.hardware_wallets(op->id()));
                DCEP_OR_REPLY(const UploadResult result, wallets->Upload(device, *log));
                json records = json::array();
                for (const UploadedRecord& r : result.records) {
                  records.push_back({{"log_sequence", r.log_sequence},
                                     {"payer_device_id", r.payer_device_id},
                                     {"payer_counter", r.payer_counter},
                                     {"payee_device_id", r.payee_device_id},
                                     {"amount_fen", r.amount_fen},
                                     {"outcome", RecordOutcomeName(r.outcome)},
                                     {"reason", r.reason}});
                }
                ReplyJson(res, 200, {{"device_id", device},
                                     {"records", records},
                                     {"counter_gaps", result.gaps.size()},
                                     {"sync_ack", HexEncode(result.sync_ack)}});
              });

  // Lost or stolen hardware wallets (admin: the operator's service desk). Freezing is naturally
  // idempotent and recovery answers the same amount every time, so neither takes an
  // Idempotency-Key (as /recover).
  server.Post(std::string(kOperatorPath) + "/devices/([^/]+)/(freeze|recover-balance)",
              [routes](const Request& req, Response& res) {
                if (!routes->Admin(req, res)) return;
                Operator* op = routes->OperatorOf(req, res);
                if (op == nullptr) return;
                const std::string device = req.matches[2].str();
                if (Status s = CheckDeviceId("device", device); !s.ok()) return ReplyStatus(res, s);
                DCEP_OR_REPLY(HardwareWallets* const wallets, routes->network_.hardware_wallets(op->id()));
                if (req.matches[3].str() == "freeze") {
                  if (Status s = wallets->Freeze(device); !s.ok()) return ReplyStatus(res, s);
                  return ReplyJson(res, 200, {{"device_id", device}, {"state", "frozen"}});
                }
                DCEP_OR_REPLY(const std::int64_t recovered, wallets->RecoverFrozenBalance(device));
                ReplyJson(res, 200, {{"device_id", device}, {"recovered_fen", recovered}});
              });

  server.Get(std::string(kOperatorPath) + "/devices/([^/]+)", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    const std::string device = req.matches[2].str();
    if (Status s = CheckDeviceId("device", device); !s.ok()) return ReplyStatus(res, s);
    DCEP_OR_REPLY(HardwareWallets* const wallets, routes->network_.hardware_wallets(op->id()));
    DCEP_OR_REPLY(const DeviceSettlementState state, wallets->settlement().Device(device));
    DCEP_OR_REPLY(const std::vector<CounterGap> gaps, wallets->settlement().CounterGaps(device));
    DCEP_OR_REPLY(const std::vector<DoubleSpendEvidence> spends,
                  wallets->settlement().DoubleSpends(device));
    json body = {{"device_id", device},
                 {"state", DeviceStateName(state.state)},
                 {"reason", state.reason},
                 {"state_unix_ms", state.state_unix_ms},
                 {"log_sequence_acknowledged", state.log_sequence_acknowledged},
                 {"counter_gaps", gaps.size()},
                 {"double_spends", spends.size()}};
    if (state.recovered_fen >= 0) body["recovered_fen"] = state.recovered_fen;
    ReplyJson(res, 200, body);
  });

  server.Post(std::string(kOperatorPath) + "/issuance", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    DCEP_OR_REPLY(const json body, ParseBody(req, {"amount_fen"}));
    DCEP_OR_REPLY(const std::int64_t amount, AmountFen(body));
    DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyEntry(res, op->RequestIssuance(amount, key), 201);
  });

  server.Post(std::string(kOperatorPath) + "/recover", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    DCEP_OR_REPLY(const std::int64_t left, op->RecoverInterbank());
    ReplyJson(res, 200, {{"in_flight", left}});
  });

  server.Get(std::string(kOperatorPath) + "/audit", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    Operator* op = routes->OperatorOf(req, res);
    if (op == nullptr) return;
    DCEP_OR_REPLY(const OperatorAudit a, op->Audit());
    ReplyJson(res, 200,
              {{"position_fen", a.position_fen}, {"float_fen", a.float_fen},
               {"wallets_fen", a.wallets_fen},   {"purses_fen", a.purses_fen},
               {"escrows_fen", a.escrows_fen},   {"holds_fen", a.holds_fen},
               {"in_flight", a.in_flight},       {"wallets", a.wallets}});
  });

  // ---- Conditional payments (dcep/contract_book.h) ----
  server.Post("/v1/dcep/contracts", [routes](const Request& req, Response& res) {
    DCEP_OR_REPLY(const json body, ParseBody(req, {"operator", "terms"}));
    DCEP_OR_REPLY(const std::string op_id, OptString(body, "operator", true));
    if (Status s = CheckOperatorId("operator", op_id); !s.ok()) return ReplyStatus(res, s);
    Result<Operator*> op = routes->network_.operator_of(op_id);
    if (!op.ok()) return ReplyError(res, 404, "not_found", op.status().message(), "operator");
    const auto terms = body.find("terms");
    if (terms == body.end() || !terms->is_object()) {
      return ReplyError(res, 400, "invalid_argument", "terms: expected a JSON object", "terms");
    }
    DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
    ReplyContract(res, (*op)->contracts().Create(terms->dump(), key), 201);
  });

  server.Get("/v1/dcep/contracts/([^/]+)", [routes](const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    Operator* op = routes->ContractOperator(id, res);
    if (op == nullptr) return;
    DCEP_OR_REPLY(const Contract contract, op->contracts().Get(id));
    ReplyJson(res, 200, {{"contract", ContractJson(contract)}});
  });

  server.Post("/v1/dcep/contracts/([^/]+)/(deliver|confirm|cancel|spend)",
              [routes](const Request& req, Response& res) {
                const std::string id = req.matches[1].str();
                const std::string action = req.matches[2].str();
                Operator* op = routes->ContractOperator(id, res);
                if (op == nullptr) return;
                ContractBook& book = op->contracts();
                DCEP_OR_REPLY(const json body,
                              action == "deliver" ? ParseBody(req, {"actor_wallet", "units"})
                              : action == "spend"
                                  ? ParseBody(req, {"actor_wallet", "merchant_id", "amount_fen"})
                                  : ParseBody(req, {"actor_wallet"}));
                DCEP_OR_REPLY(const std::string actor, OptString(body, "actor_wallet", true));
                if (action == "deliver") {
                  DCEP_OR_REPLY(const std::int64_t units, PositiveInteger(body, "units"));
                  DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
                  return ReplyContract(res, book.Deliver(id, actor, units, key), 200);
                }
                if (action == "spend") {
                  DCEP_OR_REPLY(const std::string merchant, OptString(body, "merchant_id", true));
                  DCEP_OR_REPLY(const std::int64_t amount, AmountFen(body));
                  DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
                  return ReplyContract(res, book.SpendSubsidy(id, actor, merchant, amount, key),
                                       200);
                }
                DCEP_OR_REPLY(const std::string key, IdempotencyKey(req));
                ReplyContract(res,
                              action == "confirm" ? book.Confirm(id, actor, key)
                                                  : book.Cancel(id, actor, key),
                              200);
              });

  server.Post(std::string(kOperatorPath) + "/contracts/expire",
              [routes](const Request& req, Response& res) {
                if (!routes->Admin(req, res)) return;
                Operator* op = routes->OperatorOf(req, res);
                if (op == nullptr) return;
                DCEP_OR_REPLY(const std::int64_t refunded, op->contracts().ExpireContracts());
                ReplyJson(res, 200, {{"refunded", refunded}});
              });

  server.Get("/v1/dcep/central-bank/audit", [routes](const Request& req, Response& res) {
    if (!routes->Admin(req, res)) return;
    DCEP_OR_REPLY(const NetworkAudit audit, routes->network_.AuditNetwork());
    json positions = json::array();
    for (const OperatorPosition& p : audit.central_bank.positions) positions.push_back(ToJson(p));
    ReplyJson(res, 200,
              {{"issued_fen", audit.central_bank.issued_fen},
               {"positions_sum_fen", audit.central_bank.positions_sum_fen},
               {"reserves_sum_fen", audit.central_bank.reserves_sum_fen},
               {"positions", positions}});
  });

  server.Post("/v1/dcep/central-bank/(issue|redeem|settle|reverse_settlement|position)",
              [routes](const Request& req, Response& res) {
                if (!routes->Admin(req, res)) return;
                if (req.body.size() > kDcepRequestBodyBytesMax) {
                  return ReplyError(res, 400, "invalid_argument", "body: too large", "body");
                }
                const std::string answer = HandleCentralBankJson(
                    routes->network_.central_bank(), req.matches[1].str(), req.body);
                const json reply = json::parse(answer, nullptr, false);
                if (reply.is_object() && reply.contains("error")) {
                  return ReplyStatus(res,
                                     Status(ErrorCodeFromName(reply.value("error", "")),
                                            reply.value("message", "")));
                }
                res.status = 200;
                res.set_content(answer, "application/json");
              });
}

}  // namespace tapstack::dcep
