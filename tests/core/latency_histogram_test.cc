#include "core/latency_histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tapstack {
namespace {

TEST(LatencyHistogramTest, EmptyHasNoPercentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.Percentile(0.5), 0);
  EXPECT_EQ(h.Percentile(0.99), 0);
}

TEST(LatencyHistogramTest, ExactBelowOneMillisecond) {
  LatencyHistogram h;
  for (int us = 1; us <= 100; ++us) h.Add(us);
  EXPECT_EQ(h.count(), 100);
  EXPECT_EQ(h.max(), 100);
  // Rank floor(p·100): the 51st value is 51 µs, the 91st 91, the 100th 100.
  EXPECT_EQ(h.Percentile(0.50), 51);
  EXPECT_EQ(h.Percentile(0.90), 91);
  EXPECT_EQ(h.Percentile(0.99), 100);
  EXPECT_EQ(h.Percentile(0.0), 1);
  EXPECT_EQ(h.Percentile(1.0), 100);
}

TEST(LatencyHistogramTest, WithinTwoPercentAboveOneMillisecond) {
  for (std::int64_t us : std::vector<std::int64_t>{1'000, 1'500, 12'345, 250'000, 3'000'000, 86'400'000'000}) {
    LatencyHistogram h;
    h.Add(us);
    h.Add(us / 2 + 1);  // below it, so p99 lands on `us`
    // The bucket's upper bound, capped at the max: never below the value, at most 2% above.
    const std::int64_t p = h.Percentile(0.99);
    EXPECT_GE(p, us * 98 / 100) << us;
    EXPECT_LE(p, us) << us;
    EXPECT_LE(LatencyHistogram::UpperMicros(LatencyHistogram::Bucket(us)), us * 103 / 100 + 1) << us;
    EXPECT_GT(LatencyHistogram::UpperMicros(LatencyHistogram::Bucket(us)), us - 1) << us;
  }
}

TEST(LatencyHistogramTest, NegativeAndHugeValuesStayInRange) {
  LatencyHistogram h;
  h.Add(-5);
  h.Add(std::int64_t{1} << 62);
  EXPECT_EQ(LatencyHistogram::Bucket(-5), 0u);
  EXPECT_LT(LatencyHistogram::Bucket(std::int64_t{1} << 62), LatencyHistogram::kBuckets);
  EXPECT_GE(LatencyHistogram::UpperMicros(LatencyHistogram::Bucket(std::int64_t{1} << 62)),
            std::int64_t{1} << 62);
  EXPECT_EQ(h.count(), 2);
  EXPECT_EQ(h.Percentile(0.0), 0);
  EXPECT_EQ(h.max(), std::int64_t{1} << 62);
}

TEST(LatencyHistogramTest, SinceHoldsOnlyTheInterval) {
  LatencyHistogram h;
  for (int i = 0; i < 1'000; ++i) h.Add(10);  // an earlier, fast second
  const LatencyHistogram::Snapshot before = h.Take();
  for (int i = 0; i < 90; ++i) h.Add(200);
  for (int i = 0; i < 10; ++i) h.Add(5'000);
  const LatencyHistogram::Snapshot after = h.Take();
  const LatencyHistogram::Snapshot second = after.Since(before);
  EXPECT_EQ(second.count, 100);
  EXPECT_EQ(second.Percentile(0.50), 200);
  EXPECT_EQ(second.Percentile(0.89), 200);
  EXPECT_GE(second.Percentile(0.99), 4'900);
  EXPECT_LE(second.Percentile(0.99), 5'000);
  EXPECT_LE(second.max, 5'000);
  // Over everything, the 1,000 fast ones dominate the median.
  EXPECT_EQ(after.Percentile(0.50), 10);
  // Nothing in between: empty.
  EXPECT_EQ(after.Since(after).count, 0);
  EXPECT_EQ(after.Since(after).Percentile(0.5), 0);
}

TEST(LatencyHistogramTest, ResetEmpties) {
  LatencyHistogram h;
  h.Add(700);
  h.Reset();
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.Percentile(0.5), 0);
}

TEST(LatencyHistogramTest, ConcurrentAddsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i) h.Add(t * 1'000 + i % 100);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), 40'000);
  EXPECT_EQ(h.Take().count, 40'000);
  EXPECT_EQ(h.max(), 3'099);
}

}  // namespace
}  // namespace tapstack
