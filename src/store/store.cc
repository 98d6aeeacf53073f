#include "store/store.h"

#include <algorithm>
#include <chrono>

namespace tapstack::store {

namespace {

constexpr std::size_t kSqlShownMax = 120;  // characters of SQL quoted in error messages

std::string ShortSql(std::string_view sql) {
  std::string s(sql.substr(0, kSqlShownMax));
  if (sql.size() > kSqlShownMax) s += "...";
  return s;
}

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF) without NUL characters, which is what PostgreSQL accepts as text.
bool IsStorableText(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2, min = 0x80, cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min = 0x800, cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min = 0x10000, cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

// Checks what both databases must refuse alike, before either sees it.
Status CheckParams(std::span<const Value> params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].type() == Value::Type::kText && !IsStorableText(params[i].text())) {
      return InvalidArgument("parameter " + std::to_string(i + 1) +
                             ": text is not valid UTF-8 or contains NUL (store bytes as a blob)");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view DialectName(Dialect dialect) {
  switch (dialect) {
    case Dialect::kSqlite:
      return "sqlite";
    case Dialect::kPostgres:
      return "postgres";
  }
  return "unknown";
}

Status CheckRoleName(std::string_view role) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("role name '" + std::string(role.substr(0, kRoleNameBytesMax + 1)) +
                           "' " + std::string(why) +
                           " (1 to 63 of a-z, 0-9 and _, starting with a letter)");
  };
  if (role.empty() || role.size() > kRoleNameBytesMax) return bad("has a bad length");
  if (role[0] < 'a' || role[0] > 'z') return bad("does not start with a letter");
  for (char c : role) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return bad("has a character outside a-z, 0-9 and _");
    }
  }
  return Status::Ok();
}

// Admits one thread at a time into a Store. The thread that opened a transaction keeps the Store
// until the transaction ends; nested calls by that thread (e.g. from RunInTransaction's function)
// are admitted.
class Store::CallGuard {
 public:
  explicit CallGuard(Store& store) : store_(store) {
    const std::thread::id me = std::this_thread::get_id();
    std::thread::id expected{};
    if (store_.user_.compare_exchange_strong(expected, me)) {
      store_.call_depth_ = 1;
      admitted_ = true;
    } else if (expected == me) {
      ++store_.call_depth_;
      admitted_ = true;
    }
  }
  ~CallGuard() {
    if (!admitted_) return;
    if (--store_.call_depth_ == 0 && store_.tx_state_ == TxState::kNone) {
      store_.user_.store(std::thread::id{});
    }
  }
  CallGuard(const CallGuard&) = delete;
  CallGuard& operator=(const CallGuard&) = delete;

  Status status() const {
    if (admitted_) return Status::Ok();
    return FailedPrecondition(
        "store is in use by another thread (a call or a transaction is in progress); a Store is "
        "not thread-safe: open one per thread");
  }

 private:
  Store& store_;
  bool admitted_ = false;
};

void Store::MarkUnusable(const Status& cause) {
  if (unusable_.ok() && !cause.ok()) unusable_ = cause;
}

Status Store::CheckUsable() const {
  if (closed_) return FailedPrecondition("store is closed: " + description_);
  if (!unusable_.ok()) {
    return Status(unusable_.code(),
                  "store is unusable after an earlier failure (close and reopen "
                  "it): " +
                      unusable_.message());
  }
  return Status::Ok();
}

Status Store::Fail(Status status) {
  if (tx_state_ == TxState::kActive) {
    tx_state_ = TxState::kAborted;
    tx_error_ = status;
  }
  return status;
}

Result<std::int64_t> Store::RunLocked(std::string_view sql, std::span<const Value> params,
                                      Rows* rows) {
  TS_RETURN_IF_ERROR(CheckUsable());
  if (tx_state_ == TxState::kAborted) {
    return FailedPrecondition("transaction was aborted by an earlier error; roll it back (" +
                              tx_error_.ToString() + ")");
  }
  if (Status checked = CheckParams(params); !checked.ok()) {
    return Fail(checked.WithContext(ShortSql(sql)));
  }
  Result<std::int64_t> affected = DoRun(sql, params, rows);
  if (!affected.ok()) return Fail(affected.status().WithContext(ShortSql(sql)));
  return affected;
}

Status Store::Close() {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  if (closed_) return Status::Ok();
  if (tx_state_ != TxState::kNone) {
    (void)DoRollback();  // closing the connection discards the transaction anyway
    tx_state_ = TxState::kNone;
  }
  Status s = DoClose();
  closed_ = true;
  return s;
}

Result<Statement> Store::Prepare(std::string_view sql) {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  TS_RETURN_IF_ERROR(CheckUsable());
  if (tx_state_ == TxState::kAborted) {
    return FailedPrecondition("transaction was aborted by an earlier error; roll it back (" +
                              tx_error_.ToString() + ")");
  }
  Result<int> count = DoPrepare(sql);
  if (!count.ok()) return Fail(count.status().WithContext(ShortSql(sql)));
  return Statement(this, std::string(sql), *count);
}

Result<std::int64_t> Store::Execute(std::string_view sql, std::initializer_list<Value> params) {
  return Execute(sql, std::span<const Value>(params.begin(), params.size()));
}

Result<std::int64_t> Store::Execute(std::string_view sql, std::span<const Value> params) {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  return RunLocked(sql, params, nullptr);
}

Result<Rows> Store::Query(std::string_view sql, std::initializer_list<Value> params) {
  return Query(sql, std::span<const Value>(params.begin(), params.size()));
}

Result<Rows> Store::Query(std::string_view sql, std::span<const Value> params) {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  Rows rows;
  TS_RETURN_IF_ERROR(RunLocked(sql, params, &rows).status());
  return rows;
}

Result<Row> Store::QueryRow(std::string_view sql, std::initializer_list<Value> params) {
  return QueryRow(sql, std::span<const Value>(params.begin(), params.size()));
}

Result<Row> Store::QueryRow(std::string_view sql, std::span<const Value> params) {
  TS_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  if (rows.empty()) return NotFound("query returned no row: " + ShortSql(sql));
  return rows[0];
}

Status Store::ExecuteScript(std::string_view sql) {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  TS_RETURN_IF_ERROR(CheckUsable());
  if (tx_state_ == TxState::kAborted) {
    return FailedPrecondition("transaction was aborted by an earlier error; roll it back (" +
                              tx_error_.ToString() + ")");
  }
  Status s = DoExecuteScript(sql);
  if (!s.ok()) return Fail(s.WithContext(ShortSql(sql)));
  return s;
}

Status Store::Begin() {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  TS_RETURN_IF_ERROR(CheckUsable());
  if (tx_state_ != TxState::kNone) {
    return FailedPrecondition("Begin: a transaction is already open (transactions do not nest)");
  }
  TS_RETURN_IF_ERROR(DoBegin().WithContext("Begin"));
  tx_state_ = TxState::kActive;
  tx_error_ = Status::Ok();
  ++tx_serial_;
  return Status::Ok();
}

Status Store::Commit() {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  if (tx_state_ == TxState::kNone) return FailedPrecondition("Commit: no transaction is open");
  if (Status usable = CheckUsable(); !usable.ok()) {
    (void)RollbackLocked();
    return usable;
  }
  if (tx_state_ == TxState::kAborted) {
    Status first = tx_error_;
    (void)RollbackLocked();
    return FailedPrecondition(
        "Commit: the transaction was aborted by an earlier error and has been rolled back (" +
        first.ToString() + ")");
  }
  Status s = DoCommit();
  tx_state_ = TxState::kNone;
  if (!s.ok()) return s.WithContext("Commit");
  ++stats_.transactions_committed;
  return s;
}

Status Store::RollbackLocked() {
  Status s = closed_ ? Status::Ok() : DoRollback();
  tx_state_ = TxState::kNone;
  tx_error_ = Status::Ok();
  return s;
}

Status Store::Rollback() {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  if (tx_state_ == TxState::kNone) return FailedPrecondition("Rollback: no transaction is open");
  return RollbackLocked().WithContext("Rollback");
}

Status Store::AttemptTransaction(const std::function<Status(Store&)>& fn) {
  TS_RETURN_IF_ERROR(Begin());
  Status s = fn(*this);
  if (s.ok()) return Commit();
  if (tx_state_ != TxState::kNone) (void)RollbackLocked();
  return s;
}

Status Store::RunInTransaction(const std::function<Status(Store&)>& fn, const RetryPolicy& policy) {
  CallGuard guard(*this);
  TS_RETURN_IF_ERROR(guard.status());
  TS_RETURN_IF_ERROR(CheckUsable());
  if (tx_state_ != TxState::kNone) {
    return FailedPrecondition("RunInTransaction: a transaction is already open");
  }
  const int attempts_max = std::clamp(policy.attempts_max, 1, kTransactionAttemptsMax);
  for (int attempt = 1;; ++attempt) {
    conflict_ = false;
    Status s = AttemptTransaction(fn);
    if (s.ok() || !conflict_) return s;
    if (attempt >= attempts_max) {
      return s.WithContext("RunInTransaction: still conflicting after " + std::to_string(attempt) +
                           " attempts");
    }
    ++stats_.transaction_retries;
    if (policy.on_retry) policy.on_retry(attempt, s);
    if (policy.backoff_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(policy.backoff_ms) * attempt);
    }
  }
}

Result<std::int64_t> Statement::Execute(std::initializer_list<Value> params) const {
  return store_->Execute(sql_, std::span<const Value>(params.begin(), params.size()));
}
Result<std::int64_t> Statement::Execute(std::span<const Value> params) const {
  return store_->Execute(sql_, params);
}
Result<Rows> Statement::Query(std::initializer_list<Value> params) const {
  return store_->Query(sql_, std::span<const Value>(params.begin(), params.size()));
}
Result<Rows> Statement::Query(std::span<const Value> params) const {
  return store_->Query(sql_, params);
}

Result<Transaction> Transaction::Begin(Store& store) {
  TS_RETURN_IF_ERROR(store.Begin());
  return Transaction(&store, store.tx_serial_);
}

Transaction::Transaction(Transaction&& other) noexcept
    : store_(other.store_), serial_(other.serial_) {
  other.store_ = nullptr;
}

Transaction::~Transaction() {
  if (OwnsStoreTransaction()) (void)store_->Rollback();
}

bool Transaction::OwnsStoreTransaction() const {
  return store_ != nullptr && store_->tx_state_ != Store::TxState::kNone &&
         store_->tx_serial_ == serial_;
}

Status Transaction::Commit() {
  if (store_ == nullptr) return FailedPrecondition("Transaction: already committed or rolled back");
  const bool owns = OwnsStoreTransaction();
  Store* store = store_;
  store_ = nullptr;
  if (!owns) return FailedPrecondition("Transaction: the store's transaction was ended elsewhere");
  return store->Commit();
}

Status Transaction::Rollback() {
  if (store_ == nullptr) return FailedPrecondition("Transaction: already committed or rolled back");
  const bool owns = OwnsStoreTransaction();
  Store* store = store_;
  store_ = nullptr;
  if (!owns) return FailedPrecondition("Transaction: the store's transaction was ended elsewhere");
  return store->Rollback();
}

}  // namespace tapstack::store
