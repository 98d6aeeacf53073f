// Shared by the dcep tests: a temp directory, a manual clock, the seed config and a whole
// network (central bank + operators) with helpers to open and fund wallets.
// The network's stores are SQLite files under the temp directory, or, for a fixture whose
// dialect() is PostgreSQL (DcepDbTest, or any DcepTest under TAPSTACK_DCEP_TEST_DATABASE=postgres),
// schemas of a database made for the test alone and dropped after it (skipped when
// TAPSTACK_TEST_PG_URL is unset). Ledgers are files either way.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/random_source.h"
#include "dcep/dcep_network.h"
#include "dcep/tiers.h"
#include "store/store.h"
#include "store/store_fixture.h"

namespace tapstack::dcep::testing {

// 2026-01-01T10:00:00+08:00 (02:00 UTC).
inline constexpr std::int64_t kMorningMillis = 1'767'225'600'000 + 2 * 3'600'000;
inline constexpr std::int64_t kHourMillis = 3'600'000;

inline DcepConfig SeedConfig() {
  auto path = DefaultDcepConfigPath();
  EXPECT_TRUE(path.ok());
  auto config = LoadDcepConfig(*path);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const ::tapstack::Status ts_s_ = (expr);                     \
    ASSERT_TRUE(ts_s_.ok()) << #expr << ": " << ts_s_.ToString(); \
  } while (false)

template <typename T>
T Must(Result<T> r, const char* what = "") {
  EXPECT_TRUE(r.ok()) << what << ": " << r.status().ToString();
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

// `url` (a libpq URI, postgresql://user@host:port/db?params, or key=value pairs) naming database
// `database` instead.
inline std::string PostgresUrlWithDatabase(const std::string& url, const std::string& database) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url + " dbname=" + database;  // later keys win
  const std::size_t authority = scheme + 3;
  const std::size_t query = std::min(url.find('?', authority), url.size());
  const std::size_t path = std::min(url.find('/', authority), query);
  return url.substr(0, path) + "/" + database + url.substr(query);
}

// A PostgreSQL database of one test's own, created empty on the server of `admin_url`. The dcep
// stores' schema names are fixed ("dcep_icbc", "dcep_ca_pboc", …), so tests sharing a database
// would share their stores: a database per test keeps them apart. Dropped on destruction,
// closing any connection left to it.
class PostgresTestDatabase {
 public:
  explicit PostgresTestDatabase(std::string admin_url)
      : admin_url_(std::move(admin_url)), name_(store::testing::UniqueRole()) {
    store::testing::PostgresAdmin(admin_url_, "CREATE DATABASE " + name_);
    url_ = PostgresUrlWithDatabase(admin_url_, name_);
  }
  ~PostgresTestDatabase() {
    store::testing::PostgresAdmin(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  PostgresTestDatabase(const PostgresTestDatabase&) = delete;
  PostgresTestDatabase& operator=(const PostgresTestDatabase&) = delete;
  const std::string& url() const { return url_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// The database of DcepTest fixtures that are not parameterised: SQLite, or PostgreSQL when the
// environment has TAPSTACK_DCEP_TEST_DATABASE=postgres (tests/dcep/CMakeLists.txt registers the
// operator and hardware-wallet suites a second time, as postgres/…, with it set). Another value
// is an error: a typo must not quietly test SQLite.
inline Result<store::Dialect> DefaultTestDialect() {
  const char* value = std::getenv("TAPSTACK_DCEP_TEST_DATABASE");
  const std::string name = value == nullptr ? "" : value;
  if (name.empty() || name == "sqlite") return store::Dialect::kSqlite;
  if (name == "postgres") return store::Dialect::kPostgres;
  return InvalidArgument("TAPSTACK_DCEP_TEST_DATABASE: expected sqlite or postgres, got \"" +
                         name + "\"");
}

class DcepTest : public ::testing::Test {
 protected:
  // DefaultTestDialect() unless the test is parameterised (DcepDbTest).
  virtual store::Dialect dialect() const {
    const Result<store::Dialect> dialect = DefaultTestDialect();
    return dialect.ok() ? *dialect : store::Dialect::kSqlite;
  }

  // Derived SetUps return when IsSkipped() after calling this (no PostgreSQL server).
  void SetUp() override {
    // A parameterised test's name is "Name/sqlite": one directory, not two.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-dcep-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const Status default_dialect = DefaultTestDialect().status();
    ASSERT_TRUE(default_dialect.ok()) << default_dialect.ToString();
    if (dialect() == store::Dialect::kPostgres) {
      std::string admin_url;
      TS_REQUIRE_POSTGRES(admin_url);
      database_ = std::make_unique<PostgresTestDatabase>(admin_url);
    }
  }
  void TearDown() override {
    network_.reset();
    std::filesystem::remove_all(dir_);
  }

  // "" on SQLite; else the URL of this test's own database.
  std::string postgres_url() const { return database_ ? database_->url() : std::string(); }

  // icbc, ccb and boc (the others are not needed and cost ledger opens) on this test's database.
  DcepNetworkOptions NetworkOptions() {
    DcepNetworkOptions options;
    options.data_dir = dir_;
    options.postgres_url = postgres_url();
    options.config = SeedConfig();
    options.clock = &clock_;
    options.random = &random_;
    options.operator_ids = {"icbc", "ccb", "boc"};
    return options;
  }

  // Opens NetworkOptions() with `client` (nullptr = the in-process central bank).
  void OpenNetwork(CentralBankClient* client = nullptr) {
    DcepNetworkOptions options = NetworkOptions();
    options.central_bank_client = client;
    network_ = Must(DcepNetwork::Open(std::move(options)), "open network");
  }

  Operator& Op(std::string_view id) { return *Must(network_->operator_of(id)); }

  // A wallet at `op` with `evidence` tier, holding `balance_fen` from an exchange.
  std::string FundedWallet(std::string_view op, const std::string& phone,
                           std::int64_t balance_fen, bool real_name = false) {
    TierEvidence evidence{phone, "", "", "", false};
    if (real_name) evidence = {phone, "Li Lei", "110101199001011234", "6222020200112233", false};
    const WalletInfo wallet = Must(Op(op).OpenWallet(evidence, "open-" + phone));
    if (balance_fen > 0) {
      EnsureFloat(op, balance_fen);
      Must(Op(op).Exchange(wallet.wallet_id, balance_fen, false, "fund-" + phone));
    }
    return wallet.wallet_id;
  }

  void EnsureFloat(std::string_view op, std::int64_t amount_fen) {
    Must(Op(op).RequestIssuance(amount_fen, "float-" + std::to_string(++floats_)));
  }

  void ExpectNetworkBalanced() {
    auto audit = network_->AuditNetwork();
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  }

  // First member: dropped last, after every store of the test (members of derived fixtures too)
  // has closed.
  std::unique_ptr<PostgresTestDatabase> database_;
  std::filesystem::path dir_;
  ManualClock clock_{kMorningMillis};
  SeededRandom random_{7};
  std::unique_ptr<DcepNetwork> network_;
  int floats_ = 0;
};

// DcepTest on both databases: TEST_P(Suite, …) and TS_INSTANTIATE_FOR_BOTH_DATABASES(Suite).
class DcepDbTest : public DcepTest, public ::testing::WithParamInterface<store::Dialect> {
 protected:
  store::Dialect dialect() const override { return GetParam(); }
};

}  // namespace tapstack::dcep::testing
