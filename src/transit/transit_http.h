// The transit operators' JSON API over HTTP (docs/openapi/transit.yaml): base path /v1/transit,
// `{city}` a 4-digit city code. Called by the wallet (cards, top-up orders) and by validators
// (uploads, reference data); amounts are fen (CNY minor units), binary values upper-case hex.
//
//   GET  /v1/transit/cities                               the cities, card rules, maps
//   POST /v1/transit/{city}/cards                         issue a card into a phone (201)
//   GET  /v1/transit/{city}/cards/{serial}                a card
//   GET  /v1/transit/{city}/accounts/{account_id}/cards   an account's cards
//   POST /v1/transit/{city}/cards/{serial}/block-mac      APPLICATION BLOCK's MAC for a challenge
//   POST /v1/transit/{city}/cards/{serial}/close          delete; the refund paid back to the card
//   GET  /v1/transit/{city}/accounts/{account_id}/refunds an account's refunds
//   POST /v1/transit/{city}/refunds/{refund_id}/pay       pay a due refund again
//   POST /v1/transit/{city}/cards/{serial}/lost           the phone is lost: blacklist
//   POST /v1/transit/{city}/cards/{serial}/migrate        the card on a new phone (201)
//   POST /v1/transit/{city}/cards/{serial}/reconcile      top-ups found in the card's log
//   POST /v1/transit/{city}/orders                        a paid top-up order (201)
//   GET  /v1/transit/{city}/orders/{order_id}             an order
//   POST /v1/transit/{city}/orders/{order_id}/load        MAC1 in, MAC2 out
//   POST /v1/transit/{city}/orders/{order_id}/confirm     the card's TAC: loaded, captured
//   POST /v1/transit/{city}/orders/{order_id}/cancel      reverse an order not loaded
//   POST /v1/transit/{city}/uploads                       a validator's batch for clearing
//   GET  /v1/transit/{city}/reference                     blacklist and city data for validators
//   GET  /v1/transit/{city}/settlement                    interop positions per city
//   GET  /v1/transit/{city}/anomalies                     clearing anomalies
//
// Errors: {"error": code, "message": text, "field": name} with invalid_argument 400 (also a MAC1
// or TAC that does not verify, naming init_for_load or tac), not_found 404, failed_precondition
// or already_exists 409, unavailable 503, internal 500 (the code only). Input is checked strictly:
// unknown, missing or mistyped members, path ids and hex lengths are refused naming the field;
// bodies above kTransitRequestBodyBytesMax (uploads: kTransitUploadBodyBytesMax) are refused.
// Nothing logs; no answer carries key material (a wrapped profile is readable only by its
// device's secure element).
#pragma once

#include <cstddef>

namespace httplib {
class Server;
}

namespace tapstack::transit {

class TransitNetwork;

// Request bodies: the largest is an order carrying the wallet's payment data
// (kPaymentDataBytesMax, 16 KiB) with its other members.
inline constexpr std::size_t kTransitRequestBodyBytesMax = 32 * 1024;
// An upload of kUploadRecordsMax (10,000) records of about 400 bytes of JSON each, with room.
inline constexpr std::size_t kTransitUploadBodyBytesMax = 8 * 1024 * 1024;

// Registers the routes on `server`. `network` is not owned and must outlive the server's use of
// the routes. The handlers run on the server's threads; TransitNetwork is thread-safe.
void InstallTransitRoutes(httplib::Server& server, TransitNetwork& network);

}  // namespace tapstack::transit
