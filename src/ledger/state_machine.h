// StateMachine: the ledger's rules as a pure function of (state, request, timestamp) — no I/O, no
// clock, no threads.
//
// The durable Ledger (ledger/ledger.h) runs it behind its write-ahead log and replays the log
// through it on open; StoreLedger (ledger/store_ledger.h) loads the rows one request touches from
// SQL into a fresh StateMachine, applies the request and writes the changes back. The same
// request applied to the same state at the same timestamp always gives the same results and the
// same new state (hash-table order never influences anything), which is what makes replay exact.
//
// ## A request
// CreateAccounts / CreateTransfers take up to kBatchEventsMax events and a timestamp T greater
// than last_timestamp(); event i gets timestamp T + i. Events are applied in order and see each
// other's effects; each gets its own result. Linked events (flags.linked) form a chain that ends
// at the first event without the flag: if any event of the chain fails, the effects of the whole
// chain are undone, the failing event keeps its own result and every other event of the chain gets
// kLinkedEventFailed; a chain still open at the end of the request fails with
// kLinkedEventChainOpen on its last event (TigerBeetle's rules). Unlike TigerBeetle, `exists` does
// not break a chain, so retrying a chain that succeeded answers `exists` for each event. A
// transient failure (IsTransientFailure) is remembered for its id even when its chain is undone:
// the id can never succeed later.
//
// ## Precedence of transfer results (first that applies wins)
//  1. timestamp_must_be_zero, reserved_field, reserved_flag, id_must_not_be_zero/int_max
//  2. id_already_failed (a transient failure is remembered for this id)
//  3. exists_with_different_{flags, pending_id, timeout, debit_account_id, credit_account_id,
//     amount, user_data_128/64/32, ledger, code} / exists — comparing in that order, ignoring the
//     linked flag; for post/void a 0 account, ledger or code and the "full amount" sentinel match
//     what the pending transfer supplied
//  4. flags_are_mutually_exclusive (pending, post_pending_transfer, void_pending_transfer)
//  post_pending_transfer / void_pending_transfer:
//  5. pending_id_must_not_be_zero/int_max, pending_id_must_be_different,
//     timeout_reserved_for_pending_transfer, amount_must_not_be_zero (post)
//  6. pending_transfer_not_found, pending_transfer_not_pending,
//     pending_transfer_has_different_{debit_account_id, credit_account_id, ledger, code}
//     (a 0 field in the event means "as in the pending transfer")
//  7. exceeds_pending_transfer_amount (post: amount > pending amount; kPostFullPendingAmount posts
//     all of it), pending_transfer_has_different_amount (void: amount not 0 and not the pending
//     one)
//  8. pending_transfer_already_posted/already_voided/expired (expired also when the timeout has
//     passed at this event's timestamp but no sweep has run yet)
//  9. overflows_debits_posted, overflows_credits_posted
//  other transfers:
//  5. pending_id_must_be_zero, timeout_reserved_for_pending_transfer,
//     {debit,credit}_account_id_must_not_be_zero/int_max, accounts_must_be_different,
//     ledger_must_not_be_zero, code_must_not_be_zero, amount_must_not_be_zero
//  6. debit_account_not_found, credit_account_not_found, accounts_must_have_the_same_ledger,
//     transfer_must_have_the_same_ledger_as_accounts
//  7. overflows_{debits_pending, credits_pending (pending) | debits_posted, credits_posted},
//     overflows_debits, overflows_credits, overflows_timeout
//  8. exceeds_credits (debit account with debits_must_not_exceed_credits:
//     debits_pending + debits_posted + amount > credits_posted + credit_limit), exceeds_debits
//     (credit account with credits_must_not_exceed_debits, mirrored)
// Limits are checked when a hold is placed (pessimistic reservation), so posting or voiding it can
// never break them.
//
// ## Precedence of account results
//  timestamp_must_be_zero, reserved_field, reserved_flag, id_must_not_be_zero/int_max,
//  exists_with_different_{flags, user_data_128/64/32, ledger, code, credit_limit} / exists,
//  flags_are_mutually_exclusive, {debits,credits}_{pending,posted}_must_be_zero,
//  credit_limit_requires_balance_flag, ledger_must_not_be_zero, code_must_not_be_zero.
//
// ## Expiry
// A pending transfer with timeout t expires at timestamp + t seconds. ExpirePending(T) releases
// the holds of transfers whose expiry is ≤ T, earliest first (ties by creation order); it never
// releases early, and a post or void after the expiry instant fails with pending_transfer_expired
// whether or not a sweep ran.
//
// Not thread-safe: one writer at a time; const methods may run concurrently with each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "core/status.h"
#include "ledger/checksum.h"
#include "ledger/types.h"

namespace tapstack::ledger {

// A transfer as stored, with the state of its hold (kNone unless it is a pending transfer).
struct TransferRecord {
  Transfer transfer;
  PendingState pending_state = PendingState::kNone;
};

// A remembered transient failure.
struct TransferFailure {
  Id128 id;
  CreateTransferResult result = CreateTransferResult::kOk;
  std::uint64_t timestamp = 0;  // of the failed event
};

class StateMachine {
 public:
  StateMachine();
  ~StateMachine();
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Forgets everything (keeps allocated memory for reuse).
  void Reset();

  // The timestamp of the last event applied (0 for a new state). The next request's timestamp must
  // be greater.
  std::uint64_t last_timestamp() const;

  // Applies one request; results.size() must equal events.size() (≤ kBatchEventsMax) and
  // timestamp + events.size() - 1 must not overflow. Returns true when the state changed (a
  // request that changed nothing — retries answered with `exists`, invalid events — need not be
  // logged). Calling with a timestamp ≤ last_timestamp() is a programmer error (std::logic_error).
  bool CreateAccounts(std::span<const Account> events, std::uint64_t timestamp,
                      std::span<CreateAccountResult> results);
  bool CreateTransfers(std::span<const Transfer> events, std::uint64_t timestamp,
                       std::span<CreateTransferResult> results);

  // Voids up to `limit` pending transfers whose timeout has passed at `timestamp` (one timestamp is
  // consumed). Returns how many expired. Same timestamp rule as above.
  std::uint64_t ExpirePending(std::uint64_t timestamp, std::uint64_t limit);

  // The earliest instant at which a pending transfer may expire, if any hold has a timeout. May be
  // earlier than a real expiry (a hold resolved since); never later.
  std::optional<std::uint64_t> NextExpiry() const;

  // Look-ups (pointers valid until the next mutating call).
  const Account* FindAccount(Id128 id) const;
  std::optional<TransferRecord> FindTransfer(Id128 id) const;
  std::optional<CreateTransferResult> FindFailure(Id128 id) const;

  // Creation-order index of an id (for AccountAt/TransferAt), if it exists.
  std::optional<std::size_t> AccountIndexOf(Id128 id) const;
  std::optional<std::size_t> TransferIndexOf(Id128 id) const;

  // Everything, in creation order (for audit, digests and snapshots).
  std::size_t account_count() const;
  std::size_t transfer_count() const;
  std::size_t failure_count() const;
  const Account& AccountAt(std::size_t index) const;
  TransferRecord TransferAt(std::size_t index) const;
  TransferFailure FailureAt(std::size_t index) const;

  // Loading rows that were created elsewhere (StoreLedger's per-request prefetch). They are taken
  // as they are, without checks, and do not move last_timestamp(); SetLastTimestamp does.
  // Loading an id twice is a programmer error (std::logic_error).
  void LoadAccount(const Account& account);
  void LoadTransfer(const Transfer& transfer, PendingState state);
  void LoadFailure(const TransferFailure& failure);
  void SetLastTimestamp(std::uint64_t timestamp);

  // SHA-256/128 over every account, transfer (with its hold state) and failure in creation order
  // and last_timestamp(). Two state machines that applied the same requests have the same digest.
  Checksum Digest() const;

  // Tests only: lets a test break an invariant (an account's balance) to prove that the audit
  // notices. nullptr when the account does not exist.
  Account* MutableAccountForTesting(Id128 id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapstack::ledger
