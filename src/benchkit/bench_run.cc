#include "benchkit/bench_run.h"

#include <cstdlib>
#include <filesystem>

#include "benchkit/runner.h"

namespace tapstack::benchkit {

namespace {

// mkdtemp under TMPDIR, removed when this goes out of scope.
class ScratchDir {
 public:
  static Result<ScratchDir> Create(std::string_view scenario) {
    std::string pattern = (std::filesystem::temp_directory_path() /
                           ("tapstack-bench-" + std::string(scenario) + "-XXXXXX"))
                              .string();
    if (mkdtemp(pattern.data()) == nullptr) return IoError(pattern + ": mkdtemp failed");
    return ScratchDir(pattern);
  }
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit ScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace

Result<RunResult> RunBench(Scenario& scenario, const BenchRequest& request, Progress* progress) {
  ScenarioConfig config;
  config.limits = request.limits;
  for (const ScenarioOption& o : scenario.options()) config.options[o.name] = o.default_value;
  for (const auto& [name, value] : request.options) {
    if (config.options.count(name) == 0) {
      return InvalidArgument(name + ": not an option of scenario " + std::string(scenario.name()));
    }
    config.options[name] = value;
  }
  // Checked before Setup, which may take long (keys, servers).
  TS_RETURN_IF_ERROR(CheckLimits(request.limits));
  TS_ASSIGN_OR_RETURN(ScratchDir scratch, ScratchDir::Create(scenario.name()));
  config.scratch_dir = scratch.path();
  TS_RETURN_IF_ERROR(scenario.Setup(config).WithContext(std::string(scenario.name()) + " setup"));

  RunResult result;
  result.scenario = std::string(scenario.name());
  result.description = std::string(scenario.description());
  result.limits = request.limits;
  result.options = config.options;
  result.items_per_op = scenario.items_per_op();
  result.item_name = std::string(scenario.item_name());
  TS_ASSIGN_OR_RETURN(result.measurement, RunScenario(scenario, request.limits, progress));
  result.details = scenario.details();
  result.has_peer = scenario.has_peer();
  if (result.has_peer) {
    if (request.measure_peer) {
      result.peer = scenario.MeasurePeer(request.limits);
    } else {
      result.peer.note = "skipped (--skip-peer)";
    }
    if (result.peer.available && result.peer.ops_per_second > 0) {
      result.peer_ratio = result.measurement.ops_per_second / result.peer.ops_per_second;
    }
  }
  return result;
}

}  // namespace tapstack::benchkit
