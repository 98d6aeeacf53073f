#include "wallet/schema.h"

#include <array>

namespace tapstack::wallet {

namespace {

// A function-local static so a throwing std::string copy cannot escape static initialisation.
const std::array<store::Migration, 1>& Migrations() {
  // Portable subset of store/store.h; ids are chosen by the code (random hex), so no SERIAL.
  static const std::array<store::Migration, 1> migrations = {
      store::Migration{
          .version = 1,
          .description = "wallet users, sessions, devices, cards, tokens, idempotency",
          .sql = R"sql(
CREATE TABLE wallet_users (
  user_id TEXT PRIMARY KEY,
  phone TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  default_card_id TEXT,
  created_unix_ms BIGINT NOT NULL
);
CREATE TABLE wallet_sessions (
  token_sha256 BYTEA PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES wallet_users (user_id),
  created_unix_ms BIGINT NOT NULL,
  expires_unix_ms BIGINT NOT NULL
);
CREATE INDEX wallet_sessions_user ON wallet_sessions (user_id);
CREATE TABLE wallet_devices (
  device_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES wallet_users (user_id),
  kind TEXT NOT NULL CHECK (kind IN ('phone', 'watch')),
  name TEXT NOT NULL,
  se_public_key TEXT NOT NULL,
  storage TEXT NOT NULL CHECK (storage IN ('se', 'hce')),
  state TEXT NOT NULL CHECK (state IN ('active', 'lost', 'deleted')),
  lat_e6 BIGINT,
  lon_e6 BIGINT,
  location_unix_ms BIGINT,
  created_unix_ms BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL
);
CREATE INDEX wallet_devices_user ON wallet_devices (user_id);
CREATE TABLE wallet_cards (
  card_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES wallet_users (user_id),
  card_type TEXT NOT NULL CHECK (card_type IN ('debit', 'credit')),
  masked_pan TEXT NOT NULL,
  last4 TEXT NOT NULL,
  pan_expiry TEXT NOT NULL,
  bin_low TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending_verification', 'active')),
  created_unix_ms BIGINT NOT NULL
);
CREATE INDEX wallet_cards_user ON wallet_cards (user_id);
CREATE TABLE wallet_card_tokens (
  token_id TEXT PRIMARY KEY,
  card_id TEXT NOT NULL REFERENCES wallet_cards (card_id),
  device_id TEXT NOT NULL REFERENCES wallet_devices (device_id),
  token_last4 TEXT NOT NULL,
  token_expiry TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('inactive', 'active', 'suspended', 'deleted')),
  updated_unix_ms BIGINT NOT NULL
);
CREATE INDEX wallet_card_tokens_card ON wallet_card_tokens (card_id);
CREATE INDEX wallet_card_tokens_device ON wallet_card_tokens (device_id);
CREATE TABLE wallet_idempotency (
  user_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hmac BYTEA NOT NULL,
  http_status BIGINT NOT NULL,
  response_body TEXT NOT NULL,
  created_unix_ms BIGINT NOT NULL,
  PRIMARY KEY (user_id, idempotency_key)
);
CREATE TABLE wallet_tsp_cursor (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

}  // namespace

std::span<const store::Migration> WalletMigrations() { return Migrations(); }

Status ApplyWalletSchema(store::Store& store) {
  return store::ApplyMigrations(store, WalletMigrations()).WithContext("wallet schema");
}

}  // namespace tapstack::wallet
