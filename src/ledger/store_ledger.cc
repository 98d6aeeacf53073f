#include "ledger/store_ledger.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <string>
#include <vector>

#include "ledger/limits.h"
#include "store/migration.h"

namespace tapstack::ledger {

namespace {

using store::Row;
using store::Rows;
using store::Store;
using store::Value;

constexpr std::int64_t kAuditPageRows = 10'000;
// Most parameters in one statement. libpq (15) drops the connection ("lost synchronization with
// server") when a prepared statement's ParameterDescription message exceeds 30 000 bytes, i.e.
// beyond about 7 500 parameters of 4 bytes each.
constexpr std::size_t kStatementParametersMax = 7000;

constexpr const char* kAccountColumns =
    "id, debits_pending, debits_posted, credits_pending, credits_posted, user_data_128, "
    "user_data_64, credit_limit, user_data_32, ledger, code, flags, ts";
constexpr std::size_t kAccountColumnCount = 13;
constexpr const char* kTransferColumns =
    "id, debit_account_id, credit_account_id, pending_id, user_data_128, amount, user_data_64, "
    "ts, user_data_32, timeout, ledger, code, flags, pending_state, expires_at";
constexpr std::size_t kTransferColumnCount = 15;

std::int64_t ToSql(std::uint64_t value) { return std::bit_cast<std::int64_t>(value); }
std::uint64_t FromSql(std::int64_t value) { return std::bit_cast<std::uint64_t>(value); }

// Ids as 16 bytes, most significant first, so BYTEA order is numeric order.
Bytes IdBytes(Id128 id) {
  Bytes out(16);
  for (int i = 0; i < 8; ++i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(id.high >> (56 - 8 * i));
    out[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(id.low >> (56 - 8 * i));
  }
  return out;
}

Result<Id128> IdFromBytes(const Bytes& bytes) {
  if (bytes.size() != 16)
    return Corruption("ledger id column holds " + std::to_string(bytes.size()) + " bytes, not 16");
  Id128 id;
  for (int i = 0; i < 8; ++i) {
    id.high = (id.high << 8) | bytes[static_cast<std::size_t>(i)];
    id.low = (id.low << 8) | bytes[static_cast<std::size_t>(8 + i)];
  }
  return id;
}

// Reads the row's columns in order.
class RowReader {
 public:
  explicit RowReader(const Row& row) : row_(row) {}
  Result<Id128> Id() {
    TS_ASSIGN_OR_RETURN(Bytes bytes, row_.GetBlob(next_++));
    return IdFromBytes(bytes);
  }
  Result<std::uint64_t> U64() {
    TS_ASSIGN_OR_RETURN(std::int64_t v, row_.GetInt64(next_++));
    return FromSql(v);
  }
  template <typename T>
  Result<T> Narrow() {
    TS_ASSIGN_OR_RETURN(std::int64_t v, row_.GetInt64(next_++));
    if (v < 0 || static_cast<std::uint64_t>(v) > std::uint64_t{static_cast<T>(~T{0})}) {
      return Corruption("ledger column " + std::to_string(next_ - 1) + " out of range");
    }
    return static_cast<T>(v);
  }
  void Skip() { ++next_; }

 private:
  const Row& row_;
  std::size_t next_ = 0;
};

Result<Account> AccountFromRow(const Row& row) {
  RowReader r(row);
  Account a;
  TS_ASSIGN_OR_RETURN(a.id, r.Id());
  TS_ASSIGN_OR_RETURN(a.debits_pending, r.U64());
  TS_ASSIGN_OR_RETURN(a.debits_posted, r.U64());
  TS_ASSIGN_OR_RETURN(a.credits_pending, r.U64());
  TS_ASSIGN_OR_RETURN(a.credits_posted, r.U64());
  TS_ASSIGN_OR_RETURN(a.user_data_128, r.Id());
  TS_ASSIGN_OR_RETURN(a.user_data_64, r.U64());
  TS_ASSIGN_OR_RETURN(a.credit_limit, r.U64());
  TS_ASSIGN_OR_RETURN(a.user_data_32, r.Narrow<std::uint32_t>());
  TS_ASSIGN_OR_RETURN(a.ledger, r.Narrow<std::uint32_t>());
  TS_ASSIGN_OR_RETURN(a.code, r.Narrow<std::uint16_t>());
  TS_ASSIGN_OR_RETURN(a.flags, r.Narrow<std::uint16_t>());
  TS_ASSIGN_OR_RETURN(a.timestamp, r.U64());
  return a;
}

void AppendAccount(const Account& a, std::vector<Value>& out) {
  out.emplace_back(IdBytes(a.id));
  out.emplace_back(ToSql(a.debits_pending));
  out.emplace_back(ToSql(a.debits_posted));
  out.emplace_back(ToSql(a.credits_pending));
  out.emplace_back(ToSql(a.credits_posted));
  out.emplace_back(IdBytes(a.user_data_128));
  out.emplace_back(ToSql(a.user_data_64));
  out.emplace_back(ToSql(a.credit_limit));
  out.emplace_back(std::int64_t{a.user_data_32});
  out.emplace_back(std::int64_t{a.ledger});
  out.emplace_back(std::int64_t{a.code});
  out.emplace_back(std::int64_t{a.flags});
  out.emplace_back(ToSql(a.timestamp));
}

Result<TransferRecord> TransferFromRow(const Row& row) {
  RowReader r(row);
  TransferRecord record;
  Transfer& t = record.transfer;
  TS_ASSIGN_OR_RETURN(t.id, r.Id());
  TS_ASSIGN_OR_RETURN(t.debit_account_id, r.Id());
  TS_ASSIGN_OR_RETURN(t.credit_account_id, r.Id());
  TS_ASSIGN_OR_RETURN(t.pending_id, r.Id());
  TS_ASSIGN_OR_RETURN(t.user_data_128, r.Id());
  TS_ASSIGN_OR_RETURN(t.amount, r.U64());
  TS_ASSIGN_OR_RETURN(t.user_data_64, r.U64());
  TS_ASSIGN_OR_RETURN(t.timestamp, r.U64());
  TS_ASSIGN_OR_RETURN(t.user_data_32, r.Narrow<std::uint32_t>());
  TS_ASSIGN_OR_RETURN(t.timeout, r.Narrow<std::uint32_t>());
  TS_ASSIGN_OR_RETURN(t.ledger, r.Narrow<std::uint32_t>());
  TS_ASSIGN_OR_RETURN(t.code, r.Narrow<std::uint16_t>());
  TS_ASSIGN_OR_RETURN(t.flags, r.Narrow<std::uint16_t>());
  TS_ASSIGN_OR_RETURN(const std::uint8_t state, r.Narrow<std::uint8_t>());
  if (state > static_cast<std::uint8_t>(PendingState::kExpired)) {
    return Corruption("ledger_transfers.pending_state out of range");
  }
  record.pending_state = static_cast<PendingState>(state);
  return record;
}

void AppendTransfer(const TransferRecord& record, std::vector<Value>& out) {
  const Transfer& t = record.transfer;
  out.emplace_back(IdBytes(t.id));
  out.emplace_back(IdBytes(t.debit_account_id));
  out.emplace_back(IdBytes(t.credit_account_id));
  out.emplace_back(IdBytes(t.pending_id));
  out.emplace_back(IdBytes(t.user_data_128));
  out.emplace_back(ToSql(t.amount));
  out.emplace_back(ToSql(t.user_data_64));
  out.emplace_back(ToSql(t.timestamp));
  out.emplace_back(std::int64_t{t.user_data_32});
  out.emplace_back(std::int64_t{t.timeout});
  out.emplace_back(std::int64_t{t.ledger});
  out.emplace_back(std::int64_t{t.code});
  out.emplace_back(std::int64_t{t.flags});
  out.emplace_back(static_cast<std::int64_t>(record.pending_state));
  if (record.pending_state != PendingState::kNone && t.timeout != 0) {
    out.emplace_back(ToSql(t.timestamp + std::uint64_t{t.timeout} * kNanosPerSecond));
  } else {
    out.emplace_back(nullptr);
  }
}

Result<TransferFailure> FailureFromRow(const Row& row) {
  RowReader r(row);
  TransferFailure failure;
  TS_ASSIGN_OR_RETURN(failure.id, r.Id());
  TS_ASSIGN_OR_RETURN(const std::uint32_t result, r.Narrow<std::uint32_t>());
  failure.result = static_cast<CreateTransferResult>(result);
  TS_ASSIGN_OR_RETURN(failure.timestamp, r.U64());
  return failure;
}

// "(?, ?, ?), (?, ?, ?)" for `rows` rows of `columns` placeholders.
std::string ValuesList(std::size_t rows, std::size_t columns) {
  std::string row = "(";
  for (std::size_t c = 0; c < columns; ++c) row += c == 0 ? "?" : ", ?";
  row += ")";
  std::string out;
  out.reserve(rows * (row.size() + 2));
  for (std::size_t i = 0; i < rows; ++i) {
    if (i != 0) out += ", ";
    out += row;
  }
  return out;
}

std::string Placeholders(std::size_t count) {
  std::string out;
  out.reserve(count * 3);
  for (std::size_t i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

// Splits `count` items into chunks whose sizes are powers of two ≤ `max`, so only a handful of
// distinct statements are prepared whatever the request size.
template <typename Fn>
Status ForEachChunk(std::size_t count, std::size_t max, const Fn& fn) {
  std::size_t cap = 1;
  while (cap * 2 <= std::max<std::size_t>(max, 1)) cap *= 2;
  std::size_t begin = 0;
  while (begin < count) {
    std::size_t size = cap;
    while (size > count - begin) size /= 2;
    TS_RETURN_IF_ERROR(fn(begin, size));
    begin += size;
  }
  return Status::Ok();
}

void SortUnique(std::vector<Id128>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

bool UsableId(Id128 id) { return !id.is_zero() && !id.is_max(); }

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> migrations = {
      {1, "create ledger tables",
       "CREATE TABLE ledger_meta (id BIGINT PRIMARY KEY, last_timestamp BIGINT NOT NULL);"
       "INSERT INTO ledger_meta (id, last_timestamp) VALUES (1, 0);"
       "CREATE TABLE ledger_accounts ("
       " id BYTEA PRIMARY KEY, debits_pending BIGINT NOT NULL, debits_posted BIGINT NOT NULL,"
       " credits_pending BIGINT NOT NULL, credits_posted BIGINT NOT NULL,"
       " user_data_128 BYTEA NOT NULL, user_data_64 BIGINT NOT NULL, credit_limit BIGINT NOT NULL,"
       " user_data_32 BIGINT NOT NULL, ledger BIGINT NOT NULL, code BIGINT NOT NULL,"
       " flags BIGINT NOT NULL, ts BIGINT NOT NULL);"
       "CREATE TABLE ledger_transfers ("
       " id BYTEA PRIMARY KEY, debit_account_id BYTEA NOT NULL, credit_account_id BYTEA NOT NULL,"
       " pending_id BYTEA NOT NULL, user_data_128 BYTEA NOT NULL, amount BIGINT NOT NULL,"
       " user_data_64 BIGINT NOT NULL, ts BIGINT NOT NULL, user_data_32 BIGINT NOT NULL,"
       " timeout BIGINT NOT NULL, ledger BIGINT NOT NULL, code BIGINT NOT NULL,"
       " flags BIGINT NOT NULL, pending_state BIGINT NOT NULL, expires_at BIGINT);"
       "CREATE INDEX ledger_transfers_by_ts ON ledger_transfers (ts);"
       "CREATE INDEX ledger_transfers_expiry ON ledger_transfers (expires_at)"
       " WHERE pending_state = 1;"
       "CREATE TABLE ledger_transfer_failures ("
       " id BYTEA PRIMARY KEY, result BIGINT NOT NULL, ts BIGINT NOT NULL);",
       "", ""},
  };
  return migrations;
}

}  // namespace

std::span<const store::Migration> StoreLedgerMigrations() { return Migrations(); }

struct StoreLedger::Prefetch {
  std::vector<Id128> account_ids;
  std::vector<Id128> transfer_ids;
  std::vector<Id128> failure_ids;
};

StoreLedger::StoreLedger(Store& store, const StoreLedgerOptions& options)
    : store_(store),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()) {
  options_.rows_per_statement_max = std::clamp<std::size_t>(
      options_.rows_per_statement_max, 1, kStatementParametersMax / kTransferColumnCount);
}

Result<std::unique_ptr<StoreLedger>> StoreLedger::Open(Store& store,
                                                       const StoreLedgerOptions& options) {
  if (options.apply_migrations) TS_RETURN_IF_ERROR(store::ApplyMigrations(store, Migrations()));
  return std::unique_ptr<StoreLedger>(new StoreLedger(store, options));
}

std::uint64_t StoreLedger::NowTimestamp() const {
  const std::int64_t millis = clock_->NowUnixMillis();
  return millis <= 0 ? 0 : static_cast<std::uint64_t>(millis) * 1'000'000;
}

namespace {

// Runs `SELECT <columns> FROM <table> WHERE id IN (…)` for `ids` in chunks, calling `on_row`.
template <typename OnRow>
Status SelectByIds(Store& store, const char* columns, const char* table, std::span<const Id128> ids,
                   std::size_t chunk_max, const OnRow& on_row) {
  std::vector<Value> params;
  return ForEachChunk(ids.size(), chunk_max, [&](std::size_t begin, std::size_t size) -> Status {
    params.clear();
    for (std::size_t i = begin; i < begin + size; ++i) params.emplace_back(IdBytes(ids[i]));
    const std::string sql = std::string("SELECT ") + columns + " FROM " + table + " WHERE id IN (" +
                            Placeholders(size) + ")";
    TS_ASSIGN_OR_RETURN(Rows rows, store.Query(sql, params));
    for (const Row& row : rows) TS_RETURN_IF_ERROR(on_row(row));
    return Status::Ok();
  });
}

// Queues writers on the ledger before the transaction's snapshot is taken. PostgreSQL freezes a
// SERIALIZABLE transaction's snapshot at its first SELECT or data-modifying statement, not at
// LOCK, so two StoreLedgers take turns here instead of both reading ledger_meta and one failing
// with a serialisation error at commit (which, retried in lock-step, can starve a writer).
// SQLite's BEGIN IMMEDIATE already took the database's write lock.
Status LockForWrite(Store& store) {
  if (store.dialect() != store::Dialect::kPostgres) return Status::Ok();
  return store.ExecuteScript("LOCK TABLE ledger_meta IN SHARE ROW EXCLUSIVE MODE");
}

Result<std::uint64_t> ReadLastTimestamp(Store& store) {
  TS_ASSIGN_OR_RETURN(Row row,
                      store.QueryRow("SELECT last_timestamp FROM ledger_meta WHERE id = 1"));
  TS_ASSIGN_OR_RETURN(std::int64_t last, row.GetInt64(0));
  return FromSql(last);
}

Status WriteLastTimestamp(Store& store, std::uint64_t timestamp) {
  return store.Execute("UPDATE ledger_meta SET last_timestamp = ? WHERE id = 1", {ToSql(timestamp)})
      .status();
}

Status CheckCallerTransaction(const Store& tx, std::size_t events, std::size_t results) {
  if (!tx.in_transaction()) {
    return FailedPrecondition("store ledger: the caller's store has no open transaction");
  }
  if (events > kBatchEventsMax) return InvalidArgument("too many events");
  if (events != results) return InvalidArgument("results must have one entry per event");
  return Status::Ok();
}

}  // namespace

Status StoreLedger::Load(Store& store, Prefetch& prefetch) {
  const std::size_t chunk = options_.rows_per_statement_max;
  SortUnique(prefetch.transfer_ids);
  std::vector<Id128> more_transfers;
  auto load_transfer = [&](const Row& row) -> Status {
    TS_ASSIGN_OR_RETURN(TransferRecord record, TransferFromRow(row));
    if (state_.FindTransfer(record.transfer.id).has_value()) return Status::Ok();
    state_.LoadTransfer(record.transfer, record.pending_state);
    prefetch.account_ids.push_back(record.transfer.debit_account_id);
    prefetch.account_ids.push_back(record.transfer.credit_account_id);
    if (UsableId(record.transfer.pending_id)) more_transfers.push_back(record.transfer.pending_id);
    return Status::Ok();
  };
  TS_RETURN_IF_ERROR(SelectByIds(store, kTransferColumns, "ledger_transfers", prefetch.transfer_ids,
                                 chunk, load_transfer));
  // The pending transfers named by existing posts/voids (for their `exists` comparison).
  std::vector<Id128> second;
  for (Id128 id : more_transfers) {
    if (!state_.FindTransfer(id).has_value()) second.push_back(id);
  }
  SortUnique(second);
  more_transfers.clear();
  TS_RETURN_IF_ERROR(
      SelectByIds(store, kTransferColumns, "ledger_transfers", second, chunk, load_transfer));

  SortUnique(prefetch.account_ids);
  TS_RETURN_IF_ERROR(SelectByIds(store, kAccountColumns, "ledger_accounts", prefetch.account_ids,
                                 chunk, [&](const Row& row) -> Status {
                                   TS_ASSIGN_OR_RETURN(Account account, AccountFromRow(row));
                                   state_.LoadAccount(account);
                                   return Status::Ok();
                                 }));
  SortUnique(prefetch.failure_ids);
  return SelectByIds(store, "id, result, ts", "ledger_transfer_failures", prefetch.failure_ids,
                     chunk, [&](const Row& row) -> Status {
                       TS_ASSIGN_OR_RETURN(TransferFailure failure, FailureFromRow(row));
                       state_.LoadFailure(failure);
                       return Status::Ok();
                     });
}

Status StoreLedger::WriteBack(Store& store, std::span<const Id128> account_ids,
                              std::span<const Id128> transfer_ids,
                              std::span<const TransferFailure> failures) {
  const std::size_t chunk = options_.rows_per_statement_max;
  std::vector<Value> params;
  TS_RETURN_IF_ERROR(
      ForEachChunk(account_ids.size(), chunk, [&](std::size_t begin, std::size_t size) -> Status {
        params.clear();
        for (std::size_t i = begin; i < begin + size; ++i) {
          const Account* account = state_.FindAccount(account_ids[i]);
          if (account == nullptr) return Internal("store ledger: changed account not in memory");
          AppendAccount(*account, params);
        }
        const std::string sql =
            std::string("INSERT INTO ledger_accounts (") + kAccountColumns + ") VALUES " +
            ValuesList(size, kAccountColumnCount) +
            " ON CONFLICT (id) DO UPDATE SET debits_pending = excluded.debits_pending,"
            " debits_posted = excluded.debits_posted, credits_pending = excluded.credits_pending,"
            " credits_posted = excluded.credits_posted";
        return store.Execute(sql, params).status();
      }));
  TS_RETURN_IF_ERROR(
      ForEachChunk(transfer_ids.size(), chunk, [&](std::size_t begin, std::size_t size) -> Status {
        params.clear();
        for (std::size_t i = begin; i < begin + size; ++i) {
          const std::optional<TransferRecord> record = state_.FindTransfer(transfer_ids[i]);
          if (!record.has_value()) return Internal("store ledger: changed transfer not in memory");
          AppendTransfer(*record, params);
        }
        const std::string sql =
            std::string("INSERT INTO ledger_transfers (") + kTransferColumns + ") VALUES " +
            ValuesList(size, kTransferColumnCount) +
            " ON CONFLICT (id) DO UPDATE SET pending_state = excluded.pending_state";
        return store.Execute(sql, params).status();
      }));
  return ForEachChunk(failures.size(), chunk, [&](std::size_t begin, std::size_t size) -> Status {
    params.clear();
    for (std::size_t i = begin; i < begin + size; ++i) {
      params.emplace_back(IdBytes(failures[i].id));
      params.emplace_back(static_cast<std::int64_t>(failures[i].result));
      params.emplace_back(ToSql(failures[i].timestamp));
    }
    const std::string sql =
        "INSERT INTO ledger_transfer_failures (id, result, ts) VALUES " + ValuesList(size, 3);
    return store.Execute(sql, params).status();
  });
}

template <typename EventResult, typename PrefetchFn, typename ApplyFn, typename WriteFn>
Status StoreLedger::ApplyBatch(Store& store, std::span<EventResult> results,
                               PrefetchFn& prefetch_ids, ApplyFn& apply, WriteFn& write) {
  state_.Reset();
  TS_RETURN_IF_ERROR(LockForWrite(store));
  TS_ASSIGN_OR_RETURN(const std::uint64_t last, ReadLastTimestamp(store));
  Prefetch prefetch;
  prefetch_ids(prefetch);
  TS_RETURN_IF_ERROR(Load(store, prefetch));
  state_.SetLastTimestamp(last);
  const std::uint64_t timestamp = std::max(NowTimestamp(), last + 1);
  if (!apply(timestamp, results)) return Status::Ok();
  TS_RETURN_IF_ERROR(write(store, timestamp, std::span<const EventResult>(results)));
  return WriteLastTimestamp(store, state_.last_timestamp());
}

template <typename Event, typename EventResult, typename PrefetchFn, typename ApplyFn, typename WriteFn>
Status StoreLedger::RunBatch(std::span<const Event> events, std::span<EventResult> results,
                             PrefetchFn prefetch_ids, ApplyFn apply, WriteFn write) {
  if (events.size() > kBatchEventsMax) return InvalidArgument("too many events");
  if (events.size() != results.size()) {
    return InvalidArgument("results must have one entry per event");
  }
  std::vector<EventResult> local(events.size());
  const Status committed = store_.RunInTransaction(
      [&](Store& store) -> Status {
        return ApplyBatch(store, std::span<EventResult>(local), prefetch_ids, apply, write);
      },
      options_.retry);
  if (!committed.ok()) return committed;
  std::copy(local.begin(), local.end(), results.begin());
  return Status::Ok();
}

Status StoreLedger::CreateAccounts(std::span<const Account> accounts,
                                   std::span<CreateAccountResult> results) {
  return AccountsBatch(nullptr, accounts, results);
}

Status StoreLedger::CreateTransfers(std::span<const Transfer> transfers,
                                    std::span<CreateTransferResult> results) {
  return TransfersBatch(nullptr, transfers, results);
}

Status StoreLedger::CreateAccountsInTransaction(Store& tx, std::span<const Account> accounts,
                                                std::span<CreateAccountResult> results) {
  return AccountsBatch(&tx, accounts, results);
}

Status StoreLedger::CreateTransfersInTransaction(Store& tx, std::span<const Transfer> transfers,
                                                 std::span<CreateTransferResult> results) {
  return TransfersBatch(&tx, transfers, results);
}

Status StoreLedger::AccountsBatch(Store* tx, std::span<const Account> accounts,
                                  std::span<CreateAccountResult> results) {
  auto prefetch = [&](Prefetch& ids) {
    for (const Account& a : accounts) {
      if (UsableId(a.id)) ids.account_ids.push_back(a.id);
    }
  };
  auto apply = [&](std::uint64_t timestamp, std::span<CreateAccountResult> local) {
    return state_.CreateAccounts(accounts, timestamp, local);
  };
  auto write = [&](Store& store, std::uint64_t,
                   std::span<const CreateAccountResult> local) -> Status {
    std::vector<Id128> created;
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      if (local[i] == CreateAccountResult::kOk) created.push_back(accounts[i].id);
    }
    return WriteBack(store, created, {}, {});
  };
  if (tx == nullptr) return RunBatch(accounts, results, prefetch, apply, write);
  TS_RETURN_IF_ERROR(CheckCallerTransaction(*tx, accounts.size(), results.size()));
  return ApplyBatch(*tx, results, prefetch, apply, write);
}

Status StoreLedger::TransfersBatch(Store* tx, std::span<const Transfer> transfers,
                                   std::span<CreateTransferResult> results) {
  auto prefetch = [&](Prefetch& ids) {
    for (const Transfer& t : transfers) {
      if (!UsableId(t.id)) continue;
      ids.transfer_ids.push_back(t.id);
      ids.failure_ids.push_back(t.id);
      if (UsableId(t.pending_id)) ids.transfer_ids.push_back(t.pending_id);
      if (UsableId(t.debit_account_id)) ids.account_ids.push_back(t.debit_account_id);
      if (UsableId(t.credit_account_id)) ids.account_ids.push_back(t.credit_account_id);
    }
  };
  auto apply = [&](std::uint64_t timestamp, std::span<CreateTransferResult> local) {
    return state_.CreateTransfers(transfers, timestamp, local);
  };
  auto write = [&](Store& store, std::uint64_t timestamp,
                   std::span<const CreateTransferResult> local) -> Status {
    std::vector<Id128> accounts_changed;
    std::vector<Id128> transfers_changed;
    std::vector<TransferFailure> failures;
    for (std::size_t i = 0; i < transfers.size(); ++i) {
      const Transfer& t = transfers[i];
      if (local[i] == CreateTransferResult::kOk) {
        const std::optional<TransferRecord> record = state_.FindTransfer(t.id);
        if (!record.has_value()) return Internal("store ledger: created transfer missing");
        transfers_changed.push_back(t.id);
        if (UsableId(t.pending_id)) transfers_changed.push_back(t.pending_id);
        accounts_changed.push_back(record->transfer.debit_account_id);
        accounts_changed.push_back(record->transfer.credit_account_id);
      } else if (IsTransientFailure(local[i])) {
        failures.push_back(TransferFailure{t.id, local[i], timestamp + i});
      }
    }
    SortUnique(accounts_changed);
    SortUnique(transfers_changed);
    return WriteBack(store, accounts_changed, transfers_changed, failures);
  };
  if (tx == nullptr) return RunBatch(transfers, results, prefetch, apply, write);
  TS_RETURN_IF_ERROR(CheckCallerTransaction(*tx, transfers.size(), results.size()));
  return ApplyBatch(*tx, results, prefetch, apply, write);
}

Result<std::vector<CreateAccountResult>> StoreLedger::CreateAccounts(
    std::span<const Account> accounts) {
  std::vector<CreateAccountResult> results(accounts.size());
  TS_RETURN_IF_ERROR(CreateAccounts(accounts, results));
  return results;
}

Result<std::vector<CreateTransferResult>> StoreLedger::CreateTransfers(
    std::span<const Transfer> transfers) {
  std::vector<CreateTransferResult> results(transfers.size());
  TS_RETURN_IF_ERROR(CreateTransfers(transfers, results));
  return results;
}

Result<std::uint64_t> StoreLedger::ExpirePending() {
  std::uint64_t expired = 0;
  const Status committed = store_.RunInTransaction(
      [&](Store& store) -> Status {
        state_.Reset();
        expired = 0;
        TS_RETURN_IF_ERROR(LockForWrite(store));
        TS_ASSIGN_OR_RETURN(const std::uint64_t last, ReadLastTimestamp(store));
        const std::uint64_t timestamp = std::max(NowTimestamp(), last + 1);
        TS_ASSIGN_OR_RETURN(
            Rows rows,
            store.Query(std::string("SELECT ") + kTransferColumns +
                            " FROM ledger_transfers WHERE pending_state = 1 AND expires_at <= ?"
                            " ORDER BY expires_at, ts LIMIT ?",
                        {ToSql(timestamp), static_cast<std::int64_t>(kExpireBatchMax)}));
        Prefetch prefetch;
        std::vector<Id128> due;
        for (const Row& row : rows) {
          TS_ASSIGN_OR_RETURN(TransferRecord record, TransferFromRow(row));
          state_.LoadTransfer(record.transfer, record.pending_state);
          due.push_back(record.transfer.id);
          prefetch.account_ids.push_back(record.transfer.debit_account_id);
          prefetch.account_ids.push_back(record.transfer.credit_account_id);
        }
        TS_RETURN_IF_ERROR(Load(store, prefetch));
        state_.SetLastTimestamp(last);
        expired = state_.ExpirePending(timestamp, kExpireBatchMax);
        if (expired == 0) return Status::Ok();
        SortUnique(prefetch.account_ids);
        SortUnique(due);
        TS_RETURN_IF_ERROR(WriteBack(store, prefetch.account_ids, due, {}));
        return WriteLastTimestamp(store, state_.last_timestamp());
      },
      options_.retry);
  if (!committed.ok()) return committed;
  return expired;
}

Result<std::optional<Account>> StoreLedger::LookupAccount(Id128 id) {
  TS_ASSIGN_OR_RETURN(Rows rows, store_.Query(std::string("SELECT ") + kAccountColumns +
                                                  " FROM ledger_accounts WHERE id = ?",
                                              {Value(IdBytes(id))}));
  if (rows.empty()) return std::optional<Account>();
  TS_ASSIGN_OR_RETURN(Account account, AccountFromRow(rows[0]));
  return std::optional<Account>(account);
}

Result<std::optional<TransferRecord>> StoreLedger::LookupTransfer(Id128 id) {
  TS_ASSIGN_OR_RETURN(Rows rows, store_.Query(std::string("SELECT ") + kTransferColumns +
                                                  " FROM ledger_transfers WHERE id = ?",
                                              {Value(IdBytes(id))}));
  if (rows.empty()) return std::optional<TransferRecord>();
  TS_ASSIGN_OR_RETURN(TransferRecord record, TransferFromRow(rows[0]));
  return std::optional<TransferRecord>(record);
}

Result<std::optional<CreateTransferResult>> StoreLedger::LookupTransferFailure(Id128 id) {
  TS_ASSIGN_OR_RETURN(
      Rows rows, store_.Query("SELECT id, result, ts FROM ledger_transfer_failures WHERE id = ?",
                              {Value(IdBytes(id))}));
  if (rows.empty()) return std::optional<CreateTransferResult>();
  TS_ASSIGN_OR_RETURN(TransferFailure failure, FailureFromRow(rows[0]));
  return std::optional<CreateTransferResult>(failure.result);
}

Status StoreLedger::Audit(AuditReport* report) {
  state_.Reset();
  // Pages in creation (timestamp) order, so the state machine holds records as the ledger made
  // them.
  auto page = [&](const std::string& select, const auto& on_row) -> Status {
    std::int64_t after = std::numeric_limits<std::int64_t>::min();
    for (;;) {
      TS_ASSIGN_OR_RETURN(Rows rows, store_.Query(select + " WHERE ts > ? ORDER BY ts LIMIT ?",
                                                  {after, kAuditPageRows}));
      for (const Row& row : rows) {
        TS_RETURN_IF_ERROR(on_row(row));
        TS_ASSIGN_OR_RETURN(after, row.GetInt64("ts"));
      }
      if (rows.size() < static_cast<std::size_t>(kAuditPageRows)) return Status::Ok();
    }
  };
  TS_RETURN_IF_ERROR(page(std::string("SELECT ") + kAccountColumns + " FROM ledger_accounts",
                          [&](const Row& row) -> Status {
                            TS_ASSIGN_OR_RETURN(Account account, AccountFromRow(row));
                            state_.LoadAccount(account);
                            return Status::Ok();
                          }));
  TS_RETURN_IF_ERROR(page(std::string("SELECT ") + kTransferColumns + " FROM ledger_transfers",
                          [&](const Row& row) -> Status {
                            TS_ASSIGN_OR_RETURN(TransferRecord record, TransferFromRow(row));
                            state_.LoadTransfer(record.transfer, record.pending_state);
                            return Status::Ok();
                          }));
  TS_RETURN_IF_ERROR(
      page("SELECT id, result, ts FROM ledger_transfer_failures", [&](const Row& row) -> Status {
        TS_ASSIGN_OR_RETURN(TransferFailure failure, FailureFromRow(row));
        state_.LoadFailure(failure);
        return Status::Ok();
      }));
  TS_ASSIGN_OR_RETURN(const std::uint64_t last, ReadLastTimestamp(store_));
  state_.SetLastTimestamp(last);
  const Status status = ledger::Audit(state_, report);
  state_.Reset();
  return status;
}

}  // namespace tapstack::ledger
