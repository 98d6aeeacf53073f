// Migrations: the ordered list of schema changes a role's code knows, applied once each.
//
// Each role declares its schema as a list of Migrations with increasing versions. ApplyMigrations
// runs the ones the database has not seen yet, each in its own transaction together with the row
// that records it in the table schema_migrations(version BIGINT PRIMARY KEY, description TEXT);
// so a migration is either wholly applied and recorded or not at all. Running it again (every
// start-up) applies nothing new. Two processes migrating at once take turns (the second finds the
// work done). A database that records a version newer than the code knows is refused, so an old
// binary never writes into a schema it does not understand.
//
// Never edit or renumber a migration that has shipped; add a new one.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace tapstack::store {

inline constexpr std::string_view kSchemaMigrationsTable = "schema_migrations";

struct Migration {
  std::int64_t version = 0;  // > 0, strictly increasing along the list
  std::string description;   // non-empty, e.g. "create accounts"
  std::string sql;           // portable SQL (see store/store.h); one or more statements
  std::string sqlite_sql;    // when non-empty, used instead of `sql` on SQLite
  std::string postgres_sql;  // when non-empty, used instead of `sql` on PostgreSQL
};

// The SQL of `migration` for `dialect`.
const std::string& MigrationSql(const Migration& migration, Dialect dialect);

// Applies the migrations newer than the database's version, in order. Call it with no transaction
// open (each migration runs in a transaction of its own, through RunInTransaction).
// Errors:
//   kInvalidArgument    the list is malformed (version not increasing or not positive, empty
//                       description or SQL); nothing is applied;
//   kFailedPrecondition the database records a version newer than the newest in `migrations`, or
//                       records versions that are not in the list (or misses one that a later,
//                       applied version follows); nothing is applied;
//   a migration's own error, with context "migration <version> (<description>)"; the migrations
//   before it stay applied, it and those after it are not.
Status ApplyMigrations(Store& store, std::span<const Migration> migrations);

// The highest version recorded in schema_migrations; 0 when the table does not exist.
Result<std::int64_t> SchemaVersion(Store& store);

}  // namespace tapstack::store
