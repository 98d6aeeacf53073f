// Validator: a metro gate (entry or exit) or a bus validator with its PSAM, working offline
// (shared/design/domain/transit-purse.md sections 7-9 and 12). One Tap() drives the card and the
// PSAM through APDUs only:
//
//   SELECT purse -> READ BINARY SFI 15/17 (serial, validity, city) -> blacklist? block the card
//   -> READ RECORD SFI 1A (trip record) -> fare plan -> INITIALIZE FOR CAPP PURCHASE
//   -> INIT SAM FOR PURCHASE (PSAM: sequence, MAC1) -> UPDATE CAPP DATA CACHE (next trip record)
//   -> grey record written to disk -> DEBIT FOR CAPP PURCHASE (TAC, MAC2) -> CREDIT SAM (MAC2)
//   -> record written to disk (grey record removed), gate opens.
//
// Fares (CityNetwork): a metro entry charges nothing but needs a balance of at least the lowest
// fare; a metro exit charges the distance fare (less a transfer discount); a bus charges its line's
// flat fare (less a transfer discount). A trip record still "entered" in this city means the last
// exit was missing: its reserved maximum fare is charged at this tap (penalty_fen). An exit without
// an entry charges the maximum fare from this station. A metro trip over the city's time limit is
// charged the maximum fare from its entry station.
//
// Torn transactions: when the card leaves the field after the DEBIT was sent, the grey record stays.
// At that card's next tap here the validator compares the card's offline counter with the grey
// record: one higher means the debit happened, so GET TRANSACTION PROVE fetches its TAC (and MAC2,
// checked by the PSAM when its session is still that purchase) and the record is completed without
// charging again; equal means it never happened and the grey record is dropped.
//
// Blacklist: a listed card is blocked on the spot (GET CHALLENGE, PSAM MAC, APPLICATION BLOCK),
// the event is kept for upload, and the gate stays closed.
//
// Records wait in the validator's SQLite file (<data_dir>/validator_<id with _ for ->.db) until an upload batch
// that holds them is acknowledged; NextUploadBatch() re-sends the same batch until then, so an
// upload retried after a lost answer is the same batch (the operator de-duplicates it anyway).
//
// Thread-safe: one mutex; a gate has one field and one PSAM.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"
#include "transit/city_network.h"
#include "transit/psam.h"
#include "transit/purse_commands.h"
#include "transit/transit_record.h"

namespace tapstack::transit {

enum class ValidatorKind { kMetroEntry, kMetroExit, kBus };
std::string_view ValidatorKindName(ValidatorKind kind);  // "metro_entry", "metro_exit", "bus"

struct BlacklistEntry {
  std::string card_serial;  // 20 hex digits
  crypto::PurseAlgorithm algorithm = crypto::PurseAlgorithm::kTdes;
  friend bool operator==(const BlacklistEntry&, const BlacklistEntry&) = default;
};

struct ValidatorOptions {
  std::string validator_id;        // 1-48 of a-z 0-9 -
  ValidatorKind kind = ValidatorKind::kMetroEntry;
  std::shared_ptr<const CityNetwork> city;  // fares and stations of the validator's city
  std::uint16_t line = 0;          // metro line or bus line
  std::uint16_t station = 0;       // metro station (unused on a bus)
  // T-Union cities whose cards this validator accepts ("1000"); empty accepts every city.
  std::set<std::string> accepted_cities;
  std::filesystem::path data_dir;  // where validator-<id>.db lives
  PsamOptions psam;                // next_sequence is taken from the file when it has one
  const Clock* clock = nullptr;    // default: SystemClock::Instance()
};

struct TapResult {
  bool open = false;          // the gate opens / the bus validator beeps green
  std::string reason;         // why not, for the display ("insufficient balance ...")
  std::uint32_t fare_fen = 0;      // charged at this tap, including any penalty
  std::uint32_t penalty_fen = 0;   // part of fare_fen for an earlier missing exit
  std::uint32_t discount_fen = 0;  // transfer discount given
  std::uint32_t balance_fen = 0;   // card balance after the tap (when known)
  bool recovered = false;          // the tap completed an earlier torn transaction
  bool blocked = false;            // the card was blacklisted and is now blocked
};

struct UploadBatch {
  std::string batch_id;
  std::vector<TransitRecord> records;
  std::vector<std::string> blocked_cards;  // serials blocked here since the last upload
  bool empty() const { return records.empty() && blocked_cards.empty(); }
};
// {"batch_id", "validator_id", "records": [...], "blocked_cards": [...]}
nlohmann::json UploadBatchToJson(const UploadBatch& batch, std::string_view validator_id);

class Validator {
 public:
  // Errors: a bad id, no city, a metro validator in a city without metro or at an unknown
  // station, a bus validator in a city without buses or on a line without fare
  // (kInvalidArgument / kNotFound); PSAM key errors; store errors.
  static Result<std::unique_ptr<Validator>> Open(ValidatorOptions options);

  // One card in the field. Never fails: every refusal is a TapResult with open = false and the
  // reason. Store failures close the gate too (nothing is promised that is not on disk).
  TapResult Tap(const Transmit& card);

  // The records (and block events) not yet acknowledged, at most `records_max` records: the
  // outstanding batch when there is one, else a new one. Errors: store errors.
  Result<UploadBatch> NextUploadBatch(std::size_t records_max = kUploadRecordsMax);
  // The operator stored `batch_id`: its records leave the validator. Unknown ids: kNotFound.
  Status AcknowledgeUpload(std::string_view batch_id);

  // Replaces the blacklist with the operator's list `version` (older versions are ignored).
  Status ApplyBlacklist(std::int64_t version, const std::vector<BlacklistEntry>& entries);
  std::int64_t blacklist_version() const;
  // Replaces the fare tables (a pushed city configuration of the same city).
  Status ApplyCityNetwork(std::shared_ptr<const CityNetwork> city);

  std::size_t PendingRecords() const;
  std::size_t GreyRecords() const;
  const std::string& id() const { return options_.validator_id; }
  const PsamNumber& psam_number() const { return psam_.number(); }

 private:
  struct Plan;
  Validator(ValidatorOptions options, const Clock& clock, std::unique_ptr<store::Store> store, Psam psam)
      : options_(std::move(options)), clock_(clock), store_(std::move(store)), psam_(std::move(psam)) {}

  Status Load();
  TapResult TapLocked(PurseCommands& card);
  Result<Plan> MakePlan(const TripRecord& trip, std::int64_t now) const;
  TapResult Block(PurseCommands& card, const std::string& serial, crypto::PurseAlgorithm algorithm,
                  ByteView diversifier);
  Status SaveGrey(const TransitRecord& record);
  Status SaveRecord(const TransitRecord& record);
  Status DropGrey(const std::string& serial);

  mutable std::mutex mu_;
  ValidatorOptions options_;
  const Clock& clock_;
  std::unique_ptr<store::Store> store_;
  Psam psam_;
  std::int64_t blacklist_version_ = 0;
  std::map<std::string, crypto::PurseAlgorithm> blacklist_;
  std::map<std::string, TransitRecord> grey_;  // by card serial; TAC empty until proven
  std::size_t pending_records_ = 0;
  std::int64_t next_record_seq_ = 1;
  std::int64_t next_batch_ = 1;
};

}  // namespace tapstack::transit
