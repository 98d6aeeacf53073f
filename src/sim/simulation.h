// Simulation: one deterministic run of the card network in one process (issue #10,
// "Deterministic simulation"; docs/RELIABILITY.md).
//
//   SimOptions options;
//   options.seed = 42;
//   Result<SimResult> result = RunSimulation(options);  // result->violations empty: passed
//
// The roles are the real ones: two issuer hosts (banks 48020001 + 48020002 in CNY; 48020004 in
// HKD, the cross-currency bank, + 48020005, whose stand-in declines), the switch (SQLite stores,
// token_step_threads = 0) and the demo TSP with two phones holding tokens (provisioned through the
// TSP with ID&V over ISO 8583, as tests/server/token_rail_test_util.h does), all on a ManualClock
// the simulator advances. Links are SimLinks (sim_link.h): the same ISO 8583 bytes as TCP, each
// delivery an event at a seeded delay, with seeded faults. Two terminals (TERM0001 in CNY,
// TERM0008 in HKD) send authorisations (0100), purchases (0200) and token taps (0100 with the
// phone's ARQC), repeats (0101/0201) of some, completions (0220/0221) and reversals (0400/0401)
// of some approvals; an unanswered request is reversed, the reversal repeated until acknowledged.
// The seed also decides issuer-link outages, an issuer host or the switch crashing (dropped and
// re-opened from its files after a seeded delay), a wallet suspending a token ("lost phone") and
// an issuer's ledger disk, the switch's store's or journal's disk or the TSP's store's disk failing
// a write or an fdatasync, the unsynced writes lost or kept (disk_fault.h); the host then stops answering,
// the switch leaves what waited on its store unanswered, the TSP refuses token uses, and a
// supervisor restarts the role after a seeded delay.
//
// One event runs at a time; after it the simulator waits until every role is idle (WaitIdle
// hooks) before the next, and events the roles' threads produced meanwhile are ordered by
// content (event_queue.h). The same seed gives the same trace, byte for byte.
//
// The run ends by healing: faults stop, links come up, crashed roles restart, stored advices are
// delivered and every reversal and completion is repeated until acknowledged; then the switch cuts
// off settlement and invariants.h is checked. Then, on the same world and clock, the
// digital-currency part runs (SimOptions::dcep; dcep_part.h: watches paying each other offline,
// a cloned watch, lost upload answers, interbank faults, restarts) and its invariants are checked
// too; then the transit part (SimOptions::transit; transit_part.h: purse cards riding at offline
// gates, torn taps, lost load and upload answers, restarts of the gates and the back office). Data lives in a fresh directory under
// SimOptions::data_root (default /dev/shm when it exists, else the temp directory), removed after.
// Not thread-safe: one run per thread (runs on different threads do not share state).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/invariants.h"

namespace tapstack::sim {

inline constexpr int kTransactionsDefault = 16;
inline constexpr int kTransactionsMax = 100'000;
inline constexpr std::int64_t kStepsMaxDefault = 50'000;
inline constexpr int kDcepPaymentsDefault = 12;
inline constexpr int kDcepPaymentsMax = 10'000;
inline constexpr int kTransitTapsDefault = 24;
inline constexpr int kTransitTapsMax = 10'000;

// Test-only damage done after the run heals and before the checks, to show the checker sees it.
enum class TestCorruption {
  kNone,
  kRemoveHold,     // an approved, unreversed 0100's hold is voided behind the terminal's back
  kDoublePosting,  // an approved 0200 is posted a second time (another STAN) behind its back
  kDcepDoubleCredit,  // a watch's purse at its operator credited with value the watch never saw
  kDcepUnrecordedPayment,  // an online payment between two wallets that no client asked for
  kTransitLostBatch,       // a transit gate drops a batch of records as if clearing had stored it
};

struct SimOptions {
  std::uint64_t seed = 1;
  int transactions = kTransactionsDefault;
  std::int64_t steps_max = kStepsMaxDefault;  // events processed at most; then the run fails
  bool keep_trace = false;                    // keep every trace line in SimResult::trace
  std::filesystem::path data_root;            // empty: /dev/shm if present, else temp dir
  // Which fault kinds the seed may draw (all by default).
  bool link_faults = true;    // drops, duplicates, slow messages
  bool link_outages = true;   // an issuer or terminal link down for a while
  bool crashes = true;        // an issuer host or the switch crashes and restarts
  bool suspensions = true;    // the wallet suspends a token
  bool disk_faults = true;    // an issuer's ledger disk, the switch's store or journal, or the
                              // TSP's store fails a write or a sync (disk_fault.h)
  // The digital-currency part after the card network's (dcep_part.h): offline payments between
  // watches, a cloned watch, lost upload answers, interbank faults, restarts.
  bool dcep = true;
  int dcep_payments = kDcepPaymentsDefault;
  // The transit part after that (transit_part.h): rides and top-ups of purse cards on phones at
  // one city's offline gates, torn taps, lost answers, repeated uploads, restarts.
  bool transit = true;
  int transit_taps = kTransitTapsDefault;
  // Forces one fault at a seeded step whatever the seed says (tests of each fault kind).
  bool force_issuer_crash = false;
  bool force_switch_crash = false;
  bool force_suspension = false;
  bool force_disk_fault = false;         // under an issuer's ledger
  bool force_switch_disk_fault = false;  // under the switch's store
  bool force_tsp_disk_fault = false;     // under the TSP's store (vault, ATC windows, audit)
  bool force_journal_disk_fault = false;  // under the switch's message journal
  bool force_dcep_clone = false;
  TestCorruption corruption = TestCorruption::kNone;
};

struct SimResult {
  std::uint64_t seed = 0;
  std::string trace_hash;          // hex SHA-256 of the trace
  std::vector<std::string> trace;  // SimOptions::keep_trace
  std::int64_t steps = 0;
  std::int64_t simulated_ms = 0;
  double wall_ms = 0;
  std::map<std::string, std::int64_t> counts;  // transactions, approvals, faults applied ...
  std::vector<std::string> faults;             // the seeded crashes, outages and suspensions
  std::vector<Violation> violations;
  bool ok() const { return violations.empty(); }
  std::string ToJson() const;
};

// Runs one simulation. Errors: set-up failed (stores, seed file, provisioning): the run did not
// happen, which is not a verdict on the seed. kInvalidArgument for options out of range.
Result<SimResult> RunSimulation(const SimOptions& options);

}  // namespace tapstack::sim
