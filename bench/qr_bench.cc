// EMVCo QR codec throughput: decode + full validation of a typical dynamic merchant-presented
// payload (EMVCo MPM v1.0 Annex B example, 166 characters / 182 bytes with Chinese text), CPM
// decode + validation (EMVCo CPM v1.0 Annex B.2, base64), their encoders, and the CRC alone.
// One item = one payload.
#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>

#include "qr/cpm.h"
#include "qr/crc16.h"
#include "qr/mpm.h"

namespace {

using namespace tapstack::qr;

const std::string kMpm =
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN"
    "5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412"
    "340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

const std::string kCpm =
    "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0"
    "xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==";

void BM_MpmDecodeValidate(benchmark::State& state) {
  for (auto _ : state) {
    MpmDecoded decoded = DecodeMpm(kMpm);
    if (!decoded.valid()) throw std::logic_error("benchmark payload is invalid");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kMpm.size()));
}
BENCHMARK(BM_MpmDecodeValidate);

void BM_MpmEncode(benchmark::State& state) {
  const MpmDecoded decoded = DecodeMpm(kMpm);
  MpmEncodeOptions options;
  options.validate = false;
  for (auto _ : state) {
    auto encoded = EncodeMpm(decoded.objects, options);
    benchmark::DoNotOptimize(encoded);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MpmEncode);

void BM_CpmDecodeValidate(benchmark::State& state) {
  for (auto _ : state) {
    CpmDecoded decoded = DecodeCpm(kCpm);
    if (!decoded.valid()) throw std::logic_error("benchmark payload is invalid");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kCpm.size()));
}
BENCHMARK(BM_CpmDecodeValidate);

void BM_CpmEncode(benchmark::State& state) {
  const CpmDecoded decoded = DecodeCpm(kCpm);
  CpmEncodeOptions options;
  options.validate = false;
  for (auto _ : state) {
    auto encoded = EncodeCpm(decoded.objects, options);
    benchmark::DoNotOptimize(encoded);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CpmEncode);

void BM_Crc16Payload(benchmark::State& state) {
  const std::string_view covered = std::string_view(kMpm).substr(0, kMpm.size() - 4);
  for (auto _ : state) benchmark::DoNotOptimize(Crc16CcittFalse(covered));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(covered.size()));
}
BENCHMARK(BM_Crc16Payload);

}  // namespace
