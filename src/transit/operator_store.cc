#include "transit/operator_store.h"

#include <array>

#include "core/hex.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::transit {

namespace {

// A function-local static so a throwing std::string copy cannot escape static initialisation.
const std::array<store::Migration, 2>& Migrations() {
  // Portable subset of store/store.h. Ids are chosen by the callers (serials, order ids), so no
  // SERIAL columns. Amounts are fen (BIGINT), times Unix milliseconds unless named *_local
  // (YYYYMMDDhhmmss, China Standard Time, as the card writes it).
  static const std::array<store::Migration, 2> migrations = {
      store::Migration{
          .version = 1,
          .description = "transit card registry and load server",
          .sql = R"sql(
CREATE TABLE transit_meta (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
CREATE TABLE transit_cards (
  serial TEXT PRIMARY KEY,
  card_id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  device_public_key BYTEA NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('issuing', 'active', 'lost', 'closed', 'migrated')),
  opening_fee_fen BIGINT NOT NULL,
  deposit_fen BIGINT NOT NULL,
  opening_balance_fen BIGINT NOT NULL,
  issue_payment_ref TEXT,
  issue_payment_captured BOOLEAN NOT NULL,
  start_date BIGINT NOT NULL,
  expiry_date BIGINT NOT NULL,
  replaces TEXT,
  replaced_by TEXT,
  final_balance_fen BIGINT,
  created_unix_ms BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL
);
CREATE INDEX transit_cards_account ON transit_cards (account_id);
CREATE TABLE transit_refunds (
  refund_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  card_serial TEXT NOT NULL REFERENCES transit_cards (serial),
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  reason TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('due', 'paid')),
  created_unix_ms BIGINT NOT NULL
);
CREATE INDEX transit_refunds_account ON transit_refunds (account_id);
CREATE TABLE transit_blacklist (
  card_serial TEXT PRIMARY KEY,
  algorithm BIGINT NOT NULL,
  reason TEXT NOT NULL,
  listed_version BIGINT NOT NULL,
  created_unix_ms BIGINT NOT NULL
);
CREATE TABLE transit_load_orders (
  order_id TEXT PRIMARY KEY,
  card_serial TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  request_sha256 BYTEA NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('authorising', 'declined', 'paid', 'authorised',
                                       'loaded', 'cancelling', 'refunded')),
  payment_ref TEXT,
  decline_reason TEXT,
  online_counter BIGINT,
  loaded_attempt BIGINT,
  tac BYTEA,
  captured BOOLEAN NOT NULL,
  review_note TEXT,
  created_unix_ms BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL
);
CREATE INDEX transit_load_orders_card ON transit_load_orders (card_serial);
CREATE TABLE transit_load_attempts (
  order_id TEXT NOT NULL REFERENCES transit_load_orders (order_id),
  attempt BIGINT NOT NULL,
  card_random BYTEA NOT NULL,
  online_counter BIGINT NOT NULL,
  balance_before_fen BIGINT NOT NULL,
  card_time_local TEXT NOT NULL,
  mac2 BYTEA NOT NULL,
  created_unix_ms BIGINT NOT NULL,
  PRIMARY KEY (order_id, attempt)
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      // Refunds are paid back to the bank card that paid: the payment's card on file
      // (TopUpPayment::CardOnFile, a device token and its expiry, never a PAN) is kept with the
      // opening charge and each top-up order, and copied to a refund when the card is deleted.
      // A refund being paid has paying_unix_ms set until its credit is answered.
      store::Migration{
          .version = 2,
          .description = "refunds paid back to the card on file",
          .sql = R"sql(
ALTER TABLE transit_cards ADD COLUMN issue_card_on_file TEXT;
ALTER TABLE transit_load_orders ADD COLUMN card_on_file TEXT;
ALTER TABLE transit_refunds ADD COLUMN card_on_file TEXT;
ALTER TABLE transit_refunds ADD COLUMN credit_ref TEXT;
ALTER TABLE transit_refunds ADD COLUMN paying_unix_ms BIGINT;
ALTER TABLE transit_refunds ADD COLUMN paid_unix_ms BIGINT;
ALTER TABLE transit_refunds ADD COLUMN last_error TEXT;
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

}  // namespace

Result<std::string> OperatorStoreRole(std::string_view city_code) {
  if (city_code.size() != 4 || !IsAllDigits(city_code)) {
    return InvalidArgument("operator store: city code must be 4 digits; got \"" +
                           std::string(city_code) + "\"");
  }
  return "transit_" + std::string(city_code);
}

std::span<const store::Migration> OperatorMigrations() { return Migrations(); }

Status ApplyOperatorSchema(store::Store& store) {
  return store::ApplyMigrations(store, OperatorMigrations()).WithContext("transit operator schema");
}

Result<std::unique_ptr<store::Store>> OpenOperatorStore(std::string_view city_code,
                                                        const std::filesystem::path& data_dir,
                                                        std::string_view postgres_url) {
  TS_ASSIGN_OR_RETURN(const std::string role, OperatorStoreRole(city_code));
  std::unique_ptr<store::Store> store;
  if (!postgres_url.empty()) {
    TS_ASSIGN_OR_RETURN(store, store::OpenPostgres(postgres_url, role));
  } else {
    TS_ASSIGN_OR_RETURN(store, store::OpenSqlite(data_dir, role));
  }
  TS_RETURN_IF_ERROR(ApplyOperatorSchema(*store));
  return store;
}

}  // namespace tapstack::transit
