#include "dcep/operator_store.h"

#include <array>

#include "dcep/tiers.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::dcep {

namespace {

constexpr int kSqliteCacheKib = 64 * 1024;
constexpr int kWalAutocheckpointPages = 10'000;

const std::array<store::Migration, 5>& Migrations() {
  // Portable subset of store/store.h. Amounts are fen, times Unix milliseconds, days YYYYMMDD in
  // China Standard Time (UTC+8, no daylight saving).
  static const std::array<store::Migration, 5> migrations = {
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
      store::Migration{
          .version = 5,
          .description = "dcep entries: keyed by seq, wallet history as back-pointer chains",
          // Every journal index written at commit cost the payment batch: the entry id index takes
          // random 16-byte keys (a batch of 8,190 dirtied most of its leaf pages), and the two
          // wallet indexes took one insert per side at ~1,000 hot spots. Now the row is keyed by
          // seq (appended in order); entry ids are unique by the operator's in-memory id → seq map
          // (rebuilt from the table at open, checked under its mutex before any insert), and each
          // row points back to the previous row of its debit and of its credit wallet (0: none),
          // so a wallet's history is a walk along seq look-ups. Contract rows keep an entry-id
          // index, partial, for the contract book's joins.
          .sql = "",
          .sqlite_sql = R"sql(
CREATE TABLE dcep_entries_v5 (
  seq INTEGER PRIMARY KEY,
  entry_id BLOB NOT NULL,
  kind TEXT NOT NULL,
  request_digest BLOB NOT NULL,
  debit_wallet TEXT,
  credit_wallet TEXT,
  device_id TEXT,
  counter_operator TEXT,
  counter_wallet TEXT,
  merchant_id TEXT,
  amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
  day INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('posted', 'refused', 'in_flight', 'failed')),
  step TEXT,
  error_code TEXT,
  reason TEXT,
  debit_account BLOB NOT NULL,
  credit_account BLOB NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  contract_id TEXT,
  counter_device TEXT,
  merchant_order_id TEXT,
  debit_prev_seq INTEGER NOT NULL DEFAULT 0,
  credit_prev_seq INTEGER NOT NULL DEFAULT 0
);
INSERT INTO dcep_entries_v5 SELECT o.seq, o.entry_id, o.kind, o.request_digest, o.debit_wallet,
  o.credit_wallet, o.device_id, o.counter_operator, o.counter_wallet, o.merchant_id, o.amount_fen,
  o.day, o.status, o.step, o.error_code, o.reason, o.debit_account, o.credit_account,
  o.created_unix_ms, o.contract_id, o.counter_device, o.merchant_order_id,
  CASE WHEN o.debit_wallet IS NULL THEN 0 ELSE
    (SELECT COALESCE(MAX(p.seq), 0) FROM dcep_entries p WHERE p.seq < o.seq AND
       (p.debit_wallet = o.debit_wallet OR p.credit_wallet = o.debit_wallet)) END,
  CASE WHEN o.credit_wallet IS NULL THEN 0 ELSE
    (SELECT COALESCE(MAX(p.seq), 0) FROM dcep_entries p WHERE p.seq < o.seq AND
       (p.debit_wallet = o.credit_wallet OR p.credit_wallet = o.credit_wallet)) END
FROM dcep_entries o;
DROP TABLE dcep_entries;
ALTER TABLE dcep_entries_v5 RENAME TO dcep_entries;
CREATE INDEX dcep_entries_in_flight ON dcep_entries (seq) WHERE status = 'in_flight';
CREATE INDEX dcep_entries_contract ON dcep_entries (contract_id, entry_id)
  WHERE contract_id IS NOT NULL;
)sql",
          .postgres_sql = R"sql(
ALTER TABLE dcep_entries ADD COLUMN debit_prev_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dcep_entries ADD COLUMN credit_prev_seq BIGINT NOT NULL DEFAULT 0;
UPDATE dcep_entries o SET
  debit_prev_seq = CASE WHEN o.debit_wallet IS NULL THEN 0 ELSE
    (SELECT COALESCE(MAX(p.seq), 0) FROM dcep_entries p WHERE p.seq < o.seq AND
       (p.debit_wallet = o.debit_wallet OR p.credit_wallet = o.debit_wallet)) END,
  credit_prev_seq = CASE WHEN o.credit_wallet IS NULL THEN 0 ELSE
    (SELECT COALESCE(MAX(p.seq), 0) FROM dcep_entries p WHERE p.seq < o.seq AND
       (p.debit_wallet = o.credit_wallet OR p.credit_wallet = o.credit_wallet)) END;
DROP INDEX dcep_entries_debit;
DROP INDEX dcep_entries_credit;
ALTER TABLE dcep_entries DROP CONSTRAINT dcep_entries_pkey;
ALTER TABLE dcep_entries DROP CONSTRAINT dcep_entries_seq_key;
ALTER TABLE dcep_entries ADD PRIMARY KEY (seq);
CREATE INDEX dcep_entries_contract ON dcep_entries (contract_id, entry_id)
  WHERE contract_id IS NOT NULL;
)sql",
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
