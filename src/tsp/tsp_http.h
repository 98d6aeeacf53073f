// The TSP's JSON API over HTTP (docs/tsp.md, docs/openapi/tsp.yaml): base path /v1/tsp, called by
// the wallet service with "Authorization: Bearer <token requestor API key>".
//
//   POST /v1/tsp/provisionings                       provision a card to a device (ID&V, OTP)
//   POST /v1/tsp/tokens/{id}/otp                     the step-up code
//   POST /v1/tsp/tokens/{id}/devices                 the same account on another device
//   POST /v1/tsp/tokens/{id}/suspend|resume|delete   lifecycle by the wallet
//   GET  /v1/tsp/tokens/{id}                         the token
//   GET  /v1/tsp/tokens/{id}/transactions?limit=N    its uses, newest first
//   POST /v1/tsp/tokens/{id}/keys                    an HCE replenishment batch
//   GET  /v1/tsp/notifications?after=SEQ&limit=N     lifecycle events of the caller's tokens
//   GET  /v1/tsp/sms-outbox?phone=…&after=SEQ        the outbox gateway's messages (demo, tests)
// Errors: {"error": code, "message": text, "field": name?} with invalid_argument 400,
// unauthenticated 401, not_found 404 (also another requestor's token), failed_precondition 409,
// otp_expired 410, otp_mismatch 422 (+ "attempts_left"), otp_locked 423, unavailable 503,
// internal 500. No response or log line carries a PAN or a CVV2 (PANs appear masked 6/4).
#pragma once

namespace httplib {
class Server;
}

namespace tapstack::tsp {

class TspService;

// Registers the routes on `server`. `service` is not owned and must outlive the server's use of
// the routes. The handlers run on the server's threads; TspService is thread-safe.
void InstallTspRoutes(httplib::Server& server, TspService& service);

}  // namespace tapstack::tsp
