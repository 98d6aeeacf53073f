// GroupCommitter on SQLite and PostgreSQL: concurrent callers share one transaction, each returns
// after the commit that holds its effects, and a failing body fails alone without leaving state.
#include "store/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store/store_fixture.h"

namespace tapstack::store {
namespace {

class GroupCommitTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CreateTableT();
    committer_ = std::make_unique<GroupCommitter>(*store_, store_mu_);
  }
  void TearDown() override {
    committer_.reset();
    StoreTest::TearDown();
  }

  GroupCommitter::Body Insert(std::int64_t id) {
    return [id](store::Store& tx) -> Status {
      return tx.Execute("INSERT INTO t (id, name) VALUES (?, 'row')", {id}).status();
    };
  }

  // Runs `first` (which blocks until `followers` callers are queued behind it) and the followers,
  // each on its own thread, queued in order; returns every caller's status, first's at index 0.
  std::vector<Status> RunWithFollowers(const GroupCommitter::Body& first,
                                       const std::vector<GroupCommitter::Body>& followers) {
    std::vector<Status> results(followers.size() + 1);
    std::atomic<bool> leading{false};
    std::atomic<bool> launched{false};
    const GroupCommitter::Body blocking = [&](store::Store& tx) -> Status {
      leading = true;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while ((!launched || committer_->queued() < followers.size()) &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return first(tx);
    };
    std::vector<std::thread> threads;
    threads.emplace_back([&] { results[0] = committer_->Run(blocking); });
    while (!leading) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // One at a time, so the queue (and the batch) holds them in this order.
    for (std::size_t i = 0; i < followers.size(); ++i) {
      threads.emplace_back([&, i] { results[i + 1] = committer_->Run(followers[i]); });
      while (committer_->queued() < i + 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    launched = true;
    for (std::thread& t : threads) t.join();
    return results;
  }

  std::mutex store_mu_;
  std::unique_ptr<GroupCommitter> committer_;
};

TEST_P(GroupCommitTest, AloneItIsOneTransactionPerCall) {
  ASSERT_TRUE(committer_->Run(Insert(1)).ok());
  ASSERT_TRUE(committer_->Run(Insert(2)).ok());
  EXPECT_EQ(CountRows("t"), 2);
  EXPECT_EQ(committer_->stats().transactions, 2);
  EXPECT_EQ(committer_->stats().bodies, 2);
}

TEST_P(GroupCommitTest, QueuedCallersShareOneCommit) {
  constexpr int kFollowers = 7;
  std::vector<GroupCommitter::Body> followers;
  for (int i = 1; i <= kFollowers; ++i) followers.push_back(Insert(i));
  const std::int64_t commits_before = store_->stats().transactions_committed;
  const std::vector<Status> results = RunWithFollowers(Insert(0), followers);
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CountRows("t"), kFollowers + 1);
  // The first caller's transaction, then one for all the followers.
  EXPECT_EQ(store_->stats().transactions_committed - commits_before, 2);
  EXPECT_EQ(committer_->stats().transactions, 2);
  EXPECT_EQ(committer_->stats().bodies, kFollowers + 1);
  EXPECT_EQ(committer_->stats().batch_failures, 0);
}

TEST_P(GroupCommitTest, AFailingBodyFailsAloneAndLeavesNothing) {
  std::vector<GroupCommitter::Body> followers = {Insert(1), Insert(2), Insert(3)};
  // Writes a row, then fails: its row must not survive, the others' must.
  followers.insert(followers.begin() + 1, [](store::Store& tx) -> Status {
    TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO t (id, name) VALUES (99, 'half')").status());
    return InvalidArgument("amount: expected > 0");
  });
  // A store error (duplicate key) fails alone too.
  followers.push_back(Insert(2));
  const std::vector<Status> results = RunWithFollowers(Insert(0), followers);
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[2].code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(results[2].message(), "amount: expected > 0");
  EXPECT_TRUE(results[3].ok());
  EXPECT_TRUE(results[4].ok());
  EXPECT_EQ(results[5].code(), ErrorCode::kAlreadyExists) << results[5].ToString();
  EXPECT_EQ(CountRows("t"), 4);  // ids 0-3
  auto half = store_->QueryRow("SELECT id FROM t WHERE id = 99");
  EXPECT_EQ(half.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(committer_->stats().batch_failures, 1);
}

TEST_P(GroupCommitTest, ABodySeesTheWritesOfTheBodiesBeforeIt) {
  std::int64_t seen = -1;
  const std::vector<Status> results =
      RunWithFollowers(Insert(0), {Insert(1), [&](store::Store& tx) -> Status {
                                     TS_ASSIGN_OR_RETURN(
                                         store::Row row,
                                         tx.QueryRow("SELECT count(*) AS n FROM t"));
                                     TS_ASSIGN_OR_RETURN(seen, row.GetInt64("n"));
                                     return Status::Ok();
                                   }});
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, 2);
}

TEST_P(GroupCommitTest, TheBeginHookRunsFirstInEveryTransaction) {
  int begins = 0;
  GroupCommitter with_hook(*store_, store_mu_, [&](store::Store& tx) -> Status {
    ++begins;
    EXPECT_TRUE(tx.in_transaction());
    return Status::Ok();
  });
  ASSERT_TRUE(with_hook.Run(Insert(1)).ok());
  EXPECT_EQ(begins, 1);
  GroupCommitter failing(*store_, store_mu_,
                         [](store::Store&) -> Status { return Unavailable("lock: busy"); });
  EXPECT_EQ(failing.Run(Insert(2)).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(CountRows("t"), 1);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(GroupCommitTest);

}  // namespace
}  // namespace tapstack::tsp
