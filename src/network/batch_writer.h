// BatchWriter: one thread that owns a Store and applies submitted writes in group commits: every
// operation waiting when the thread wakes runs inside one transaction, then one commit (one sync)
// acknowledges them all. Used for the switch's store-and-forward queue (whose callers wait for
// durability before answering) and its journal (fire and forget).
// Thread-safety: Submit from any thread; callbacks run on the writer thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "store/store.h"

namespace tapstack::network {

class BatchWriter {
 public:
  using Operation = std::function<Status(store::Store&)>;
  using Done = std::function<void(const Status&)>;

  // Most operations applied in one transaction.
  static constexpr std::size_t kBatchOperationsMax = 4'096;

  explicit BatchWriter(std::unique_ptr<store::Store> store);
  ~BatchWriter();  // Stop()

  // Drains what was submitted (and what its callbacks submit), then stops the thread. The
  // writer stays a valid object: a late Submit is queued and never run. Idempotent.
  void Stop();

  // Queues `op`; `done` (may be empty) gets the commit's outcome after the batch is durable.
  void Submit(Operation op, Done done = {});

  // Runs `fn` on the writer thread with exclusive use of the store and waits for it (reads at
  // start-up, reports). Not for the hot path.
  Status RunExclusive(const std::function<Status(store::Store&)>& fn);

  // Returns once nothing is queued and no batch is running (its `done` callbacks included;
  // operations they submit are waited for too). For the deterministic simulation (src/sim/),
  // which processes one event at a time. Never call it from the writer thread.
  void WaitIdle();

  std::uint64_t batches_committed() const { return batches_; }
  // Batches whose transaction failed (their operations' effects are not stored). After a failed
  // commit a store refuses every write until reopened (store/sqlite_store.h), so nonzero means
  // the owner must be restarted.
  std::uint64_t batches_failed() const { return batches_failed_.load(); }

 private:
  void Loop();

  std::unique_ptr<store::Store> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Operation, Done>> queue_;
  bool stopping_ = false;
  bool batch_running_ = false;          // guarded by mu_
  std::condition_variable idle_cv_;     // WaitIdle
  std::uint64_t batches_ = 0;
  std::atomic<std::uint64_t> batches_failed_{0};
  std::thread thread_;
};

}  // namespace tapstack::network
