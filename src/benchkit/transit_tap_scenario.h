// `transit-tap`: one gate tap in process, the whole offline exchange of
// shared/design/domain/transit-purse.md sections 7-9: the gate's APDUs to the phone's purse
// applet (SELECT, READ BINARY ×2, READ RECORD, INITIALIZE FOR CAPP PURCHASE, UPDATE CAPP DATA
// CACHE, DEBIT FOR CAPP PURCHASE, each card state change committed in the phone's SQLite file),
// its PSAM (INIT SAM, CREDIT SAM) and its own commits (grey record, record). Phones tap an entry
// then an exit gate of the city's first metro line (a bus validator in a city without metro).
// One op = one tap; a refused tap is a failed op. Each worker thread has its own gates and
// phones. Data on /dev/shm when it exists (the figure is CPU, not disk). TransitGateRig is
// shared with bench/transit_bench.cc. No peer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "benchkit/scenario.h"
#include "benchkit/transit_workload.h"

namespace tapstack::benchkit {

class TransitTapScenario : public Scenario {
 public:
  TransitTapScenario();
  ~TransitTapScenario() override;
  std::string_view name() const override { return "transit-tap"; }
  std::string_view description() const override {
    return "one gate tap in process: purse applet APDUs, PSAM, the gate's and the card's commits";
  }
  std::vector<ScenarioOption> options() const override;
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  // Times the tap only; a card running low is replaced and full gates upload after it, untimed.
  void Drive(int thread, OperationSink& sink) override;
  std::vector<std::pair<std::string, std::string>> details() const override;

 private:
  std::shared_ptr<const transit::CityNetwork> city_;
  int phones_ = kTransitRigPhonesDefault;
  std::vector<std::unique_ptr<TransitGateRig>> rigs_;  // one per worker thread
  std::vector<std::int64_t> apdus_;                    // per worker thread
  std::vector<std::int64_t> refused_;                  // per worker thread
  std::unique_ptr<MemoryScratchDir> dir_;              // last: removed after the rigs close
};

}  // namespace tapstack::benchkit
