#include "handset/api_client.h"

#include <httplib.h>

namespace tapstack::handset {

using nlohmann::json;

Result<json> CallApi(const ApiEndpoint& api, std::string_view method, const std::string& path,
                     const json& body, const std::string& bearer,
                     const std::string& idempotency_key) {
  httplib::Client http(api.base_url);
  if (!api.ca_cert_file.empty()) http.set_ca_cert_path(api.ca_cert_file);
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
