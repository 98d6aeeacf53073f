// End-to-end authorisation load: N concurrent terminal connections over loopback TCP send
// pipelined 0100 card-not-present authorisations through the network switch to the issuer host,
// whose ledger makes every hold durable (fdatasync group commit) before the approval leaves.
// Prints TPS, latency percentiles and the approval rate. Not a Google Benchmark: it measures a
// whole system under sustained load for a bounded time.
//
// With --contactless D the load is contactless taps with payment tokens instead: D phones (secure
// element emulators) each get a demo card bound through the TSP (ID&V with the issuer, OTP,
// credentials wrapped for the phone), then each phone makes --taps-per-device taps of 1.00 CNY
// (CDCVM, GPO, GENERATE AC: an ARQC per tap) before the clock starts, so the figure is the
// network's: terminals → switch → TSP (token state, domain, ATC window, ARQC, de-tokenisation,
// all durable) → issuer → back with the ARPC. A phone's taps go over one terminal connection in
// ATC order. The run ends when every tap is answered or after S seconds.
//
//   e2e_authorization_bench [--seconds S] [--connections C] [--in-flight N] [--cards-per-bank K]
//                           [--contactless D] [--taps-per-device T]
//
// The load itself (the rail, the taps, the terminals, the pipelining) is
// benchkit::E2eAuthorizationLoad, which `tapstack bench e2e-contactless` runs too.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include <spdlog/spdlog.h>

#include "bench_util.h"
#include "benchkit/e2e_authorization_load.h"
#include "benchkit/runner.h"

using namespace tapstack;
using bench::Flag;

int main(int argc, char** argv) {
  const int seconds = Flag(argc, argv, "--seconds", 10);
  benchkit::E2eLoadOptions options;
  options.connections = Flag(argc, argv, "--connections", 8);
  options.in_flight = Flag(argc, argv, "--in-flight", 64);
  options.cards_per_bank = Flag(argc, argv, "--cards-per-bank", 50);
  options.contactless_devices = Flag(argc, argv, "--contactless", 0);
  options.taps_per_device = Flag(argc, argv, "--taps-per-device", 30);
  spdlog::set_level(spdlog::level::warn);

  const auto dir = std::filesystem::temp_directory_path() / ("tapstack-e2e-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  options.data_dir = dir;
  auto load = benchkit::E2eAuthorizationLoad::Start(options);
  if (!load.ok()) {
    std::fprintf(stderr, "%s\n", load.status().ToString().c_str());
    return 1;
  }
  benchkit::TerminalProgress progress(stderr, isatty(STDERR_FILENO) == 1);
  const auto measured = benchkit::Run(
      benchkit::RunLimits{static_cast<double>(seconds), benchkit::RunLimits{}.count, 1},
      [&](int, benchkit::OperationSink& sink) { (*load)->Drive(sink); }, &progress);
  if (!measured.ok()) {
    std::fprintf(stderr, "%s\n", measured.status().ToString().c_str());
    return 1;
  }
  const benchkit::Measurement& m = *measured;
  const benchkit::E2eOutcomes o = (*load)->outcomes();
  if (options.contactless_devices > 0) {
    std::printf("e2e contactless token authorisations over TCP: terminals → switch → TSP → issuer host "
                "(durable ATC, audit, ledger hold, clearing record), one process; %d phones × %d taps\n",
                options.contactless_devices, options.taps_per_device);
  } else {
    std::printf("e2e card-not-present authorisations over TCP (switch + issuer host + durable ledger, one process)\n");
  }
  std::printf("  connections %d, in flight per connection %d, duration %.1f s\n", options.connections,
              options.in_flight, m.wall_seconds);
  std::printf("  throughput   %.0f authorisations/s\n", m.ops_per_second);
  std::printf("  latency      p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
              m.latency.p50_us / 1000.0, m.latency.p90_us / 1000.0, m.latency.p99_us / 1000.0,
              m.latency.p999_us / 1000.0, m.latency.max_us / 1000.0);
  std::printf("  approved     %lld  declined %lld  unknown %lld  (approval rate %.2f%%)\n",
              static_cast<long long>(o.approved), static_cast<long long>(o.declined),
              static_cast<long long>(o.unknown),
              100.0 * static_cast<double>(o.approved) /
                  std::max<double>(1, static_cast<double>(o.approved + o.declined + o.unknown)));
  if (!o.decline_codes.empty()) {
    std::printf("  declines by DE39:");
    for (const auto& [code, n] : o.decline_codes) std::printf(" %s×%lld", code.c_str(), static_cast<long long>(n));
    std::printf("\n");
  }
  const double cpu = m.cpu_user_seconds + m.cpu_system_seconds;
  std::printf("  CPU          %.1f s of %.1f s wall (%.0f%% of one core)\n", cpu, m.wall_seconds,
              100.0 * cpu / m.wall_seconds);
  const Status audit = (*load)->AuditLedger();
  std::printf("  ledger audit %s\n", audit.ok() ? "ok" : audit.ToString().c_str());
  load->reset();
  std::filesystem::remove_all(dir);
  return audit.ok() ? 0 : 1;
}
