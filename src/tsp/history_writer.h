// HistoryWriter: writes token uses (TokenHistory::RecordUse) from a background thread, in batches,
// so the switch's answer path neither waits for the TSP's store mutex nor pays a commit per tap.
//
// The history is what the wallet shows as the card's transactions; nothing is decided from it and
// the switch's answer must not depend on it (tsp_service.h), so it is not durable before the
// answer: Enqueue() only queues. The thread takes up to kHistoryBatchUsesMax queued uses at a time
// and inserts them in ONE transaction (one commit) under the store mutex. A use that cannot be
// recorded (unknown token, bad text) is logged without its token number and skipped; a store error
// rolls the batch back and the uses are then written one by one, so one bad use loses only itself.
//
// The queue is bounded (kHistoryQueueUsesMax): when the store cannot keep up, new uses are dropped
// with a warning and counted (stats().dropped), never queued without limit. Flush() waits until
// everything queued before it was written (the API's history list calls it, so a wallet sees its
// own completed taps). The destructor writes what is still queued and joins the thread.
//
// Threads: every method is thread-safe. `history` and `store_mutex` are not owned and must outlive
// the writer; the thread takes `store_mutex` around each batch, so callers must not hold it when
// calling Flush() or the destructor.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "store/store.h"
#include "tsp/token_history.h"

namespace tapstack::tsp {

// Uses waiting for the writer at most; about 20 s of a busy TSP at 50,000 taps/s would be far
// more than a stalled disk deserves, so a few seconds' worth: beyond it uses are dropped.
inline constexpr std::size_t kHistoryQueueUsesMax = 65536;
// Uses per transaction at most: bounds how long one batch holds the store mutex.
inline constexpr std::size_t kHistoryBatchUsesMax = 512;

struct HistoryWriterStats {
  std::int64_t written = 0;       // uses inserted
  std::int64_t failed = 0;        // uses not recorded (unknown token, bad text, store error)
  std::int64_t dropped = 0;       // uses refused by Enqueue because the queue was full
  std::int64_t transactions = 0;  // batch transactions committed
};

class HistoryWriter {
 public:
  // Starts the thread. `queue_uses_max` (>= 1) bounds the queue; tests make it small.
  HistoryWriter(store::Store& store, TokenHistory& history, std::mutex& store_mutex,
                std::size_t queue_uses_max = kHistoryQueueUsesMax);
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // Queues `use`; false (counted, warned) when the queue is full or the writer is stopping.
  bool Enqueue(TokenUseRecord use);
  // Returns once every use queued before the call has been written (or failed).
  void Flush();
  HistoryWriterStats stats() const;

 private:
  void Loop();
  // Under the store mutex: the batch in one transaction, or one by one when that fails.
  void WriteBatch(std::deque<TokenUseRecord>& batch);

  store::Store& store_;
  TokenHistory& history_;
  std::mutex& store_mutex_;
  const std::size_t queue_uses_max_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // the thread waits for uses or stop
  std::condition_variable done_cv_;   // Flush waits for `done_` to pass its ticket
  std::deque<TokenUseRecord> queue_;  // guarded by mu_
  std::uint64_t enqueued_ = 0;        // guarded by mu_: uses ever queued
  std::uint64_t done_ = 0;            // guarded by mu_: uses written or failed
  bool stop_ = false;                 // guarded by mu_
  HistoryWriterStats stats_;          // guarded by mu_
  std::thread thread_;                // last: starts after everything above exists
};

}  // namespace tapstack::tsp
