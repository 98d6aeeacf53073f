#include "tsp/schema.h"

#include <array>

namespace tapstack::tsp {

namespace {

// A function-local static: built on first use, so a throwing std::string copy cannot escape
// static initialisation (cert-err58-cpp).
const std::array<store::Migration, 2>& Migrations() {
  // Portable subset of store/store.h. Ids are chosen by the code (random token ids, DEK versions),
  // so no SERIAL. The partial unique index keeps at most one active data key; SQLite (3.8+) and
  // PostgreSQL both support partial indexes. Deleted tokens keep their number (never reused, TF)
  // but lose the PAN ciphertext and fingerprint (PCI DSS 3.2.1: keep no account data not needed).
  static const std::array<store::Migration, 2> migrations = {
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
  };
  return migrations;
}

}  // namespace

std::span<const store::Migration> TspMigrations() { return Migrations(); }

Status ApplyTspSchema(store::Store& store) {
  return store::ApplyMigrations(store, TspMigrations()).WithContext("tsp schema");
}

}  // namespace tapstack::tsp
