// The wallet's HTTP API (JSON over HTTP, cpp-httplib): routes under /v1/ for users, sessions,
// devices and cards, documented in docs/api.md ("Wallet API") and docs/openapi/wallet.yaml.
//
//   Auth         every route except POST /v1/users and POST /v1/sessions needs
//                `Authorization: Bearer <session>`; 401 {"error":"unauthenticated"} otherwise.
//   Errors       {"error":"<code>","message":"…","field":"<name>"} (field when one is to blame):
//                400 invalid_argument, 401 unauthenticated, 404 not_found (also for ids of other
//                users), 409 already_exists / failed_precondition,
//                422 idempotency_key_reused / card_declined / otp_mismatch (+attempts_left),
//                410 otp_expired, 423 otp_locked, 503 unavailable, 500 internal.
//   Idempotency  POST /v1/cards, /v1/cards/{id}/verify and /v1/cards/{id}/devices need an
//                `Idempotency-Key` header (per user); a replay returns the stored status and body
//                with `Idempotent-Replayed: true`.
//   Card data    the add-card body (PAN, CVV2) is wiped from memory after the call; answers show
//                the PAN only masked (first 6 / last 4).
//
// Thread-safety: the handlers run on the server's worker threads; WalletService is thread-safe.
#pragma once

namespace httplib {
class Server;
}  // namespace httplib

namespace tapstack::wallet {

class WalletService;

// Installs the routes on `server`. `service` must outlive the server's use of the routes.
void InstallWalletRoutes(httplib::Server& server, WalletService& service);

}  // namespace tapstack::wallet
