// Ledger: durable double-entry accounts and transfers (TigerBeetle's model) in one process.
//
//   LedgerOptions options;
//   options.data_dir = "/var/lib/tapstack";
//   TS_ASSIGN_OR_RETURN(auto ledger, Ledger::Open(options));
//   TS_ASSIGN_OR_RETURN(auto results, ledger->CreateTransfers(transfers));  // durable on return
//
// The rules (results, precedence, linked chains, two-phase transfers, limits, expiry) are those of
// ledger/state_machine.h; the data model is ledger/types.h; the file format is
// ledger/write_ahead_log.h. This header is about durability, concurrency and errors.
//
// ## Design
// The state lives in memory (hash indexes over records in creation order) and has one writer, a
// committer thread, which applies requests in arrival order. Requests are inputs to a
// deterministic state machine, so the log records the requests themselves; opening the ledger
// replays the log (checking each request's results against a digest stored with it).
// Group commit: while a syncer thread writes and fdatasyncs one group, the committer applies the
// requests that arrive meanwhile into the next group (up to group_bytes_max); so concurrent
// callers share one write and one sync, and applying overlaps the disk wait. At most one group is
// unsynced at any time, which is what lets recovery tell a torn tail from corruption.
// There are no snapshots: Open replays the whole log (measured about 1.1 million transfers/s on
// the 2-core development machine, so 16 million transfers take some 15 s); log_bytes_max,
// accounts_max and transfers_max bound the log, the memory (about 150 bytes per transfer) and so
// the replay time.
//
// ## Durability contract
// CreateAccounts/CreateTransfers/ExpirePending return only after the request — and every request
// whose effects it could have observed — is on disk (fdatasync returned). After a crash (kill -9,
// power loss) Open recovers every request that returned OK, and possibly some that were in flight
// (their callers never got an answer; retrying with the same ids returns `exists`). Look-ups and
// Audit likewise never show effects that are not yet durable: they wait for the group holding the
// latest change they read.
// A failed write or sync is sticky: the in-memory state may be ahead of the disk, so every later
// call (including look-ups) fails with that kIoError until the ledger is closed and reopened
// (LevelDB's rule). A kIoError from Create* means the outcome is UNKNOWN, not "failed": reopen and
// look the ids up (LookupTransfer / LookupTransferFailure) or retry with the same ids.
//
// ## Thread-safety
// Every method may be called from any number of threads at once. Calls from different threads are
// ordered by arrival at the committer; calls from one thread are applied in call order. Close()
// must not race with other calls on the same object (the destructor closes).
//
// ## Errors of Create* (the Status; per-event outcomes are in the results)
//   kInvalidArgument    more than kBatchEventsMax events; results span of the wrong size
//   kOutOfRange         accounts_max / transfers_max reached, or the log reached log_bytes_max;
//                       the request was not applied at all
//   kFailedPrecondition the ledger is closed or read-only
//   kIoError            the write or sync failed (sticky; outcome unknown, see above)
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "ledger/audit.h"
#include "ledger/limits.h"
#include "ledger/log_file.h"
#include "ledger/state_machine.h"
#include "ledger/types.h"
#include "ledger/write_ahead_log.h"

namespace tapstack::ledger {

struct LedgerOptions {
  // The log is <data_dir>/<name>.wal; data_dir is created when missing (read-write opens).
  std::filesystem::path data_dir;
  // 1 to 63 characters of a-z, 0-9 and _, starting with a letter.
  std::string name = "ledger";
  // The ledger's clock, for timestamps and hold expiry; nullptr = SystemClock::Instance(). Must
  // outlive the ledger.
  const Clock* clock = nullptr;
  // Read-only: replays the log and serves look-ups and Audit; Create* fail. Takes a shared lock,
  // so it is refused while a read-write process has the ledger open. A torn tail is reported
  // (recovery().torn_tail) but left alone.
  bool read_only = false;
  // What a read-write open does with a damaged last group (see write_ahead_log.h). Default: drop
  // it (it was never acknowledged) and report it in recovery().
  TornTail torn_tail = TornTail::kTruncate;
  std::uint64_t accounts_max = kAccountsMaxDefault;
  std::uint64_t transfers_max = kTransfersMaxDefault;  // transfers + remembered failures
  // Most bytes per group commit; raised to GroupEncoder::kGroupBytesMin (one full batch) if lower.
  std::size_t group_bytes_max = kGroupBytesMaxDefault;
  std::uint64_t log_preallocate_bytes = kLogPreallocateBytesDefault;
  std::uint64_t log_bytes_max = kLogBytesMaxDefault;
  // The committer sweeps expired holds at the start of a group and at least this often when idle;
  // 0 = never automatically (call ExpirePending; tests do, for determinism).
  std::int64_t expire_pending_interval_ms = kExpirePendingIntervalMsDefault;
  // How the log file is opened; empty = OpenPosixLogFile. Tests inject faults here.
  LogFileOpener open_file;
};

// Counters since Open, for benchmarks and metrics.
struct LedgerStats {
  std::uint64_t requests = 0;        // Create*/ExpirePending calls completed
  std::uint64_t groups_synced = 0;   // write + fdatasync pairs
  std::uint64_t batches_logged = 0;  // requests that changed state and were logged
  std::uint64_t bytes_logged = 0;
  std::uint64_t holds_expired = 0;
};

class Ledger {
 public:
  // Opens (creating when missing) and replays the log, then starts the committer and syncer
  // threads. Errors: kInvalidArgument (options), kFailedPrecondition (open in another process),
  // kCorruption (see write_ahead_log.h), kInternal (replay diverged from the logged results),
  // kOutOfRange (the log holds more than accounts_max/transfers_max), kIoError, kNotFound
  // (read-only and no ledger).
  static Result<std::unique_ptr<Ledger>> Open(const LedgerOptions& options);

  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Completes every queued request, stops the threads and closes the file. Returns the sticky
  // failure if there was one. Later calls fail with kFailedPrecondition.
  Status Close();

  // One result per event, in `results` (same size as the events). Durable when OK is returned.
  Status CreateAccounts(std::span<const Account> accounts, std::span<CreateAccountResult> results);
  Status CreateTransfers(std::span<const Transfer> transfers,
                         std::span<CreateTransferResult> results);
  Result<std::vector<CreateAccountResult>> CreateAccounts(std::span<const Account> accounts);
  Result<std::vector<CreateTransferResult>> CreateTransfers(std::span<const Transfer> transfers);

  // Releases the holds that are due at the ledger's clock now (at most kExpireBatchMax per call),
  // durably. Returns how many expired.
  Result<std::uint64_t> ExpirePending();

  // Look-ups; nullopt when the id does not exist (never a non-durable effect, see above).
  Result<std::optional<Account>> LookupAccount(Id128 id);
  Result<std::optional<TransferRecord>> LookupTransfer(Id128 id);
  // The remembered transient failure of a transfer id, if any ("did my transfer fail?").
  Result<std::optional<CreateTransferResult>> LookupTransferFailure(Id128 id);

  // Runs ledger::Audit over the whole state (see ledger/audit.h). With verify_log, also re-reads
  // the log up to its durable end into a fresh state machine and requires the same state digest
  // (the same numbers reached from disk). Writes pause while it runs.
  Status Audit(AuditReport* report = nullptr, bool verify_log = false);

  // What Open found in the log.
  const RecoveryReport& recovery() const;
  LedgerStats stats() const;
  // The sticky failure (see "Durability contract"): OK while every write and sync succeeded, else
  // the kIoError every call now returns until the ledger is reopened.
  Status failure() const;
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// <data_dir>/<name>.wal
std::filesystem::path LedgerLogPath(const std::filesystem::path& data_dir, std::string_view name);

}  // namespace tapstack::ledger
