#include "wallet/wallet_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "wallet/limits.h"
#include "wallet/wallet_service.h"

namespace tapstack::wallet {

namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

// Ids in paths: the characters device ids, card ids and token ids may hold.
constexpr const char* kIdPattern = "([A-Za-z0-9_.-]{1,64})";

void Reply(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void ReplyErr(Response& res, int status, const std::string& code, const std::string& message,
              const std::string& field = "") {
  json body = {{"error", code}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  Reply(res, status, body);
}

// Service messages start with the field they blame ("phone: expected …"); that prefix becomes
// the error's "field".
std::string FieldOf(const std::string& message) {
  std::size_t colon = message.find(": ");
  if (colon == std::string::npos || colon == 0 || colon > 32) return "";
  for (std::size_t i = 0; i < colon; ++i) {
    char c = message[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return "";
  }
  return message.substr(0, colon);
}

int HttpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

json ErrorBody(const Status& status) {
  json body = {{"error", std::string(ErrorCodeName(status.code()))}, {"message", status.message()}};
  std::string field = FieldOf(status.message());
  if (!field.empty()) body["field"] = field;
  return body;
}

void ReplyStatus(Response& res, const Status& status) {
  Reply(res, HttpStatusOf(status.code()), ErrorBody(status));
}

Result<json> ParseBody(const Request& req) {
  if (req.body.size() > kRequestBodyBytesMax) {
    return OutOfRange("body: larger than " + std::to_string(kRequestBodyBytesMax) + " bytes");
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("body: expected a JSON object");
  }
  return body;
}

Result<std::string> StringField(const json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_string()) {
    return InvalidArgument(std::string(name) + ": expected a string");
  }
  return body[name].get<std::string>();
}

Result<std::int64_t> IntField(const json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_number_integer()) {
    return InvalidArgument(std::string(name) + ": expected an integer");
  }
  return body[name].get<std::int64_t>();
}

void WipeString(std::string& s) { SecureWipe(s.data(), s.size()); }

// The request body may hold a PAN and CVV2; httplib owns it, but nothing reads it after the
// handler, so overwrite it in place.
void WipeRequestBody(const Request& req) {
  std::string& body = const_cast<std::string&>(req.body);
  WipeString(body);
}

json LocationJson(const std::optional<Location>& l) {
  if (!l.has_value()) return nullptr;
  return {{"lat_e6", l->lat_e6}, {"lon_e6", l->lon_e6}, {"time_unix_ms", l->time_unix_ms}};
}

json DeviceJson(const Device& d) {
  return {{"device_id", d.device_id},
          {"kind", d.kind},
          {"name", d.name},
          {"se_public_key", d.se_public_key},
          {"storage", d.storage},
          {"state", d.state},
          {"last_location", LocationJson(d.last_location)},
          {"created_unix_ms", d.created_unix_ms}};
}

json CardJson(const Card& c) {
  json tokens = json::array();
  for (const CardToken& t : c.tokens) {
    tokens.push_back({{"token_id", t.token_id},
                      {"device_id", t.device_id},
                      {"token_last4", t.token_last4},
                      {"token_expiry", t.token_expiry},
                      {"state", t.state}});
  }
  return {
      {"card_id", c.card_id},
      {"card_type", c.card_type},
      {"masked_pan", c.masked_pan},
      {"last4", c.last4},
      {"pan_expiry", c.pan_expiry},
      {"state", c.state},
      {"is_default", c.is_default},
      {"bank", {{"name", c.bank_name}, {"short_name", c.short_name}, {"art_color", c.art_color}}},
      {"promotions", c.promotions},
      {"tokens", tokens},
      {"created_unix_ms", c.created_unix_ms}};
}

json ReportsJson(const DeviceActionResult& r) {
  json tokens = json::array();
  for (const TokenActionReport& t : r.tokens) {
    json j = {{"token_id", t.token_id},
              {"card_id", t.card_id},
              {"device_id", t.device_id},
              {"ok", t.ok},
              {"state", t.state}};
    if (!t.ok) j["error"] = t.error;
    tokens.push_back(std::move(j));
  }
  return tokens;
}

// lost / found / delete: 200 when every token call succeeded, else 503 with the same details so
// the caller retries (the calls are retry-safe).
void ReplyDeviceAction(Response& res, const Result<DeviceActionResult>& r, bool with_device) {
  if (!r.ok()) return ReplyStatus(res, r.status());
  json body = {{"tokens", ReportsJson(*r)}, {"all_succeeded", r->all_succeeded}};
  if (with_device) body["device"] = DeviceJson(r->device);
  if (!r->all_succeeded) {
    body["error"] = "unavailable";
    body["message"] = "the TSP did not complete every token; retry the call";
    return Reply(res, 503, body);
  }
  Reply(res, 200, body);
}

IdempotentReply ToReply(int status, const json& body) { return {status, body.dump(), false}; }
IdempotentReply ToReply(const Status& status) {
  return {HttpStatusOf(status.code()), ErrorBody(status).dump(), false};
}

// Runs `handler(req, res, user_id)` for a request with a valid session, else answers 401.
template <typename Handler>
auto Authed(WalletService* service, Handler handler) {
  return [service, handler](const Request& req, Response& res) {
    std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    Result<std::string> user = NotFound("expected Authorization: Bearer <session>");
    if (auth.rfind(kBearer, 0) == 0) {
      user = service->Authenticate(std::string_view(auth).substr(kBearer.size()));
    }
    if (!user.ok()) {
      if (user.status().code() != ErrorCode::kNotFound) return ReplyStatus(res, user.status());
      res.set_header("WWW-Authenticate", "Bearer");
      return ReplyErr(res, 401, "unauthenticated", user.status().message(), "Authorization");
    }
    handler(req, res, *user);
  };
}

// The Idempotency-Key protocol around `call`.
void Idempotent(WalletService* service, const Request& req, Response& res,
                const std::string& user_id, const std::function<IdempotentReply()>& call) {
  if (!req.has_header("Idempotency-Key")) {
    return ReplyErr(res, 400, "invalid_argument", "required on this call", "Idempotency-Key");
  }
  auto reply = service->RunIdempotent(user_id, req.get_header_value("Idempotency-Key"),
                                      req.method + " " + req.path, req.body, call);
  if (!reply.ok()) {
    if (reply.status().code() == ErrorCode::kAlreadyExists) {
      return ReplyErr(res, 422, "idempotency_key_reused", reply.status().message(),
                      "Idempotency-Key");
    }
    return ReplyStatus(res, reply.status());
  }
  res.status = reply->http_status;
  res.set_content(reply->body, "application/json");
  if (reply->replayed) res.set_header("Idempotent-Replayed", "true");
}

struct Credentials {
  std::string phone;
  std::string password;  // wiped by the caller after use
};

// {"phone", "password"} of sign-up and sign-in. The parsed body's copy of the password is wiped.
Result<Credentials> ParseCredentials(const Request& req) {
  TS_ASSIGN_OR_RETURN(json body, ParseBody(req));
  Credentials c;
  TS_ASSIGN_OR_RETURN(c.phone, StringField(body, "phone"));
  Result<std::string> password = StringField(body, "password");
  if (body.contains("password") && body["password"].is_string()) {
    WipeString(body["password"].get_ref<std::string&>());
  }
  TS_ASSIGN_OR_RETURN(c.password, std::move(password));
  return c;
}

}  // namespace

void InstallWalletRoutes(httplib::Server& server, WalletService& service) {
  WalletService* s = &service;
  const std::string id = kIdPattern;

  // --- Users and sessions ---
  server.Post("/v1/users", [s](const Request& req, Response& res) {
    auto credentials = ParseCredentials(req);
    if (!credentials.ok()) return ReplyStatus(res, credentials.status());
    auto user = s->SignUp(credentials->phone, credentials->password);
    WipeString(credentials->password);
    WipeRequestBody(req);
    if (!user.ok()) return ReplyStatus(res, user.status());
    Reply(res, 201,
          {{"user_id", user->user_id},
           {"phone", user->phone},
           {"created_unix_ms", user->created_unix_ms}});
  });
  server.Post("/v1/sessions", [s](const Request& req, Response& res) {
    auto credentials = ParseCredentials(req);
    if (!credentials.ok()) return ReplyStatus(res, credentials.status());
    auto session = s->SignIn(credentials->phone, credentials->password);
    WipeString(credentials->password);
    WipeRequestBody(req);
    if (!session.ok() && session.status().code() == ErrorCode::kFailedPrecondition) {
      // Rate-limited (WalletService kSignInFailuresMax): 429 with Retry-After (RFC 6585 4).
      const std::int64_t retry_after = s->SignInRetryAfterSeconds(credentials->phone);
      if (retry_after > 0) {
        res.set_header("Retry-After", std::to_string(retry_after));
        return Reply(res, 429, {{"error", "rate_limited"},
                                {"message", session.status().message()},
                                {"retry_after_seconds", retry_after}});
      }
    }
    if (!session.ok()) {
      if (session.status().code() == ErrorCode::kNotFound) {
        return ReplyErr(res, 401, "unauthenticated", session.status().message());
      }
      return ReplyStatus(res, session.status());
    }
    Reply(res, 201,
          {{"session", session->token},
           {"user_id", session->user_id},
           {"expires_unix_ms", session->expires_unix_ms}});
  });
  server.Delete("/v1/sessions/current",
                Authed(s, [s](const Request& req, Response& res, const std::string&) {
                  std::string auth = req.get_header_value("Authorization");
                  Status st = s->SignOut(std::string_view(auth).substr(7));
                  if (!st.ok()) return ReplyStatus(res, st);
                  res.status = 204;
                }));

  // --- Devices ---
  server.Get("/v1/devices", Authed(s, [s](const Request&, Response& res, const std::string& user) {
               auto devices = s->ListDevices(user);
               if (!devices.ok()) return ReplyStatus(res, devices.status());
               json list = json::array();
               for (const Device& d : *devices) list.push_back(DeviceJson(d));
               Reply(res, 200, {{"devices", list}});
             }));
  server.Post("/v1/devices",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                auto body = ParseBody(req);
                if (!body.ok()) return ReplyStatus(res, body.status());
                DeviceRegistration reg;
                for (auto [name, out] :
                     {std::pair{"device_id", &reg.device_id}, std::pair{"kind", &reg.kind},
                      std::pair{"name", &reg.name}, std::pair{"se_public_key", &reg.se_public_key},
                      std::pair{"storage", &reg.storage}}) {
                  auto v = StringField(*body, name);
                  if (!v.ok()) return ReplyStatus(res, v.status());
                  *out = *v;
                }
                auto device = s->RegisterDevice(user, reg);
                if (!device.ok()) return ReplyStatus(res, device.status());
                Reply(res, 201, DeviceJson(*device));
              }));
  server.Get("/v1/devices/" + id,
             Authed(s, [s](const Request& req, Response& res, const std::string& user) {
               auto device = s->GetDevice(user, req.matches[1]);
               if (!device.ok()) return ReplyStatus(res, device.status());
               Reply(res, 200, DeviceJson(*device));
             }));
  server.Post("/v1/devices/" + id + "/location",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                auto body = ParseBody(req);
                if (!body.ok()) return ReplyStatus(res, body.status());
                auto lat = IntField(*body, "lat_e6");
                if (!lat.ok()) return ReplyStatus(res, lat.status());
                auto lon = IntField(*body, "lon_e6");
                if (!lon.ok()) return ReplyStatus(res, lon.status());
                auto device = s->ReportLocation(user, req.matches[1], *lat, *lon);
                if (!device.ok()) return ReplyStatus(res, device.status());
                Reply(res, 200, DeviceJson(*device));
              }));
  server.Post("/v1/devices/" + id + "/lost",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                ReplyDeviceAction(res, s->MarkDeviceLost(user, req.matches[1]), true);
              }));
  server.Post("/v1/devices/" + id + "/found",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                ReplyDeviceAction(res, s->MarkDeviceFound(user, req.matches[1]), true);
              }));
  server.Delete("/v1/devices/" + id,
                Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                  ReplyDeviceAction(res, s->DeleteDevice(user, req.matches[1]), true);
                }));

  // --- Cards ---
  server.Get("/v1/cards", Authed(s, [s](const Request&, Response& res, const std::string& user) {
               // Token states from the TSP's notification feed first, so a token the issuer
               // suspended shows as suspended; when the TSP cannot be reached the list shows the
               // states last known.
               bool synced = s->SyncTokenStates().ok();
               auto cards = s->ListCards(user);
               if (!cards.ok()) return ReplyStatus(res, cards.status());
               json list = json::array();
               for (const Card& c : *cards) list.push_back(CardJson(c));
               Reply(res, 200,
                     {{"cards", list},
                      {"token_states_synced", synced},
                      {"cards_max", kBankCardsPerAccountMax}});
             }));
  server.Post(
      "/v1/cards", Authed(s, [s](const Request& req, Response& res, const std::string& user) {
        Idempotent(s, req, res, user, [&]() -> IdempotentReply {
          auto body = ParseBody(req);
          if (!body.ok()) return ToReply(body.status());
          AddCardRequest add;
          for (auto [name, out] :
               {std::pair{"device_id", &add.device_id}, std::pair{"card_type", &add.card_type},
                std::pair{"pan", &add.pan}, std::pair{"expiry", &add.expiry},
                std::pair{"cvv2", &add.cvv2}, std::pair{"holder_name", &add.holder_name}}) {
            auto v = StringField(*body, name);
            if (!v.ok()) return ToReply(v.status());
            *out = std::move(*v);
          }
          for (const char* f : {"pan", "cvv2"}) WipeString((*body)[f].get_ref<std::string&>());
          auto result = s->AddCard(user, add);
          WipeString(add.pan);
          WipeString(add.cvv2);
          if (!result.ok()) return ToReply(result.status());
          switch (result->outcome) {
            case AddCardOutcome::kActive:
              return ToReply(201, {{"result", "active"},
                                   {"card", CardJson(*result->card)},
                                   {"device_id", add.device_id},
                                   {"credentials", result->credentials}});
            case AddCardOutcome::kPendingVerification:
              return ToReply(202,
                             {{"result", "pending_verification"},
                              {"card", CardJson(*result->card)},
                              {"otp",
                               {{"sent_to", result->otp ? result->otp->sent_to : ""},
                                {"expires_unix_ms", result->otp ? result->otp->expires_unix_ms : 0},
                                {"attempts_left", result->otp ? result->otp->attempts_left : 0}}}});
            case AddCardOutcome::kDeclined:
              break;
          }
          return ToReply(422,
                         {{"error", "card_declined"},
                          {"message", "the issuer declined the card: " + result->decline_reason},
                          {"decline_reason", result->decline_reason},
                          {"response_code", result->response_code}});
        });
        WipeRequestBody(req);
      }));
  server.Get("/v1/cards/" + id,
             Authed(s, [s](const Request& req, Response& res, const std::string& user) {
               (void)s->SyncTokenStates();  // best effort, as for the list
               auto card = s->GetCard(user, req.matches[1]);
               if (!card.ok()) return ReplyStatus(res, card.status());
               Reply(res, 200, CardJson(*card));
             }));
  server.Delete("/v1/cards/" + id,
                Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                  ReplyDeviceAction(res, s->DeleteCard(user, req.matches[1]), false);
                }));
  server.Post("/v1/cards/" + id + "/default",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                auto card = s->SetDefaultCard(user, req.matches[1]);
                if (!card.ok()) return ReplyStatus(res, card.status());
                Reply(res, 200, CardJson(*card));
              }));
  server.Post("/v1/cards/" + id + "/verify",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                std::string card_id = req.matches[1];
                Idempotent(s, req, res, user, [&]() -> IdempotentReply {
                  auto body = ParseBody(req);
                  if (!body.ok()) return ToReply(body.status());
                  auto otp = StringField(*body, "otp");
                  if (!otp.ok()) return ToReply(otp.status());
                  auto result = s->VerifyCard(user, card_id, *otp);
                  if (!result.ok()) return ToReply(result.status());
                  switch (result->outcome) {
                    case OtpOutcome::kApproved:
                      return ToReply(200, {{"result", "active"},
                                           {"card", CardJson(*result->card)},
                                           {"credentials", result->credentials}});
                    case OtpOutcome::kMismatch:
                      return ToReply(422, {{"error", "otp_mismatch"},
                                           {"message", "the code is wrong"},
                                           {"field", "otp"},
                                           {"attempts_left", result->attempts_left}});
                    case OtpOutcome::kExpired:
                      return ToReply(
                          410, {{"error", "otp_expired"},
                                {"message", "the code expired; add the card again for a new one"},
                                {"field", "otp"}});
                    case OtpOutcome::kLocked:
                      break;
                  }
                  return ToReply(
                      423, {{"error", "otp_locked"},
                            {"message", "too many wrong codes; the card was removed, try later"},
                            {"field", "otp"}});
                });
              }));
  server.Post("/v1/cards/" + id + "/devices",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                std::string card_id = req.matches[1];
                Idempotent(s, req, res, user, [&]() -> IdempotentReply {
                  auto body = ParseBody(req);
                  if (!body.ok()) return ToReply(body.status());
                  auto device_id = StringField(*body, "device_id");
                  if (!device_id.ok()) return ToReply(device_id.status());
                  auto result = s->AddCardToDevice(user, card_id, *device_id);
                  if (!result.ok()) return ToReply(result.status());
                  return ToReply(201, {{"card", CardJson(result->card)},
                                       {"device_id", *device_id},
                                       {"credentials", result->credentials}});
                });
              }));
  server.Post("/v1/cards/" + id + "/devices/" + id + "/keys",
              Authed(s, [s](const Request& req, Response& res, const std::string& user) {
                auto body = ParseBody(req);
                if (!body.ok()) return ReplyStatus(res, body.status());
                auto count = IntField(*body, "count");
                if (!count.ok()) return ReplyStatus(res, count.status());
                auto credentials = s->ReplenishKeys(user, req.matches[1], req.matches[2],
                                                    static_cast<int>(*count));
                if (!credentials.ok()) return ReplyStatus(res, credentials.status());
                Reply(res, 200, {{"device_id", std::string(req.matches[2])},
                                 {"credentials", *credentials}});
              }));
  server.Get("/v1/cards/" + id + "/transactions",
             Authed(s, [s](const Request& req, Response& res, const std::string& user) {
               auto txs = s->CardTransactions(user, req.matches[1]);
               if (!txs.ok()) return ReplyStatus(res, txs.status());
               json list = json::array();
               for (const CardTransaction& t : *txs) {
                 list.push_back({{"token_id", t.token_id},
                                 {"device_id", t.device_id},
                                 {"time_unix_ms", t.tx.time_unix_ms},
                                 {"amount_minor", t.tx.amount_minor},
                                 {"currency", t.tx.currency},
                                 {"merchant", t.tx.merchant},
                                 {"mcc", t.tx.mcc},
                                 {"approved", t.tx.approved},
                                 {"response_code", t.tx.response_code},
                                 {"approval_code", t.tx.approval_code},
                                 {"stan", t.tx.stan},
                                 {"channel", t.tx.channel}});
               }
               Reply(res, 200, {{"transactions", list}});
             }));
  server.Get("/v1/cards/" + id + "/promotions",
             Authed(s, [s](const Request& req, Response& res, const std::string& user) {
               auto card = s->GetCard(user, req.matches[1]);
               if (!card.ok()) return ReplyStatus(res, card.status());
               Reply(res, 200,
                     {{"card_id", card->card_id},
                      {"bank_name", card->bank_name},
                      {"promotions", card->promotions}});
             }));
}

}  // namespace tapstack::wallet
