// Runner: runs a scenario's Drive on worker threads until the count or the time bound, samples
// throughput and latency every second, and measures the CPU and memory the run used.
#pragma once

#include <functional>

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
// count ≤ 0, threads outside 1..kThreadsMax.
Status CheckLimits(const RunLimits& limits);

// Starts limits.threads workers running `drive`, each with its own sink, and returns when all
// have returned (a worker must return once Claim says false). `progress` may be null.
// Blocks the caller (its thread is the sampler). Errors: as CheckLimits. Failed operations are not errors of Run: they are
// counted in Measurement::errors.
Result<Measurement> Run(const RunLimits& limits, const DriveFunction& drive, Progress* progress);

// Runs `scenario` (already Setup) through Run with its Drive.
Result<Measurement> RunScenario(Scenario& scenario, const RunLimits& limits, Progress* progress);

}  // namespace tapstack::benchkit
