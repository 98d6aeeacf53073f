// `e2e-contactless`: taps are refilled while the run goes, so a run goes past the taps made
// ahead and is bounded by --count (or --seconds), every tap approved; --rate paces the sends.
#include <gtest/gtest.h>

#include <string>

#include "scenario_test_support.h"

namespace tapstack::benchkit {
namespace {

using testing::Detail;
using testing::RunScenarioForTest;

TEST(E2eContactlessScenarioTest, RunsPastTheTapsMadeAheadUntilTheCount) {
  // 2 connections × 8 taps ahead = 16 made before the clock; 300 answered needs the refill.
  Result<RunResult> r = RunScenarioForTest(
      "e2e-contactless", RunLimits{60, 300, 1, 0},
      {{"--devices", "4"}, {"--taps-ahead", "8"}, {"--connections", "2"}, {"--in-flight", "4"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Measurement& m = r->measurement;
  EXPECT_EQ(m.ops, 300);
  EXPECT_EQ(m.errors, 0) << m.first_error;
  EXPECT_EQ(m.stop_reason, "count");
  EXPECT_EQ(Detail(*r, "approved"), "300 (100.00%)");
  EXPECT_EQ(Detail(*r, "ledger audit"), "ok");
  EXPECT_GE(std::stoll(Detail(*r, "taps made")), 300);
}

TEST(E2eContactlessScenarioTest, RateBoundedRunStopsByTime) {
  // 100/s for 1.5 s: about 150 authorisations, stopped by the clock, not by running out of taps.
  Result<RunResult> r = RunScenarioForTest(
      "e2e-contactless", RunLimits{1.5, 1'000'000, 1, 100},
      {{"--devices", "2"}, {"--taps-ahead", "4"}, {"--connections", "2"}, {"--in-flight", "4"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Measurement& m = r->measurement;
  EXPECT_EQ(m.stop_reason, "time");
  EXPECT_EQ(m.errors, 0) << m.first_error;
  EXPECT_GE(m.ops, 120);
  EXPECT_LE(m.ops, 155);
  EXPECT_EQ(Detail(*r, "ledger audit"), "ok");
}

}  // namespace
}  // namespace tapstack::benchkit
