// Migrations on both databases: order, idempotence, refusal of newer schemas, atomicity.
#include "store/migration.h"

#include <gtest/gtest.h>

#include <vector>

#include "store_fixture.h"

namespace tapstack::store {
namespace {

class MigrationTest : public testing::StoreTest {};

std::vector<Migration> LedgerMigrations() {
  return {
      {1, "create accounts",
       "CREATE TABLE accounts (id BIGINT PRIMARY KEY, currency TEXT NOT NULL, balance BIGINT NOT "
       "NULL)",
       "", ""},
      {2, "seed the suspense account and add entries",
       "INSERT INTO accounts (id, currency, balance) VALUES (0, 'EUR', 0);"
       "CREATE TABLE entries (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL REFERENCES "
       "accounts(id), amount BIGINT NOT NULL)",
       "", ""},
  };
}

TEST_P(MigrationTest, FreshDatabaseHasVersionZero) {
  auto version = SchemaVersion(*store_);
  TS_ASSERT_OK(version);
  EXPECT_EQ(*version, 0);
}

TEST_P(MigrationTest, AppliesInOrderAndRecordsEachVersion) {
  const auto migrations = LedgerMigrations();
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  EXPECT_EQ(*SchemaVersion(*store_), 2);
  auto recorded =
      store_->Query("SELECT version, description FROM schema_migrations ORDER BY version");
  TS_ASSERT_OK(recorded);
  ASSERT_EQ(recorded->size(), 2u);
  EXPECT_EQ(*(*recorded)[0].GetInt64("version"), 1);
  EXPECT_EQ(*(*recorded)[1].GetText("description"), "seed the suspense account and add entries");
  EXPECT_EQ(CountRows("accounts"), 1);
  EXPECT_EQ(CountRows("entries"), 0);
}

TEST_P(MigrationTest, ReapplyingAfterReopenChangesNothing) {
  const auto migrations = LedgerMigrations();
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  TS_ASSERT_OK(
      store_->Execute("INSERT INTO accounts (id, currency, balance) VALUES (1, 'EUR', 5)"));
  Reopen();
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  EXPECT_EQ(*SchemaVersion(*store_), 2);
  EXPECT_EQ(CountRows("schema_migrations"), 2);
  EXPECT_EQ(CountRows("accounts"), 2) << "the seed row was inserted once, user data kept";
}

TEST_P(MigrationTest, LaterBuildAppliesOnlyTheNewMigrations) {
  auto migrations = LedgerMigrations();
  TS_ASSERT_OK(ApplyMigrations(*store_, std::span(migrations).first(1)));
  EXPECT_EQ(*SchemaVersion(*store_), 1);
  EXPECT_EQ(CountRows("accounts"), 0);
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  EXPECT_EQ(*SchemaVersion(*store_), 2);
  EXPECT_EQ(CountRows("accounts"), 1);
}

TEST_P(MigrationTest, RefusesADatabaseNewerThanTheCode) {
  auto migrations = LedgerMigrations();
  migrations.push_back({3, "add holds", "CREATE TABLE holds (id BIGINT PRIMARY KEY)", "", ""});
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  Reopen();
  const auto old_build = LedgerMigrations();
  Status s = ApplyMigrations(*store_, old_build);
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("version 3 is newer than this build knows (latest 2)"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(*SchemaVersion(*store_), 3);
}

TEST_P(MigrationTest, RefusesAHistoryWithAGap) {
  auto migrations = LedgerMigrations();
  std::vector<Migration> skipping = {migrations[0],
                                     {3, "add holds", "CREATE TABLE holds (id BIGINT)", "", ""}};
  TS_ASSERT_OK(ApplyMigrations(*store_, skipping));
  migrations.push_back(skipping[1]);  // code now has 1, 2, 3; the database 1 and 3
  Status s = ApplyMigrations(*store_, migrations);
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("migration 2 was never applied"), std::string::npos) << s.message();
}

TEST_P(MigrationTest, AFailingMigrationIsRolledBackWholeAndStopsTheRun) {
  std::vector<Migration> migrations = LedgerMigrations();
  migrations.push_back({3, "broken",
                        "CREATE TABLE holds (id BIGINT PRIMARY KEY);"
                        "INSERT INTO no_such_table VALUES (1)",
                        "", ""});
  migrations.push_back({4, "never reached", "CREATE TABLE later (id BIGINT)", "", ""});
  Status s = ApplyMigrations(*store_, migrations);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("migration 3 (broken)"), std::string::npos) << s.message();
  EXPECT_FALSE(store_->in_transaction());
  EXPECT_EQ(*SchemaVersion(*store_), 2);
  EXPECT_EQ(store_->Query("SELECT id FROM holds").status().code(), ErrorCode::kInvalidArgument)
      << "the CREATE TABLE of the failed migration was rolled back too";
  EXPECT_EQ(store_->Query("SELECT id FROM later").status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(MigrationTest, MalformedListsAreRefusedBeforeAnythingRuns) {
  const std::vector<std::vector<Migration>> bad = {
      {{2, "b", "CREATE TABLE b (id BIGINT)", "", ""},
       {1, "a", "CREATE TABLE a (id BIGINT)", "", ""}},
      {{1, "a", "CREATE TABLE a (id BIGINT)", "", ""},
       {1, "a2", "CREATE TABLE a2 (id BIGINT)", "", ""}},
      {{0, "zero", "CREATE TABLE z (id BIGINT)", "", ""}},
      {{1, "", "CREATE TABLE a (id BIGINT)", "", ""}},
      {{1, "no sql", "", "", ""}},
  };
  for (const auto& list : bad) {
    EXPECT_EQ(ApplyMigrations(*store_, list).code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(*SchemaVersion(*store_), 0);
}

TEST_P(MigrationTest, PerDialectSqlIsUsedWhereGiven) {
  const std::vector<Migration> migrations = {
      {1, "dialect specific", "CREATE TABLE generic (id BIGINT)",
       "CREATE TABLE only_sqlite (id BIGINT)", "CREATE TABLE only_postgres (id BIGINT)"}};
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  const bool sqlite = GetParam() == Dialect::kSqlite;
  EXPECT_EQ(store_->Query("SELECT id FROM only_sqlite").ok(), sqlite);
  EXPECT_EQ(store_->Query("SELECT id FROM only_postgres").ok(), !sqlite);
  EXPECT_FALSE(store_->Query("SELECT id FROM generic").ok());
}

TEST_P(MigrationTest, TwoConnectionsMigratingAppliesEachMigrationOnce) {
  const auto migrations = LedgerMigrations();
  auto other = OpenAnother();
  TS_ASSERT_OK(other);
  TS_ASSERT_OK(ApplyMigrations(*store_, std::span(migrations).first(1)));
  TS_ASSERT_OK(ApplyMigrations(**other, migrations));
  TS_ASSERT_OK(ApplyMigrations(*store_, migrations));
  EXPECT_EQ(CountRows("schema_migrations"), 2);
  EXPECT_EQ(CountRows("accounts"), 1);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(MigrationTest);

}  // namespace
}  // namespace tapstack::store
