// The fault VFS's hooks (store/fault_vfs.h): what a failed write or sync leaves on disk, and that
// a failure stops every later write until the database gets a new hook.
#include "store/fault_vfs.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>

#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace tapstack::store {
namespace {

using testing::TempDir;

// A disk whose next `operation` fails with `verdict` once armed.
class ArmableDisk {
 public:
  void Arm(FileOperation operation, FaultVerdict verdict) {
    std::lock_guard lock(state_->mu);
    state_->armed = std::make_pair(operation, verdict);
  }
  FaultHook Hook() const {
    return [state = state_](FileOperation operation) {
      std::lock_guard lock(state->mu);
      if (!state->armed || state->armed->first != operation) return FaultVerdict::kPass;
      const FaultVerdict verdict = state->armed->second;
      state->armed.reset();
      return verdict;
    };
  }

 private:
  struct State {
    std::mutex mu;
    std::optional<std::pair<FileOperation, FaultVerdict>> armed;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

class FaultVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterFaultVfs();
    options_.sqlite_vfs = kFaultVfsName;
    SetFaultHook(SqlitePath(dir_.path(), "switch"), disk_.Hook());
    store_ = Open();
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY)").ok());
    ASSERT_TRUE(store_->Execute("INSERT INTO t (id) VALUES (1)").ok());
  }
  void TearDown() override { SetFaultHook(SqlitePath(dir_.path(), "switch"), {}); }

  std::unique_ptr<Store> Open() {
    auto store = OpenSqlite(dir_.path(), "switch", options_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  // Inserts id 2 with the disk armed, then "restarts": closes the store, gives the database a
  // healthy disk and reopens it. Returns whether id 2 is there.
  bool SecondRowSurvives(FileOperation operation, FaultVerdict verdict) {
    disk_.Arm(operation, verdict);
    EXPECT_EQ(store_->Execute("INSERT INTO t (id) VALUES (2)").status().code(),
              ErrorCode::kIoError);
    // Sticky: the disk refuses every later write, whatever the hook says now.
    EXPECT_EQ(store_->Execute("INSERT INTO t (id) VALUES (3)").status().code(),
              ErrorCode::kIoError);
    EXPECT_TRUE(store_->Close().ok());
    store_.reset();
    SetFaultHook(SqlitePath(dir_.path(), "switch"), disk_.Hook());
    store_ = Open();
    EXPECT_NE(store_, nullptr);
    EXPECT_EQ(*store_->QueryRow("SELECT count(*) FROM t WHERE id IN (1, 3)")->GetInt64(0), 1)
        << "committed before the failure: kept; after it: never written";
    return *store_->QueryRow("SELECT count(*) FROM t WHERE id = 2")->GetInt64(0) == 1;
  }

  TempDir dir_;
  StoreOptions options_;
  ArmableDisk disk_;
  std::unique_ptr<Store> store_;
};

TEST_F(FaultVfsTest, AFailedSyncThatLosesTheWritesLosesTheCommit) {
  EXPECT_FALSE(SecondRowSurvives(FileOperation::kSync, FaultVerdict::kFailAndLose));
  // The healthy disk after the restart takes writes again.
  EXPECT_TRUE(store_->Execute("INSERT INTO t (id) VALUES (4)").ok());
}

TEST_F(FaultVfsTest, AFailedSyncThatKeepsTheWritesKeepsTheCommitThoughItFailed) {
  EXPECT_TRUE(SecondRowSurvives(FileOperation::kSync, FaultVerdict::kFail));
}

TEST_F(FaultVfsTest, AFailedWriteThatIsLostLosesTheCommit) {
  EXPECT_FALSE(SecondRowSurvives(FileOperation::kWrite, FaultVerdict::kFailAndLose));
}

TEST_F(FaultVfsTest, AnotherDatabaseInTheSameDirectoryIsNotAffected) {
  auto other = OpenSqlite(dir_.path(), "switch_journal", options_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE((*other)->ExecuteScript("CREATE TABLE j (id BIGINT PRIMARY KEY)").ok());
  disk_.Arm(FileOperation::kSync, FaultVerdict::kFail);
  EXPECT_EQ(store_->Execute("INSERT INTO t (id) VALUES (2)").status().code(), ErrorCode::kIoError);
  EXPECT_TRUE((*other)->Execute("INSERT INTO j (id) VALUES (1)").ok());
}

}  // namespace
}  // namespace tapstack::store
