// `transit-clearing`: a city operator's clearing centre taking uploaded trip records
// (transit::Clearing, shared/design/domain/transit-purse.md section 12): per record the TAC
// recomputed with the card's key, de-duplication on (card, counter, PSAM, PSAM sequence), counter
// reuse and balance continuity; one commit per batch. One op = one upload batch of --batch
// records (items = records). The --records records (kTransitClearingCards cards, consecutive
// counters) are made before the clock starts; when every one has been cleared the next batch
// goes to a fresh clearing database (a new store file; the old one is deleted untimed), so runs
// are bounded only by --seconds and --count, and the de-duplication table never holds more than
// --records. Data on /dev/shm when it exists. MakeClearingRecords is shared with
// bench/transit_bench.cc. No peer.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "benchkit/scenario.h"
#include "benchkit/transit_workload.h"
#include "transit/clearing.h"

namespace tapstack::benchkit {

class TransitClearingScenario : public Scenario {
 public:
  TransitClearingScenario();
  ~TransitClearingScenario() override;
  std::string_view name() const override { return "transit-clearing"; }
  std::string_view description() const override {
    return "clear one upload batch of trip records: TAC, de-duplication, continuity, one commit";
  }
  std::vector<ScenarioOption> options() const override;
  std::int64_t items_per_op() const override { return batch_; }
  std::string_view item_name() const override { return "records"; }
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  std::vector<std::pair<std::string, std::string>> details() const override;

 private:
  // The current clearing database (shared: a batch still running on the previous one keeps it
  // open; the last holder deletes its directory).
  Result<std::shared_ptr<transit::Clearing>> OpenDatabase(std::int64_t cycle);

  std::shared_ptr<const transit::CityNetwork> city_;
  std::int64_t batch_ = static_cast<std::int64_t>(transit::kUploadRecordsMax);
  std::vector<transit::TransitRecord> records_;
  std::unique_ptr<MemoryScratchDir> dir_;

  mutable std::mutex mu_;  // everything below
  std::shared_ptr<transit::Clearing> clearing_;
  std::int64_t cycle_ = 0;       // databases opened so far - 1
  std::int64_t next_batch_ = 0;  // in the current database
  std::int64_t accepted_ = 0;
  std::int64_t duplicates_ = 0;
  std::int64_t rejected_ = 0;
};

}  // namespace tapstack::benchkit
