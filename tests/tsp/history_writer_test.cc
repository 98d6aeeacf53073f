// HistoryWriter: token uses queued off the answer path are written in batches (fewer commits than
// uses), Flush waits for them, an unknown token loses only its own use, and a full queue drops
// and counts instead of growing.
#include "tsp/history_writer.h"

#include <gtest/gtest.h>

#include <mutex>

#include "tsp/tsp_test_support.h"

namespace tapstack::tsp {
namespace {

class HistoryWriterTest : public testing::VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto history = TokenHistory::Open(*store_, *vault_);
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    history_ = std::move(*history);
    token_ = ActiveToken(testing::kTestPanVisa);
  }
  void TearDown() override {
    history_.reset();
    VaultTest::TearDown();
  }

  TokenUseRecord Use(std::int64_t amount, std::string token_number = "") {
    return TokenUseRecord{token_number.empty() ? token_.token_number : token_number,
                          "0100",
                          amount,
                          156,
                          "COFFEE SHOP",
                          "5812",
                          "071",
                          "00",
                          "A1B2C3",
                          std::to_string(amount),
                          "TERM0001",
                          1'767'225'600'000 + amount};
  }

  std::mutex store_mu_;
  std::unique_ptr<TokenHistory> history_;
  TokenRecord token_;
};

TEST_P(HistoryWriterTest, WritesQueuedUsesInBatchesAndFlushWaitsForThem) {
  constexpr int kUses = 200;
  HistoryWriter writer(*store_, *history_, store_mu_);
  {
    // Held while queueing, so the writer finds many uses waiting and writes them together.
    std::lock_guard hold(store_mu_);
    for (int i = 1; i <= kUses; ++i) ASSERT_TRUE(writer.Enqueue(Use(i)));
    ASSERT_TRUE(writer.Enqueue(Use(9999, "4999000000000000")));  // no such token
  }
  writer.Flush();
  std::lock_guard hold(store_mu_);
  auto list = history_->List(token_.token_id, kHistoryListMax);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), static_cast<std::size_t>(kUses));
  EXPECT_EQ((*list)[0].amount_minor, kUses);  // newest first: queue order kept
  EXPECT_EQ((*list)[kUses - 1].amount_minor, 1);
  const HistoryWriterStats stats = writer.stats();
  EXPECT_EQ(stats.written, kUses);
  EXPECT_EQ(stats.failed, 1);
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_GE(stats.transactions, 1);
  EXPECT_LE(stats.transactions, 3);  // at most one use before the hold, then whole batches
}

TEST_P(HistoryWriterTest, AFullQueueDropsAndCountsInsteadOfGrowing) {
  constexpr std::size_t kQueueMax = 4;
  constexpr int kUses = 20;
  HistoryWriter writer(*store_, *history_, store_mu_, kQueueMax);
  int refused = 0;
  {
    std::lock_guard hold(store_mu_);  // the writer cannot write: the queue fills
    for (int i = 1; i <= kUses; ++i) refused += writer.Enqueue(Use(i)) ? 0 : 1;
  }
  writer.Flush();
  const HistoryWriterStats stats = writer.stats();
  // At most the queue plus one batch taken from it before the hold was noticed.
  EXPECT_GE(refused, kUses - 2 * static_cast<int>(kQueueMax));
  EXPECT_EQ(stats.dropped, refused);
  EXPECT_EQ(stats.written + stats.dropped, kUses);
  std::lock_guard hold(store_mu_);
  EXPECT_EQ(history_->List(token_.token_id, kHistoryListMax)->size(),
            static_cast<std::size_t>(stats.written));
}

TEST_P(HistoryWriterTest, TheDestructorWritesWhatIsStillQueued) {
  {
    HistoryWriter writer(*store_, *history_, store_mu_);
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(writer.Enqueue(Use(i)));
  }
  EXPECT_EQ(history_->List(token_.token_id, kHistoryListMax)->size(), 10u);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(HistoryWriterTest);

}  // namespace
}  // namespace tapstack::tsp
