#include "tsp/schema.h"

#include <array>

namespace tapstack::tsp {

namespace {

// A function-local static: built on first use, so a throwing std::string copy cannot escape
// static initialisation (cert-err58-cpp).
const std::array<store::Migration, 5>& Migrations() {
  // Portable subset of store/store.h. Ids are chosen by the code (random token ids, DEK versions),
  // so no SERIAL. The partial unique index keeps at most one active data key; SQLite (3.8+) and
  // PostgreSQL both support partial indexes. Deleted tokens keep their number (never reused, TF)
  // but lose the PAN ciphertext and fingerprint (PCI DSS 3.2.1: keep no account data not needed).
  static const std::array<store::Migration, 5> migrations = {
      store::Migration{
          .version = 1,
          .description = "tsp data keys and token records",
          .sql = R"sql(
CREATE TABLE tsp_data_keys (
  version BIGINT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('active', 'decrypt_only', 'retired')),
  kek_id TEXT NOT NULL,
  wrap_nonce BYTEA,
  wrapped_key BYTEA,
  created_unix_ms BIGINT NOT NULL,
  CHECK (state = 'retired' OR (wrap_nonce IS NOT NULL AND wrapped_key IS NOT NULL))
);
CREATE UNIQUE INDEX tsp_data_keys_one_active ON tsp_data_keys (state) WHERE state = 'active';
CREATE TABLE tsp_tokens (
  token_id TEXT PRIMARY KEY,
  token_number TEXT NOT NULL UNIQUE,
  token_expiry TEXT NOT NULL,
  par TEXT NOT NULL,
  masked_pan TEXT NOT NULL,
  pan_fingerprint BYTEA,
  pan_ciphertext BYTEA,
  pan_nonce BYTEA,
  dek_version BIGINT,
  requestor_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('inactive', 'active', 'suspended', 'deleted')),
  suspended_by TEXT,
  created_unix_ms BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL,
  CHECK (state = 'deleted' OR (pan_fingerprint IS NOT NULL AND pan_ciphertext IS NOT NULL
                               AND pan_nonce IS NOT NULL AND dek_version IS NOT NULL))
);
CREATE INDEX tsp_tokens_fingerprint ON tsp_tokens (pan_fingerprint);
CREATE INDEX tsp_tokens_dek_version ON tsp_tokens (dek_version);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 2,
          .description = "tsp audit log",
          .sql = R"sql(
CREATE TABLE tsp_audit_log (
  seq BIGINT PRIMARY KEY,
  time_unix_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BYTEA NOT NULL,
  entry_hash BYTEA NOT NULL
);
CREATE TABLE tsp_audit_head (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL,
  last_hash BYTEA NOT NULL
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 3,
          .description = "tsp provisioning: device keys, otp, lock-outs, idv stan, sms outbox, "
                         "token history, notifications",
          // Sequence numbers (seq) are chosen by the writer as MAX(seq) + 1 inside its insert.
          // No table here holds a PAN, a token number or a CVV2: rows refer to tokens by id, and an
          // OTP is kept only as an HMAC (otp_challenge.h). The lock-out key is a keyed HMAC of the
          // PAN under the OTP key, not the vault's fingerprint.
          .sql = R"sql(
CREATE TABLE tsp_token_keys (
  token_id TEXT PRIMARY KEY,
  storage TEXT NOT NULL CHECK (storage IN ('se', 'hce')),
  device_public_key BYTEA NOT NULL,
  next_atc BIGINT NOT NULL CHECK (next_atc >= 1 AND next_atc <= 65536),
  updated_unix_ms BIGINT NOT NULL
);
CREATE TABLE tsp_otp_challenges (
  token_id TEXT PRIMARY KEY,
  otp_mac BYTEA NOT NULL,
  lockout_key BYTEA NOT NULL,
  masked_phone TEXT NOT NULL,
  expires_unix_ms BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'locked')),
  updated_unix_ms BIGINT NOT NULL
);
CREATE TABLE tsp_provisioning_lockouts (
  lockout_key BYTEA PRIMARY KEY,
  until_unix_ms BIGINT NOT NULL
);
CREATE TABLE tsp_idv_stan (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  day TEXT NOT NULL,
  last_stan BIGINT NOT NULL
);
CREATE TABLE tsp_sms_outbox (
  seq BIGINT PRIMARY KEY,
  phone TEXT NOT NULL,
  text TEXT NOT NULL,
  time_unix_ms BIGINT NOT NULL
);
CREATE INDEX tsp_sms_outbox_phone ON tsp_sms_outbox (phone, seq);
CREATE TABLE tsp_token_history (
  seq BIGINT PRIMARY KEY,
  token_id TEXT NOT NULL,
  mti TEXT NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency_numeric BIGINT NOT NULL,
  merchant TEXT NOT NULL,
  mcc TEXT NOT NULL,
  pos_entry_mode TEXT NOT NULL,
  response_code TEXT NOT NULL,
  approval_code TEXT NOT NULL,
  stan TEXT NOT NULL,
  terminal_id TEXT NOT NULL,
  time_unix_ms BIGINT NOT NULL
);
CREATE INDEX tsp_token_history_token ON tsp_token_history (token_id, seq);
CREATE TABLE tsp_notifications (
  seq BIGINT PRIMARY KEY,
  requestor_id TEXT NOT NULL,
  token_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  event TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  initiator TEXT NOT NULL,
  time_unix_ms BIGINT NOT NULL,
  audit_seq BIGINT NOT NULL
);
CREATE INDEX tsp_notifications_requestor ON tsp_notifications (requestor_id, seq);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 4,
          .description = "tsp token atc window in the main store",
          // The ATC window (token_authorization.h) moves next to the audit log, so a token use's
          // ATC record and its de-tokenisation audit entry commit in ONE transaction (one fsync,
          // shared by a batch of uses: tsp_service.h). The same table as AtcMigrations() version 1;
          // rows of an older separate "tsp_atc" store are imported by TspService::Open.
          .sql = std::string(kTokenAtcTableSql),
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 5,
          .description = "tsp token atc uses",
          // A repeat of a token use after a lost answer is not a replay (token_authorization.h).
          .sql = std::string(kTokenAtcUsesTableSql),
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

}  // namespace

std::span<const store::Migration> TspMigrations() { return Migrations(); }

Status ApplyTspSchema(store::Store& store) {
  return store::ApplyMigrations(store, TspMigrations()).WithContext("tsp schema");
}

}  // namespace tapstack::tsp
