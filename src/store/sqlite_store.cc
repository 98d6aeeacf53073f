#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tapstack::store {

namespace {

// Maps a SQLite extended result code to a Status (see the table in store/store.h).
Status MapSqliteError(int code, std::string_view message) {
  std::string msg =
      std::string(message) + " [sqlite " + std::to_string(code) + ": " + sqlite3_errstr(code) + "]";
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists(std::move(msg));
      }
      return FailedPrecondition(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_INTERRUPT:
      return Unavailable(std::move(msg));
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return IoError(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corruption(std::move(msg));
    case SQLITE_ERROR:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return InvalidArgument(std::move(msg));
    case SQLITE_TOOBIG:
      return OutOfRange(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

// True for declared column types that read as bool (SQLite stores them as 0/1 integers).
bool IsBooleanDecl(const char* decl) {
  return decl != nullptr && (strcasecmp(decl, "BOOLEAN") == 0 || strcasecmp(decl, "BOOL") == 0);
}

bool OnlySpaceAndSemicolons(const char* p) {
  for (; *p != '\0'; ++p) {
    if (std::isspace(static_cast<unsigned char>(*p)) == 0 && *p != ';') return false;
  }
  return true;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, std::string description, StoreOptions options)
      : Store(Dialect::kSqlite, std::move(description), std::move(options)), db_(db) {}
  ~SqliteStore() override { (void)DoClose(); }

  // Applies and verifies the connection settings; called once after opening.
  Status Configure() {
    sqlite3_busy_timeout(db_, options().busy_timeout_ms);
    Rows rows;
    // Reading the journal mode is also the first read of the file: a non-database fails here.
    TS_RETURN_IF_ERROR(DoRun("PRAGMA journal_mode=WAL", {}, &rows).status());
    TS_ASSIGN_OR_RETURN(std::string mode, rows[0].GetText(0));
    if (mode != "wal")
      return IoError("cannot switch " + description() + " to WAL (mode " + mode + ")");
    TS_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
    TS_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
    return Status::Ok();
  }

 protected:
  Result<int> DoPrepare(std::string_view sql) override {
    TS_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Lookup(sql));
    return sqlite3_bind_parameter_count(stmt);
  }

  Result<std::int64_t> DoRun(std::string_view sql, std::span<const Value> params,
                             Rows* rows) override {
    TS_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Lookup(sql));
    const int count = sqlite3_bind_parameter_count(stmt);
    if (static_cast<std::size_t>(count) != params.size()) {
      return InvalidArgument("statement has " + std::to_string(count) + " parameters, " +
                             std::to_string(params.size()) + " values given");
    }
    // Leaves the statement ready for its next use and drops pointers into `params`.
    struct ResetOnExit {
      sqlite3_stmt* stmt;
      ~ResetOnExit() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    } reset_on_exit{stmt};
    for (int i = 0; i < count; ++i) {
      TS_RETURN_IF_ERROR(Bind(stmt, i + 1, params[static_cast<std::size_t>(i)]));
    }

    const int columns = sqlite3_column_count(stmt);
    ColumnNames names;
    std::vector<Row> out;
    if (rows != nullptr) {
      auto list = std::make_shared<std::vector<std::string>>();
      for (int c = 0; c < columns; ++c) list->emplace_back(sqlite3_column_name(stmt, c));
      names = std::move(list);
    }
    const sqlite3_int64 changes_before = sqlite3_total_changes64(db_);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error(rc);
      if (rows == nullptr) continue;
      if (out.size() >= options().query_rows_max) {
        return OutOfRange("query returned more than " + std::to_string(options().query_rows_max) +
                          " rows (StoreOptions::query_rows_max)");
      }
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(ReadColumn(stmt, c));
      out.emplace_back(names, std::move(values));
    }
    // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, even when this statement
    // was something else; the total tells whether this statement changed anything.
    const std::int64_t affected =
        sqlite3_total_changes64(db_) != changes_before ? sqlite3_changes64(db_) : 0;
    if (rows != nullptr) *rows = Rows(std::move(names), std::move(out));
    return affected;
  }

  Status DoExecuteScript(std::string_view sql) override { return Exec(std::string(sql)); }

  Status DoBegin() override { return Exec("BEGIN IMMEDIATE"); }

  Status DoCommit() override {
    Status s = Exec("COMMIT");
    // A COMMIT refused for a deferred constraint (or SQLITE_BUSY) leaves the transaction open;
    // end it so that both databases behave alike: a failed commit is a rollback.
    if (!s.ok() && db_ != nullptr && sqlite3_get_autocommit(db_) == 0) {
      (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return s;
  }

  Status DoRollback() override {
    // After SQLITE_FULL, SQLITE_IOERR and some others SQLite may already have rolled back.
    if (db_ == nullptr || sqlite3_get_autocommit(db_) != 0) return Status::Ok();
    return Exec("ROLLBACK");
  }

  Status DoClose() override {
    if (db_ == nullptr) return Status::Ok();
    for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
    cache_.clear();
    lru_.clear();
    const int rc = sqlite3_close_v2(db_);
    Status s = rc == SQLITE_OK ? Status::Ok() : MapSqliteError(rc, "close failed");
    db_ = nullptr;
    return s;
  }

 private:
  struct Entry {
    sqlite3_stmt* stmt;
    std::list<std::string>::iterator lru;
  };

  // Maps the connection's current error and records its consequences.
  Status Error(int rc) {
    Status s = MapSqliteError(rc, db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    const int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) MarkConflict();
    if (primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
      MarkUnusable(s);
    }
    return s;
  }

  Status Exec(const std::string& sql) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::Ok() : Error(rc);
  }

  // The cached compiled form of `sql`, compiling it on a miss.
  Result<sqlite3_stmt*> Lookup(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      ++stats_.statement_cache_hits;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.stmt;
    }
    if (sql.size() > static_cast<std::size_t>(INT_MAX)) return OutOfRange("statement too long");
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return Error(rc);
    if (stmt == nullptr) return InvalidArgument("no statement in the SQL text");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(stmt, sqlite3_finalize);
    const std::string rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (!OnlySpaceAndSemicolons(rest.c_str())) {
      sqlite3_stmt* next = nullptr;
      const int rc2 = sqlite3_prepare_v2(db_, rest.c_str(), -1, &next, nullptr);
      sqlite3_finalize(next);
      if (rc2 != SQLITE_OK || next != nullptr) {
        return InvalidArgument("several statements given; Prepare/Execute/Query take one");
      }
    }
    for (int i = 1; i <= sqlite3_bind_parameter_count(stmt); ++i) {
      if (const char* name = sqlite3_bind_parameter_name(stmt, i); name != nullptr) {
        return InvalidArgument(std::string("placeholder ") + name + " is not portable: write ?");
      }
    }
    ++stats_.statements_prepared;
    const std::size_t capacity = std::max<std::size_t>(options().statement_cache_max, 1);
    while (cache_.size() >= capacity) {
      auto victim = cache_.find(lru_.back());
      sqlite3_finalize(victim->second.stmt);
      cache_.erase(victim);
      lru_.pop_back();
    }
    lru_.emplace_front(sql);
    cache_.emplace(lru_.front(), Entry{owned.release(), lru_.begin()});
    return stmt;
  }

  Status Bind(sqlite3_stmt* stmt, int index, const Value& v) {
    int rc = SQLITE_OK;
    switch (v.type()) {
      case Value::Type::kNull:
        rc = sqlite3_bind_null(stmt, index);
        break;
      case Value::Type::kInt64:
        rc = sqlite3_bind_int64(stmt, index, v.int64());
        break;
      case Value::Type::kBool:
        rc = sqlite3_bind_int(stmt, index, v.boolean() ? 1 : 0);
        break;
      case Value::Type::kText:
        rc = sqlite3_bind_text64(stmt, index, v.text().data(), v.text().size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
        break;
      case Value::Type::kBlob:
        // A null data pointer would bind NULL: an empty blob needs zeroblob(0).
        rc = v.blob().empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                              : sqlite3_bind_blob64(stmt, index, v.blob().data(), v.blob().size(),
                                                    SQLITE_STATIC);
        break;
    }
    if (rc != SQLITE_OK) return Error(rc).WithContext("parameter " + std::to_string(index));
    return Status::Ok();
  }

  static Value ReadColumn(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER: {
        const std::int64_t i = sqlite3_column_int64(stmt, c);
        if ((i == 0 || i == 1) && IsBooleanDecl(sqlite3_column_decltype(stmt, c))) {
          return Value(i == 1);
        }
        return Value(i);
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        return p == nullptr ? Value(Bytes()) : Value(Bytes(p, p + size));
      }
      case SQLITE_TEXT:
      case SQLITE_FLOAT: {  // no floating-point Value: SQLite renders it as text
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        return Value(std::string(p, static_cast<std::size_t>(size)));
      }
      default:
        return Value();
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> cache_;
  std::list<std::string> lru_;  // cache keys, most recently used first
};

}  // namespace

std::filesystem::path SqlitePath(const std::filesystem::path& data_dir, std::string_view role) {
  return data_dir / (std::string(role) + ".db");
}

Result<std::unique_ptr<Store>> OpenSqlite(const std::filesystem::path& data_dir,
                                          std::string_view role, const StoreOptions& options) {
  TS_RETURN_IF_ERROR(CheckRoleName(role));
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return IoError("cannot create data directory " + data_dir.string() + ": " + ec.message());
  }
  const std::filesystem::path path = SqlitePath(data_dir, role);
  sqlite3* db = nullptr;
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags,
                                 options.sqlite_vfs.empty() ? nullptr : options.sqlite_vfs.c_str());
  if (rc != SQLITE_OK) {
    Status s = MapSqliteError(rc, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return s.WithContext("cannot open " + path.string());
  }
  sqlite3_extended_result_codes(db, 1);
  auto store = std::make_unique<SqliteStore>(db, "sqlite:" + path.string(), options);
  TS_RETURN_IF_ERROR(store->Configure().WithContext("cannot open " + path.string()));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tapstack::store
