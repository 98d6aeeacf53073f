// `dcep-online`: batches and single payments are durable transfers with no refusal, and the
// cross-ledger audit holds afterwards.
#include <gtest/gtest.h>

#include "scenario_test_support.h"

namespace tapstack::benchkit {
namespace {

using testing::Detail;
using testing::RunScenarioForTest;

TEST(DcepOnlineScenarioTest, BatchesOfTransfersAuditClean) {
  Result<RunResult> r = RunScenarioForTest("dcep-online", RunLimits{60, 6, 2, 0},
                                           {{"--wallets", "40"}, {"--batch", "250"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->measurement.ops, 6);
  EXPECT_EQ(r->measurement.errors, 0) << r->measurement.first_error;
  EXPECT_EQ(r->items_per_op, 250);
  EXPECT_EQ(r->item_name, "transfers");
  EXPECT_EQ(Detail(*r, "transfers"), "1500 durable, 0 refused");
  EXPECT_EQ(Detail(*r, "audit").rfind("ok", 0), 0u) << Detail(*r, "audit");
}

TEST(DcepOnlineScenarioTest, BatchOfOneIsOnePayment) {
  Result<RunResult> r = RunScenarioForTest("dcep-online", RunLimits{60, 20, 1, 0},
                                           {{"--wallets", "10"}, {"--batch", "1"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->measurement.ops, 20);
  EXPECT_EQ(r->measurement.errors, 0) << r->measurement.first_error;
  EXPECT_EQ(Detail(*r, "transfers"), "20 durable, 0 refused");
  EXPECT_EQ(Detail(*r, "audit").rfind("ok", 0), 0u) << Detail(*r, "audit");
}

TEST(DcepOnlineScenarioTest, RejectsOneWallet) {
  Result<RunResult> r =
      RunScenarioForTest("dcep-online", RunLimits{1, 1, 1, 0}, {{"--wallets", "1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::benchkit
