#include "core/clock.h"

#include <gtest/gtest.h>

namespace tapstack {
namespace {

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(1'000);
  EXPECT_EQ(clock.NowUnixMillis(), 1'000);
  EXPECT_EQ(clock.NowUnixMillis(), 1'000);
  clock.AdvanceMillis(250);
  EXPECT_EQ(clock.NowUnixMillis(), 1'250);
  EXPECT_EQ(clock.MonotonicNanos(), 250'000'000);
  clock.SetUnixMillis(5);
  EXPECT_EQ(clock.NowUnixMillis(), 5);
  EXPECT_EQ(clock.MonotonicNanos(), 250'000'000);  // monotonic time never goes back
}

TEST(ClockTest, SystemClockIsPlausibleAndMonotonic) {
  const Clock& clock = SystemClock::Instance();
  EXPECT_GT(clock.NowUnixMillis(), 1'700'000'000'000);  // after Nov 2023
  std::int64_t a = clock.MonotonicNanos();
  std::int64_t b = clock.MonotonicNanos();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace tapstack
