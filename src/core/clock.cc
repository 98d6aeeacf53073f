#include "core/clock.h"

#include <ctime>

namespace tapstack {

namespace {
std::int64_t ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

std::int64_t SystemClock::NowUnixMillis() const { return ReadClock(CLOCK_REALTIME) / 1'000'000; }
std::int64_t SystemClock::MonotonicNanos() const { return ReadClock(CLOCK_MONOTONIC); }

SystemClock& SystemClock::Instance() {
  static auto* clock = new SystemClock();
  return *clock;
}

}  // namespace tapstack
