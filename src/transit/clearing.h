// Clearing: a city operator's clearing centre (shared/design/domain/transit-purse.md section 12).
//
// Two roles in one object:
//  - acquirer: IngestUpload() takes the batches its validators upload. Records of its own cards are
//    cleared here; records of other cities' cards are forwarded (the national T-Union exchange) to
//    the card's issuing operator, and each one that issuer accepts is owed to this operator.
//  - issuer: ClearOwnCards() checks records of its cards, from its own validators or forwarded
//    by other cities:
//      1. de-duplication on (card serial, card offline counter, PSAM number, PSAM sequence): a
//         re-uploaded record is answered kDuplicate and changes nothing;
//      2. the TAC, recomputed with the card's DTK (diversified from the city's TAC master key): a
//         bad TAC is rejected, reported and the card blacklisted;
//      3. counter reuse: another record with the same card counter is a cloned card: rejected,
//         reported, blacklisted;
//      4. balance continuity between the records of consecutive counters: the balance before
//         purchase n must equal the balance after purchase n-1 plus the loads confirmed between
//         them; money that appears without a load is reported and the card blacklisted, money that
//         vanishes is reported. Times are whole seconds from different clocks, so a load in the
//         same second as either purchase may count on either side of it.
//    A record of this city's card used in another city is owed by this operator to that city.
//
// Settlement positions per counterparty city are kept in the store with every accepted record, so
// they always equal the sum of the records cleared (tests check it).
//
// Durable before answered: a batch's verdicts, records, anomalies and positions are committed in one
// transaction before IngestUpload returns; the batch id makes a repeated upload return the stored
// answer. Thread-safe: one mutex (the store is one connection).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "store/store.h"
#include "transit/city_network.h"
#include "transit/transit_record.h"

namespace tapstack::transit {

enum class Verdict { kAccepted, kDuplicate, kRejected };
std::string_view VerdictName(Verdict verdict);  // "accepted", "duplicate", "rejected"

struct RecordVerdict {
  Verdict verdict = Verdict::kAccepted;
  std::string reason;  // for kRejected: "bad TAC", "counter reused", ...
};

// A load the card's operator confirmed (load server), for balance continuity.
struct CardLoad {
  std::uint16_t online_counter = 0;
  std::uint32_t amount_fen = 0;
  std::string local_time;  // YYYYMMDDhhmmss
};

struct Anomaly {
  std::int64_t id = 0;
  std::string card_serial;
  std::string kind;    // bad_tac, counter_reused, balance_gained, balance_lost, unknown_card_city
  std::string detail;
  std::string dedup_key;
};

struct SettlementPosition {
  std::string counterparty_city;
  std::int64_t owed_to_us_fen = 0;  // their cards, used at our validators
  std::int64_t owed_by_us_fen = 0;  // our cards, used at their validators
  std::int64_t records = 0;
};

struct UploadResult {
  std::string batch_id;
  std::int64_t accepted = 0;
  std::int64_t duplicates = 0;
  std::int64_t rejected = 0;
  std::vector<std::string> rejections;  // "<dedup key>: <reason>"
};
nlohmann::json UploadResultToJson(const UploadResult& result);

struct ClearingOptions {
  std::shared_ptr<const CityNetwork> city;
  crypto::SecretBytes tac_master_key;  // the city's DTK master, 16 bytes
  std::unique_ptr<store::Store> store;
  const Clock* clock = nullptr;  // default: SystemClock::Instance()
  // Sends records of another city's cards to that city's operator and returns its verdicts, one
  // per record in order. Unset or failing: the records are rejected for now ("issuer unreachable")
  // and the validator's next upload of them is a new chance (they are not stored here).
  std::function<Result<std::vector<RecordVerdict>>(const std::string& card_city,
                                                   std::span<const TransitRecord> records)>
      forward;
  // The loads confirmed for a card (the load server); unset: no loads. When it fails, that card's
  // continuity is not judged in this call (no anomaly from a load list that could not be read).
  std::function<Result<std::vector<CardLoad>>(const std::string& card_serial)> loads;
  // Blacklists a card (the card registry); unset: anomalies are only reported.
  std::function<Status(const std::string& card_serial, const std::string& reason)> blacklist;
};

class Clearing {
 public:
  // Errors: no city or store, a TAC master key that is not 16 bytes (kInvalidArgument); store
  // errors from the migrations.
  static Result<std::unique_ptr<Clearing>> Open(ClearingOptions options);

  // An upload batch ({"batch_id", "validator_id", "records": [...], "blocked_cards": [...]}).
  // Errors (kInvalidArgument, nothing stored): not such an object, more than kUploadRecordsMax
  // records, a record that does not parse (its index and field named); store errors.
  Result<UploadResult> IngestUpload(const nlohmann::json& batch);
  // The same with parsed records (the JSON step is the validator's transport).
  Result<UploadResult> ClearUpload(const std::string& batch_id, std::span<const TransitRecord> records);

  // Records of this city's cards (one verdict per record, in order). Errors: store errors (then
  // nothing of the call is stored).
  Result<std::vector<RecordVerdict>> ClearOwnCards(std::span<const TransitRecord> records);

  // Forwards again the records of other cities' cards whose issuer could not be reached.
  Status RetryForwarding();

  Result<std::vector<SettlementPosition>> Positions() const;
  Result<std::vector<Anomaly>> Anomalies() const;
  // Records accepted (own cards, and other cities' cards their issuer accepted).
  Result<std::int64_t> ClearedRecords() const;
  // The balance after the card's highest cleared counter, if any record of it was cleared.
  Result<std::optional<std::uint32_t>> LastClearedBalance(const std::string& card_serial) const;

 private:
  explicit Clearing(ClearingOptions options) : options_(std::move(options)) {}
  Status Load();
  Result<std::vector<RecordVerdict>> ClearOwnLocked(std::span<const TransitRecord> records);
  // The card's DTK from the cache, derived on first use; nullptr for a malformed serial.
  const crypto::SecretBytes* CardTacKey(const std::string& card_serial);
  class TacChecker;
  // Asks the issuer of `card_city` about `records` (stored as "forwarding") and books its verdicts.
  Status ForwardLocked(const std::string& card_city, std::span<const TransitRecord> records,
                       UploadResult* result);

  mutable std::mutex mu_;
  ClearingOptions options_;
  const Clock* clock_ = nullptr;
  std::map<std::string, crypto::SecretBytes> card_tac_keys_;  // by serial, bounded cache
  std::int64_t next_anomaly_id_ = 1;
};

}  // namespace tapstack::transit
