#include "handset/handset_http.h"

#include <limits>

#include "json_api/json_api.h"

namespace tapstack::handset {

using httplib::Request;
using httplib::Response;
using json_api::ParseBody;
using json_api::ReplyJson;
using json_api::ReplyStatus;
using json_api::StringMember;
using nlohmann::json;

namespace {

constexpr char kHandset[] = R"(/v1/handsets/([^/]+))";
constexpr char kCard[] = R"(/v1/handsets/([^/]+)/transit/cards/([^/]+))";
constexpr std::int64_t kDcepAmountFenMax = 100'000'000;  // the applet's own caps apply below this
constexpr std::size_t kIdempotencyKeyBytesMax = 64;

// Member `name` as an integer in [min, max]. Errors name the member.
Result<std::int64_t> IntMember(const json& body, const char* name, std::int64_t min,
                               std::int64_t max, bool required = true) {
  if (!body.contains(name)) {
    if (required) return InvalidArgument(std::string(name) + ": required");
    return min;
  }
  const json& v = body[name];
  if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max) {
    return InvalidArgument(std::string(name) + ": expected an integer in " + std::to_string(min) +
                           ".." + std::to_string(max));
  }
  return v.get<std::int64_t>();
}

// The Idempotency-Key header (1-kIdempotencyKeyBytesMax bytes). Errors name the header.
Result<std::string> IdempotencyKey(const Request& req) {
  std::string key = req.get_header_value("Idempotency-Key");
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) {
    return InvalidArgument("Idempotency-Key: header required, 1-" +
                           std::to_string(kIdempotencyKeyBytesMax) + " bytes");
  }
  return key;
}

Result<bool> BoolMember(const json& body, const char* name) {
  if (!body.contains(name)) return false;
  if (!body[name].is_boolean())
    return InvalidArgument(std::string(name) + ": expected true or false");
  return body[name].get<bool>();
}

json HandsetJson(const HandsetInfo& h) {
  return {{"handset_id", h.handset_id},
          {"kind", h.kind == HandsetKind::kWatch ? "watch" : "phone"},
          {"name", h.name},
          {"phone", h.phone},
          {"se_public_key", h.se_public_key_hex},
          {"created_unix_ms", h.created_unix_ms}};
}

json TapJson(const TapOutcome& t) {
  json merchant = nullptr;
  if (t.merchant != nullptr) {
    merchant = {{"merchant_id", t.merchant->merchant_id},
                {"name", t.merchant->name},
                {"city", t.merchant->city},
                {"country", t.merchant->country}};
  }
  return {{"approved", t.approved},
          {"offline_decline", t.offline_decline},
          {"response_code", t.response_code},
          {"approval_code", t.approval_code},
          {"stan", t.stan},
          {"rrn", t.rrn},
          {"token_last4", t.token_last4},
          {"amount_minor", t.amount_minor},
          {"currency", t.currency},
          {"merchant", merchant},
          {"message", t.message}};
}

}  // namespace

void InstallHandsetRoutes(httplib::Server& server, HandsetHost& host) {
  HandsetHost* h = &host;
  server.Post("/v1/handsets", [h](const Request& req, Response& res) {
    // Only a signed-in wallet user makes handsets (at most kHandsetsPerUserMax each).
    Result<std::string> owner = h->Authenticate(json_api::BearerToken(req));
    if (!owner.ok()) {
      res.set_header("WWW-Authenticate", "Bearer");
      return json_api::ReplyError(res, 401, "unauthenticated",
                                  "Authorization: a wallet session is required (Bearer <session>)");
    }
    JSON_API_ASSIGN_OR_REPLY(const json body,
                             ParseBody(req, {"kind", "name", "phone"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string kind, StringMember(body, "kind", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string name, StringMember(body, "name", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string phone, StringMember(body, "phone", true));
    JSON_API_ASSIGN_OR_REPLY(const HandsetInfo info, h->Create(*owner, kind, name, phone));
    ReplyJson(res, 201, HandsetJson(info));
  });
  server.Get("/v1/pos/merchants", [h](const Request&, Response& res) {
    json merchants = json::array();
    for (const demo::DemoMerchant& m : h->merchants()) {
      merchants.push_back(
          {{"merchant_id", m.merchant_id},
           {"name", m.name},
           {"city", m.city},
           {"country", m.country},
           {"currency", m.currency != nullptr ? std::string(m.currency->alpha) : ""},
           {"mcc", m.mcc}});
    }
    ReplyJson(res, 200, {{"merchants", merchants}});
  });
  server.Get(kHandset, [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const HandsetInfo info, h->Get(req.matches[1].str()));
    JSON_API_ASSIGN_OR_REPLY(const json contents, h->Contents(info.handset_id));
    json body = HandsetJson(info);
    body.update(contents);
    ReplyJson(res, 200, body);
  });
  server.Get(std::string(kHandset) + "/messages", [h](const Request& req, Response& res) {
    std::int64_t after = 0;
    if (req.has_param("after_unix_ms")) {
      const std::string text = req.get_param_value("after_unix_ms");
      char* end = nullptr;
      after = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || end == nullptr || *end != '\0' || after < 0) {
        return json_api::ReplyError(res, 400, "invalid_argument",
                                    "after_unix_ms: expected a non-negative integer",
                                    "after_unix_ms");
      }
    }
    JSON_API_ASSIGN_OR_REPLY(const json messages, h->Messages(req.matches[1].str(), after));
    ReplyJson(res, 200, {{"messages", messages}});
  });
  server.Post(std::string(kHandset) + "/credentials", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json body,
                             ParseBody(req, {"token_id", "credentials"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string token_id, StringMember(body, "token_id", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string credentials,
                             StringMember(body, "credentials", true));
    if (Status s = h->InstallToken(req.matches[1].str(), token_id, credentials); !s.ok()) {
      return ReplyStatus(res, s);
    }
    ReplyJson(res, 200, {{"token_id", token_id}, {"installed", true}});
  });
  server.Post(std::string(kHandset) + "/taps", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(
        const json body, ParseBody(req, {"token_id", "merchant_id", "amount_minor", "fingerprint"},
                                   kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string token_id, StringMember(body, "token_id", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string merchant_id,
                             StringMember(body, "merchant_id", true));
    JSON_API_ASSIGN_OR_REPLY(const std::int64_t amount,
                             IntMember(body, "amount_minor", 1, kTapAmountMinorMax));
    JSON_API_ASSIGN_OR_REPLY(const bool fingerprint, BoolMember(body, "fingerprint"));
    JSON_API_ASSIGN_OR_REPLY(const TapOutcome tap, h->Tap(req.matches[1].str(), token_id,
                                                          merchant_id, amount, fingerprint));
    ReplyJson(res, 200, TapJson(tap));
  });
  server.Post(std::string(kHandset) + "/in-app-payments", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(
        const json body,
        ParseBody(req, {"token_id", "payment_request", "fingerprint"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string token_id, StringMember(body, "token_id", false));
    JSON_API_ASSIGN_OR_REPLY(const bool fingerprint, BoolMember(body, "fingerprint"));
    JSON_API_ASSIGN_OR_REPLY(const json data,
                             h->InAppPayment(req.matches[1].str(), token_id,
                                             body.value("payment_request", json()), fingerprint));
    ReplyJson(res, 200, {{"payment_data", data}});
  });
  server.Post(std::string(kHandset) + "/dcep", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json body,
                             ParseBody(req, {"operator", "wallet_id"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string op, StringMember(body, "operator", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string wallet, StringMember(body, "wallet_id", true));
    JSON_API_ASSIGN_OR_REPLY(const json status,
                             h->OpenDcepWallet(req.matches[1].str(), op, wallet));
    ReplyJson(res, 201, status);
  });
  server.Get(std::string(kHandset) + "/dcep", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json status, h->DcepStatus(req.matches[1].str()));
    ReplyJson(res, 200, status);
  });
  server.Post(std::string(kHandset) + "/dcep/loads", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json body, ParseBody(req, {"amount_fen"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::int64_t fen,
                             IntMember(body, "amount_fen", 1, kDcepAmountFenMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string key, IdempotencyKey(req));
    JSON_API_ASSIGN_OR_REPLY(const json status, h->LoadDcep(req.matches[1].str(), fen, key));
    ReplyJson(res, 200, status);
  });
  server.Post(std::string(kHandset) + "/dcep/offline-payments", [h](const Request& req,
                                                                    Response& res) {
    JSON_API_ASSIGN_OR_REPLY(
        const json body, ParseBody(req, {"payee_handset_id", "amount_fen"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string payee, StringMember(body, "payee_handset_id", true));
    JSON_API_ASSIGN_OR_REPLY(const std::int64_t fen,
                             IntMember(body, "amount_fen", 1, kDcepAmountFenMax));
    JSON_API_ASSIGN_OR_REPLY(const json paid, h->PayDcepOffline(req.matches[1].str(), payee, fen));
    ReplyJson(res, 200, paid);
  });
  server.Post(std::string(kHandset) + "/dcep/sync", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json synced, h->SyncDcep(req.matches[1].str()));
    ReplyJson(res, 200, synced);
  });
  server.Post(std::string(kHandset) + "/transit/cards", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(
        const json body, ParseBody(req, {"city", "account_id", "token_id"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string city, StringMember(body, "city", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string account, StringMember(body, "account_id", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string token_id, StringMember(body, "token_id", false));
    JSON_API_ASSIGN_OR_REPLY(const json card,
                             h->OpenTransitCard(req.matches[1].str(), city, account, token_id));
    ReplyJson(res, 201, {{"card", card}});
  });
  server.Get(kCard, [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json card,
                             h->TransitCard(req.matches[1].str(), req.matches[2].str()));
    ReplyJson(res, 200, card);
  });
  server.Post(std::string(kCard) + "/delete", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json closed,
                             h->DeleteTransitCard(req.matches[1].str(), req.matches[2].str()));
    ReplyJson(res, 200, closed);
  });
  server.Post(std::string(kCard) + "/top-ups", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json body,
                             ParseBody(req, {"amount_fen", "token_id"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::int64_t fen, IntMember(body, "amount_fen", 1, 100'000));
    JSON_API_ASSIGN_OR_REPLY(const std::string token_id, StringMember(body, "token_id", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string key, IdempotencyKey(req));
    JSON_API_ASSIGN_OR_REPLY(const std::uint32_t balance,
                             h->TopUpTransitCard(req.matches[1].str(), req.matches[2].str(),
                                                 static_cast<std::uint32_t>(fen), token_id, key));
    ReplyJson(res, 200, {{"balance_fen", balance}});
  });
  server.Post(std::string(kCard) + "/rides", [h](const Request& req, Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const json body,
                             ParseBody(req, {"gate", "line", "station"}, kHandsetBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string gate, StringMember(body, "gate", true));
    if (gate != "metro_entry" && gate != "metro_exit" && gate != "bus") {
      return json_api::ReplyError(res, 400, "invalid_argument",
                                  "gate: expected metro_entry, metro_exit or bus", "gate");
    }
    JSON_API_ASSIGN_OR_REPLY(const std::int64_t line, IntMember(body, "line", 0, 9999));
    JSON_API_ASSIGN_OR_REPLY(const std::int64_t station,
                             IntMember(body, "station", 0, 65535, gate != "bus"));
    JSON_API_ASSIGN_OR_REPLY(
        const TransitRide ride,
        h->Ride(req.matches[1].str(), req.matches[2].str(), gate, static_cast<std::uint16_t>(line),
                static_cast<std::uint16_t>(station)));
    ReplyJson(res, 200,
              {{"open", ride.tap.open},
               {"gate", ride.gate},
               {"reason", ride.tap.reason},
               {"fare_fen", ride.tap.fare_fen},
               {"penalty_fen", ride.tap.penalty_fen},
               {"discount_fen", ride.tap.discount_fen},
               {"balance_fen", ride.tap.balance_fen},
               {"recovered", ride.tap.recovered},
               {"blocked", ride.tap.blocked}});
  });
}

}  // namespace tapstack::handset
