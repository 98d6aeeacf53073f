// CallApi: the handset's JSON calls to this node's HTTP API (the TSP's SMS outbox, the transit
// operators), as a phone's native side makes them. One connection per call: calls come from any
// HTTP worker thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::handset {

inline constexpr int kApiConnectTimeoutSeconds = 5;
inline constexpr int kApiReadTimeoutSeconds = 30;

// Where the handsets' API calls go: this node's own listener (server::LoopbackUrl), and, when it
// serves HTTPS, the node's certificate file to trust (its CA: the calls are verified like any).
struct ApiEndpoint {
  std::string base_url;
  std::string ca_cert_file;  // "" for plain HTTP
};

// Sends `body` (null: none), with `Authorization: Bearer` and `Idempotency-Key` when given, with
// `method` ("GET" or "POST") to `api.base_url` + `path` and returns the answer's JSON for a 2xx. Errors
// keep the server's message and field: 400 → kInvalidArgument, 404 → kNotFound, 409/410/422/423 →
// kFailedPrecondition, any other status, a body that is not JSON, or no answer → kUnavailable.
Result<nlohmann::json> CallApi(const ApiEndpoint& api, std::string_view method,
                               const std::string& path, const nlohmann::json& body,
                               const std::string& bearer = "",
                               const std::string& idempotency_key = "");

}  // namespace tapstack::handset
