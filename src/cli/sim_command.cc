#include "cli/sim_command.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/usage_error.h"
#include "sim/simulation.h"

namespace tapstack::cli {

namespace {

struct SimCommandOptions {
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::int64_t seeds = 0;
  std::uint64_t first = 1;
  int transactions = sim::kTransactionsDefault;
  std::int64_t steps_max = sim::kStepsMaxDefault;
  int dcep_payments = sim::kDcepPaymentsDefault;  // 0: no digital-currency part
  int transit_taps = sim::kTransitTapsDefault;    // 0: no transit part
  bool trace = false;
  bool json = false;
};

std::string Reproduce(std::uint64_t seed) { return "tapstack sim --seed " + std::to_string(seed) + " --trace"; }

void PrintRun(const sim::SimResult& r, const SimCommandOptions& o) {
  if (o.trace) {
    for (const std::string& line : r.trace) std::cout << line << "\n";
  }
  if (o.json) {
    std::cout << r.ToJson() << "\n";
    return;
  }
  std::cout << "seed         " << r.seed << "\n";
  std::cout << "trace hash   " << r.trace_hash << "\n";
  std::cout << "steps        " << r.steps << " (" << r.simulated_ms << " ms simulated, " << static_cast<std::int64_t>(r.wall_ms)
            << " ms wall)\n";
  std::cout << "counts      ";
  for (const auto& [name, count] : r.counts) std::cout << " " << name << "=" << count;
  std::cout << "\n";
  std::cout << "faults       " << (r.faults.empty() ? "link faults only" : "") << "\n";
  for (const std::string& f : r.faults) std::cout << "  " << f << "\n";
  std::cout << "verdict      " << (r.ok() ? "pass" : "FAIL") << "\n";
  for (const sim::Violation& v : r.violations) std::cout << "  " << v.ToString() << "\n";
  if (!r.ok()) std::cout << "reproduce    " << Reproduce(r.seed) << "\n";
}

void RunSim(const SimCommandOptions& o) {
  if (o.seed_given == (o.seeds > 0)) throw UsageError("sim: give either --seed N or --seeds K");
  sim::SimOptions options;
  options.transactions = o.transactions;
  options.steps_max = o.steps_max;
  options.dcep = o.dcep_payments > 0;
  if (options.dcep) options.dcep_payments = o.dcep_payments;
  options.transit = o.transit_taps > 0;
  if (options.transit) options.transit_taps = o.transit_taps;
  options.keep_trace = o.trace;
  if (o.seed_given) {
    options.seed = o.seed;
    Result<sim::SimResult> r = sim::RunSimulation(options);
    if (!r.ok()) {
      if (r.status().code() == ErrorCode::kInvalidArgument) throw UsageError(r.status().message());
      std::cerr << "tapstack sim: " << r.status().ToString() << "\n";
      throw ExitWithCode(kExitFailure, "set-up failed");
    }
    PrintRun(*r, o);
    std::cout.flush();
    if (!r->ok()) throw ExitWithCode(kExitFailure, "invariant violated");
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  std::int64_t failed = 0;
  for (std::int64_t k = 0; k < o.seeds; ++k) {
    options.seed = o.first + static_cast<std::uint64_t>(k);
    Result<sim::SimResult> r = sim::RunSimulation(options);
    if (!r.ok()) {
      if (r.status().code() == ErrorCode::kInvalidArgument) throw UsageError(r.status().message());
      ++failed;
      std::cout << "seed " << options.seed << " set-up failed: " << r.status().ToString() << "\n";
      continue;
    }
    if (o.json) {
      std::cout << r->ToJson() << "\n";
    } else if (!r->ok()) {
      std::cout << "seed " << options.seed << " FAIL (" << Reproduce(options.seed) << ")\n";
      for (const sim::Violation& v : r->violations) std::cout << "  " << v.ToString() << "\n";
    }
    if (!r->ok()) ++failed;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!o.json) {
    std::printf("%lld seeds (%llu..%llu), %lld failed, %.1f s (%.1f ms per seed)\n", static_cast<long long>(o.seeds),
                static_cast<unsigned long long>(o.first), static_cast<unsigned long long>(o.first + o.seeds - 1),
                static_cast<long long>(failed), seconds, seconds * 1000 / static_cast<double>(o.seeds));
  }
  std::fflush(stdout);
  std::cout.flush();
  if (failed > 0) throw ExitWithCode(kExitFailure, "seeds failed");
}

}  // namespace

void RegisterSimCommand(CLI::App& app) {
  auto opts = std::make_shared<SimCommandOptions>();
  CLI::App* sim = app.add_subcommand("sim", "deterministic fault simulation of the card network, digital currency and transit");
  sim->add_option_function<std::uint64_t>(
      "--seed", [opts](std::uint64_t v) { opts->seed = v; opts->seed_given = true; }, "run this seed once");
  sim->add_option("--seeds", opts->seeds, "run this many seeds")->check(CLI::Range(1, 1'000'000));
  sim->add_option("--first", opts->first, "first seed of --seeds (default 1)");
  sim->add_option("--transactions", opts->transactions, "transactions per seed")
      ->check(CLI::Range(1, sim::kTransactionsMax));
  sim->add_option("--steps-max", opts->steps_max, "events processed at most per seed")
      ->check(CLI::Range(static_cast<std::int64_t>(1), static_cast<std::int64_t>(1'000'000'000)));
  sim->add_option("--dcep-payments", opts->dcep_payments,
                  "offline digital-currency payments per seed (0: card network only)")
      ->check(CLI::Range(0, sim::kDcepPaymentsMax));
  sim->add_option("--transit-taps", opts->transit_taps, "transit gate taps per seed (0: no transit part)")
      ->check(CLI::Range(0, sim::kTransitTapsMax));
  sim->add_flag("--trace", opts->trace, "print every event of the run");
  sim->add_flag("--json", opts->json, "one JSON object per seed");
  sim->callback([opts] { RunSim(*opts); });
}

}  // namespace tapstack::cli
