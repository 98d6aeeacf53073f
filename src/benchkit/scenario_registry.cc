#include "benchkit/scenario_registry.h"

#include <string>

#include "benchkit/arqc_scenario.h"
#include "benchkit/dcep_offline_verify_scenario.h"
#include "benchkit/dcep_online_scenario.h"
#include "benchkit/e2e_contactless_scenario.h"
#include "benchkit/iso8583_codec_scenario.h"
#include "benchkit/ledger_scenario.h"
#include "benchkit/provisioning_scenario.h"
#include "benchkit/qr_codec_scenario.h"
#include "benchkit/transit_clearing_scenario.h"
#include "benchkit/transit_tap_scenario.h"

namespace tapstack::benchkit {

std::vector<std::unique_ptr<Scenario>> AllScenarios() {
  std::vector<std::unique_ptr<Scenario>> all;
  all.push_back(std::make_unique<Iso8583CodecScenario>());
  all.push_back(std::make_unique<ArqcScenario>());
  all.push_back(std::make_unique<DcepOfflineVerifyScenario>());
  all.push_back(std::make_unique<LedgerScenario>());
  all.push_back(std::make_unique<E2eContactlessScenario>());
  all.push_back(std::make_unique<ProvisioningScenario>());
  all.push_back(std::make_unique<QrCodecScenario>());
  all.push_back(std::make_unique<TransitTapScenario>());
  all.push_back(std::make_unique<TransitClearingScenario>());
  all.push_back(std::make_unique<DcepOnlineScenario>());
  return all;
}

Result<std::unique_ptr<Scenario>> MakeScenario(std::string_view name) {
  std::string known;
  for (std::unique_ptr<Scenario>& s : AllScenarios()) {
    if (s->name() == name) return std::move(s);
    known += (known.empty() ? "" : ", ") + std::string(s->name());
  }
  return NotFound("scenario \"" + std::string(name) + "\": expected one of " + known);
}

}  // namespace tapstack::benchkit
