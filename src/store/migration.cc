#include "store/migration.h"

#include <algorithm>
#include <set>
#include <vector>

namespace tapstack::store {

namespace {

Status CheckList(std::span<const Migration> migrations, Dialect dialect) {
  std::int64_t previous = 0;
  for (const Migration& m : migrations) {
    const std::string where = "migration " + std::to_string(m.version);
    if (m.version <= previous) {
      return InvalidArgument(where + ": versions must be positive and strictly increasing (after " +
                             std::to_string(previous) + ")");
    }
    if (m.description.empty()) return InvalidArgument(where + ": empty description");
    if (MigrationSql(m, dialect).empty()) {
      return InvalidArgument(where + ": no SQL for " + std::string(DialectName(dialect)));
    }
    previous = m.version;
  }
  return Status::Ok();
}

Result<std::set<std::int64_t>> RecordedVersions(Store& store) {
  TS_ASSIGN_OR_RETURN(Rows rows, store.Query("SELECT version FROM schema_migrations"));
  std::set<std::int64_t> versions;
  for (const Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::int64_t v, row.GetInt64(0));
    versions.insert(v);
  }
  return versions;
}

// Refuses a database the code does not fully know: a newer version, or a history that differs.
Status CheckHistory(Store& store, std::span<const Migration> migrations,
                    const std::set<std::int64_t>& recorded) {
  if (recorded.empty()) return Status::Ok();
  const std::int64_t newest_known = migrations.empty() ? 0 : migrations.back().version;
  const std::int64_t newest_recorded = *recorded.rbegin();
  if (newest_recorded > newest_known) {
    return FailedPrecondition("database schema version " + std::to_string(newest_recorded) +
                              " is newer than this build knows (latest " +
                              std::to_string(newest_known) + ") in " + store.description() +
                              "; refusing to use it: run a newer tapstack");
  }
  std::set<std::int64_t> known;
  for (const Migration& m : migrations) known.insert(m.version);
  for (std::int64_t v : recorded) {
    if (!known.contains(v)) {
      return FailedPrecondition("database records migration " + std::to_string(v) +
                                " which this build does not have, in " + store.description());
    }
  }
  for (const Migration& m : migrations) {
    if (m.version < newest_recorded && !recorded.contains(m.version)) {
      return FailedPrecondition(
          "migration " + std::to_string(m.version) + " was never applied but the later " +
          std::to_string(newest_recorded) + " was, in " + store.description());
    }
  }
  return Status::Ok();
}

Status ApplyOne(Store& store, const Migration& m) {
  if (store.dialect() == Dialect::kPostgres) {
    // Serialises concurrent migrators (SQLite's BEGIN IMMEDIATE already holds the write lock).
    TS_RETURN_IF_ERROR(
        store.ExecuteScript("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE"));
  }
  TS_ASSIGN_OR_RETURN(
      Rows done,
      store.Query("SELECT version FROM schema_migrations WHERE version = ?", {m.version}));
  if (!done.empty()) return Status::Ok();  // another process applied it meanwhile
  TS_RETURN_IF_ERROR(store.ExecuteScript(MigrationSql(m, store.dialect())));
  TS_ASSIGN_OR_RETURN(
      std::int64_t inserted,
      store.Execute("INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
                    {m.version, m.description}));
  if (inserted != 1)
    return Internal("recording the migration inserted " + std::to_string(inserted));
  return Status::Ok();
}

}  // namespace

const std::string& MigrationSql(const Migration& migration, Dialect dialect) {
  if (dialect == Dialect::kSqlite && !migration.sqlite_sql.empty()) return migration.sqlite_sql;
  if (dialect == Dialect::kPostgres && !migration.postgres_sql.empty()) {
    return migration.postgres_sql;
  }
  return migration.sql;
}

Status ApplyMigrations(Store& store, std::span<const Migration> migrations) {
  TS_RETURN_IF_ERROR(CheckList(migrations, store.dialect()));
  TS_RETURN_IF_ERROR(store.ExecuteScript(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
      "description TEXT NOT NULL)"));
  TS_ASSIGN_OR_RETURN(std::set<std::int64_t> recorded, RecordedVersions(store));
  TS_RETURN_IF_ERROR(CheckHistory(store, migrations, recorded));
  for (const Migration& m : migrations) {
    if (recorded.contains(m.version)) continue;
    TS_RETURN_IF_ERROR(
        store.RunInTransaction([&m](Store& s) { return ApplyOne(s, m); })
            .WithContext("migration " + std::to_string(m.version) + " (" + m.description + ")"));
  }
  return Status::Ok();
}

Result<std::int64_t> SchemaVersion(Store& store) {
  const char* exists_sql =
      store.dialect() == Dialect::kSqlite
          ? "SELECT count(*) AS present FROM sqlite_master WHERE type = 'table' AND "
            "name = 'schema_migrations'"
          : "SELECT to_regclass('schema_migrations') IS NOT NULL AS present";
  TS_ASSIGN_OR_RETURN(Row exists, store.QueryRow(exists_sql));
  TS_ASSIGN_OR_RETURN(bool present, exists.GetBool(0));
  if (!present) return std::int64_t{0};
  TS_ASSIGN_OR_RETURN(Row row, store.QueryRow("SELECT COALESCE(MAX(version), 0) AS version FROM "
                                              "schema_migrations"));
  return row.GetInt64(0);
}

}  // namespace tapstack::store
