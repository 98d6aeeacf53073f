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

namespace tapstack::bench {

// Log-bucketed latency histogram: buckets of 1 µs below 1 ms, then ~2% wide.
class Histogram {
 public:
  void Add(std::int64_t micros) {
    counts_[Bucket(micros)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    std::int64_t m = max_.load();
    while (micros > m && !max_.compare_exchange_weak(m, micros)) {}
  }
  std::int64_t Percentile(double p) const {
    const std::int64_t target = static_cast<std::int64_t>(p * static_cast<double>(count_.load()));
    std::int64_t seen = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      seen += counts_[b].load();
      if (seen > target) return Upper(b);
    }
    return max_.load();
  }
  std::int64_t count() const { return count_.load(); }
  std::int64_t max() const { return max_.load(); }

 private:
  static constexpr std::size_t kBuckets = 4096;
  static std::size_t Bucket(std::int64_t us) {
    if (us < 1000) return static_cast<std::size_t>(std::max<std::int64_t>(us, 0));
    double b = 1000 + std::log(static_cast<double>(us) / 1000.0) / std::log(1.02);
    return std::min<std::size_t>(kBuckets - 1, static_cast<std::size_t>(b));
  }
  static std::int64_t Upper(std::size_t b) {
    if (b < 1000) return static_cast<std::int64_t>(b);
    return static_cast<std::int64_t>(1000.0 * std::pow(1.02, static_cast<double>(b - 1000 + 1)));
  }
  std::atomic<std::int64_t> counts_[kBuckets]{};
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> max_{0};
};

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
