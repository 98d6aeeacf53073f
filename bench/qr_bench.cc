// EMVCo QR benchmarks, two kinds in one program.
//
// Codec throughput (Google Benchmark, the default): decode + full validation of a typical dynamic
// merchant-presented payload (EMVCo MPM v1.0 Annex B example, 166 characters / 182 bytes with
// Chinese text), CPM decode + validation (EMVCo CPM v1.0 Annex B.2, base64), their encoders, and
// the CRC alone. One item = one payload.
//
// With --e2e: consumer-presented ("show to pay") payments end to end through the network, like
// e2e_authorization_bench --contactless (its provisioning, src/benchkit/contactless_taps.h, and its
// histogram and flags, bench/bench_util.h). D phones get a demo card bound through the TSP; each
// phone then makes --codes-per-device EMVCo CPM codes (biometric check, the contactless kernel
// against its secure element with 9F02 = 0, the CPM payload: acquirer/consumer_presented.h) BEFORE
// the clock starts, and the generation rate is reported on its own. The timed loop is the
// merchant's side and the network's: the scanner checks each code and builds the purchase
// (ConsumerPresentedPurchase), the terminal sends the 0100 (DE22 "032") → switch → TSP (token,
// domain, ATC window, ARQC with 9F02 = 0, de-tokenisation; durable) → issuer host (durable hold)
// → back with the ARPC. A phone's codes go over one terminal connection in ATC order. Links are
// in memory (--tcp 0) or loopback TCP (--tcp 1, default). Codes are made up to a few minutes
// before they are scanned, so the scanner's age limit is raised to kBenchCodeValiditySeconds for
// this run (the check itself still runs on every code).
//
//   qr_bench [--benchmark_* flags]
//   qr_bench --e2e [--tcp 0|1] [--devices D] [--codes-per-device N] [--connections C]
//                  [--in-flight N] [--seconds S]
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "acquirer/consumer_presented.h"
#include "acquirer/pos_terminal.h"
#include "bench_util.h"
#include "benchkit/contactless_taps.h"
#include "benchkit/qr_codec_scenario.h"
#include "crypto/csprng.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "link/tcp_client.h"
#include "qr/cpm.h"
#include "qr/crc16.h"
#include "qr/mpm.h"
#include "server/payment_rail.h"

namespace {

using namespace tapstack::qr;

// The payloads `tapstack bench qr` decodes too (benchkit/qr_codec_scenario.h).
const std::string kMpm(tapstack::benchkit::kQrBenchMpmPayload);
const std::string kCpm(tapstack::benchkit::kQrBenchCpmPayload);

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

// ---- End-to-end consumer-presented payments (--e2e) ----

using tapstack::bench::Flag;
using tapstack::bench::Histogram;

// The scanner's age limit during the run: codes are made before the timed loop.
constexpr std::int64_t kBenchCodeValiditySeconds = 3600;
constexpr std::int64_t kPaymentMinor = 100;  // CNY 1.00 per payment
constexpr int kReadyWaitSteps = 500;
constexpr auto kReadyWaitStep = std::chrono::milliseconds(5);

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

int RunEndToEnd(int argc, char** argv) {
  namespace acquirer = tapstack::acquirer;
  namespace server = tapstack::server;
  using tapstack::Amount;
  using tapstack::ByteView;
  using tapstack::Bytes;
  using tapstack::Cny;
  using tapstack::Result;
  using tapstack::SystemClock;
  const bool tcp = Flag(argc, argv, "--tcp", 1) != 0;
  const int devices = Flag(argc, argv, "--devices", 64);
  const int codes_per_device = Flag(argc, argv, "--codes-per-device", 100);
  const int connections = Flag(argc, argv, "--connections", 8);
  const int in_flight = Flag(argc, argv, "--in-flight", 16);
  const int seconds = Flag(argc, argv, "--seconds", 30);
  spdlog::set_level(spdlog::level::warn);

  auto demo = tapstack::demo::LoadDemoNetwork(*tapstack::demo::DefaultSeedPath());
  if (!demo.ok()) {
    std::fprintf(stderr, "%s\n", demo.status().ToString().c_str());
    return 1;
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tapstack-qr-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const int banks = static_cast<int>(demo->banks.size());
  server::PaymentRailOptions options;
  options.data_dir = dir;
  options.tcp = tcp;
  options.io_threads = 2;
  // MakeContactlessTaps binds card 4 + d / banks of bank d % banks to phone d.
  options.cards_per_bank = 5 + devices / banks;
  auto rail = server::PaymentRail::Start(*demo, options);
  if (!rail.ok()) {
    std::fprintf(stderr, "%s\n", rail.status().ToString().c_str());
    return 1;
  }
  if (tcp) std::this_thread::sleep_for(std::chrono::milliseconds(500));  // issuer links sign on

  // The phones, bound through the TSP (no taps: the codes are made here).
  const auto bound = tapstack::benchkit::MakeContactlessTaps(*demo, (*rail)->tsp().service(),
                                                          dir / "devices", devices, 0);
  if (!bound.ok()) {
    std::fprintf(stderr, "%s\n", bound.status().ToString().c_str());
    return 1;
  }

  // The codes, per connection in send order (a phone's codes in ATC order on one connection).
  std::vector<std::deque<std::string>> codes(static_cast<std::size_t>(connections));
  tapstack::crypto::Csprng csprng;
  acquirer::ConsumerCodeOptions code_options;
  code_options.random = &csprng;
  std::int64_t codes_total = 0;
  const auto g0 = std::chrono::steady_clock::now();
  for (int d = 0; d < devices; ++d) {
    tapstack::device::SecureElementOptions o;
    o.data_dir = dir / "devices";
    o.device_id = "phone-" + std::to_string(d);
    auto se = tapstack::device::SecureElement::Open(o);
    if (!se.ok()) {
      std::fprintf(stderr, "%s\n", se.status().ToString().c_str());
      return 1;
    }
    tapstack::device::SecureElement& element = **se;
    for (int n = 0; n < codes_per_device; ++n) {
      element.BiometricVerified();
      Result<std::string> code = acquirer::MakeConsumerPresentedCode(
          [&element](ByteView capdu) -> Result<Bytes> { return element.Transmit(capdu); },
          SystemClock::Instance(), code_options);
      if (!code.ok()) {
        std::fprintf(stderr, "phone-%d: %s\n", d, code.status().ToString().c_str());
        return 1;
      }
      codes[static_cast<std::size_t>(d % connections)].push_back(std::move(*code));
      ++codes_total;
    }
  }
  const double generation_s = Seconds(std::chrono::steady_clock::now() - g0);

  // Terminals: over their own loopback TCP connection each, or the rail's in-memory link.
  asio::io_context client_io;
  auto guard = asio::make_work_guard(client_io);
  std::vector<std::unique_ptr<tapstack::link::Iso8583Client>> links;
  std::vector<std::unique_ptr<acquirer::PosTerminal>> terminals;
  for (int c = 0; c < connections; ++c) {
    tapstack::link::RequestSender* sender = &(*rail)->acquirer_link();
    if (tcp) {
      tapstack::link::ClientOptions o;
      o.port = (*rail)->switch_port();
      o.request_timeout_ms = 5000;
      o.name = "scanner-" + std::to_string(c);
      links.push_back(std::make_unique<tapstack::link::Iso8583Client>(client_io, o));
      links.back()->Start();
      sender = links.back().get();
    }
    const tapstack::demo::DemoMerchant& m = demo->merchants[static_cast<std::size_t>(c) % 3];
    const std::string id = std::to_string(c);
    acquirer::TerminalConfig t{"Q" + std::string(7 - id.size(), '0') + id, m.merchant_id, m.name,
                               m.mcc, 156, m.acquirer_id, 1};
    terminals.push_back(
        std::make_unique<acquirer::PosTerminal>(t, *sender, SystemClock::Instance()));
  }
  std::vector<std::thread> client_threads;
  for (int i = 0; i < 2; ++i) client_threads.emplace_back([&] { client_io.run(); });
  for (auto& l : links) {
    for (int i = 0; i < kReadyWaitSteps && !l->ready(); ++i) {
      std::this_thread::sleep_for(kReadyWaitStep);
    }
  }

  acquirer::ConsumerScanOptions scan;
  scan.validity_seconds = kBenchCodeValiditySeconds;
  Histogram latency;
  std::atomic<std::int64_t> approved{0}, declined{0}, unknown{0}, refused{0};
  std::mutex codes_mu;
  std::map<std::string, std::int64_t> decline_codes;  // DE39 (or "scanner") -> count
  std::atomic<bool> running{true};
  std::atomic<int> outstanding{0};
  std::function<void(int)> send_one = [&](int c) {
    if (!running.load()) return;
    std::string text;
    {
      std::lock_guard lock(codes_mu);
      auto& queue = codes[static_cast<std::size_t>(c)];
      if (queue.empty()) return;
      text = std::move(queue.front());
      queue.pop_front();
    }
    const auto start = std::chrono::steady_clock::now();
    Result<acquirer::Purchase> purchase = acquirer::ConsumerPresentedPurchase(
        text, Amount(kPaymentMinor, Cny()), SystemClock::Instance().NowUnixMillis(), scan);
    if (!purchase.ok()) {
      refused++;
      latency.Add(std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count());
      {
        std::lock_guard lock(codes_mu);
        ++decline_codes["scanner"];
      }
      asio::post(client_io, [&, c] { send_one(c); });
      return;
    }
    outstanding++;
    terminals[static_cast<std::size_t>(c)]->Purchase(
        *purchase, [&, c, start](acquirer::PurchaseResult r) {
          latency.Add(std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count());
          if (!r.response.ok()) {
            unknown++;
          } else if (r.approved()) {
            approved++;
          } else {
            declined++;
            std::lock_guard lock(codes_mu);
            ++decline_codes[r.response_code()];
          }
          outstanding--;
          // Next on the client threads, not inside the link's callback.
          asio::post(client_io, [&, c] { send_one(c); });
        });
  };
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  for (int c = 0; c < connections; ++c) {
    for (int i = 0; i < in_flight; ++i) asio::post(client_io, [&, c] { send_one(c); });
  }
  const auto deadline = t0 + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline && latency.count() < codes_total) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running = false;
  const double elapsed = Seconds(std::chrono::steady_clock::now() - t0);
  const std::int64_t done = latency.count();
  for (int i = 0; i < 1000 && outstanding.load() > 0; ++i) {
    std::this_thread::sleep_for(kReadyWaitStep);
  }
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;

  std::printf("consumer-presented QR payments end to end (%s): scanner (CPM checks) -> terminal -> "
              "switch -> TSP (ATC, ARQC with 9F02 = 0, de-tokenisation; durable) -> issuer host "
              "(durable hold), one process; %d phones x %d codes, CNY %.2f each\n",
              tcp ? "loopback TCP" : "in-memory links", devices, codes_per_device,
              static_cast<double>(kPaymentMinor) / 100.0);
  std::printf("  code generation (before the clock; one thread: biometric, SELECT PPSE/AID, GPO, "
              "READ RECORD, GENERATE AC with a durable ATC, CPM encode): %lld codes in %.1f s = "
              "%.0f codes/s\n",
              static_cast<long long>(codes_total), generation_s,
              static_cast<double>(codes_total) / generation_s);
  std::printf("  connections %d, in flight per connection %d, duration %.1f s\n", connections,
              in_flight, elapsed);
  std::printf("  throughput   %.0f payments/s (target >= 20,000/s)\n",
              static_cast<double>(done) / elapsed);
  std::printf("  latency      p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
              latency.Percentile(0.50) / 1000.0, latency.Percentile(0.90) / 1000.0,
              latency.Percentile(0.99) / 1000.0, latency.Percentile(0.999) / 1000.0,
              latency.max() / 1000.0);
  std::printf("  approved     %lld  declined %lld  unknown %lld  refused by the scanner %lld\n",
              static_cast<long long>(approved.load()), static_cast<long long>(declined.load()),
              static_cast<long long>(unknown.load()), static_cast<long long>(refused.load()));
  if (!decline_codes.empty()) {
    std::printf("  declines by DE39:");
    for (const auto& [code, n] : decline_codes) {
      std::printf(" %s x%lld", code.c_str(), static_cast<long long>(n));
    }
    std::printf("\n");
  }
  std::printf("  CPU          %.1f s of %.1f s wall (%.0f%% of one core)\n", cpu, elapsed,
              100.0 * cpu / elapsed);
  const tapstack::Status audit = (*rail)->issuers().ledger().Audit();
  std::printf("  ledger audit %s\n", audit.ok() ? "ok" : audit.ToString().c_str());

  for (auto& l : links) l->Stop();
  guard.reset();
  client_io.stop();
  for (std::thread& t : client_threads) t.join();
  terminals.clear();
  rail->reset();
  std::filesystem::remove_all(dir);
  return audit.ok() && approved.load() > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--e2e") return RunEndToEnd(argc, argv);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
