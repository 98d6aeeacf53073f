#include "benchkit/runner.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <memory>
#include <thread>
#include <vector>

namespace tapstack::benchkit {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double TimevalSeconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double NanosToMicros(std::int64_t ns) { return static_cast<double>(ns) / 1000.0; }

// The sum of every worker's histogram now.
LatencyHistogram::Snapshot Merged(const std::vector<std::unique_ptr<OperationSink>>& sinks) {
  LatencyHistogram::Snapshot total;
  for (const auto& sink : sinks) {
    const LatencyHistogram::Snapshot s = sink->latency_ns().Take();
    for (std::size_t b = 0; b < LatencyHistogram::kBuckets; ++b) total.counts[b] += s.counts[b];
    total.count += s.count;
    total.max = std::max(total.max, s.max);
  }
  return total;
}

std::int64_t CompletedOps(const std::vector<std::unique_ptr<OperationSink>>& sinks) {
  std::int64_t n = 0;
  for (const auto& sink : sinks) n += sink->latency_ns().count();
  return n;
}

std::int64_t Errors(const std::vector<std::unique_ptr<OperationSink>>& sinks) {
  std::int64_t n = 0;
  for (const auto& sink : sinks) n += sink->errors();
  return n;
}

}  // namespace

void Scenario::Drive(int thread, OperationSink& sink) {
  while (sink.Claim()) {
    const Clock::time_point start = Clock::now();
    const Status status = RunOnce(thread);
    sink.Complete(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count(),
                  status);
  }
}

PeerFigure Scenario::MeasurePeer(const RunLimits& /*limits*/) {
  PeerFigure none;
  none.note = "this scenario has no peer";
  return none;
}

Status CheckLimits(const RunLimits& limits) {
  if (!(limits.seconds > 0)) return InvalidArgument("--seconds: expected a positive number");
  if (limits.count <= 0) return InvalidArgument("--count: expected a positive number");
  if (limits.threads < 1 || limits.threads > kThreadsMax) {
    return InvalidArgument("--threads: expected 1.." + std::to_string(kThreadsMax));
  }
  if (!(limits.rate >= 0 && limits.rate <= kRateMax)) {
    return InvalidArgument("--rate: expected 0 (as fast as possible) to " +
                           std::to_string(static_cast<std::int64_t>(kRateMax)) + " ops/s");
  }
  return Status::Ok();
}

std::int64_t ResidentBytesNow() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size_pages = 0;
  std::int64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

double RssGrowthBytesPerMinute(const std::vector<Sample>& series, double wall_seconds) {
  double n = 0, sum_x = 0, sum_y = 0, sum_xx = 0, sum_xy = 0;
  for (const Sample& s : series) {
    const double x = s.start_s + s.duration_s;
    if (x <= wall_seconds / 2) continue;
    const double y = static_cast<double>(s.rss_bytes);
    n += 1;
    sum_x += x;
    sum_y += y;
    sum_xx += x * x;
    sum_xy += x * y;
  }
  const double denominator = n * sum_xx - sum_x * sum_x;
  if (n < 2 || !(std::fabs(denominator) > 1e-12)) return 0;
  return 60.0 * (n * sum_xy - sum_x * sum_y) / denominator;
}

Result<Measurement> Run(const RunLimits& limits, const DriveFunction& drive, Progress* progress) {
  TS_RETURN_IF_ERROR(CheckLimits(limits));
  RunControl control;
  control.count_max = limits.count;
  control.rate = limits.rate;
  std::vector<std::unique_ptr<OperationSink>> sinks;
  for (int t = 0; t < limits.threads; ++t) sinks.push_back(std::make_unique<OperationSink>(control));
  // The sampler sleeps on `done_cv` so that it sees the last worker finish at once.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  int finished = 0;
  Clock::time_point last_finish;

  rusage usage_before{};
  getrusage(RUSAGE_SELF, &usage_before);
  const std::int64_t rss_start = ResidentBytesNow();
  const Clock::time_point start = Clock::now();
  control.start = start;  // before any worker runs: they read it without a lock
  std::vector<std::thread> workers;
  for (int t = 0; t < limits.threads; ++t) {
    workers.emplace_back([&, t] {
      drive(t, *sinks[static_cast<std::size_t>(t)]);
      std::lock_guard<std::mutex> lock(done_mutex);
      last_finish = Clock::now();
      if (++finished == limits.threads) done_cv.notify_all();
    });
  }

  Measurement m;
  bool time_up = false;
  LatencyHistogram::Snapshot previous;  // at the start of the current sample
  std::int64_t previous_errors = 0;
  Clock::time_point sample_start = start;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(kSampleIntervalSeconds));
  const auto tick = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(kProgressIntervalSeconds));
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.seconds));

  auto take_sample = [&](Clock::time_point now) {
    const LatencyHistogram::Snapshot current = Merged(sinks);
    const LatencyHistogram::Snapshot delta = current.Since(previous);
    const std::int64_t errors = Errors(sinks);
    Sample s;
    s.start_s = SecondsBetween(start, sample_start);
    s.duration_s = SecondsBetween(sample_start, now);
    s.ops = current.count - previous.count;
    s.errors = errors - previous_errors;
    s.ops_per_second = s.duration_s > 0 ? static_cast<double>(s.ops) / s.duration_s : 0;
    s.p50_us = NanosToMicros(delta.Percentile(0.50));
    s.p99_us = NanosToMicros(delta.Percentile(0.99));
    s.rss_bytes = ResidentBytesNow();
    m.series.push_back(s);
    previous = current;
    previous_errors = errors;
    sample_start = now;
  };
  auto state_at = [&](Clock::time_point now) {
    ProgressState state;
    state.elapsed_s = SecondsBetween(start, now);
    state.seconds_bound = limits.seconds;
    state.ops = CompletedOps(sinks);
    state.count_bound = limits.count;
    state.recent_ops_per_second = m.series.empty() ? 0 : m.series.back().ops_per_second;
    return state;
  };

  for (;;) {
    Clock::time_point wake = std::min(sample_start + interval, Clock::now() + tick);
    if (!time_up) wake = std::min(wake, deadline);
    {
      std::unique_lock<std::mutex> lock(done_mutex);
      if (done_cv.wait_until(lock, wake, [&] { return finished == limits.threads; })) break;
    }
    const Clock::time_point now = Clock::now();
    if (!time_up && now >= deadline) {
      time_up = true;
      control.stop.store(true, std::memory_order_relaxed);
    }
    if (now >= sample_start + interval) take_sample(now);
    if (progress != nullptr) progress->Update(state_at(now));
  }
  for (std::thread& w : workers) w.join();
  // last_finish is written under done_mutex and read after the joins; a sample taken as the last
  // worker was finishing may lie just after it.
  const Clock::time_point end = std::max(last_finish, sample_start);
  rusage usage_after{};
  getrusage(RUSAGE_SELF, &usage_after);

  // The remainder since the last full second, so that the series adds up to the total.
  const LatencyHistogram::Snapshot total = Merged(sinks);
  if (total.count > previous.count || m.series.empty() || SecondsBetween(sample_start, end) > 1e-3) {
    take_sample(end);
  }
  if (progress != nullptr) progress->Finish(state_at(end));

  m.ops = total.count;
  m.errors = Errors(sinks);
  m.first_error = control.first_error;
  m.stop_reason = time_up ? "time" : control.claimed.load() >= limits.count ? "count" : "driver";
  m.wall_seconds = SecondsBetween(start, end);
  m.ops_per_second = m.wall_seconds > 0 ? static_cast<double>(m.ops) / m.wall_seconds : 0;
  m.latency.p50_us = NanosToMicros(total.Percentile(0.50));
  m.latency.p90_us = NanosToMicros(total.Percentile(0.90));
  m.latency.p99_us = NanosToMicros(total.Percentile(0.99));
  m.latency.p999_us = NanosToMicros(total.Percentile(0.999));
  m.latency.max_us = NanosToMicros(total.max);
  m.cpu_user_seconds = TimevalSeconds(usage_after.ru_utime) - TimevalSeconds(usage_before.ru_utime);
  m.cpu_system_seconds = TimevalSeconds(usage_after.ru_stime) - TimevalSeconds(usage_before.ru_stime);
  m.cores = std::max(1u, std::thread::hardware_concurrency());
  m.cpu_percent_of_cores = m.wall_seconds > 0 ? 100.0 * (m.cpu_user_seconds + m.cpu_system_seconds) /
                                                    (m.wall_seconds * m.cores)
                                              : 0;
  m.peak_rss_bytes = static_cast<std::int64_t>(usage_after.ru_maxrss) * 1024;  // Linux: KiB
  m.rss.start_bytes = rss_start;
  m.rss.end_bytes = ResidentBytesNow();
  m.rss.max_bytes = std::max(rss_start, m.rss.end_bytes);
  for (const Sample& s : m.series) m.rss.max_bytes = std::max(m.rss.max_bytes, s.rss_bytes);
  m.rss.growth_bytes_per_minute = RssGrowthBytesPerMinute(m.series, m.wall_seconds);
  return m;
}

Result<Measurement> RunScenario(Scenario& scenario, const RunLimits& limits, Progress* progress) {
  return Run(limits, [&scenario](int thread, OperationSink& sink) { scenario.Drive(thread, sink); },
             progress);
}

}  // namespace tapstack::benchkit
