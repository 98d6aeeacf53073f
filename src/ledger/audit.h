// Audit: checks every invariant of the ledger against a StateMachine's full state.
//
//  * per ledger (currency): Σ debits_posted = Σ credits_posted and Σ debits_pending =
//    Σ credits_pending over all accounts (money is neither created nor destroyed);
//  * every account's four balances equal what its transfers add up to, recomputed from the
//    transfer records in creation order (the second path to the same numbers);
//  * no flagged account is over its limit (no negative balance beyond its credit line);
//  * every transfer names two different existing accounts of its own ledger; timestamps are unique
//    and strictly increasing;
//  * each pending transfer is resolved at most once, by a post or void created before it expired;
//    a post moves at most the pending amount (posted ≤ pending), a void exactly it; the hold state
//    matches (posted ⇔ one post, voided ⇔ one void, pending/expired ⇔ none);
//  * remembered failures are transient results for ids that were never created.
// Sums are computed in 128 bits, so they cannot overflow.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "ledger/state_machine.h"

namespace tapstack::ledger {

// An unsigned 128-bit total (sums of many u64 balances).
struct Total128 {
  std::uint64_t high = 0;
  std::uint64_t low = 0;

  void Add(std::uint64_t value) {
    const std::uint64_t before = low;
    low += value;
    if (low < before) ++high;
  }
  // Decimal digits, e.g. "12345".
  std::string ToDecimal() const;
  friend bool operator==(const Total128& a, const Total128& b) = default;
};

// Totals of one ledger (currency).
struct LedgerTotals {
  std::uint32_t ledger = 0;
  std::uint64_t accounts = 0;
  std::uint64_t transfers = 0;
  std::uint64_t holds_pending = 0;  // pending transfers not yet posted, voided or expired
  Total128 debits_posted;
  Total128 credits_posted;
  Total128 debits_pending;
  Total128 credits_pending;
};

struct AuditReport {
  std::vector<LedgerTotals> ledgers;  // ordered by ledger number
  std::uint64_t accounts = 0;
  std::uint64_t transfers = 0;
  std::uint64_t failures = 0;
};

// Checks every invariant above. OK, or kInternal describing the first violation found (naming the
// account or transfer id). Fills `report` (when not null) with totals as far as they were computed.
Status Audit(const StateMachine& state, AuditReport* report = nullptr);

}  // namespace tapstack::ledger
