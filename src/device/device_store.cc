#include "device/device_store.h"

#include <algorithm>
#include <array>

#include "core/hex.h"

#include "store/migration.h"
#include "store/sqlite_store.h"

namespace tapstack::device {

namespace {

constexpr std::string_view kRole = "secure_element";

const std::array<store::Migration, 2>& Migrations() {
  static const std::array<store::Migration, 2> migrations = {
      store::Migration{
          .version = 1,
          .description = "secure element: device key, tokens, limited-use keys",
          .sql = "CREATE TABLE device_key (id BIGINT PRIMARY KEY, private_key BYTEA NOT NULL,"
                 " created_unix_ms BIGINT NOT NULL);"
                 "CREATE TABLE tokens (token_id TEXT PRIMARY KEY, token_number TEXT NOT NULL,"
                 " expiry_yymm TEXT NOT NULL, psn TEXT NOT NULL, profile TEXT NOT NULL,"
                 " key_mode BIGINT NOT NULL, icc_master_key BYTEA, atc BIGINT NOT NULL"
                 " CHECK (atc >= 0 AND atc <= 65535), install_order BIGINT NOT NULL);"
                 "CREATE TABLE limited_use_keys (token_id TEXT NOT NULL REFERENCES tokens(token_id),"
                 " atc BIGINT NOT NULL, session_key BYTEA NOT NULL, PRIMARY KEY (token_id, atc));",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      // profile: the personalisation TLV (transit_card_profile.h); log: a count byte then the
      // records newest first; last_purchase: ETC (2) || type (1) || MAC2 (4) || TAC (4).
      store::Migration{
          .version = 2,
          .description = "secure element: transit purse cards",
          .sql = "CREATE TABLE transit_cards (card_id TEXT PRIMARY KEY, profile BYTEA NOT NULL,"
                 " balance_fen BIGINT NOT NULL CHECK (balance_fen >= 0 AND"
                 " balance_fen <= 4294967295),"
                 " offline_counter BIGINT NOT NULL CHECK (offline_counter >= 0 AND"
                 " offline_counter <= 65535),"
                 " online_counter BIGINT NOT NULL CHECK (online_counter >= 0 AND"
                 " online_counter <= 65535),"
                 " log BYTEA NOT NULL, capp_record BYTEA NOT NULL, last_purchase BYTEA,"
                 " blocked BOOLEAN NOT NULL, express BOOLEAN NOT NULL,"
                 " install_order BIGINT NOT NULL);",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

constexpr std::size_t kProofBytes = 2 + 1 + 2 * crypto::kPurseMacBytes;

Bytes EncodeLog(const std::vector<Bytes>& log) {
  Bytes out{static_cast<std::uint8_t>(log.size())};
  for (const Bytes& record : log) out.insert(out.end(), record.begin(), record.end());
  return out;
}

Result<std::vector<Bytes>> DecodeLog(ByteView encoded) {
  if (encoded.empty() || encoded[0] > kTransitLogRecordsMax ||
      encoded.size() != 1 + encoded[0] * kTransitLogRecordBytes) {
    return Corruption("stored transit log does not decode");
  }
  std::vector<Bytes> log;
  for (std::size_t i = 0; i < encoded[0]; ++i) {
    const ByteView record = encoded.subspan(1 + i * kTransitLogRecordBytes, kTransitLogRecordBytes);
    log.emplace_back(record.begin(), record.end());
  }
  return log;
}

store::Value EncodeProof(const std::optional<TransitPurchaseProof>& proof) {
  if (!proof.has_value()) return store::Value::Null();
  Bytes out = UintToBytes(proof->offline_counter, 2);
  out.push_back(proof->transaction_type);
  out.insert(out.end(), proof->mac2.begin(), proof->mac2.end());
  out.insert(out.end(), proof->tac.begin(), proof->tac.end());
  return store::Value(std::move(out));
}

Result<std::optional<TransitPurchaseProof>> DecodeProof(const std::optional<Bytes>& encoded) {
  if (!encoded.has_value()) return std::optional<TransitPurchaseProof>();
  if (encoded->size() != kProofBytes) return Corruption("stored transit proof does not decode");
  TransitPurchaseProof proof;
  const ByteView v = *encoded;
  proof.offline_counter = static_cast<std::uint16_t>(BytesToUint(v.first(2)));
  proof.transaction_type = v[2];
  std::copy_n(v.begin() + 3, crypto::kPurseMacBytes, proof.mac2.begin());
  std::copy_n(v.begin() + 3 + crypto::kPurseMacBytes, crypto::kPurseMacBytes, proof.tac.begin());
  return std::optional<TransitPurchaseProof>(proof);
}

Status CheckTransitState(const TransitCardState& state) {
  if (state.log.size() > kTransitLogRecordsMax) {
    return InvalidArgument("transit log: at most 10 records");
  }
  for (const Bytes& record : state.log) {
    if (record.size() != kTransitLogRecordBytes) {
      return InvalidArgument("transit log record: expected 23 bytes");
    }
  }
  if (state.capp_record.size() != kTransitCappRecordBytes) {
    return InvalidArgument("transit CAPP record: expected 48 bytes");
  }
  return Status::Ok();
}

constexpr std::string_view kSelectTransitCard =
    "SELECT card_id, profile, balance_fen, offline_counter, online_counter, log, capp_record,"
    " last_purchase, blocked, express, install_order FROM transit_cards";

Result<StoredTransitCard> DecodeTransitRow(const store::Row& row) {
  StoredTransitCard card;
  TS_ASSIGN_OR_RETURN(const std::string card_id, row.GetText(0));
  TS_ASSIGN_OR_RETURN(const Bytes profile, row.GetBlob(1));
  Result<TransitCardProfile> decoded = DecodeTransitCardProfile(profile);
  if (!decoded.ok() || decoded->card_id != card_id) {
    return Corruption("stored transit card profile does not decode");
  }
  card.profile = std::move(decoded).value();
  TS_ASSIGN_OR_RETURN(const std::int64_t balance, row.GetInt64(2));
  TS_ASSIGN_OR_RETURN(const std::int64_t offline, row.GetInt64(3));
  TS_ASSIGN_OR_RETURN(const std::int64_t online, row.GetInt64(4));
  if (balance < 0 || balance > 0xFFFFFFFFLL || offline < 0 || offline > 0xFFFF || online < 0 ||
      online > 0xFFFF) {
    return Corruption("stored transit balance or counter out of range");
  }
  card.state.balance_fen = static_cast<std::uint32_t>(balance);
  card.state.offline_counter = static_cast<std::uint16_t>(offline);
  card.state.online_counter = static_cast<std::uint16_t>(online);
  TS_ASSIGN_OR_RETURN(const Bytes log, row.GetBlob(5));
  TS_ASSIGN_OR_RETURN(card.state.log, DecodeLog(log));
  TS_ASSIGN_OR_RETURN(card.state.capp_record, row.GetBlob(6));
  if (card.state.capp_record.size() != kTransitCappRecordBytes) {
    return Corruption("stored transit CAPP record is not 48 bytes");
  }
  TS_ASSIGN_OR_RETURN(const std::optional<Bytes> proof, row.GetOptionalBlob(7));
  TS_ASSIGN_OR_RETURN(card.state.last_purchase, DecodeProof(proof));
  TS_ASSIGN_OR_RETURN(card.state.blocked, row.GetBool(8));
  TS_ASSIGN_OR_RETURN(card.express, row.GetBool(9));
  TS_ASSIGN_OR_RETURN(card.install_order, row.GetInt64(10));
  return card;
}

}  // namespace

Status DeviceStore::CheckDeviceId(std::string_view id) {
  const bool ok = !id.empty() && id.size() <= kDeviceIdBytesMax &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                  });
  if (!ok) return InvalidArgument("device id: expected 1-64 characters of a-z 0-9 - _");
  return Status::Ok();
}

Result<std::unique_ptr<DeviceStore>> DeviceStore::Open(const std::filesystem::path& data_dir,
                                                       std::string_view device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId(device_id));
  TS_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> db,
                      store::OpenSqlite(data_dir / std::string(device_id), kRole));
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*db, Migrations()));
  return std::unique_ptr<DeviceStore>(new DeviceStore(std::move(db)));
}

Result<std::optional<crypto::SecretBytes>> DeviceStore::LoadDeviceKey() {
  Result<store::Row> row = store_->QueryRow("SELECT private_key FROM device_key WHERE id = 1");
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) return std::optional<crypto::SecretBytes>();
    return row.status();
  }
  TS_ASSIGN_OR_RETURN(Bytes der, row->GetBlob(0));
  return std::optional<crypto::SecretBytes>(crypto::SecretBytes(std::move(der)));
}

Status DeviceStore::SaveDeviceKey(const crypto::SecretBytes& pkcs8, std::int64_t created_unix_ms) {
  return store_
      ->Execute("INSERT INTO device_key (id, private_key, created_unix_ms) VALUES (1, ?, ?)",
                {pkcs8.reveal(), created_unix_ms})
      .status();
}

Status DeviceStore::InsertKeys(std::string_view token_id, const std::vector<LimitedUseKey>& keys) {
  for (const LimitedUseKey& key : keys) {
    TS_RETURN_IF_ERROR(store_
                           ->Execute("INSERT INTO limited_use_keys (token_id, atc, session_key)"
                                     " VALUES (?, ?, ?)",
                                     {token_id, key.atc, key.session_key.reveal()})
                           .status());
  }
  return Status::Ok();
}

Status DeviceStore::InsertToken(const TokenCredentials& c) {
  TS_RETURN_IF_ERROR(CheckTokenCredentials(c));
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(store::Row order,
                        db.QueryRow("SELECT COALESCE(MAX(install_order), 0) + 1 AS n FROM tokens"));
    TS_ASSIGN_OR_RETURN(const std::int64_t n, order.GetInt64(0));
    const store::Value master_key = c.mode == KeyMode::kMasterKey
                                        ? store::Value(c.icc_master_key.reveal())
                                        : store::Value::Null();
    TS_RETURN_IF_ERROR(db.Execute("INSERT INTO tokens (token_id, token_number, expiry_yymm, psn,"
                                  " profile, key_mode, icc_master_key, atc, install_order)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                                  {c.token_id, c.token_number, c.expiry_yymm, c.psn, c.profile_name,
                                   static_cast<std::int64_t>(c.mode), master_key, n})
                           .status());
    return InsertKeys(c.token_id, c.limited_use_keys);
  });
}

Result<std::vector<StoredToken>> DeviceStore::LoadTokens() {
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_->Query("SELECT token_id, token_number, expiry_yymm, psn, profile,"
                                    " key_mode, icc_master_key, atc, install_order FROM tokens"
                                    " ORDER BY install_order"));
  std::vector<StoredToken> tokens;
  for (const store::Row& row : rows) {
    StoredToken t;
    TS_ASSIGN_OR_RETURN(t.credentials.token_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(t.credentials.token_number, row.GetText(1));
    TS_ASSIGN_OR_RETURN(t.credentials.expiry_yymm, row.GetText(2));
    TS_ASSIGN_OR_RETURN(t.credentials.psn, row.GetText(3));
    TS_ASSIGN_OR_RETURN(t.credentials.profile_name, row.GetText(4));
    TS_ASSIGN_OR_RETURN(const std::int64_t mode, row.GetInt64(5));
    t.credentials.mode = static_cast<KeyMode>(mode);
    TS_ASSIGN_OR_RETURN(std::optional<Bytes> mk, row.GetOptionalBlob(6));
    if (mk) t.credentials.icc_master_key = crypto::SecretBytes(std::move(*mk));
    TS_ASSIGN_OR_RETURN(const std::int64_t atc, row.GetInt64(7));
    if (atc < 0 || atc > kAtcMax) return Corruption("stored ATC out of range");
    t.atc = static_cast<std::uint16_t>(atc);
    TS_ASSIGN_OR_RETURN(t.install_order, row.GetInt64(8));
    tokens.push_back(std::move(t));
  }
  return tokens;
}

Result<std::uint16_t> DeviceStore::Atc(std::string_view token_id) {
  TS_ASSIGN_OR_RETURN(store::Row row,
                      store_->QueryRow("SELECT atc FROM tokens WHERE token_id = ?", {token_id}));
  TS_ASSIGN_OR_RETURN(const std::int64_t atc, row.GetInt64(0));
  if (atc < 0 || atc > kAtcMax) return Corruption("stored ATC out of range");
  return static_cast<std::uint16_t>(atc);
}

Result<std::uint16_t> DeviceStore::NextAtc(std::string_view token_id, std::uint16_t current) {
  if (current >= kAtcMax) return OutOfRange("ATC exhausted");
  const std::uint16_t next = static_cast<std::uint16_t>(current + 1);
  TS_ASSIGN_OR_RETURN(const std::int64_t changed,
                      store_->Execute("UPDATE tokens SET atc = ? WHERE token_id = ? AND atc = ?",
                                      {next, token_id, current}));
  if (changed != 1) return FailedPrecondition("stored ATC is not the one in memory");
  // Second path for the invariant: what is on disk is what we will use.
  TS_ASSIGN_OR_RETURN(const std::uint16_t stored, Atc(token_id));
  if (stored != next) return Internal("ATC read back differs from the one written");
  return next;
}

Result<std::optional<LimitedUseKey>> DeviceStore::TakeLimitedUseKey(std::string_view token_id) {
  std::optional<LimitedUseKey> taken;
  TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& db) -> Status {
    taken.reset();
    TS_ASSIGN_OR_RETURN(store::Row token,
                        db.QueryRow("SELECT atc FROM tokens WHERE token_id = ?", {token_id}));
    TS_ASSIGN_OR_RETURN(const std::int64_t atc, token.GetInt64(0));
    TS_ASSIGN_OR_RETURN(store::Rows rows,
                        db.Query("SELECT atc, session_key FROM limited_use_keys WHERE token_id = ?"
                                 " AND atc > ? ORDER BY atc LIMIT 1",
                                 {token_id, atc}));
    if (rows.empty()) return Status::Ok();
    TS_ASSIGN_OR_RETURN(const std::int64_t key_atc, rows[0].GetInt64(0));
    TS_ASSIGN_OR_RETURN(Bytes key, rows[0].GetBlob(1));
    if (key_atc <= atc || key_atc > kAtcMax) return Corruption("limited-use key ATC out of range");
    TS_RETURN_IF_ERROR(db.Execute("DELETE FROM limited_use_keys WHERE token_id = ? AND atc <= ?",
                                  {token_id, key_atc})
                           .status());
    TS_ASSIGN_OR_RETURN(const std::int64_t changed,
                        db.Execute("UPDATE tokens SET atc = ? WHERE token_id = ? AND atc = ?",
                                   {key_atc, token_id, atc}));
    if (changed != 1) return FailedPrecondition("stored ATC changed under the transaction");
    taken = LimitedUseKey{static_cast<std::uint16_t>(key_atc), crypto::SecretBytes(std::move(key))};
    return Status::Ok();
  }));
  return taken;
}

Status DeviceStore::AddLimitedUseKeys(std::string_view token_id,
                                      const std::vector<LimitedUseKey>& keys) {
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(
        store::Row token,
        db.QueryRow("SELECT atc, key_mode FROM tokens WHERE token_id = ?", {token_id}));
    TS_ASSIGN_OR_RETURN(const std::int64_t atc, token.GetInt64(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t mode, token.GetInt64(1));
    if (mode != static_cast<std::int64_t>(KeyMode::kLimitedUse)) {
      return FailedPrecondition("token is not in limited-use (HCE) mode");
    }
    for (const LimitedUseKey& key : keys) {
      if (key.atc <= atc) {
        return InvalidArgument("limited-use key for ATC " + std::to_string(key.atc) +
                               " is not above the token's ATC " + std::to_string(atc));
      }
    }
    Status st = InsertKeys(token_id, keys);
    if (st.code() == ErrorCode::kAlreadyExists) {
      return InvalidArgument("limited-use key batch repeats an ATC already held");
    }
    return st;
  });
}

Result<std::size_t> DeviceStore::CountLimitedUseKeys(std::string_view token_id) {
  TS_ASSIGN_OR_RETURN(store::Row row,
                      store_->QueryRow("SELECT COUNT(*) AS n FROM limited_use_keys k JOIN tokens t"
                                       " ON t.token_id = k.token_id WHERE k.token_id = ?"
                                       " AND k.atc > t.atc",
                                       {token_id}));
  TS_ASSIGN_OR_RETURN(const std::int64_t n, row.GetInt64(0));
  return static_cast<std::size_t>(n);
}

Status DeviceStore::InsertTransitCard(const TransitCardProfile& profile) {
  TS_RETURN_IF_ERROR(CheckTransitCardProfile(profile));
  const crypto::SecretBytes encoded = EncodeTransitCardProfile(profile);
  if (encoded.empty()) return InvalidArgument("transit card profile does not encode");
  TransitCardState opening;
  opening.balance_fen = profile.balance_fen;
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(
        store::Row counts,
        db.QueryRow("SELECT COALESCE(MAX(install_order), 0) + 1 AS n,"
                    " COALESCE(SUM(CASE WHEN express THEN 1 ELSE 0 END), 0) AS express"
                    " FROM transit_cards"));
    TS_ASSIGN_OR_RETURN(const std::int64_t n, counts.GetInt64(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t express, counts.GetInt64(1));
    const bool first_express = express == 0;
    return db
        .Execute("INSERT INTO transit_cards (card_id, profile, balance_fen, offline_counter,"
                 " online_counter, log, capp_record, last_purchase, blocked, express,"
                 " install_order) VALUES (?, ?, ?, 0, 0, ?, ?, NULL, ?, ?, ?)",
                 {profile.card_id, encoded.reveal(), opening.balance_fen,
                  EncodeLog(opening.log), opening.capp_record, store::Value::Bool(false),
                  store::Value::Bool(first_express), n})
        .status();
  });
}

Result<std::vector<StoredTransitCard>> DeviceStore::LoadTransitCards() {
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_->Query(std::string(kSelectTransitCard) + " ORDER BY install_order"));
  std::vector<StoredTransitCard> cards;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(StoredTransitCard card, DecodeTransitRow(row));
    cards.push_back(std::move(card));
  }
  return cards;
}

Status DeviceStore::UpdateTransitCardState(std::string_view card_id,
                                           const TransitCardState& expected,
                                           const TransitCardState& next) {
  TS_RETURN_IF_ERROR(CheckTransitState(next));
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(
        const std::int64_t changed,
        db.Execute("UPDATE transit_cards SET balance_fen = ?, offline_counter = ?,"
                   " online_counter = ?, log = ?, capp_record = ?, last_purchase = ?, blocked = ?"
                   " WHERE card_id = ? AND balance_fen = ? AND offline_counter = ? AND"
                   " online_counter = ? AND blocked = ?",
                   {next.balance_fen, next.offline_counter, next.online_counter,
                    EncodeLog(next.log), next.capp_record, EncodeProof(next.last_purchase),
                    store::Value::Bool(next.blocked), card_id, expected.balance_fen,
                    expected.offline_counter, expected.online_counter,
                    store::Value::Bool(expected.blocked)}));
    if (changed != 1) {
      TS_ASSIGN_OR_RETURN(store::Row exists,
                          db.QueryRow("SELECT COUNT(*) AS n FROM transit_cards WHERE card_id = ?",
                                      {card_id}));
      TS_ASSIGN_OR_RETURN(const std::int64_t n, exists.GetInt64(0));
      if (n == 0) return NotFound("no such transit card on this device");
      return FailedPrecondition("stored transit card state is not the one in memory");
    }
    // Second path for the invariant: what is on disk is what the applet will answer with.
    TS_ASSIGN_OR_RETURN(store::Row row, db.QueryRow(std::string(kSelectTransitCard) +
                                                        " WHERE card_id = ?",
                                                    {card_id}));
    TS_ASSIGN_OR_RETURN(const StoredTransitCard stored, DecodeTransitRow(row));
    if (!(stored.state == next)) return Internal("transit state read back differs from the one written");
    return Status::Ok();
  });
}

Status DeviceStore::DeleteTransitCard(std::string_view card_id) {
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(
        const std::int64_t deleted,
        db.Execute("DELETE FROM transit_cards WHERE card_id = ?", {card_id}));
    if (deleted != 1) return NotFound("no such transit card on this device");
    TS_ASSIGN_OR_RETURN(
        store::Row express,
        db.QueryRow("SELECT COUNT(*) AS n FROM transit_cards WHERE express"));
    TS_ASSIGN_OR_RETURN(const std::int64_t n, express.GetInt64(0));
    if (n > 0) return Status::Ok();
    return db
        .Execute("UPDATE transit_cards SET express = ? WHERE install_order ="
                 " (SELECT MIN(install_order) FROM transit_cards)",
                 {store::Value::Bool(true)})
        .status();
  });
}

Status DeviceStore::SetExpressTransitCard(std::string_view card_id) {
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(const std::int64_t found,
                        db.Execute("UPDATE transit_cards SET express = ? WHERE card_id = ?",
                                   {store::Value::Bool(true), card_id}));
    if (found != 1) return NotFound("no such transit card on this device");
    return db
        .Execute("UPDATE transit_cards SET express = ? WHERE card_id <> ?",
                 {store::Value::Bool(false), card_id})
        .status();
  });
}

}  // namespace tapstack::device
