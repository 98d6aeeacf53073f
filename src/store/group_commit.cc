#include "store/group_commit.h"

namespace tapstack::store {

Status GroupCommitter::Run(const Body& body) {
  Waiter me;
  me.body = &body;
  std::unique_lock lock(queue_mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leader_active_) {
      me.cv.wait(lock);  // woken when its batch is done, or to lead the next one
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
    // Notified under queue_mu_: a waiter cannot return (and destroy its cv) before it retakes it.
    for (Waiter* w : batch) {
      w->done = true;
      if (w != &me) w->cv.notify_one();
    }
    stats_.bodies += static_cast<std::int64_t>(batch.size());
    leader_active_ = false;
    // The oldest queued caller leads the next batch (unless a newcomer takes the lead first, which
    // then wakes it in turn).
    if (!queue_.empty()) queue_.front()->cv.notify_one();
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
