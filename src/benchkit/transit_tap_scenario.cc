#include "benchkit/transit_tap_scenario.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "benchkit/scenario_options.h"

namespace tapstack::benchkit {

namespace {

constexpr std::int64_t kPhonesPerRigMax = 1000;

}  // namespace

TransitTapScenario::TransitTapScenario() = default;

TransitTapScenario::~TransitTapScenario() {
  rigs_.clear();  // close the SQLite files before their directory goes
  dir_.reset();
}

std::vector<ScenarioOption> TransitTapScenario::options() const {
  return {{"--city",
           "T-Union city code of seed/transit_cities.json (1000 Beijing, 2000 Shanghai, 3310 "
           "Hangzhou: bus…)",
           "1000"},
          {"--phones", "Phones per worker thread, tapping in turn (1..1000)",
           std::to_string(kTransitRigPhonesDefault)}};
}

Status TransitTapScenario::Setup(const ScenarioConfig& config) {
  Result<std::shared_ptr<const transit::CityNetwork>> city =
      LoadTransitCity(config.options.at("--city"));
  if (!city.ok()) return InvalidArgument("--city: " + city.status().message());
  city_ = std::move(*city);
  TS_ASSIGN_OR_RETURN(const std::int64_t phones,
                      IntOption(config, "--phones", 1, kPhonesPerRigMax));
  phones_ = static_cast<int>(phones);
  spdlog::set_level(spdlog::level::warn);
  TS_ASSIGN_OR_RETURN(dir_, MemoryScratchDir::Create("tapstack-bench-transit-tap"));
  for (int t = 0; t < config.limits.threads; ++t) {
    TS_ASSIGN_OR_RETURN(
        std::unique_ptr<TransitGateRig> rig,
        TransitGateRig::Open(city_, dir_->path() / ("rig-" + std::to_string(t)), t, phones_));
    rigs_.push_back(std::move(rig));
  }
  apdus_.assign(rigs_.size(), 0);
  refused_.assign(rigs_.size(), 0);
  return Status::Ok();
}

Status TransitTapScenario::RunOnce(int /*thread*/) {
  return FailedPrecondition("transit-tap runs through Drive");
}

void TransitTapScenario::Drive(int thread, OperationSink& sink) {
  const std::size_t t = static_cast<std::size_t>(thread);
  TransitGateRig& rig = *rigs_[t];
  while (sink.Claim()) {
    const auto start = std::chrono::steady_clock::now();
    const GateTap tap = rig.Tap();
    const std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count();
    apdus_[t] += tap.card_apdus;
    Status status = rig.AfterTap(tap);
    if (!tap.result.open) {
      ++refused_[t];
      status = FailedPrecondition("gate refused the tap: " + tap.result.reason);
    }
    sink.Complete(ns, status);
  }
}

std::vector<std::pair<std::string, std::string>> TransitTapScenario::details() const {
  std::int64_t taps = 0, apdus = 0, refused = 0, cards = 0, fares = 0;
  for (std::size_t t = 0; t < rigs_.size(); ++t) {
    taps += rigs_[t]->taps();
    cards += rigs_[t]->cards_issued();
    fares += rigs_[t]->fares_fen();
    apdus += apdus_[t];
    refused += refused_[t];
  }
  char per_tap[32];
  std::snprintf(per_tap, sizeof per_tap, "%.1f",
                taps > 0 ? static_cast<double>(apdus) / static_cast<double>(taps) : 0.0);
  char fares_text[48];
  std::snprintf(fares_text, sizeof fares_text, "%lld.%02lld CNY",
                static_cast<long long>(fares / 100), static_cast<long long>(fares % 100));
  return {{"city", city_->city_code() + " " + city_->name()},
          {"load",
           std::to_string(rigs_.size()) + " gate rigs × " + std::to_string(phones_) + " phones"},
          {"taps", std::to_string(taps) + " (" + std::to_string(refused) + " refused), " + per_tap +
                       " card APDUs per tap"},
          {"fares", fares_text},
          {"cards issued", std::to_string(cards) + " (new cards replace those running low)"},
          {"data", dir_ != nullptr ? dir_->path().parent_path().string() : ""}};
}

}  // namespace tapstack::benchkit
