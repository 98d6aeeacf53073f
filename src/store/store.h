// Store: the one database interface of every server-side role (ledger, issuer, TSP vault, wallet…).
//
// Two implementations share this interface and one test suite:
//   OpenSqlite(data_dir, role)  store/sqlite_store.h    embedded, the default: <data_dir>/<role>.db
//   OpenPostgres(url, role)     store/postgres_store.h  a server, schema <role> in one database
// Schemas are created and upgraded with ApplyMigrations (store/migration.h).
//
// ## The SQL dialect: one portable subset, written once
// Callers write SQL that both SQLite 3.40 and PostgreSQL 15 accept and mean the same by:
//   * Placeholders are `?` only, bound in order. The PostgreSQL store rewrites them to $1..$n,
//     skipping '...' strings, "..." identifiers and -- / /* */ comments. Numbered placeholders
//     (?1, $1) are refused with kInvalidArgument on both; named ones (:x, @x, $x) are refused by
//     SQLite and are not placeholders to PostgreSQL. `?` is never an operator (no JSONB `?`).
//   * Column types: BIGINT (int64), TEXT, BYTEA (blob), BOOLEAN. SQLite accepts these names as
//     they are (BIGINT has integer affinity; BYTEA and BOOLEAN have numeric affinity, which stores
//     blobs and integers unchanged), so no type name is rewritten. Do not use BLOB, INTEGER PRIMARY
//     KEY AUTOINCREMENT or SERIAL: ids are chosen by the caller (which also makes retries
//     idempotent).
//   * Bind Value::Bool to BOOLEAN columns and Value::Int64 to BIGINT ones. PostgreSQL checks the
//     type of every parameter against what the statement expects and refuses a mismatch with
//     kInvalidArgument naming the parameter; where a parameter's type cannot be inferred from
//     context (`SELECT ?`), PostgreSQL takes it as text: write `CAST(? AS BIGINT)`. SQLite's type
//     affinity converts where PostgreSQL refuses (an int64 into a TEXT column, say), which is why
//     the store tests run on both.
//   * Portable statements include INSERT … ON CONFLICT (…) DO NOTHING/DO UPDATE, RETURNING,
//     CAST, COALESCE, CASE, sub-queries, CTEs and ordinary joins. Name result columns of
//     expressions with `AS`. Text compares byte-wise on SQLite and by collation on PostgreSQL:
//     do not rely on ORDER BY of non-ASCII text.
//   * Where the dialects must differ (DDL beyond the subset), a Migration carries per-dialect SQL.
//   * Text is UTF-8 without NUL characters; other text parameters are refused (kInvalidArgument)
//     on both databases. Bytes that are not text go in BYTEA columns as blobs.
//   * Results: integers (any width) read as int64, BOOLEAN as bool, BYTEA as blob, text as text;
//     an integral NUMERIC (e.g. PostgreSQL's sum(BIGINT)) as int64; anything else (floating point,
//     timestamps) as text. There is no floating-point Value.
//
// ## Transactions
// Begin() opens a serialisable transaction (SQLite: BEGIN IMMEDIATE, which takes the write lock at
// once; PostgreSQL: ISOLATION LEVEL SERIALIZABLE). Transactions do not nest. Both databases behave
// like PostgreSQL after an error: once any call inside a transaction fails, the transaction is
// aborted, later statements in it fail with kFailedPrecondition naming the first error, and
// Commit() rolls it back and fails. Never issue BEGIN/COMMIT/ROLLBACK/SAVEPOINT as SQL text.
// RunInTransaction() re-runs a function when the database reports a conflict with another
// connection (SQLITE_BUSY after busy_timeout_ms, PostgreSQL serialisation failure, deadlock or
// lock timeout), at most RetryPolicy::attempts_max times.
//
// ## Errors (Status codes)
// Messages name the SQL statement. The store never puts parameter values in them and drops
// PostgreSQL's DETAIL lines, which quote the offending values (card data, say).
//   kAlreadyExists       unique or primary-key violation
//   kFailedPrecondition  other constraint violations (NOT NULL, CHECK, FOREIGN KEY); calls in an
//                        aborted transaction; Begin inside a transaction; Commit without one; a
//                        closed store; use from two threads at once
//   kInvalidArgument     syntax errors, unknown tables/columns, parameter count or type mismatch,
//                        non-portable placeholders, several statements given to Prepare/Execute
//   kOutOfRange          a value too large for its column; more rows than query_rows_max
//   kUnavailable         a conflict with another connection (retryable, see above); the
//                        PostgreSQL server cannot be reached or the connection was lost
//   kIoError             disk full (SQLITE_FULL, PostgreSQL 53100), I/O errors, a failed sync
//   kCorruption          the database file is damaged
//   kInternal            anything the store does not recognise (the message keeps the native code)
// Durable or unusable: when SQLite reports an I/O error or corruption, what is on disk is no longer
// known, so the store refuses every later call with that error until it is closed and reopened
// (statements after a failed commit fail rather than pretend). A lost PostgreSQL connection fails
// the call that found it with kUnavailable (the outcome of a commit in flight is unknown: make
// writes idempotent by id); the next call outside a transaction reconnects. Inside a transaction
// there is no reconnect: the transaction is aborted and must be rolled back first.
//
// ## Thread-safety
// A Store is one database connection and is NOT thread-safe: use each Store from one thread at a
// time (open one per thread; several Stores on the same SQLite file or PostgreSQL database are
// fine and see each other's commits). A transaction begins and ends on one thread. A call made
// while another thread is inside a call or a transaction of the same Store is refused with
// kFailedPrecondition instead of corrupting state.
//
// ## Ownership
// Open* return a std::unique_ptr<Store>; destroying it closes the connection, rolling back an
// open transaction. Statements and Transactions refer to their Store and must not outlive it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "core/status.h"
#include "store/row.h"
#include "store/value.h"

namespace tapstack::store {

enum class Dialect { kSqlite, kPostgres };

// "sqlite" or "postgres".
std::string_view DialectName(Dialect dialect);

// A role names a database file (SQLite) or schema (PostgreSQL): 1 to 63 characters of a-z, 0-9
// and _, starting with a letter, so it is safe in a path and as an unquoted SQL identifier.
// kInvalidArgument otherwise.
Status CheckRoleName(std::string_view role);
inline constexpr std::size_t kRoleNameBytesMax = 63;

// Most attempts RunInTransaction makes before giving up on conflicts.
inline constexpr int kTransactionAttemptsMax = 8;

struct StoreOptions {
  // How long a statement waits for a lock held by another connection before failing with a
  // retryable kUnavailable (SQLite busy_timeout, PostgreSQL lock_timeout).
  int busy_timeout_ms = 5000;
  // Prepared statements kept per connection; the least recently used is dropped beyond this.
  std::size_t statement_cache_max = 256;
  // Query() fails with kOutOfRange rather than return more rows than this.
  std::size_t query_rows_max = 100'000;
  // SQLite only: the name of a registered sqlite3_vfs to open the file with ("" = the default).
  // Tests use it to inject I/O faults.
  std::string sqlite_vfs;
  // PostgreSQL only: seconds to wait for a connection (libpq connect_timeout).
  int postgres_connect_timeout_s = 10;
};

struct RetryPolicy {
  // Attempts in all, including the first; 1 disables retries. Clamped to
  // [1, kTransactionAttemptsMax].
  int attempts_max = kTransactionAttemptsMax;
  // Sleep before retry n (n = 1, 2, …) is n * backoff_ms.
  int backoff_ms = 1;
  // Called before each retry with the number of the attempt that failed and its error.
  std::function<void(int failed_attempt, const Status& error)> on_retry;
};

// Counters for metrics and tests. Monotonic over the Store's life.
struct StoreStats {
  std::int64_t statements_prepared = 0;   // statements compiled by the database
  std::int64_t statement_cache_hits = 0;  // executions that reused a compiled statement
  std::int64_t transactions_committed = 0;
  std::int64_t transaction_retries = 0;  // extra attempts made by RunInTransaction
  std::int64_t reconnects = 0;           // PostgreSQL connections re-established
};

class Store;

// A prepared statement: SQL checked by the database and kept compiled in the Store's cache.
// Executing it with new parameters reuses the compiled form (and re-compiles transparently if the
// cache dropped it or the connection was re-established). Must not outlive its Store.
class Statement {
 public:
  const std::string& sql() const { return sql_; }
  int parameter_count() const { return parameter_count_; }

  Result<std::int64_t> Execute(std::initializer_list<Value> params = {}) const;
  Result<std::int64_t> Execute(std::span<const Value> params) const;
  Result<Rows> Query(std::initializer_list<Value> params = {}) const;
  Result<Rows> Query(std::span<const Value> params) const;

 private:
  friend class Store;
  Statement(Store* store, std::string sql, int parameter_count)
      : store_(store), sql_(std::move(sql)), parameter_count_(parameter_count) {}

  Store* store_;
  std::string sql_;
  int parameter_count_;
};

class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Dialect dialect() const { return dialect_; }
  // Where the data lives, for logs: "sqlite:/var/lib/tapstack/ledger.db" or
  // "postgres:127.0.0.1:5432/tapstack schema ledger" (never a password).
  const std::string& description() const { return description_; }
  const StoreOptions& options() const { return options_; }
  StoreStats stats() const { return stats_; }

  // Rolls back an open transaction, frees prepared statements and closes the connection. Later
  // calls fail with kFailedPrecondition. Closing twice is fine.
  Status Close();

  // Compiles one statement (see the dialect above) and caches it.
  Result<Statement> Prepare(std::string_view sql);

  // Runs one statement with `params` bound to its `?`s in order, through the statement cache.
  // Returns the rows inserted, updated or deleted (0 for other statements).
  Result<std::int64_t> Execute(std::string_view sql, std::initializer_list<Value> params = {});
  Result<std::int64_t> Execute(std::string_view sql, std::span<const Value> params);

  // Runs one statement and returns all its rows (at most options().query_rows_max).
  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {});
  Result<Rows> Query(std::string_view sql, std::span<const Value> params);

  // The first row of a query; kNotFound when it returns none.
  Result<Row> QueryRow(std::string_view sql, std::initializer_list<Value> params = {});
  Result<Row> QueryRow(std::string_view sql, std::span<const Value> params);

  // Runs one or more `;`-separated statements without parameters and without caching them
  // (schema changes in migrations). Not for BEGIN/COMMIT.
  Status ExecuteScript(std::string_view sql);

  Status Begin();
  Status Commit();
  Status Rollback();
  bool in_transaction() const { return tx_state_ != TxState::kNone; }

  // Begin, fn(*this), Commit; on failure rolls back and, when the failure was a conflict with
  // another connection, sleeps and runs everything again (see RetryPolicy). Returns the first
  // non-retryable error, or the last conflict after the final attempt. `fn` must not call
  // Begin/Commit/Rollback itself, and must be safe to run more than once (no side effects outside
  // the store, or idempotent ones).
  Status RunInTransaction(const std::function<Status(Store&)>& fn, const RetryPolicy& policy = {});

 protected:
  Store(Dialect dialect, std::string description, StoreOptions options)
      : dialect_(dialect), description_(std::move(description)), options_(std::move(options)) {}

  // Implementations do the database work below; the base class does argument checks, the
  // transaction state machine, the thread check and the "unusable after an I/O error" rule.
  // Each reports a conflict with another connection by calling MarkConflict() before returning
  // the error, and an unknown on-disk state by calling MarkUnusable().

  // Compiles (or finds in the cache) `sql`; returns its parameter count.
  virtual Result<int> DoPrepare(std::string_view sql) = 0;
  // Runs `sql` (through the cache); fills `rows` when not null. Returns rows affected.
  virtual Result<std::int64_t> DoRun(std::string_view sql, std::span<const Value> params,
                                     Rows* rows) = 0;
  virtual Status DoExecuteScript(std::string_view sql) = 0;
  virtual Status DoBegin() = 0;
  // On failure the implementation leaves no transaction open on the connection.
  virtual Status DoCommit() = 0;
  virtual Status DoRollback() = 0;
  virtual Status DoClose() = 0;

  void MarkConflict() { conflict_ = true; }
  void set_description(std::string description) { description_ = std::move(description); }
  void MarkUnusable(const Status& cause);

  StoreStats stats_;

 private:
  friend class Statement;
  friend class Transaction;
  enum class TxState { kNone, kActive, kAborted };
  class CallGuard;

  // kFailedPrecondition when closed; the remembered error when unusable.
  Status CheckUsable() const;
  // Records a failure inside a transaction (aborting it) and returns it.
  Status Fail(Status status);
  Status RollbackLocked();
  Result<std::int64_t> RunLocked(std::string_view sql, std::span<const Value> params, Rows* rows);
  Status AttemptTransaction(const std::function<Status(Store&)>& fn);

  Dialect dialect_;
  std::string description_;
  StoreOptions options_;
  bool closed_ = false;
  Status unusable_;  // not OK once an I/O error left the disk state unknown
  TxState tx_state_ = TxState::kNone;
  Status tx_error_;              // the error that aborted the current transaction
  std::uint64_t tx_serial_ = 0;  // increments at each Begin; lets a Transaction find its own
  bool conflict_ = false;        // set by MarkConflict since the current attempt started
  std::atomic<std::thread::id> user_{};  // the thread inside a call or transaction, if any
  int call_depth_ = 0;                   // nesting of calls by user_ (only user_ touches it)
};

// RAII transaction: rolls back on destruction unless Commit() or Rollback() was called.
//   TS_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(store));
//   TS_RETURN_IF_ERROR(store.Execute(...).status());
//   return tx.Commit();
class Transaction {
 public:
  static Result<Transaction> Begin(Store& store);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Commit();
  Status Rollback();
  // True until Commit or Rollback was called through this object.
  bool open() const { return store_ != nullptr; }

 private:
  Transaction(Store* store, std::uint64_t serial) : store_(store), serial_(serial) {}
  // True when the store's open transaction is still the one this object began.
  bool OwnsStoreTransaction() const;

  Store* store_;
  std::uint64_t serial_;
};

}  // namespace tapstack::store
