// StoreLedger: the ledger's rules over a SQL database (store::Store), one transaction per request.
//
// Written for PostgreSQL (the path for roles that keep their state in a database server, and the
// baseline of bench/ledger_vs_postgres); it runs unchanged on the SQLite store, which is how its
// tests run when no PostgreSQL server is available.
//
// Each request is one serialisable transaction: (1) prefetch every row the request can touch —
// its transfer ids, their remembered failures, pending transfers named by pending_id (and those
// named by existing posts/voids), every account involved — into a fresh StateMachine; (2) apply the
// request with the same StateMachine code as the in-memory Ledger, so results, precedence,
// linked chains and limits are identical by construction; (3) write back the changed accounts,
// the new and resolved transfers and the new failures with multi-row upserts, and the ledger's
// last timestamp. Durable when Commit returns (PostgreSQL: synchronous_commit on; SQLite:
// synchronous=FULL). Concurrent StoreLedgers on one database take turns: each write transaction
// first locks ledger_meta (PostgreSQL: LOCK TABLE … SHARE ROW EXCLUSIVE, before the snapshot is
// taken; SQLite: BEGIN IMMEDIATE), so they queue instead of failing serialisation; any conflict
// that remains is retried by Store::RunInTransaction.
//
// Holds do not expire by themselves: call ExpirePending periodically (a post or void after the
// expiry instant fails with pending_transfer_expired either way).
//
// Tables (in the store's schema): ledger_meta, ledger_accounts, ledger_transfers,
// ledger_transfer_failures. Ids are 16-byte big-endian BYTEA (so byte order is numeric order);
// u64 amounts and balances are stored as the BIGINT with the same bits (values ≥ 2^63 read as
// negative in SQL).
//
// Not thread-safe (a Store is one connection): use one StoreLedger per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "ledger/audit.h"
#include "ledger/state_machine.h"
#include "ledger/types.h"
#include "store/migration.h"
#include "store/store.h"

namespace tapstack::ledger {

struct StoreLedgerOptions {
  const Clock* clock = nullptr;  // nullptr = SystemClock::Instance(); must outlive the ledger
  // Rows per multi-row statement (ids per IN list, rows per INSERT); chunks are powers of two.
  // Capped at 466 (7000 parameters of 15-column rows: libpq refuses statements whose parameter
  // description exceeds 30 000 bytes).
  std::size_t rows_per_statement_max = 256;
  store::RetryPolicy retry;
  // Open applies StoreLedgerMigrations(). A role that keeps its own tables in the same store sets
  // this false and applies one list holding StoreLedgerMigrations() followed by its own (a store
  // has one schema_migrations table, so two separate lists would each refuse the other's
  // versions).
  bool apply_migrations = true;
};

// The schema as store::Migrations (applied by Open).
std::span<const store::Migration> StoreLedgerMigrations();

class StoreLedger {
 public:
  // Applies the migrations and returns a ledger over `store`, which must outlive it.
  static Result<std::unique_ptr<StoreLedger>> Open(store::Store& store,
                                                   const StoreLedgerOptions& options = {});

  // As Ledger: one result per event; the request is committed when OK is returned. Errors: those
  // of the store (kUnavailable: the outcome of a commit in flight is unknown — retry with the same
  // ids), kInvalidArgument for more than kBatchEventsMax events or a results span of the wrong
  // size.
  Status CreateAccounts(std::span<const Account> accounts, std::span<CreateAccountResult> results);
  Status CreateTransfers(std::span<const Transfer> transfers,
                         std::span<CreateTransferResult> results);
  Result<std::vector<CreateAccountResult>> CreateAccounts(std::span<const Account> accounts);
  Result<std::vector<CreateTransferResult>> CreateTransfers(std::span<const Transfer> transfers);

  // As CreateAccounts/CreateTransfers, but inside the caller's open transaction on `tx` (the
  // ledger's own store or another connection to the same database): same lock, prefetch, apply
  // and write, no Begin/Commit of its own. So a caller can write its own rows (a journal) and the
  // ledger's in ONE transaction, and they commit or roll back together: if the caller's
  // transaction rolls back, no account or transfer of the batch exists. `results` are valid once
  // the caller committed; a retry of the whole transaction must call this again (the ledger's
  // scratch state is reset each call). Per-event failures are results, not errors, and write
  // nothing but remembered transient failures, exactly as CreateTransfers.
  // Errors: kFailedPrecondition when `tx` has no open transaction; otherwise as CreateTransfers
  // (a store error aborts the caller's transaction).
  Status CreateAccountsInTransaction(store::Store& tx, std::span<const Account> accounts,
                                     std::span<CreateAccountResult> results);
  Status CreateTransfersInTransaction(store::Store& tx, std::span<const Transfer> transfers,
                                      std::span<CreateTransferResult> results);

  // Releases up to kExpireBatchMax holds that are due now. Returns how many.
  Result<std::uint64_t> ExpirePending();

  Result<std::optional<Account>> LookupAccount(Id128 id);
  Result<std::optional<TransferRecord>> LookupTransfer(Id128 id);
  Result<std::optional<CreateTransferResult>> LookupTransferFailure(Id128 id);

  // Loads every row (in creation order) into a StateMachine and runs ledger::Audit on it.
  Status Audit(AuditReport* report = nullptr);

 private:
  StoreLedger(store::Store& store, const StoreLedgerOptions& options);

  struct Prefetch;
  // The shared shape of CreateAccounts and CreateTransfers: checks the sizes, then in one
  // transaction (its own: RunBatch; the caller's: ApplyBatch directly) locks, loads what
  // `prefetch(Prefetch&)` names, applies the events with `apply(timestamp, local_results)` (false:
  // nothing changed, nothing to write) and writes the changes with
  // `write(store, timestamp, local_results)`; RunBatch copies the results out after the commit.
  template <typename Event, typename EventResult, typename PrefetchFn, typename ApplyFn, typename WriteFn>
  Status RunBatch(std::span<const Event> events, std::span<EventResult> results, PrefetchFn prefetch,
                  ApplyFn apply, WriteFn write);
  template <typename EventResult, typename PrefetchFn, typename ApplyFn, typename WriteFn>
  Status ApplyBatch(store::Store& store, std::span<EventResult> results, PrefetchFn& prefetch,
                    ApplyFn& apply, WriteFn& write);
  // The three steps of each kind of batch (shared by the own-transaction and caller-transaction
  // paths).
  Status AccountsBatch(store::Store* tx, std::span<const Account> accounts,
                       std::span<CreateAccountResult> results);
  Status TransfersBatch(store::Store* tx, std::span<const Transfer> transfers,
                        std::span<CreateTransferResult> results);
  Status Load(store::Store& store, Prefetch& prefetch);
  Status WriteBack(store::Store& store, std::span<const Id128> account_ids,
                   std::span<const Id128> transfer_ids, std::span<const TransferFailure> failures);
  std::uint64_t NowTimestamp() const;

  store::Store& store_;
  StoreLedgerOptions options_;
  const Clock* clock_;
  StateMachine state_;  // scratch: reset for every request
};

}  // namespace tapstack::ledger
