#include "ledger/audit.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/limits.h"

namespace tapstack::ledger {

namespace {

__extension__ typedef unsigned __int128 U128;

std::string U128ToDecimal(U128 value) {
  if (value == 0) return "0";
  std::string digits;
  while (value != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Status Violation(std::string message) { return Internal("audit: " + std::move(message)); }

std::string Name(const Transfer& t) { return "transfer " + t.id.ToHex(); }
std::string Name(const Account& a) { return "account " + a.id.ToHex(); }

// Balances recomputed from the transfers.
struct Recomputed {
  U128 debits_pending = 0;
  U128 debits_posted = 0;
  U128 credits_pending = 0;
  U128 credits_posted = 0;
};

class Auditor {
 public:
  Auditor(const StateMachine& state, AuditReport* report) : state_(state), report_(report) {}

  Status Run() {
    if (report_ != nullptr) *report_ = AuditReport{};
    Status status = CheckAccounts();
    if (status.ok()) status = CheckTransfers();
    if (status.ok()) status = CheckBalances();
    if (status.ok()) status = CheckFailures();
    if (report_ != nullptr) {
      report_->accounts = state_.account_count();
      report_->transfers = state_.transfer_count();
      report_->failures = state_.failure_count();
      for (auto& [ledger, totals] : totals_) report_->ledgers.push_back(totals);
    }
    TS_RETURN_IF_ERROR(status);
    return CheckConservation();
  }

 private:
  static constexpr std::size_t kMissing = ~std::size_t{0};

  std::size_t AccountIndex(Id128 id) const { return state_.AccountIndexOf(id).value_or(kMissing); }

  Status CheckAccounts() {
    std::uint64_t previous_timestamp = 0;
    recomputed_.resize(state_.account_count());
    for (std::size_t i = 0; i < state_.account_count(); ++i) {
      const Account& a = state_.AccountAt(i);
      if (a.id.is_zero() || a.id.is_max()) return Violation(Name(a) + ": reserved id");
      if (a.ledger == 0) return Violation(Name(a) + ": ledger 0");
      if (a.timestamp <= previous_timestamp) {
        return Violation(Name(a) + ": timestamp not after the previous account's");
      }
      previous_timestamp = a.timestamp;
      if ((a.flags & ~account_flags::kAll) != 0) return Violation(Name(a) + ": reserved flag set");
      const bool debit_limited = (a.flags & account_flags::kDebitsMustNotExceedCredits) != 0;
      const bool credit_limited = (a.flags & account_flags::kCreditsMustNotExceedDebits) != 0;
      if (debit_limited &&
          U128{a.debits_pending} + a.debits_posted > U128{a.credits_posted} + a.credit_limit) {
        return Violation(Name(a) + ": debits exceed credits plus the credit limit");
      }
      if (credit_limited &&
          U128{a.credits_pending} + a.credits_posted > U128{a.debits_posted} + a.credit_limit) {
        return Violation(Name(a) + ": credits exceed debits plus the credit limit");
      }
      if (!debit_limited && !credit_limited && a.credit_limit != 0) {
        return Violation(Name(a) + ": credit limit without a balance flag");
      }
      // Each record must be the one its id finds: two records with one id cannot both be.
      if (AccountIndex(a.id) != i) return Violation(Name(a) + ": id used twice or not indexed");
      LedgerTotals& totals = Totals(a.ledger);
      ++totals.accounts;
      totals.debits_posted.Add(a.debits_posted);
      totals.credits_posted.Add(a.credits_posted);
      totals.debits_pending.Add(a.debits_pending);
      totals.credits_pending.Add(a.credits_pending);
    }
    return Status::Ok();
  }

  Status CheckTransfers() {
    namespace f = transfer_flags;
    const std::size_t count = state_.transfer_count();
    std::vector<std::uint8_t> resolutions(count, 0);
    std::uint64_t previous_timestamp = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const TransferRecord record = state_.TransferAt(i);
      const Transfer& t = record.transfer;
      if (t.id.is_zero() || t.id.is_max()) return Violation(Name(t) + ": reserved id");
      if (state_.TransferIndexOf(t.id) != i) {
        return Violation(Name(t) + ": id used twice or not indexed");
      }
      if (t.timestamp <= previous_timestamp) {
        return Violation(Name(t) + ": timestamp not after the previous transfer's");
      }
      previous_timestamp = t.timestamp;
      if (t.amount == 0 && (t.flags & f::kVoidPendingTransfer) == 0) {
        return Violation(Name(t) + ": amount 0");
      }
      const std::size_t dr = AccountIndex(t.debit_account_id);
      const std::size_t cr = AccountIndex(t.credit_account_id);
      if (dr == kMissing || cr == kMissing) {
        return Violation(Name(t) + ": names an account that does not exist");
      }
      if (dr == cr) return Violation(Name(t) + ": debits and credits the same account");
      const Account& debit = state_.AccountAt(dr);
      const Account& credit = state_.AccountAt(cr);
      if (debit.ledger != t.ledger || credit.ledger != t.ledger) {
        return Violation(Name(t) + ": ledger differs from its accounts' ledger");
      }
      if (debit.timestamp >= t.timestamp || credit.timestamp >= t.timestamp) {
        return Violation(Name(t) + ": older than its accounts");
      }
      LedgerTotals& totals = Totals(t.ledger);
      ++totals.transfers;

      const bool post = (t.flags & f::kPostPendingTransfer) != 0;
      const bool void_pending = (t.flags & f::kVoidPendingTransfer) != 0;
      const bool pending = (t.flags & f::kPending) != 0;
      if (pending) {
        if (record.pending_state == PendingState::kNone) {
          return Violation(Name(t) + ": pending transfer without a hold state");
        }
        if (record.pending_state == PendingState::kPending) {
          ++totals.holds_pending;
          recomputed_[dr].debits_pending += t.amount;
          recomputed_[cr].credits_pending += t.amount;
        }
        continue;
      }
      if (record.pending_state != PendingState::kNone) {
        return Violation(Name(t) + ": hold state on a transfer that is not pending");
      }
      if (!post && !void_pending) {
        recomputed_[dr].debits_posted += t.amount;
        recomputed_[cr].credits_posted += t.amount;
        continue;
      }
      const std::optional<std::size_t> p_index = state_.TransferIndexOf(t.pending_id);
      if (!p_index.has_value() || *p_index >= i) {
        return Violation(Name(t) + ": resolves a pending transfer that does not precede it");
      }
      const TransferRecord p = state_.TransferAt(*p_index);
      if ((p.transfer.flags & f::kPending) == 0) {
        return Violation(Name(t) + ": resolves a transfer that is not pending");
      }
      if (p.transfer.debit_account_id != t.debit_account_id ||
          p.transfer.credit_account_id != t.credit_account_id || p.transfer.ledger != t.ledger) {
        return Violation(Name(t) + ": accounts or ledger differ from the pending transfer's");
      }
      if (p.transfer.timeout != 0 &&
          t.timestamp >=
              p.transfer.timestamp + std::uint64_t{p.transfer.timeout} * kNanosPerSecond) {
        return Violation(Name(t) + ": resolves a pending transfer after its expiry");
      }
      if (++resolutions[*p_index] > 1) {
        return Violation(Name(p.transfer) + ": resolved more than once");
      }
      if (post) {
        if (t.amount > p.transfer.amount) {
          return Violation(Name(t) + ": posts more than the pending amount");
        }
        if (p.pending_state != PendingState::kPosted) {
          return Violation(Name(p.transfer) + ": posted by " + t.id.ToHex() + " but its state is " +
                           std::string(PendingStateName(p.pending_state)));
        }
        recomputed_[dr].debits_posted += t.amount;
        recomputed_[cr].credits_posted += t.amount;
      } else {
        if (t.amount != p.transfer.amount) {
          return Violation(Name(t) + ": voids an amount other than the pending amount");
        }
        if (p.pending_state != PendingState::kVoided) {
          return Violation(Name(p.transfer) + ": voided by " + t.id.ToHex() + " but its state is " +
                           std::string(PendingStateName(p.pending_state)));
        }
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      const TransferRecord record = state_.TransferAt(i);
      const bool resolved = record.pending_state == PendingState::kPosted ||
                            record.pending_state == PendingState::kVoided;
      if (resolved && resolutions[i] != 1) {
        return Violation(Name(record.transfer) + ": state " +
                         std::string(PendingStateName(record.pending_state)) +
                         " but no transfer resolves it");
      }
    }
    return Status::Ok();
  }

  Status CheckBalances() {
    for (std::size_t i = 0; i < state_.account_count(); ++i) {
      const Account& a = state_.AccountAt(i);
      const Recomputed& r = recomputed_[i];
      auto check = [&](const char* field, std::uint64_t stored, U128 computed) -> Status {
        if (U128{stored} == computed) return Status::Ok();
        return Violation(Name(a) + ": " + field + " is " + std::to_string(stored) +
                         " but its transfers add up to " + U128ToDecimal(computed));
      };
      TS_RETURN_IF_ERROR(check("debits_pending", a.debits_pending, r.debits_pending));
      TS_RETURN_IF_ERROR(check("debits_posted", a.debits_posted, r.debits_posted));
      TS_RETURN_IF_ERROR(check("credits_pending", a.credits_pending, r.credits_pending));
      TS_RETURN_IF_ERROR(check("credits_posted", a.credits_posted, r.credits_posted));
    }
    return Status::Ok();
  }

  Status CheckFailures() {
    for (std::size_t i = 0; i < state_.failure_count(); ++i) {
      const TransferFailure failure = state_.FailureAt(i);
      if (!IsTransientFailure(failure.result)) {
        return Violation("failure " + failure.id.ToHex() + ": remembered result " +
                         std::string(CreateTransferResultName(failure.result)) +
                         " is not transient");
      }
      if (state_.FindTransfer(failure.id).has_value()) {
        return Violation("failure " + failure.id.ToHex() + ": the id was also created");
      }
    }
    return Status::Ok();
  }

  Status CheckConservation() {
    for (const auto& [ledger, totals] : totals_) {
      if (!(totals.debits_posted == totals.credits_posted)) {
        return Violation("ledger " + std::to_string(ledger) + ": debits_posted " +
                         totals.debits_posted.ToDecimal() + " != credits_posted " +
                         totals.credits_posted.ToDecimal());
      }
      if (!(totals.debits_pending == totals.credits_pending)) {
        return Violation("ledger " + std::to_string(ledger) + ": debits_pending " +
                         totals.debits_pending.ToDecimal() + " != credits_pending " +
                         totals.credits_pending.ToDecimal());
      }
    }
    return Status::Ok();
  }

  LedgerTotals& Totals(std::uint32_t ledger) {
    LedgerTotals& totals = totals_[ledger];
    totals.ledger = ledger;
    return totals;
  }

  const StateMachine& state_;
  AuditReport* report_;
  std::vector<Recomputed> recomputed_;
  std::map<std::uint32_t, LedgerTotals> totals_;
};

}  // namespace

std::string Total128::ToDecimal() const { return U128ToDecimal((U128{high} << 64) | low); }

Status Audit(const StateMachine& state, AuditReport* report) {
  return Auditor(state, report).Run();
}

}  // namespace tapstack::ledger
