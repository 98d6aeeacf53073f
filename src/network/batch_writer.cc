#include "network/batch_writer.h"

#include <future>

#include <spdlog/spdlog.h>

namespace tapstack::network {

BatchWriter::BatchWriter(std::unique_ptr<store::Store> store)
    : store_(std::move(store)), thread_([this] { Loop(); }) {}

BatchWriter::~BatchWriter() { Stop(); }

void BatchWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BatchWriter::Submit(Operation op, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(std::move(op), std::move(done));
  }
  cv_.notify_one();
}

Status BatchWriter::RunExclusive(const std::function<Status(store::Store&)>& fn) {
  std::promise<Status> result;
  Submit([&fn](store::Store& s) -> Status { return fn(s); },
         [&result](const Status& s) { result.set_value(s); });
  return result.get_future().get();
}

void BatchWriter::Loop() {
  for (;;) {
    std::deque<std::pair<Operation, Done>> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < kBatchOperationsMax) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      batch_running_ = true;
    }
    Status status = store_->RunInTransaction([&batch](store::Store& s) -> Status {
      for (auto& [op, done] : batch) TS_RETURN_IF_ERROR(op(s));
      return Status::Ok();
    });
    if (!status.ok()) {
      ++batches_failed_;
      spdlog::error("network store: batch of {} failed: {}", batch.size(), status.ToString());
    }
    ++batches_;
    for (auto& [op, done] : batch) {
      if (done) done(status);
    }
    {
      std::lock_guard lock(mu_);
      batch_running_ = false;
    }
    idle_cv_.notify_all();
  }
}

void BatchWriter::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && !batch_running_; });
}

}  // namespace tapstack::network
