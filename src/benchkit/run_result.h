// RunResult: everything one `tapstack bench` run measured; what Report prints and writes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "benchkit/scenario.h"

namespace tapstack::benchkit {

// Latency percentiles in microseconds (fractional: sub-microsecond operations stay visible).
struct LatencySummary {
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

// One second of the run (the last sample is the remainder, usually shorter).
struct Sample {
  double start_s = 0;        // since the start of the run
  double duration_s = 0;
  std::int64_t ops = 0;      // operations completed in this interval
  std::int64_t errors = 0;   // of which failed
  double ops_per_second = 0; // ops / duration_s
  double p50_us = 0;         // of the operations completed in this interval
  double p99_us = 0;
  std::int64_t rss_bytes = 0; // resident set size at the end of this interval (/proc/self/statm)
};

// Memory over the run, from the series' resident set sizes: flat memory in a soak shows as a
// growth near 0.
struct RssSummary {
  std::int64_t start_bytes = 0;   // when the run started (after Setup)
  std::int64_t end_bytes = 0;     // at the end of the run
  std::int64_t max_bytes = 0;     // the largest of start, end and every sample
  // Least-squares slope of rss_bytes over the samples that end in the second half of the run
  // (the first half holds warm-up: caches, pools, the allocator's arenas), × 60; 0 with fewer
  // than 2 such samples.
  double growth_bytes_per_minute = 0;
};

// What the Runner measured (without scenario identity or peer).
struct Measurement {
  std::int64_t ops = 0;              // completed operations (== the sum of series[].ops)
  std::int64_t errors = 0;           // of which failed
  std::string first_error;           // the first failure's status, empty when none
  std::string stop_reason;           // "count", "time" or "driver" (the scenario stopped)
  double wall_seconds = 0;
  double ops_per_second = 0;         // ops / wall_seconds
  LatencySummary latency;
  double cpu_user_seconds = 0;       // getrusage(RUSAGE_SELF) over the run only
  double cpu_system_seconds = 0;
  int cores = 1;                     // std::thread::hardware_concurrency()
  double cpu_percent_of_cores = 0;   // (user + sys) / (wall × cores) × 100
  std::int64_t peak_rss_bytes = 0;   // ru_maxrss at the end of the run (the process's peak)
  RssSummary rss;
  std::vector<Sample> series;
};

struct RunResult {
  std::string scenario;
  std::string description;
  RunLimits limits;
  std::map<std::string, std::string> options;
  Measurement measurement;
  std::int64_t items_per_op = 1;     // Scenario::items_per_op
  std::string item_name = "ops";
  std::vector<std::pair<std::string, std::string>> details;  // Scenario::details
  bool has_peer = false;
  PeerFigure peer;                   // meaningful when has_peer
  std::optional<double> peer_ratio;  // ours / peer's ops per second, when the peer is available
};

}  // namespace tapstack::benchkit
