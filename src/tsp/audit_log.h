// AuditLog: the TSP's append-only, hash-chained audit trail (PCI DSS 10.2.1/10.2.2: every access
// to cardholder data and every key operation, with who, what, when and on which object).
//
// Entry n holds seq n (1, 2, …), time, actor, action, subject, detail, prev_hash (entry n-1's hash;
// 32 zero bytes for entry 1) and
//   hash = SHA-256(prev_hash ‖ canonical(entry))
//   canonical(entry) = "TSPAUDIT1" ‖ seq (8 bytes BE) ‖ time_unix_ms (8 bytes BE, two's complement)
//                      ‖ for actor, action, subject, detail: length (4 bytes BE) ‖ UTF-8 bytes
// Length prefixes make the encoding injective, so no two different entries share a canonical form.
// A row changed, inserted or deleted behind the log's back breaks the chain at that row; the head
// row (last seq and hash) catches a truncated tail. An attacker who can rewrite the whole chain and
// the head is out of scope: anchor Head() outside the database (a later issue) for that.
//
// No PAN ever goes into the log: the subject is a token id, and every field containing a run of
// more than kAuditDigitRunMax digits (a possible PAN or token number) is refused.
//
// Thread-safety: like its Store, one thread at a time. Several AuditLogs on different connections
// (or processes) append safely: the chain is a serialisation point, so appending transactions take
// turns. On SQLite BEGIN IMMEDIATE already serialises writers. On PostgreSQL (SERIALIZABLE) a
// transaction that first read and then updates the hot head row fails with a serialisation error
// whenever another appender committed meanwhile, and a busy writer (a re-encryption thread) can
// make a reader lose every retry; so appending transactions call LockChainInTransaction() first,
// which takes a table lock before the transaction's snapshot exists (PostgreSQL docs, LOCK:
// "execute LOCK TABLE before executing any SELECT or data modification statement") and makes
// appenders queue instead of fail. Throughput of audited operations is therefore one commit at a
// time per database; sharding the chain is a later step.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace tapstack::tsp {

// What happened; the log adds seq, time and the hashes.
struct AuditEvent {
  std::string actor;    // who: "network:switch-1", "wallet:40012345678", "tsp:key-rotation"
  std::string action;   // what: lower-case [a-z0-9_], e.g. "detokenize", "rotate_data_key"
  std::string subject;  // on which object: a token id or key version, never a PAN; may be empty
  std::string detail;   // outcome and parameters, e.g. "result=ok purpose=authorisation"
};

struct AuditEntry {
  std::int64_t seq = 0;
  std::int64_t time_unix_ms = 0;
  AuditEvent event;
  Bytes prev_hash;  // 32 bytes
  Bytes hash;       // 32 bytes
};

// The chain's newest entry (seq 0 and a zero hash for an empty log).
struct AuditHead {
  std::int64_t seq = 0;
  Bytes hash;
};

// Result of Verify().
struct AuditVerification {
  bool intact = true;
  std::int64_t entries_checked = 0;
  // When not intact: the first seq whose link does not hold (for a truncated tail, the first
  // missing seq), and what is wrong with it.
  std::optional<std::int64_t> first_broken_seq;
  std::string problem;
};

inline constexpr std::size_t kAuditHashBytes = 32;

// The canonical bytes and the hash of an entry (exposed for tests and external verifiers).
Bytes CanonicalAuditEntry(std::int64_t seq, std::int64_t time_unix_ms, const AuditEvent& event);
Result<Bytes> AuditEntryHash(ByteView prev_hash, std::int64_t seq, std::int64_t time_unix_ms,
                             const AuditEvent& event);

// Checks an event's fields: non-empty actor and action, action in [a-z0-9_], lengths within
// kAudit*BytesMax, printable ASCII, no digit run longer than kAuditDigitRunMax. Errors:
// kInvalidArgument naming the field.
Status ValidateAuditEvent(const AuditEvent& event);

class AuditLog {
 public:
  // Applies the TSP schema (schema.h) and creates the head row if missing. `store` and `clock`
  // are not owned and must outlive the log. Errors: the store's.
  static Result<std::unique_ptr<AuditLog>> Open(store::Store& store, const Clock& clock);

  // Call as the FIRST statement of a transaction that will append (see above). PostgreSQL: LOCK
  // TABLE tsp_audit_head IN EXCLUSIVE MODE (plain reads of the log are not blocked); SQLite: no-op.
  // Errors: kFailedPrecondition when no transaction is open; the store's.
  Status LockChainInTransaction();

  // Appends `event` inside the transaction the caller has open on this log's store, so the entry
  // commits or rolls back with the caller's change. Errors: kFailedPrecondition when no
  // transaction is open; ValidateAuditEvent's errors; the store's (the transaction is then
  // aborted).
  Result<AuditEntry> AppendInTransaction(const AuditEvent& event);

  // Appends `event` in a transaction of its own. Errors as above (without the transaction one).
  Result<AuditEntry> Append(const AuditEvent& event);

  // Entries with seq >= from_seq in order, at most `count_max` (≤ kAuditVerifyPageRowsMax).
  Result<std::vector<AuditEntry>> Read(std::int64_t from_seq, std::size_t count_max);

  Result<AuditHead> Head();

  // Walks the whole chain from seq 1: each entry's seq follows the previous one, its prev_hash is
  // the previous hash and its hash recomputes; the last entry matches the head row. Reports the
  // first broken link in the result (an error Status only for store failures). Reads in pages
  // inside one transaction, so it sees one consistent snapshot.
  Result<AuditVerification> Verify();

 private:
  AuditLog(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  Result<AuditVerification> VerifyLocked();

  store::Store& store_;
  const Clock& clock_;
};

}  // namespace tapstack::tsp
