// SimWorld: what every part of one simulated run shares: the simulated clock, the agenda, the one
// seeded PRNG, the fault rates, the nodes (roles that can crash and restart) and the trace.
//
// Determinism: the PRNG (std::mt19937_64: a simulation's dice, not cryptography) is drawn from
// only on the simulator's thread, in event order, so a seed fixes every delay, fault, amount and
// card. Values the roles draw from OpenSSL (approval codes, keys, token numbers) never enter the
// trace. The trace hash is SHA-256 (crypto/hash.h) over the trace lines.
// Thread-safety: events() and now_ms() from any thread; everything else on the simulator's thread.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "link/message_handler.h"
#include "sim/event_queue.h"

namespace tapstack::sim {

// Per-message fault probabilities of the simulated links, and their delays.
struct LinkFaultRates {
  double drop_request = 0.03;       // the request is lost: the sender times out
  double drop_response = 0.03;      // the response is lost: the sender times out
  double duplicate_request = 0.03;  // the request arrives twice
  double slow = 0.05;               // a long delay (reorders messages)
  int delay_min_ms = 1;
  int delay_max_ms = 30;
  int slow_delay_max_ms = 1'500;
};

// A role that can crash: its current handler (nullptr while down) and its incarnation, which
// grows at every crash so callbacks of the dead incarnation are never run.
struct SimNode {
  link::MessageHandler* handler = nullptr;
  std::uint64_t incarnation = 1;
};

class SimWorld {
 public:
  SimWorld(std::uint64_t seed, bool keep_trace_lines);

  ManualClock& clock() { return clock_; }
  EventQueue& events() { return events_; }
  // Milliseconds since the run started.
  std::int64_t now_ms() const { return clock_.NowUnixMillis() - start_unix_ms_; }
  std::int64_t start_unix_ms() const { return start_unix_ms_; }

  // The dice (simulator thread only).
  bool Chance(double probability);
  std::int64_t Uniform(std::int64_t low, std::int64_t high);  // inclusive
  std::mt19937_64& random() { return random_; }

  LinkFaultRates& faults() { return faults_; }
  // A message delay drawn from the fault rates; sets *slow when it was a long one.
  std::int64_t DrawDelayMs(bool* slow);

  SimNode& node(const std::string& name) { return nodes_[name]; }

  // Counts of what happened (faults applied, messages), by name; simulator thread.
  void Count(const std::string& what, std::int64_t n = 1) { counters_[what] += n; }
  const std::map<std::string, std::int64_t>& counters() const { return counters_; }

  // Appends one line to the trace ("t=<ms> <text>") and the hash input.
  void Trace(const std::string& text);
  std::uint64_t trace_lines() const { return trace_count_; }
  const std::vector<std::string>& trace() const { return lines_; }
  // Hex SHA-256 of every trace line so far.
  std::string TraceHash() const;

 private:
  ManualClock clock_;
  std::int64_t start_unix_ms_;
  EventQueue events_;
  std::mt19937_64 random_;
  LinkFaultRates faults_;
  std::map<std::string, SimNode> nodes_;
  std::map<std::string, std::int64_t> counters_;
  bool keep_lines_;
  std::vector<std::string> lines_;
  std::string hash_input_;
  std::uint64_t trace_count_ = 0;
};

}  // namespace tapstack::sim
