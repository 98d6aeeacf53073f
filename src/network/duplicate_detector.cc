#include "network/duplicate_detector.h"

#include "iso8583/compact_message.h"
#include "iso8583/mti.h"

namespace tapstack::network {

std::string DuplicateDetector::Key(const iso8583::Message& request) {
  auto stan = request.Get(11);
  auto terminal = request.Get(41);
  if (!stan || !terminal) return {};
  // The original's MTI class and function (0100 for 0101): reversals reuse the STAN.
  std::string key = iso8583::OriginalOfRepeat(request.mti());
  key += '|';
  key += request.Get(32).value_or("");
  key += '|';
  key += *terminal;
  key += '|';
  key += *stan;
  key += '|';
  key += request.Get(7).value_or("");
  return key;
}

DuplicateDetector::Verdict DuplicateDetector::Check(const iso8583::Message& request,
                                                    iso8583::Message* stored, Waiter waiter) {
  const std::string key = Key(request);
  if (key.empty()) return Verdict::kNew;
  const std::int64_t now = clock_.NowUnixMillis();
  const bool repeat = iso8583::IsRepeat(request.mti());
  std::lock_guard lock(mu_);
  ExpireLocked(now);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    const auto inserted = entries_.emplace(key, Entry{now, std::nullopt, {}}).first;
    order_.emplace_back(now, &inserted->first);
    return Verdict::kNew;
  }
  if (it->second.abandoned) {
    it->second.abandoned = false;
    return Verdict::kNew;
  }
  if (!repeat) return Verdict::kDuplicate;
  if (it->second.response) {
    *stored = iso8583::ExpandMessage(*it->second.response);
    return Verdict::kRepeatDone;
  }
  it->second.waiters.push_back(std::move(waiter));
  return Verdict::kRepeatWaiting;
}

void DuplicateDetector::Complete(const std::string& key, const iso8583::Message& response) {
  if (key.empty()) return;
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    it->second.response = iso8583::CompactMessage(response);
    waiters.swap(it->second.waiters);
  }
  for (auto& w : waiters) w(response);
}

void DuplicateDetector::Abandon(const std::string& key) {
  if (key.empty()) return;
  std::vector<Waiter> dropped;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.response) return;
    it->second.abandoned = true;
    dropped.swap(it->second.waiters);
  }
}

void DuplicateDetector::Restore(const std::string& key, const iso8583::Message& response,
                                std::int64_t answered_unix_ms) {
  if (key.empty() || answered_unix_ms + options_.window_ms < clock_.NowUnixMillis()) return;
  std::lock_guard lock(mu_);
  const auto [it, inserted] = entries_.emplace(key, Entry{answered_unix_ms, iso8583::CompactMessage(response), {}});
  if (inserted) order_.emplace_back(answered_unix_ms, &it->first);
}

void DuplicateDetector::ExpireLocked(std::int64_t now_ms) {
  while (!order_.empty() &&
         (order_.front().first + options_.window_ms < now_ms || order_.size() > options_.entries_max)) {
    auto it = entries_.find(*order_.front().second);
    // Keep entries whose request is still in progress (waiters need their response).
    if (it != entries_.end() &&
        (it->second.response || it->second.abandoned || order_.size() > options_.entries_max)) {
      entries_.erase(it);
    }
    order_.pop_front();
  }
}

}  // namespace tapstack::network
