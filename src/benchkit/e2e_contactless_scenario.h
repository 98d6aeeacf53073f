// `e2e-contactless`: contactless token authorisations end to end over TCP, one process: phones'
// taps made ahead → terminals → switch → TSP (token state, domain, ATC window, ARQC,
// de-tokenisation, durable) → issuer host (durable hold) → ARPC back. One op = one answered
// authorisation. No peer: public figures are in docs/PERFORMANCE.md.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "benchkit/e2e_authorization_load.h"
#include "benchkit/scenario.h"

namespace tapstack::benchkit {

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
  std::unique_ptr<E2eAuthorizationLoad> load_;
  E2eLoadOptions load_options_;
  std::string audit_;
};

}  // namespace tapstack::benchkit
