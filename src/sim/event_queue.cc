#include "sim/event_queue.h"

#include <algorithm>

namespace tapstack::sim {

void EventQueue::Schedule(std::int64_t at_ms, std::string key, Action action) {
  std::lock_guard lock(mu_);
  staged_.push_back({at_ms, std::move(key), std::move(action)});
}

void EventQueue::Commit() {
  std::vector<Event> staged;
  {
    std::lock_guard lock(mu_);
    staged.swap(staged_);
  }
  // Stable: events with equal keys keep the order the simulator's own thread staged them in.
  std::stable_sort(staged.begin(), staged.end(), [](const Event& a, const Event& b) {
    return a.at_ms != b.at_ms ? a.at_ms < b.at_ms : a.key < b.key;
  });
  for (Event& e : staged) {
    const std::int64_t at = e.at_ms;
    agenda_.emplace(std::make_pair(at, next_seq_++), std::move(e));
  }
}

std::optional<EventQueue::Event> EventQueue::Pop() {
  if (agenda_.empty()) return std::nullopt;
  auto it = agenda_.begin();
  Event e = std::move(it->second);
  agenda_.erase(it);
  return e;
}

}  // namespace tapstack::sim
