// OfflineSettlement: one operator's reconciliation of dual-offline e-CNY payments
// (digital-currency.md §5.1; docs/dcep-settlement.md). Devices upload their applet log (READ LOG);
// each signed transfer is verified from the root and settled once, payer purse → payee purse,
// through OfflinePurses.
//
// ## A record's way (in log order)
//   1. Verify: payer chain root → operator → device (VerifyOfflineTransferFromRoot; a device
//      certificate that expired up to certificate_grace_s before the upload is still accepted,
//      because the payee checked it offline), currency 156, payer certified by THIS operator —
//      or, for a received record uploaded here whose payer another operator certified, forwarded
//      (see "Across operators" below). A record that fails is kept as evidence (rejected) and
//      never keyed: a forgery cannot claim an honest device's counter.
//   2. De-duplicate on (payer device, payer counter), comparing SHA-256 of the signed body E3:
//      the same body again (the other side's upload, a retry) is a no-op.
//   3. Revocation as of upload: a payer revoked for anything but a freeze (a double spend, or a
//      frozen device after its balance was recovered) is refused; both kept as evidence. A frozen
//      device's transfers still settle during the waiting period.
//   4. A different body under a known key is a double spend: the payer is blocked and revoked,
//      both bodies are kept, and the loss policy applies: the FIRST RECORDED body stands; the
//      conflicting payee is paid from the payer's purse as far as it holds value, the rest from
//      the operator's loss account (OfflinePurses::CoverOfflineLoss); amounts recorded.
//   5. Otherwise the record is settled: MovePurseValue (payee "op-<this operator>": an unload,
//      UnloadPurseValue). A payee whose operator is unknown (payer uploads first, payee not
//      certified here, no directory) or a purse that cannot pay yet (received value not uploaded
//      yet) leaves it pending; pending records are re-driven after every upload (RetryPending).
//      A definite refusal of the move (kNotFound, kInvalidArgument, kAlreadyExists, kOutOfRange:
//      e.g. the payee's operator does not know the payee device) refuses the record (kept, with
//      the reason): the move's key is spent, a retry could never succeed.
// Durable before answered: each record is committed (pending) before value moves, and marked
// settled after; every value move has a key derived from the record, so a crash anywhere is
// repaired by RetryPending (run by Open) without moving value twice. An upload does this per
// batch, not per record: its records are written in one transaction, the payments among them
// move in one OfflinePurses::MovePurseValues call (Operator: one journal commit and one ledger
// batch), and their outcomes are written in one more transaction. A record that must be driven
// alone (a double spend, an unload) first flushes the batch so far, so value moves in log order.
//
// ## Across operators
// Each operator settles the devices it certified (their purses are in its ledger). A payee device
// certified by B holding a transfer from a payer certified by A:
//   - the payer uploads to A first: A resolves the payee's operator (operator_of_device) and
//     MovePurseValue(payer, payee, "B") moves the value A → B through the central bank
//     (Operator: purse_move_out at A, purse_move_in at B);
//   - the payee uploads to B first: B verifies the record from the root, keeps it as evidence in
//     dcep_offline_forwarded (keyed on (payer, counter, body digest): re-uploading it is a
//     duplicate, a second body under the same counter is forwarded too so that A sees the double
//     spend), and forwards the E9 log record to A (forward_to_operator), where SettleForwarded
//     runs steps 1-5 as if the payer had uploaded, with the payee's operator known (B). A
//     transient failure of the hook (IsTransient) keeps it pending at B: RetryPending (and Open)
//     forward it again; A de-duplicates, so forwarding twice settles once. Any other error, or
//     A's "rejected", refuses it at B (kept with the reason).
// The payee's answer for a forwarded record is A's outcome (settled, duplicate, double_spend,
// refused, rejected), or kForwarded when A recorded it as pending (A settles it later), or
// kPending while it is not yet forwarded.
// The hook is called without this settlement's lock held (two operators forwarding to each other
// at once cannot deadlock).
//
// JSON form of a forward, for a link between processes (the in-process path, DcepNetwork, calls
// SettleForwarded directly):
//   {"from_operator": "ccb", "to_operator": "icbc", "record": hex of the E9 log record}
//   → {"log_sequence", "payer_device_id", "payer_counter", "payee_device_id", "amount_fen",
//      "outcome": RecordOutcomeName, "reason"} or {"error", "message"} (error: ErrorCodeName).
// Transient errors mean "retry with the same record"; others are A's definite refusal.
//
// ## Counter gaps
// Per payer device the counters seen so far (settled, pending or refused) are contiguous from 1
// unless a payee has not uploaded yet; gaps are reported, "persistent" after
// counter_gap_persistent_ms.
//
// ## Lost devices
// FreezeDevice revokes (no loads, payees refuse it after their next sync). After
// frozen_wait_ms on the clock RecoverFrozenBalance moves what the purse still holds — the last
// synced balance minus the device's transfers uploaded since by payees — to the owner wallet.
//
// Thread-safety: all methods may be called from any thread (one mutex; the store is one
// connection).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "dcep/certificate_authority.h"
#include "dcep/offline_purses.h"

namespace tapstack::dcep {

inline constexpr std::int64_t kFrozenWaitMillisDefault = 7 * 86'400'000LL;
inline constexpr std::int64_t kCounterGapPersistentMillisDefault = 7 * 86'400'000LL;
inline constexpr std::int64_t kCertificateGraceSecondsDefault = 30 * 86'400LL;
// Gaps reported per payer device (the oldest first).
inline constexpr std::size_t kCounterGapsReportedMax = 64;
// Log records one upload may carry (an applet keeps far fewer; READ LOG pages by 8).
inline constexpr std::size_t kUploadRecordsMax = 1024;
// Pending records re-driven per RetryPending call.
inline constexpr std::size_t kRetryBatchMax = 1000;

enum class RecordOutcome {
  kSettled,      // value moved now
  kDuplicate,    // the same record was uploaded before (by either side): nothing moved
  kPending,      // recorded; value moves when possible (see reason)
  kDoubleSpend,  // a second body under a known (payer, counter): payer blocked, loss policy
  kRefused,      // verified but not settled (payer revoked, unload to another operator, ...)
  kRejected,     // does not verify (chain, signature, currency, foreign payer): evidence only
  kForwarded,    // payer of another operator: recorded there as pending, settled by it later
};
std::string_view RecordOutcomeName(RecordOutcome outcome);

struct UploadedRecord {
  std::uint32_t log_sequence = 0;
  std::string payer_device_id;
  std::uint32_t payer_counter = 0;
  std::string payee_device_id;
  std::int64_t amount_fen = 0;
  RecordOutcome outcome = RecordOutcome::kRejected;
  std::string reason;  // why pending, refused or rejected
};

struct OfflineSettlementOptions {
  std::string operator_id;
  std::filesystem::path data_dir;  // SQLite <data_dir>/dcep_offline_<id>.db
  std::string postgres_url;        // when set, PostgreSQL schema dcep_offline_<id> instead
  OperatorAuthority* authority = nullptr;  // not owned; required; its operator id = operator_id
  OfflinePurses* purses = nullptr;         // not owned; required
  const Clock* clock = nullptr;            // nullptr = SystemClock
  std::int64_t frozen_wait_ms = kFrozenWaitMillisDefault;
  std::int64_t counter_gap_persistent_ms = kCounterGapPersistentMillisDefault;
  std::int64_t certificate_grace_s = kCertificateGraceSecondsDefault;
  // The operator keeping the purse of a payee device this operator did not certify; "" when
  // unknown or ambiguous (an id two operators certified): the record then waits for the payee's
  // own upload. Optional.
  std::function<std::string(std::string_view device_id)> operator_of_device;
  // Forwards a received record (one E9 log record) whose payer `payer_operator` certified to that
  // operator's settlement (its SettleForwarded, with this operator as from_operator) and returns
  // its answer. Called without this settlement's lock; must be thread-safe. Optional: without
  // it such records are rejected ("settled there") as before.
  std::function<Result<UploadedRecord>(std::string_view payer_operator, ByteView record)>
      forward_to_operator;
};

struct CounterGap {
  std::string payer_device_id;
  std::uint32_t first_missing = 0;
  std::uint32_t last_missing = 0;
  std::int64_t since_unix_ms = 0;  // when the first counter above the gap was recorded
  bool persistent = false;         // open for counter_gap_persistent_ms or longer
};

struct UploadResult {
  std::vector<UploadedRecord> records;  // in log order
  std::vector<CounterGap> gaps;         // of the payers in this upload
  Bytes sync_ack;                       // E7 for the uploading device (SYNC)
};

enum class DeviceState { kActive, kBlocked, kFrozen, kRecovered };
std::string_view DeviceStateName(DeviceState state);

struct DeviceSettlementState {
  std::string device_id;
  DeviceState state = DeviceState::kActive;
  std::string reason;
  std::int64_t state_unix_ms = 0;
  std::uint32_t log_sequence_acknowledged = 0;
  std::int64_t recovered_fen = -1;  // set once RecoverFrozenBalance decided it
};

struct DoubleSpendEvidence {
  std::string payer_device_id;
  std::uint32_t payer_counter = 0;
  Bytes standing_transfer;     // E2 of the first recorded body
  Bytes conflicting_transfer;  // E2 of the other body
  Bytes conflicting_chain;     // E4 that came with it
  std::string conflicting_payee_device_id;
  std::int64_t amount_fen = 0;
  std::int64_t paid_from_purse_fen = -1;  // -1 until decided
  std::int64_t paid_from_loss_fen = -1;
  bool compensated = false;
};

class OfflineSettlement {
 public:
  // Opens the store (role "dcep_offline_<id>"), then re-drives what a crash left pending.
  // Errors: kInvalidArgument (options), store errors.
  static Result<std::unique_ptr<OfflineSettlement>> Open(OfflineSettlementOptions options);
  ~OfflineSettlement();

  // Uploads a READ LOG answer of `device_id` (a device certified by this operator): settles each
  // record as above and answers the signed sync acknowledgement (highest log sequence uploaded so
  // far, operator time, revocation list). Re-uploading is harmless. Errors: kNotFound (device
  // not certified here), kInvalidArgument (records do not parse, a sent record whose payer or a
  // received record whose payee is not `device_id`, more than kUploadRecordsMax) — nothing is
  // recorded then; store and OfflinePurses transport errors (what was recorded stays; upload again).
  Result<UploadResult> Upload(std::string_view device_id, ByteView log_records);

  // The payer's operator's side of forwarding (see "Across operators"): `record` is one E9 log
  // record from the log of a payee device certified by `from_operator`, whose payer this
  // operator certified. Runs steps 1-5 as for an upload by the payer (the payee's operator is
  // `from_operator`) and answers the record's outcome. Idempotent: forwarding it again answers
  // kDuplicate. Errors: kInvalidArgument (operator id, the record does not parse, is not a
  // received record, or its payer is not certified by this operator) — nothing is recorded;
  // store and OfflinePurses transport errors (what was recorded stays; forward again).
  Result<UploadedRecord> SettleForwarded(std::string_view from_operator, ByteView record);

  // Re-drives pending records, revocations, compensations and forwards to other operators.
  // Returns how many records (forwards included) are still pending. Errors: store errors.
  Result<std::int64_t> RetryPending();

  // Lost or stolen device: revoked, no further loads; its uploaded transfers keep settling during
  // the waiting period. Idempotent. Errors: kNotFound (not certified here), kFailedPrecondition
  // (blocked for a double spend, or already recovered), store errors.
  Status FreezeDevice(std::string_view device_id);

  // After frozen_wait_ms: moves the purse's balance to the owner wallet and returns it; later
  // calls return the same amount. Transfers of the device uploaded afterwards are refused.
  // Errors: kNotFound, kFailedPrecondition (not frozen; waiting period not over — the message
  // says when), OfflinePurses errors (retry).
  Result<std::int64_t> RecoverFrozenBalance(std::string_view device_id);

  // Errors: kInvalidArgument (device id), store errors.
  Result<std::vector<CounterGap>> CounterGaps(std::string_view payer_device_id);
  // kNotFound for a device that never uploaded nor was blocked or frozen.
  Result<DeviceSettlementState> Device(std::string_view device_id);
  Result<std::vector<DoubleSpendEvidence>> DoubleSpends(std::string_view payer_device_id);

 private:
  struct Impl;
  explicit OfflineSettlement(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapstack::dcep
