// CdcvmGate: the consumer-device CVM state (design notes section 9). The wallet reports a passed
// biometric check with Arm() (a host-side call, never an APDU); the next GENERATE AC within
// window_ms may then say "CDCVM performed" and ask for authorisation. One verification covers one
// cryptogram: Consume() disarms. Time comes from the injected Clock's monotonic reading.
// Not thread-safe: the secure element serialises calls.
#pragma once

#include <cstdint>

#include "core/clock.h"

namespace tapstack::device {

// How long a biometric verification stays valid for the next transaction.
inline constexpr std::int64_t kCdcvmWindowMs = 30'000;

class CdcvmGate {
 public:
  explicit CdcvmGate(const Clock& clock, std::int64_t window_ms = kCdcvmWindowMs)
      : clock_(clock), window_ms_(window_ms) {}

  // The user just passed the device's biometric (or passcode) check.
  void Arm();
  // True while armed and within the window.
  bool Armed() const;
  // True when armed and within the window; either way the gate is disarmed afterwards.
  bool Consume();
  void Disarm() { armed_ = false; }

  std::int64_t window_ms() const { return window_ms_; }

 private:
  const Clock& clock_;
  std::int64_t window_ms_;
  bool armed_ = false;
  std::int64_t armed_at_nanos_ = 0;
};

}  // namespace tapstack::device
