// Shared set-up for the store tests: a fresh database per test on SQLite (temp dir) or PostgreSQL
// (a schema of its own in the database named by TAPSTACK_TEST_PG_URL).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "store/store.h"

namespace tapstack::store::testing {

inline constexpr const char* kPostgresSkipMessage =
    "PostgreSQL tests skipped: set TAPSTACK_TEST_PG_URL (see scripts/pg-test-server)";
inline constexpr const char* kPostgresRequiredInCiMessage =
    "TAPSTACK_TEST_PG_URL is not set but CI=true: CI must run the PostgreSQL tests (start a server "
    "with scripts/pg-test-server)";

// The URL from TAPSTACK_TEST_PG_URL, or nullopt when unset or empty.
std::optional<std::string> PostgresTestUrl();
// True when the environment variable CI is "true".
bool InCi();

// In a test or SetUp: stores the PostgreSQL URL in `url`, or skips the test (FAILS it under CI).
#define TS_REQUIRE_POSTGRES(url)                                                           \
  do {                                                                                     \
    std::optional<std::string> ts_pg_url_ = ::tapstack::store::testing::PostgresTestUrl(); \
    if (!ts_pg_url_) {                                                                     \
      if (::tapstack::store::testing::InCi()) {                                            \
        FAIL() << ::tapstack::store::testing::kPostgresRequiredInCiMessage;                \
      }                                                                                    \
      GTEST_SKIP() << ::tapstack::store::testing::kPostgresSkipMessage;                    \
    }                                                                                      \
    (url) = *ts_pg_url_;                                                                   \
  } while (false)

// A role name no other test (or earlier run) uses: t_<pid>_<counter>_<random>.
std::string UniqueRole();

// A new empty directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs SQL on a separate administrative PostgreSQL connection (not through Store), for set-up and
// for killing a Store's backend. Fails the current test on error.
void PostgresAdmin(const std::string& url, const std::string& sql);

// Parameterised over both databases. Each test gets `store_`, a fresh empty database.
class StoreTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Another connection to this test's database (same role), with `options`.
  Result<std::unique_ptr<Store>> OpenAnother(const StoreOptions& options = {});
  // Closes store_ and opens it again on the same data.
  void Reopen(const StoreOptions& options = {});
  // Creates table t(id BIGINT PRIMARY KEY, name TEXT, amount BIGINT, data BYTEA, flag BOOLEAN).
  void CreateTableT();
  // SELECT count(*) FROM `table`, asserting success.
  std::int64_t CountRows(const std::string& table);

  std::unique_ptr<Store> store_;
  std::string role_;
  std::unique_ptr<TempDir> dir_;  // SQLite
  std::string pg_url_;            // PostgreSQL
};

// "sqlite" / "postgres" as the parameter name in test names.
std::string DialectParamName(const ::testing::TestParamInfo<Dialect>& info);

#define TS_INSTANTIATE_FOR_BOTH_DATABASES(suite)                                     \
  INSTANTIATE_TEST_SUITE_P(Databases, suite,                                         \
                           ::testing::Values(::tapstack::store::Dialect::kSqlite,    \
                                             ::tapstack::store::Dialect::kPostgres), \
                           ::tapstack::store::testing::DialectParamName)

// Asserts `expr` (a Status or Result) is OK, printing the status otherwise.
#define TS_ASSERT_OK(expr)                                                       \
  do {                                                                           \
    const ::tapstack::Status ts_s_ = ::tapstack::store::testing::StatusOf(expr); \
    ASSERT_TRUE(ts_s_.ok()) << ts_s_.ToString();                                 \
  } while (false)
#define TS_EXPECT_OK(expr)                                                       \
  do {                                                                           \
    const ::tapstack::Status ts_s_ = ::tapstack::store::testing::StatusOf(expr); \
    EXPECT_TRUE(ts_s_.ok()) << ts_s_.ToString();                                 \
  } while (false)

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace tapstack::store::testing
