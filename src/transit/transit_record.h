// TransitRecord: one completed card transaction as a validator keeps it and uploads it for
// clearing (shared/design/domain/transit-purse.md sections 7 step 8 and 12), and its JSON form.
//
// A record is identified for de-duplication by (card serial, card offline counter, PSAM number,
// PSAM sequence): the same purchase uploaded twice is one purchase. The TAC covers amount, type,
// PSAM number, PSAM sequence, date and time under the card's DTK, so the card's issuer can prove
// the card itself made the debit.
//
// JSON (one object per record; the upload body is {"batch_id", "validator_id", "records": [...]}):
//   {"card_serial": "10000000000000000042", "card_city": "1000", "offline_counter": 5,
//    "psam_number": "112233445566", "psam_sequence": 65537, "amount_fen": 300,
//    "balance_before_fen": 5000, "type": "09", "local_time": "20261122083000", "tac": "1A2B3C4D",
//    "kind": "metro_exit", "city": "1000", "line": 1, "station": 102, "validator_id": "bj-102-x1",
//    "penalty_fen": 0, "recovered": false}
// Amounts are fen (CNY minor units).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"

namespace tapstack::transit {

inline constexpr std::size_t kUploadRecordsMax = 10000;  // records in one upload batch

struct TransitRecord {
  std::string card_serial;      // 20 hex digits
  std::string card_city;        // 4 digits: the issuing city of the card
  std::uint16_t offline_counter = 0;
  std::string psam_number;      // 12 hex digits
  std::uint32_t psam_sequence = 0;
  std::uint32_t amount_fen = 0;
  std::uint32_t balance_before_fen = 0;
  std::uint8_t type = 0;        // 06 EP purchase, 09 CAPP purchase
  std::string local_time;       // YYYYMMDDhhmmss, China Standard Time, as on the card
  std::string tac;              // 8 hex digits
  std::string kind;             // metro_entry, metro_exit, bus
  std::string city;             // 4 digits: the city of the validator (acquiring city)
  std::uint16_t line = 0;
  std::uint16_t station = 0;    // 0 on a bus
  std::string validator_id;
  std::uint32_t penalty_fen = 0;  // part of amount_fen charged for an earlier missing exit
  bool recovered = false;         // completed from GET TRANSACTION PROVE after a torn debit

  std::uint32_t balance_after_fen() const { return balance_before_fen - amount_fen; }
  // "<serial>/<counter>/<psam>/<sequence>": the de-duplication key.
  std::string DedupKey() const;
  // The TAC input: amount (4) | type (1) | PSAM number (6) | PSAM sequence (4) | date (4) |
  // time (3). Errors: a malformed psam_number or local_time (kInvalidArgument).
  Result<Bytes> TacInput() const;

  friend bool operator==(const TransitRecord&, const TransitRecord&) = default;
};

nlohmann::json TransitRecordToJson(const TransitRecord& record);
// Errors (kInvalidArgument) name the field and what was expected.
Result<TransitRecord> TransitRecordFromJson(const nlohmann::json& json);

}  // namespace tapstack::transit
