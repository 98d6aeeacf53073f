#include "benchkit/e2e_contactless_scenario.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace tapstack::benchkit {

namespace {

Result<int> PositiveInt(const ScenarioConfig& config, const std::string& option) {
  const std::string& text = config.options.at(option);
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  return InvalidArgument(option + ": expected a positive integer, got \"" + text + "\"");
}

}  // namespace

std::vector<ScenarioOption> E2eContactlessScenario::options() const {
  return {{"--devices", "Phones with a bound token (taps made before the clock starts)", "128"},
          {"--taps-per-device", "Taps each phone makes (the load ends when all are answered)", "60"},
          {"--connections", "Terminal connections to the switch", "8"},
          {"--in-flight", "Outstanding authorisations per connection", "16"}};
}

Status E2eContactlessScenario::Setup(const ScenarioConfig& config) {
  TS_ASSIGN_OR_RETURN(load_options_.contactless_devices, PositiveInt(config, "--devices"));
  TS_ASSIGN_OR_RETURN(load_options_.taps_per_device, PositiveInt(config, "--taps-per-device"));
  TS_ASSIGN_OR_RETURN(load_options_.connections, PositiveInt(config, "--connections"));
  TS_ASSIGN_OR_RETURN(load_options_.in_flight, PositiveInt(config, "--in-flight"));
  load_options_.data_dir = config.scratch_dir;
  spdlog::set_level(spdlog::level::warn);
  std::fprintf(stderr, "e2e-contactless: starting the network and binding %d phones…\n",
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
  return {{"load", std::to_string(load_options_.contactless_devices) + " phones × " +
                       std::to_string(load_options_.taps_per_device) + " taps, " +
                       std::to_string(load_options_.connections) + " connections × " +
                       std::to_string(load_options_.in_flight) + " in flight"},
          {"approved", std::to_string(o.approved) + " (" + rate + ")"},
          {"declined", std::to_string(o.declined) + (codes.empty() ? "" : " by DE39: " + codes)},
          {"unanswered", std::to_string(o.unknown)},
          {"ledger audit", audit.ok() ? "ok" : audit.ToString()}};
}

}  // namespace tapstack::benchkit
