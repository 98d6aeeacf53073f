#include "device/cdcvm_gate.h"

#include <gtest/gtest.h>

namespace tapstack::device {
namespace {

TEST(CdcvmGateTest, ArmedOnlyWithinTheWindowAndOnlyOnce) {
  ManualClock clock;
  CdcvmGate gate(clock);
  EXPECT_FALSE(gate.Armed());
  EXPECT_FALSE(gate.Consume());

  gate.Arm();
  clock.AdvanceMillis(kCdcvmWindowMs);
  EXPECT_TRUE(gate.Armed());
  EXPECT_TRUE(gate.Consume());
  EXPECT_FALSE(gate.Consume());  // one verification, one transaction

  gate.Arm();
  clock.AdvanceMillis(kCdcvmWindowMs + 1);
  EXPECT_FALSE(gate.Armed());
  EXPECT_FALSE(gate.Consume());
}

TEST(CdcvmGateTest, RearmingRestartsTheWindowAndDisarmClears) {
  ManualClock clock;
  CdcvmGate gate(clock, 1'000);
  gate.Arm();
  clock.AdvanceMillis(900);
  gate.Arm();
  clock.AdvanceMillis(900);
  EXPECT_TRUE(gate.Armed());
  gate.Disarm();
  EXPECT_FALSE(gate.Armed());
}

}  // namespace
}  // namespace tapstack::device
