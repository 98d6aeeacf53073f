// The handset API (docs/api.md "Handsets"): the web app's phones and watches, whose secure
// elements, NFC field and SMS inbox the server emulates (handset/handset_host.h). JSON over HTTP,
// errors as json_api/json_api.h says ({"error","message","field"}).
//
// clang-format off
//   POST /v1/handsets                                  {kind, name, phone} + wallet session → 201
//   GET  /v1/handsets/{id}                             handset + what its element holds
//   GET  /v1/handsets/{id}/messages?after_unix_ms=     the SMS sent to its phone
//   POST /v1/handsets/{id}/credentials                 {token_id, credentials}
//   POST /v1/handsets/{id}/taps                        {token_id, merchant_id, amount_minor,
//                                                      fingerprint}
//   POST /v1/handsets/{id}/in-app-payments             {token_id?, payment_request, fingerprint}
//   POST /v1/handsets/{id}/transit/cards               {city, account_id, token_id}
//   GET  /v1/handsets/{id}/transit/cards/{card}        balance and trips
//   POST /v1/handsets/{id}/transit/cards/{card}/top-ups  {amount_fen, token_id} + Idempotency-Key
//   POST /v1/handsets/{id}/transit/cards/{card}/rides  {gate, line, station}
//   POST /v1/handsets/{id}/transit/cards/{card}/delete block, close, refund to the paying card
//   POST /v1/handsets/{id}/dcep                        {operator, wallet_id} → 201 hardware wallet
//   GET  /v1/handsets/{id}/dcep                        its purse
//   POST /v1/handsets/{id}/dcep/loads                  {amount_fen} + Idempotency-Key
//   POST /v1/handsets/{id}/dcep/offline-payments       {payee_handset_id, amount_fen}
//   POST /v1/handsets/{id}/dcep/sync                   upload the log, apply the ack
//   GET  /v1/pos/merchants                             the demo merchants' POS terminals
// clang-format on
#pragma once

#include <httplib.h>

#include "handset/handset_host.h"

namespace tapstack::handset {

inline constexpr std::size_t kHandsetBodyBytesMax = 16 * 1024;

// `host` must outlive `server`'s handlers.
void InstallHandsetRoutes(httplib::Server& server, HandsetHost& host);

}  // namespace tapstack::handset
