#include "server/console_metrics.h"

#include <algorithm>
#include <chrono>

namespace tapstack::server {

ConsoleMetrics::ConsoleMetrics(const network::SwitchStats& stats, const LatencyHistogram& latency,
                               const Clock& clock)
    : stats_(stats), latency_(latency), clock_(clock) {}

ConsoleMetrics::~ConsoleMetrics() { Stop(); }

void ConsoleMetrics::Start() {
  std::lock_guard guard(thread_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    SampleNow();  // the starting point
    std::unique_lock lock(thread_mu_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(kMetricsSampleIntervalMs),
                           [this] { return stopping_; })) {
      lock.unlock();
      SampleNow();
      lock.lock();
    }
  });
}

void ConsoleMetrics::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ConsoleMetrics::Reading ConsoleMetrics::Read() const {
  Reading r;
  r.monotonic_nanos = clock_.MonotonicNanos();
  r.requests = stats_.requests.load(std::memory_order_relaxed);
  r.approved = stats_.approved.load(std::memory_order_relaxed);
  r.declined = stats_.declined.load(std::memory_order_relaxed);
  r.stand_in = stats_.stand_in_approved.load(std::memory_order_relaxed) +
               stats_.stand_in_declined.load(std::memory_order_relaxed);
  r.latency = latency_.Take();
  return r;
}

void ConsoleMetrics::SampleNow() {
  Reading now = Read();
  const std::int64_t unix_ms = clock_.NowUnixMillis();
  std::lock_guard lock(mu_);
  if (!last_) {
    last_ = std::move(now);
    return;
  }
  const Reading& before = *last_;
  // Counters only grow; a difference below zero would be a bug elsewhere: show 0, not garbage.
  auto delta = [](std::uint64_t after, std::uint64_t earlier) {
    return after >= earlier ? static_cast<std::int64_t>(after - earlier) : std::int64_t{0};
  };
  MetricsSample s;
  s.unix_ms = unix_ms;
  s.interval_seconds = static_cast<double>(now.monotonic_nanos - before.monotonic_nanos) / 1e9;
  s.requests = delta(now.requests, before.requests);
  s.approved = delta(now.approved, before.approved);
  s.declined = delta(now.declined, before.declined);
  s.stand_in = delta(now.stand_in, before.stand_in);
  if (s.interval_seconds > 0) {
    s.requests_per_second = static_cast<double>(s.requests) / s.interval_seconds;
    s.approved_per_second = static_cast<double>(s.approved) / s.interval_seconds;
    s.declined_per_second = static_cast<double>(s.declined) / s.interval_seconds;
    s.stand_in_per_second = static_cast<double>(s.stand_in) / s.interval_seconds;
  }
  if (s.approved + s.declined > 0) {
    s.approval_rate = static_cast<double>(s.approved) / static_cast<double>(s.approved + s.declined);
  }
  const LatencyHistogram::Snapshot second = now.latency.Since(before.latency);
  s.answered = second.count;
  s.latency_p50_micros = second.Percentile(0.50);
  s.latency_p90_micros = second.Percentile(0.90);
  s.latency_p99_micros = second.Percentile(0.99);
  samples_.push_back(s);
  while (samples_.size() > static_cast<std::size_t>(kMetricsSecondsMax)) samples_.pop_front();
  last_ = std::move(now);
}

std::vector<MetricsSample> ConsoleMetrics::Recent(int seconds) const {
  const auto n = static_cast<std::size_t>(std::clamp(seconds, 1, kMetricsSecondsMax));
  std::lock_guard lock(mu_);
  const std::size_t from = samples_.size() > n ? samples_.size() - n : 0;
  return {samples_.begin() + static_cast<std::ptrdiff_t>(from), samples_.end()};
}

MetricsTotals ConsoleMetrics::Totals() const {
  MetricsTotals t;
  t.requests = stats_.requests.load(std::memory_order_relaxed);
  t.approved = stats_.approved.load(std::memory_order_relaxed);
  t.declined = stats_.declined.load(std::memory_order_relaxed);
  t.stand_in_approved = stats_.stand_in_approved.load(std::memory_order_relaxed);
  t.stand_in_declined = stats_.stand_in_declined.load(std::memory_order_relaxed);
  const LatencyHistogram::Snapshot all = latency_.Take();
  t.answered = all.count;
  t.latency_p50_micros = all.Percentile(0.50);
  t.latency_p90_micros = all.Percentile(0.90);
  t.latency_p99_micros = all.Percentile(0.99);
  t.latency_max_micros = all.max;
  return t;
}

}  // namespace tapstack::server
