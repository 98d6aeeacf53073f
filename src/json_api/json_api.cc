#include "json_api/json_api.h"

#include <httplib.h>

#include <algorithm>

#include "core/bytes.h"
#include "crypto/mac.h"

namespace tapstack::json_api {

using nlohmann::json;

namespace {
// A field name is short: "amount", "payer_amount.currency", "levels[1].daily_max_minor".
constexpr std::size_t kFieldBytesMax = 40;
}  // namespace

void ReplyJson(httplib::Response& res, int http, const json& body) {
  res.status = http;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, int http, std::string_view code, std::string_view message,
                std::string_view field) {
  json body = {{"error", code}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  ReplyJson(res, http, body);
}

std::string FieldOf(std::string_view message) {
  const std::size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon > kFieldBytesMax) return {};
  const std::string_view head = message.substr(0, colon);
  const bool ident = std::all_of(head.begin(), head.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '[' || c == ']';
  });
  return ident ? std::string(head) : std::string();
}

void ReplyStatus(httplib::Response& res, const Status& s) {
  const std::string field = FieldOf(s.message());
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
      return ReplyError(res, 400, "invalid_argument", s.message(), field);
    case ErrorCode::kOutOfRange:
      return ReplyError(res, 422, "limit_exceeded", s.message(), field);
    case ErrorCode::kNotFound:
      return ReplyError(res, 404, "not_found", s.message(), field);
    case ErrorCode::kFailedPrecondition:
      return ReplyError(res, 409, "failed_precondition", s.message(), field);
    case ErrorCode::kAlreadyExists:
      return ReplyError(res, 409, "already_exists", s.message(), field);
    case ErrorCode::kUnavailable:
      return ReplyError(res, 503, "unavailable", s.message());
    default:
      return ReplyError(res, 500, "internal", ErrorCodeName(s.code()));
  }
}

Result<json> ParseBody(const httplib::Request& req, std::initializer_list<std::string_view> allowed,
                       std::size_t body_bytes_max) {
  if (req.body.size() > body_bytes_max) {
    return InvalidArgument("body: larger than " + std::to_string(body_bytes_max) + " bytes");
  }
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("body: expected a JSON object");
  }
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidArgument(key + ": unknown member");
    }
  }
  return body;
}

Result<std::string> StringMember(const json& body, const char* name, bool required) {
  const auto it = body.find(name);
  if (it == body.end()) {
    if (required) return InvalidArgument(std::string(name) + ": required");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string(name) + ": expected a string");
  return it->get<std::string>();
}

std::string BearerToken(const httplib::Request& req) {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string header = req.get_header_value("Authorization");
  return header.starts_with(kBearer) ? header.substr(kBearer.size()) : std::string();
}

bool CheckBearer(const httplib::Request& req, httplib::Response& res, std::string_view token) {
  const std::string presented = BearerToken(req);
  const bool ok = !token.empty() && !presented.empty() &&
                  crypto::ConstantTimeEquals(AsBytes(presented), AsBytes(token));
  if (!ok) {
    res.set_header("WWW-Authenticate", "Bearer");
    ReplyError(res, 401, "unauthenticated", "expected Authorization: Bearer <admin token>",
               "Authorization");
  }
  return ok;
}

}  // namespace tapstack::json_api
