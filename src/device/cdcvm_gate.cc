#include "device/cdcvm_gate.h"

namespace tapstack::device {

void CdcvmGate::Arm() {
  armed_ = true;
  armed_at_nanos_ = clock_.MonotonicNanos();
}

bool CdcvmGate::Armed() const {
  if (!armed_) return false;
  const std::int64_t elapsed_nanos = clock_.MonotonicNanos() - armed_at_nanos_;
  return elapsed_nanos >= 0 && elapsed_nanos <= window_ms_ * 1'000'000;
}

bool CdcvmGate::Consume() {
  const bool armed = Armed();
  armed_ = false;
  return armed;
}

}  // namespace tapstack::device
