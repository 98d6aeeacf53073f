// Runner: runs a scenario's Drive on worker threads until the count or the time bound, samples
// throughput and latency every second, and measures the CPU and memory the run used.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "benchkit/operation_sink.h"
#include "benchkit/progress.h"
#include "benchkit/run_result.h"
#include "benchkit/scenario.h"
#include "core/status.h"

namespace tapstack::benchkit {

inline constexpr double kSampleIntervalSeconds = 1.0;  // the series' resolution
inline constexpr double kProgressIntervalSeconds = 0.2;

// The worker loop of one thread (Scenario::Drive, or a peer's loop).
using DriveFunction = std::function<void(int thread, OperationSink& sink)>;

// OK when the bounds are usable. Errors (kInvalidArgument, naming the option): seconds ≤ 0,
// count ≤ 0, threads outside 1..kThreadsMax, rate outside 0..kRateMax.
Status CheckLimits(const RunLimits& limits);

// The process's resident set size now: resident pages of /proc/self/statm × the page size; 0
// when unreadable (not Linux).
std::int64_t ResidentBytesNow();

// The least-squares slope of rss_bytes against each sample's end time, over the samples that end
// after half of `wall_seconds`, in bytes per minute (0 with fewer than 2 such samples).
double RssGrowthBytesPerMinute(const std::vector<Sample>& series, double wall_seconds);

// Starts limits.threads workers running `drive`, each with its own sink, and returns when all
// have returned (a worker must return once Claim says false). `progress` may be null.
// Blocks the caller (its thread is the sampler). Errors: as CheckLimits. Failed operations are not errors of Run: they are
// counted in Measurement::errors.
Result<Measurement> Run(const RunLimits& limits, const DriveFunction& drive, Progress* progress);

// Runs `scenario` (already Setup) through Run with its Drive.
Result<Measurement> RunScenario(Scenario& scenario, const RunLimits& limits, Progress* progress);

}  // namespace tapstack::benchkit
