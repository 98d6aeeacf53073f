// EventQueue: the simulator's agenda. Events run one at a time on the simulator's thread, in order
// of (time, content key, commit order). Roles' own threads (issuer worker, switch writers) add
// events while a step runs; those are staged and ordered by their content key when the step ends
// (Commit), so which thread happened to run first never changes the order of the run.
// Thread-safety: Schedule from any thread; Commit, Pop, empty and size on the simulator's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tapstack::sim {

class EventQueue {
 public:
  using Action = std::function<void()>;

  struct Event {
    std::int64_t at_ms = 0;  // simulated time (milliseconds since the run started)
    std::string key;         // what the event is about (message bytes, link and request id)
    Action action;
  };

  // Stages `action` to run at `at_ms`; it joins the agenda at the next Commit.
  void Schedule(std::int64_t at_ms, std::string key, Action action);

  // Moves the staged events into the agenda, ordered by (time, key) among themselves and after
  // every event committed earlier for the same time.
  void Commit();

  // The next event in the agenda, removed; nullopt when the agenda is empty.
  std::optional<Event> Pop();

  bool empty() const { return agenda_.empty(); }
  std::size_t size() const { return agenda_.size(); }

 private:
  std::mutex mu_;
  std::vector<Event> staged_;  // guarded by mu_
  std::map<std::pair<std::int64_t, std::uint64_t>, Event> agenda_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace tapstack::sim
