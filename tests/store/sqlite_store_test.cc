// What only the SQLite store does: files per role, WAL + synchronous=FULL, disk full, failed syncs.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/fault_vfs.h"
#include "store_fixture.h"

namespace tapstack::store {
namespace {

using testing::TempDir;

std::unique_ptr<Store> MustOpen(const std::filesystem::path& dir, std::string_view role,
                                const StoreOptions& options = {}) {
  auto store = OpenSqlite(dir, role, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(SqliteStoreTest, UsesWalSynchronousFullForeignKeysAndBusyTimeout) {
  TempDir dir;
  StoreOptions options;
  options.busy_timeout_ms = 1234;
  auto store = MustOpen(dir.path(), "ledger", options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->QueryRow("PRAGMA journal_mode")->GetText(0), "wal");
  EXPECT_EQ(*store->QueryRow("PRAGMA synchronous")->GetInt64(0), 2) << "2 = FULL";
  EXPECT_EQ(*store->QueryRow("PRAGMA foreign_keys")->GetInt64(0), 1);
  EXPECT_EQ(*store->QueryRow("PRAGMA busy_timeout")->GetInt64(0), 1234);
  TS_ASSERT_OK(store->ExecuteScript("CREATE TABLE t (id BIGINT)"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "ledger.db-wal"));
  EXPECT_EQ(store->description(), "sqlite:" + (dir.path() / "ledger.db").string());
}

TEST(SqliteStoreTest, OneFilePerRoleInACreatedDataDirectory) {
  TempDir dir;
  const auto data_dir = dir.path() / "nested" / "data";
  auto ledger = MustOpen(data_dir, "ledger");
  auto issuer = MustOpen(data_dir, "issuer");
  ASSERT_NE(ledger, nullptr);
  ASSERT_NE(issuer, nullptr);
  EXPECT_EQ(SqlitePath(data_dir, "ledger"), data_dir / "ledger.db");
  EXPECT_TRUE(std::filesystem::is_regular_file(data_dir / "ledger.db"));
  EXPECT_TRUE(std::filesystem::is_regular_file(data_dir / "issuer.db"));
  TS_ASSERT_OK(ledger->ExecuteScript("CREATE TABLE accounts (id BIGINT)"));
  EXPECT_EQ(issuer->Query("SELECT id FROM accounts").status().code(), ErrorCode::kInvalidArgument)
      << "roles do not share tables";
}

TEST(SqliteStoreTest, BadRoleNameIsRefusedBeforeTouchingTheDisk) {
  TempDir dir;
  auto store = OpenSqlite(dir.path() / "d", "../escape");
  EXPECT_EQ(store.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "d"));
}

TEST(SqliteStoreTest, DataDirectoryThatIsAFileIsIoError) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  auto store = OpenSqlite(dir.path() / "file", "ledger");
  EXPECT_EQ(store.status().code(), ErrorCode::kIoError) << store.status().ToString();
}

TEST(SqliteStoreTest, AFileThatIsNotADatabaseIsCorruption) {
  TempDir dir;
  std::ofstream(dir.path() / "ledger.db") << std::string(4096, 'g');
  auto store = OpenSqlite(dir.path(), "ledger");
  EXPECT_EQ(store.status().code(), ErrorCode::kCorruption) << store.status().ToString();
}

TEST(SqliteStoreTest, UnknownVfsIsRefused) {
  TempDir dir;
  StoreOptions options;
  options.sqlite_vfs = "no_such_vfs";
  EXPECT_FALSE(OpenSqlite(dir.path(), "ledger", options).ok());
}

TEST(SqliteStoreTest, DiskFullIsIoErrorAndCleanlyRolledBack) {
  TempDir dir;
  auto store = MustOpen(dir.path(), "ledger");
  ASSERT_NE(store, nullptr);
  TS_ASSERT_OK(store->ExecuteScript("CREATE TABLE blobs (id BIGINT PRIMARY KEY, data BYTEA)"));
  const std::int64_t pages = *store->QueryRow("PRAGMA page_count")->GetInt64(0);
  // The database may grow by a few pages only: a 64 KiB blob cannot fit.
  TS_ASSERT_OK(store->Execute("PRAGMA max_page_count = " + std::to_string(pages + 4)));
  const Bytes big(std::size_t{64} * 1024, 0xab);
  auto full = store->Execute("INSERT INTO blobs (id, data) VALUES (?, ?)", {1, big});
  EXPECT_EQ(full.status().code(), ErrorCode::kIoError) << full.status().ToString();
  EXPECT_NE(full.status().message().find("full"), std::string::npos) << full.status().message();
  EXPECT_EQ(*store->QueryRow("SELECT count(*) FROM blobs")->GetInt64(0), 0);

  // Inside a transaction: the full disk aborts it and nothing of it stays.
  TS_ASSERT_OK(store->Begin());
  TS_ASSERT_OK(store->Execute("INSERT INTO blobs (id, data) VALUES (?, ?)", {2, Bytes{1}}));
  EXPECT_EQ(store->Execute("INSERT INTO blobs (id, data) VALUES (?, ?)", {3, big}).status().code(),
            ErrorCode::kIoError);
  EXPECT_EQ(
      store->Execute("INSERT INTO blobs (id, data) VALUES (?, ?)", {4, Bytes{1}}).status().code(),
      ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store->Commit().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(*store->QueryRow("SELECT count(*) FROM blobs")->GetInt64(0), 0);

  // A full disk is a clean failure: with room again, writing works.
  TS_ASSERT_OK(store->Execute("PRAGMA max_page_count = 1000000"));
  TS_ASSERT_OK(store->Execute("INSERT INTO blobs (id, data) VALUES (?, ?)", {5, big}));
  EXPECT_EQ(*store->QueryRow("SELECT count(*) FROM blobs")->GetInt64(0), 1);
}

TEST(SqliteStoreTest, AFailedSyncAtCommitMakesTheStoreRefuseEverythingUntilReopened) {
  RegisterFaultVfs();
  TempDir dir;
  StoreOptions options;
  options.sqlite_vfs = kFaultVfsName;
  auto store = MustOpen(dir.path(), "ledger", options);
  ASSERT_NE(store, nullptr);
  TS_ASSERT_OK(store->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  TS_ASSERT_OK(store->Execute("INSERT INTO t (id) VALUES (1)"));

  TS_ASSERT_OK(store->Begin());
  TS_ASSERT_OK(store->Execute("INSERT INTO t (id) VALUES (2)"));
  testing::SetSyncFails(true);
  Status commit = store->Commit();
  testing::SetSyncFails(false);
  EXPECT_EQ(commit.code(), ErrorCode::kIoError) << commit.ToString();
  EXPECT_FALSE(store->in_transaction());
  // Durable or unusable: nothing more is answered as if all were well.
  auto read = store->Query("SELECT id FROM t");
  EXPECT_EQ(read.status().code(), ErrorCode::kIoError);
  EXPECT_NE(read.status().message().find("unusable"), std::string::npos) << read.status().message();
  EXPECT_EQ(store->Execute("INSERT INTO t (id) VALUES (3)").status().code(), ErrorCode::kIoError);
  EXPECT_EQ(store->Begin().code(), ErrorCode::kIoError);
  TS_EXPECT_OK(store->Close());

  auto reopened = MustOpen(dir.path(), "ledger", options);
  ASSERT_NE(reopened, nullptr);
  auto rows = reopened->Query("SELECT id FROM t WHERE id = 1");
  TS_ASSERT_OK(rows);
  EXPECT_EQ(rows->size(), 1u) << "data committed before the failure is still there";
  EXPECT_EQ(reopened->Query("SELECT id FROM t WHERE id = 3")->size(), 0u);
}

TEST(SqliteStoreTest, CommittedDataSurvivesAProcessThatDiesWithoutClosing) {
  TempDir dir;
  {
    auto store = MustOpen(dir.path(), "ledger");
    ASSERT_NE(store, nullptr);
    TS_ASSERT_OK(store->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child commits, then dies at once: no Close, no checkpoint, no destructors.
    auto store = OpenSqlite(dir.path(), "ledger");
    if (!store.ok()) _exit(2);
    if (!(*store)
             ->RunInTransaction(
                 [](Store& s) { return s.Execute("INSERT INTO t (id) VALUES (1), (2)").status(); })
             .ok()) {
      _exit(3);
    }
    (void)(*store)->Begin();
    (void)(*store)->Execute("INSERT INTO t (id) VALUES (3)");  // never committed
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto store = MustOpen(dir.path(), "ledger");
  ASSERT_NE(store, nullptr);
  auto rows = store->Query("SELECT id FROM t ORDER BY id");
  TS_ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u) << "committed rows recovered from the WAL, the open transaction not";
  EXPECT_EQ(*(*rows)[1].GetInt64(0), 2);
}

TEST(SqliteStoreTest, FloatingPointResultsReadAsText) {
  TempDir dir;
  auto store = MustOpen(dir.path(), "ledger");
  ASSERT_NE(store, nullptr);
  auto row = store->QueryRow("SELECT 1.5 AS x");
  TS_ASSERT_OK(row);
  EXPECT_EQ(*row->GetText("x"), "1.5");
  EXPECT_EQ(row->GetInt64("x").status().code(), ErrorCode::kInvalidArgument);
}

TEST(SqliteStoreTest, NamedPlaceholderMessageNamesIt) {
  TempDir dir;
  auto store = MustOpen(dir.path(), "ledger");
  ASSERT_NE(store, nullptr);
  auto s = store->Prepare("SELECT @amount");
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("@amount"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace tapstack::store
