#include "server/console_metrics.h"

#include <gtest/gtest.h>

namespace tapstack::server {
namespace {

class ConsoleMetricsTest : public ::testing::Test {
 protected:
  // What the switch does for one answered request.
  void Answer(bool approved, std::int64_t latency_micros, bool stand_in = false) {
    stats_.requests++;
    (approved ? stats_.approved : stats_.declined)++;
    if (stand_in) (approved ? stats_.stand_in_approved : stats_.stand_in_declined)++;
    latency_.Add(latency_micros);
  }

  ManualClock clock_;
  network::SwitchStats stats_;
  LatencyHistogram latency_;
  ConsoleMetrics metrics_{stats_, latency_, clock_};
};

TEST_F(ConsoleMetricsTest, FirstSampleIsTheStartingPoint) {
  for (int i = 0; i < 50; ++i) Answer(true, 100);  // before the console started: not in a second
  metrics_.SampleNow();
  EXPECT_TRUE(metrics_.Recent(60).empty());
  clock_.AdvanceMillis(1'000);
  metrics_.SampleNow();
  ASSERT_EQ(metrics_.Recent(60).size(), 1u);
  const MetricsSample s = metrics_.Recent(60)[0];
  EXPECT_EQ(s.requests, 0);
  EXPECT_EQ(s.answered, 0);
  EXPECT_FALSE(s.approval_rate.has_value());
  EXPECT_EQ(s.latency_p50_micros, 0);
  EXPECT_EQ(s.unix_ms, clock_.NowUnixMillis());
}

TEST_F(ConsoleMetricsTest, RatesAndPercentilesOfEachSecond) {
  metrics_.SampleNow();
  // Second 1: 8 approved at 200 µs, 1 declined and 1 stand-in decline at 3 ms.
  for (int i = 0; i < 8; ++i) Answer(true, 200);
  Answer(false, 3'000);
  Answer(false, 3'000, /*stand_in=*/true);
  clock_.AdvanceMillis(1'000);
  metrics_.SampleNow();
  // Seconds 2-3 (one late sample: two seconds): 4 stand-in approvals at 50 µs.
  for (int i = 0; i < 4; ++i) Answer(true, 50, /*stand_in=*/true);
  clock_.AdvanceMillis(2'000);
  metrics_.SampleNow();

  const std::vector<MetricsSample> samples = metrics_.Recent(60);
  ASSERT_EQ(samples.size(), 2u);
  const MetricsSample& first = samples[0];
  EXPECT_DOUBLE_EQ(first.interval_seconds, 1.0);
  EXPECT_EQ(first.requests, 10);
  EXPECT_DOUBLE_EQ(first.requests_per_second, 10.0);
  EXPECT_DOUBLE_EQ(first.approved_per_second, 8.0);
  EXPECT_DOUBLE_EQ(first.declined_per_second, 2.0);
  EXPECT_DOUBLE_EQ(first.stand_in_per_second, 1.0);
  ASSERT_TRUE(first.approval_rate.has_value());
  EXPECT_DOUBLE_EQ(*first.approval_rate, 0.8);
  EXPECT_EQ(first.answered, 10);
  EXPECT_EQ(first.latency_p50_micros, 200);
  // Rank 9 of 10 is a 3 ms one: within the 2% bucket, never above the real value.
  EXPECT_GE(first.latency_p90_micros, 2'940);
  EXPECT_LE(first.latency_p90_micros, 3'000);
  EXPECT_GE(first.latency_p99_micros, 2'940);

  const MetricsSample& second = samples[1];
  EXPECT_DOUBLE_EQ(second.interval_seconds, 2.0);
  EXPECT_EQ(second.requests, 4);
  EXPECT_DOUBLE_EQ(second.requests_per_second, 2.0);
  EXPECT_DOUBLE_EQ(second.stand_in_per_second, 2.0);
  EXPECT_DOUBLE_EQ(*second.approval_rate, 1.0);
  // Only that interval's latencies: the 3 ms ones of the first second are not in it.
  EXPECT_EQ(second.latency_p99_micros, 50);

  const MetricsTotals totals = metrics_.Totals();
  EXPECT_EQ(totals.requests, 14u);
  EXPECT_EQ(totals.approved, 12u);
  EXPECT_EQ(totals.declined, 2u);
  EXPECT_EQ(totals.stand_in_approved, 4u);
  EXPECT_EQ(totals.stand_in_declined, 1u);
  EXPECT_EQ(totals.answered, 14);
  EXPECT_EQ(totals.latency_max_micros, 3'000);
  EXPECT_EQ(totals.latency_p50_micros, 200);
}

TEST_F(ConsoleMetricsTest, RecentIsTheLastSecondsOldestFirstAndTheRingIsBounded) {
  metrics_.SampleNow();
  for (int i = 1; i <= kMetricsSecondsMax + 10; ++i) {
    for (int k = 0; k < i % 7; ++k) Answer(true, 10);
    clock_.AdvanceMillis(1'000);
    metrics_.SampleNow();
  }
  EXPECT_EQ(metrics_.Recent(kMetricsSecondsMax + 100).size(), static_cast<std::size_t>(kMetricsSecondsMax));
  const std::vector<MetricsSample> last3 = metrics_.Recent(3);
  ASSERT_EQ(last3.size(), 3u);
  EXPECT_LT(last3[0].unix_ms, last3[2].unix_ms);
  EXPECT_EQ(last3[2].unix_ms, clock_.NowUnixMillis());
  EXPECT_EQ(last3[2].requests, (kMetricsSecondsMax + 10) % 7);
  EXPECT_EQ(metrics_.Recent(0).size(), 1u);  // clamped to at least one
}

TEST_F(ConsoleMetricsTest, TheThreadSamplesEverySecond) {
  ConsoleMetrics live(stats_, latency_, SystemClock::Instance());
  live.Start();
  live.Start();  // idempotent
  Answer(true, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(kMetricsSampleIntervalMs * 2 + 300));
  live.Stop();
  const std::vector<MetricsSample> samples = live.Recent(60);
  ASSERT_GE(samples.size(), 1u);
  std::int64_t requests = 0;
  for (const MetricsSample& s : samples) requests += s.requests;
  EXPECT_LE(requests, 1);  // the request may have come before the starting point
  live.Stop();  // idempotent
}

}  // namespace
}  // namespace tapstack::server
