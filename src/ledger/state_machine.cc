#include "ledger/state_machine.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ledger/internal/chunked_vector.h"
#include "ledger/internal/id_table.h"
#include "ledger/limits.h"

namespace tapstack::ledger {

namespace {

__extension__ typedef unsigned __int128 U128;

using AR = CreateAccountResult;
using TR = CreateTransferResult;

constexpr std::size_t kNoChain = ~std::size_t{0};
// How many events ahead ApplyRequest prefetches (enough misses in flight to hide DRAM latency).
constexpr std::size_t kPrefetchDistance = 16;

bool AddOverflows(std::uint64_t a, std::uint64_t b) { return a + b < a; }

template <std::size_t N>
bool AllZero(const std::array<std::uint8_t, N>& bytes) {
  for (std::uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

// A pending transfer with a timeout, keyed for the min-heap by (expires_at, creation index).
struct ExpiryEntry {
  std::uint64_t expires_at;
  std::uint32_t index;
};
struct ExpiryLater {
  bool operator()(const ExpiryEntry& a, const ExpiryEntry& b) const {
    if (a.expires_at != b.expires_at) return a.expires_at > b.expires_at;
    return a.index > b.index;
  }
};

std::uint64_t ExpiresAt(const Transfer& pending) {
  return pending.timestamp + std::uint64_t{pending.timeout} * kNanosPerSecond;
}

// One step to take back when a linked chain fails.
struct UndoEntry {
  enum class Kind : std::uint8_t { kAccountInserted, kBalances, kTransferInserted, kPendingState };
  Kind kind;
  PendingState old_state;
  std::uint32_t index;
  std::uint64_t debits_pending;
  std::uint64_t debits_posted;
  std::uint64_t credits_pending;
  std::uint64_t credits_posted;
};

}  // namespace

struct StateMachine::Impl {
  internal::ChunkedVector<Account> accounts;
  internal::IdTable account_index;
  internal::ChunkedVector<Transfer> transfers;
  internal::ChunkedVector<PendingState> pending_states;
  internal::IdTable transfer_index;
  internal::ChunkedVector<TransferFailure> failures;
  internal::IdTable failure_index;
  // Min-heap of holds with a timeout. Entries are never removed when a hold is resolved or its
  // chain is undone; ExpirePending skips entries that no longer describe a pending hold.
  std::vector<ExpiryEntry> expiry_heap;
  std::vector<UndoEntry> undo;
  bool in_chain = false;
  std::uint64_t last_timestamp = 0;

  auto AccountKey() const {
    return [this](std::uint32_t i) { return accounts[i].id; };
  }
  auto TransferKey() const {
    return [this](std::uint32_t i) { return transfers[i].id; };
  }
  auto FailureKey() const {
    return [this](std::uint32_t i) { return failures[i].id; };
  }

  std::uint32_t FindAccountIndex(Id128 id) const { return account_index.Find(id, AccountKey()); }
  std::uint32_t FindTransferIndex(Id128 id) const { return transfer_index.Find(id, TransferKey()); }
  std::uint32_t FindFailureIndex(Id128 id) const { return failure_index.Find(id, FailureKey()); }

  void CheckTimestamp(std::uint64_t timestamp, std::size_t count) const {
    if (timestamp <= last_timestamp) {
      throw std::logic_error("ledger state machine: timestamp " + std::to_string(timestamp) +
                             " is not after " + std::to_string(last_timestamp));
    }
    if (count > kBatchEventsMax || timestamp + count < timestamp) {
      throw std::logic_error("ledger state machine: request too large");
    }
  }

  // ---- undo ----

  void SaveBalances(std::uint32_t index) {
    if (!in_chain) return;
    const Account& a = accounts[index];
    undo.push_back(UndoEntry{UndoEntry::Kind::kBalances, PendingState::kNone, index,
                             a.debits_pending, a.debits_posted, a.credits_pending,
                             a.credits_posted});
  }
  void SaveInsert(UndoEntry::Kind kind, std::uint32_t index) {
    if (!in_chain) return;
    undo.push_back(UndoEntry{kind, PendingState::kNone, index, 0, 0, 0, 0});
  }
  void SavePendingState(std::uint32_t index) {
    if (!in_chain) return;
    undo.push_back(
        UndoEntry{UndoEntry::Kind::kPendingState, pending_states[index], index, 0, 0, 0, 0});
  }

  void Undo() {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      switch (it->kind) {
        case UndoEntry::Kind::kAccountInserted:
          account_index.Erase(accounts[it->index].id, AccountKey());
          accounts.pop_back();
          break;
        case UndoEntry::Kind::kBalances: {
          Account& a = accounts[it->index];
          a.debits_pending = it->debits_pending;
          a.debits_posted = it->debits_posted;
          a.credits_pending = it->credits_pending;
          a.credits_posted = it->credits_posted;
          break;
        }
        case UndoEntry::Kind::kTransferInserted:
          transfer_index.Erase(transfers[it->index].id, TransferKey());
          transfers.pop_back();
          pending_states.pop_back();
          break;
        case UndoEntry::Kind::kPendingState:
          pending_states[it->index] = it->old_state;
          break;
      }
    }
    undo.clear();
  }

  // ---- inserts ----

  void InsertAccount(const Account& account) {
    const auto index = static_cast<std::uint32_t>(accounts.size());
    accounts.push_back(account);
    account_index.Insert(account.id, index);
    SaveInsert(UndoEntry::Kind::kAccountInserted, index);
  }

  void InsertTransfer(const Transfer& transfer, PendingState state) {
    const auto index = static_cast<std::uint32_t>(transfers.size());
    transfers.push_back(transfer);
    pending_states.push_back(state);
    transfer_index.Insert(transfer.id, index);
    SaveInsert(UndoEntry::Kind::kTransferInserted, index);
    if (state == PendingState::kPending && transfer.timeout != 0) {
      expiry_heap.push_back(ExpiryEntry{ExpiresAt(transfer), index});
      std::push_heap(expiry_heap.begin(), expiry_heap.end(), ExpiryLater{});
    }
  }

  void InsertFailure(const TransferFailure& failure) {
    const auto index = static_cast<std::uint32_t>(failures.size());
    failures.push_back(failure);
    failure_index.Insert(failure.id, index);
  }

  // ---- accounts ----

  AR CreateAccount(const Account& a, std::uint64_t timestamp) {
    namespace f = account_flags;
    if (a.timestamp != 0) return AR::kTimestampMustBeZero;
    if (a.reserved != 0 || !AllZero(a.reserved_tail)) return AR::kReservedField;
    if ((a.flags & ~f::kAll) != 0) return AR::kReservedFlag;
    if (a.id.is_zero()) return AR::kIdMustNotBeZero;
    if (a.id.is_max()) return AR::kIdMustNotBeIntMax;

    const std::uint32_t existing = FindAccountIndex(a.id);
    if (existing != internal::IdTable::kNotFound) {
      const Account& e = accounts[existing];
      if ((a.flags & ~f::kLinked) != (e.flags & ~f::kLinked)) return AR::kExistsWithDifferentFlags;
      if (a.user_data_128 != e.user_data_128) return AR::kExistsWithDifferentUserData128;
      if (a.user_data_64 != e.user_data_64) return AR::kExistsWithDifferentUserData64;
      if (a.user_data_32 != e.user_data_32) return AR::kExistsWithDifferentUserData32;
      if (a.ledger != e.ledger) return AR::kExistsWithDifferentLedger;
      if (a.code != e.code) return AR::kExistsWithDifferentCode;
      if (a.credit_limit != e.credit_limit) return AR::kExistsWithDifferentCreditLimit;
      return AR::kExists;
    }

    const bool debit_limited = (a.flags & f::kDebitsMustNotExceedCredits) != 0;
    const bool credit_limited = (a.flags & f::kCreditsMustNotExceedDebits) != 0;
    if (debit_limited && credit_limited) return AR::kFlagsAreMutuallyExclusive;
    if (a.debits_pending != 0) return AR::kDebitsPendingMustBeZero;
    if (a.debits_posted != 0) return AR::kDebitsPostedMustBeZero;
    if (a.credits_pending != 0) return AR::kCreditsPendingMustBeZero;
    if (a.credits_posted != 0) return AR::kCreditsPostedMustBeZero;
    if (a.credit_limit != 0 && !debit_limited && !credit_limited) {
      return AR::kCreditLimitRequiresBalanceFlag;
    }
    if (a.ledger == 0) return AR::kLedgerMustNotBeZero;
    if (a.code == 0) return AR::kCodeMustNotBeZero;

    Account stored = a;
    stored.timestamp = timestamp;
    InsertAccount(stored);
    return AR::kOk;
  }

  // ---- transfers ----

  TR CompareExisting(const Transfer& t, const Transfer& e) const {
    namespace f = transfer_flags;
    if ((t.flags & ~f::kLinked) != (e.flags & ~f::kLinked)) return TR::kExistsWithDifferentFlags;
    if (t.pending_id != e.pending_id) return TR::kExistsWithDifferentPendingId;
    if (t.timeout != e.timeout) return TR::kExistsWithDifferentTimeout;
    const bool post = (e.flags & f::kPostPendingTransfer) != 0;
    const bool resolves = post || (e.flags & f::kVoidPendingTransfer) != 0;
    // A post/void may leave accounts, ledger and code 0 ("as in the pending transfer").
    auto id_differs = [resolves](Id128 given, Id128 stored) {
      return resolves ? (!given.is_zero() && given != stored) : given != stored;
    };
    auto u32_differs = [resolves](std::uint32_t given, std::uint32_t stored) {
      return resolves ? (given != 0 && given != stored) : given != stored;
    };
    if (id_differs(t.debit_account_id, e.debit_account_id)) {
      return TR::kExistsWithDifferentDebitAccountId;
    }
    if (id_differs(t.credit_account_id, e.credit_account_id)) {
      return TR::kExistsWithDifferentCreditAccountId;
    }
    bool amount_differs = t.amount != e.amount;
    if (post && t.amount == kPostFullPendingAmount) {
      const std::uint32_t p = FindTransferIndex(e.pending_id);
      amount_differs = p == internal::IdTable::kNotFound || transfers[p].amount != e.amount;
    } else if (resolves && !post) {
      amount_differs = t.amount != 0 && t.amount != e.amount;
    }
    if (amount_differs) return TR::kExistsWithDifferentAmount;
    if (t.user_data_128 != e.user_data_128) return TR::kExistsWithDifferentUserData128;
    if (t.user_data_64 != e.user_data_64) return TR::kExistsWithDifferentUserData64;
    if (t.user_data_32 != e.user_data_32) return TR::kExistsWithDifferentUserData32;
    if (u32_differs(t.ledger, e.ledger)) return TR::kExistsWithDifferentLedger;
    if (u32_differs(t.code, e.code)) return TR::kExistsWithDifferentCode;
    return TR::kExists;
  }

  std::uint32_t RequireAccount(Id128 id) const {
    const std::uint32_t index = FindAccountIndex(id);
    if (index == internal::IdTable::kNotFound) {
      // A stored pending transfer always names existing accounts (accounts are never deleted).
      throw std::logic_error("ledger state machine: account of a pending transfer is missing");
    }
    return index;
  }

  TR PostOrVoid(const Transfer& t, std::uint64_t timestamp, bool post) {
    if (t.pending_id.is_zero()) return TR::kPendingIdMustNotBeZero;
    if (t.pending_id.is_max()) return TR::kPendingIdMustNotBeIntMax;
    if (t.pending_id == t.id) return TR::kPendingIdMustBeDifferent;
    if (t.timeout != 0) return TR::kTimeoutReservedForPendingTransfer;
    if (post && t.amount == 0) return TR::kAmountMustNotBeZero;

    const std::uint32_t pi = FindTransferIndex(t.pending_id);
    if (pi == internal::IdTable::kNotFound) return TR::kPendingTransferNotFound;
    const Transfer& p = transfers[pi];
    if ((p.flags & transfer_flags::kPending) == 0) return TR::kPendingTransferNotPending;
    if (!t.debit_account_id.is_zero() && t.debit_account_id != p.debit_account_id) {
      return TR::kPendingTransferHasDifferentDebitAccountId;
    }
    if (!t.credit_account_id.is_zero() && t.credit_account_id != p.credit_account_id) {
      return TR::kPendingTransferHasDifferentCreditAccountId;
    }
    if (t.ledger != 0 && t.ledger != p.ledger) return TR::kPendingTransferHasDifferentLedger;
    if (t.code != 0 && t.code != p.code) return TR::kPendingTransferHasDifferentCode;

    std::uint64_t amount = p.amount;  // what the stored post/void records
    if (post) {
      if (t.amount != kPostFullPendingAmount) {
        if (t.amount > p.amount) return TR::kExceedsPendingTransferAmount;
        amount = t.amount;
      }
    } else if (t.amount != 0 && t.amount != p.amount) {
      return TR::kPendingTransferHasDifferentAmount;
    }

    switch (pending_states[pi]) {
      case PendingState::kPosted:
        return TR::kPendingTransferAlreadyPosted;
      case PendingState::kVoided:
        return TR::kPendingTransferAlreadyVoided;
      case PendingState::kExpired:
        return TR::kPendingTransferExpired;
      case PendingState::kPending:
        break;
      case PendingState::kNone:
        throw std::logic_error("ledger state machine: pending transfer without a hold state");
    }
    if (p.timeout != 0 && timestamp >= ExpiresAt(p)) return TR::kPendingTransferExpired;

    const std::uint32_t dr_index = RequireAccount(p.debit_account_id);
    const std::uint32_t cr_index = RequireAccount(p.credit_account_id);
    Account& dr = accounts[dr_index];
    Account& cr = accounts[cr_index];
    if (post) {
      if (AddOverflows(dr.debits_posted, amount)) return TR::kOverflowsDebitsPosted;
      if (AddOverflows(cr.credits_posted, amount)) return TR::kOverflowsCreditsPosted;
    }

    SaveBalances(dr_index);
    SaveBalances(cr_index);
    SavePendingState(pi);
    dr.debits_pending -= p.amount;
    cr.credits_pending -= p.amount;
    if (post) {
      dr.debits_posted += amount;
      cr.credits_posted += amount;
    }
    pending_states[pi] = post ? PendingState::kPosted : PendingState::kVoided;

    Transfer stored = t;
    stored.debit_account_id = p.debit_account_id;
    stored.credit_account_id = p.credit_account_id;
    stored.amount = amount;
    stored.ledger = p.ledger;
    stored.code = p.code;
    stored.timestamp = timestamp;
    InsertTransfer(stored, PendingState::kNone);
    return TR::kOk;
  }

  TR CreateTransfer(const Transfer& t, std::uint64_t timestamp) {
    namespace f = transfer_flags;
    if (t.timestamp != 0) return TR::kTimestampMustBeZero;
    if (!AllZero(t.reserved)) return TR::kReservedField;
    if ((t.flags & ~f::kAll) != 0) return TR::kReservedFlag;
    if (t.id.is_zero()) return TR::kIdMustNotBeZero;
    if (t.id.is_max()) return TR::kIdMustNotBeIntMax;
    if (FindFailureIndex(t.id) != internal::IdTable::kNotFound) return TR::kIdAlreadyFailed;
    const std::uint32_t existing = FindTransferIndex(t.id);
    if (existing != internal::IdTable::kNotFound) return CompareExisting(t, transfers[existing]);

    const bool pending = (t.flags & f::kPending) != 0;
    const bool post = (t.flags & f::kPostPendingTransfer) != 0;
    const bool void_pending = (t.flags & f::kVoidPendingTransfer) != 0;
    if (int{pending} + int{post} + int{void_pending} > 1) return TR::kFlagsAreMutuallyExclusive;
    if (post || void_pending) return PostOrVoid(t, timestamp, post);

    if (!t.pending_id.is_zero()) return TR::kPendingIdMustBeZero;
    if (!pending && t.timeout != 0) return TR::kTimeoutReservedForPendingTransfer;
    if (t.debit_account_id.is_zero()) return TR::kDebitAccountIdMustNotBeZero;
    if (t.debit_account_id.is_max()) return TR::kDebitAccountIdMustNotBeIntMax;
    if (t.credit_account_id.is_zero()) return TR::kCreditAccountIdMustNotBeZero;
    if (t.credit_account_id.is_max()) return TR::kCreditAccountIdMustNotBeIntMax;
    if (t.debit_account_id == t.credit_account_id) return TR::kAccountsMustBeDifferent;
    if (t.ledger == 0) return TR::kLedgerMustNotBeZero;
    if (t.code == 0) return TR::kCodeMustNotBeZero;
    if (t.amount == 0) return TR::kAmountMustNotBeZero;

    const std::uint32_t dr_index = FindAccountIndex(t.debit_account_id);
    if (dr_index == internal::IdTable::kNotFound) return TR::kDebitAccountNotFound;
    const std::uint32_t cr_index = FindAccountIndex(t.credit_account_id);
    if (cr_index == internal::IdTable::kNotFound) return TR::kCreditAccountNotFound;
    Account& dr = accounts[dr_index];
    Account& cr = accounts[cr_index];
    if (dr.ledger != cr.ledger) return TR::kAccountsMustHaveTheSameLedger;
    if (t.ledger != dr.ledger) return TR::kTransferMustHaveTheSameLedgerAsAccounts;

    const std::uint64_t amount = t.amount;
    if (pending) {
      if (AddOverflows(dr.debits_pending, amount)) return TR::kOverflowsDebitsPending;
      if (AddOverflows(cr.credits_pending, amount)) return TR::kOverflowsCreditsPending;
    } else {
      if (AddOverflows(dr.debits_posted, amount)) return TR::kOverflowsDebitsPosted;
      if (AddOverflows(cr.credits_posted, amount)) return TR::kOverflowsCreditsPosted;
    }
    const U128 dr_debits = U128{dr.debits_pending} + dr.debits_posted + amount;
    const U128 cr_credits = U128{cr.credits_pending} + cr.credits_posted + amount;
    if (dr_debits > U128{~std::uint64_t{0}}) return TR::kOverflowsDebits;
    if (cr_credits > U128{~std::uint64_t{0}}) return TR::kOverflowsCredits;
    if (pending && t.timeout != 0 &&
        U128{timestamp} + U128{t.timeout} * kNanosPerSecond > U128{~std::uint64_t{0}}) {
      return TR::kOverflowsTimeout;
    }
    if ((dr.flags & account_flags::kDebitsMustNotExceedCredits) != 0 &&
        dr_debits > U128{dr.credits_posted} + dr.credit_limit) {
      return TR::kExceedsCredits;
    }
    if ((cr.flags & account_flags::kCreditsMustNotExceedDebits) != 0 &&
        cr_credits > U128{cr.debits_posted} + cr.credit_limit) {
      return TR::kExceedsDebits;
    }

    SaveBalances(dr_index);
    SaveBalances(cr_index);
    if (pending) {
      dr.debits_pending += amount;
      cr.credits_pending += amount;
    } else {
      dr.debits_posted += amount;
      cr.credits_posted += amount;
    }
    Transfer stored = t;
    stored.timestamp = timestamp;
    InsertTransfer(stored, pending ? PendingState::kPending : PendingState::kNone);
    return TR::kOk;
  }

  TR CreateTransferRemembering(const Transfer& t, std::uint64_t timestamp) {
    const TR result = CreateTransfer(t, timestamp);
    if (IsTransientFailure(result)) InsertFailure(TransferFailure{t.id, result, timestamp});
    return result;
  }

  // The linked-chain loop shared by accounts and transfers (same rules as TigerBeetle's): an event
  // with the linked flag opens or continues a chain; the chain ends at the first event without it.
  // `prefetch(event)` starts loading what applying `event` will touch; it runs kPrefetchDistance
  // events ahead, so the cache misses of a batch's look-ups overlap (TigerBeetle's prefetch phase,
  // in miniature: the state is in memory, so the "I/O" is DRAM).
  template <typename Event, typename Result, typename ApplyOne, typename Prefetch>
  void ApplyRequest(std::span<const Event> events, std::uint64_t timestamp,
                    std::span<Result> results, std::uint16_t linked_flag, ApplyOne apply_one,
                    Prefetch prefetch) {
    const std::size_t n = events.size();
    std::size_t chain_start = kNoChain;
    bool chain_broken = false;
    for (std::size_t i = 0; i < std::min(n, kPrefetchDistance); ++i) prefetch(events[i]);
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) prefetch(events[i + kPrefetchDistance]);
      const bool linked = (events[i].flags & linked_flag) != 0;
      if (linked && chain_start == kNoChain) {
        chain_start = i;
        undo.clear();
        in_chain = true;
      }
      Result result;
      if (linked && i == n - 1) {
        result = Result::kLinkedEventChainOpen;
      } else if (chain_broken) {
        result = Result::kLinkedEventFailed;
      } else {
        result = apply_one(events[i], timestamp + i);
      }
      results[i] = result;
      // `exists` does not break a chain: a retried chain answers exists, exists, … instead of
      // exists, linked_event_failed, … (the events it names did all happen).
      const bool succeeded = result == Result::kOk || result == Result::kExists;
      if (!succeeded && chain_start != kNoChain && !chain_broken) {
        chain_broken = true;
        Undo();
        in_chain = false;
        for (std::size_t k = chain_start; k < i; ++k) results[k] = Result::kLinkedEventFailed;
      }
      if (chain_start != kNoChain && (!linked || result == Result::kLinkedEventChainOpen)) {
        chain_start = kNoChain;
        chain_broken = false;
        in_chain = false;
        undo.clear();
      }
    }
  }
};

StateMachine::StateMachine() : impl_(std::make_unique<Impl>()) {}
StateMachine::~StateMachine() = default;

void StateMachine::Reset() {
  Impl& s = *impl_;
  s.accounts.clear_keep_memory();
  s.account_index.Clear();
  s.transfers.clear_keep_memory();
  s.pending_states.clear_keep_memory();
  s.transfer_index.Clear();
  s.failures.clear_keep_memory();
  s.failure_index.Clear();
  s.expiry_heap.clear();
  s.undo.clear();
  s.in_chain = false;
  s.last_timestamp = 0;
}

std::uint64_t StateMachine::last_timestamp() const { return impl_->last_timestamp; }

bool StateMachine::CreateAccounts(std::span<const Account> events, std::uint64_t timestamp,
                                  std::span<CreateAccountResult> results) {
  Impl& s = *impl_;
  if (results.size() != events.size()) throw std::logic_error("results.size() != events.size()");
  s.CheckTimestamp(timestamp, events.size());
  const std::size_t accounts_before = s.accounts.size();
  s.ApplyRequest(
      events, timestamp, results, account_flags::kLinked,
      [&s](const Account& a, std::uint64_t ts) { return s.CreateAccount(a, ts); },
      [&s](const Account& a) { s.account_index.Prefetch(a.id); });
  if (!events.empty()) s.last_timestamp = timestamp + events.size() - 1;
  return s.accounts.size() != accounts_before;
}

bool StateMachine::CreateTransfers(std::span<const Transfer> events, std::uint64_t timestamp,
                                   std::span<CreateTransferResult> results) {
  Impl& s = *impl_;
  if (results.size() != events.size()) throw std::logic_error("results.size() != events.size()");
  s.CheckTimestamp(timestamp, events.size());
  const std::size_t failures_before = s.failures.size();
  s.ApplyRequest(
      events, timestamp, results, transfer_flags::kLinked,
      [&s](const Transfer& t, std::uint64_t ts) { return s.CreateTransferRemembering(t, ts); },
      [&s](const Transfer& t) {
        s.transfer_index.Prefetch(t.id);
        s.failure_index.Prefetch(t.id);
        if (!t.pending_id.is_zero()) s.transfer_index.Prefetch(t.pending_id);
      });
  if (!events.empty()) s.last_timestamp = timestamp + events.size() - 1;
  if (s.failures.size() != failures_before) return true;
  return std::any_of(results.begin(), results.end(),
                     [](CreateTransferResult r) { return r == CreateTransferResult::kOk; });
}

std::uint64_t StateMachine::ExpirePending(std::uint64_t timestamp, std::uint64_t limit) {
  Impl& s = *impl_;
  s.CheckTimestamp(timestamp, 1);
  s.last_timestamp = timestamp;
  std::uint64_t expired = 0;
  while (!s.expiry_heap.empty() && s.expiry_heap.front().expires_at <= timestamp &&
         expired < limit) {
    std::pop_heap(s.expiry_heap.begin(), s.expiry_heap.end(), ExpiryLater{});
    const ExpiryEntry entry = s.expiry_heap.back();
    s.expiry_heap.pop_back();
    if (entry.index >= s.transfers.size()) continue;  // its chain was undone
    const Transfer& p = s.transfers[entry.index];
    if (s.pending_states[entry.index] != PendingState::kPending || p.timeout == 0 ||
        ExpiresAt(p) != entry.expires_at) {
      continue;  // resolved meanwhile, or the slot now holds another transfer
    }
    Account& dr = s.accounts[s.RequireAccount(p.debit_account_id)];
    Account& cr = s.accounts[s.RequireAccount(p.credit_account_id)];
    dr.debits_pending -= p.amount;
    cr.credits_pending -= p.amount;
    s.pending_states[entry.index] = PendingState::kExpired;
    ++expired;
  }
  return expired;
}

std::optional<std::uint64_t> StateMachine::NextExpiry() const {
  if (impl_->expiry_heap.empty()) return std::nullopt;
  return impl_->expiry_heap.front().expires_at;
}

const Account* StateMachine::FindAccount(Id128 id) const {
  const std::uint32_t index = impl_->FindAccountIndex(id);
  if (index == internal::IdTable::kNotFound) return nullptr;
  return &impl_->accounts[index];
}

std::optional<TransferRecord> StateMachine::FindTransfer(Id128 id) const {
  const std::uint32_t index = impl_->FindTransferIndex(id);
  if (index == internal::IdTable::kNotFound) return std::nullopt;
  return TransferRecord{impl_->transfers[index], impl_->pending_states[index]};
}

std::optional<CreateTransferResult> StateMachine::FindFailure(Id128 id) const {
  const std::uint32_t index = impl_->FindFailureIndex(id);
  if (index == internal::IdTable::kNotFound) return std::nullopt;
  return impl_->failures[index].result;
}

std::optional<std::size_t> StateMachine::AccountIndexOf(Id128 id) const {
  const std::uint32_t index = impl_->FindAccountIndex(id);
  if (index == internal::IdTable::kNotFound) return std::nullopt;
  return index;
}

std::optional<std::size_t> StateMachine::TransferIndexOf(Id128 id) const {
  const std::uint32_t index = impl_->FindTransferIndex(id);
  if (index == internal::IdTable::kNotFound) return std::nullopt;
  return index;
}

std::size_t StateMachine::account_count() const { return impl_->accounts.size(); }
std::size_t StateMachine::transfer_count() const { return impl_->transfers.size(); }
std::size_t StateMachine::failure_count() const { return impl_->failures.size(); }

const Account& StateMachine::AccountAt(std::size_t index) const { return impl_->accounts[index]; }

TransferRecord StateMachine::TransferAt(std::size_t index) const {
  return TransferRecord{impl_->transfers[index], impl_->pending_states[index]};
}

TransferFailure StateMachine::FailureAt(std::size_t index) const { return impl_->failures[index]; }

void StateMachine::LoadAccount(const Account& account) {
  if (impl_->FindAccountIndex(account.id) != internal::IdTable::kNotFound) {
    throw std::logic_error("ledger state machine: account loaded twice");
  }
  impl_->InsertAccount(account);
}

void StateMachine::LoadTransfer(const Transfer& transfer, PendingState state) {
  if (impl_->FindTransferIndex(transfer.id) != internal::IdTable::kNotFound) {
    throw std::logic_error("ledger state machine: transfer loaded twice");
  }
  impl_->InsertTransfer(transfer, state);
}

void StateMachine::LoadFailure(const TransferFailure& failure) {
  if (impl_->FindFailureIndex(failure.id) != internal::IdTable::kNotFound) {
    throw std::logic_error("ledger state machine: failure loaded twice");
  }
  impl_->InsertFailure(failure);
}

void StateMachine::SetLastTimestamp(std::uint64_t timestamp) { impl_->last_timestamp = timestamp; }

Checksum StateMachine::Digest() const {
  const Impl& s = *impl_;
  ChecksumBuilder builder;
  auto add = [&builder](const void* data, std::size_t size) {
    builder.Update({static_cast<const std::uint8_t*>(data), size});
  };
  const std::uint64_t counts[4] = {s.accounts.size(), s.transfers.size(), s.failures.size(),
                                   s.last_timestamp};
  add(counts, sizeof(counts));
  for (std::size_t i = 0; i < s.accounts.size(); ++i) add(&s.accounts[i], sizeof(Account));
  for (std::size_t i = 0; i < s.transfers.size(); ++i) {
    add(&s.transfers[i], sizeof(Transfer));
    add(&s.pending_states[i], 1);
  }
  for (std::size_t i = 0; i < s.failures.size(); ++i) {
    const TransferFailure& failure = s.failures[i];
    const std::uint64_t fields[4] = {failure.id.low, failure.id.high,
                                     static_cast<std::uint64_t>(failure.result), failure.timestamp};
    add(fields, sizeof(fields));
  }
  return builder.Finish();
}

Account* StateMachine::MutableAccountForTesting(Id128 id) {
  const std::uint32_t index = impl_->FindAccountIndex(id);
  if (index == internal::IdTable::kNotFound) return nullptr;
  return &impl_->accounts[index];
}

}  // namespace tapstack::ledger
