#include "tsp/audit_log.h"

#include <string_view>

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "tsp/limits.h"
#include "tsp/schema.h"

namespace tapstack::tsp {

namespace {

constexpr std::string_view kCanonicalTag = "TSPAUDIT1";

void AppendUint(Bytes& out, std::uint64_t value, std::size_t width_bytes) {
  const Bytes b = UintToBytes(value, width_bytes);
  out.insert(out.end(), b.begin(), b.end());
}

void AppendField(Bytes& out, std::string_view field) {
  AppendUint(out, field.size(), 4);
  out.insert(out.end(), field.begin(), field.end());
}

Status CheckField(std::string_view name, std::string_view value, std::size_t bytes_max,
                  bool required) {
  if (required && value.empty()) return InvalidArgument("audit " + std::string(name) + " is empty");
  if (value.size() > bytes_max) {
    return InvalidArgument("audit " + std::string(name) + " has " + std::to_string(value.size()) +
                           " bytes; at most " + std::to_string(bytes_max));
  }
  std::size_t digit_run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c < 0x20 || c > 0x7E) {
      return InvalidArgument("audit " + std::string(name) + ": byte " + std::to_string(i) +
                             " is not printable ASCII");
    }
    digit_run = (c >= '0' && c <= '9') ? digit_run + 1 : 0;
    // Never echo the digits: they may be a PAN.
    if (digit_run > kAuditDigitRunMax) {
      return InvalidArgument("audit " + std::string(name) + " contains a run of more than " +
                             std::to_string(kAuditDigitRunMax) +
                             " digits (a possible PAN or token number); refused");
    }
  }
  return Status::Ok();
}

const char* const kEntryColumns =
    "seq, time_unix_ms, actor, action, subject, detail, prev_hash, entry_hash";

Result<AuditEntry> EntryFromRow(const store::Row& row) {
  AuditEntry e;
  TS_ASSIGN_OR_RETURN(e.seq, row.GetInt64("seq"));
  TS_ASSIGN_OR_RETURN(e.time_unix_ms, row.GetInt64("time_unix_ms"));
  TS_ASSIGN_OR_RETURN(e.event.actor, row.GetText("actor"));
  TS_ASSIGN_OR_RETURN(e.event.action, row.GetText("action"));
  TS_ASSIGN_OR_RETURN(e.event.subject, row.GetText("subject"));
  TS_ASSIGN_OR_RETURN(e.event.detail, row.GetText("detail"));
  TS_ASSIGN_OR_RETURN(e.prev_hash, row.GetBlob("prev_hash"));
  TS_ASSIGN_OR_RETURN(e.hash, row.GetBlob("entry_hash"));
  return e;
}

}  // namespace

Bytes CanonicalAuditEntry(std::int64_t seq, std::int64_t time_unix_ms, const AuditEvent& event) {
  Bytes out(kCanonicalTag.begin(), kCanonicalTag.end());
  AppendUint(out, static_cast<std::uint64_t>(seq), 8);
  AppendUint(out, static_cast<std::uint64_t>(time_unix_ms), 8);
  AppendField(out, event.actor);
  AppendField(out, event.action);
  AppendField(out, event.subject);
  AppendField(out, event.detail);
  return out;
}

Result<Bytes> AuditEntryHash(ByteView prev_hash, std::int64_t seq, std::int64_t time_unix_ms,
                             const AuditEvent& event) {
  if (prev_hash.size() != kAuditHashBytes) {
    return InvalidArgument("audit prev_hash has " + std::to_string(prev_hash.size()) +
                           " bytes; expected 32");
  }
  return crypto::Sha256(Concat({prev_hash, CanonicalAuditEntry(seq, time_unix_ms, event)}));
}

Status ValidateAuditEvent(const AuditEvent& event) {
  TS_RETURN_IF_ERROR(CheckField("actor", event.actor, kAuditActorBytesMax, true));
  TS_RETURN_IF_ERROR(CheckField("action", event.action, kAuditActionBytesMax, true));
  for (char c : event.action) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return InvalidArgument("audit action must be lower-case letters, digits and '_'");
    }
  }
  TS_RETURN_IF_ERROR(CheckField("subject", event.subject, kAuditSubjectBytesMax, false));
  TS_RETURN_IF_ERROR(CheckField("detail", event.detail, kAuditDetailBytesMax, false));
  return Status::Ok();
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store& store, const Clock& clock) {
  TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  const Bytes zero_hash(kAuditHashBytes, 0);
  TS_RETURN_IF_ERROR(store
                         .Execute("INSERT INTO tsp_audit_head (id, last_seq, last_hash) "
                                  "VALUES (1, 0, ?) ON CONFLICT (id) DO NOTHING",
                                  {store::Value(zero_hash)})
                         .status()
                         .WithContext("audit head"));
  return std::unique_ptr<AuditLog>(new AuditLog(store, clock));
}

Status AuditLog::LockChainInTransaction() {
  if (!store_.in_transaction()) {
    return FailedPrecondition("AuditLog::LockChainInTransaction needs an open transaction");
  }
  if (store_.dialect() != store::Dialect::kPostgres) return Status::Ok();
  // Not a prepared statement (PostgreSQL cannot prepare LOCK), hence ExecuteScript.
  return store_.ExecuteScript("LOCK TABLE tsp_audit_head IN EXCLUSIVE MODE");
}

Result<AuditEntry> AuditLog::AppendInTransaction(const AuditEvent& event) {
  if (!store_.in_transaction()) {
    return FailedPrecondition("AuditLog::AppendInTransaction needs an open transaction");
  }
  TS_RETURN_IF_ERROR(ValidateAuditEvent(event));
  // Harmless when the caller already holds it; if not, a concurrent appender makes this
  // transaction fail with a retryable conflict rather than fork the chain.
  TS_RETURN_IF_ERROR(LockChainInTransaction());
  TS_ASSIGN_OR_RETURN(
      store::Row head,
      store_.QueryRow("SELECT last_seq, last_hash FROM tsp_audit_head WHERE id = 1"));
  AuditEntry entry;
  TS_ASSIGN_OR_RETURN(std::int64_t last_seq, head.GetInt64("last_seq"));
  TS_ASSIGN_OR_RETURN(entry.prev_hash, head.GetBlob("last_hash"));
  entry.seq = last_seq + 1;
  entry.time_unix_ms = clock_.NowUnixMillis();
  entry.event = event;
  TS_ASSIGN_OR_RETURN(entry.hash,
                      AuditEntryHash(entry.prev_hash, entry.seq, entry.time_unix_ms, event));
  TS_RETURN_IF_ERROR(
      store_
          .Execute("INSERT INTO tsp_audit_log (seq, time_unix_ms, actor, action, subject, detail, "
                   "prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   {entry.seq, entry.time_unix_ms, event.actor, event.action, event.subject,
                    event.detail, store::Value(entry.prev_hash), store::Value(entry.hash)})
          .status());
  TS_RETURN_IF_ERROR(
      store_
          .Execute("UPDATE tsp_audit_head SET last_seq = ?, last_hash = ? WHERE id = 1",
                   {entry.seq, store::Value(entry.hash)})
          .status());
  return entry;
}

Result<AuditEntry> AuditLog::Append(const AuditEvent& event) {
  TS_RETURN_IF_ERROR(ValidateAuditEvent(event));
  AuditEntry appended;
  TS_RETURN_IF_ERROR(store_.RunInTransaction([&](store::Store&) -> Status {
    TS_RETURN_IF_ERROR(LockChainInTransaction());
    TS_ASSIGN_OR_RETURN(appended, AppendInTransaction(event));
    return Status::Ok();
  }));
  return appended;
}

Result<std::vector<AuditEntry>> AuditLog::Read(std::int64_t from_seq, std::size_t count_max) {
  if (count_max == 0 || count_max > kAuditVerifyPageRowsMax) {
    return InvalidArgument("audit read count_max must be 1-" +
                           std::to_string(kAuditVerifyPageRowsMax));
  }
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_.Query(std::string("SELECT ") + kEntryColumns +
                                       " FROM tsp_audit_log WHERE seq >= ? ORDER BY seq LIMIT ?",
                                   {from_seq, static_cast<std::int64_t>(count_max)}));
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(AuditEntry e, EntryFromRow(row));
    out.push_back(std::move(e));
  }
  return out;
}

Result<AuditHead> AuditLog::Head() {
  TS_ASSIGN_OR_RETURN(
      store::Row row,
      store_.QueryRow("SELECT last_seq, last_hash FROM tsp_audit_head WHERE id = 1"));
  AuditHead head;
  TS_ASSIGN_OR_RETURN(head.seq, row.GetInt64("last_seq"));
  TS_ASSIGN_OR_RETURN(head.hash, row.GetBlob("last_hash"));
  return head;
}

Result<AuditVerification> AuditLog::Verify() {
  AuditVerification result;
  TS_RETURN_IF_ERROR(store_.RunInTransaction([&](store::Store&) -> Status {
    TS_ASSIGN_OR_RETURN(result, VerifyLocked());
    return Status::Ok();
  }));
  return result;
}

Result<AuditVerification> AuditLog::VerifyLocked() {
  AuditVerification v;
  auto broken = [&v](std::int64_t seq, std::string problem) {
    v.intact = false;
    v.first_broken_seq = seq;
    v.problem = std::move(problem);
    return v;
  };
  Bytes prev_hash(kAuditHashBytes, 0);
  std::int64_t expected_seq = 1;
  for (;;) {
    TS_ASSIGN_OR_RETURN(std::vector<AuditEntry> page, Read(expected_seq, kAuditVerifyPageRowsMax));
    for (const AuditEntry& e : page) {
      const std::string at = "audit entry " + std::to_string(e.seq);
      if (e.seq != expected_seq) {
        return broken(expected_seq, "audit entry " + std::to_string(expected_seq) +
                                        " is missing (next stored entry is " +
                                        std::to_string(e.seq) + ")");
      }
      if (!crypto::ConstantTimeEquals(e.prev_hash, prev_hash)) {
        return broken(e.seq, at + ": prev_hash does not match the hash of entry " +
                                 std::to_string(e.seq - 1));
      }
      Result<Bytes> recomputed = AuditEntryHash(prev_hash, e.seq, e.time_unix_ms, e.event);
      if (!recomputed.ok() || !crypto::ConstantTimeEquals(*recomputed, e.hash)) {
        return broken(e.seq, at + ": stored hash does not match its contents");
      }
      prev_hash = e.hash;
      ++expected_seq;
      ++v.entries_checked;
    }
    if (page.size() < kAuditVerifyPageRowsMax) break;
  }
  TS_ASSIGN_OR_RETURN(AuditHead head, Head());
  if (head.seq != expected_seq - 1) {
    if (head.seq > expected_seq - 1) {
      return broken(expected_seq, "audit entry " + std::to_string(expected_seq) +
                                      " is missing (head says the log ends at " +
                                      std::to_string(head.seq) + ")");
    }
    return broken(head.seq + 1, "audit entry " + std::to_string(head.seq + 1) +
                                    " is past the head (head says the log ends at " +
                                    std::to_string(head.seq) + ")");
  }
  if (!crypto::ConstantTimeEquals(head.hash, prev_hash)) {
    return broken(head.seq, "audit head hash does not match entry " + std::to_string(head.seq));
  }
  return v;
}

}  // namespace tapstack::tsp
