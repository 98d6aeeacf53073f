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

TEST(DuplicateDetectorTest, ARestoredAnswerMakesACopyADuplicateAndIsGivenToARepeat) {
  ManualClock clock;
  clock.AdvanceMillis(1'000'000);
  DuplicateDetector d(clock, {.window_ms = 60'000, .entries_max = 100});
  iso8583::Message response("0110");
  response.Set(39, "91");
  const std::string key = DuplicateDetector::Key(Auth("0100"));
  d.Restore(key, response, clock.NowUnixMillis() - 50'000);
  iso8583::Message old = Auth("0100");
  old.Set(11, "000002");
  d.Restore(DuplicateDetector::Key(old), response, clock.NowUnixMillis() - 70'000);  // outside
  iso8583::Message stored;
  EXPECT_EQ(d.Check(Auth("0100"), &stored, nullptr), DuplicateDetector::Verdict::kDuplicate);
  EXPECT_EQ(d.Check(Auth("0101"), &stored, nullptr), DuplicateDetector::Verdict::kRepeatDone);
  EXPECT_EQ(stored.Get(39), std::string_view("91"));
  EXPECT_EQ(d.Check(old, &stored, nullptr), DuplicateDetector::Verdict::kNew);
  // It expires with the window counted from when it was answered, not from the restore.
  clock.AdvanceMillis(11'000);
  EXPECT_EQ(d.Check(Auth("0100"), &stored, nullptr), DuplicateDetector::Verdict::kNew);
}

TEST(DuplicateDetectorTest, AnAbandonedRequestIsNewAgainAndItsWaitingRepeatsGetNoAnswer) {
  ManualClock clock;
  DuplicateDetector d(clock, {.window_ms = 60'000, .entries_max = 100});
  iso8583::Message stored;
  const std::string key = DuplicateDetector::Key(Auth("0400"));
  EXPECT_EQ(d.Check(Auth("0400"), &stored, nullptr), DuplicateDetector::Verdict::kNew);
  int called = 0;
  EXPECT_EQ(d.Check(Auth("0401"), &stored, [&](const iso8583::Message&) { ++called; }),
            DuplicateDetector::Verdict::kRepeatWaiting);
  d.Abandon(key);
  EXPECT_EQ(d.Check(Auth("0401"), &stored, nullptr), DuplicateDetector::Verdict::kNew);
  iso8583::Message response("0410");
  response.Set(39, "00");
  d.Complete(key, response);
  EXPECT_EQ(called, 0) << "the dropped waiter is never called";
  EXPECT_EQ(d.Check(Auth("0401"), &stored, nullptr), DuplicateDetector::Verdict::kRepeatDone);
  d.Abandon(key);  // an answered request stays answered
  EXPECT_EQ(d.Check(Auth("0401"), &stored, nullptr), DuplicateDetector::Verdict::kRepeatDone);
}

TEST(DuplicateDetectorTest, RepeatGetsTheStoredResponseByteForByte) {
  // Entries keep the response compactly; a repeat must still get every field back exactly,
  // binary values (DE55 with 00 bytes) and the forced secondary bitmap included.
  ManualClock clock;
  DuplicateDetector d(clock, {});
  iso8583::Message response("0110");
  response.Set(2, "6228480000000000000");
  response.Set(38, "A1B2C3");
  response.Set(39, "00");
  response.Set(55, std::string("\x91\x0A\x00\x01\x02\x03\x04\x05\x06\x07\x30\x30", 12));
  response.Set(102, std::string(28, '9'));
  response.Set(125, std::string(600, 'x'));
  response.set_force_secondary_bitmap(true);
  ASSERT_EQ(d.Check(Auth("0100"), nullptr, nullptr), DuplicateDetector::Verdict::kNew);
  d.Complete(DuplicateDetector::Key(Auth("0100")), response);
  iso8583::Message stored;
  ASSERT_EQ(d.Check(Auth("0101"), &stored, nullptr), DuplicateDetector::Verdict::kRepeatDone);
  EXPECT_EQ(stored, response);
  EXPECT_TRUE(stored.force_secondary_bitmap());
}

TEST(DuplicateDetectorTest, KeepsAtMostEntriesMax) {
  ManualClock clock;
  DuplicateDetector d(clock, {.window_ms = 60'000, .entries_max = 3});
  auto with_stan = [](int stan) {
    iso8583::Message m = Auth("0100");
    m.Set(11, std::to_string(100000 + stan));
    return m;
  };
  iso8583::Message response("0110");
  response.Set(39, "00");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(d.Check(with_stan(i), nullptr, nullptr), DuplicateDetector::Verdict::kNew);
    d.Complete(DuplicateDetector::Key(with_stan(i)), response);
  }
  // The two oldest were dropped: they read as new again; the newest is still a duplicate.
  EXPECT_EQ(d.Check(with_stan(4), nullptr, nullptr), DuplicateDetector::Verdict::kDuplicate);
  EXPECT_EQ(d.Check(with_stan(0), nullptr, nullptr), DuplicateDetector::Verdict::kNew);
}

}  // namespace
}  // namespace tapstack::network
