#include "tsp/history_writer.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace tapstack::tsp {

HistoryWriter::HistoryWriter(store::Store& store, TokenHistory& history, std::mutex& store_mutex,
                             std::size_t queue_uses_max)
    : store_(store),
      history_(history),
      store_mutex_(store_mutex),
      queue_uses_max_(queue_uses_max == 0 ? 1 : queue_uses_max),
      thread_([this] { Loop(); }) {}

HistoryWriter::~HistoryWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

bool HistoryWriter::Enqueue(TokenUseRecord use) {
  std::int64_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    if (!stop_ && queue_.size() < queue_uses_max_) {
      queue_.push_back(std::move(use));
      ++enqueued_;
      work_cv_.notify_one();
      return true;
    }
    dropped = ++stats_.dropped;
  }
  // Neither the token number nor the PAN: only the STAN. Warn at powers of two so a stalled disk
  // does not also flood the log.
  if ((dropped & (dropped - 1)) == 0) {
    spdlog::warn("tsp history: queue full ({} uses); use stan={} dropped ({} dropped so far)",
                 queue_uses_max_, use.stan, dropped);
  }
  return false;
}

void HistoryWriter::Flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t ticket = enqueued_;
  done_cv_.wait(lock, [&] { return done_ >= ticket; });
}

HistoryWriterStats HistoryWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void HistoryWriter::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    std::deque<TokenUseRecord> batch;
    while (!queue_.empty() && batch.size() < kHistoryBatchUsesMax) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    {
      std::lock_guard store_lock(store_mutex_);
      WriteBatch(batch);
    }
    lock.lock();
    done_ += batch.size();
    done_cv_.notify_all();
  }
}

void HistoryWriter::WriteBatch(std::deque<TokenUseRecord>& batch) {
  std::int64_t written = 0;
  std::int64_t failed = 0;
  auto warn = [](const TokenUseRecord& use, const Status& s) {
    spdlog::warn("tsp history: use stan={} not recorded: {}", use.stan, s.ToString());
  };
  // kNotFound (no such token) writes nothing, so the batch goes on without the use; any other
  // error may have left the transaction unusable (PostgreSQL aborts it), so roll back.
  std::vector<std::pair<const TokenUseRecord*, Status>> skipped;
  const Status shared = store_.RunInTransaction([&](store::Store&) -> Status {
    written = 0;
    skipped.clear();
    for (const TokenUseRecord& use : batch) {
      Status s = history_.RecordUse(use);
      if (s.ok()) {
        ++written;
      } else if (s.code() == ErrorCode::kNotFound) {
        skipped.emplace_back(&use, std::move(s));
      } else {
        return s;
      }
    }
    return Status::Ok();
  });
  std::int64_t transactions = 0;
  if (shared.ok()) {
    transactions = 1;
    failed = static_cast<std::int64_t>(skipped.size());
    for (const auto& [use, why] : skipped) warn(*use, why);
  } else {
    written = 0;
    failed = 0;
    for (const TokenUseRecord& use : batch) {
      const Status s = history_.RecordUse(use);  // auto-commit, alone
      if (s.ok()) {
        ++written;
      } else {
        ++failed;
        warn(use, s);
      }
    }
  }
  std::lock_guard lock(mu_);
  stats_.written += written;
  stats_.failed += failed;
  stats_.transactions += transactions;
}

}  // namespace tapstack::tsp
