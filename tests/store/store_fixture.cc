#include "store_fixture.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::store::testing {

std::optional<std::string> PostgresTestUrl() {
  const char* url = std::getenv("TAPSTACK_TEST_PG_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string UniqueRole() {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  return "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(salt);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tapstack-store-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void PostgresAdmin(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "admin connection to " << url << ": " << PQerrorMessage(conn);
    PQfinish(conn);
    return;
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      << sql << ": " << PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
}

void StoreTest::SetUp() {
  role_ = UniqueRole();
  if (GetParam() == Dialect::kPostgres) {
    TS_REQUIRE_POSTGRES(pg_url_);
  } else {
    dir_ = std::make_unique<TempDir>();
  }
  auto opened = OpenAnother();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(*opened);
}

void StoreTest::TearDown() {
  if (store_) (void)store_->Close();
  store_.reset();
  if (GetParam() == Dialect::kPostgres && !pg_url_.empty()) {
    PostgresAdmin(pg_url_, "DROP SCHEMA IF EXISTS \"" + role_ + "\" CASCADE");
  }
}

Result<std::unique_ptr<Store>> StoreTest::OpenAnother(const StoreOptions& options) {
  if (GetParam() == Dialect::kPostgres) return OpenPostgres(pg_url_, role_, options);
  return OpenSqlite(dir_->path(), role_, options);
}

void StoreTest::Reopen(const StoreOptions& options) {
  TS_ASSERT_OK(store_->Close());
  store_.reset();
  auto opened = OpenAnother(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(*opened);
}

void StoreTest::CreateTableT() {
  TS_ASSERT_OK(store_->ExecuteScript(
      "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, amount BIGINT, data BYTEA, "
      "flag BOOLEAN)"));
}

std::int64_t StoreTest::CountRows(const std::string& table) {
  auto row = store_->QueryRow("SELECT count(*) AS n FROM " + table);
  EXPECT_TRUE(row.ok()) << row.status().ToString();
  if (!row.ok()) return -1;
  auto n = row->GetInt64("n");
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : -1;
}

std::string DialectParamName(const ::testing::TestParamInfo<Dialect>& info) {
  return std::string(DialectName(info.param));
}

}  // namespace tapstack::store::testing
