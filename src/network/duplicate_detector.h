// DuplicateDetector: remembers recent requests by (DE32 acquirer, DE41 terminal, DE11 STAN,
// DE7 transmission time) so that a repeat (0101, 0201, 0401, 0421) gets the stored response
// without re-authorising and a second original with the same key gets DE39 "94".
// Entries expire after window_ms; at most entries_max are kept (oldest dropped first).
//
// Memory: a switch keeps every authorisation of the window (a day by default), so an entry holds
// the response as a compact string (MTI, then each present field as number, length and value:
// about the size of the wire message) rather than an iso8583::Message, whose fixed slot table
// alone is 1.5 KiB; the key is stored once (the expiry queue points at the map's key). About
// 0.4 KiB per authorisation, so the default 2,000,000 entries bound it near 0.8 GiB.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "iso8583/message.h"

namespace tapstack::network {

class DuplicateDetector {
 public:
  struct Options {
    std::int64_t window_ms = 24 * 3600 * 1000;
    std::size_t entries_max = 2'000'000;
  };
  using Waiter = std::function<void(const iso8583::Message& response)>;

  enum class Verdict {
    kNew,          // first sighting: process it, then call Complete()
    kDuplicate,    // an original seen before: answer 94
    kRepeatDone,   // a repeat of a completed request: `stored` holds the response
    kRepeatWaiting // a repeat of a request still in progress: `waiter` will get the response
  };

  DuplicateDetector(const Clock& clock, Options options) : clock_(clock), options_(options) {}

  // The key of a request (empty when DE11 or DE41 is missing).
  static std::string Key(const iso8583::Message& request);

  // Classifies `request`. For kRepeatWaiting, `waiter` is kept and called by Complete().
  Verdict Check(const iso8583::Message& request, iso8583::Message* stored, Waiter waiter);

  // Records the response of a kNew request and releases repeats waiting for it.
  void Complete(const std::string& key, const iso8583::Message& response);

  // Forgets a kNew request left unanswered (the switch could not process it for now): the next
  // copy with its key, original or repeat, is kNew again; repeats waiting for it are dropped
  // unanswered (their senders time out and send again).
  void Abandon(const std::string& key);

  // Puts back an answer given before a restart (`key` as Key() makes it, answered at
  // `answered_unix_ms`): a copy of its request is then kDuplicate and a repeat gets `response`.
  // For start-up, before the first Check, in answer-time order; an answer older than the window
  // is ignored.
  void Restore(const std::string& key, const iso8583::Message& response, std::int64_t answered_unix_ms);

 private:
  struct Entry {
    std::int64_t seen_unix_ms = 0;
    std::optional<std::string> response;  // CompactMessage
    std::vector<Waiter> waiters;
    bool abandoned = false;  // Abandon(): processed again when it comes again
  };
  void ExpireLocked(std::int64_t now_ms);

  const Clock& clock_;
  Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  // (seen, key) in arrival order; the key points into entries_ (node-based: stable until erased,
  // and an entry is erased only when its queue element is popped).
  std::deque<std::pair<std::int64_t, const std::string*>> order_;
};

}  // namespace tapstack::network
