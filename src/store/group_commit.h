// GroupCommitter: lets concurrent callers share one store transaction, and so one durable commit
// (SQLite WAL with synchronous=FULL: one fdatasync per commit), instead of paying one each.
//
// A caller hands Run() the body of its transaction and blocks. Bodies queue; one caller at a time
// is the leader: it takes the store mutex, opens ONE transaction, runs every queued body in arrival
// order, commits, and then wakes the callers of the batch. While the leader waits for the disk the
// next callers queue up and form the next batch, so the commit rate stays at about one per fsync
// however many callers there are (the classic group commit: Gray & Reuter, "Transaction
// Processing", §9.4.7; PostgreSQL commit_delay).
//
// Durability is unchanged: Run() returns OK only after the transaction holding its body's effects
// committed, so an answer built from them is durable before it is given.
//
// Isolation between bodies: a batch is all-or-nothing, and store transactions have no partial
// rollback (store/store.h), so when any body of a batch fails (an error it returns, or a store
// error) the whole batch is rolled back and every body of it is run again ALONE in its own
// transaction: a failing body then fails by itself and leaves no state, the others commit. Bodies
// therefore must be safe to run more than once (the rule RunInTransaction already sets): reset
// whatever they capture at their start and have no side effects outside the store. A body sees
// the writes of the bodies before it in its batch, as if they had run one after the other.
//
// Threads: Run() is thread-safe and must be called WITHOUT `store_mutex` held (the leader takes
// it). Bodies run on the leader's thread, under `store_mutex`, inside the transaction; the caller's
// thread is blocked meanwhile, so a body may use the caller's stack. `store` and `store_mutex` are
// not owned and must outlive the committer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "core/status.h"
#include "store/store.h"

namespace tapstack::store {

// Bodies in one shared transaction at most: bounds how long one commit holds the store mutex
// (other calls wait for it) and how much one failing body costs the others (a re-run each).
inline constexpr std::size_t kGroupCommitBodiesMax = 64;

struct GroupCommitStats {
  std::int64_t bodies = 0;              // bodies run to completion (committed or failed)
  std::int64_t transactions = 0;        // shared transactions attempted (one per batch)
  std::int64_t batch_failures = 0;      // batches rolled back because a body failed
};

class GroupCommitter {
 public:
  using Body = std::function<Status(Store&)>;

  // `begin`, when set, runs first in every transaction, before any body (e.g. the audit chain's
  // LockChainInTransaction, which PostgreSQL needs before any other statement).
  GroupCommitter(Store& store, std::mutex& store_mutex, Body begin = {})
      : store_(store), store_mutex_(store_mutex), begin_(std::move(begin)) {}
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Runs `body` in a transaction on the store, possibly shared with other callers' bodies, and
  // returns once that transaction committed (OK: the body's effects are durable) or the body
  // failed (its error; none of its effects are stored). Errors: the body's; the store's.
  Status Run(const Body& body);

  // Callers queued and not yet taken into a batch (for tests).
  std::size_t queued() const;
  GroupCommitStats stats() const;

 private:
  struct Waiter {
    const Body* body = nullptr;
    Status result;
    bool done = false;
    // Its own: only the callers of a finished batch wake, and the next leader. One shared
    // condition variable woke every queued caller at each commit (128 threads waiting in the
    // switch's TSP step), most of them to go back to sleep.
    std::condition_variable cv;
  };

  // Under store_mutex_: runs the batch and sets every waiter's result.
  void RunBatch(const std::deque<Waiter*>& batch);
  Status RunAlone(const Body& body);

  Store& store_;
  std::mutex& store_mutex_;
  Body begin_;

  mutable std::mutex queue_mu_;
  std::deque<Waiter*> queue_;     // guarded by queue_mu_
  bool leader_active_ = false;    // guarded by queue_mu_
  GroupCommitStats stats_;        // guarded by queue_mu_
};

}  // namespace tapstack::store
