// The digital-currency JSON API over HTTP (docs/openapi/dcep.yaml), base path /v1/dcep; amounts
// are fen (CNY minor units), `{op}` an operator id, `{wallet}` "w" + 16 lowercase hex.
//
//   GET  /v1/dcep/operators                                   operators and the tier table
//   POST /v1/dcep/operators/{op}/wallets                      open a wallet (201)
//   GET  /v1/dcep/operators/{op}/wallets/{wallet}             the holder's view
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/tier        new evidence → new tier
//   GET  /v1/dcep/operators/{op}/wallets/{wallet}/view        what a counterparty sees
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/exchange    deposit ⇄ e-CNY
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/payments    pay a wallet or merchant (201)
//   GET  /v1/dcep/operators/{op}/wallets/{wallet}/history     ?before=<seq>&limit=<1-200>
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/qr-payments pay a scanned merchant QR code
//                                                  (201): {"payload", "amount_fen"?}
//   POST /v1/dcep/operators/{op}/merchants/{merchant}/qr      a merchant's QR code (200):
//                                                  {"amount_fen"?, "order_id"?, "expires_in_s"?,
//                                                   "city"?}; with amount_fen a dynamic code
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/purses/{device}/fund     offline purse
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/purses/{device}/defund
//   GET  /v1/dcep/root-key                                     the root certificate (applets)
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/devices     certify a hardware wallet (201)
//   POST /v1/dcep/operators/{op}/wallets/{wallet}/devices/{device}/loads   a load order (201)
//   POST /v1/dcep/operators/{op}/devices/{device}/uploads     READ LOG → settlement + sync ack
//   POST /v1/dcep/operators/{op}/devices/{device}/freeze            admin: a lost device
//   POST /v1/dcep/operators/{op}/devices/{device}/recover-balance   admin: after the wait
//   GET  /v1/dcep/operators/{op}/devices/{device}                   admin: settlement state
//   POST /v1/dcep/operators/{op}/issuance          admin: ask the central bank for e-CNY (201)
//   POST /v1/dcep/operators/{op}/recover           admin: re-drive in-flight interbank entries
//   GET  /v1/dcep/operators/{op}/audit             admin
//   POST /v1/dcep/operators/{op}/contracts/expire  admin: refund every contract due now
//   POST /v1/dcep/contracts                         lock value under a contract (201):
//                                                   {"operator": op, "terms": {...}}
//   GET  /v1/dcep/contracts/{id}                    terms, progress, state, events
//   POST /v1/dcep/contracts/{id}/deliver            {"actor_wallet", "units"}     (prepaid)
//   POST /v1/dcep/contracts/{id}/confirm            {"actor_wallet"}              (escrow)
//   POST /v1/dcep/contracts/{id}/cancel             {"actor_wallet"}
//   POST /v1/dcep/contracts/{id}/spend              {"actor_wallet", "merchant_id",
//                                                    "amount_fen"}                (subsidy)
//   POST /v1/dcep/central-bank/{method}            admin: issue, redeem, settle,
//                                                  reverse_settlement, position (the JSON of
//                                                  dcep/central_bank_client.h)
//   GET  /v1/dcep/central-bank/audit               admin: the cross-ledger audit
//
// Auth: admin routes need `Authorization: Bearer <admin_token>` (401 otherwise; compared in
// constant time). Wallet routes carry no auth here: the operator's app gateway authenticates
// holders in front of this API. The merchant QR route is the merchant's (its POS back end): the
// operator's merchant gateway authenticates the merchant in front and passes only its own
// merchant id; a caller that could issue another merchant's dynamic codes could use up its order
// ids.
// Idempotency: every POST that changes state needs an `Idempotency-Key` header (1-128 bytes); a
// replay answers the first outcome with `Idempotent-Replayed: true`. Issuing a QR code stores
// nothing and needs no key. Paying a dynamic QR code is keyed on its order (dcep/qr_payments.h):
// the same order paid again from the same wallet answers the first outcome, whatever the key.
// Errors: {"error": code, "message": text, "field": name (when one is to blame)}: 400
// invalid_argument, 401 unauthenticated, 404 not_found, 409 failed_precondition /
// already_exists, 422 limit_exceeded (a tier limit: the message names it and the amounts), 503
// unavailable (an interbank payment in flight: retry with the same key), 500 internal (code only);
// a QR code whose MAC does not verify (it was altered) is 400 crypto_failure naming "payload",
// an expired one 409 failed_precondition naming "payload".
// Unknown members, wrong types and over-long bodies (kDcepRequestBodyBytesMax) are refused.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace httplib {
class Server;
}

namespace tapstack::dcep {

class DcepNetwork;
class QrPayments;

inline constexpr std::size_t kDcepRequestBodyBytesMax = 16 * 1024;

struct DcepHttpOptions {
  // The bearer token of admin routes; must be non-empty (an empty token refuses every admin call).
  std::string admin_token;
  // Merchant QR codes (keys and clock); nullptr = QrPayments over the network's config with
  // MerchantQrKeys::Demo (the keys of the operators DcepNetwork opens) and the system clock.
  std::shared_ptr<const QrPayments> qr_payments = nullptr;
};

// Registers the routes. `network` must outlive the server's use of them; handlers run on the
// server's threads (DcepNetwork's parts are thread-safe).
void InstallDcepRoutes(httplib::Server& server, DcepNetwork& network, DcepHttpOptions options);

}  // namespace tapstack::dcep
