// The wallet payment platform's JSON API over HTTP (docs/openapi/qrpay.yaml), base path
// /v1/qrpay/{platform} where {platform} is the platform's id (another id answers 404). Amounts are
// {"minor": integer, "currency": "CNY"} everywhere, in requests and answers (the shape of the
// network's QR clearing, clearing_link.h); `{account}` is "a" + 16 lowercase hex, `{merchant}`
// [A-Z0-9] 1-25.
//
//   GET  /                                          the platform: currency, levels and limits
//   POST /accounts                                  {owner_id, level} → account (201)
//   GET  /accounts/{account}                        balance, available, spent, limits
//   POST /accounts/{account}/top-ups                {amount, device_id} → payment request (201)
//   POST /top-ups/{order}/complete                  {payment_data} → receipt (by order)
//   GET  /accounts/{account}/funding-cards          cards that topped up (token last 4, expiry)
//   POST /accounts/{account}/withdrawals         *  {card_id, amount} → receipt
//   POST /scan                                      {payload} → what the app shows (no state)
//   POST /accounts/{account}/payments            *  {payload, amount?} → receipt (own merchant)
//   POST /accounts/{account}/quotes                 {payload, amount?} → quote (201)
//   POST /accounts/{account}/quotes/{quote}/pay  *  {} → receipt (foreign or partner merchant)
//   POST /accounts/{account}/card-payments          {payload, amount?, card_issuer_country,
//                                                    device_id} → payment request (201)
//   POST /card-payments/{order}/complete            {payment_data} → receipt (by order)
//   POST /accounts/{account}/payment-codes          {device_id} → one-time code (201)
//   GET  /accounts/{account}/statements/{YYYY-MM}
//   GET  /merchants/{merchant}                      the merchant's balance
//   GET  /merchants/{merchant}/codes/static         the printed code
//   POST /merchants/{merchant}/codes                {order_id, amount, validity_seconds} (201)
//   POST /merchants/{merchant}/code-payments     *  {code, amount} → receipt (the scanner)
//   POST /merchants/{merchant}/refunds           *  {payment_id, amount} → receipt
//   GET  /merchants/{merchant}/settlement/{YYYY-MM-DD}
//   POST /tax-refunds                            *A {operator_id, account_id, receipt_reference,
//                                                    amount} → receipt
//   POST /agents/{agent}/cash-ins                *A {account_id, amount} → receipt
//   POST /clearing                                A  the network's qr_payment JSON → its answer
//   GET  /audit                                   A  the platform's ledger and journal audit
//
// Auth (A): `Authorization: Bearer <admin_token>` (401 otherwise; compared in constant time).
// Wallet and merchant routes carry no auth here: the app and merchant gateways authenticate their
// users in front of this API.
// Idempotency (*): the routes that move money need an `Idempotency-Key` header (1-128 bytes of
// [A-Za-z0-9._:-], scoped by the platform to the account, merchant, operator or agent); a replay
// answers the first receipt (200) with `Idempotent-Replayed: true`, a replayed refusal the same
// error, the key with a different request 409 already_exists. The two `complete` routes are
// idempotent by their order (a completed order answers its receipt again, replayed), opening an
// account by its owner, the clearing by clearing_id. Starting a top-up or card payment, a quote,
// a payment code or a dynamic merchant code move no money: a retry makes a fresh one and the
// unused one expires, so they take no key (platform.h gives them none).
// Answers: a fresh receipt 201, a replayed one 200.
// Errors: {"error": code, "message": text, "field": name (when one is to blame)}: 400
// invalid_argument (also a malformed body, unknown member, wrong type, missing header), 400
// crypto_failure (a merchant code whose MAC does not verify: it was altered), 401
// unauthenticated, 404 not_found (also another platform's id), 409 failed_precondition /
// already_exists, 422 limit_exceeded (a level or visitor-card limit, a refund larger than what is
// left: the message names the limit and the numbers), 503 unavailable (the card rail or the
// clearing did not answer: retry with the same key), 500 internal (the code only).
// Bodies over kQrpayRequestBodyBytesMax are refused. No answer ever holds a PAN: cards are device
// tokens and only their last 4 digits are shown.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace httplib {
class Server;
struct Request;
}

namespace tapstack::qrpay {

class Platform;

// The phone's in-app payment data (a cryptogram and its EMV data) is the largest body.
inline constexpr std::size_t kQrpayRequestBodyBytesMax = std::size_t{16} * 1024;

struct QrpayHttpOptions {
  // The bearer token of admin routes; must be non-empty (an empty token refuses every admin call).
  std::string admin_token;
  // The app gateway's holder check, when set: the caller's owner id from the request (its
  // session), or an error (answered 401). Account routes then answer only that owner's account
  // (another owner's answers 404, as one that does not exist), and POST /accounts opens the
  // account of that owner (an owner_id naming anyone else is refused). Unset: holders are
  // authenticated by a gateway in front of this API.
  std::function<Result<std::string>(const httplib::Request&)> holder;
};

// Registers the routes of `platform` under /v1/qrpay/<platform id> (the id is part of each
// route, so several platforms can be installed on one server, as server/qr_world.h runs them).
// `platform` must outlive the server's use of them; handlers run on the server's threads
// (Platform is thread-safe).
void InstallQrpayRoutes(httplib::Server& server, Platform& platform, QrpayHttpOptions options);

// Registers, after every platform's routes, the answer to any other path under /v1/qrpay/: 404
// not_found with "field": "platform" for an id not in `platform_ids`, and 404 naming the route
// for an unknown route of a served platform. Without it httplib answers those 404 with no body.
void InstallQrpayFallbackRoutes(httplib::Server& server, std::vector<std::string> platform_ids);

}  // namespace tapstack::qrpay
