// Scenario: one thing `tapstack bench` measures (a codec, a cryptogram, a whole network), the
// operation the Runner times and, where one exists, the peer it is compared with.
//
// Life of a scenario: constructed (cheap: no work), Setup once with the parsed options, then the
// Runner calls Drive once per worker thread at the same time, then MeasurePeer (after the run, so
// the peer does not share the CPU with it). A scenario object is used for one run only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "benchkit/operation_sink.h"
#include "core/status.h"

namespace tapstack::benchkit {

// A scenario-specific command-line option, e.g. {"--profile", "ISO 8583 wire profile", "ascii"}.
struct ScenarioOption {
  std::string name;           // with its dashes: "--profile"
  std::string help;
  std::string default_value;  // as text; also what Setup sees when the option is not given
};

// How a run is bounded; both bounds always apply, the first reached ends the run.
struct RunLimits {
  double seconds = 10;                 // wall-clock bound of the measured run (> 0)
  std::int64_t count = 10'000'000;     // operations bound (> 0)
  int threads = 1;                     // worker threads calling Drive (1..kThreadsMax)
  // Soak mode: operation k (0, 1, …, over all workers) may start no earlier than k / rate seconds
  // after the run starts; 0 = as fast as possible. At most kRateMax.
  double rate = 0;
};

inline constexpr int kThreadsMax = 256;
inline constexpr double kRateMax = 10'000'000;  // ops/s; above it pacing is below clock resolution

struct ScenarioConfig {
  RunLimits limits;
  // Every option of options(), by name with dashes, default filled in.
  std::map<std::string, std::string> options;
  // An empty directory the scenario may use for its files (removed after the run).
  std::filesystem::path scratch_dir;
};

// The figure a scenario is compared with, e.g. npm iso_8583 on the same message.
struct PeerFigure {
  bool available = false;       // false: `note` says why (node missing, no PostgreSQL URL, …)
  std::string name;             // "npm iso_8583 2.6.7 (node v20.20.2)"
  double ops_per_second = 0;    // in the scenario's own unit of operation
  std::string note;             // how it was measured, or why it is unavailable
};

class Scenario {
 public:
  virtual ~Scenario() = default;

  // "iso8583-codec": the CLI subcommand and the file names of the results.
  virtual std::string_view name() const = 0;
  // One line: what one operation is.
  virtual std::string_view description() const = 0;
  virtual std::vector<ScenarioOption> options() const { return {}; }
  // Items one operation carries (a ledger request of 8190 transfers: 8190), known after Setup;
  // the report shows items/s next to ops/s when it is not 1. The peer's figure is in ops too.
  virtual std::int64_t items_per_op() const { return 1; }
  virtual std::string_view item_name() const { return "ops"; }

  // Builds everything the operations need (keys, messages, servers). Errors: a bad option value
  // (kInvalidArgument naming the option) or a failed set-up step.
  virtual Status Setup(const ScenarioConfig& config) = 0;

  // One operation on worker `thread` (0..threads-1); called from all workers at once, each with
  // its own index. Used by the default Drive.
  virtual Status RunOnce(int thread) = 0;

  // The worker loop: while sink.Claim(), do one operation and sink.Complete it with its latency.
  // The default times RunOnce; a scenario with operations in flight (requests over TCP)
  // overrides it and completes each operation from wherever its answer arrives.
  virtual void Drive(int thread, OperationSink& sink);

  // Scenario-specific results shown after the run, e.g. {"approved", "100%"} (read after the
  // run, from the caller's thread).
  virtual std::vector<std::pair<std::string, std::string>> details() const { return {}; }

  // True when the scenario has a peer (even if it turns out unavailable on this machine).
  virtual bool has_peer() const { return false; }
  // Measures the peer within `limits` (the same bounds as the run). Never silently empty: an
  // unavailable peer comes back with available = false and the reason in `note`.
  virtual PeerFigure MeasurePeer(const RunLimits& limits);
};

}  // namespace tapstack::benchkit
