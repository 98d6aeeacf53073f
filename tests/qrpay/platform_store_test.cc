// The platform's schema: the spending totals (migration 1004) that the daily and yearly limits
// read, on both databases.
#include "qrpay/platform_store.h"

#include <gtest/gtest.h>

#include <span>
#include <string>

#include "platform_test_util.h"
#include "store/migration.h"

namespace tapstack::qrpay::testing {
namespace {

using PlatformStoreTest = PlatformDbTest;

void AddSpendingRow(store::Store& s, const std::string& op_id, const std::string& account,
                    std::int64_t local_day, std::int64_t minor) {
  const Status added =
      s.Execute("INSERT INTO qrpay_spending (op_id, account_id, local_day, amount_minor) "
                "VALUES (?, ?, ?, ?)",
                {op_id, account, local_day, minor})
          .status();
  ASSERT_TRUE(added.ok()) << added.ToString();
}

void ExpectSpent(store::Store& s, const std::string& account, std::int64_t local_day,
                 std::int64_t today, std::int64_t year) {
  const Result<internal::Spent> spent = internal::SpentBy(s, account, local_day);
  ASSERT_TRUE(spent.ok()) << spent.status().ToString();
  EXPECT_EQ(spent->today, today) << account << " on " << local_day;
  EXPECT_EQ(spent->year, year) << account << " in " << local_day / 10'000;
}

TEST_P(PlatformStoreTest, SpendingTotalsAreBuiltFromTheRowsAlreadyThereAndKeptAfter) {
  TempDir dir;
  auto opened = OpenStore("tapstack-mig", dir);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store::Store& s = **opened;
  const std::span<const store::Migration> all = internal::PlatformMigrations();
  ASSERT_EQ(all.back().version, 1004);
  ASSERT_TRUE(store::ApplyMigrations(s, all.first(all.size() - 1)).ok());
  AddSpendingRow(s, "op-1", "acct-a", 20261122, 100);
  AddSpendingRow(s, "op-2", "acct-a", 20261123, 50);
  AddSpendingRow(s, "op-3", "acct-a", 20251231, 7);
  AddSpendingRow(s, "op-4", "acct-b", 20261123, 9);
  const Status migrated = store::ApplyMigrations(s, all);
  ASSERT_TRUE(migrated.ok()) << migrated.ToString();

  ExpectSpent(s, "acct-a", 20261123, 50, 150);
  ExpectSpent(s, "acct-a", 20251231, 7, 7);
  ExpectSpent(s, "acct-b", 20261123, 9, 9);
  ExpectSpent(s, "acct-c", 20261123, 0, 0);
  // New spending adds to both totals; taking an operation back takes it off both.
  ASSERT_TRUE(internal::InsertSpending(s, "op-5", "acct-a", 20261123, 25).ok());
  ExpectSpent(s, "acct-a", 20261123, 75, 175);
  ASSERT_TRUE(internal::DeleteSpending(s, "op-1").ok());
  ExpectSpent(s, "acct-a", 20261123, 75, 75);
  ExpectSpent(s, "acct-a", 20261122, 0, 75);
  ASSERT_TRUE(internal::DeleteSpending(s, "op-1").ok()) << "already taken back: nothing to do";
  ExpectSpent(s, "acct-a", 20261123, 75, 75);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(PlatformStoreTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
