// Shared by the whole-system load benchmarks (not Google Benchmark programs): a log-bucketed
// latency histogram, command-line flags and the process's memory figures.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/latency_histogram.h"

namespace tapstack::bench {

// The latency histogram the console uses too (core/latency_histogram.h).
using Histogram = ::tapstack::LatencyHistogram;

int Flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

// Resident set size now, from /proc/self/statm (bytes; 0 when unreadable).
inline std::int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * 4096;
}

// Peak resident set size of the process so far (bytes).
inline std::int64_t PeakResidentBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace tapstack::bench
