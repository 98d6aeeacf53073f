// Clock: the one way tapstack code reads time, so tests and the deterministic simulation can
// drive time by hand. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace tapstack {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: milliseconds since the Unix epoch, UTC. Used for business dates and expiry.
  virtual std::int64_t NowUnixMillis() const = 0;
  // Monotonic time in nanoseconds from an arbitrary origin. Used for timeouts and latency.
  virtual std::int64_t MonotonicNanos() const = 0;
};

// The machine's clocks (CLOCK_REALTIME, CLOCK_MONOTONIC).
class SystemClock final : public Clock {
 public:
  std::int64_t NowUnixMillis() const override;
  std::int64_t MonotonicNanos() const override;
  // A process-wide instance; never destroyed.
  static SystemClock& Instance();
};

// A clock that moves only when told to. Wall and monotonic time advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_unix_millis = 1'767'225'600'000)  // 2026-01-01T00:00:00Z
      : unix_millis_(start_unix_millis) {}

  std::int64_t NowUnixMillis() const override { return unix_millis_.load(); }
  std::int64_t MonotonicNanos() const override { return monotonic_nanos_.load(); }

  void AdvanceMillis(std::int64_t millis) {
    unix_millis_ += millis;
    monotonic_nanos_ += millis * 1'000'000;
  }
  void SetUnixMillis(std::int64_t unix_millis) { unix_millis_ = unix_millis; }

 private:
  std::atomic<std::int64_t> unix_millis_;
  std::atomic<std::int64_t> monotonic_nanos_{0};
};

}  // namespace tapstack
