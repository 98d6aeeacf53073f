#include "device/device_store.h"

#include <algorithm>
#include <array>

#include "core/hex.h"

#include "store/migration.h"
#include "store/sqlite_store.h"

namespace tapstack::device {

namespace {

constexpr std::string_view kRole = "secure_element";

const std::array<store::Migration, 3>& Migrations() {
  static const std::array<store::Migration, 3> migrations = {
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
      // One wallet row (id 1). pending: nonce (16) || amount (8) || currency (2); revoked: the
      // revoked devices' keys ("issuer:device") joined by ',' (keys never hold one). Empty blobs
      // are stored as NULL.
      store::Migration{
          .version = 3,
          .description = "secure element: digital-currency wallet and its log",
          .sql = "CREATE TABLE dcep_wallet (id BIGINT PRIMARY KEY, scheme BIGINT,"
                 " private_key BYTEA, root_scheme BIGINT, root_public_key BYTEA,"
                 " device_certificate BYTEA, operator_certificate BYTEA,"
                 " balance_fen BIGINT NOT NULL CHECK (balance_fen >= 0),"
                 " counter BIGINT NOT NULL CHECK (counter >= 0 AND counter <= 4294967295),"
                 " payments_since_sync BIGINT NOT NULL CHECK (payments_since_sync >= 0 AND"
                 " payments_since_sync <= 65535),"
                 " value_since_sync_fen BIGINT NOT NULL CHECK (value_since_sync_fen >= 0),"
                 " pending BYTEA,"
                 " log_sequence BIGINT NOT NULL CHECK (log_sequence >= 0 AND"
                 " log_sequence <= 4294967295),"
                 " load_sequence BIGINT NOT NULL CHECK (load_sequence >= 0 AND"
                 " load_sequence <= 4294967295),"
                 " last_load_order BYTEA, last_operator_time BIGINT NOT NULL,"
                 " revocation_version BIGINT NOT NULL, revoked TEXT NOT NULL,"
                 " blocked BOOLEAN NOT NULL);"
                 "CREATE TABLE dcep_log (sequence BIGINT PRIMARY KEY, direction BIGINT NOT NULL,"
                 " payer_device_id TEXT NOT NULL, payer_counter BIGINT NOT NULL,"
                 " amount_fen BIGINT NOT NULL, transfer BYTEA NOT NULL, chain BYTEA NOT NULL);"
                 "CREATE INDEX dcep_log_payer ON dcep_log (payer_device_id, payer_counter);",
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

// ---- digital-currency wallet rows ----

constexpr std::size_t kPendingBytes = kDcepNonceBytes + 8 + 2;

store::Value BlobOrNull(const Bytes& bytes) {
  if (bytes.empty()) return store::Value::Null();
  return store::Value(bytes);
}

store::Value EncodePending(const std::optional<DcepPendingRequest>& pending) {
  if (!pending.has_value()) return store::Value::Null();
  Bytes out = pending->nonce;
  const Bytes amount = UintToBytes(static_cast<std::uint64_t>(pending->amount_fen), 8);
  out.insert(out.end(), amount.begin(), amount.end());
  const Bytes currency = UintToBytes(pending->currency_numeric, 2);
  out.insert(out.end(), currency.begin(), currency.end());
  return store::Value(std::move(out));
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) {
    if (!out.empty()) out += ',';
    out += id;
  }
  return out;
}

std::vector<std::string> SplitIds(const std::string& joined) {
  std::vector<std::string> ids;
  std::size_t at = 0;
  while (at < joined.size()) {
    const std::size_t comma = joined.find(',', at);
    const std::size_t end = comma == std::string::npos ? joined.size() : comma;
    ids.push_back(joined.substr(at, end - at));
    at = end + 1;
  }
  return ids;
}

Status CheckDcepState(const DcepWalletState& s) {
  if (s.balance_fen < 0) return InvalidArgument("digital-currency balance: negative");
  if (s.value_since_sync_fen < 0) return InvalidArgument("value since sync: negative");
  if (s.pending.has_value() && s.pending->nonce.size() != kDcepNonceBytes) {
    return InvalidArgument("pending request nonce: expected 16 bytes");
  }
  for (const std::string& key : s.revoked_devices) {
    const std::size_t colon = key.find(':');
    if (colon == std::string::npos) {
      return InvalidArgument("revoked device: expected \"<issuer id>:<device id>\", got " + key);
    }
    TS_RETURN_IF_ERROR(DeviceStore::CheckDeviceId(key.substr(0, colon)));
    TS_RETURN_IF_ERROR(DeviceStore::CheckDeviceId(key.substr(colon + 1)));
  }
  return Status::Ok();
}

constexpr std::string_view kSelectDcepWallet =
    "SELECT scheme, private_key, root_scheme, root_public_key, device_certificate,"
    " operator_certificate, balance_fen, counter, payments_since_sync, value_since_sync_fen,"
    " pending, log_sequence, load_sequence, last_load_order, last_operator_time,"
    " revocation_version, revoked, blocked FROM dcep_wallet WHERE id = 1";

Result<StoredDcepWallet> DecodeDcepRow(const store::Row& row) {
  StoredDcepWallet w;
  TS_ASSIGN_OR_RETURN(const std::optional<Bytes> key, row.GetOptionalBlob(1));
  if (key.has_value()) {
    DcepKeys keys;
    TS_ASSIGN_OR_RETURN(const std::int64_t scheme, row.GetInt64(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t root_scheme, row.GetInt64(2));
    TS_ASSIGN_OR_RETURN(const std::optional<Bytes> root, row.GetOptionalBlob(3));
    if (scheme < 0 || scheme > 2 || root_scheme < 0 || root_scheme > 2 || !root.has_value()) {
      return Corruption("stored digital-currency keys do not decode");
    }
    keys.scheme = static_cast<crypto::SignatureScheme>(scheme);
    keys.private_key_pkcs8 = crypto::SecretBytes(ByteView(*key));
    keys.root_scheme = static_cast<crypto::SignatureScheme>(root_scheme);
    keys.root_public_key = *root;
    w.keys = std::move(keys);
  }
  DcepWalletState& s = w.state;
  TS_ASSIGN_OR_RETURN(const std::optional<Bytes> device_cert, row.GetOptionalBlob(4));
  TS_ASSIGN_OR_RETURN(const std::optional<Bytes> operator_cert, row.GetOptionalBlob(5));
  s.device_certificate = device_cert.value_or(Bytes{});
  s.operator_certificate = operator_cert.value_or(Bytes{});
  TS_ASSIGN_OR_RETURN(s.balance_fen, row.GetInt64(6));
  TS_ASSIGN_OR_RETURN(const std::int64_t counter, row.GetInt64(7));
  TS_ASSIGN_OR_RETURN(const std::int64_t payments, row.GetInt64(8));
  TS_ASSIGN_OR_RETURN(s.value_since_sync_fen, row.GetInt64(9));
  TS_ASSIGN_OR_RETURN(const std::optional<Bytes> pending, row.GetOptionalBlob(10));
  TS_ASSIGN_OR_RETURN(const std::int64_t log_sequence, row.GetInt64(11));
  TS_ASSIGN_OR_RETURN(const std::int64_t load_sequence, row.GetInt64(12));
  TS_ASSIGN_OR_RETURN(const std::optional<Bytes> last_load, row.GetOptionalBlob(13));
  TS_ASSIGN_OR_RETURN(s.last_operator_time_unix_s, row.GetInt64(14));
  TS_ASSIGN_OR_RETURN(const std::int64_t version, row.GetInt64(15));
  TS_ASSIGN_OR_RETURN(const std::string revoked, row.GetText(16));
  TS_ASSIGN_OR_RETURN(s.blocked, row.GetBool(17));
  if (s.balance_fen < 0 || counter < 0 || counter > 0xFFFFFFFFLL || payments < 0 ||
      payments > 0xFFFF || s.value_since_sync_fen < 0 || log_sequence < 0 ||
      log_sequence > 0xFFFFFFFFLL || load_sequence < 0 || load_sequence > 0xFFFFFFFFLL ||
      version < 0 || version > 0xFFFFFFFFLL) {
    return Corruption("stored digital-currency wallet state out of range");
  }
  s.counter = static_cast<std::uint32_t>(counter);
  s.payments_since_sync = static_cast<std::uint16_t>(payments);
  s.log_sequence = static_cast<std::uint32_t>(log_sequence);
  s.load_sequence = static_cast<std::uint32_t>(load_sequence);
  s.last_load_order = last_load.value_or(Bytes{});
  s.revocation_list_version = static_cast<std::uint32_t>(version);
  s.revoked_devices = SplitIds(revoked);
  if (pending.has_value()) {
    if (pending->size() != kPendingBytes) return Corruption("stored pending request does not decode");
    const ByteView v = *pending;
    DcepPendingRequest p;
    p.nonce.assign(v.begin(), v.begin() + kDcepNonceBytes);
    p.amount_fen = static_cast<std::int64_t>(BytesToUint(v.subspan(kDcepNonceBytes, 8)));
    p.currency_numeric = static_cast<std::uint16_t>(BytesToUint(v.subspan(kDcepNonceBytes + 8, 2)));
    s.pending = std::move(p);
  }
  return w;
}

Result<DcepLogEntry> DecodeDcepLogRow(const store::Row& row) {
  DcepLogEntry e;
  TS_ASSIGN_OR_RETURN(const std::int64_t sequence, row.GetInt64(0));
  TS_ASSIGN_OR_RETURN(const std::int64_t direction, row.GetInt64(1));
  TS_ASSIGN_OR_RETURN(e.payer_device_id, row.GetText(2));
  TS_ASSIGN_OR_RETURN(const std::int64_t counter, row.GetInt64(3));
  TS_ASSIGN_OR_RETURN(e.amount_fen, row.GetInt64(4));
  TS_ASSIGN_OR_RETURN(e.transfer, row.GetBlob(5));
  TS_ASSIGN_OR_RETURN(e.chain, row.GetBlob(6));
  if (sequence < 1 || sequence > 0xFFFFFFFFLL || (direction != 1 && direction != 2) ||
      counter < 0 || counter > 0xFFFFFFFFLL || e.amount_fen <= 0) {
    return Corruption("stored digital-currency log record out of range");
  }
  e.sequence = static_cast<std::uint32_t>(sequence);
  e.direction = static_cast<std::uint8_t>(direction);
  e.payer_counter = static_cast<std::uint32_t>(counter);
  return e;
}

}  // namespace

std::string RevokedDeviceKey(std::string_view issuer_id, std::string_view device_id) {
  std::string key(issuer_id);
  key += ':';
  key += device_id;
  return key;
}

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

Status DeviceStore::InsertDcepWallet() {
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(store::Row n, db.QueryRow("SELECT COUNT(*) AS n FROM dcep_wallet"));
    TS_ASSIGN_OR_RETURN(const std::int64_t count, n.GetInt64(0));
    if (count != 0) return AlreadyExists("a digital-currency wallet is already installed");
    return db
        .Execute("INSERT INTO dcep_wallet (id, balance_fen, counter, payments_since_sync,"
                 " value_since_sync_fen, log_sequence, load_sequence, last_operator_time,"
                 " revocation_version, revoked, blocked) VALUES (1, 0, 0, 0, 0, 0, 0, 0, 0, '', ?)",
                 {store::Value::Bool(false)})
        .status();
  });
}

Result<std::optional<StoredDcepWallet>> DeviceStore::LoadDcepWallet() {
  TS_ASSIGN_OR_RETURN(store::Rows rows, store_->Query(kSelectDcepWallet));
  if (rows.empty()) return std::optional<StoredDcepWallet>();
  TS_ASSIGN_OR_RETURN(StoredDcepWallet wallet, DecodeDcepRow(rows[0]));
  return std::optional<StoredDcepWallet>(std::move(wallet));
}

Status DeviceStore::PersonaliseDcepWallet(const DcepKeys& keys) {
  if (keys.private_key_pkcs8.empty() || keys.root_public_key.empty()) {
    return InvalidArgument("digital-currency keys: private key and root key are required");
  }
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(store::Rows rows,
                        db.Query("SELECT private_key FROM dcep_wallet WHERE id = 1"));
    if (rows.empty()) return NotFound("no digital-currency wallet on this device");
    TS_ASSIGN_OR_RETURN(const std::optional<Bytes> existing, rows[0].GetOptionalBlob(0));
    if (existing.has_value()) return AlreadyExists("digital-currency wallet already personalised");
    return db
        .Execute("UPDATE dcep_wallet SET scheme = ?, private_key = ?, root_scheme = ?,"
                 " root_public_key = ? WHERE id = 1",
                 {static_cast<std::int64_t>(keys.scheme), keys.private_key_pkcs8.reveal(),
                  static_cast<std::int64_t>(keys.root_scheme), keys.root_public_key})
        .status();
  });
}

Status DeviceStore::UpdateDcepWallet(const DcepWalletState& expected, const DcepWalletState& next,
                                     const DcepLogEntry* append, std::uint32_t prune_through) {
  TS_RETURN_IF_ERROR(CheckDcepState(next));
  // The counter and the sequences only grow (second check after the applet's own).
  if (next.counter < expected.counter || next.log_sequence < expected.log_sequence ||
      next.load_sequence < expected.load_sequence) {
    return InvalidArgument("digital-currency counter or sequence would go backwards");
  }
  if (append != nullptr && (append->sequence != next.log_sequence ||
                            append->sequence <= expected.log_sequence)) {
    return InvalidArgument("digital-currency log record numbered out of sequence");
  }
  return store_->RunInTransaction([&](store::Store& db) -> Status {
    TS_ASSIGN_OR_RETURN(
        const std::int64_t changed,
        db.Execute("UPDATE dcep_wallet SET device_certificate = ?, operator_certificate = ?,"
                   " balance_fen = ?, counter = ?, payments_since_sync = ?,"
                   " value_since_sync_fen = ?, pending = ?, log_sequence = ?, load_sequence = ?,"
                   " last_load_order = ?, last_operator_time = ?, revocation_version = ?,"
                   " revoked = ?, blocked = ? WHERE id = 1 AND counter = ? AND log_sequence = ?"
                   " AND load_sequence = ? AND balance_fen = ?",
                   {BlobOrNull(next.device_certificate), BlobOrNull(next.operator_certificate),
                    next.balance_fen, next.counter, next.payments_since_sync,
                    next.value_since_sync_fen, EncodePending(next.pending), next.log_sequence,
                    next.load_sequence, BlobOrNull(next.last_load_order),
                    next.last_operator_time_unix_s, next.revocation_list_version,
                    JoinIds(next.revoked_devices), store::Value::Bool(next.blocked),
                    expected.counter, expected.log_sequence, expected.load_sequence,
                    expected.balance_fen}));
    if (changed != 1) {
      TS_ASSIGN_OR_RETURN(store::Row n, db.QueryRow("SELECT COUNT(*) AS n FROM dcep_wallet"));
      TS_ASSIGN_OR_RETURN(const std::int64_t count, n.GetInt64(0));
      if (count == 0) return NotFound("no digital-currency wallet on this device");
      return FailedPrecondition("stored digital-currency state is not the one in memory");
    }
    if (append != nullptr) {
      TS_RETURN_IF_ERROR(db.Execute("INSERT INTO dcep_log (sequence, direction, payer_device_id,"
                                    " payer_counter, amount_fen, transfer, chain)"
                                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    {append->sequence, append->direction, append->payer_device_id,
                                     append->payer_counter, append->amount_fen, append->transfer,
                                     append->chain})
                                .status());
    }
    if (prune_through > 0) {
      TS_RETURN_IF_ERROR(
          db.Execute("DELETE FROM dcep_log WHERE sequence <= ?", {prune_through}).status());
    }
    // Second path for the invariant: what is on disk is what the applet will answer with.
    TS_ASSIGN_OR_RETURN(store::Row row, db.QueryRow(kSelectDcepWallet));
    TS_ASSIGN_OR_RETURN(const StoredDcepWallet stored, DecodeDcepRow(row));
    if (!(stored.state == next)) {
      return Internal("digital-currency state read back differs from the one written");
    }
    return Status::Ok();
  });
}

Result<std::vector<DcepLogEntry>> DeviceStore::LoadDcepLog(std::uint32_t from_sequence,
                                                           std::size_t records_max) {
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_->Query("SELECT sequence, direction, payer_device_id, payer_counter, amount_fen,"
                    " transfer, chain FROM dcep_log WHERE sequence >= ? ORDER BY sequence"
                    " LIMIT ?",
                    {from_sequence, static_cast<std::int64_t>(records_max)}));
  std::vector<DcepLogEntry> entries;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(DcepLogEntry entry, DecodeDcepLogRow(row));
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::size_t> DeviceStore::CountDcepLog() {
  TS_ASSIGN_OR_RETURN(store::Row row, store_->QueryRow("SELECT COUNT(*) AS n FROM dcep_log"));
  TS_ASSIGN_OR_RETURN(const std::int64_t n, row.GetInt64(0));
  return static_cast<std::size_t>(n);
}

Result<bool> DeviceStore::DcepTransferReceived(std::string_view payer_device_id,
                                               std::uint32_t payer_counter) {
  TS_ASSIGN_OR_RETURN(store::Row row,
                      store_->QueryRow("SELECT COUNT(*) AS n FROM dcep_log WHERE direction = 2"
                                       " AND payer_device_id = ? AND payer_counter = ?",
                                       {payer_device_id, payer_counter}));
  TS_ASSIGN_OR_RETURN(const std::int64_t n, row.GetInt64(0));
  return n > 0;
}

}  // namespace tapstack::device
