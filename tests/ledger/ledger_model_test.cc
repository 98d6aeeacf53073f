// Randomised property test: the durable Ledger (and its replay after reopen) against a simple,
// separately written reference model of the rules, driven by SeededRandom. Every step compares
// each event's result; after every step all balances, transfers and hold states are compared and
// the audit must pass. A failure names the seed and step, so it replays exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random_source.h"
#include "ledger/ledger.h"
#include "ledger_test_util.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;
using AR = CreateAccountResult;
namespace af = account_flags;
namespace tf = transfer_flags;

__extension__ typedef unsigned __int128 U128;

// The rules, written plainly: maps, copies of the whole state for linked chains.
class ReferenceModel {
 public:
  struct Hold {
    Transfer transfer;
    PendingState state = PendingState::kNone;
    std::size_t order = 0;
  };

  std::map<Id128, Account> accounts;
  std::map<Id128, Hold> transfers;
  std::map<Id128, TR> failures;
  std::uint64_t last_timestamp = 0;

  std::vector<AR> CreateAccounts(const std::vector<Account>& events, std::uint64_t ts) {
    return Chained<Account, AR>(events, ts, af::kLinked, [this](const Account& a, std::uint64_t t) {
      return Account1(a, t);
    });
  }

  std::vector<TR> CreateTransfers(const std::vector<Transfer>& events, std::uint64_t ts) {
    return Chained<Transfer, TR>(events, ts, tf::kLinked,
                                 [this](const Transfer& e, std::uint64_t t) {
                                   const TR r = Transfer1(e, t);
                                   if (IsTransientFailure(r)) failures[e.id] = r;
                                   return r;
                                 });
  }

  std::uint64_t Expire(std::uint64_t ts, std::uint64_t limit) {
    last_timestamp = ts;
    std::vector<Hold*> due;
    for (auto& [id, h] : transfers) {
      if (h.state == PendingState::kPending && h.transfer.timeout != 0 &&
          ExpiresAt(h.transfer) <= ts) {
        due.push_back(&h);
      }
    }
    std::sort(due.begin(), due.end(), [](const Hold* a, const Hold* b) {
      if (ExpiresAt(a->transfer) != ExpiresAt(b->transfer)) {
        return ExpiresAt(a->transfer) < ExpiresAt(b->transfer);
      }
      return a->order < b->order;
    });
    std::uint64_t n = 0;
    for (Hold* h : due) {
      if (n == limit) break;
      accounts[h->transfer.debit_account_id].debits_pending -= h->transfer.amount;
      accounts[h->transfer.credit_account_id].credits_pending -= h->transfer.amount;
      h->state = PendingState::kExpired;
      ++n;
    }
    return n;
  }

 private:
  static std::uint64_t ExpiresAt(const Transfer& t) {
    return t.timestamp + std::uint64_t{t.timeout} * kNanosPerSecond;
  }

  template <typename Event, typename Result, typename Fn>
  std::vector<Result> Chained(const std::vector<Event>& events, std::uint64_t ts,
                              std::uint16_t linked_flag, const Fn& apply) {
    std::vector<Result> results(events.size(), Result::kOk);
    std::size_t i = 0;
    while (i < events.size()) {
      // The chain is [i, end]: up to the first event without the flag, or the last event.
      std::size_t end = i;
      while (end + 1 < events.size() && (events[end].flags & linked_flag) != 0) ++end;
      const bool open = (events[end].flags & linked_flag) != 0;
      if (end == i && !open) {
        results[i] = apply(events[i], ts + i);
        ++i;
        continue;
      }
      const auto saved_accounts = accounts;
      const auto saved_transfers = transfers;
      std::size_t failed = end + 1;
      for (std::size_t k = i; k <= end; ++k) {
        if (open && k == end) {
          failed = k;
          break;
        }
        const Result r = apply(events[k], ts + k);
        results[k] = r;
        if (r != Result::kOk && r != Result::kExists) {
          failed = k;
          break;
        }
      }
      if (failed <= end) {
        accounts = saved_accounts;
        transfers = saved_transfers;
        for (std::size_t k = i; k <= end; ++k) {
          if (k != failed) results[k] = Result::kLinkedEventFailed;
        }
        if (open) results[end] = Result::kLinkedEventChainOpen;
      }
      i = end + 1;
    }
    if (!events.empty()) last_timestamp = ts + events.size() - 1;
    return results;
  }

  AR Account1(const Account& a, std::uint64_t ts) {
    if (a.timestamp != 0) return AR::kTimestampMustBeZero;
    if ((a.flags & ~af::kAll) != 0) return AR::kReservedFlag;
    if (a.id.is_zero()) return AR::kIdMustNotBeZero;
    auto it = accounts.find(a.id);
    if (it != accounts.end()) {
      const Account& e = it->second;
      if ((a.flags | af::kLinked) != (e.flags | af::kLinked)) return AR::kExistsWithDifferentFlags;
      if (a.ledger != e.ledger) return AR::kExistsWithDifferentLedger;
      if (a.credit_limit != e.credit_limit) return AR::kExistsWithDifferentCreditLimit;
      return AR::kExists;
    }
    if (a.ledger == 0) return AR::kLedgerMustNotBeZero;
    Account stored = a;
    stored.timestamp = ts;
    accounts[a.id] = stored;
    return AR::kOk;
  }

  TR Transfer1(const Transfer& t, std::uint64_t ts) {
    if (t.id.is_zero()) return TR::kIdMustNotBeZero;
    if (failures.count(t.id) != 0) return TR::kIdAlreadyFailed;
    if (auto it = transfers.find(t.id); it != transfers.end())
      return Compare(t, it->second.transfer);
    const bool pending = (t.flags & tf::kPending) != 0;
    const bool post = (t.flags & tf::kPostPendingTransfer) != 0;
    const bool void_ = (t.flags & tf::kVoidPendingTransfer) != 0;
    if (int{pending} + int{post} + int{void_} > 1) return TR::kFlagsAreMutuallyExclusive;
    if (post || void_) {
      if (t.pending_id.is_zero()) return TR::kPendingIdMustNotBeZero;
      if (t.pending_id == t.id) return TR::kPendingIdMustBeDifferent;
      if (t.timeout != 0) return TR::kTimeoutReservedForPendingTransfer;
      if (post && t.amount == 0) return TR::kAmountMustNotBeZero;
      auto pit = transfers.find(t.pending_id);
      if (pit == transfers.end()) return TR::kPendingTransferNotFound;
      Hold& p = pit->second;
      if ((p.transfer.flags & tf::kPending) == 0) return TR::kPendingTransferNotPending;
      if (!t.debit_account_id.is_zero() && t.debit_account_id != p.transfer.debit_account_id) {
        return TR::kPendingTransferHasDifferentDebitAccountId;
      }
      if (!t.credit_account_id.is_zero() && t.credit_account_id != p.transfer.credit_account_id) {
        return TR::kPendingTransferHasDifferentCreditAccountId;
      }
      if (t.ledger != 0 && t.ledger != p.transfer.ledger) {
        return TR::kPendingTransferHasDifferentLedger;
      }
      std::uint64_t amount = p.transfer.amount;
      if (post && t.amount != kPostFullPendingAmount) {
        if (t.amount > p.transfer.amount) return TR::kExceedsPendingTransferAmount;
        amount = t.amount;
      }
      if (void_ && t.amount != 0 && t.amount != p.transfer.amount) {
        return TR::kPendingTransferHasDifferentAmount;
      }
      if (p.state == PendingState::kPosted) return TR::kPendingTransferAlreadyPosted;
      if (p.state == PendingState::kVoided) return TR::kPendingTransferAlreadyVoided;
      if (p.state == PendingState::kExpired) return TR::kPendingTransferExpired;
      if (p.transfer.timeout != 0 && ts >= ExpiresAt(p.transfer))
        return TR::kPendingTransferExpired;
      Account& dr = accounts[p.transfer.debit_account_id];
      Account& cr = accounts[p.transfer.credit_account_id];
      if (post && U128{dr.debits_posted} + amount > ~std::uint64_t{0})
        return TR::kOverflowsDebitsPosted;
      if (post && U128{cr.credits_posted} + amount > ~std::uint64_t{0})
        return TR::kOverflowsCreditsPosted;
      dr.debits_pending -= p.transfer.amount;
      cr.credits_pending -= p.transfer.amount;
      if (post) {
        dr.debits_posted += amount;
        cr.credits_posted += amount;
      }
      p.state = post ? PendingState::kPosted : PendingState::kVoided;
      Transfer stored = t;
      stored.debit_account_id = p.transfer.debit_account_id;
      stored.credit_account_id = p.transfer.credit_account_id;
      stored.ledger = p.transfer.ledger;
      stored.code = p.transfer.code;
      stored.amount = amount;
      stored.timestamp = ts;
      Insert(stored, PendingState::kNone);
      return TR::kOk;
    }
    if (!t.pending_id.is_zero()) return TR::kPendingIdMustBeZero;
    if (!pending && t.timeout != 0) return TR::kTimeoutReservedForPendingTransfer;
    if (t.debit_account_id == t.credit_account_id) return TR::kAccountsMustBeDifferent;
    if (t.amount == 0) return TR::kAmountMustNotBeZero;
    if (accounts.count(t.debit_account_id) == 0) return TR::kDebitAccountNotFound;
    if (accounts.count(t.credit_account_id) == 0) return TR::kCreditAccountNotFound;
    Account& dr = accounts[t.debit_account_id];
    Account& cr = accounts[t.credit_account_id];
    if (dr.ledger != cr.ledger) return TR::kAccountsMustHaveTheSameLedger;
    if (t.ledger != dr.ledger) return TR::kTransferMustHaveTheSameLedgerAsAccounts;
    const U128 max = ~std::uint64_t{0};
    if (pending) {
      if (U128{dr.debits_pending} + t.amount > max) return TR::kOverflowsDebitsPending;
      if (U128{cr.credits_pending} + t.amount > max) return TR::kOverflowsCreditsPending;
    } else {
      if (U128{dr.debits_posted} + t.amount > max) return TR::kOverflowsDebitsPosted;
      if (U128{cr.credits_posted} + t.amount > max) return TR::kOverflowsCreditsPosted;
    }
    const U128 debits = U128{dr.debits_pending} + dr.debits_posted + t.amount;
    const U128 credits = U128{cr.credits_pending} + cr.credits_posted + t.amount;
    if (debits > max) return TR::kOverflowsDebits;
    if (credits > max) return TR::kOverflowsCredits;
    if ((dr.flags & af::kDebitsMustNotExceedCredits) != 0 &&
        debits > U128{dr.credits_posted} + dr.credit_limit) {
      return TR::kExceedsCredits;
    }
    if ((cr.flags & af::kCreditsMustNotExceedDebits) != 0 &&
        credits > U128{cr.debits_posted} + cr.credit_limit) {
      return TR::kExceedsDebits;
    }
    (pending ? dr.debits_pending : dr.debits_posted) += t.amount;
    (pending ? cr.credits_pending : cr.credits_posted) += t.amount;
    Transfer stored = t;
    stored.timestamp = ts;
    Insert(stored, pending ? PendingState::kPending : PendingState::kNone);
    return TR::kOk;
  }

  void Insert(const Transfer& t, PendingState state) {
    transfers[t.id] = Hold{t, state, next_order_++};
  }

  TR Compare(const Transfer& t, const Transfer& e) {
    if ((t.flags | tf::kLinked) != (e.flags | tf::kLinked)) return TR::kExistsWithDifferentFlags;
    if (t.pending_id != e.pending_id) return TR::kExistsWithDifferentPendingId;
    if (t.timeout != e.timeout) return TR::kExistsWithDifferentTimeout;
    const bool post = (e.flags & tf::kPostPendingTransfer) != 0;
    const bool resolves = post || (e.flags & tf::kVoidPendingTransfer) != 0;
    if (resolves ? !t.debit_account_id.is_zero() && t.debit_account_id != e.debit_account_id
                 : t.debit_account_id != e.debit_account_id) {
      return TR::kExistsWithDifferentDebitAccountId;
    }
    if (resolves ? !t.credit_account_id.is_zero() && t.credit_account_id != e.credit_account_id
                 : t.credit_account_id != e.credit_account_id) {
      return TR::kExistsWithDifferentCreditAccountId;
    }
    bool same_amount = t.amount == e.amount;
    if (post && t.amount == kPostFullPendingAmount) {
      same_amount = transfers.at(e.pending_id).transfer.amount == e.amount;
    } else if (resolves && !post) {
      same_amount = t.amount == 0 || t.amount == e.amount;
    }
    if (!same_amount) return TR::kExistsWithDifferentAmount;
    if (t.user_data_64 != e.user_data_64) return TR::kExistsWithDifferentUserData64;
    if (resolves ? t.ledger != 0 && t.ledger != e.ledger : t.ledger != e.ledger) {
      return TR::kExistsWithDifferentLedger;
    }
    return TR::kExists;
  }

  std::size_t next_order_ = 0;
};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : random_(seed) {}

  std::uint64_t Below(std::uint64_t bound) { return *random_.Uniform(bound); }
  bool Chance(std::uint64_t percent) { return Below(100) < percent; }

  Id128 AccountId() { return Id(Chance(3) ? 99 : 1 + Below(6)); }
  Id128 TransferId() { return Id(1000 + Below(120)); }

  Transfer RandomTransfer() {
    Transfer t;
    t.id = TransferId();
    t.ledger = Chance(3) ? kUsd : kCny;
    t.code = kCode;
    t.user_data_64 = Below(2);
    const std::uint64_t kind = Below(10);
    if (kind < 4) {  // posted
      t.debit_account_id = AccountId();
      t.credit_account_id = Chance(2) ? t.debit_account_id : AccountId();
      t.amount = Chance(2) ? 0 : (Chance(2) ? ~std::uint64_t{0} / 2 : 1 + Below(60));
    } else if (kind < 7) {  // hold
      t.flags = tf::kPending;
      t.debit_account_id = AccountId();
      t.credit_account_id = AccountId();
      t.amount = 1 + Below(60);
      t.timeout = static_cast<std::uint32_t>(Below(3) * 2);
    } else {  // post or void, usually of a recent id
      t.flags = Chance(60) ? tf::kPostPendingTransfer : tf::kVoidPendingTransfer;
      t.pending_id = Chance(5) ? t.id : TransferId();
      t.amount = Chance(40) ? kPostFullPendingAmount : Below(40);
      if ((t.flags & tf::kVoidPendingTransfer) != 0 && Chance(70)) t.amount = 0;
      if (Chance(10)) t.debit_account_id = AccountId();
      t.ledger = Chance(80) ? 0 : t.ledger;
      t.code = 0;
    }
    if (Chance(3)) t.flags |= tf::kPending;  // sometimes mutually exclusive flags
    if (Chance(20)) t.flags |= tf::kLinked;
    return t;
  }

 private:
  SeededRandom random_;
};

void CompareState(const ReferenceModel& model, Ledger& ledger, const std::string& where) {
  for (const auto& [id, expected] : model.accounts) {
    auto account = ledger.LookupAccount(id);
    ASSERT_TRUE(account.ok() && account->has_value()) << where << " account " << id.low;
    EXPECT_EQ((*account)->debits_pending, expected.debits_pending) << where << " " << id.low;
    EXPECT_EQ((*account)->debits_posted, expected.debits_posted) << where << " " << id.low;
    EXPECT_EQ((*account)->credits_pending, expected.credits_pending) << where << " " << id.low;
    EXPECT_EQ((*account)->credits_posted, expected.credits_posted) << where << " " << id.low;
    EXPECT_EQ((*account)->timestamp, expected.timestamp) << where << " " << id.low;
  }
  for (std::uint64_t raw = 1000; raw < 1120; ++raw) {
    const Id128 id = Id(raw);
    auto found = ledger.LookupTransfer(id);
    ASSERT_TRUE(found.ok()) << where;
    auto it = model.transfers.find(id);
    ASSERT_EQ(found->has_value(), it != model.transfers.end()) << where << " transfer " << raw;
    if (it != model.transfers.end()) {
      EXPECT_EQ((*found)->transfer, it->second.transfer) << where << " transfer " << raw;
      EXPECT_EQ((*found)->pending_state, it->second.state) << where << " transfer " << raw;
    }
    auto failure = ledger.LookupTransferFailure(id);
    ASSERT_TRUE(failure.ok());
    auto f = model.failures.find(id);
    EXPECT_EQ(failure->has_value(), f != model.failures.end()) << where << " failure " << raw;
    if (f != model.failures.end() && failure->has_value()) {
      EXPECT_EQ(**failure, f->second) << where;
    }
  }
  const Status audit = ledger.Audit(nullptr, false);
  EXPECT_TRUE(audit.ok()) << where << ": " << audit.ToString();
}

TEST(LedgerModelTest, RandomWorkloadMatchesTheReferenceModel) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Generator gen(seed);
    ReferenceModel model;
    ManualClock clock;
    auto disk = std::make_shared<MemoryDisk>();
    auto ledger = std::move(*Ledger::Open(MemoryLedgerOptions(disk, &clock)));
    auto now_ns = [&clock] {
      return static_cast<std::uint64_t>(clock.NowUnixMillis()) * 1'000'000;
    };

    // Accounts: 1 limited with a credit line, 2 limited, 3 credit-limited, 4-5 free, 6 in USD.
    const std::vector<Account> accounts = {
        MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits, 40),
        MakeAccount(2, kCny, af::kDebitsMustNotExceedCredits),
        MakeAccount(3, kCny, af::kCreditsMustNotExceedDebits, 25),
        MakeAccount(4),
        MakeAccount(5),
        MakeAccount(6, kUsd),
        MakeAccount(6, kCny) /* exists_with_different_ledger */};
    auto created = ledger->CreateAccounts(accounts);
    ASSERT_TRUE(created.ok());
    EXPECT_EQ(*created,
              model.CreateAccounts(accounts, std::max(now_ns(), model.last_timestamp + 1)));

    for (int step = 0; step < 150; ++step) {
      const std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step);
      const std::uint64_t action = gen.Below(10);
      if (action == 0) {
        clock.AdvanceMillis(static_cast<std::int64_t>(gen.Below(3000)));
        continue;
      }
      if (action == 1) {
        auto expired = ledger->ExpirePending();
        ASSERT_TRUE(expired.ok());
        EXPECT_EQ(*expired,
                  model.Expire(std::max(now_ns(), model.last_timestamp + 1), kExpireBatchMax))
            << where;
        continue;
      }
      std::vector<Transfer> batch;
      const std::uint64_t n = 1 + gen.Below(8);
      for (std::uint64_t i = 0; i < n; ++i) batch.push_back(gen.RandomTransfer());
      auto results = ledger->CreateTransfers(batch);
      ASSERT_TRUE(results.ok()) << results.status().ToString();
      const auto expected =
          model.CreateTransfers(batch, std::max(now_ns(), model.last_timestamp + 1));
      ASSERT_EQ(Names(*results), Names(expected)) << where;
      if (step % 10 == 9) CompareState(model, *ledger, where);
    }
    CompareState(model, *ledger, "end");
    ASSERT_TRUE(ledger->Close().ok());
    // Replay reaches the same state.
    auto reopened = std::move(*Ledger::Open(MemoryLedgerOptions(disk, &clock)));
    CompareState(model, *reopened, "after reopen");
    const Status audit = reopened->Audit(nullptr, true);
    EXPECT_TRUE(audit.ok()) << audit.ToString();
  }
}

}  // namespace
}  // namespace tapstack::ledger::testing
