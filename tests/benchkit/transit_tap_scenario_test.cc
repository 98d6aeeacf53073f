// `transit-tap`: short runs do real taps (every gate opens, the card APDUs happen), a card
// running low is replaced so that long runs never refuse, bus-only cities work, bad options are
// usage errors.
#include <gtest/gtest.h>

#include "scenario_test_support.h"

namespace tapstack::benchkit {
namespace {

using testing::Detail;
using testing::RunScenarioForTest;

TEST(TransitTapScenarioTest, TapsOpenTheGates) {
  Result<RunResult> r =
      RunScenarioForTest("transit-tap", RunLimits{30, 200, 2, 0}, {{"--phones", "4"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Measurement& m = r->measurement;
  EXPECT_EQ(m.ops, 200);
  EXPECT_EQ(m.errors, 0) << m.first_error;
  EXPECT_EQ(m.stop_reason, "count");
  EXPECT_GT(m.latency.p50_us, 0);
  EXPECT_EQ(Detail(*r, "city"), "1000 Beijing");
  EXPECT_EQ(Detail(*r, "taps").rfind("200 (0 refused), ", 0), 0u) << Detail(*r, "taps");
  // SELECT, READ BINARY ×2, READ RECORD, INITIALIZE, UPDATE CAPP DATA CACHE, DEBIT at least.
  const double apdus_per_tap =
      std::stod(Detail(*r, "taps").substr(std::string("200 (0 refused), ").size()));
  EXPECT_GE(apdus_per_tap, 7.0);
  EXPECT_NE(Detail(*r, "fares"), "0.00 CNY");  // the exits charged
}

TEST(TransitTapScenarioTest, ACardRunningLowIsReplacedNotRefused) {
  // One phone, 1,000.00 CNY on its card: 1,000 trips at 2-3 CNY (and more) spend it.
  Result<RunResult> r =
      RunScenarioForTest("transit-tap", RunLimits{60, 1000, 1, 0}, {{"--phones", "1"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->measurement.ops, 1000);
  EXPECT_EQ(r->measurement.errors, 0) << r->measurement.first_error;
  const std::string cards = Detail(*r, "cards issued");
  EXPECT_GE(std::stoi(cards), 2) << cards;
}

TEST(TransitTapScenarioTest, BusOnlyCityTapsTheBusValidator) {
  Result<RunResult> r =
      RunScenarioForTest("transit-tap", RunLimits{30, 40, 1, 0}, {{"--city", "3310"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->measurement.ops, 40);
  EXPECT_EQ(r->measurement.errors, 0) << r->measurement.first_error;
  EXPECT_EQ(Detail(*r, "city"), "3310 Hangzhou");
  // 40 boardings of line 7 at 2.00 CNY, less Hangzhou's bus-to-bus transfer discounts.
  EXPECT_NE(Detail(*r, "fares"), "0.00 CNY");
  EXPECT_LT(std::stod(Detail(*r, "fares")), 80.0);
}

TEST(TransitTapScenarioTest, UnknownCityIsAnOptionError) {
  Result<RunResult> r =
      RunScenarioForTest("transit-tap", RunLimits{1, 10, 1, 0}, {{"--city", "9999"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--city"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::benchkit
