// `transit-clearing`: every record of every batch accepted, items = records, and a run longer
// than the records made ahead goes on in a fresh database instead of stopping or re-sending
// duplicates.
#include <gtest/gtest.h>

#include "scenario_test_support.h"

namespace tapstack::benchkit {
namespace {

using testing::Detail;
using testing::RunScenarioForTest;

TEST(TransitClearingScenarioTest, ClearsEveryRecordAcrossFreshDatabases) {
  // 2,500 records in batches of 1,000: 3 batches per database; 7 batches need 3 databases.
  Result<RunResult> r = RunScenarioForTest("transit-clearing", RunLimits{60, 7, 1, 0},
                                           {{"--records", "2500"}, {"--batch", "1000"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Measurement& m = r->measurement;
  EXPECT_EQ(m.ops, 7);
  EXPECT_EQ(m.errors, 0) << m.first_error;
  EXPECT_EQ(r->items_per_op, 1000);
  EXPECT_EQ(r->item_name, "records");
  // Batches 1000 + 1000 + 500 per database: 2 full databases, then 1000 in the third.
  EXPECT_EQ(Detail(*r, "verdicts"), "6000 accepted, 0 duplicates, 0 rejected");
  EXPECT_EQ(Detail(*r, "databases").rfind("3 ", 0), 0u) << Detail(*r, "databases");
  EXPECT_EQ(Detail(*r, "last database"), "1000 records cleared, 0 anomalies");
}

TEST(TransitClearingScenarioTest, RejectsABatchAboveTheUploadLimit) {
  Result<RunResult> r = RunScenarioForTest("transit-clearing", RunLimits{1, 1, 1, 0},
                                           {{"--records", "10"}, {"--batch", "10001"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--batch"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::benchkit
