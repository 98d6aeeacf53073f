// OperationSink: how a worker thread asks the Runner for permission to start an operation and
// reports each completed one. One sink per worker thread; a sink is not shared between threads.
//
// Claim hands out operations in small chunks from a shared counter, so the count bound is exact
// (never one operation more than --count) without a shared atomic per operation. Under --rate
// (soak mode) each claim takes one number k from the counter and operation k starts no earlier
// than k / rate seconds after the run's start, whichever worker claims it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/latency_histogram.h"
#include "core/status.h"

namespace tapstack::benchkit {

// What the workers of one run share (owned by the Runner).
struct RunControl {
  std::int64_t count_max = 0;                // the run's --count
  double rate = 0;                           // the run's --rate (ops/s in total; 0: unpaced)
  std::chrono::steady_clock::time_point start;  // when the run started (the pacing's origin)
  std::atomic<std::int64_t> claimed{0};      // operations handed out so far (may exceed count_max)
  std::atomic<bool> stop{false};             // set at the time bound, or on request
  std::mutex error_mutex;
  std::string first_error;                   // the first failed operation's status
};

class OperationSink {
 public:
  using Clock = std::chrono::steady_clock;

  // Claimed per trip to the shared counter: small, so that at the end no worker sits on many
  // operations another could run.
  static constexpr std::int64_t kClaimChunkOps = 16;
  // A paced Claim sleeps in slices of at most this, so that it sees the time bound promptly.
  static constexpr std::chrono::milliseconds kPacingSliceMs{20};

  explicit OperationSink(RunControl& control) : control_(control) {}
  OperationSink(const OperationSink&) = delete;
  OperationSink& operator=(const OperationSink&) = delete;

  // True when the caller may start one more operation: the count is not reached and the time is
  // not up. Under --rate it first sleeps until the operation's start time (false when the run
  // stops meanwhile). Once it returns false it keeps returning false.
  bool Claim() {
    const std::optional<Clock::time_point> start = ClaimStart();
    if (!start) return false;
    for (Clock::time_point now = Clock::now(); now < *start; now = Clock::now()) {
      if (stopped()) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(*start - now, kPacingSliceMs));
    }
    return true;
  }

  // For a driver that must not sleep (an I/O thread with answers to handle): as Claim, but
  // returns the time the operation may start at instead of sleeping until it (a time already
  // past when the run is not paced); nullopt when Claim would say false. The caller starts it
  // at or after that time, e.g. from a timer, and checks stopped() then.
  std::optional<Clock::time_point> ClaimStart() {
    if (stopped()) return std::nullopt;
    if (control_.rate > 0) {
      const std::int64_t k = control_.claimed.fetch_add(1, std::memory_order_relaxed);
      if (k >= control_.count_max) return std::nullopt;
      return control_.start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(static_cast<double>(k) / control_.rate));
    }
    if (granted_ == 0) {
      const std::int64_t first =
          control_.claimed.fetch_add(kClaimChunkOps, std::memory_order_relaxed);
      const std::int64_t left = control_.count_max - first;
      if (left <= 0) return std::nullopt;
      granted_ = left < kClaimChunkOps ? left : kClaimChunkOps;
    }
    --granted_;
    return Clock::time_point::min();
  }

  // True once the run is stopping (time up, or RequestStop).
  bool stopped() const { return control_.stop.load(std::memory_order_relaxed); }

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
