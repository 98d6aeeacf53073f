// An operator's database (role "dcep_<operator id>"): wallet metadata and the entry journal that
// is both the wallets' history and the operator's idempotency record.
//
//   dcep_wallets   wallet id (pseudonymous), tier, phone (UNIQUE, NULL for merchants), name,
//                  SHA-256 of the ID number (never the number), masked bank account, merchant id,
//                  ledger account id, times
//   dcep_purses    "offline purse of device D": device id, owning wallet, ledger account id
//   dcep_requests  idempotency record of calls that move no money (open wallet, upgrade tier):
//                  derived request id, request digest, outcome (wallet id)
//   dcep_entries   one row per money movement or refusal, keyed by seq (the order of
//                  acceptance), with its ledger transfer id (derived from the idempotency key;
//                  unique through the operator's id → seq map): kind, request digest, debit/credit wallet,
//                  device, counterparty operator and wallet, merchant, amount, China-standard day,
//                  status (posted | refused | in_flight | failed), step of an in-flight outbox
//                  entry (accepted | reversing), the refusal (error code + message), the two
//                  ledger account ids, contract id (contract_* kinds), the other operator's
//                  device (offline moves across operators), the merchant order a payment pays,
//                  and the seq of the previous row of the debit and of the credit wallet (0:
//                  none; a wallet's history walks these back from its newest row)
//   dcep_merchant_orders  the paid-order register: (merchant, order id) → the entry that paid it
//   dcep_contracts  conditional payments (dcep/contract_book.h): canonical terms, escrow ledger
//                  account, progress (units delivered, released, refunded), state active | closed
//   dcep_contract_events  one row per contract action, keyed by its id (derived from contract,
//                  action and idempotency key; = the journal entry id when it moved value):
//                  actor, units, amount, request digest, outcome, journal entry
// The journal row of a movement is committed before its ledger transfer, so after a crash the
// rows whose transfers may be missing are exactly the last batch (Operator::Open re-submits them).
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/migration.h"
#include "store/store.h"

namespace tapstack::dcep {

// "dcep_icbc" for "icbc". Errors: kInvalidArgument (CheckOperatorId).
Result<std::string> OperatorStoreRole(std::string_view operator_id);

std::span<const store::Migration> OperatorMigrations();

// PostgreSQL schema dcep_<id> when `postgres_url` is set, else SQLite <data_dir>/dcep_<id>.db;
// migrated. Errors: as store::OpenSqlite / OpenPostgres / ApplyMigrations.
Result<std::unique_ptr<store::Store>> OpenOperatorStore(std::string_view operator_id,
                                                        const std::filesystem::path& data_dir,
                                                        std::string_view postgres_url = "");

}  // namespace tapstack::dcep
