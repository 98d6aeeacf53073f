// BatchWriter: callbacks after the commit, a failing operation fails its whole batch, and Stop
// drains work that callbacks submit while the writer drains (the switch's shutdown relies on it).
#include "network/batch_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "store/sqlite_store.h"
#include "store/store_fixture.h"

namespace tapstack::network {
namespace {

class BatchWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenSqlite(dir_.path(), "w");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->ExecuteScript("CREATE TABLE t (v INTEGER NOT NULL)").ok());
    writer_ = std::make_unique<BatchWriter>(std::move(*store));
  }
  void TearDown() override { writer_.reset(); }  // before the directory goes

  static BatchWriter::Operation Insert(std::int64_t v) {
    return [v](store::Store& s) { return s.Execute("INSERT INTO t (v) VALUES (?)", {v}).status(); };
  }
  std::int64_t Rows() {
    std::int64_t n = -1;
    EXPECT_TRUE(writer_
                    ->RunExclusive([&n](store::Store& s) -> Status {
                      TS_ASSIGN_OR_RETURN(store::Row row,
                                          s.QueryRow("SELECT COUNT(*) AS n FROM t"));
                      TS_ASSIGN_OR_RETURN(n, row.GetInt64("n"));
                      return Status::Ok();
                    })
                    .ok());
    return n;
  }

  store::testing::TempDir dir_;
  std::unique_ptr<BatchWriter> writer_;
};

TEST_F(BatchWriterTest, DoneSeesTheCommittedRow) {
  std::atomic<int> ok{0};
  for (int i = 0; i < 10; ++i) {
    writer_->Submit(Insert(i), [&ok](const Status& s) { ok += s.ok() ? 1 : 0; });
  }
  writer_->WaitIdle();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(Rows(), 10);
}

TEST_F(BatchWriterTest, AFailingOperationFailsItsWholeBatch) {
  // Submitted while the writer is busy, so the three share one batch.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  writer_->Submit([released](store::Store&) {
    released.wait();
    return Status::Ok();
  });
  std::atomic<int> failed{0};
  auto count = [&failed](const Status& s) { failed += s.ok() ? 0 : 1; };
  writer_->Submit(Insert(1), count);
  writer_->Submit([](store::Store&) { return InvalidArgument("no"); }, count);
  writer_->Submit(Insert(2), count);
  release.set_value();
  writer_->WaitIdle();
  EXPECT_EQ(failed.load(), 3);
  EXPECT_EQ(Rows(), 0) << "rolled back together";
}

TEST_F(BatchWriterTest, StopDrainsWhatCallbacksSubmitWhileItDrains) {
  // As the switch's store writer does: an answer's callback submits more work (advice
  // delivery) to the same writer. Stop must run it, and the writer must stay usable meanwhile.
  std::atomic<int> done{0};
  writer_->Submit(Insert(1), [this, &done](const Status&) {
    ++done;
    writer_->Submit(Insert(2), [&done](const Status&) { ++done; });
  });
  writer_->Stop();
  EXPECT_EQ(done.load(), 2);
  writer_->Stop();  // idempotent
}

}  // namespace
}  // namespace tapstack::network
