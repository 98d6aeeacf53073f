// Wallet payment platform (issue #8): durable merchant-QR payments from the balance per second.
//
// One platform (tapstack-cn of seed/qrpay.json) on SQLite in the temp directory (a real disk:
// every payment is committed, synchronous=FULL, before it is answered; concurrent payments share
// commits through the group committer). --accounts level-3 accounts are funded by a VAT refund
// each; then --threads threads pay Old Beijing Noodles' static code CNY 1.00 at a time from
// random accounts for --seconds, each payment with its own idempotency key, through the whole
// path: decode the MPM payload, check its MAC, limits, balance, journal + ledger in one
// transaction. Then the same with one-time payment codes (issue + pay: two durable operations).
// At the end the platform's audit must pass.
//
//   qrpay_bench [--accounts N] [--threads N] [--seconds N]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "qrpay/platform.h"
#include "server/demo_wiring.h"
#include "server/qr_rails.h"

using namespace tapstack;

namespace {

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

using Op = std::function<Status(int thread, std::int64_t n, std::mt19937_64& rng)>;

// Runs `op` on `threads` threads for `seconds`; prints the rate and latency percentiles.
void Measure(const char* label, int threads, int seconds, const Op& op) {
  bench::Histogram latency;
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> failures{0};
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
      for (std::int64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        const auto begin = std::chrono::steady_clock::now();
        const Status s = op(t, n, rng);
        if (!s.ok()) {
          if (failures.fetch_add(1) == 0) std::fprintf(stderr, "%s: %s\n", label, s.ToString().c_str());
          continue;
        }
        latency.Add(std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - begin).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (std::thread& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-28s %9.0f /s  (%lld in %.1f s, %d threads, %lld failed)  latency us p50 %lld p90 %lld "
              "p99 %lld p99.9 %lld max %lld\n",
              label, static_cast<double>(latency.count()) / elapsed, static_cast<long long>(latency.count()),
              elapsed, threads, static_cast<long long>(failures.load()),
              static_cast<long long>(latency.Percentile(0.50)), static_cast<long long>(latency.Percentile(0.90)),
              static_cast<long long>(latency.Percentile(0.99)), static_cast<long long>(latency.Percentile(0.999)),
              static_cast<long long>(latency.max()));
}

}  // namespace

int main(int argc, char** argv) {
  const int accounts_n = bench::Flag(argc, argv, "--accounts", 200);
  const int threads = bench::Flag(argc, argv, "--threads", 16);
  const int seconds = bench::Flag(argc, argv, "--seconds", 10);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tapstack-qrpay-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  auto seed = demo::DefaultSeedPath();
  if (!seed.ok()) return Fail("seed", seed.status());
  auto demo_network = demo::LoadDemoNetwork(*seed);
  if (!demo_network.ok()) return Fail("seed", demo_network.status());
  auto config = qrpay::LoadQrpayConfig(seed->parent_path() / "qrpay.json");
  if (!config.ok()) return Fail("config", config.status());
  auto fx = server::DemoFxTable(*demo_network);
  if (!fx.ok()) return Fail("fx", fx.status());
  server::FxRateSource rates(std::move(*fx));

  qrpay::PlatformOptions options;
  options.platform_id = "tapstack-cn";
  options.config = &*config;
  options.data_dir = dir;
  options.qr_key = demo::DemoQrKey("tapstack-cn");
  options.rates = &rates;
  auto platform = qrpay::Platform::Open(std::move(options));
  if (!platform.ok()) return Fail("open", platform.status());
  qrpay::Platform& p = **platform;

  std::vector<std::string> accounts;
  const Currency& gbp = **CurrencyByAlpha("GBP");
  for (int i = 0; i < accounts_n; ++i) {
    auto account = p.OpenAccount("bench-" + std::to_string(i), Cny(), 3);
    if (!account.ok()) return Fail("open account", account.status());
    auto funded = p.TaxRefund("globalrefund-demo", account->account_id, "BENCH-" + std::to_string(i),
                              Amount(50'000, gbp), "fund-" + std::to_string(i));
    if (!funded.ok()) return Fail("fund", funded.status());
    accounts.push_back(account->account_id);
  }
  auto code = p.MerchantStaticQr("BJNOODLES01");
  if (!code.ok()) return Fail("code", code.status());
  std::printf("qrpay_bench: %d accounts funded, %d threads, %d s per scenario, data in %s\n",
              accounts_n, threads, seconds, dir.c_str());

  Measure("merchant QR from balance", threads, seconds, [&](int t, std::int64_t n, std::mt19937_64& rng) {
    const std::string& account = accounts[rng() % accounts.size()];
    return p.PayMerchantQr(account, *code, Amount(100, Cny()),
                           "q" + std::to_string(t) + "-" + std::to_string(n)).status();
  });
  Measure("payment code (issue + pay)", threads, seconds, [&](int t, std::int64_t n, std::mt19937_64& rng) {
    const std::string& account = accounts[rng() % accounts.size()];
    TS_ASSIGN_OR_RETURN(const qrpay::PaymentCode shown, p.IssuePaymentCode(account, "bench-phone"));
    return p.PayByPaymentCode("SHDUMPLING01", shown.code, Amount(100, Cny()),
                              "c" + std::to_string(t) + "-" + std::to_string(n)).status();
  });
  auto audit = p.Audit();
  if (!audit.ok()) return Fail("audit", audit.status());
  std::printf("audit: ok (%lld journal entries); peak RSS %.1f MiB\n",
              static_cast<long long>(audit->journal_entries),
              static_cast<double>(bench::PeakResidentBytes()) / (1024.0 * 1024.0));
  platform->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
