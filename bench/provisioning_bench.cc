// Provisioning load: binding cards to devices through the TSP, "bind + OTP" as a wallet does it.
// Per card: TspService::Provision (ID&V 0100 through the switch to the issuer host over the
// in-memory ISO 8583 link, a token in the vault with its audit entry, the OTP challenge stored as
// an HMAC, the SMS in the outbox), the OTP read back from the outbox, VerifyOtp (token activated,
// audited, the token's card key derived and wrapped for the device with ECDH P-256 + HKDF +
// AES-GCM). Every step is committed to SQLite before it answers.
// Cards of a bank whose ID&V policy is "approve" bind at once (green, no OTP).
// It then reports the vault's footprint: resident memory and database bytes per token.
//
//   provisioning_bench [--seconds S] [--threads T] [--cards-per-bank K]
//
// The binding itself is benchkit::ProvisioningLoad, which `tapstack bench provisioning` runs too.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench_util.h"
#include "benchkit/provisioning_scenario.h"

using namespace tapstack;
using bench::Flag;
using bench::Histogram;

int main(int argc, char** argv) {
  const int seconds = Flag(argc, argv, "--seconds", 5);
  const int threads = Flag(argc, argv, "--threads", 4);
  const int cards_per_bank = Flag(argc, argv, "--cards-per-bank", 50);
  spdlog::set_level(spdlog::level::warn);

  const auto dir = std::filesystem::temp_directory_path() /
                   ("tapstack-provisioning-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto load = benchkit::ProvisioningLoad::Start(dir, cards_per_bank);
  if (!load.ok()) {
    std::fprintf(stderr, "%s\n", load.status().ToString().c_str());
    return 1;
  }

  std::atomic<std::int64_t> next{0}, bound{0}, failed{0}, green{0};
  // Wall time spent in each step, summed over the threads.
  std::atomic<std::int64_t> provision_us{0}, outbox_us{0}, verify_us{0};
  Histogram latency;
  const std::int64_t rss_before = bench::ResidentBytes();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      using std::chrono::duration_cast;
      using std::chrono::microseconds;
      while (std::chrono::steady_clock::now() < end) {
        const auto t0 = std::chrono::steady_clock::now();
        const Result<benchkit::BindTimings> timings = (*load)->BindOne(next.fetch_add(1));
        if (!timings.ok()) {
          failed.fetch_add(1);
          continue;
        }
        provision_us.fetch_add(duration_cast<microseconds>(timings->provision).count());
        outbox_us.fetch_add(duration_cast<microseconds>(timings->outbox).count());
        verify_us.fetch_add(duration_cast<microseconds>(timings->verify).count());
        if (timings->green) green.fetch_add(1);
        latency.Add(duration_cast<microseconds>(std::chrono::steady_clock::now() - t0).count());
        bound.fetch_add(1);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::int64_t rss_after = bench::ResidentBytes();
  std::int64_t db_bytes = 0;
  for (const char* f : {"tsp.db", "tsp.db-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(dir / f, ec);
    if (!ec) db_bytes += static_cast<std::int64_t>(size);
  }
  const std::int64_t tokens = bound.load();
  std::printf("provisioning (bind + OTP), %d threads, %.1f s\n", threads, elapsed);
  std::printf("  cards bound      %lld (%lld with an OTP, %lld green without; %lld failed)\n",
              static_cast<long long>(tokens), static_cast<long long>(tokens - green.load()),
              static_cast<long long>(green.load()), static_cast<long long>(failed.load()));
  std::printf("  throughput       %.0f cards/s\n", static_cast<double>(tokens) / elapsed);
  std::printf("  latency          p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
              static_cast<double>(latency.Percentile(0.50)) / 1000.0,
              static_cast<double>(latency.Percentile(0.99)) / 1000.0,
              static_cast<double>(latency.Percentile(0.999)) / 1000.0,
              static_cast<double>(latency.max()) / 1000.0);
  if (tokens > 0) {
    const double with_otp = std::max<double>(1, static_cast<double>(tokens - green.load()));
    std::printf("  per card         provision (ID&V, token, OTP, SMS) %.2f ms, read SMS %.2f ms, "
                "verify OTP (activate, keys, wrap) %.2f ms\n",
                static_cast<double>(provision_us.load()) / 1000.0 / static_cast<double>(tokens),
                static_cast<double>(outbox_us.load()) / 1000.0 / with_otp,
                static_cast<double>(verify_us.load()) / 1000.0 / with_otp);
    std::printf("  resident memory  %+.0f bytes per token (RSS %lld → %lld KiB; the vault keeps no "
                "per-token index in memory, this is mostly SQLite's bounded page cache)\n",
                static_cast<double>(rss_after - rss_before) / static_cast<double>(tokens),
                static_cast<long long>(rss_before / 1024), static_cast<long long>(rss_after / 1024));
    std::printf("  vault on disk    %.0f bytes per token (tsp.db + WAL: token, OTP, keys, audit, "
                "SMS rows)\n",
                static_cast<double>(db_bytes) / static_cast<double>(tokens));
  }
  load->reset();
  std::filesystem::remove_all(dir);
  return failed.load() == 0 ? 0 : 1;
}
