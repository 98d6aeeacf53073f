// LatencyHistogram: a log-bucketed histogram of latencies in microseconds, cheap enough for a hot
// path (Add is three relaxed atomic operations, no allocation, no lock). Buckets are 1 µs wide
// below 1 ms, then about 2% wide (bucket b ≥ 1000 holds [1000·1.02^(b-1000), 1000·1.02^(b-999))
// µs), so a percentile is exact below 1 ms and within 2% above; every int64 value fits (the
// largest lands in bucket ~2850 of 4096).
//
// The percentiles of a recent interval come from two snapshots: Snapshot() now, Snapshot() later,
// later.Since(earlier) holds only what was added in between (what the console's per-second
// sampler does).
//
// Thread-safety: Add, Percentile, count, max and Snapshot may be called from any thread at once;
// a snapshot taken while other threads Add is a consistent-enough view (each bucket is read
// atomically, not all of them at one instant). Reset must not race Add.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tapstack {

class LatencyHistogram {
 public:
  static constexpr std::size_t kBuckets = 4096;
  static constexpr std::int64_t kExactMicrosMax = 1000;  // 1 µs buckets below this
  static constexpr double kBucketGrowth = 1.02;          // ratio between wider buckets

  // The histogram's counts at one time; plain values, copyable.
  struct Snapshot {
    std::vector<std::int64_t> counts = std::vector<std::int64_t>(kBuckets, 0);
    std::int64_t count = 0;
    std::int64_t max = 0;  // the largest value added (for a Since: its bucket's upper bound)

    // The latency at or below which a fraction `p` (0..1) of the values lie: the upper bound of
    // the bucket holding the value of rank floor(p·count), at most `max`. 0 when empty.
    std::int64_t Percentile(double p) const {
      if (count <= 0) return 0;
      const double clamped = std::clamp(p, 0.0, 1.0);
      const auto target = static_cast<std::int64_t>(clamped * static_cast<double>(count));
      std::int64_t seen = 0;
      for (std::size_t b = 0; b < kBuckets; ++b) {
        seen += counts[b];
        if (seen > target) return std::min(UpperMicros(b), max);
      }
      return max;
    }

    // What was added between `earlier` and this snapshot (of the same histogram, earlier taken
    // first). max is the upper bound of the highest bucket that grew, at most this->max.
    Snapshot Since(const Snapshot& earlier) const {
      Snapshot diff;
      diff.max = 0;
      for (std::size_t b = 0; b < kBuckets; ++b) {
        // Never negative, even if a Reset happened in between.
        diff.counts[b] = std::max<std::int64_t>(0, counts[b] - earlier.counts[b]);
        diff.count += diff.counts[b];
        if (diff.counts[b] > 0) diff.max = std::min(UpperMicros(b), max);
      }
      return diff;
    }
  };

  void Add(std::int64_t micros) {
    counts_[Bucket(micros)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    std::int64_t m = max_.load(std::memory_order_relaxed);
    while (micros > m && !max_.compare_exchange_weak(m, micros, std::memory_order_relaxed)) {
    }
  }

  // Over everything added since construction (or Reset); see Snapshot::Percentile.
  std::int64_t Percentile(double p) const { return Take().Percentile(p); }
  std::int64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::int64_t max() const { return max_.load(std::memory_order_relaxed); }

  Snapshot Take() const {
    Snapshot s;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      s.counts[b] = counts_[b].load(std::memory_order_relaxed);
      s.count += s.counts[b];
    }
    s.max = max_.load(std::memory_order_relaxed);
    return s;
  }

  // Back to empty. Not concurrent with Add (a benchmark between phases, a test).
  void Reset() {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
    count_.store(0, std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
  }

  // The bucket of `micros` (negative values count as 0).
  static std::size_t Bucket(std::int64_t micros) {
    if (micros < kExactMicrosMax) return static_cast<std::size_t>(std::max<std::int64_t>(micros, 0));
    const double b = static_cast<double>(kExactMicrosMax) +
                     std::log(static_cast<double>(micros) / kExactMicrosMax) / std::log(kBucketGrowth);
    return std::min<std::size_t>(kBuckets - 1, static_cast<std::size_t>(b));
  }
  // The largest value bucket `b` reports (its exclusive upper bound for the wide buckets).
  static std::int64_t UpperMicros(std::size_t b) {
    if (b < static_cast<std::size_t>(kExactMicrosMax)) return static_cast<std::int64_t>(b);
    const double upper = static_cast<double>(kExactMicrosMax) *
                         std::pow(kBucketGrowth, static_cast<double>(b) - kExactMicrosMax + 1);
    // Far buckets exceed int64: saturate.
    return upper >= 9.0e18 ? std::int64_t{9'000'000'000'000'000'000} : static_cast<std::int64_t>(upper);
  }

 private:
  std::array<std::atomic<std::int64_t>, kBuckets> counts_{};
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> max_{0};
};

}  // namespace tapstack
