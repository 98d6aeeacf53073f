#include "sim/simulation.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "sim/card_run.h"
#include "sim/dcep_part.h"
#include "sim/transit_part.h"

namespace tapstack::sim {

namespace {

std::filesystem::path DataRoot(const SimOptions& options) {
  if (!options.data_root.empty()) return options.data_root;
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// spdlog's level for the duration of a run: the roles' info and warnings (stand-in, timeouts) are
// expected here; the trace says what happened.
class QuietLogs {
 public:
  QuietLogs() : level_(spdlog::get_level()) { spdlog::set_level(std::getenv("TAPSTACK_SIM_LOGS") ? spdlog::level::info : spdlog::level::err); }
  ~QuietLogs() { spdlog::set_level(level_); }

 private:
  spdlog::level::level_enum level_;
};

}  // namespace

std::string SimResult::ToJson() const {
  nlohmann::json j;
  j["seed"] = seed;
  j["trace_hash"] = trace_hash;
  j["steps"] = steps;
  j["simulated_ms"] = simulated_ms;
  j["wall_ms"] = wall_ms;
  j["counts"] = counts;
  j["faults"] = faults;
  nlohmann::json v = nlohmann::json::array();
  for (const Violation& x : violations) v.push_back({{"invariant", x.invariant}, {"detail", x.detail}, {"step", x.step}});
  j["violations"] = v;
  j["verdict"] = ok() ? "pass" : "fail";
  return j.dump();
}

Result<SimResult> RunSimulation(const SimOptions& options) {
  if (options.transactions < 1 || options.transactions > kTransactionsMax) {
    return InvalidArgument("transactions: expected 1-" + std::to_string(kTransactionsMax));
  }
  if (options.steps_max < 1) return InvalidArgument("steps_max: expected at least 1");
  if (options.dcep && (options.dcep_payments < 1 || options.dcep_payments > kDcepPaymentsMax)) {
    return InvalidArgument("dcep_payments: expected 1-" + std::to_string(kDcepPaymentsMax));
  }
  if (options.transit && (options.transit_taps < 1 || options.transit_taps > kTransitTapsMax)) {
    return InvalidArgument("transit_taps: expected 1-" + std::to_string(kTransitTapsMax));
  }
  static std::atomic<std::uint64_t> run_counter{0};
  const auto started = std::chrono::steady_clock::now();
  const std::filesystem::path dir = DataRoot(options) / ("tapstack-sim-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(options.seed) + "-" +
                                                         std::to_string(run_counter++));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("sim: cannot create " + dir.string() + ": " + ec.message());
  SimResult result;
  {
    QuietLogs quiet;
    card::CardRun run(options, dir);
    Status status = run.SetUp();
    if (status.ok()) {
      run.Plan();
      status = run.Loop();
    }
    if (status.ok()) status = run.Corrupt();
    std::vector<Violation> dcep_violations;  // and the transit part's
    if (status.ok() && options.dcep) {
      DcepPartOptions dcep;
      dcep.payments = options.dcep_payments;
      dcep.faults = options.link_faults || options.crashes;
      dcep.force_clone = options.force_dcep_clone;
      dcep.corrupt_double_credit = options.corruption == TestCorruption::kDcepDoubleCredit;
      dcep.corrupt_unrecorded_payment =
          options.corruption == TestCorruption::kDcepUnrecordedPayment;
      status = RunDcepPart(run.world(), dir / "dcep", dcep, dcep_violations);
    }
    if (status.ok() && options.transit) {
      TransitPartOptions transit;
      transit.taps = options.transit_taps;
      transit.faults = options.link_faults || options.crashes;
      transit.corrupt_lost_batch = options.corruption == TestCorruption::kTransitLostBatch;
      status = RunTransitPart(run.world(), dir / "transit", transit, dcep_violations);
    }
    if (!status.ok()) {
      std::filesystem::remove_all(dir, ec);
      return status.WithContext("sim seed " + std::to_string(options.seed));
    }
    run.Gather(std::move(dcep_violations));
    result = std::move(run.result());
  }
  std::filesystem::remove_all(dir, ec);
  result.seed = options.seed;
  result.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace tapstack::sim
