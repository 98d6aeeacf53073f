#include "network/duplicate_detector.h"

#include "iso8583/mti.h"

namespace tapstack::network {

namespace {

// MTI (4) | flags (1: bit 0 = forced secondary bitmap) | per present field: number (1), value
// length (2, big-endian), value. Values are at most 999 bytes (LLLVAR), so 2 bytes suffice.
std::string CompactMessage(const iso8583::Message& m) {
  std::string out(m.mti());
  out += static_cast<char>(m.force_secondary_bitmap() ? 1 : 0);
  for (int f = m.NextField(1); f != 0; f = m.NextField(f)) {
    const std::string_view value = *m.Get(f);
    out += static_cast<char>(f);
    out += static_cast<char>((value.size() >> 8) & 0xFF);
    out += static_cast<char>(value.size() & 0xFF);
    out += value;
  }
  return out;
}

iso8583::Message ExpandMessage(std::string_view compact) {
  iso8583::Message m(compact.substr(0, 4));
  m.set_force_secondary_bitmap((static_cast<unsigned char>(compact[4]) & 1) != 0);
  std::size_t at = 5;
  while (at + 3 <= compact.size()) {
    const int field = static_cast<unsigned char>(compact[at]);
    const std::size_t length = (static_cast<std::size_t>(static_cast<unsigned char>(compact[at + 1])) << 8) |
                               static_cast<unsigned char>(compact[at + 2]);
    m.Set(field, compact.substr(at + 3, length));
    at += 3 + length;
  }
  return m;
}

}  // namespace

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
  if (!repeat) return Verdict::kDuplicate;
  if (it->second.response) {
    *stored = ExpandMessage(*it->second.response);
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
    it->second.response = CompactMessage(response);
    waiters.swap(it->second.waiters);
  }
  for (auto& w : waiters) w(response);
}

void DuplicateDetector::ExpireLocked(std::int64_t now_ms) {
  while (!order_.empty() &&
         (order_.front().first + options_.window_ms < now_ms || order_.size() > options_.entries_max)) {
    auto it = entries_.find(*order_.front().second);
    // Keep entries whose request is still in progress (waiters need their response).
    if (it != entries_.end() && (it->second.response || order_.size() > options_.entries_max)) {
      entries_.erase(it);
    }
    order_.pop_front();
  }
}

}  // namespace tapstack::network
