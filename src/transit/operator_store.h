// The transit operator's database: one store per city (role "transit_<city code>", e.g.
// "transit_1000"), shared by the card registry (transit/card_registry.h) and the load server
// (transit/load_server.h), with one migration list for both:
//
//   transit_meta          named counters: the card serial sequence, the blacklist version
//   transit_cards         every card the operator issued: serial, wallet card id, account,
//                         device, status, deposit, fee, opening balance, validity, migration links
//   transit_refunds       money due back to an account (card deletion): amount, reason, state,
//                         the bank card it is paid back to and the credit that paid it
//   transit_blacklist     serials gates must block, with the version that listed them
//   transit_load_orders   top-up orders: amount, payment reference, state, the load's counter,
//                         balance and time once confirmed
//   transit_load_attempts each MAC2 the load server issued for an order (card random, counter,
//                         balance before, card time), so a retry gets the same MAC2 and a TAC or
//                         log record can be matched to the attempt the card used
// No table holds a bank-card number or the wallet's payment data (only its SHA-256, to recognise a
// retried order, and the device token that paid, to refund it: a token, never a PAN); card keys
// are never stored: they are re-derived from the master keys.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/migration.h"
#include "store/store.h"

namespace tapstack::transit {

// "transit_1000" for city code "1000". Errors (kInvalidArgument): a code that is not 4 digits.
Result<std::string> OperatorStoreRole(std::string_view city_code);

// The migrations, oldest first. Never edit a shipped one; append.
std::span<const store::Migration> OperatorMigrations();

// ApplyMigrations(store, OperatorMigrations()); safe at every open, with no transaction open.
// Errors: as store::ApplyMigrations.
Status ApplyOperatorSchema(store::Store& store);

// Opens the city's operator store, migrated: PostgreSQL (schema transit_<code>) when
// `postgres_url` is set, else SQLite <data_dir>/transit_<code>.db. Each call opens a new
// connection; give each component (registry, load server) its own.
// Errors: as OperatorStoreRole, store::OpenSqlite / OpenPostgres and ApplyOperatorSchema.
Result<std::unique_ptr<store::Store>> OpenOperatorStore(std::string_view city_code,
                                                        const std::filesystem::path& data_dir,
                                                        std::string_view postgres_url = "");

}  // namespace tapstack::transit
