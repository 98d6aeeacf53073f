// The JSON-over-HTTP conventions the roles' APIs share (dcep/dcep_http.h, qrpay/qrpay_http.h):
//
//   errors   {"error": code, "message": text, "field": name (when one is to blame)}, the field
//            taken from a message that starts "<field>: …"; status per ErrorCode: 400
//            invalid_argument, 422 limit_exceeded (kOutOfRange), 404 not_found, 409
//            failed_precondition / already_exists, 503 unavailable, 500 internal (code only: store
//            and OpenSSL details stay in the server)
//   bodies   a JSON object of at most a given size, unknown members refused naming the member
//   admin    `Authorization: Bearer <token>` compared in constant time; 401 otherwise
//
// Pure helpers over httplib's request and response; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace tapstack::json_api {

void ReplyJson(httplib::Response& res, int http, const nlohmann::json& body);
void ReplyError(httplib::Response& res, int http, std::string_view code, std::string_view message,
                std::string_view field = {});

// The field a message starts with ("amount: …"), if it looks like one; empty otherwise.
std::string FieldOf(std::string_view message);

// The error reply for `status` (see the top of this file).
void ReplyStatus(httplib::Response& res, const Status& status);

// The request body as a JSON object (empty body: {}). Errors (kInvalidArgument): larger than
// `body_bytes_max` or not a JSON object ("body: …"); a member not in `allowed` ("<member>:
// unknown member").
Result<nlohmann::json> ParseBody(const httplib::Request& req,
                                 std::initializer_list<std::string_view> allowed,
                                 std::size_t body_bytes_max);

// Member `name` as a string; absent: "" unless `required` ("<name>: required"). Errors: another
// type ("<name>: expected a string").
Result<std::string> StringMember(const nlohmann::json& body, const char* name, bool required);

// The token of `Authorization: Bearer <token>`; empty when the header is absent or another scheme.
std::string BearerToken(const httplib::Request& req);

// True when the request carries `Authorization: Bearer <token>` with a non-empty `token`;
// otherwise replies 401 (with WWW-Authenticate) and returns false.
bool CheckBearer(const httplib::Request& req, httplib::Response& res, std::string_view token);

}  // namespace tapstack::json_api

// In a handler with `res` in scope: assigns the value of Result `expr` to `lhs`, or replies with its
// error and returns.
#define JSON_API_ASSIGN_OR_REPLY(lhs, expr)                                          \
  auto TS_CONCAT_(json_api_r_, __LINE__) = (expr);                                   \
  if (!TS_CONCAT_(json_api_r_, __LINE__).ok()) {                                     \
    ::tapstack::json_api::ReplyStatus(res, TS_CONCAT_(json_api_r_, __LINE__).status()); \
    return;                                                                          \
  }                                                                                  \
  lhs = std::move(TS_CONCAT_(json_api_r_, __LINE__)).value()
