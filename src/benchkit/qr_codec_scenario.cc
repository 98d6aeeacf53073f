#include "benchkit/qr_codec_scenario.h"

#include "qr/cpm.h"
#include "qr/mpm.h"

namespace tapstack::benchkit {

const std::string_view kQrBenchMpmPayload =
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN"
    "5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412"
    "340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

const std::string_view kQrBenchCpmPayload =
    "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0"
    "xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==";

std::vector<ScenarioOption> QrCodecScenario::options() const {
  return {{"--kind", "Payload: mpm (merchant-presented) or cpm (consumer-presented)", "mpm"}};
}

Status QrCodecScenario::Setup(const ScenarioConfig& config) {
  const std::string& kind = config.options.at("--kind");
  if (kind != "mpm" && kind != "cpm") {
    return InvalidArgument("--kind: expected mpm or cpm, got \"" + kind + "\"");
  }
  cpm_ = kind == "cpm";
  return RunOnce(0).WithContext("the benchmark payload");
}

Status QrCodecScenario::RunOnce(int /*thread*/) {
  if (cpm_) {
    const qr::CpmDecoded decoded = qr::DecodeCpm(kQrBenchCpmPayload);
    return decoded.valid() ? Status::Ok() : decoded.status();
  }
  const qr::MpmDecoded decoded = qr::DecodeMpm(kQrBenchMpmPayload);
  return decoded.valid() ? Status::Ok() : decoded.status();
}

}  // namespace tapstack::benchkit
