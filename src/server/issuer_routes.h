// The issuer's HTTP API, served by an issuer process (IssuerNode) and by the one-process demo
// (DemoNode):
//   GET  /v1/issuer/stats            counters and the number of cards
//   GET  /v1/issuer/authorizations   ?institution_id&acquirer_id&terminal_id&stan&transmission_time
//                                    the state of one authorisation's hold (disputes and tests)
//   GET  /v1/issuer/audit            the ledger's invariants checked now (409 when violated)
//   POST /v1/issuer/cards/balance    {"pan"} → the card's available funds (masked PAN only in the
//                                    answer; the PAN travels in the body, never in a URL, so it
//                                    cannot land in an access log)
#pragma once

#include "demo/demo_network.h"
#include "issuer/issuer_host.h"
#include "server/http_front.h"

namespace tapstack::server {

// `host` and `demo` (which bank issues a card number) must outlive the routes: stop `http` first.
void InstallIssuerRoutes(HttpFront& http, issuer::IssuerHost& host, const demo::DemoNetwork& demo);

}  // namespace tapstack::server
