#include "store/group_commit.h"

namespace tapstack::store {

Status GroupCommitter::Run(const Body& body) {
  Waiter me;
  me.body = &body;
  std::unique_lock lock(queue_mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leader_active_) {
      done_cv_.wait(lock);
      continue;
    }
    // Lead: take what has queued (this caller included, since it is not done yet).
    leader_active_ = true;
    std::deque<Waiter*> batch;
    while (!queue_.empty() && batch.size() < kGroupCommitBodiesMax) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    {
      std::lock_guard store_lock(store_mutex_);
      RunBatch(batch);
    }
    lock.lock();
    for (Waiter* w : batch) w->done = true;
    stats_.bodies += static_cast<std::int64_t>(batch.size());
    leader_active_ = false;
    // Wakes the batch's callers and lets one of the queued ones lead the next batch.
    done_cv_.notify_all();
  }
  return me.result;
}

Status GroupCommitter::RunAlone(const Body& body) {
  return store_.RunInTransaction([&](Store& tx) -> Status {
    if (begin_) TS_RETURN_IF_ERROR(begin_(tx));
    return body(tx);
  });
}

void GroupCommitter::RunBatch(const std::deque<Waiter*>& batch) {
  if (batch.size() == 1) {
    batch.front()->result = RunAlone(*batch.front()->body);
    std::lock_guard lock(queue_mu_);
    ++stats_.transactions;
    return;
  }
  const Status shared = store_.RunInTransaction([&](Store& tx) -> Status {
    if (begin_) TS_RETURN_IF_ERROR(begin_(tx));
    for (Waiter* w : batch) TS_RETURN_IF_ERROR((*w->body)(tx));
    return Status::Ok();
  });
  {
    std::lock_guard lock(queue_mu_);
    ++stats_.transactions;
    if (!shared.ok()) ++stats_.batch_failures;
  }
  if (shared.ok()) {
    for (Waiter* w : batch) w->result = Status::Ok();
    return;
  }
  // Nothing of the batch is stored: each body again, alone, so only a failing one fails.
  for (Waiter* w : batch) w->result = RunAlone(*w->body);
}

std::size_t GroupCommitter::queued() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

GroupCommitStats GroupCommitter::stats() const {
  std::lock_guard lock(queue_mu_);
  return stats_;
}

}  // namespace tapstack::store
