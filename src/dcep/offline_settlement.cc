#include "dcep/offline_settlement.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "core/hex.h"
#include "crypto/hash.h"
#include "dcep/central_bank_client.h"
#include "dcep/operator.h"
#include "dcep/tiers.h"
#include "dcep_wire/limits.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/transfer_verifier.h"
#include "store/migration.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::dcep {

namespace {

// Portable subset of store/store.h. Amounts fen, times Unix milliseconds. A record is keyed by
// (payer device, payer counter); body_digest is SHA-256 of its signed body (E3).
const std::array<store::Migration, 2>& Migrations() {
  static const std::array<store::Migration, 2> migrations = {
      store::Migration{
          .version = 1,
          .description = "dcep offline settlement",
          .sql = R"sql(
CREATE TABLE dcep_offline_records (
  payer_device_id TEXT NOT NULL,
  payer_counter BIGINT NOT NULL,
  body_digest BYTEA NOT NULL,
  transfer BYTEA NOT NULL,
  chain BYTEA NOT NULL,
  payee_device_id TEXT NOT NULL,
  payee_operator TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('payment', 'unload')),
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'refused')),
  reason TEXT,
  uploaded_by TEXT NOT NULL,
  created_unix_ms BIGINT NOT NULL,
  settled_unix_ms BIGINT,
  PRIMARY KEY (payer_device_id, payer_counter)
);
CREATE INDEX dcep_offline_records_pending ON dcep_offline_records (created_unix_ms)
  WHERE status = 'pending';
CREATE TABLE dcep_offline_conflicts (
  payer_device_id TEXT NOT NULL,
  payer_counter BIGINT NOT NULL,
  body_digest BYTEA NOT NULL,
  transfer BYTEA NOT NULL,
  chain BYTEA NOT NULL,
  payee_device_id TEXT NOT NULL,
  payee_operator TEXT,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  uploaded_by TEXT NOT NULL,
  detected_unix_ms BIGINT NOT NULL,
  purse_part_fen BIGINT,
  loss_part_fen BIGINT,
  status TEXT NOT NULL CHECK (status IN ('compensating', 'compensated', 'refused')),
  reason TEXT,
  PRIMARY KEY (payer_device_id, payer_counter, body_digest)
);
CREATE TABLE dcep_offline_devices (
  device_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('active', 'blocked', 'frozen', 'recovered')),
  reason TEXT,
  state_unix_ms BIGINT NOT NULL,
  revocation_pending BOOLEAN NOT NULL,
  log_sequence_acknowledged BIGINT NOT NULL,
  recovered_fen BIGINT
);
CREATE TABLE dcep_offline_rejected (
  uploaded_by TEXT NOT NULL,
  log_sequence BIGINT NOT NULL,
  body_digest BYTEA NOT NULL,
  transfer BYTEA NOT NULL,
  chain BYTEA NOT NULL,
  reason TEXT NOT NULL,
  created_unix_ms BIGINT NOT NULL,
  PRIMARY KEY (uploaded_by, log_sequence, body_digest)
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      // Received records whose payer another operator certified: kept here as evidence and
      // forwarded to the payer's operator. Keyed on the body too: a second body under the same
      // counter is a double spend the payer's operator must see.
      store::Migration{
          .version = 2,
          .description = "dcep offline forwarding across operators",
          .sql = R"sql(
CREATE TABLE dcep_offline_forwarded (
  payer_device_id TEXT NOT NULL,
  payer_counter BIGINT NOT NULL,
  body_digest BYTEA NOT NULL,
  record BYTEA NOT NULL,
  payee_device_id TEXT NOT NULL,
  payer_operator TEXT NOT NULL,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  status TEXT NOT NULL CHECK (status IN ('pending', 'forwarded', 'refused')),
  payer_outcome TEXT,
  reason TEXT,
  uploaded_by TEXT NOT NULL,
  created_unix_ms BIGINT NOT NULL,
  forwarded_unix_ms BIGINT,
  PRIMARY KEY (payer_device_id, payer_counter, body_digest)
);
CREATE INDEX dcep_offline_forwarded_pending ON dcep_offline_forwarded (created_unix_ms)
  WHERE status = 'pending';
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

constexpr int kRetryPassesMax = 4;

std::string_view StateText(DeviceState state) { return DeviceStateName(state); }

Result<DeviceState> StateFromText(std::string_view text) {
  for (DeviceState s : {DeviceState::kActive, DeviceState::kBlocked, DeviceState::kFrozen,
                        DeviceState::kRecovered}) {
    if (DeviceStateName(s) == text) return s;
  }
  return Corruption("dcep_offline_devices.state: unknown '" + std::string(text) + "'");
}

std::string RecordKey(std::string_view payer, std::uint32_t counter) {
  return "offline:" + std::string(payer) + ":" + std::to_string(counter);
}

std::string ConflictKey(std::string_view payer, std::uint32_t counter, const Bytes& digest) {
  const ByteView head(digest.data(), std::min<std::size_t>(8, digest.size()));
  return "offline-ds:" + std::string(payer) + ":" + std::to_string(counter) + ":" +
         HexEncode(head);
}

std::string StatusText(const Status& s) {
  return std::string(ErrorCodeName(s.code())) + ": " + s.message();
}

// Errors of an OfflinePurses move that a retry with the same key cannot turn into a success
// (dcep/offline_purses.h): the record is refused instead of staying pending forever.
bool IsDefiniteRefusal(const Status& s) {
  return s.code() == ErrorCode::kNotFound || s.code() == ErrorCode::kInvalidArgument ||
         s.code() == ErrorCode::kAlreadyExists || s.code() == ErrorCode::kOutOfRange;
}

std::optional<RecordOutcome> OutcomeFromName(std::string_view name) {
  for (RecordOutcome o : {RecordOutcome::kSettled, RecordOutcome::kDuplicate,
                          RecordOutcome::kPending, RecordOutcome::kDoubleSpend,
                          RecordOutcome::kRefused, RecordOutcome::kRejected,
                          RecordOutcome::kForwarded}) {
    if (RecordOutcomeName(o) == name) return o;
  }
  return std::nullopt;
}

// Where a record came from.
struct Source {
  std::string uploaded_by;     // the device whose log held it
  std::string payee_operator;  // known payee operator ("" = the uploader's, or resolve)
  bool may_forward = false;    // an upload here: a foreign payer's received record is forwarded
};

// The records of one upload that settle together (Upload). Their rows are written inside `tx`;
// Flush commits them before any value moves (durable before moved), moves the value of the
// deferred ones in one OfflinePurses::MovePurseValues call, and records the outcomes in one more
// transaction: a few commits per upload instead of a few per record.
struct Batch {
  struct Deferred {
    std::size_t index = 0;  // into the upload's records
    PurseMove move;
    std::uint32_t counter = 0;
  };
  std::vector<UploadedRecord>* records = nullptr;  // the upload's answers so far
  std::optional<store::Transaction> tx;
  std::vector<Deferred> deferred;
};

// A forwarded record (dcep_offline_forwarded's key).
struct ForwardKey {
  std::string payer;
  std::int64_t counter = 0;
  Bytes digest;
};

struct DeviceRow {
  DeviceState state = DeviceState::kActive;
  std::string reason;
  std::int64_t state_unix_ms = 0;
  bool revocation_pending = false;
  std::int64_t log_sequence_acknowledged = 0;
  std::optional<std::int64_t> recovered_fen;
};

}  // namespace

std::string_view RecordOutcomeName(RecordOutcome outcome) {
  switch (outcome) {
    case RecordOutcome::kSettled: return "settled";
    case RecordOutcome::kDuplicate: return "duplicate";
    case RecordOutcome::kPending: return "pending";
    case RecordOutcome::kDoubleSpend: return "double_spend";
    case RecordOutcome::kRefused: return "refused";
    case RecordOutcome::kRejected: return "rejected";
    case RecordOutcome::kForwarded: return "forwarded";
  }
  return "unknown";
}

std::string_view DeviceStateName(DeviceState state) {
  switch (state) {
    case DeviceState::kActive: return "active";
    case DeviceState::kBlocked: return "blocked";
    case DeviceState::kFrozen: return "frozen";
    case DeviceState::kRecovered: return "recovered";
  }
  return "unknown";
}

struct OfflineSettlement::Impl {
  std::mutex mu;
  OfflineSettlementOptions options;
  std::unique_ptr<store::Store> store;
  // Verifies each payer chain once, then one signature per record (dcep_wire/transfer_verifier.h).
  std::unique_ptr<dcep_wire::TransferVerifier> verifier;

  const Clock& clock() const {
    return options.clock != nullptr ? *options.clock : SystemClock::Instance();
  }
  std::int64_t NowMs() const { return clock().NowUnixMillis(); }
  std::string UnloadPayee() const { return std::string(kUnloadPayeePrefix) + options.operator_id; }

  // ---- devices ----

  Result<std::optional<DeviceRow>> LoadDevice(std::string_view device_id) {
    TS_ASSIGN_OR_RETURN(const store::Rows rows,
                        store->Query("SELECT state, reason, state_unix_ms, revocation_pending, "
                                     "log_sequence_acknowledged, recovered_fen "
                                     "FROM dcep_offline_devices WHERE device_id = ?",
                                     {std::string(device_id)}));
    if (rows.empty()) return std::optional<DeviceRow>();
    const store::Row& row = rows[0];
    DeviceRow d;
    TS_ASSIGN_OR_RETURN(const std::string state, row.GetText("state"));
    TS_ASSIGN_OR_RETURN(d.state, StateFromText(state));
    TS_ASSIGN_OR_RETURN(const std::optional<std::string> reason, row.GetOptionalText("reason"));
    d.reason = reason.value_or("");
    TS_ASSIGN_OR_RETURN(d.state_unix_ms, row.GetInt64("state_unix_ms"));
    TS_ASSIGN_OR_RETURN(d.revocation_pending, row.GetBool("revocation_pending"));
    TS_ASSIGN_OR_RETURN(d.log_sequence_acknowledged, row.GetInt64("log_sequence_acknowledged"));
    TS_ASSIGN_OR_RETURN(d.recovered_fen, row.GetOptionalInt64("recovered_fen"));
    return std::optional<DeviceRow>(std::move(d));
  }

  // Sets the state of a device (creating its row), marking its revocation pending.
  static Status SetDeviceState(store::Store& s, std::string_view device_id, DeviceState state,
                               std::string_view reason, std::int64_t now_ms) {
    return s
        .Execute(
            "INSERT INTO dcep_offline_devices (device_id, state, reason, state_unix_ms, "
            "revocation_pending, log_sequence_acknowledged, recovered_fen) "
            "VALUES (?, ?, ?, ?, ?, 0, NULL) ON CONFLICT (device_id) DO UPDATE SET "
            "state = excluded.state, reason = excluded.reason, "
            "state_unix_ms = excluded.state_unix_ms, revocation_pending = excluded.revocation_pending",
            {std::string(device_id), std::string(StateText(state)), std::string(reason), now_ms,
             store::Value::Bool(true)})
        .status();
  }

  // Revokes at the CA what the store says is blocked or frozen, then clears the flag.
  Status DriveRevocation(std::string_view device_id) {
    TS_ASSIGN_OR_RETURN(const std::optional<DeviceRow> row, LoadDevice(device_id));
    if (!row.has_value() || !row->revocation_pending) return Status::Ok();
    const std::string_view reason = row->state == DeviceState::kBlocked
                                        ? kRevocationReasonDoubleSpend
                                        : kRevocationReasonFrozen;
    TS_RETURN_IF_ERROR(options.authority->Revoke(device_id, reason));
    return store
        ->Execute("UPDATE dcep_offline_devices SET revocation_pending = ? WHERE device_id = ?",
                  {store::Value::Bool(false), std::string(device_id)})
        .status();
  }

  // Why a payer's records are refused as of now ("" = they settle). A frozen device's records
  // settle until its balance is recovered (or decided for recovery).
  Result<std::string> RefusalOfPayer(std::string_view payer) {
    TS_ASSIGN_OR_RETURN(const std::optional<DeviceRow> row, LoadDevice(payer));
    if (row.has_value()) {
      switch (row->state) {
        case DeviceState::kBlocked:
          return "payer device " + std::string(payer) + " is blocked and revoked (" + row->reason +
                 ")";
        case DeviceState::kRecovered:
          return "payer device " + std::string(payer) +
                 " was frozen and its balance recovered by the owner";
        case DeviceState::kFrozen:
          if (row->recovered_fen.has_value()) {
            return "payer device " + std::string(payer) +
                   " was frozen and its balance is being recovered";
          }
          return std::string();
        case DeviceState::kActive:
          break;
      }
    }
    TS_ASSIGN_OR_RETURN(const bool revoked, options.authority->IsRevoked(payer));
    if (revoked) return "payer device " + std::string(payer) + " is revoked";
    return std::string();
  }

  // ---- records ----

  std::string ResolvePayeeOperator(std::string_view payee) {
    if (options.authority->DeviceCertificate(payee).ok()) return options.operator_id;
    if (options.operator_of_device) return options.operator_of_device(payee);
    return {};
  }

  Status Verify(const dcep_wire::LogRecord& record, std::int64_t now_ms, bool may_forward) {
    const dcep_wire::CertificateChain& chain = record.payer_chain;
    if (chain.operator_cert.body.subject_id != options.operator_id) {
      // Only a payee's received record is forwarded to the payer's operator (a sent record is
      // the uploader's own, certified here).
      const char* why = !may_forward ? "a forwarded record is not forwarded again"
                        : !options.forward_to_operator ? "no forwarding to it is configured"
                        : record.direction != dcep_wire::LogDirection::kReceived
                            ? "only received records are forwarded"
                            : nullptr;
      if (why != nullptr) {
        return FailedPrecondition("payer device is certified by operator " +
                                  chain.operator_cert.body.subject_id + ", settled there (" +
                                  why + ")");
      }
    }
    if (record.transfer.body.currency_numeric != dcep_wire::kCnyCurrencyNumeric) {
      return InvalidArgument("currency: expected 156 (CNY), got " +
                             std::to_string(record.transfer.body.currency_numeric));
    }
    // Expiry: the payee checked the certificate offline when it took the transfer; the upload
    // may come much later, so a certificate expired within the grace period still settles.
    return verifier->Verify(record.transfer, chain, now_ms / 1000 - options.certificate_grace_s);
  }

  // Moves the value of one pending record. Returns its outcome (settled or pending).
  Result<RecordOutcome> DriveRecord(const std::string& payer, std::uint32_t counter,
                                    std::string* reason_out) {
    TS_ASSIGN_OR_RETURN(const store::Row row,
                        store->QueryRow("SELECT payee_device_id, payee_operator, kind, amount_fen, "
                                        "status FROM dcep_offline_records "
                                        "WHERE payer_device_id = ? AND payer_counter = ?",
                                        {payer, std::int64_t{counter}}));
    TS_ASSIGN_OR_RETURN(const std::string status, row.GetText("status"));
    if (status == "settled") return RecordOutcome::kSettled;
    if (status != "pending") return RecordOutcome::kRefused;
    TS_ASSIGN_OR_RETURN(const std::string payee, row.GetText("payee_device_id"));
    TS_ASSIGN_OR_RETURN(std::optional<std::string> payee_operator,
                        row.GetOptionalText("payee_operator"));
    TS_ASSIGN_OR_RETURN(const std::string kind, row.GetText("kind"));
    TS_ASSIGN_OR_RETURN(const std::int64_t amount, row.GetInt64("amount_fen"));
    if (!payee_operator.has_value() || payee_operator->empty()) {
      std::string resolved = ResolvePayeeOperator(payee);
      if (resolved.empty()) {
        return KeepPending(payer, counter, "payee operator unknown: waits for the payee's upload",
                           reason_out);
      }
      TS_RETURN_IF_ERROR(store
                             ->Execute("UPDATE dcep_offline_records SET payee_operator = ? "
                                       "WHERE payer_device_id = ? AND payer_counter = ?",
                                       {resolved, payer, std::int64_t{counter}})
                             .status());
      payee_operator = std::move(resolved);
    }
    const std::string key = RecordKey(payer, counter);
    const Status moved =
        kind == "unload"
            ? options.purses->UnloadPurseValue(payer, amount, key)
            : options.purses->MovePurseValue(payer, payee, *payee_operator, amount, key);
    return RecordMoveOutcome(payer, counter, moved, reason_out);
  }

  // Records what a value move of a pending record answered: settled, refused (a definite
  // refusal: the move's key is spent) or still pending (anything else: re-driven later).
  Result<RecordOutcome> RecordMoveOutcome(const std::string& payer, std::uint32_t counter,
                                          const Status& moved, std::string* reason_out) {
    if (!moved.ok() && !IsDefiniteRefusal(moved)) {
      return KeepPending(payer, counter, StatusText(moved), reason_out);
    }
    if (!moved.ok()) {
      const std::string reason = StatusText(moved);
      TS_RETURN_IF_ERROR(store
                             ->Execute("UPDATE dcep_offline_records SET status = 'refused', "
                                       "reason = ? WHERE payer_device_id = ? AND payer_counter = ?",
                                       {reason, payer, std::int64_t{counter}})
                             .status());
      if (reason_out != nullptr) *reason_out = reason;
      return RecordOutcome::kRefused;
    }
    TS_RETURN_IF_ERROR(store
                           ->Execute("UPDATE dcep_offline_records SET status = 'settled', "
                                     "reason = NULL, settled_unix_ms = ? "
                                     "WHERE payer_device_id = ? AND payer_counter = ?",
                                     {NowMs(), payer, std::int64_t{counter}})
                           .status());
    if (reason_out != nullptr) reason_out->clear();
    return RecordOutcome::kSettled;
  }

  Result<RecordOutcome> KeepPending(const std::string& payer, std::uint32_t counter,
                                    const std::string& reason, std::string* reason_out) {
    TS_RETURN_IF_ERROR(store
                           ->Execute("UPDATE dcep_offline_records SET reason = ? "
                                     "WHERE payer_device_id = ? AND payer_counter = ?",
                                     {reason, payer, std::int64_t{counter}})
                           .status());
    if (reason_out != nullptr) *reason_out = reason;
    return RecordOutcome::kPending;
  }

  // Commits the batch's rows, then moves the deferred records' value together and records the
  // outcomes into `records` (see Batch). Leaves no transaction open.
  Status Flush(Batch& batch) {
    if (batch.tx.has_value()) {
      const Status committed = batch.tx->Commit();
      batch.tx.reset();
      TS_RETURN_IF_ERROR(committed);
    }
    if (batch.deferred.empty()) return Status::Ok();
    std::vector<PurseMove> moves;
    moves.reserve(batch.deferred.size());
    for (const Batch::Deferred& d : batch.deferred) moves.push_back(d.move);
    const std::vector<Status> moved = options.purses->MovePurseValues(moves);
    if (moved.size() != moves.size()) {
      return Internal("MovePurseValues answered " + std::to_string(moved.size()) + " of " +
                      std::to_string(moves.size()) + " moves");
    }
    TS_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(*store));
    for (std::size_t k = 0; k < moved.size(); ++k) {
      const Batch::Deferred& d = batch.deferred[k];
      UploadedRecord& out = (*batch.records)[d.index];
      TS_ASSIGN_OR_RETURN(out.outcome, RecordMoveOutcome(d.move.payer_device_id, d.counter,
                                                         moved[k], &out.reason));
    }
    TS_RETURN_IF_ERROR(tx.Commit());
    batch.deferred.clear();
    return Status::Ok();
  }

  // Applies the loss policy to one conflicting body (see the header).
  Status DriveConflict(const std::string& payer, std::uint32_t counter, const Bytes& digest) {
    TS_ASSIGN_OR_RETURN(
        const store::Row row,
        store->QueryRow("SELECT payee_device_id, payee_operator, amount_fen, purse_part_fen, "
                        "loss_part_fen, status FROM dcep_offline_conflicts "
                        "WHERE payer_device_id = ? AND payer_counter = ? AND body_digest = ?",
                        {payer, std::int64_t{counter}, digest}));
    TS_ASSIGN_OR_RETURN(const std::string status, row.GetText("status"));
    if (status != "compensating") return Status::Ok();
    TS_ASSIGN_OR_RETURN(const std::string payee, row.GetText("payee_device_id"));
    TS_ASSIGN_OR_RETURN(std::optional<std::string> payee_operator,
                        row.GetOptionalText("payee_operator"));
    TS_ASSIGN_OR_RETURN(const std::int64_t amount, row.GetInt64("amount_fen"));
    TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> purse_part,
                        row.GetOptionalInt64("purse_part_fen"));
    TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> loss_part,
                        row.GetOptionalInt64("loss_part_fen"));
    auto note = [&](const std::string& reason) -> Status {
      return store
          ->Execute("UPDATE dcep_offline_conflicts SET reason = ? WHERE payer_device_id = ? "
                    "AND payer_counter = ? AND body_digest = ?",
                    {reason, payer, std::int64_t{counter}, digest})
          .status();
    };
    auto refuse = [&](const Status& refusal) -> Status {
      return store
          ->Execute("UPDATE dcep_offline_conflicts SET status = 'refused', reason = ? "
                    "WHERE payer_device_id = ? AND payer_counter = ? AND body_digest = ?",
                    {StatusText(refusal), payer, std::int64_t{counter}, digest})
          .status();
    };
    if (!payee_operator.has_value() || payee_operator->empty()) {
      std::string resolved = ResolvePayeeOperator(payee);
      if (resolved.empty()) return note("payee operator unknown: waits for the payee's upload");
      TS_RETURN_IF_ERROR(store
                             ->Execute("UPDATE dcep_offline_conflicts SET payee_operator = ? "
                                       "WHERE payer_device_id = ? AND payer_counter = ? "
                                       "AND body_digest = ?",
                                       {resolved, payer, std::int64_t{counter}, digest})
                             .status());
      payee_operator = std::move(resolved);
    }
    if (!purse_part.has_value() || !loss_part.has_value()) {
      // Decide the split once and record it before moving anything, so a re-drive after a crash
      // repeats the same two moves under the same keys.
      Result<std::int64_t> balance = options.purses->PurseBalance(payer);
      if (!balance.ok()) return note(StatusText(balance.status()));
      purse_part = std::clamp<std::int64_t>(*balance, 0, amount);
      loss_part = amount - *purse_part;
      TS_RETURN_IF_ERROR(store
                             ->Execute("UPDATE dcep_offline_conflicts SET purse_part_fen = ?, "
                                       "loss_part_fen = ? WHERE payer_device_id = ? "
                                       "AND payer_counter = ? AND body_digest = ?",
                                       {*purse_part, *loss_part, payer, std::int64_t{counter},
                                        digest})
                             .status());
    }
    const std::string key = ConflictKey(payer, counter, digest);
    if (*purse_part > 0) {
      const Status moved = options.purses->MovePurseValue(payer, payee, *payee_operator,
                                                          *purse_part, key + ":purse");
      if (moved.code() == ErrorCode::kFailedPrecondition) {
        // Nothing moved (the purse fell since the split was decided): decide again next time.
        TS_RETURN_IF_ERROR(store
                               ->Execute("UPDATE dcep_offline_conflicts SET purse_part_fen = NULL, "
                                         "loss_part_fen = NULL WHERE payer_device_id = ? "
                                         "AND payer_counter = ? AND body_digest = ?",
                                         {payer, std::int64_t{counter}, digest})
                               .status());
        return note(StatusText(moved));
      }
      if (!moved.ok() && IsDefiniteRefusal(moved)) return refuse(moved);
      if (!moved.ok()) return note(StatusText(moved));
    }
    if (*loss_part > 0) {
      const Status covered =
          options.purses->CoverOfflineLoss(payee, *payee_operator, *loss_part, key + ":loss");
      if (!covered.ok() && IsDefiniteRefusal(covered)) return refuse(covered);
      if (!covered.ok()) return note(StatusText(covered));
    }
    return store
        ->Execute("UPDATE dcep_offline_conflicts SET status = 'compensated', reason = NULL "
                  "WHERE payer_device_id = ? AND payer_counter = ? AND body_digest = ?",
                  {payer, std::int64_t{counter}, digest})
        .status();
  }

  // One verified-or-not log record of an upload (or forwarded by the payee's operator). A
  // record to forward is recorded pending and named in `forward` for DriveForward.
  // With `batch` (an upload), the record's value moves at Flush together with the others' when
  // it can (a payment to a payee whose operator is known); a record that must be driven alone (a
  // double spend, an unload) flushes the batch first, so value still moves in log order.
  Result<UploadedRecord> ProcessRecord(const Source& source, const dcep_wire::LogRecord& record,
                                       std::optional<ForwardKey>* forward, Batch* batch) {
    const std::string_view uploader = source.uploaded_by;
    const dcep_wire::OfflineTransferBody& body = record.transfer.body;
    UploadedRecord out;
    out.log_sequence = record.sequence;
    out.payer_device_id = body.payer_device_id;
    out.payer_counter = body.payer_counter;
    out.payee_device_id = body.payee_device_id;
    out.amount_fen = body.amount_fen;
    const std::int64_t now_ms = NowMs();
    TS_ASSIGN_OR_RETURN(const Bytes chain, dcep_wire::EncodeCertificateChain(record.payer_chain));
    TS_ASSIGN_OR_RETURN(const Bytes digest, crypto::Sha256(record.transfer.signed_body));
    const std::string payer = body.payer_device_id;
    const std::int64_t counter = body.payer_counter;

    // 1. Verify before anything is keyed on (payer, counter).
    if (const Status verified = Verify(record, now_ms, source.may_forward); !verified.ok()) {
      TS_RETURN_IF_ERROR(
          store
              ->Execute("INSERT INTO dcep_offline_rejected (uploaded_by, log_sequence, "
                        "body_digest, transfer, chain, reason, created_unix_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        {std::string(uploader), std::int64_t{record.sequence}, digest,
                         record.transfer.encoded, chain, StatusText(verified), now_ms})
              .status());
      out.outcome = RecordOutcome::kRejected;
      out.reason = StatusText(verified);
      return out;
    }
    const std::string& payer_operator = record.payer_chain.operator_cert.body.subject_id;
    if (payer_operator != options.operator_id) {
      return RecordForward(source, record, digest, chain, payer_operator, std::move(out), forward);
    }
    // The payee's operator when known: the payee's own upload names us, a forward its sender.
    std::string known_payee_operator = source.payee_operator;
    if (known_payee_operator.empty() && body.payee_device_id == uploader) {
      known_payee_operator = options.operator_id;
    }

    // 2. De-duplicate.
    TS_ASSIGN_OR_RETURN(const store::Rows existing,
                        store->Query("SELECT body_digest, status FROM dcep_offline_records "
                                     "WHERE payer_device_id = ? AND payer_counter = ?",
                                     {payer, counter}));
    if (!existing.empty()) {
      TS_ASSIGN_OR_RETURN(const Bytes standing, existing[0].GetBlob("body_digest"));
      if (standing == digest) {
        if (!known_payee_operator.empty()) {
          TS_RETURN_IF_ERROR(store
                                 ->Execute("UPDATE dcep_offline_records SET payee_operator = ? "
                                           "WHERE payer_device_id = ? AND payer_counter = ? "
                                           "AND payee_operator IS NULL",
                                           {known_payee_operator, payer, counter})
                                 .status());
        }
        out.outcome = RecordOutcome::kDuplicate;
        return out;
      }
      TS_ASSIGN_OR_RETURN(const store::Rows known,
                          store->Query("SELECT status FROM dcep_offline_conflicts "
                                       "WHERE payer_device_id = ? AND payer_counter = ? "
                                       "AND body_digest = ?",
                                       {payer, counter, digest}));
      if (!known.empty()) {
        if (!known_payee_operator.empty()) {
          TS_RETURN_IF_ERROR(store
                                 ->Execute("UPDATE dcep_offline_conflicts SET payee_operator = ? "
                                           "WHERE payer_device_id = ? AND payer_counter = ? "
                                           "AND body_digest = ? AND payee_operator IS NULL",
                                           {known_payee_operator, payer, counter, digest})
                                 .status());
        }
        out.outcome = RecordOutcome::kDuplicate;
        return out;
      }
    }

    // 3. Revocation as of this upload.
    TS_ASSIGN_OR_RETURN(const std::string refusal, RefusalOfPayer(payer));
    std::string payee_operator = known_payee_operator.empty()
                                     ? ResolvePayeeOperator(body.payee_device_id)
                                     : known_payee_operator;
    const store::Value payee_operator_value =
        payee_operator.empty() ? store::Value::Null() : store::Value(payee_operator);

    if (!existing.empty()) {
      // 4. A second body under a known key: double spend.
      if (!refusal.empty()) {
        TS_RETURN_IF_ERROR(InsertConflict(uploader, record, digest, chain, payee_operator_value,
                                          "refused", refusal, now_ms));
        out.outcome = RecordOutcome::kRefused;
        out.reason = refusal;
        return out;
      }
      if (batch != nullptr) TS_RETURN_IF_ERROR(Flush(*batch));
      const std::string reason =
          "double spend: two bodies for counter " + std::to_string(counter);
      TS_RETURN_IF_ERROR(store->RunInTransaction([&](store::Store& s) -> Status {
        TS_RETURN_IF_ERROR(InsertConflictIn(s, uploader, record, digest, chain,
                                            payee_operator_value, "compensating", "", now_ms));
        return SetDeviceState(s, payer, DeviceState::kBlocked, reason, now_ms);
      }));
      TS_RETURN_IF_ERROR(DriveRevocation(payer));
      TS_RETURN_IF_ERROR(DriveConflict(payer, body.payer_counter, digest));
      out.outcome = RecordOutcome::kDoubleSpend;
      out.reason = reason;
      return out;
    }

    // 5. A new record.
    std::string kind = "payment";
    std::string status = "pending";
    std::string reason = refusal;
    if (body.payee_device_id.starts_with(kUnloadPayeePrefix)) {
      kind = "unload";
      if (body.payee_device_id != UnloadPayee()) {
        reason = "unload to " + body.payee_device_id + ": only " + UnloadPayee() +
                 " unloads at this operator";
      } else {
        payee_operator = options.operator_id;
      }
    }
    if (!reason.empty()) status = "refused";
    TS_RETURN_IF_ERROR(
        store
            ->Execute("INSERT INTO dcep_offline_records (payer_device_id, payer_counter, "
                      "body_digest, transfer, chain, payee_device_id, payee_operator, kind, "
                      "amount_fen, status, reason, uploaded_by, created_unix_ms, settled_unix_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                      {payer, counter, digest, record.transfer.encoded, chain,
                       body.payee_device_id,
                       payee_operator.empty() ? store::Value::Null() : store::Value(payee_operator),
                       kind, body.amount_fen, status,
                       reason.empty() ? store::Value::Null() : store::Value(reason),
                       std::string(uploader), now_ms})
            .status());
    if (status == "refused") {
      out.outcome = RecordOutcome::kRefused;
      out.reason = reason;
      return out;
    }
    if (batch != nullptr && kind == "payment" && !payee_operator.empty()) {
      out.outcome = RecordOutcome::kPending;  // until Flush
      batch->deferred.push_back(
          {batch->records->size(),
           PurseMove{payer, body.payee_device_id, payee_operator, body.amount_fen,
                     RecordKey(payer, body.payer_counter)},
           body.payer_counter});
      return out;
    }
    if (batch != nullptr) TS_RETURN_IF_ERROR(Flush(*batch));
    TS_ASSIGN_OR_RETURN(out.outcome, DriveRecord(payer, body.payer_counter, &out.reason));
    return out;
  }

  // ---- forwarding across operators ----

  // Records a verified received record of a foreign payer (pending) unless known; names it in
  // `forward` when it is (still) to be forwarded.
  Result<UploadedRecord> RecordForward(const Source& source, const dcep_wire::LogRecord& record,
                                       const Bytes& digest, const Bytes& chain,
                                       const std::string& payer_operator, UploadedRecord out,
                                       std::optional<ForwardKey>* forward) {
    const dcep_wire::OfflineTransferBody& body = record.transfer.body;
    ForwardKey key{body.payer_device_id, std::int64_t{body.payer_counter}, digest};
    TS_ASSIGN_OR_RETURN(const store::Rows known,
                        store->Query("SELECT status, reason FROM dcep_offline_forwarded "
                                     "WHERE payer_device_id = ? AND payer_counter = ? "
                                     "AND body_digest = ?",
                                     {key.payer, key.counter, key.digest}));
    if (!known.empty()) {
      TS_ASSIGN_OR_RETURN(const std::string status, known[0].GetText("status"));
      TS_ASSIGN_OR_RETURN(const std::optional<std::string> reason,
                          known[0].GetOptionalText("reason"));
      if (status == "pending") {
        out.outcome = RecordOutcome::kPending;
        out.reason = reason.value_or("");
        if (forward != nullptr) *forward = std::move(key);
      } else {
        out.outcome = status == "forwarded" ? RecordOutcome::kDuplicate : RecordOutcome::kRefused;
        out.reason = status == "forwarded" ? std::string() : reason.value_or("");
      }
      return out;
    }
    TS_ASSIGN_OR_RETURN(const Bytes e9, dcep_wire::EncodeLogRecord(record.sequence,
                                                                   record.direction,
                                                                   record.transfer.encoded, chain));
    const std::string reason = "forwarding to operator " + payer_operator + ", the payer's";
    TS_RETURN_IF_ERROR(
        store
            ->Execute("INSERT INTO dcep_offline_forwarded (payer_device_id, payer_counter, "
                      "body_digest, record, payee_device_id, payer_operator, amount_fen, status, "
                      "payer_outcome, reason, uploaded_by, created_unix_ms, forwarded_unix_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?, ?, ?, NULL)",
                      {key.payer, key.counter, key.digest, e9, body.payee_device_id,
                       payer_operator, body.amount_fen, reason, source.uploaded_by, NowMs()})
            .status());
    out.outcome = RecordOutcome::kPending;
    out.reason = reason;
    if (forward != nullptr) *forward = std::move(key);
    return out;
  }

  // Forwards one pending record (mu NOT held: the hook may wait on the payer's operator) and
  // records the answer. Returns the record's outcome for the payee.
  Result<UploadedRecord> DriveForward(const ForwardKey& key) {
    Bytes e9;
    std::string payer_operator;
    UploadedRecord out;
    {
      std::lock_guard lock(mu);
      TS_ASSIGN_OR_RETURN(const store::Row row,
                          store->QueryRow("SELECT record, payer_operator, status, payer_outcome, "
                                          "reason, payee_device_id, amount_fen "
                                          "FROM dcep_offline_forwarded WHERE payer_device_id = ? "
                                          "AND payer_counter = ? AND body_digest = ?",
                                          {key.payer, key.counter, key.digest}));
      TS_ASSIGN_OR_RETURN(e9, row.GetBlob("record"));
      TS_ASSIGN_OR_RETURN(payer_operator, row.GetText("payer_operator"));
      TS_ASSIGN_OR_RETURN(const std::string status, row.GetText("status"));
      TS_ASSIGN_OR_RETURN(const std::optional<std::string> payer_outcome,
                          row.GetOptionalText("payer_outcome"));
      TS_ASSIGN_OR_RETURN(const std::optional<std::string> reason, row.GetOptionalText("reason"));
      out.payer_device_id = key.payer;
      out.payer_counter = static_cast<std::uint32_t>(key.counter);
      TS_ASSIGN_OR_RETURN(out.payee_device_id, row.GetText("payee_device_id"));
      TS_ASSIGN_OR_RETURN(out.amount_fen, row.GetInt64("amount_fen"));
      if (status != "pending") {
        // Another thread forwarded it meanwhile: its answer stands.
        out.outcome = status == "refused" ? RecordOutcome::kRefused
                                          : OutcomeFromName(payer_outcome.value_or(""))
                                                .value_or(RecordOutcome::kForwarded);
        out.reason = reason.value_or("");
        return out;
      }
    }
    Result<UploadedRecord> answer =
        options.forward_to_operator
            ? options.forward_to_operator(payer_operator, e9)
            : Result<UploadedRecord>(Unavailable("no forwarding to other operators configured"));
    std::lock_guard lock(mu);
    std::string status = "forwarded";
    std::optional<std::string> payer_outcome;
    if (!answer.ok() && IsTransient(answer.status())) {
      out.outcome = RecordOutcome::kPending;
      out.reason = "forwarding to operator " + payer_operator + ": " + StatusText(answer.status()) +
                   " (retried)";
      TS_RETURN_IF_ERROR(store
                             ->Execute("UPDATE dcep_offline_forwarded SET reason = ? WHERE "
                                       "payer_device_id = ? AND payer_counter = ? AND "
                                       "body_digest = ? AND status = 'pending'",
                                       {out.reason, key.payer, key.counter, key.digest})
                             .status());
      return out;
    }
    if (!answer.ok()) {
      status = "refused";
      out.outcome = RecordOutcome::kRefused;
      out.reason = "operator " + payer_operator + " refused the forwarded record: " +
                   StatusText(answer.status());
    } else {
      payer_outcome = std::string(RecordOutcomeName(answer->outcome));
      out.outcome = answer->outcome;
      if (answer->outcome == RecordOutcome::kPending) out.outcome = RecordOutcome::kForwarded;
      if (answer->outcome == RecordOutcome::kRejected) status = "refused";
      out.reason = answer->reason.empty()
                       ? std::string()
                       : "operator " + payer_operator + ": " + answer->reason;
    }
    TS_RETURN_IF_ERROR(
        store
            ->Execute("UPDATE dcep_offline_forwarded SET status = ?, payer_outcome = ?, "
                      "reason = ?, forwarded_unix_ms = ? WHERE payer_device_id = ? AND "
                      "payer_counter = ? AND body_digest = ? AND status = 'pending'",
                      {status,
                       payer_outcome ? store::Value(*payer_outcome) : store::Value::Null(),
                       out.reason.empty() ? store::Value::Null() : store::Value(out.reason),
                       NowMs(), key.payer, key.counter, key.digest})
            .status());
    return out;
  }

  Result<std::vector<ForwardKey>> PendingForwardsLocked() {
    TS_ASSIGN_OR_RETURN(const store::Rows rows,
                        store->Query("SELECT payer_device_id, payer_counter, body_digest FROM "
                                     "dcep_offline_forwarded WHERE status = 'pending' ORDER BY "
                                     "created_unix_ms, payer_device_id, payer_counter LIMIT " +
                                     std::to_string(kRetryBatchMax)));
    std::vector<ForwardKey> keys;
    for (const store::Row& row : rows) {
      ForwardKey key;
      TS_ASSIGN_OR_RETURN(key.payer, row.GetText("payer_device_id"));
      TS_ASSIGN_OR_RETURN(key.counter, row.GetInt64("payer_counter"));
      TS_ASSIGN_OR_RETURN(key.digest, row.GetBlob("body_digest"));
      keys.push_back(std::move(key));
    }
    return keys;
  }

  // RetryPendingLocked, then the pending forwards (mu NOT held). Returns what is still pending.
  Result<std::int64_t> RetryAll() {
    std::int64_t still_pending = 0;
    std::vector<ForwardKey> forwards;
    {
      std::lock_guard lock(mu);
      TS_ASSIGN_OR_RETURN(still_pending, RetryPendingLocked());
      TS_ASSIGN_OR_RETURN(forwards, PendingForwardsLocked());
    }
    for (const ForwardKey& key : forwards) {
      TS_ASSIGN_OR_RETURN(const UploadedRecord forwarded, DriveForward(key));
      if (forwarded.outcome == RecordOutcome::kPending) ++still_pending;
    }
    return still_pending;
  }

  static Status InsertConflictIn(store::Store& s, std::string_view uploader,
                                 const dcep_wire::LogRecord& record, const Bytes& digest,
                                 const Bytes& chain, const store::Value& payee_operator,
                                 std::string_view status, std::string_view reason,
                                 std::int64_t now_ms) {
    const dcep_wire::OfflineTransferBody& body = record.transfer.body;
    return s
        .Execute("INSERT INTO dcep_offline_conflicts (payer_device_id, payer_counter, "
                 "body_digest, transfer, chain, payee_device_id, payee_operator, amount_fen, "
                 "uploaded_by, detected_unix_ms, purse_part_fen, loss_part_fen, status, reason) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
                 {body.payer_device_id, std::int64_t{body.payer_counter}, digest,
                  record.transfer.encoded, chain, body.payee_device_id, payee_operator,
                  body.amount_fen, std::string(uploader), now_ms, std::string(status),
                  reason.empty() ? store::Value::Null() : store::Value(std::string(reason))})
        .status();
  }
  Status InsertConflict(std::string_view uploader, const dcep_wire::LogRecord& record,
                        const Bytes& digest, const Bytes& chain,
                        const store::Value& payee_operator, std::string_view status,
                        std::string_view reason, std::int64_t now_ms) {
    return InsertConflictIn(*store, uploader, record, digest, chain, payee_operator, status,
                            reason, now_ms);
  }

  // ---- re-drive ----

  Result<std::int64_t> RetryPendingLocked() {
    TS_ASSIGN_OR_RETURN(const store::Rows revocations,
                        store->Query("SELECT device_id FROM dcep_offline_devices "
                                     "WHERE revocation_pending = ?",
                                     {store::Value::Bool(true)}));
    for (const store::Row& row : revocations) {
      TS_ASSIGN_OR_RETURN(const std::string device, row.GetText("device_id"));
      TS_RETURN_IF_ERROR(DriveRevocation(device));
    }
    std::int64_t still_pending = 0;
    // Several passes: settling a received transfer can fund a pending payment of the same purse.
    for (int pass = 0; pass < kRetryPassesMax; ++pass) {
      TS_ASSIGN_OR_RETURN(
          const store::Rows pending,
          store->Query("SELECT payer_device_id, payer_counter FROM dcep_offline_records "
                       "WHERE status = 'pending' ORDER BY created_unix_ms, payer_device_id, "
                       "payer_counter LIMIT " +
                       std::to_string(kRetryBatchMax)));
      std::int64_t settled = 0;
      still_pending = 0;
      for (const store::Row& row : pending) {
        TS_ASSIGN_OR_RETURN(const std::string payer, row.GetText("payer_device_id"));
        TS_ASSIGN_OR_RETURN(const std::int64_t counter, row.GetInt64("payer_counter"));
        TS_ASSIGN_OR_RETURN(const RecordOutcome outcome,
                            DriveRecord(payer, static_cast<std::uint32_t>(counter), nullptr));
        if (outcome == RecordOutcome::kSettled) ++settled;
        if (outcome == RecordOutcome::kPending) ++still_pending;
      }
      if (settled == 0) break;
    }
    TS_ASSIGN_OR_RETURN(const store::Rows conflicts,
                        store->Query("SELECT payer_device_id, payer_counter, body_digest "
                                     "FROM dcep_offline_conflicts WHERE status = 'compensating'"));
    for (const store::Row& row : conflicts) {
      TS_ASSIGN_OR_RETURN(const std::string payer, row.GetText("payer_device_id"));
      TS_ASSIGN_OR_RETURN(const std::int64_t counter, row.GetInt64("payer_counter"));
      TS_ASSIGN_OR_RETURN(const Bytes digest, row.GetBlob("body_digest"));
      TS_RETURN_IF_ERROR(DriveConflict(payer, static_cast<std::uint32_t>(counter), digest));
    }
    return still_pending;
  }

  // A record that was pending when processed may have settled (or been refused) in a retry.
  Status RefreshPendingLocked(std::vector<UploadedRecord>& records) {
    for (UploadedRecord& r : records) {
      if (r.outcome != RecordOutcome::kPending) continue;
      TS_ASSIGN_OR_RETURN(const store::Rows rows,
                          store->Query("SELECT status, reason FROM dcep_offline_records "
                                       "WHERE payer_device_id = ? AND payer_counter = ?",
                                       {r.payer_device_id, std::int64_t{r.payer_counter}}));
      if (rows.empty()) continue;  // a forwarded record: not settled here
      TS_ASSIGN_OR_RETURN(const std::string status, rows[0].GetText("status"));
      TS_ASSIGN_OR_RETURN(const std::optional<std::string> reason,
                          rows[0].GetOptionalText("reason"));
      if (status == "settled") {
        r.outcome = RecordOutcome::kSettled;
        r.reason.clear();
      } else if (status == "refused") {
        r.outcome = RecordOutcome::kRefused;
        r.reason = reason.value_or("");
      }
    }
    return Status::Ok();
  }

  Result<std::vector<CounterGap>> GapsLocked(std::string_view payer) {
    // The database finds the gaps (each counter next to the one below it), so an upload does not
    // read back every record of the payer.
    TS_ASSIGN_OR_RETURN(
        const store::Rows rows,
        store->Query("SELECT payer_counter, created_unix_ms, previous_counter FROM ("
                     "SELECT payer_counter, created_unix_ms, LAG(payer_counter, 1, 0) OVER "
                     "(ORDER BY payer_counter) AS previous_counter FROM dcep_offline_records "
                     "WHERE payer_device_id = ?) AS counters "
                     "WHERE payer_counter > previous_counter + 1 ORDER BY payer_counter LIMIT " +
                         std::to_string(kCounterGapsReportedMax),
                     {std::string(payer)}));
    std::vector<CounterGap> gaps;
    const std::int64_t now_ms = NowMs();
    for (const store::Row& row : rows) {
      TS_ASSIGN_OR_RETURN(const std::int64_t counter, row.GetInt64("payer_counter"));
      TS_ASSIGN_OR_RETURN(const std::int64_t previous, row.GetInt64("previous_counter"));
      TS_ASSIGN_OR_RETURN(const std::int64_t created, row.GetInt64("created_unix_ms"));
      CounterGap gap;
      gap.payer_device_id = std::string(payer);
      gap.first_missing = static_cast<std::uint32_t>(previous + 1);
      gap.last_missing = static_cast<std::uint32_t>(counter - 1);
      gap.since_unix_ms = created;
      gap.persistent = now_ms - created >= options.counter_gap_persistent_ms;
      gaps.push_back(std::move(gap));
    }
    return gaps;
  }
};

OfflineSettlement::OfflineSettlement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OfflineSettlement::~OfflineSettlement() = default;

Result<std::unique_ptr<OfflineSettlement>> OfflineSettlement::Open(
    OfflineSettlementOptions options) {
  TS_RETURN_IF_ERROR(CheckOperatorId("operator_id", options.operator_id));
  if (options.authority == nullptr) return InvalidArgument("authority: required");
  if (options.purses == nullptr) return InvalidArgument("purses: required");
  if (options.authority->operator_id() != options.operator_id) {
    return InvalidArgument("authority: is operator " + options.authority->operator_id() +
                           "'s, expected " + options.operator_id);
  }
  if (options.frozen_wait_ms < 0 || options.counter_gap_persistent_ms < 0 ||
      options.certificate_grace_s < 0) {
    return InvalidArgument("frozen_wait_ms, counter_gap_persistent_ms, certificate_grace_s: "
                           "expected >= 0");
  }
  const std::string role = "dcep_offline_" + options.operator_id;
  std::unique_ptr<store::Store> store;
  if (!options.postgres_url.empty()) {
    TS_ASSIGN_OR_RETURN(store, store::OpenPostgres(options.postgres_url, role));
  } else {
    TS_ASSIGN_OR_RETURN(store, store::OpenSqlite(options.data_dir, role));
  }
  TS_RETURN_IF_ERROR(
      store::ApplyMigrations(*store, Migrations()).WithContext("dcep offline settlement schema"));
  auto impl = std::unique_ptr<Impl>(
      new Impl{.mu = {}, .options = std::move(options), .store = std::move(store), .verifier = nullptr});
  impl->verifier =
      std::make_unique<dcep_wire::TransferVerifier>(impl->options.authority->root_public_key());
  TS_RETURN_IF_ERROR(impl->RetryAll().status());
  return std::unique_ptr<OfflineSettlement>(new OfflineSettlement(std::move(impl)));
}

Result<UploadResult> OfflineSettlement::Upload(std::string_view device_id, ByteView log_records) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  TS_RETURN_IF_ERROR(impl_->options.authority->DeviceCertificate(device_id).status());
  Result<std::vector<dcep_wire::LogRecord>> parsed = dcep_wire::ParseLogRecords(log_records);
  if (!parsed.ok()) return parsed.status().WithContext("log_records");
  const std::vector<dcep_wire::LogRecord>& records = *parsed;
  if (records.size() > kUploadRecordsMax) {
    return InvalidArgument("log_records: " + std::to_string(records.size()) +
                           " records, at most " + std::to_string(kUploadRecordsMax));
  }
  // Checked for all records before any is recorded: bad input leaves nothing behind.
  std::uint32_t max_sequence = 0;
  std::set<std::string> payers;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const dcep_wire::LogRecord& r = records[i];
    const std::string at = "log_records[" + std::to_string(i) + "]: ";
    if (r.direction == dcep_wire::LogDirection::kSent &&
        r.transfer.body.payer_device_id != device_id) {
      return InvalidArgument(at + "a sent record of payer " + r.transfer.body.payer_device_id +
                             ", expected the uploading device " + std::string(device_id));
    }
    if (r.direction == dcep_wire::LogDirection::kReceived &&
        r.transfer.body.payee_device_id != device_id) {
      return InvalidArgument(at + "a received record for payee " +
                             r.transfer.body.payee_device_id +
                             ", expected the uploading device " + std::string(device_id));
    }
    max_sequence = std::max(max_sequence, r.sequence);
    payers.insert(r.transfer.body.payer_device_id);
  }

  UploadResult result;
  // Records of payers of other operators, forwarded once the lock is released.
  std::vector<std::pair<std::size_t, ForwardKey>> forwards;
  {
    std::lock_guard lock(impl_->mu);
    const Source source{std::string(device_id), "", /*may_forward=*/true};
    Batch batch;
    batch.records = &result.records;
    for (const dcep_wire::LogRecord& record : records) {
      if (!batch.tx.has_value()) {
        TS_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(*impl_->store));
        batch.tx.emplace(std::move(tx));
      }
      std::optional<ForwardKey> forward;
      TS_ASSIGN_OR_RETURN(UploadedRecord outcome,
                          impl_->ProcessRecord(source, record, &forward, &batch));
      if (forward.has_value()) forwards.emplace_back(result.records.size(), std::move(*forward));
      result.records.push_back(std::move(outcome));
    }
    TS_RETURN_IF_ERROR(impl_->Flush(batch));
    const std::int64_t now_ms = impl_->NowMs();
    TS_RETURN_IF_ERROR(
        impl_->store
            ->Execute("INSERT INTO dcep_offline_devices (device_id, state, reason, state_unix_ms, "
                      "revocation_pending, log_sequence_acknowledged, recovered_fen) "
                      "VALUES (?, 'active', NULL, ?, ?, ?, NULL) ON CONFLICT (device_id) DO UPDATE "
                      "SET log_sequence_acknowledged = CASE WHEN "
                      "dcep_offline_devices.log_sequence_acknowledged < "
                      "excluded.log_sequence_acknowledged THEN excluded.log_sequence_acknowledged "
                      "ELSE dcep_offline_devices.log_sequence_acknowledged END",
                      {std::string(device_id), now_ms, store::Value::Bool(false),
                       std::int64_t{max_sequence}})
            .status());
    TS_ASSIGN_OR_RETURN(const std::int64_t still_pending, impl_->RetryPendingLocked());
    (void)still_pending;
    TS_RETURN_IF_ERROR(impl_->RefreshPendingLocked(result.records));
  }
  for (const auto& [index, key] : forwards) {
    TS_ASSIGN_OR_RETURN(const UploadedRecord forwarded, impl_->DriveForward(key));
    result.records[index].outcome = forwarded.outcome;
    result.records[index].reason = forwarded.reason;
  }
  std::lock_guard lock(impl_->mu);
  for (const std::string& payer : payers) {
    TS_ASSIGN_OR_RETURN(std::vector<CounterGap> gaps, impl_->GapsLocked(payer));
    for (CounterGap& g : gaps) result.gaps.push_back(std::move(g));
  }
  TS_ASSIGN_OR_RETURN(const std::optional<DeviceRow> device, impl_->LoadDevice(device_id));
  const std::int64_t acknowledged = device.has_value() ? device->log_sequence_acknowledged : 0;
  TS_ASSIGN_OR_RETURN(result.sync_ack,
                      impl_->options.authority->IssueSyncAck(
                          device_id, static_cast<std::uint32_t>(acknowledged)));
  return result;
}

Result<UploadedRecord> OfflineSettlement::SettleForwarded(std::string_view from_operator,
                                                          ByteView record) {
  TS_RETURN_IF_ERROR(CheckOperatorId("from_operator", from_operator));
  if (from_operator == impl_->options.operator_id) {
    return InvalidArgument("from_operator: " + std::string(from_operator) +
                           " is this operator; its devices upload, they are not forwarded");
  }
  Result<dcep_wire::LogRecord> parsed = dcep_wire::ParseLogRecord(record);
  if (!parsed.ok()) return parsed.status().WithContext("record");
  if (parsed->direction != dcep_wire::LogDirection::kReceived) {
    return InvalidArgument("record: expected a received record (from the payee's log)");
  }
  const std::string& payer_operator = parsed->payer_chain.operator_cert.body.subject_id;
  if (payer_operator != impl_->options.operator_id) {
    return InvalidArgument("record: the payer device is certified by operator " +
                           payer_operator + ", not by " + impl_->options.operator_id);
  }
  std::lock_guard lock(impl_->mu);
  // The payee uploaded it at its operator: that operator keeps the payee's purse.
  const Source source{parsed->transfer.body.payee_device_id, std::string(from_operator),
                      /*may_forward=*/false};
  TS_ASSIGN_OR_RETURN(UploadedRecord outcome,
                      impl_->ProcessRecord(source, *parsed, nullptr, nullptr));
  TS_RETURN_IF_ERROR(impl_->RetryPendingLocked().status());
  std::vector<UploadedRecord> records{std::move(outcome)};
  TS_RETURN_IF_ERROR(impl_->RefreshPendingLocked(records));
  return std::move(records[0]);
}

Result<std::int64_t> OfflineSettlement::RetryPending() { return impl_->RetryAll(); }

Status OfflineSettlement::FreezeDevice(std::string_view device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  TS_RETURN_IF_ERROR(impl_->options.authority->DeviceCertificate(device_id).status());
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const std::optional<DeviceRow> row, impl_->LoadDevice(device_id));
  if (row.has_value()) {
    switch (row->state) {
      case DeviceState::kBlocked:
        return FailedPrecondition("device_id: " + std::string(device_id) +
                                  " is blocked for a double spend; it cannot be frozen");
      case DeviceState::kRecovered:
        return FailedPrecondition("device_id: " + std::string(device_id) +
                                  " was frozen and its balance already recovered");
      case DeviceState::kFrozen:
        return impl_->DriveRevocation(device_id);  // idempotent
      case DeviceState::kActive:
        break;
    }
  }
  TS_RETURN_IF_ERROR(impl_->store->RunInTransaction([&](store::Store& s) -> Status {
    return Impl::SetDeviceState(s, device_id, DeviceState::kFrozen, "frozen: lost or stolen",
                                impl_->NowMs());
  }));
  return impl_->DriveRevocation(device_id);
}

Result<std::int64_t> OfflineSettlement::RecoverFrozenBalance(std::string_view device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const std::optional<DeviceRow> row, impl_->LoadDevice(device_id));
  if (!row.has_value()) {
    return NotFound("device_id: " + std::string(device_id) + " is not frozen");
  }
  if (row->state == DeviceState::kRecovered && row->recovered_fen.has_value()) {
    return *row->recovered_fen;
  }
  if (row->state != DeviceState::kFrozen) {
    return FailedPrecondition("device_id: " + std::string(device_id) + " is " +
                              std::string(DeviceStateName(row->state)) + ", not frozen");
  }
  const std::int64_t recoverable_from = row->state_unix_ms + impl_->options.frozen_wait_ms;
  if (impl_->NowMs() < recoverable_from) {
    return FailedPrecondition("waiting period: the balance of " + std::string(device_id) +
                              " is recoverable from unix ms " + std::to_string(recoverable_from));
  }
  std::int64_t amount = 0;
  if (row->recovered_fen.has_value()) {
    amount = *row->recovered_fen;
  } else {
    // Settle what payees uploaded during the waiting period first.
    TS_RETURN_IF_ERROR(impl_->RetryPendingLocked().status());
    TS_ASSIGN_OR_RETURN(amount, impl_->options.purses->PurseBalance(device_id));
    if (amount < 0) return Internal("purse of " + std::string(device_id) + " is negative");
    TS_RETURN_IF_ERROR(impl_->store
                           ->Execute("UPDATE dcep_offline_devices SET recovered_fen = ? "
                                     "WHERE device_id = ?",
                                     {amount, std::string(device_id)})
                           .status());
  }
  if (amount > 0) {
    TS_RETURN_IF_ERROR(impl_->options.purses->UnloadPurseValue(
        device_id, amount, "offline-recover:" + std::string(device_id)));
  }
  const std::int64_t now_ms = impl_->NowMs();
  TS_RETURN_IF_ERROR(impl_->store->RunInTransaction([&](store::Store& s) -> Status {
    TS_RETURN_IF_ERROR(s.Execute("UPDATE dcep_offline_devices SET state = 'recovered', "
                                 "state_unix_ms = ? WHERE device_id = ?",
                                 {now_ms, std::string(device_id)})
                           .status());
    return s
        .Execute("UPDATE dcep_offline_records SET status = 'refused', reason = ? "
                 "WHERE payer_device_id = ? AND status = 'pending'",
                 {"payer device " + std::string(device_id) +
                      " was frozen and its balance recovered by the owner",
                  std::string(device_id)})
        .status();
  }));
  return amount;
}

Result<std::vector<CounterGap>> OfflineSettlement::CounterGaps(std::string_view payer_device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId("payer_device_id", payer_device_id));
  std::lock_guard lock(impl_->mu);
  return impl_->GapsLocked(payer_device_id);
}

Result<DeviceSettlementState> OfflineSettlement::Device(std::string_view device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const std::optional<DeviceRow> row, impl_->LoadDevice(device_id));
  if (!row.has_value()) {
    return NotFound("device_id: " + std::string(device_id) + " unknown to offline settlement");
  }
  DeviceSettlementState state;
  state.device_id = std::string(device_id);
  state.state = row->state;
  state.reason = row->reason;
  state.state_unix_ms = row->state_unix_ms;
  state.log_sequence_acknowledged = static_cast<std::uint32_t>(row->log_sequence_acknowledged);
  state.recovered_fen = row->recovered_fen.value_or(-1);
  return state;
}

Result<std::vector<DoubleSpendEvidence>> OfflineSettlement::DoubleSpends(
    std::string_view payer_device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId("payer_device_id", payer_device_id));
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(
      const store::Rows rows,
      impl_->store->Query(
          "SELECT c.payer_counter AS payer_counter, r.transfer AS standing, "
          "c.transfer AS conflicting, c.chain AS chain, c.payee_device_id AS payee, "
          "c.amount_fen AS amount_fen, c.purse_part_fen AS purse_part_fen, "
          "c.loss_part_fen AS loss_part_fen, c.status AS status "
          "FROM dcep_offline_conflicts c JOIN dcep_offline_records r "
          "ON r.payer_device_id = c.payer_device_id AND r.payer_counter = c.payer_counter "
          "WHERE c.payer_device_id = ? ORDER BY c.payer_counter, c.detected_unix_ms",
          {std::string(payer_device_id)}));
  std::vector<DoubleSpendEvidence> out;
  for (const store::Row& row : rows) {
    DoubleSpendEvidence e;
    e.payer_device_id = std::string(payer_device_id);
    TS_ASSIGN_OR_RETURN(const std::int64_t counter, row.GetInt64("payer_counter"));
    e.payer_counter = static_cast<std::uint32_t>(counter);
    TS_ASSIGN_OR_RETURN(e.standing_transfer, row.GetBlob("standing"));
    TS_ASSIGN_OR_RETURN(e.conflicting_transfer, row.GetBlob("conflicting"));
    TS_ASSIGN_OR_RETURN(e.conflicting_chain, row.GetBlob("chain"));
    TS_ASSIGN_OR_RETURN(e.conflicting_payee_device_id, row.GetText("payee"));
    TS_ASSIGN_OR_RETURN(e.amount_fen, row.GetInt64("amount_fen"));
    TS_ASSIGN_OR_RETURN(const std::optional<std::int64_t> purse,
                        row.GetOptionalInt64("purse_part_fen"));
    TS_ASSIGN_OR_RETURN(const std::optional<std::int64_t> loss,
                        row.GetOptionalInt64("loss_part_fen"));
    e.paid_from_purse_fen = purse.value_or(-1);
    e.paid_from_loss_fen = loss.value_or(-1);
    TS_ASSIGN_OR_RETURN(const std::string status, row.GetText("status"));
    e.compensated = status == "compensated";
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace tapstack::dcep
