#include "benchkit/e2e_contactless_scenario.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "benchkit/scenario_options.h"

namespace tapstack::benchkit {

namespace {

// Above the measured peak (6.2 k/s on the 2-core machine, docs/PERFORMANCE.md) with room: the
// phones an unpaced run binds are sized for this rate over --seconds.
constexpr double kTapsPerSecondAssumedMax = 20'000;

}  // namespace

std::vector<ScenarioOption> E2eContactlessScenario::options() const {
  return {{"--devices", "Phones with a bound token, at least (more are bound when the run's bounds need them)", "128"},
          {"--taps-ahead", "Taps waiting per connection, made before the clock starts and refilled on a thread",
           "512"},
          {"--connections", "Terminal connections to the switch", "8"},
          {"--in-flight", "Outstanding authorisations per connection", "16"}};
}

Status E2eContactlessScenario::Setup(const ScenarioConfig& config) {
  TS_ASSIGN_OR_RETURN(const std::int64_t devices, IntOption(config, "--devices", 1, kE2eDevicesMax));
  TS_ASSIGN_OR_RETURN(const std::int64_t ahead, IntOption(config, "--taps-ahead", 1, kE2eTapsAheadMax));
  TS_ASSIGN_OR_RETURN(const std::int64_t connections, IntOption(config, "--connections", 1, kE2eConnectionsMax));
  TS_ASSIGN_OR_RETURN(const std::int64_t in_flight, IntOption(config, "--in-flight", 1, kE2eInFlightMax));
  load_options_.contactless_devices = static_cast<int>(devices);
  load_options_.taps_ahead = static_cast<int>(ahead);
  load_options_.connections = static_cast<int>(connections);
  load_options_.in_flight = static_cast<int>(in_flight);
  load_options_.refill_taps = true;
  // The most taps the run can ask for: phones are bound for that many.
  const double rate = config.limits.rate > 0 ? config.limits.rate : kTapsPerSecondAssumedMax;
  const double by_time = config.limits.seconds * rate;
  load_options_.taps_expected = static_cast<std::int64_t>(
      std::min(static_cast<double>(config.limits.count), std::ceil(by_time)));
  load_options_.data_dir = config.scratch_dir;
  TS_ASSIGN_OR_RETURN(phones_dir_, MemoryScratchDir::Create("tapstack-bench-e2e-phones"));
  load_options_.phones_dir = phones_dir_->path();
  spdlog::set_level(spdlog::level::warn);
  std::fprintf(stderr, "e2e-contactless: starting the network and binding at least %d phones…\n",
               load_options_.contactless_devices);
  TS_ASSIGN_OR_RETURN(load_, E2eAuthorizationLoad::Start(load_options_));
  return Status::Ok();
}

Status E2eContactlessScenario::RunOnce(int /*thread*/) {
  return FailedPrecondition("e2e-contactless runs through Drive");
}

void E2eContactlessScenario::Drive(int thread, OperationSink& sink) {
  if (thread == 0) load_->Drive(sink);
}

std::vector<std::pair<std::string, std::string>> E2eContactlessScenario::details() const {
  const E2eOutcomes o = load_->outcomes();
  const double answered = static_cast<double>(o.approved + o.declined + o.unknown);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.2f%%", answered > 0 ? 100.0 * static_cast<double>(o.approved) / answered : 0.0);
  std::string codes;
  for (const auto& [code, n] : o.decline_codes) codes += code + "×" + std::to_string(n) + " ";
  const Status audit = load_->AuditLedger();
  const std::string refill_error = load_->refill_error();
  return {{"load", std::to_string(load_->phones()) + " phones (≤ " + std::to_string(kE2eTapsPerPhoneMax) +
                       " taps each), " + std::to_string(load_options_.connections) + " connections × " +
                       std::to_string(load_options_.in_flight) + " in flight"},
          {"taps made", std::to_string(load_->taps_total()) + " (" + std::to_string(load_options_.taps_ahead) +
                            " ahead per connection, refilled on a thread" +
                            (refill_error.empty() ? ")" : "; refill failed: " + refill_error + ")")},
          {"approved", std::to_string(o.approved) + " (" + rate + ")"},
          {"declined", std::to_string(o.declined) + (codes.empty() ? "" : " by DE39: " + codes)},
          {"unanswered", std::to_string(o.unknown)},
          {"ledger audit", audit.ok() ? "ok" : audit.ToString()}};
}

}  // namespace tapstack::benchkit
