// OperationSink: how a worker thread asks the Runner for permission to start an operation and
// reports each completed one. One sink per worker thread; a sink is not shared between threads.
//
// Claim hands out operations in small chunks from a shared counter, so the count bound is exact
// (never one operation more than --count) without a shared atomic per operation.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/latency_histogram.h"
#include "core/status.h"

namespace tapstack::benchkit {

// What the workers of one run share (owned by the Runner).
struct RunControl {
  std::int64_t count_max = 0;                // the run's --count
  std::atomic<std::int64_t> claimed{0};      // operations handed out so far (may exceed count_max)
  std::atomic<bool> stop{false};             // set at the time bound, or on request
  std::mutex error_mutex;
  std::string first_error;                   // the first failed operation's status
};

class OperationSink {
 public:
  // Claimed per trip to the shared counter: small, so that at the end no worker sits on many
  // operations another could run.
  static constexpr std::int64_t kClaimChunkOps = 16;

  explicit OperationSink(RunControl& control) : control_(control) {}
  OperationSink(const OperationSink&) = delete;
  OperationSink& operator=(const OperationSink&) = delete;

  // True when the caller may start one more operation: the count is not reached and the time is
  // not up. Once it returns false it keeps returning false.
  bool Claim() {
    if (control_.stop.load(std::memory_order_relaxed)) return false;
    if (granted_ == 0) {
      const std::int64_t first =
          control_.claimed.fetch_add(kClaimChunkOps, std::memory_order_relaxed);
      const std::int64_t left = control_.count_max - first;
      if (left <= 0) return false;
      granted_ = left < kClaimChunkOps ? left : kClaimChunkOps;
    }
    --granted_;
    return true;
  }

  // Records one completed operation that took `latency_ns` nanoseconds; a failed `status` counts
  // as an error (its latency still counts) and the first one is kept for the report.
  void Complete(std::int64_t latency_ns, const Status& status) {
    latency_ns_.Add(latency_ns);
    if (!status.ok()) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(control_.error_mutex);
      if (control_.first_error.empty()) control_.first_error = status.ToString();
    }
  }

  // Asks every worker to stop after its current operation (e.g. the driver's load ran out).
  void RequestStop() { control_.stop.store(true, std::memory_order_relaxed); }

  // Read by the Runner's sampler from another thread: the histogram counts completions.
  const LatencyHistogram& latency_ns() const { return latency_ns_; }
  std::int64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  RunControl& control_;
  std::int64_t granted_ = 0;  // claimed, not yet started (this worker's own)
  // Nanoseconds, not the header's microseconds: the buckets are unit-free (exact below 1000
  // units, 2% wide above), so nanoseconds keep sub-microsecond operations (a codec call) exact.
  LatencyHistogram latency_ns_;
  std::atomic<std::int64_t> errors_{0};
};

}  // namespace tapstack::benchkit
