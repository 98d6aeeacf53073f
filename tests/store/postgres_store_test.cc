// What only the PostgreSQL store does: lost connections, reconnects, server-side prepared
// statements, serialisation failures, schema per role, parameter type checks.
#include "store/postgres_store.h"

#include <gtest/gtest.h>

#include "store/migration.h"
#include "store_fixture.h"

namespace tapstack::store {
namespace {

using testing::PostgresAdmin;
using testing::UniqueRole;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TS_REQUIRE_POSTGRES(url_);
    store_ = Open(role_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (store_) (void)store_->Close();
    store_.reset();
    if (url_.empty()) return;
    for (const std::string& role : {role_, other_role_}) {
      PostgresAdmin(url_, "DROP SCHEMA IF EXISTS \"" + role + "\" CASCADE");
    }
  }

  std::unique_ptr<Store> Open(const std::string& role, const StoreOptions& options = {}) {
    auto store = OpenPostgres(url_, role, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::int64_t BackendPid(Store& store) {
    auto row = store.QueryRow("SELECT pg_backend_pid() AS pid");
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() ? *row->GetInt64("pid") : -1;
  }

  // Kills the store's server process from another connection and waits until it is gone.
  void KillBackend(Store& store) {
    const std::int64_t pid = BackendPid(store);
    ASSERT_GT(pid, 0);
    PostgresAdmin(url_, "SELECT pg_terminate_backend(" + std::to_string(pid) + ", 10000)");
  }

  std::string url_;
  std::string role_ = UniqueRole();
  std::string other_role_ = UniqueRole();
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresStoreTest, DescriptionNamesServerDatabaseAndSchema) {
  EXPECT_EQ(store_->dialect(), Dialect::kPostgres);
  EXPECT_NE(store_->description().find("schema " + role_), std::string::npos)
      << store_->description();
  EXPECT_EQ(store_->description().find("password"), std::string::npos);
}

TEST_F(PostgresStoreTest, LostConnectionIsUnavailableAndTheNextCallReconnects) {
  TS_ASSERT_OK(store_->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  auto insert = store_->Prepare("INSERT INTO t (id) VALUES (?)");
  TS_ASSERT_OK(insert);
  TS_ASSERT_OK(insert->Execute({1}));
  const std::int64_t pid_before = BackendPid(*store_);
  KillBackend(*store_);

  auto lost = insert->Execute({2});
  EXPECT_EQ(lost.status().code(), ErrorCode::kUnavailable) << lost.status().ToString();
  EXPECT_EQ(store_->stats().reconnects, 0);

  // The call after that reconnects, and the prepared statement is prepared again transparently.
  auto again = insert->Execute({3});
  TS_ASSERT_OK(again);
  EXPECT_EQ(store_->stats().reconnects, 1);
  EXPECT_NE(BackendPid(*store_), pid_before);
  auto ids = store_->Query("SELECT id FROM t ORDER BY id");
  TS_ASSERT_OK(ids);
  ASSERT_EQ(ids->size(), 2u) << "the schema (search_path) is set again on the new connection";
  EXPECT_EQ(*(*ids)[0].GetInt64(0), 1);
  EXPECT_EQ(*(*ids)[1].GetInt64(0), 3);
}

TEST_F(PostgresStoreTest, LostConnectionInsideATransactionDoesNotReconnectMidTransaction) {
  TS_ASSERT_OK(store_->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
  KillBackend(*store_);
  EXPECT_EQ(store_->Execute("INSERT INTO t (id) VALUES (2)").status().code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(store_->Execute("INSERT INTO t (id) VALUES (3)").status().code(),
            ErrorCode::kFailedPrecondition)
      << "the transaction is aborted; no silent reconnect into autocommit";
  EXPECT_EQ(store_->stats().reconnects, 0);
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(store_->in_transaction());
  auto rows = store_->Query("SELECT id FROM t");  // reconnects now
  TS_ASSERT_OK(rows);
  EXPECT_TRUE(rows->empty()) << "nothing of the lost transaction was committed";
  EXPECT_EQ(store_->stats().reconnects, 1);
}

TEST_F(PostgresStoreTest, LostConnectionAtBeginReconnectsOnTheNextCall) {
  KillBackend(*store_);
  EXPECT_EQ(store_->Begin().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(store_->in_transaction());
  TS_ASSERT_OK(
      store_->RunInTransaction([](Store& s) { return s.Query("SELECT 1 AS one").status(); }));
}

TEST_F(PostgresStoreTest, UnreachableServerIsUnavailable) {
  StoreOptions quick;
  quick.postgres_connect_timeout_s = 2;
  auto store = OpenPostgres("postgresql://postgres@127.0.0.1:1/tapstack_test", "ledger", quick);
  EXPECT_EQ(store.status().code(), ErrorCode::kUnavailable) << store.status().ToString();
}

TEST_F(PostgresStoreTest, WriteSkewIsASerialisationFailureThatTheRetryHelperResolves) {
  TS_ASSERT_OK(store_->ExecuteScript(
      "CREATE TABLE doctors (id BIGINT PRIMARY KEY, on_call BOOLEAN NOT NULL);"
      "INSERT INTO doctors VALUES (1, true), (2, true)"));
  auto rival = Open(role_);
  ASSERT_NE(rival, nullptr);
  int attempts = 0;
  Status s = store_->RunInTransaction([&](Store& st) {
    ++attempts;
    auto on_call = st.QueryRow("SELECT count(*) AS n FROM doctors WHERE on_call");
    TS_RETURN_IF_ERROR(on_call.status());
    if (attempts == 1) {
      // Meanwhile the rival reads the same rows, takes doctor 1 off call and commits first.
      Status rival_done = rival->RunInTransaction([](Store& r) {
        TS_RETURN_IF_ERROR(r.Query("SELECT count(*) AS n FROM doctors WHERE on_call").status());
        return r.Execute("UPDATE doctors SET on_call = false WHERE id = 1").status();
      });
      EXPECT_TRUE(rival_done.ok()) << rival_done.ToString();
    }
    if (*on_call->GetInt64("n") < 2) return Status::Ok();  // someone must stay on call
    return st.Execute("UPDATE doctors SET on_call = false WHERE id = 2").status();
  });
  TS_ASSERT_OK(s);
  EXPECT_EQ(attempts, 2) << "the first attempt hit a serialisation failure";
  EXPECT_EQ(store_->stats().transaction_retries, 1);
  EXPECT_EQ(*store_->QueryRow("SELECT count(*) AS n FROM doctors WHERE on_call")->GetInt64(0), 1)
      << "serialisable: one doctor stays on call";
}

TEST_F(PostgresStoreTest, PreparedStatementsLiveOnTheServerAndEvictionDeallocates) {
  StoreOptions small;
  small.statement_cache_max = 3;
  auto store = Open(other_role_, small);
  ASSERT_NE(store, nullptr);
  const auto server_statements = [&] {
    auto row = store->QueryRow("SELECT count(*) AS n FROM pg_prepared_statements");
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() ? *row->GetInt64(0) : -1;
  };
  auto stmt = store->Prepare("SELECT CAST(? AS BIGINT) + 1 AS next");
  TS_ASSERT_OK(stmt);
  EXPECT_EQ(*stmt->Query({41})->begin()->GetInt64("next"), 42);
  EXPECT_LE(server_statements(), 3);
  for (int i = 0; i < 10; ++i) {
    TS_ASSERT_OK(store->Query("SELECT " + std::to_string(i) + " AS n"));
  }
  EXPECT_LE(server_statements(), 3) << "evicted statements are deallocated on the server";
  EXPECT_EQ(*stmt->Query({1})->begin()->GetInt64("next"), 2);
}

TEST_F(PostgresStoreTest, ParameterTypesAreCheckedAndNamed) {
  TS_ASSERT_OK(
      store_->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY, small INTEGER, name TEXT, data "
                            "BYTEA, flag BOOLEAN)"));
  auto text_for_int = store_->Execute("INSERT INTO t (id) VALUES (?)", {"12"});
  EXPECT_EQ(text_for_int.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(text_for_int.status().message().find("parameter 1: cannot bind text to bigint"),
            std::string::npos)
      << text_for_int.status().message();
  EXPECT_EQ(store_->Execute("INSERT INTO t (id, flag) VALUES (?, ?)", {1, 1}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Execute("INSERT INTO t (id, data) VALUES (?, ?)", {1, "abc"}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Execute("INSERT INTO t (id, small) VALUES (?, ?)", {1, std::int64_t{1} << 40})
                .status()
                .code(),
            ErrorCode::kOutOfRange);
  // Where the type is not clear from context the caller casts, portably.
  EXPECT_EQ(store_->Query("SELECT ? AS x", {5}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*store_->QueryRow("SELECT CAST(? AS BIGINT) AS x", {5})->GetInt64(0), 5);
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, small) VALUES (?, ?)", {1, -7}));
  EXPECT_EQ(*store_->QueryRow("SELECT small FROM t")->GetInt64(0), -7);
}

TEST_F(PostgresStoreTest, BlobsAreStoredAsByteaByteForByte) {
  TS_ASSERT_OK(store_->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY, data BYTEA)"));
  const Bytes value = {0x00, 0x5c, 0x78, 0x00, 0x27, 0xff};  // NUL, backslash, 'x', quote
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, data) VALUES (?, ?)", {1, value}));
  auto row = store_->QueryRow(
      "SELECT octet_length(data) AS n, encode(data, 'hex') AS hex, pg_typeof(data)::text AS type "
      "FROM t");
  TS_ASSERT_OK(row);
  EXPECT_EQ(*row->GetInt64("n"), 6);
  EXPECT_EQ(*row->GetText("hex"), "005c780027ff");
  EXPECT_EQ(*row->GetText("type"), "bytea");
}

TEST_F(PostgresStoreTest, EachRoleHasItsOwnSchema) {
  auto other = Open(other_role_);
  ASSERT_NE(other, nullptr);
  TS_ASSERT_OK(store_->ExecuteScript("CREATE TABLE accounts (id BIGINT)"));
  EXPECT_EQ(other->Query("SELECT id FROM accounts").status().code(), ErrorCode::kInvalidArgument);
  auto schema = store_->QueryRow("SELECT current_schema() AS s");
  TS_ASSERT_OK(schema);
  EXPECT_EQ(*schema->GetText(0), role_);
}

TEST_F(PostgresStoreTest, LockTimeoutFollowsBusyTimeout) {
  StoreOptions options;
  options.busy_timeout_ms = 321;
  auto store = Open(other_role_, options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->QueryRow("SHOW lock_timeout")->GetText(0), "321ms");
}

}  // namespace
}  // namespace tapstack::store
