#include "tsp/tsp_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/currency.h"
#include "core/hex.h"
#include "tsp/tsp_service.h"

namespace tapstack::tsp {

namespace {

using nlohmann::json;

constexpr std::size_t kDefaultTransactionsLimit = 50;
constexpr std::size_t kDefaultNotificationsLimit = 100;
constexpr std::size_t kDefaultReplenishKeys = 10;
constexpr const char* kTokenPath = R"(/v1/tsp/tokens/([A-Za-z0-9_]{1,64}))";

// A JSON error body; `field` is added when known.
void ReplyError(httplib::Response& res, int http, std::string_view code, std::string_view message,
                std::string_view field = {}) {
  json body = {{"error", code}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  res.status = http;
  res.set_content(body.dump(), "application/json");
}

// The field a Status message names: messages of invalid input start with "<field>: ".
std::string FieldOf(const std::string& message) {
  const std::size_t colon = message.find(": ");
  if (colon == std::string::npos || colon == 0 || colon > 64) return {};
  const std::string field = message.substr(0, colon);
  for (const char c : field) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '[' ||
          c == ']')) {
      return {};
    }
  }
  return field;
}

void ReplyStatus(httplib::Response& res, const Status& s) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      return ReplyError(res, 400, "invalid_argument", s.message(), FieldOf(s.message()));
    case ErrorCode::kNotFound: return ReplyError(res, 404, "not_found", s.message());
    case ErrorCode::kFailedPrecondition:
      return ReplyError(res, 409, "failed_precondition", s.message());
    case ErrorCode::kUnavailable: return ReplyError(res, 503, "unavailable", s.message());
    default: return ReplyError(res, 500, "internal", std::string(ErrorCodeName(s.code())));
  }
}

void ReplyJson(httplib::Response& res, const json& body) {
  res.status = 200;
  res.set_content(body.dump(), "application/json");
}

json TokenJson(const TokenRecord& r, KeyStorage storage) {
  return {{"token_id", r.token_id},
          {"token_last4", r.token_number.size() >= 4
                              ? r.token_number.substr(r.token_number.size() - 4)
                              : std::string()},
          {"token_expiry", r.token_expiry},
          {"masked_pan", r.masked_pan},
          {"par", r.par},
          {"state", TokenStateName(r.state)},
          {"device_id", r.device_id},
          {"requestor_id", r.requestor_id},
          {"storage", KeyStorageName(storage)}};
}

json OutcomeJson(const ProvisionOutcome& o) {
  json body = {{"decision", ProvisionDecisionName(o.decision)}};
  if (!o.response_code.empty()) body["response_code"] = o.response_code;
  if (o.token) body["token"] = TokenJson(*o.token, o.storage);
  if (o.otp) {
    body["otp"] = {{"sent_to", o.otp->masked_phone},
                   {"expires_unix_ms", o.otp->expires_unix_ms},
                   {"attempts_left", o.otp->attempts_left}};
  }
  if (o.decision == ProvisionDecision::kApproved) body["credentials"] = HexEncode(o.credentials);
  if (o.decision == ProvisionDecision::kDeclined) body["decline_reason"] = o.decline_reason;
  return body;
}

// The caller's requestor, or a 401 reply.
std::optional<TokenRequestor> Authenticated(TspService& service, const httplib::Request& req,
                                            httplib::Response& res) {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  std::optional<TokenRequestor> who;
  if (header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0) {
    who = service.Authenticate(std::string_view(header).substr(kBearer.size()));
  }
  if (!who) {
    ReplyError(res, 401, "unauthenticated", "missing or unknown token requestor API key");
  }
  return who;
}

// The JSON object body, or a 400 reply.
std::optional<json> Body(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    ReplyError(res, 400, "invalid_argument", "body: expected a JSON object", "body");
    return std::nullopt;
  }
  return body;
}

// A string member: required ones missing or of another type are errors naming the field.
Result<std::string> StringField(const json& body, const char* field, bool required) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) return InvalidArgument(std::string(field) + ": required");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string(field) + ": expected a string");
  return it->get<std::string>();
}

Result<std::int64_t> IntParam(const httplib::Request& req, const char* name, std::int64_t fallback,
                              std::int64_t min, std::int64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  if (v.empty() || v.size() > 18 || !IsAllDigits(v)) {
    return InvalidArgument(std::string(name) + ": expected an integer " + std::to_string(min) +
                           "-" + std::to_string(max));
  }
  const std::int64_t n = std::stoll(v);
  if (n < min || n > max) {
    return InvalidArgument(std::string(name) + ": expected an integer " + std::to_string(min) +
                           "-" + std::to_string(max));
  }
  return n;
}

Result<Bytes> DeviceKey(const json& body) {
  TS_ASSIGN_OR_RETURN(const std::string hex, StringField(body, "device_public_key", true));
  Result<Bytes> key = HexDecode(hex);
  if (!key.ok()) return InvalidArgument("device_public_key: expected hex");
  return key;
}

std::string_view Channel(std::string_view pos_entry_mode) {
  const std::string_view mode = pos_entry_mode.substr(0, 2);
  if (mode == "07") return "contactless";
  if (mode == "81" || mode == "09") return "in_app";
  return "other";
}

bool Approved(std::string_view response_code) {
  // ISO 8583:1987 DE39 approvals: 00 approved, 08 honour with identification, 10 partial, 11 VIP.
  return response_code == "00" || response_code == "08" || response_code == "10" ||
         response_code == "11";
}

#define TSP_OR_REPLY(lhs, expr)                       \
  auto TS_CONCAT_(tsp_r_, __LINE__) = (expr);         \
  if (!TS_CONCAT_(tsp_r_, __LINE__).ok()) {           \
    ReplyStatus(res, TS_CONCAT_(tsp_r_, __LINE__).status()); \
    return;                                           \
  }                                                   \
  lhs = std::move(TS_CONCAT_(tsp_r_, __LINE__)).value()

void Provision(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  std::optional<json> body = Body(req, res);
  if (!body) return;
  ProvisionRequest r;
  TSP_OR_REPLY(r.requestor_id, StringField(*body, "requestor_id", true));
  if (r.requestor_id != who->id) {
    return ReplyError(res, 400, "invalid_argument",
                      "requestor_id: not the requestor of the API key", "requestor_id");
  }
  TSP_OR_REPLY(r.device_id, StringField(*body, "device_id", true));
  TSP_OR_REPLY(r.device_public_key, DeviceKey(*body));
  TSP_OR_REPLY(const std::string storage, StringField(*body, "storage", true));
  TSP_OR_REPLY(r.storage, ParseKeyStorage(storage));
  TSP_OR_REPLY(r.pan, StringField(*body, "pan", true));
  TSP_OR_REPLY(r.pan_expiry, StringField(*body, "pan_expiry", true));
  TSP_OR_REPLY(r.cvv2, StringField(*body, "cvv2", true));
  TSP_OR_REPLY(r.holder_name, StringField(*body, "holder_name", false));
  TSP_OR_REPLY(r.phone, StringField(*body, "phone", true));
  // The parsed body holds the PAN and CVV2 too: wipe its copies once they are taken.
  for (const char* secret : {"pan", "cvv2"}) {
    auto& v = (*body)[secret].get_ref<std::string&>();
    SecureWipe(v.data(), v.size());
  }
  TSP_OR_REPLY(const ProvisionOutcome outcome, service.Provision(std::move(r)));
  ReplyJson(res, OutcomeJson(outcome));
}

void VerifyOtp(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  std::optional<json> body = Body(req, res);
  if (!body) return;
  TSP_OR_REPLY(const std::string otp, StringField(*body, "otp", true));
  TSP_OR_REPLY(const OtpVerification v, service.VerifyOtp(who->id, req.matches[1].str(), otp));
  switch (v.outcome) {
    case OtpOutcome::kVerified: return ReplyJson(res, OutcomeJson(v.approved));
    case OtpOutcome::kExpired:
      return ReplyError(res, 410, "otp_expired", "the code expired: provision again for a new one");
    case OtpOutcome::kLocked:
      return ReplyError(res, 423, "otp_locked",
                        "too many wrong codes: the token is deleted and the card is locked out of "
                        "provisioning for a while");
    case OtpOutcome::kMismatch: {
      json body_out = {{"error", "otp_mismatch"},
                       {"message", "wrong code"},
                       {"field", "otp"},
                       {"attempts_left", v.attempts_left}};
      res.status = 422;
      res.set_content(body_out.dump(), "application/json");
      return;
    }
  }
}

void AnotherDevice(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  std::optional<json> body = Body(req, res);
  if (!body) return;
  TSP_OR_REPLY(const std::string device_id, StringField(*body, "device_id", true));
  TSP_OR_REPLY(const Bytes key, DeviceKey(*body));
  TSP_OR_REPLY(const std::string storage_name, StringField(*body, "storage", true));
  TSP_OR_REPLY(const KeyStorage storage, ParseKeyStorage(storage_name));
  TSP_OR_REPLY(const ProvisionOutcome outcome,
               service.ProvisionToAnotherDevice(who->id, req.matches[1].str(), device_id, key,
                                                storage));
  ReplyJson(res, OutcomeJson(outcome));
}

void Lifecycle(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  std::optional<json> body = req.body.empty() ? json::object() : Body(req, res);
  if (!body) return;
  TSP_OR_REPLY(std::string reason, StringField(*body, "reason", false));
  const std::string action = req.matches[2].str();
  if (reason.empty()) reason = "requested by the wallet";
  const std::string token_id = req.matches[1].str();
  Result<TokenView> view = action == "suspend" ? service.Suspend(who->id, token_id, reason)
                           : action == "resume" ? service.Resume(who->id, token_id, reason)
                                                : service.Delete(who->id, token_id, reason);
  if (!view.ok()) return ReplyStatus(res, view.status());
  ReplyJson(res, {{"token", TokenJson(view->record, view->storage)}});
}

void GetToken(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  TSP_OR_REPLY(const TokenView view, service.GetToken(who->id, req.matches[1].str()));
  ReplyJson(res, {{"token", TokenJson(view.record, view.storage)}});
}

void Transactions(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  TSP_OR_REPLY(const std::int64_t limit,
               IntParam(req, "limit", kDefaultTransactionsLimit, 1, kHistoryListMax));
  TSP_OR_REPLY(const std::vector<TokenHistoryEntry> entries,
               service.Transactions(who->id, req.matches[1].str(),
                                    static_cast<std::size_t>(limit)));
  json list = json::array();
  for (const TokenHistoryEntry& e : entries) {
    Result<const Currency*> currency = CurrencyByNumeric(e.currency_numeric);
    list.push_back({{"time_unix_ms", e.time_unix_ms},
                    {"amount_minor", e.amount_minor},
                    {"currency", currency.ok() ? std::string((*currency)->alpha)
                                               : std::to_string(e.currency_numeric)},
                    {"merchant", e.merchant},
                    {"mcc", e.mcc},
                    {"approved", Approved(e.response_code)},
                    {"response_code", e.response_code},
                    {"approval_code", e.approval_code},
                    {"stan", e.stan},
                    {"channel", Channel(e.pos_entry_mode)}});
  }
  ReplyJson(res, {{"transactions", list}});
}

void Keys(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  std::optional<json> body = req.body.empty() ? json::object() : Body(req, res);
  if (!body) return;
  std::int64_t count = kDefaultReplenishKeys;
  if (const auto it = body->find("count"); it != body->end()) {
    if (!it->is_number_integer()) {
      return ReplyError(res, 400, "invalid_argument", "count: expected an integer", "count");
    }
    count = it->get<std::int64_t>();
    if (count < 1) return ReplyError(res, 400, "invalid_argument", "count: expected >= 1", "count");
  }
  TSP_OR_REPLY(const Bytes batch, service.ReplenishKeys(who->id, req.matches[1].str(),
                                                        static_cast<std::size_t>(count)));
  ReplyJson(res, {{"credentials", HexEncode(batch)}});
}

void Notifications(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  TSP_OR_REPLY(const std::int64_t after, IntParam(req, "after", 0, 0, INT64_MAX / 2));
  TSP_OR_REPLY(const std::int64_t limit,
               IntParam(req, "limit", kDefaultNotificationsLimit, 1, kNotificationsListMax));
  TSP_OR_REPLY(const std::vector<TokenNotification> events,
               service.Notifications(who->id, after, static_cast<std::size_t>(limit)));
  json list = json::array();
  for (const TokenNotification& n : events) {
    list.push_back({{"seq", n.seq},
                    {"token_id", n.token_id},
                    {"device_id", n.device_id},
                    {"event", n.event},
                    {"from", n.from},
                    {"to", n.to},
                    {"initiator", n.initiator},
                    {"time_unix_ms", n.time_unix_ms}});
  }
  ReplyJson(res, {{"notifications", list}});
}

void SmsOutbox(TspService& service, const httplib::Request& req, httplib::Response& res) {
  const std::optional<TokenRequestor> who = Authenticated(service, req, res);
  if (!who) return;
  if (!req.has_param("phone")) {
    return ReplyError(res, 400, "invalid_argument", "phone: required", "phone");
  }
  TSP_OR_REPLY(const std::int64_t after, IntParam(req, "after", 0, 0, INT64_MAX / 2));
  Result<std::vector<SmsOutboxMessage>> messages =
      service.SmsOutbox(req.get_param_value("phone"), after);
  if (!messages.ok() && messages.status().code() == ErrorCode::kFailedPrecondition) {
    return ReplyError(res, 404, "not_found", "the SMS gateway is not the outbox");
  }
  if (!messages.ok()) return ReplyStatus(res, messages.status());
  json list = json::array();
  for (const SmsOutboxMessage& m : *messages) {
    list.push_back(
        {{"seq", m.seq}, {"to", m.to}, {"text", m.text}, {"time_unix_ms", m.time_unix_ms}});
  }
  ReplyJson(res, {{"messages", list}});
}

}  // namespace

void InstallTspRoutes(httplib::Server& server, TspService& service) {
  TspService* s = &service;
  const std::string token = kTokenPath;
  server.Post("/v1/tsp/provisionings", [s](const httplib::Request& req, httplib::Response& res) {
    Provision(*s, req, res);
  });
  server.Post(token + "/otp", [s](const httplib::Request& req, httplib::Response& res) {
    VerifyOtp(*s, req, res);
  });
  server.Post(token + "/devices", [s](const httplib::Request& req, httplib::Response& res) {
    AnotherDevice(*s, req, res);
  });
  server.Post(token + "/(suspend|resume|delete)",
              [s](const httplib::Request& req, httplib::Response& res) { Lifecycle(*s, req, res); });
  server.Post(token + "/keys",
              [s](const httplib::Request& req, httplib::Response& res) { Keys(*s, req, res); });
  server.Get(token + "/transactions", [s](const httplib::Request& req, httplib::Response& res) {
    Transactions(*s, req, res);
  });
  server.Get(token, [s](const httplib::Request& req, httplib::Response& res) {
    GetToken(*s, req, res);
  });
  server.Get("/v1/tsp/notifications", [s](const httplib::Request& req, httplib::Response& res) {
    Notifications(*s, req, res);
  });
  server.Get("/v1/tsp/sms-outbox", [s](const httplib::Request& req, httplib::Response& res) {
    SmsOutbox(*s, req, res);
  });
}

}  // namespace tapstack::tsp
