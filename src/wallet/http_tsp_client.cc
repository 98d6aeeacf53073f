#include "wallet/http_tsp_client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/bytes.h"

namespace tapstack::wallet {

namespace {

using nlohmann::json;

constexpr std::size_t kTokenIdBytesMax = 64;
constexpr const char* kBasePath = "/v1/tsp";

// Token ids go into URL paths: accept only the characters the TSP issues, so no id can change the
// path (no '/', '?', '%', '..').
Status CheckTokenId(const std::string& token_id) {
  if (token_id.empty() || token_id.size() > kTokenIdBytesMax) {
    return InvalidArgument("token_id: expected 1-64 characters");
  }
  for (char c : token_id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_';
    if (!ok) return InvalidArgument("token_id: expected letters, digits, '-' or '_'");
  }
  return Status::Ok();
}

// Maps an error answer of the TSP (contract: {"error","message","field"?}) to a Status.
Status StatusFromError(int http_status, const json& body) {
  std::string code = body.is_object() ? body.value("error", "") : "";
  std::string message = body.is_object() ? body.value("message", "") : "";
  if (body.is_object() && body.contains("field") && body["field"].is_string()) {
    message = body["field"].get<std::string>() + ": " + message;
  }
  std::string text = "tsp answered " + std::to_string(http_status) +
                     (code.empty() ? "" : " " + code) + (message.empty() ? "" : ": " + message);
  switch (http_status) {
    case 400:
      return InvalidArgument(text);
    case 401:
      return Internal(text + " (the wallet's requestor API key was refused)");
    case 404:
      return NotFound(text);
    case 409:
      return FailedPrecondition(text);
    case 503:
      return Unavailable(text);
    default:
      break;
  }
  if (http_status >= 500) return Unavailable(text);
  return Internal(text);
}

Result<std::string> GetString(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name) || !j[name].is_string()) {
    return Internal(std::string("tsp answer: expected string field \"") + name + "\"");
  }
  return j[name].get<std::string>();
}

Result<std::int64_t> GetInt(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name) || !j[name].is_number_integer()) {
    return Internal(std::string("tsp answer: expected integer field \"") + name + "\"");
  }
  return j[name].get<std::int64_t>();
}

std::string OptString(const json& j, const char* name) {
  return j.is_object() && j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : "";
}

Result<TspToken> TokenFromJson(const json& j) {
  TspToken t;
  TS_ASSIGN_OR_RETURN(t.token_id, GetString(j, "token_id"));
  TS_ASSIGN_OR_RETURN(t.state, GetString(j, "state"));
  t.token_last4 = OptString(j, "token_last4");
  t.token_expiry = OptString(j, "token_expiry");
  t.masked_pan = OptString(j, "masked_pan");
  t.par = OptString(j, "par");
  t.device_id = OptString(j, "device_id");
  t.requestor_id = OptString(j, "requestor_id");
  t.storage = OptString(j, "storage");
  if (t.state != "inactive" && t.state != "active" && t.state != "suspended" &&
      t.state != "deleted") {
    return Internal("tsp answer: token.state \"" + t.state + "\" is not a contract state");
  }
  return t;
}

Result<TspToken> TokenField(const json& j) {
  if (!j.is_object() || !j.contains("token")) return Internal("tsp answer: expected \"token\"");
  return TokenFromJson(j["token"]);
}

Result<ProvisioningResult> ProvisioningFromJson(const json& j) {
  ProvisioningResult r;
  TS_ASSIGN_OR_RETURN(std::string decision, GetString(j, "decision"));
  r.response_code = OptString(j, "response_code");
  if (decision == "approved") {
    r.decision = ProvisioningDecision::kApproved;
    TS_ASSIGN_OR_RETURN(r.token, TokenField(j));
    TS_ASSIGN_OR_RETURN(r.credentials, GetString(j, "credentials"));
  } else if (decision == "step_up") {
    r.decision = ProvisioningDecision::kStepUp;
    TS_ASSIGN_OR_RETURN(r.token, TokenField(j));
    if (!j.contains("otp")) return Internal("tsp answer: step_up without \"otp\"");
    OtpChallenge otp;
    otp.sent_to = OptString(j["otp"], "sent_to");
    TS_ASSIGN_OR_RETURN(otp.expires_unix_ms, GetInt(j["otp"], "expires_unix_ms"));
    TS_ASSIGN_OR_RETURN(std::int64_t attempts, GetInt(j["otp"], "attempts_left"));
    otp.attempts_left = static_cast<int>(attempts);
    r.otp = otp;
  } else if (decision == "declined") {
    r.decision = ProvisioningDecision::kDeclined;
    r.decline_reason = OptString(j, "decline_reason");
    if (r.decline_reason.empty()) r.decline_reason = "issuer_declined";
  } else {
    return Internal("tsp answer: decision \"" + decision + "\" is not a contract decision");
  }
  return r;
}

struct Answer {
  int status = 0;
  json body;
};

class HttpTspCall {
 public:
  explicit HttpTspCall(const HttpTspClientOptions& options) : client_(options.base_url) {
    client_.set_connection_timeout(std::chrono::milliseconds(options.connect_timeout_ms));
    client_.set_read_timeout(std::chrono::milliseconds(options.read_timeout_ms));
    client_.set_write_timeout(std::chrono::milliseconds(options.read_timeout_ms));
    client_.set_bearer_token_auth(options.api_key);
    // Server certificates are verified (cpp-httplib's default); this adds our trust anchor.
    if (!options.ca_cert_file.empty()) client_.set_ca_cert_path(options.ca_cert_file);
  }

  // POST `path` with `body`; the body string is wiped afterwards (it may hold a PAN and CVV2).
  Result<Answer> Post(const std::string& path, std::string body) {
    auto res = client_.Post(std::string(kBasePath) + path, body, "application/json");
    SecureWipe(body.data(), body.size());
    return Finish(path, res);
  }
  Result<Answer> Get(const std::string& path) {
    return Finish(path, client_.Get(std::string(kBasePath) + path));
  }

 private:
  static Result<Answer> Finish(const std::string& path, const httplib::Result& res) {
    if (!res) {
      return Unavailable("tsp " + path + ": " + httplib::to_string(res.error()) +
                         " (outcome unknown)");
    }
    Answer a;
    a.status = res->status;
    a.body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (a.body.is_discarded()) {
      if (a.status >= 500)
        return Unavailable("tsp " + path + " answered " + std::to_string(a.status));
      return Internal("tsp " + path + ": answer " + std::to_string(a.status) + " is not JSON");
    }
    return a;
  }

  httplib::Client client_;
};

}  // namespace

Result<std::unique_ptr<HttpTspClient>> HttpTspClient::Create(HttpTspClientOptions options) {
  const std::size_t host_at = options.base_url.rfind("https://", 0) == 0   ? 8
                              : options.base_url.rfind("http://", 0) == 0 ? 7
                                                                          : 0;
  if (host_at == 0 || options.base_url.size() <= host_at ||
      options.base_url.find('/', host_at) != std::string::npos) {
    return InvalidArgument("base_url: expected http(s)://host[:port] without a path");
  }
  if (options.api_key.empty()) return InvalidArgument("api_key: expected the requestor API key");
  return std::unique_ptr<HttpTspClient>(new HttpTspClient(std::move(options)));
}

Result<ProvisioningResult> HttpTspClient::Provision(const ProvisioningRequest& request) {
  json body = {{"requestor_id", request.requestor_id},
               {"device_id", request.device_id},
               {"device_public_key", request.device_public_key},
               {"storage", request.storage},
               {"pan", std::string(request.pan.reveal())},
               {"pan_expiry", request.pan_expiry},
               {"cvv2", request.cvv2},
               {"holder_name", request.holder_name},
               {"phone", request.phone}};
  std::string text = body.dump();
  // The json object holds copies of the PAN and CVV2 too: overwrite them before it is freed.
  for (const char* f : {"pan", "cvv2"}) {
    auto& s = body[f].get_ref<std::string&>();
    SecureWipe(s.data(), s.size());
  }
  HttpTspCall call(options_);
  TS_ASSIGN_OR_RETURN(Answer a, call.Post("/provisionings", std::move(text)));
  if (a.status != 200) return StatusFromError(a.status, a.body);
  return ProvisioningFromJson(a.body);
}

Result<OtpResult> HttpTspClient::VerifyOtp(const std::string& token_id, const std::string& otp) {
  TS_RETURN_IF_ERROR(CheckTokenId(token_id));
  HttpTspCall call(options_);
  TS_ASSIGN_OR_RETURN(Answer a,
                      call.Post("/tokens/" + token_id + "/otp", json{{"otp", otp}}.dump()));
  OtpResult r;
  r.message = OptString(a.body, "message");
  switch (a.status) {
    case 200: {
      r.outcome = OtpOutcome::kApproved;
      TS_ASSIGN_OR_RETURN(r.token, TokenField(a.body));
      TS_ASSIGN_OR_RETURN(r.credentials, GetString(a.body, "credentials"));
      return r;
    }
    case 422:
      if (OptString(a.body, "error") != "otp_mismatch") break;
      r.outcome = OtpOutcome::kMismatch;
      r.attempts_left = static_cast<int>(a.body.value("attempts_left", 0));
      return r;
    case 410:
      r.outcome = OtpOutcome::kExpired;
      return r;
    case 423:
      r.outcome = OtpOutcome::kLocked;
      return r;
    default:
      break;
  }
  return StatusFromError(a.status, a.body);
}

Result<ProvisioningResult> HttpTspClient::AddDevice(const std::string& token_id,
                                                    const AddDeviceRequest& request) {
  TS_RETURN_IF_ERROR(CheckTokenId(token_id));
  json body = {{"device_id", request.device_id},
               {"device_public_key", request.device_public_key},
               {"storage", request.storage}};
  HttpTspCall call(options_);
  TS_ASSIGN_OR_RETURN(Answer a, call.Post("/tokens/" + token_id + "/devices", body.dump()));
  if (a.status != 200) return StatusFromError(a.status, a.body);
  return ProvisioningFromJson(a.body);
}

Result<std::string> HttpTspClient::ReplenishKeys(const std::string& token_id, int count) {
  TS_RETURN_IF_ERROR(CheckTokenId(token_id));
  HttpTspCall call(options_);
  TS_ASSIGN_OR_RETURN(Answer a,
                      call.Post("/tokens/" + token_id + "/keys", json{{"count", count}}.dump()));
  if (a.status != 200) return StatusFromError(a.status, a.body);
  return GetString(a.body, "credentials");
}

namespace {

Result<TspToken> ChangeState(const HttpTspClientOptions& options, const std::string& token_id,
                             const char* action, const std::string& reason) {
  TS_RETURN_IF_ERROR(CheckTokenId(token_id));
  HttpTspCall call(options);
  TS_ASSIGN_OR_RETURN(
      Answer a, call.Post("/tokens/" + token_id + "/" + action, json{{"reason", reason}}.dump()));
  if (a.status != 200) return StatusFromError(a.status, a.body);
  return TokenField(a.body);
}

}  // namespace

Result<TspToken> HttpTspClient::Suspend(const std::string& token_id, const std::string& reason) {
  return ChangeState(options_, token_id, "suspend", reason);
}
Result<TspToken> HttpTspClient::Resume(const std::string& token_id, const std::string& reason) {
  return ChangeState(options_, token_id, "resume", reason);
}
Result<TspToken> HttpTspClient::Delete(const std::string& token_id, const std::string& reason) {
  return ChangeState(options_, token_id, "delete", reason);
}

Result<TspToken> HttpTspClient::GetToken(const std::string& token_id) {
  TS_RETURN_IF_ERROR(CheckTokenId(token_id));
  HttpTspCall call(options_);
  TS_ASSIGN_OR_RETURN(Answer a, call.Get("/tokens/" + token_id));
  if (a.status != 200) return StatusFromError(a.status, a.body);
  return TokenField(a.body);
}

Result<std::vector<TokenTransaction>> HttpTspClient::ListTransactions(const std::string& token_id,
                                                                      int limit) {
  TS_RETURN_IF_ERROR(CheckTokenId(token_id));
  HttpTspCall call(options_);
  TS_ASSIGN_OR_RETURN(
      Answer a, call.Get("/tokens/" + token_id + "/transactions?limit=" + std::to_string(limit)));
  if (a.status != 200) return StatusFromError(a.status, a.body);
  if (!a.body.contains("transactions") || !a.body["transactions"].is_array()) {
    return Internal("tsp answer: expected array \"transactions\"");
  }
  std::vector<TokenTransaction> out;
  for (const json& t : a.body["transactions"]) {
    TokenTransaction tx;
    TS_ASSIGN_OR_RETURN(tx.time_unix_ms, GetInt(t, "time_unix_ms"));
    TS_ASSIGN_OR_RETURN(tx.amount_minor, GetInt(t, "amount_minor"));
    TS_ASSIGN_OR_RETURN(tx.currency, GetString(t, "currency"));
    tx.merchant = OptString(t, "merchant");
    tx.mcc = OptString(t, "mcc");
    tx.approved = t.is_object() && t.value("approved", false);
    tx.response_code = OptString(t, "response_code");
    tx.approval_code = OptString(t, "approval_code");
    tx.stan = OptString(t, "stan");
    tx.channel = OptString(t, "channel");
    out.push_back(std::move(tx));
  }
  return out;
}

Result<std::vector<TokenNotification>> HttpTspClient::ListNotifications(std::int64_t after_seq,
                                                                        int limit) {
  HttpTspCall call(options_);
  TS_ASSIGN_OR_RETURN(Answer a, call.Get("/notifications?after=" + std::to_string(after_seq) +
                                         "&limit=" + std::to_string(limit)));
  if (a.status != 200) return StatusFromError(a.status, a.body);
  if (!a.body.contains("notifications") || !a.body["notifications"].is_array()) {
    return Internal("tsp answer: expected array \"notifications\"");
  }
  std::vector<TokenNotification> out;
  for (const json& n : a.body["notifications"]) {
    TokenNotification e;
    TS_ASSIGN_OR_RETURN(e.seq, GetInt(n, "seq"));
    TS_ASSIGN_OR_RETURN(e.token_id, GetString(n, "token_id"));
    TS_ASSIGN_OR_RETURN(e.event, GetString(n, "event"));
    e.device_id = OptString(n, "device_id");
    e.from = OptString(n, "from");
    e.to = OptString(n, "to");
    e.initiator = OptString(n, "initiator");
    e.time_unix_ms = n.is_object() ? n.value("time_unix_ms", std::int64_t{0}) : 0;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace tapstack::wallet
