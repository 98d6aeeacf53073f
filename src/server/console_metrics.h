// ConsoleMetrics: the live network view behind GET /v1/console/metrics. A sampler reads the
// switch's counters (network::SwitchStats) and its latency histogram (Switch::latency) once a
// second into a ring of the last kMetricsSecondsMax samples: per second, requests, approvals,
// declines and stand-in decisions as rates, the approval rate and the latency percentiles of that
// second only (core/latency_histogram.h: snapshot now minus snapshot a second ago).
//
// Ownership: `stats`, `latency` and `clock` are not owned and must outlive this object (the
// switch outlives the console in DemoNode). Thread-safety: every method may be called from any
// thread; Start runs the sampler on a thread of its own, Stop (or the destructor) joins it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/latency_histogram.h"
#include "network/switch.h"

namespace tapstack::server {

inline constexpr int kMetricsSampleIntervalMs = 1'000;
inline constexpr int kMetricsSecondsMax = 600;  // samples kept (ten minutes at one a second)

// One sampling interval (normally one second).
struct MetricsSample {
  std::int64_t unix_ms = 0;     // when the interval ended
  double interval_seconds = 0;  // its length, from the monotonic clock
  std::int64_t requests = 0;    // authorisation and financial requests received in it
  std::int64_t approved = 0;    // answers "00" (stand-in approvals included)
  std::int64_t declined = 0;    // every other answer (stand-in declines included)
  std::int64_t stand_in = 0;    // stand-in approvals + declines
  double requests_per_second = 0;
  double approved_per_second = 0;
  double declined_per_second = 0;
  double stand_in_per_second = 0;
  std::optional<double> approval_rate;  // approved / (approved + declined); none when no answer
  std::int64_t answered = 0;            // latencies recorded in the interval
  std::int64_t latency_p50_micros = 0;  // 0 when nothing was answered
  std::int64_t latency_p90_micros = 0;
  std::int64_t latency_p99_micros = 0;
};

// Since the switch started.
struct MetricsTotals {
  std::uint64_t requests = 0;
  std::uint64_t approved = 0;
  std::uint64_t declined = 0;
  std::uint64_t stand_in_approved = 0;
  std::uint64_t stand_in_declined = 0;
  std::int64_t answered = 0;
  std::int64_t latency_p50_micros = 0;
  std::int64_t latency_p90_micros = 0;
  std::int64_t latency_p99_micros = 0;
  std::int64_t latency_max_micros = 0;
};

class ConsoleMetrics {
 public:
  ConsoleMetrics(const network::SwitchStats& stats, const LatencyHistogram& latency,
                 const Clock& clock);
  ~ConsoleMetrics();
  ConsoleMetrics(const ConsoleMetrics&) = delete;
  ConsoleMetrics& operator=(const ConsoleMetrics&) = delete;

  // Samples every kMetricsSampleIntervalMs on a thread of its own until Stop. Idempotent.
  void Start();
  // Idempotent.
  void Stop();

  // Takes one sample now (the thread's step; tests call it directly with a ManualClock). The
  // first call only records the starting point.
  void SampleNow();

  // The last `seconds` samples (1..kMetricsSecondsMax; clamped), oldest first.
  std::vector<MetricsSample> Recent(int seconds) const;
  MetricsTotals Totals() const;

 private:
  struct Reading {
    std::int64_t monotonic_nanos = 0;
    std::uint64_t requests = 0, approved = 0, declined = 0, stand_in = 0;
    LatencyHistogram::Snapshot latency;
  };
  Reading Read() const;

  const network::SwitchStats& stats_;
  const LatencyHistogram& latency_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::optional<Reading> last_;  // guarded by mu_
  std::deque<MetricsSample> samples_;
  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tapstack::server
