#include "device/device_store.h"

#include <algorithm>
#include <array>

#include "store/migration.h"
#include "store/sqlite_store.h"

namespace tapstack::device {

namespace {

constexpr std::string_view kRole = "secure_element";

const std::array<store::Migration, 1>& Migrations() {
  static const std::array<store::Migration, 1> migrations = {store::Migration{
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
  }};
  return migrations;
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

}  // namespace tapstack::device
