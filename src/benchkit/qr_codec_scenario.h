// `qr`: decoding + full validation of an EMVCo QR payload, as a wallet scanning a merchant's code
// (MPM) or a terminal scanning a phone's code (CPM) does. The payloads are shared with
// bench/qr_bench.cc. No peer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "benchkit/scenario.h"

namespace tapstack::benchkit {

// A dynamic merchant-presented payload (EMVCo MPM v1.0 Annex B example, 166 characters / 182
// bytes with Chinese text).
extern const std::string_view kQrBenchMpmPayload;
// A consumer-presented payload (EMVCo CPM v1.0 Annex B.2, base64).
extern const std::string_view kQrBenchCpmPayload;

class QrCodecScenario : public Scenario {
 public:
  std::string_view name() const override { return "qr"; }
  std::string_view description() const override {
    return "EMVCo QR decode + full validation of one payload (MPM or CPM)";
  }
  std::vector<ScenarioOption> options() const override;
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;

 private:
  bool cpm_ = false;
};

}  // namespace tapstack::benchkit
