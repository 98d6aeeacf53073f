#include "transit/validator.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/hex.h"
#include "store/migration.h"
#include "store/sqlite_store.h"
#include "transit/bcd_time.h"

namespace tapstack::transit {

namespace {

constexpr std::size_t kValidatorIdBytesMax = 48;  // "validator_" + id stays a 63-byte role name

// Local file of one validator (transit-purse.md section 12: records kept durably until uploaded).
const store::Migration kValidatorMigrations[] = {
    {1, "validator tables",
     "CREATE TABLE meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
     "CREATE TABLE grey (card_serial TEXT PRIMARY KEY, record TEXT NOT NULL);"
     "CREATE TABLE records (seq BIGINT PRIMARY KEY, dedup_key TEXT NOT NULL UNIQUE,"
     " record TEXT NOT NULL, batch TEXT);"
     "CREATE TABLE blocked (card_serial TEXT PRIMARY KEY, seq BIGINT NOT NULL, batch TEXT);"
     "CREATE TABLE blacklist (card_serial TEXT PRIMARY KEY, algorithm BIGINT NOT NULL);",
     "", ""},
};

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kValidatorIdBytesMax) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The store role of a validator: its id with '-' as '_' (ids have no '_', so this is one-to-one).
std::string RoleOf(std::string_view id) {
  std::string role = "validator_" + std::string(id);
  std::replace(role.begin(), role.end(), '-', '_');
  return role;
}

TapResult Closed(std::string reason) {
  TapResult result;
  result.reason = std::move(reason);
  return result;
}

std::string Fen(std::uint32_t fen) {
  std::string cents = std::to_string(fen % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return std::to_string(fen / 100) + "." + cents + " CNY";
}

// The card refusal or the transport failure, as the display shows it.
std::string Why(const Status& status) {
  if (status.code() == ErrorCode::kUnavailable) return "card left the field: tap again";
  if (std::optional<emv::StatusWord> sw = PurseError(status)) {
    if (*sw == emv::kSwPurseInsufficientBalance) return "insufficient balance";
    if (*sw == emv::kSwPurseBlocked || *sw == emv::kSwSelectedFileInvalidated) return "card blocked";
  }
  return "card error: " + status.message();
}

Status SetMeta(store::Store& store, std::string_view name, std::int64_t value) {
  return store
      .Execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = "
               "excluded.value",
               {store::Value::Text(std::string(name)), store::Value::Int64(value)})
      .status();
}

Result<std::int64_t> GetMeta(store::Store& store, std::string_view name, std::int64_t fallback) {
  Result<store::Row> row =
      store.QueryRow("SELECT value FROM meta WHERE name = ?", {store::Value::Text(std::string(name))});
  if (!row.ok()) return row.status().code() == ErrorCode::kNotFound ? Result<std::int64_t>(fallback)
                                                                    : Result<std::int64_t>(row.status());
  return row->GetInt64(0);
}

std::uint32_t TodayYyyymmdd(const BcdDateTime& now) {
  return static_cast<std::uint32_t>(std::stoul(HexEncode(ByteView(now).first(kBcdDateBytes))));
}

}  // namespace

std::string_view ValidatorKindName(ValidatorKind kind) {
  switch (kind) {
    case ValidatorKind::kMetroEntry:
      return "metro_entry";
    case ValidatorKind::kMetroExit:
      return "metro_exit";
    case ValidatorKind::kBus:
      return "bus";
  }
  return "unknown";
}

nlohmann::json UploadBatchToJson(const UploadBatch& batch, std::string_view validator_id) {
  nlohmann::json records = nlohmann::json::array();
  for (const TransitRecord& record : batch.records) records.push_back(TransitRecordToJson(record));
  return {{"batch_id", batch.batch_id},
          {"validator_id", validator_id},
          {"records", std::move(records)},
          {"blocked_cards", batch.blocked_cards}};
}

// What this tap will do to the card, decided from the trip record before any write.
struct Validator::Plan {
  std::uint32_t amount_fen = 0;
  std::uint32_t penalty_fen = 0;
  std::uint32_t discount_fen = 0;
  std::uint32_t balance_needed_fen = 0;  // beyond amount_fen (a metro entry needs the lowest fare)
  TripRecord next;
};

Result<std::unique_ptr<Validator>> Validator::Open(ValidatorOptions options) {
  if (!IsValidId(options.validator_id)) {
    return InvalidArgument("validator_id must be 1-48 of a-z 0-9 -");
  }
  if (options.city == nullptr) return InvalidArgument("validator " + options.validator_id + ": no city");
  const CityNetwork& city = *options.city;
  if (options.kind == ValidatorKind::kBus) {
    TS_RETURN_IF_ERROR(city.BusFare(options.line).status());
  } else {
    TS_RETURN_IF_ERROR(city.StationById(options.station).status());
  }
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  TS_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                      store::OpenSqlite(options.data_dir, RoleOf(options.validator_id)));
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*store, kValidatorMigrations));
  TS_ASSIGN_OR_RETURN(std::int64_t sequence,
                      GetMeta(*store, "psam_next_sequence", options.psam.next_sequence));
  options.psam.next_sequence = static_cast<std::uint32_t>(sequence);
  PsamOptions psam_options = std::move(options.psam);
  options.psam = {};
  TS_ASSIGN_OR_RETURN(Psam psam, Psam::Create(std::move(psam_options)));
  std::unique_ptr<Validator> validator(
      new Validator(std::move(options), clock, std::move(store), std::move(psam)));
  TS_RETURN_IF_ERROR(validator->Load());
  return validator;
}

Status Validator::Load() {
  TS_ASSIGN_OR_RETURN(blacklist_version_, GetMeta(*store_, "blacklist_version", 0));
  TS_ASSIGN_OR_RETURN(next_batch_, GetMeta(*store_, "next_batch", 1));
  TS_ASSIGN_OR_RETURN(store::Rows listed, store_->Query("SELECT card_serial, algorithm FROM blacklist"));
  for (const store::Row& row : listed) {
    TS_ASSIGN_OR_RETURN(std::string serial, row.GetText(0));
    TS_ASSIGN_OR_RETURN(std::int64_t algorithm, row.GetInt64(1));
    blacklist_[serial] = static_cast<crypto::PurseAlgorithm>(algorithm);
  }
  TS_ASSIGN_OR_RETURN(store::Rows grey, store_->Query("SELECT record FROM grey"));
  for (const store::Row& row : grey) {
    TS_ASSIGN_OR_RETURN(std::string text, row.GetText(0));
    TS_ASSIGN_OR_RETURN(TransitRecord record,
                        TransitRecordFromJson(nlohmann::json::parse(text, nullptr, false)));
    grey_[record.card_serial] = std::move(record);
  }
  TS_ASSIGN_OR_RETURN(store::Row counts,
                      store_->QueryRow("SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS last FROM records"));
  TS_ASSIGN_OR_RETURN(std::int64_t pending, counts.GetInt64(0));
  TS_ASSIGN_OR_RETURN(std::int64_t last, counts.GetInt64(1));
  TS_ASSIGN_OR_RETURN(store::Row blocked_last,
                      store_->QueryRow("SELECT COALESCE(MAX(seq), 0) AS last FROM blocked"));
  TS_ASSIGN_OR_RETURN(std::int64_t last_blocked, blocked_last.GetInt64(0));
  pending_records_ = static_cast<std::size_t>(pending);
  next_record_seq_ = std::max(last, last_blocked) + 1;
  return Status::Ok();
}

TapResult Validator::Tap(const Transmit& transmit) {
  std::lock_guard lock(mu_);
  PurseCommands card(transmit);
  return TapLocked(card);
}

Result<Validator::Plan> Validator::MakePlan(const TripRecord& trip, std::int64_t now) const {
  const CityNetwork& city = *options_.city;
  Plan plan;
  const bool here = trip.city_code == city.city_code();
  // An entry still open in this city is a missing exit: its reserved maximum is charged now
  // (notes section 8). A trip of another city is that city's business.
  const bool missing_exit = here && trip.state == TripState::kEntered &&
                            options_.kind != ValidatorKind::kMetroExit;
  if (missing_exit) plan.penalty_fen = trip.max_fare_reserved_fen;
  const bool chain = here && !missing_exit && trip.last_leg_mode != TransitMode::kNone &&
                     trip.last_leg_end_time.has_value();

  TripRecord& next = plan.next;
  next.city_code = city.city_code();
  next.line = options_.line;
  next.entry_terminal_id = psam_.number();
  switch (options_.kind) {
    case ValidatorKind::kMetroEntry: {
      TS_ASSIGN_OR_RETURN(std::uint32_t max_fare, city.MaxMetroFare(options_.station));
      TS_ASSIGN_OR_RETURN(plan.balance_needed_fen, city.MetroFare(options_.station, options_.station));
      next.state = TripState::kEntered;
      next.mode = TransitMode::kMetro;
      next.entry_station = options_.station;
      next.entry_time = now;
      next.max_fare_reserved_fen = max_fare;
      if (chain) {  // the transfer is judged at the exit, from this leg's start
        next.last_leg_mode = trip.last_leg_mode;
        next.last_leg_end_time = trip.last_leg_end_time;
        next.discounted_transfers = trip.discounted_transfers;
      }
      plan.amount_fen = plan.penalty_fen;
      break;
    }
    case ValidatorKind::kMetroExit: {
      const bool entered = here && trip.state == TripState::kEntered && trip.mode == TransitMode::kMetro &&
                           trip.entry_time.has_value();
      std::uint32_t fare = 0;
      next.state = TripState::kExited;
      next.mode = TransitMode::kMetro;
      next.exit_station = options_.station;
      next.exit_time = now;
      next.last_leg_mode = TransitMode::kMetro;
      next.last_leg_end_time = now;
      if (entered) {
        const std::uint32_t limit =
            city.metro().has_value() ? city.metro()->max_trip_minutes : 0;
        TS_ASSIGN_OR_RETURN(fare, city.MetroFare(trip.entry_station, options_.station));
        if (limit > 0 && now - *trip.entry_time > std::int64_t{limit} * 60) {
          TS_ASSIGN_OR_RETURN(fare, city.MaxMetroFare(trip.entry_station));  // over time
        }
        if (trip.last_leg_mode != TransitMode::kNone && trip.last_leg_end_time.has_value()) {
          plan.discount_fen = std::min(
              fare, city.TransferDiscount(trip.last_leg_mode, *trip.last_leg_end_time, TransitMode::kMetro,
                                          *trip.entry_time, trip.discounted_transfers));
        }
        next.entry_station = trip.entry_station;
        next.entry_time = trip.entry_time;
        next.entry_terminal_id = trip.entry_terminal_id;
        next.line = trip.line;
        next.max_fare_reserved_fen = trip.max_fare_reserved_fen;
        next.discounted_transfers = plan.discount_fen > 0 ? trip.discounted_transfers + 1 : 0;
      } else {
        // No entry on the card: the maximum fare from this station (a supplement fare).
        TS_ASSIGN_OR_RETURN(fare, city.MaxMetroFare(options_.station));
        plan.penalty_fen = fare;
        next.entry_station = options_.station;
        next.entry_time = now;
      }
      next.fare_charged_fen = fare - plan.discount_fen;
      plan.amount_fen = next.fare_charged_fen;
      break;
    }
    case ValidatorKind::kBus: {
      TS_ASSIGN_OR_RETURN(std::uint32_t fare, city.BusFare(options_.line));
      if (chain) {
        plan.discount_fen = std::min(
            fare, city.TransferDiscount(trip.last_leg_mode, *trip.last_leg_end_time, TransitMode::kBus, now,
                                        trip.discounted_transfers));
      }
      next.state = TripState::kExited;
      next.mode = TransitMode::kBus;
      next.entry_time = now;
      next.exit_time = now;
      next.fare_charged_fen = fare - plan.discount_fen;
      next.last_leg_mode = TransitMode::kBus;
      next.last_leg_end_time = now;
      next.discounted_transfers = plan.discount_fen > 0 ? trip.discounted_transfers + 1 : 0;
      plan.amount_fen = plan.penalty_fen + next.fare_charged_fen;
      break;
    }
  }
  return plan;
}

TapResult Validator::TapLocked(PurseCommands& card) {
  const std::int64_t now = clock_.NowUnixMillis() / 1000;
  Result<BcdDateTime> now_bcd = ToBcdDateTime(now);
  if (!now_bcd.ok()) return Closed("validator clock out of range");
  const ByteView date4 = ByteView(*now_bcd).first(kBcdDateBytes);
  const ByteView time3 = ByteView(*now_bcd).last(kBcdTimeBytes);

  if (Status selected = card.Select(); !selected.ok()) return Closed(Why(selected));
  Result<PurseIdentity> identity = card.ReadIdentity();
  if (!identity.ok()) return Closed(Why(identity.status()));
  const std::string serial = HexEncode(identity->serial);
  const std::uint32_t today = TodayYyyymmdd(*now_bcd);
  if (today < identity->start_date || today > identity->expiry_date) {
    return Closed("card not valid today (valid " + std::to_string(identity->start_date) + "-" +
                  std::to_string(identity->expiry_date) + ")");
  }
  if (!options_.accepted_cities.empty() && !options_.accepted_cities.contains(identity->city_code)) {
    return Closed("cards of city " + identity->city_code + " are not accepted here");
  }
  if (auto listed = blacklist_.find(serial); listed != blacklist_.end()) {
    return Block(card, serial, listed->second, identity->diversifier());
  }
  Result<Bytes> trip_bytes = card.ReadTripRecord();
  if (!trip_bytes.ok()) return Closed(Why(trip_bytes.status()));
  Result<TripRecord> trip = DecodeTripRecord(*trip_bytes);
  if (!trip.ok()) return Closed("unreadable trip record: " + trip.status().message());
  Result<Plan> plan = MakePlan(*trip, now);
  if (!plan.ok()) return Closed("fare error: " + plan.status().message());

  Result<PurchaseInit> init = card.InitializeForPurchase(true, plan->amount_fen, psam_.number());
  if (!init.ok()) return Closed(Why(init.status()));

  if (auto grey = grey_.find(serial); grey != grey_.end()) {
    const TransitRecord pending = grey->second;
    if (init->offline_counter == static_cast<std::uint16_t>(pending.offline_counter + 1)) {
      // The torn debit happened: complete it from the card's proof, never charge again.
      Result<DebitProof> proof = card.GetTransactionProve(true, pending.offline_counter);
      if (!proof.ok()) return Closed(Why(proof.status()));
      Bytes credit = {0x80, 0x72, 0x00, 0x00, 0x04};
      credit.insert(credit.end(), proof->mac2.begin(), proof->mac2.end());
      psam_.Transmit(credit);  // checks MAC2 when the PSAM session is still that purchase
      TransitRecord record = pending;
      record.tac = HexEncode(proof->tac);
      record.recovered = true;
      if (Status saved = SaveRecord(record); !saved.ok()) return Closed("validator store: " + saved.message());
      TapResult result;
      result.open = true;
      result.recovered = true;
      result.fare_fen = record.amount_fen;
      result.penalty_fen = record.penalty_fen;
      result.balance_fen = record.balance_after_fen();
      result.reason = "earlier tap completed";
      return result;
    }
    // Equal counter: the debit never happened. Another value: the card was used elsewhere since,
    // and the record is the issuer's to reconcile. Either way this validator has nothing to finish.
    if (Status dropped = DropGrey(serial); !dropped.ok()) return Closed("validator store: " + dropped.message());
  }

  if (init->balance_fen < std::uint64_t{plan->amount_fen} + plan->balance_needed_fen) {
    TapResult result = Closed("insufficient balance: " + Fen(init->balance_fen) + ", needs " +
                              Fen(plan->amount_fen + plan->balance_needed_fen));
    result.balance_fen = init->balance_fen;
    return result;
  }
  Result<TripRecordBytes> next_bytes = EncodeTripRecord(plan->next);
  if (!next_bytes.ok()) return Closed("trip record: " + next_bytes.status().message());

  // PSAM: sequence and MAC1 (notes section 7 step 3).
  Bytes init_sam = {0x80, 0x70, 0x00, 0x00, 0x1C};
  init_sam.insert(init_sam.end(), init->card_random.begin(), init->card_random.end());
  init_sam.push_back(static_cast<std::uint8_t>(init->offline_counter >> 8));
  init_sam.push_back(static_cast<std::uint8_t>(init->offline_counter));
  for (int shift = 24; shift >= 0; shift -= 8) init_sam.push_back(static_cast<std::uint8_t>(plan->amount_fen >> shift));
  init_sam.push_back(kPurchaseTypeCapp);
  init_sam.insert(init_sam.end(), now_bcd->begin(), now_bcd->end());
  init_sam.push_back(init->key_version);
  init_sam.push_back(crypto::PurseAlgorithmId(init->algorithm));
  const ByteView diversifier = identity->diversifier();
  init_sam.insert(init_sam.end(), diversifier.begin(), diversifier.end());
  const Bytes sam_answer = psam_.Transmit(init_sam);
  if (sam_answer.size() != 10) {
    return Closed("PSAM refused the purchase: " +
                  emv::DescribeStatusWord(emv::StatusWord(sam_answer[sam_answer.size() - 2], sam_answer.back())));
  }
  const std::uint32_t sequence = (std::uint32_t{sam_answer[0]} << 24) | (std::uint32_t{sam_answer[1]} << 16) |
                                 (std::uint32_t{sam_answer[2]} << 8) | sam_answer[3];
  crypto::PurseMac mac1{};
  std::copy_n(sam_answer.begin() + 4, 4, mac1.begin());

  if (Status staged = card.UpdateTripRecord(*next_bytes); !staged.ok()) return Closed(Why(staged));

  TransitRecord record;
  record.card_serial = serial;
  record.card_city = identity->city_code;
  record.offline_counter = init->offline_counter;
  record.psam_number = HexEncode(psam_.number());
  record.psam_sequence = sequence;
  record.amount_fen = plan->amount_fen;
  record.balance_before_fen = init->balance_fen;
  record.type = kPurchaseTypeCapp;
  record.local_time = HexEncode(*now_bcd);
  record.kind = std::string(ValidatorKindName(options_.kind));
  record.city = options_.city->city_code();
  record.line = plan->next.line;
  record.station = options_.kind == ValidatorKind::kBus ? 0 : options_.station;
  record.validator_id = options_.validator_id;
  record.penalty_fen = plan->penalty_fen;
  // The grey record is on disk before the debit (notes section 7 step 5).
  if (Status saved = SaveGrey(record); !saved.ok()) return Closed("validator store: " + saved.message());

  Result<DebitProof> proof = card.DebitForPurchase(sequence, date4, time3, mac1);
  if (!proof.ok()) {
    if (proof.status().code() != ErrorCode::kUnavailable) {
      (void)DropGrey(serial);  // the card refused: nothing happened on it
    }
    return Closed(Why(proof.status()));
  }
  Bytes credit = {0x80, 0x72, 0x00, 0x00, 0x04};
  credit.insert(credit.end(), proof->mac2.begin(), proof->mac2.end());
  const Bytes credit_answer = psam_.Transmit(credit);
  record.tac = HexEncode(proof->tac);
  if (Status saved = SaveRecord(record); !saved.ok()) return Closed("validator store: " + saved.message());
  TapResult result;
  // A card MAC2 the PSAM rejects is kept for the clearing centre (the TAC decides) but the gate
  // stays shut: the card is not behaving as a genuine one.
  result.open = credit_answer.size() == 2 && credit_answer[0] == 0x90 && credit_answer[1] == 0x00;
  if (!result.open) result.reason = "card MAC2 did not verify";
  result.fare_fen = plan->amount_fen;
  result.penalty_fen = plan->penalty_fen;
  result.discount_fen = plan->discount_fen;
  result.balance_fen = record.balance_after_fen();
  return result;
}

TapResult Validator::Block(PurseCommands& card, const std::string& serial,
                           crypto::PurseAlgorithm algorithm, ByteView diversifier) {
  Result<std::array<std::uint8_t, crypto::kPurseChallengeBytes>> challenge = card.GetChallenge();
  if (!challenge.ok()) return Closed(Why(challenge.status()));
  Bytes command = {0x80, 0xFA, 0x05, crypto::PurseAlgorithmId(algorithm), 0x10};
  command.insert(command.end(), challenge->begin(), challenge->end());
  command.insert(command.end(), diversifier.begin(), diversifier.end());
  const Bytes mac_answer = psam_.Transmit(command);
  if (mac_answer.size() != 6) return Closed("PSAM refused the block MAC");
  crypto::PurseMac mac{};
  std::copy_n(mac_answer.begin(), 4, mac.begin());
  if (Status blocked = card.ApplicationBlock(mac); !blocked.ok()) return Closed(Why(blocked));
  Status saved = store_->RunInTransaction([&](store::Store& s) {
    return s
        .Execute("INSERT INTO blocked (card_serial, seq) VALUES (?, ?) ON CONFLICT (card_serial) DO NOTHING",
                 {store::Value::Text(serial), store::Value::Int64(next_record_seq_)})
        .status();
  });
  if (saved.ok()) ++next_record_seq_;
  TapResult result = Closed("card blacklisted: blocked");
  result.blocked = true;
  return result;
}

Status Validator::SaveGrey(const TransitRecord& record) {
  TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) {
    TS_RETURN_IF_ERROR(s.Execute("INSERT INTO grey (card_serial, record) VALUES (?, ?) ON CONFLICT "
                                 "(card_serial) DO UPDATE SET record = excluded.record",
                                 {store::Value::Text(record.card_serial),
                                  store::Value::Text(TransitRecordToJson(record).dump())})
                           .status());
    return SetMeta(s, "psam_next_sequence", psam_.next_sequence());
  }));
  grey_[record.card_serial] = record;
  return Status::Ok();
}

Status Validator::SaveRecord(const TransitRecord& record) {
  TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) {
    TS_RETURN_IF_ERROR(s.Execute("INSERT INTO records (seq, dedup_key, record) VALUES (?, ?, ?) ON "
                                 "CONFLICT (dedup_key) DO NOTHING",
                                 {store::Value::Int64(next_record_seq_), store::Value::Text(record.DedupKey()),
                                  store::Value::Text(TransitRecordToJson(record).dump())})
                           .status());
    TS_RETURN_IF_ERROR(s.Execute("DELETE FROM grey WHERE card_serial = ?",
                                 {store::Value::Text(record.card_serial)})
                           .status());
    return SetMeta(s, "psam_next_sequence", psam_.next_sequence());
  }));
  ++next_record_seq_;
  ++pending_records_;
  grey_.erase(record.card_serial);
  return Status::Ok();
}

Status Validator::DropGrey(const std::string& serial) {
  TS_RETURN_IF_ERROR(
      store_->Execute("DELETE FROM grey WHERE card_serial = ?", {store::Value::Text(serial)}).status());
  grey_.erase(serial);
  return Status::Ok();
}

Result<UploadBatch> Validator::NextUploadBatch(std::size_t records_max) {
  std::lock_guard lock(mu_);
  records_max = std::clamp<std::size_t>(records_max, 1, kUploadRecordsMax);
  UploadBatch batch;
  TS_ASSIGN_OR_RETURN(store::Rows outstanding,
                      store_->Query("SELECT batch FROM records WHERE batch IS NOT NULL UNION "
                                    "SELECT batch FROM blocked WHERE batch IS NOT NULL"));
  if (!outstanding.empty()) {
    TS_ASSIGN_OR_RETURN(batch.batch_id, outstanding[0].GetText(0));
  } else {
    batch.batch_id = options_.validator_id + "-" + std::to_string(next_batch_);
    TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) {
      TS_RETURN_IF_ERROR(s.Execute("UPDATE records SET batch = ? WHERE seq IN (SELECT seq FROM records "
                                   "ORDER BY seq LIMIT ?)",
                                   {store::Value::Text(batch.batch_id),
                                    store::Value::Int64(static_cast<std::int64_t>(records_max))})
                             .status());
      TS_RETURN_IF_ERROR(
          s.Execute("UPDATE blocked SET batch = ?", {store::Value::Text(batch.batch_id)}).status());
      return SetMeta(s, "next_batch", next_batch_ + 1);
    }));
    ++next_batch_;
  }
  TS_ASSIGN_OR_RETURN(store::Rows rows, store_->Query("SELECT record FROM records WHERE batch = ? ORDER BY seq",
                                                      {store::Value::Text(batch.batch_id)}));
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::string text, row.GetText(0));
    TS_ASSIGN_OR_RETURN(TransitRecord record,
                        TransitRecordFromJson(nlohmann::json::parse(text, nullptr, false)));
    batch.records.push_back(std::move(record));
  }
  TS_ASSIGN_OR_RETURN(store::Rows blocked, store_->Query("SELECT card_serial FROM blocked WHERE batch = ?",
                                                         {store::Value::Text(batch.batch_id)}));
  for (const store::Row& row : blocked) {
    TS_ASSIGN_OR_RETURN(std::string serial, row.GetText(0));
    batch.blocked_cards.push_back(std::move(serial));
  }
  return batch;
}

Status Validator::AcknowledgeUpload(std::string_view batch_id) {
  std::lock_guard lock(mu_);
  std::int64_t removed = 0;
  TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) {
    TS_ASSIGN_OR_RETURN(removed, s.Execute("DELETE FROM records WHERE batch = ?",
                                           {store::Value::Text(std::string(batch_id))}));
    TS_ASSIGN_OR_RETURN(std::int64_t blocked, s.Execute("DELETE FROM blocked WHERE batch = ?",
                                                        {store::Value::Text(std::string(batch_id))}));
    if (removed == 0 && blocked == 0) return NotFound("no outstanding upload batch " + std::string(batch_id));
    return Status::Ok();
  }));
  pending_records_ -= static_cast<std::size_t>(removed);
  return Status::Ok();
}

Status Validator::ApplyBlacklist(std::int64_t version, const std::vector<BlacklistEntry>& entries) {
  std::lock_guard lock(mu_);
  if (version <= blacklist_version_) return Status::Ok();  // an older push arriving late
  std::map<std::string, crypto::PurseAlgorithm> next;
  for (const BlacklistEntry& entry : entries) next[entry.card_serial] = entry.algorithm;
  TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) {
    TS_RETURN_IF_ERROR(s.Execute("DELETE FROM blacklist").status());
    for (const auto& [serial, algorithm] : next) {
      TS_RETURN_IF_ERROR(s.Execute("INSERT INTO blacklist (card_serial, algorithm) VALUES (?, ?)",
                                   {store::Value::Text(serial),
                                    store::Value::Int64(static_cast<std::int64_t>(algorithm))})
                             .status());
    }
    return SetMeta(s, "blacklist_version", version);
  }));
  blacklist_ = std::move(next);
  blacklist_version_ = version;
  return Status::Ok();
}

std::int64_t Validator::blacklist_version() const {
  std::lock_guard lock(mu_);
  return blacklist_version_;
}

Status Validator::ApplyCityNetwork(std::shared_ptr<const CityNetwork> city) {
  std::lock_guard lock(mu_);
  if (city == nullptr || city->city_code() != options_.city->city_code()) {
    return InvalidArgument("a pushed fare table must be for city " + options_.city->city_code());
  }
  if (options_.kind == ValidatorKind::kBus) {
    TS_RETURN_IF_ERROR(city->BusFare(options_.line).status());
  } else {
    TS_RETURN_IF_ERROR(city->StationById(options_.station).status());
  }
  options_.city = std::move(city);
  return Status::Ok();
}

std::size_t Validator::PendingRecords() const {
  std::lock_guard lock(mu_);
  return pending_records_;
}

std::size_t Validator::GreyRecords() const {
  std::lock_guard lock(mu_);
  return grey_.size();
}

}  // namespace tapstack::transit
