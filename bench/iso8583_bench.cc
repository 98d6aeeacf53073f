// ISO 8583 codec throughput: pack + unpack of a typical contactless 0100 (22 fields, DE55 of 130
// bytes of EMV data) per profile, reusing the output buffer and the Message as a switch does.
// The same message in npm's form (bench/data/contactless_0100.json) drives the npm comparison
// (bench/iso8583_vs_npm.sh, `tapstack bench iso8583-codec`).
#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>

#include "benchkit/iso8583_codec_scenario.h"
#include "iso8583/codec.h"

namespace tapstack::iso8583 {
namespace {

// The shared message (npm form, also what `tapstack bench iso8583-codec` packs).
Message LoadContactless0100() {
  Result<Message> m = benchkit::LoadNpmFormMessage(TAPSTACK_BENCH_DATA_DIR "/contactless_0100.json");
  if (!m.ok()) throw std::runtime_error(m.status().ToString());
  return std::move(m).value();
}

void BM_PackUnpack(benchmark::State& state, const Profile* profile) {
  const Message message = LoadContactless0100();
  std::string wire;
  Message parsed;
  std::size_t bytes = 0;
  for (auto _ : state) {
    wire.clear();
    if (!Pack(message, *profile, wire).ok()) state.SkipWithError("pack failed");
    if (!Unpack(AsBytes(wire), *profile, parsed).ok()) state.SkipWithError("unpack failed");
    benchmark::DoNotOptimize(parsed);
    bytes += wire.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["message_bytes"] = static_cast<double>(wire.size());
}

void BM_Pack(benchmark::State& state) {
  const Message message = LoadContactless0100();
  std::string wire;
  for (auto _ : state) {
    wire.clear();
    benchmark::DoNotOptimize(Pack(message, AsciiProfile(), wire));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Unpack(benchmark::State& state) {
  std::string wire;
  (void)Pack(LoadContactless0100(), AsciiProfile(), wire);
  Message parsed;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Unpack(AsBytes(wire), AsciiProfile(), parsed));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_PackUnpack, ascii, &AsciiProfile());
BENCHMARK_CAPTURE(BM_PackUnpack, ascii_hexbitmap, &AsciiHexBitmapProfile());
BENCHMARK_CAPTURE(BM_PackUnpack, bcd, &BcdProfile());
BENCHMARK(BM_Pack);
BENCHMARK(BM_Unpack);

}  // namespace
}  // namespace tapstack::iso8583

BENCHMARK_MAIN();
