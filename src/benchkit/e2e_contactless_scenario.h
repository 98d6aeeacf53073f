// `e2e-contactless`: contactless token authorisations end to end over TCP, one process: phones'
// taps → terminals → switch → TSP (token state, domain, ATC window, ARQC, de-tokenisation,
// durable) → issuer host (durable hold) → ARPC back. One op = one answered authorisation. The
// taps are made outside the timed authorisation: --taps-ahead per connection before the clock
// starts, then by a refill thread as the run uses them, so runs are bounded by --seconds and
// --count only (E2eAuthorizationLoad, refilled taps). The phones' files are on /dev/shm when it
// exists (their ATC commits are not the network's figure); the network's are in the scratch
// directory (TMPDIR). No peer: public figures are in
// docs/PERFORMANCE.md.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "benchkit/e2e_authorization_load.h"
#include "benchkit/memory_scratch_dir.h"
#include "benchkit/scenario.h"

namespace tapstack::benchkit {

inline constexpr std::int64_t kE2eDevicesMax = 10'000;
inline constexpr std::int64_t kE2eConnectionsMax = 256;
inline constexpr std::int64_t kE2eInFlightMax = 1'024;

class E2eContactlessScenario : public Scenario {
 public:
  std::string_view name() const override { return "e2e-contactless"; }
  std::string_view description() const override {
    return "contactless token authorisation: terminal → switch → TSP → issuer over TCP, durable";
  }
  std::vector<ScenarioOption> options() const override;
  Status Setup(const ScenarioConfig& config) override;
  // Not used: Drive sends the load (worker 0; other workers return at once).
  Status RunOnce(int thread) override;
  void Drive(int thread, OperationSink& sink) override;
  std::vector<std::pair<std::string, std::string>> details() const override;

 private:
  std::unique_ptr<MemoryScratchDir> phones_dir_;  // destroyed after the load
  std::unique_ptr<E2eAuthorizationLoad> load_;
  E2eLoadOptions load_options_;
  std::string audit_;
};

}  // namespace tapstack::benchkit
