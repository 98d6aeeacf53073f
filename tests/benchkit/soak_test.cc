// Soak mode: --rate paces operation starts over all workers, and the memory summary (rss per
// second, growth over the second half) that a soak reports as flat or not.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "benchkit/report.h"
#include "benchkit/runner.h"

namespace tapstack::benchkit {
namespace {

TEST(SoakTest, RatePacesStartsOverAllWorkers) {
  // 60 ops at 100/s over 3 workers: op k starts at k/100 s, so the last one at 0.59 s.
  std::atomic<std::int64_t> ops{0};
  const auto start = std::chrono::steady_clock::now();
  Result<Measurement> m = benchkit::Run(
      RunLimits{30, 60, 3, 100},
      [&](int, OperationSink& sink) {
        while (sink.Claim()) {
          ops.fetch_add(1);
          sink.Complete(1000, Status::Ok());
        }
      },
      nullptr);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(ops.load(), 60);
  EXPECT_EQ(m->ops, 60);
  EXPECT_EQ(m->stop_reason, "count");
  EXPECT_GE(m->wall_seconds, 0.58);
  EXPECT_LT(elapsed, 2.0);
  EXPECT_NEAR(m->ops_per_second, 100, 8);
}

TEST(SoakTest, PacedClaimStopsAtTheTimeBound) {
  // 10/s for 0.5 s: about 5 ops, not the 1000 of the count bound, and no worker left asleep.
  Result<Measurement> m = benchkit::Run(
      RunLimits{0.5, 1000, 2, 10},
      [](int, OperationSink& sink) {
        while (sink.Claim()) sink.Complete(10, Status::Ok());
      },
      nullptr);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->stop_reason, "time");
  EXPECT_GE(m->ops, 4);
  EXPECT_LE(m->ops, 6);
  EXPECT_LT(m->wall_seconds, 0.6);
}

TEST(SoakTest, ClaimStartHandsOutStartTimesWithoutSleeping) {
  RunControl control;
  control.count_max = 3;
  control.rate = 1000;
  control.start = std::chrono::steady_clock::now() + std::chrono::hours(1);
  OperationSink sink(control);
  const auto before = std::chrono::steady_clock::now();
  const auto first = sink.ClaimStart();
  const auto second = sink.ClaimStart();
  const auto third = sink.ClaimStart();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));  // did not sleep
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(*first, control.start);
  EXPECT_EQ(*second - *first, std::chrono::milliseconds(1));
  EXPECT_EQ(*third - *first, std::chrono::milliseconds(2));
  EXPECT_FALSE(sink.ClaimStart());  // the count is reached
  control.stop = true;
  EXPECT_TRUE(sink.stopped());
}

TEST(SoakTest, RejectsABadRate) {
  auto noop = [](int, OperationSink&) {};
  EXPECT_EQ(benchkit::Run(RunLimits{1, 10, 1, -1}, noop, nullptr).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(benchkit::Run(RunLimits{1, 10, 1, kRateMax * 2}, noop, nullptr).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckLimits(RunLimits{1, 10, 1, 0}).code(), ErrorCode::kOk);
}

TEST(SoakTest, EverySampleCarriesTheResidentSetSize) {
  std::vector<char> held;
  Result<Measurement> m = benchkit::Run(
      RunLimits{1.3, 1'000'000'000, 1, 0},
      [&](int, OperationSink& sink) {
        while (sink.Claim()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          sink.Complete(1'000'000, Status::Ok());
        }
      },
      nullptr);
  ASSERT_TRUE(m.ok());
  ASSERT_GE(m->series.size(), 2u);
  for (const Sample& s : m->series)
    EXPECT_GT(s.rss_bytes, 1 << 20);  // a process is more than 1 MiB
  EXPECT_GT(m->rss.start_bytes, 0);
  EXPECT_GT(m->rss.end_bytes, 0);
  EXPECT_GE(m->rss.max_bytes, m->rss.start_bytes);
  EXPECT_GE(m->rss.max_bytes, m->rss.end_bytes);
  for (const Sample& s : m->series) EXPECT_GE(m->rss.max_bytes, s.rss_bytes);
}

TEST(SoakTest, GrowthIsTheSlopeOverTheSecondHalf) {
  // 10 one-second samples: the first half climbs fast (warm-up), the second half by 1000 B/s.
  std::vector<Sample> series;
  for (int i = 0; i < 10; ++i) {
    Sample s;
    s.start_s = i;
    s.duration_s = 1;
    const double end = i + 1;
    s.rss_bytes = end <= 5 ? static_cast<std::int64_t>(1'000'000 * end)
                           : static_cast<std::int64_t>(5'000'000 + 1000 * (end - 5));
    series.push_back(s);
  }
  EXPECT_NEAR(RssGrowthBytesPerMinute(series, 10), 60'000, 1e-6);
  // Flat memory: no growth.
  for (Sample& s : series) s.rss_bytes = 7'000'000;
  EXPECT_NEAR(RssGrowthBytesPerMinute(series, 10), 0, 1e-9);
  // Fewer than two samples in the second half: no slope to speak of.
  EXPECT_EQ(RssGrowthBytesPerMinute({series[9]}, 10), 0);
}

TEST(SoakTest, ReportShowsRateAndMemory) {
  RunResult r;
  r.scenario = "soak";
  r.limits = {60, 1000, 1, 2500};
  r.measurement.stop_reason = "time";
  r.measurement.rss = {100 << 20, 110 << 20, 120 << 20, 1.5 * (1 << 20)};
  Sample s;
  s.duration_s = 1;
  s.rss_bytes = 123456;
  r.measurement.series = {s};
  const nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["limits"]["rate"], 2500);
  EXPECT_EQ(j["rss"]["start_bytes"], 100 << 20);
  EXPECT_EQ(j["rss"]["end_bytes"], 110 << 20);
  EXPECT_EQ(j["rss"]["max_bytes"], 120 << 20);
  EXPECT_DOUBLE_EQ(j["rss"]["growth_bytes_per_minute"].get<double>(), 1.5 * (1 << 20));
  EXPECT_EQ(j["series"][0]["rss_bytes"], 123456);
  const std::string text = FormatText(r);
  EXPECT_NE(text.find("paced        2.50 k ops/s"), std::string::npos) << text;
  EXPECT_NE(text.find("growth 1.50 MiB/min"), std::string::npos) << text;
  EXPECT_NE(text.find("start 100.0 MiB, end 110.0 MiB, max 120.0 MiB"), std::string::npos) << text;
}

}  // namespace
}  // namespace tapstack::benchkit
