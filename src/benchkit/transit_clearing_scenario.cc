#include "benchkit/transit_clearing_scenario.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <span>

#include "benchkit/scenario_options.h"
#include "demo/demo_keys.h"
#include "store/sqlite_store.h"

namespace tapstack::benchkit {

namespace {

// Records made before the clock starts (~330 bytes each in memory).
constexpr std::int64_t kRecordsMax = 3'000'000;

}  // namespace

TransitClearingScenario::TransitClearingScenario() = default;

TransitClearingScenario::~TransitClearingScenario() {
  clearing_.reset();  // close (and delete) the database before the directory goes
  dir_.reset();
}

std::vector<ScenarioOption> TransitClearingScenario::options() const {
  return {{"--city", "T-Union city code of the cards and the clearing centre", "1000"},
          {"--records",
           "Distinct records made before the clock starts (1.." + std::to_string(kRecordsMax) + ")",
           "1000000"},
          {"--batch",
           "Records per upload batch (1.." + std::to_string(transit::kUploadRecordsMax) + ")",
           std::to_string(transit::kUploadRecordsMax)}};
}

Status TransitClearingScenario::Setup(const ScenarioConfig& config) {
  Result<std::shared_ptr<const transit::CityNetwork>> city =
      LoadTransitCity(config.options.at("--city"));
  if (!city.ok()) return InvalidArgument("--city: " + city.status().message());
  city_ = std::move(*city);
  TS_ASSIGN_OR_RETURN(const std::int64_t records, IntOption(config, "--records", 1, kRecordsMax));
  TS_ASSIGN_OR_RETURN(batch_, IntOption(config, "--batch", 1,
                                        static_cast<std::int64_t>(transit::kUploadRecordsMax)));
  spdlog::set_level(spdlog::level::warn);
  std::fprintf(stderr, "transit-clearing: making %lld records with their TACs…\n",
               static_cast<long long>(records));
  TS_ASSIGN_OR_RETURN(records_, MakeClearingRecords(*city_, records, kTransitClearingCards));
  TS_ASSIGN_OR_RETURN(dir_, MemoryScratchDir::Create("tapstack-bench-transit-clearing"));
  TS_ASSIGN_OR_RETURN(clearing_, OpenDatabase(0));
  return Status::Ok();
}

Result<std::shared_ptr<transit::Clearing>> TransitClearingScenario::OpenDatabase(
    std::int64_t cycle) {
  const std::filesystem::path dir = dir_->path() / ("db-" + std::to_string(cycle));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(dir.string() + ": cannot create directory: " + ec.message());
  transit::ClearingOptions options;
  options.city = city_;
  options.tac_master_key = demo::DemoTransitKey(city_->city_code(), "tac");
  TS_ASSIGN_OR_RETURN(options.store,
                      store::OpenSqlite(dir, "transit_" + city_->city_code() + "_clearing"));
  TS_ASSIGN_OR_RETURN(std::unique_ptr<transit::Clearing> clearing,
                      transit::Clearing::Open(std::move(options)));
  return std::shared_ptr<transit::Clearing>(clearing.release(), [dir](transit::Clearing* c) {
    delete c;
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
}

Status TransitClearingScenario::RunOnce(int /*thread*/) {
  std::shared_ptr<transit::Clearing> clearing;
  std::span<const transit::TransitRecord> batch;
  std::string batch_id;
  {
    std::lock_guard lock(mu_);
    const std::int64_t total = static_cast<std::int64_t>(records_.size());
    std::int64_t at = next_batch_ * batch_;
    if (at >= total) {  // every record cleared: a fresh database takes them again
      TS_ASSIGN_OR_RETURN(clearing_, OpenDatabase(cycle_ + 1));
      ++cycle_;
      next_batch_ = 0;
      at = 0;
    }
    clearing = clearing_;
    batch = std::span<const transit::TransitRecord>(records_).subspan(
        static_cast<std::size_t>(at), static_cast<std::size_t>(std::min(batch_, total - at)));
    batch_id = "batch-" + std::to_string(next_batch_++);
  }
  TS_ASSIGN_OR_RETURN(const transit::UploadResult result, clearing->ClearUpload(batch_id, batch));
  {
    std::lock_guard lock(mu_);
    accepted_ += result.accepted;
    duplicates_ += result.duplicates;
    rejected_ += result.rejected;
  }
  if (result.accepted != static_cast<std::int64_t>(batch.size())) {
    return FailedPrecondition(
        batch_id + ": expected " + std::to_string(batch.size()) + " records accepted, got " +
        std::to_string(result.accepted) + " (" + std::to_string(result.duplicates) +
        " duplicates, " + std::to_string(result.rejected) + " rejected" +
        (result.rejections.empty() ? "" : "; first: " + result.rejections.front()) + ")");
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> TransitClearingScenario::details() const {
  std::lock_guard lock(mu_);
  std::string anomalies = "unknown";
  std::string cleared = "unknown";
  if (clearing_ != nullptr) {
    const Result<std::vector<transit::Anomaly>> a = clearing_->Anomalies();
    anomalies = a.ok() ? std::to_string(a->size()) : a.status().ToString();
    const Result<std::int64_t> c = clearing_->ClearedRecords();
    cleared = c.ok() ? std::to_string(*c) : c.status().ToString();
  }
  return {{"city", city_->city_code() + " " + city_->name()},
          {"records", std::to_string(records_.size()) + " made ahead (" +
                          std::to_string(kTransitClearingCards) + " cards), batches of " +
                          std::to_string(batch_)},
          {"databases",
           std::to_string(cycle_ + 1) + " (a fresh one each time all records were cleared)"},
          {"verdicts", std::to_string(accepted_) + " accepted, " + std::to_string(duplicates_) +
                           " duplicates, " + std::to_string(rejected_) + " rejected"},
          {"last database", cleared + " records cleared, " + anomalies + " anomalies"}};
}

}  // namespace tapstack::benchkit
