#include "handset/api_client.h"

#include <httplib.h>

namespace tapstack::handset {

using nlohmann::json;

Result<json> CallApi(const std::string& base_url, std::string_view method, const std::string& path,
                     const json& body, const std::string& bearer,
                     const std::string& idempotency_key) {
  httplib::Client http(base_url);
  // HTTPS (http.tls_* set, issue #10): the handsets only ever call their own node's listener over
  // loopback (HandsetHostOptions::api_url is server::LoopbackUrl), which serves this process's own
  // certificate, possibly one issued for a public host name that 127.0.0.1 does not match. The
  // connection never leaves the host, so for loopback only the certificate is not verified.
  // TODO(lead): pass the node's certificate as a CA file (HandsetHostOptions) and verify instead.
  if (base_url.rfind("https://127.0.0.1:", 0) == 0 ||
      base_url.rfind("https://localhost:", 0) == 0 || base_url.rfind("https://[::1]:", 0) == 0) {
    http.enable_server_certificate_verification(false);
  }
  http.set_connection_timeout(kApiConnectTimeoutSeconds);
  http.set_read_timeout(kApiReadTimeoutSeconds);
  httplib::Headers headers;
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  if (!idempotency_key.empty()) headers.emplace("Idempotency-Key", idempotency_key);
  httplib::Result r = method == "GET" ? http.Get(path, headers)
                                      : http.Post(path, headers, body.is_null() ? "" : body.dump(),
                                                  "application/json");
  const std::string what = std::string(method) + " " + path.substr(0, path.find('?'));
  if (!r) return Unavailable(what + ": no answer (" + httplib::to_string(r.error()) + ")");
  json answer = json::parse(r->body, nullptr, false);
  if (answer.is_discarded()) {
    return Unavailable(what + ": HTTP " + std::to_string(r->status) + " without a JSON body");
  }
  if (r->status >= 200 && r->status < 300) return answer;
  std::string message = answer.value("message", answer.value("error", std::string("error")));
  if (answer.contains("field") && answer["field"].is_string()) {
    const std::string field = answer["field"].get<std::string>();
    if (message.rfind(field, 0) != 0) message = field + ": " + message;
  }
  switch (r->status) {
    case 400:
      return InvalidArgument(message);
    case 404:
      return NotFound(message);
    case 409:
    case 410:
    case 422:
    case 423:
      return FailedPrecondition(message);
    default:
      return Unavailable(what + ": HTTP " + std::to_string(r->status) + ": " + message);
  }
}

}  // namespace tapstack::handset
