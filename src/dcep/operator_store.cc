#include "dcep/operator_store.h"

#include <array>

#include "dcep/tiers.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::dcep {

namespace {

constexpr int kSqliteCacheKib = 64 * 1024;
constexpr int kWalAutocheckpointPages = 10'000;

const std::array<store::Migration, 4>& Migrations() {
  // Portable subset of store/store.h. Amounts are fen, times Unix milliseconds, days YYYYMMDD in
  // China Standard Time (UTC+8, no daylight saving).
  static const std::array<store::Migration, 4> migrations = {
      store::Migration{
          .version = 1,
          .description = "dcep operator wallets and entry journal",
          .sql = R"sql(
CREATE TABLE dcep_wallets (
  wallet_id TEXT PRIMARY KEY,
  tier BIGINT NOT NULL CHECK (tier BETWEEN 1 AND 4),
  phone TEXT UNIQUE,
  name TEXT,
  id_number_sha256 BYTEA,
  bank_account_masked TEXT,
  merchant_id TEXT UNIQUE,
  account_id BYTEA NOT NULL,
  created_unix_ms BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL
);
CREATE TABLE dcep_purses (
  device_id TEXT PRIMARY KEY,
  wallet_id TEXT NOT NULL REFERENCES dcep_wallets (wallet_id),
  account_id BYTEA NOT NULL,
  created_unix_ms BIGINT NOT NULL
);
CREATE TABLE dcep_requests (
  request_id BYTEA PRIMARY KEY,
  request_digest BYTEA NOT NULL,
  outcome TEXT NOT NULL,
  created_unix_ms BIGINT NOT NULL
);
CREATE TABLE dcep_entries (
  entry_id BYTEA PRIMARY KEY,
  seq BIGINT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  request_digest BYTEA NOT NULL,
  debit_wallet TEXT,
  credit_wallet TEXT,
  device_id TEXT,
  counter_operator TEXT,
  counter_wallet TEXT,
  merchant_id TEXT,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  day BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('posted', 'refused', 'in_flight', 'failed')),
  step TEXT,
  error_code TEXT,
  reason TEXT,
  debit_account BYTEA NOT NULL,
  credit_account BYTEA NOT NULL,
  created_unix_ms BIGINT NOT NULL
);
CREATE INDEX dcep_entries_debit ON dcep_entries (debit_wallet, seq);
CREATE INDEX dcep_entries_credit ON dcep_entries (credit_wallet, seq);
CREATE INDEX dcep_entries_in_flight ON dcep_entries (seq) WHERE status = 'in_flight';
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 2,
          .description = "dcep conditional payments: contracts and their events",
          // Progress columns are a function of the posted journal rows of the contract's events
          // (ContractBook::Reconcile); they are kept in the same transaction as those rows.
          .sql = R"sql(
ALTER TABLE dcep_entries ADD COLUMN contract_id TEXT;
CREATE TABLE dcep_contracts (
  contract_id TEXT PRIMARY KEY,
  template TEXT NOT NULL,
  payer_wallet TEXT NOT NULL,
  terms_json TEXT NOT NULL,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  expires_unix_ms BIGINT NOT NULL,
  escrow_account BYTEA NOT NULL,
  units_delivered BIGINT NOT NULL,
  released_fen BIGINT NOT NULL,
  refunded_fen BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'closed')),
  created_unix_ms BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL,
  CHECK (released_fen >= 0 AND refunded_fen >= 0 AND released_fen + refunded_fen <= amount_fen)
);
CREATE INDEX dcep_contracts_due ON dcep_contracts (state, expires_unix_ms);
CREATE TABLE dcep_contract_events (
  event_id BYTEA PRIMARY KEY,
  contract_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  action TEXT NOT NULL,
  actor_wallet TEXT,
  merchant_id TEXT,
  units BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  request_digest BYTEA NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('posted', 'refused', 'failed')),
  error_code TEXT,
  reason TEXT,
  entry_id BYTEA,
  created_unix_ms BIGINT NOT NULL,
  UNIQUE (contract_id, seq)
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 3,
          .description = "dcep hardware wallets: purses bound to a certified device",
          // 1: the purse backs a hardware wallet's offline balance; value leaves it only through
          // a signed unload settled by offline settlement, never a plain defund.
          .sql = "ALTER TABLE dcep_purses ADD COLUMN hardware BIGINT NOT NULL DEFAULT 0;",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 4,
          .description = "dcep entries: counterparty device, merchant orders and their register",
          // counter_device: the other operator's device of an offline move across operators.
          // merchant_order_id: the order a payment pays (a dynamic QR code); the register maps
          // each (merchant, order) to the entry that paid it, so a second payer is refused.
          .sql = R"sql(
ALTER TABLE dcep_entries ADD COLUMN counter_device TEXT;
ALTER TABLE dcep_entries ADD COLUMN merchant_order_id TEXT;
CREATE TABLE dcep_merchant_orders (
  merchant_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  entry_id BYTEA NOT NULL,
  PRIMARY KEY (merchant_id, order_id)
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

}  // namespace

Result<std::string> OperatorStoreRole(std::string_view operator_id) {
  TS_RETURN_IF_ERROR(CheckOperatorId("operator_id", operator_id));
  return "dcep_" + std::string(operator_id);
}

std::span<const store::Migration> OperatorMigrations() { return Migrations(); }

Result<std::unique_ptr<store::Store>> OpenOperatorStore(std::string_view operator_id,
                                                        const std::filesystem::path& data_dir,
                                                        std::string_view postgres_url) {
  TS_ASSIGN_OR_RETURN(const std::string role, OperatorStoreRole(operator_id));
  std::unique_ptr<store::Store> store;
  if (!postgres_url.empty()) {
    TS_ASSIGN_OR_RETURN(store, store::OpenPostgres(postgres_url, role));
  } else {
    TS_ASSIGN_OR_RETURN(store, store::OpenSqlite(data_dir, role));
    // A payment batch dirties index pages of up to two wallets per payment: keep them cached
    // (64 MiB) instead of re-reading them every batch.
    TS_RETURN_IF_ERROR(
        store->ExecuteScript("PRAGMA cache_size=" + std::to_string(-kSqliteCacheKib)));
    // A batch of 8,190 payments writes ~20 MB of pages to the WAL; checkpointing after each
    // (SQLite's default: past 1,000 pages) copies the hot index pages back every batch. Past
    // 10,000 pages (40 MB) they are copied once per few batches. Durability is the WAL's fsync.
    TS_RETURN_IF_ERROR(store->ExecuteScript("PRAGMA wal_autocheckpoint=" +
                                            std::to_string(kWalAutocheckpointPages)));
  }
  TS_RETURN_IF_ERROR(
      store::ApplyMigrations(*store, OperatorMigrations()).WithContext("dcep operator schema"));
  return store;
}

}  // namespace tapstack::dcep
