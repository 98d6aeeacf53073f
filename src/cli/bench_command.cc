#include "cli/bench_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "benchkit/bench_run.h"
#include "benchkit/progress.h"
#include "benchkit/report.h"
#include "benchkit/runner.h"
#include "benchkit/scenario_registry.h"
#include "cli/usage_error.h"

namespace tapstack::cli {

namespace {

struct BenchOptions {
  double seconds = 10;
  std::int64_t count = 10'000'000;
  int threads = 1;
  double rate = 0;
  std::string out = "bench-results";
  bool skip_peer = false;
  std::map<std::string, std::string> scenario_options;  // only those given
};

void RunList() {
  for (const auto& s : benchkit::AllScenarios()) {
    std::printf("%-22s %s\n", std::string(s->name()).c_str(), std::string(s->description()).c_str());
  }
}

void RunScenarioCommand(const std::string& name, const BenchOptions& opts) {
  std::unique_ptr<benchkit::Scenario> scenario = ValueOrUsageError(benchkit::MakeScenario(name), "scenario");
  benchkit::BenchRequest request;
  request.limits = {opts.seconds, opts.count, opts.threads, opts.rate};
  request.options = opts.scenario_options;
  request.measure_peer = !opts.skip_peer;
  OkOrUsageError(benchkit::CheckLimits(request.limits), "bench");
  benchkit::TerminalProgress progress(stderr, isatty(STDERR_FILENO) == 1);
  Result<benchkit::RunResult> result = benchkit::RunBench(*scenario, request, &progress);
  if (!result.ok()) {
    if (result.status().code() == ErrorCode::kInvalidArgument) throw UsageError(result.status().message());
    std::cerr << "tapstack bench " << name << ": " << result.status().ToString() << "\n";
    throw ExitWithCode(kExitFailure, "bench failed");
  }
  std::cout << benchkit::FormatText(*result);
  const Status written = benchkit::WriteReportFiles(*result, opts.out);
  if (!written.ok()) {
    std::cerr << "tapstack bench: " << written.ToString() << "\n";
    throw ExitWithCode(kExitFailure, "report not written");
  }
  std::cout << "  written      " << (std::filesystem::path(opts.out) / (name + ".json")).string() << ", "
            << (std::filesystem::path(opts.out) / (name + ".svg")).string() << "\n";
  std::cout.flush();
  if (result->measurement.errors > 0) throw ExitWithCode(kExitFailure, "operations failed");
}

}  // namespace

void RegisterBenchCommand(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmark scenarios with bounded runs (docs/PERFORMANCE.md)");
  bench->require_subcommand(1);
  CLI::App* list = bench->add_subcommand("list", "List the scenarios");
  list->callback([] { RunList(); });
  for (const auto& s : benchkit::AllScenarios()) {
    auto opts = std::make_shared<BenchOptions>();
    const std::string name(s->name());
    CLI::App* cmd = bench->add_subcommand(name, std::string(s->description()));
    cmd->add_option("--seconds", opts->seconds, "Time bound of the measured run (default 10)");
    cmd->add_option("--count", opts->count, "Operations bound (default 10000000)");
    cmd->add_option("--threads", opts->threads, "Worker threads (default 1)");
    cmd->add_option("--rate", opts->rate,
                    "Soak mode: start operations at this many per second in total (default 0: as fast as possible)");
    cmd->add_option("--out", opts->out, "Directory for <scenario>.json and .svg (default bench-results)");
    cmd->add_flag("--skip-peer", opts->skip_peer, "Do not measure the peer (reported as skipped)");
    for (const benchkit::ScenarioOption& o : s->options()) {
      cmd->add_option_function<std::string>(
          o.name, [opts, key = o.name](const std::string& v) { opts->scenario_options[key] = v; },
          o.default_value.empty() ? o.help : o.help + " (default " + o.default_value + ")");
    }
    cmd->callback([name, opts] { RunScenarioCommand(name, *opts); });
  }
}

}  // namespace tapstack::cli
