#include "network/duplicate_detector.h"

#include <gtest/gtest.h>

namespace tapstack::network {
namespace {

iso8583::Message Auth(std::string_view mti) {
  iso8583::Message m(mti);
  m.Set(7, "1121093000");
  m.Set(11, "000001");
  m.Set(32, "48020001");
  m.Set(41, "TERM0001");
  return m;
}

TEST(DuplicateDetectorTest, OriginalsRepeatsAndExpiry) {
  ManualClock clock;
  DuplicateDetector d(clock, {.window_ms = 60'000, .entries_max = 100});
  iso8583::Message stored;
  EXPECT_EQ(d.Check(Auth("0100"), &stored, nullptr), DuplicateDetector::Verdict::kNew);
  // A repeat while the original is in progress waits for its response.
  iso8583::Message released;
  EXPECT_EQ(d.Check(Auth("0101"), &stored, [&](const iso8583::Message& r) { released = r; }),
            DuplicateDetector::Verdict::kRepeatWaiting);
  iso8583::Message response("0110");
  response.Set(39, "00");
  d.Complete(DuplicateDetector::Key(Auth("0100")), response);
  EXPECT_EQ(released.Get(39), std::string_view("00"));
  EXPECT_EQ(d.Check(Auth("0101"), &stored, nullptr), DuplicateDetector::Verdict::kRepeatDone);
  EXPECT_EQ(stored.mti(), "0110");
  EXPECT_EQ(d.Check(Auth("0100"), &stored, nullptr), DuplicateDetector::Verdict::kDuplicate);
  // A reversal reuses the STAN but is not a duplicate of the authorisation.
  EXPECT_EQ(d.Check(Auth("0400"), &stored, nullptr), DuplicateDetector::Verdict::kNew);
  clock.AdvanceMillis(61'000);
  EXPECT_EQ(d.Check(Auth("0100"), &stored, nullptr), DuplicateDetector::Verdict::kNew);
}

}  // namespace
}  // namespace tapstack::network
