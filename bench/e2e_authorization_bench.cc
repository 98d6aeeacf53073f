// End-to-end authorisation load: N concurrent terminal connections over loopback TCP send
// pipelined 0100 card-not-present authorisations through the network switch to the issuer host,
// whose ledger makes every hold durable (fdatasync group commit) before the approval leaves.
// Prints TPS, latency percentiles and the approval rate. Not a Google Benchmark: it measures a
// whole system under sustained load for a bounded time.
//
//   e2e_authorization_bench [--seconds S] [--connections C] [--in-flight N] [--cards-per-bank K]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <spdlog/spdlog.h>

#include "acquirer/pos_terminal.h"
#include "demo/demo_keys.h"
#include "link/tcp_client.h"
#include "server/payment_rail.h"

using namespace tapstack;

namespace {

// Log-bucketed latency histogram: buckets of 1 µs below 1 ms, then ~2% wide.
class Histogram {
 public:
  void Add(std::int64_t micros) {
    counts_[Bucket(micros)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    std::int64_t m = max_.load();
    while (micros > m && !max_.compare_exchange_weak(m, micros)) {}
  }
  std::int64_t Percentile(double p) const {
    const std::int64_t target = static_cast<std::int64_t>(p * static_cast<double>(count_.load()));
    std::int64_t seen = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      seen += counts_[b].load();
      if (seen > target) return Upper(b);
    }
    return max_.load();
  }
  std::int64_t count() const { return count_.load(); }
  std::int64_t max() const { return max_.load(); }

 private:
  static constexpr std::size_t kBuckets = 4096;
  static std::size_t Bucket(std::int64_t us) {
    if (us < 1000) return static_cast<std::size_t>(std::max<std::int64_t>(us, 0));
    double b = 1000 + std::log(static_cast<double>(us) / 1000.0) / std::log(1.02);
    return std::min<std::size_t>(kBuckets - 1, static_cast<std::size_t>(b));
  }
  static std::int64_t Upper(std::size_t b) {
    if (b < 1000) return static_cast<std::int64_t>(b);
    return static_cast<std::int64_t>(1000.0 * std::pow(1.02, static_cast<double>(b - 1000 + 1)));
  }
  std::atomic<std::int64_t> counts_[kBuckets]{};
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> max_{0};
};

int Flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = Flag(argc, argv, "--seconds", 10);
  const int connections = Flag(argc, argv, "--connections", 8);
  const int in_flight = Flag(argc, argv, "--in-flight", 64);
  const int cards_per_bank = Flag(argc, argv, "--cards-per-bank", 50);
  spdlog::set_level(spdlog::level::warn);

  auto demo = demo::LoadDemoNetwork(*demo::DefaultSeedPath());
  if (!demo.ok()) {
    std::fprintf(stderr, "%s\n", demo.status().ToString().c_str());
    return 1;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("tapstack-e2e-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  server::PaymentRailOptions options;
  options.data_dir = dir;
  options.tcp = true;
  options.cards_per_bank = cards_per_bank;
  options.io_threads = 2;
  auto rail = server::PaymentRail::Start(*demo, options);
  if (!rail.ok()) {
    std::fprintf(stderr, "%s\n", rail.status().ToString().c_str());
    return 1;
  }
  // Wait for the switch's issuer links to sign on.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  // Card numbers of the load: debit and credit cards of every bank.
  struct LoadCard {
    std::string pan, cvv2;  // the CVV2 printed on the demo card (card-not-present purchases)
  };
  std::vector<LoadCard> cards;
  for (std::size_t b = 0; b < demo->banks.size(); ++b) {
    for (int i = 4; i < cards_per_bank; ++i) {
      std::string pan = *server::PaymentRail::CardNumber(*demo, static_cast<int>(b), i);
      std::string cvv2 = *demo::DemoCardCvv2(demo->banks[b].institution_id, pan, demo::kDemoCardExpiry);
      cards.push_back({std::move(pan), std::move(cvv2)});
    }
  }

  asio::io_context client_io;
  auto guard = asio::make_work_guard(client_io);
  std::vector<std::unique_ptr<link::Iso8583Client>> links;
  std::vector<std::unique_ptr<acquirer::PosTerminal>> terminals;
  for (int c = 0; c < connections; ++c) {
    link::ClientOptions o;
    o.port = (*rail)->switch_port();
    o.request_timeout_ms = 5000;
    o.name = "terminal-" + std::to_string(c);
    links.push_back(std::make_unique<link::Iso8583Client>(client_io, o));
    links.back()->Start();
    const demo::DemoMerchant& m = demo->merchants[static_cast<std::size_t>(c) % 3];  // CNY merchants
    acquirer::TerminalConfig t{"T" + std::string(7 - std::to_string(c).size(), '0') + std::to_string(c),
                               m.merchant_id, m.name, m.mcc, 156, m.acquirer_id, 1};
    terminals.push_back(std::make_unique<acquirer::PosTerminal>(t, *links.back(), SystemClock::Instance()));
  }
  std::thread client_thread([&] { client_io.run(); });
  for (auto& l : links) {
    for (int i = 0; i < 500 && !l->ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  Histogram latency;
  std::atomic<std::int64_t> approved{0}, declined{0}, unknown{0};
  std::mutex codes_mu;
  std::map<std::string, std::int64_t> decline_codes;  // DE39 → count
  std::atomic<bool> running{true};
  std::atomic<std::uint64_t> next_card{0};
  std::atomic<int> outstanding{0};
  std::function<void(int)> send_one = [&](int c) {
    if (!running.load()) return;
    acquirer::Purchase p;
    const LoadCard& card = cards[next_card.fetch_add(1) % cards.size()];
    p.pan = card.pan;
    p.cvv2 = card.cvv2;
    p.expiry = demo::kDemoCardExpiry;
    p.amount = Amount(100 + static_cast<std::int64_t>(next_card.load() % 900), Cny());
    const auto start = std::chrono::steady_clock::now();
    outstanding++;
    terminals[static_cast<std::size_t>(c)]->Purchase(p, [&, c, start](acquirer::PurchaseResult r) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
      latency.Add(us);
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
      send_one(c);
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::clock_t cpu0 = std::clock();
  for (int c = 0; c < connections; ++c) {
    for (int i = 0; i < in_flight; ++i) asio::post(client_io, [&, c] { send_one(c); });
  }
  for (int s = 0; s < seconds; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::fprintf(stderr, "\r[%-*s] %d/%d s  %lld authorisations", seconds, std::string(static_cast<std::size_t>(s + 1), '#').c_str(),
                 s + 1, seconds, static_cast<long long>(latency.count()));
  }
  running = false;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::int64_t done = latency.count();
  for (int i = 0; i < 1000 && outstanding.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  std::fprintf(stderr, "\n");
  std::printf("e2e contactless/CNP authorisations over TCP (switch + issuer host + durable ledger, one process)\n");
  std::printf("  connections %d, in flight per connection %d, duration %.1f s\n", connections, in_flight, elapsed);
  std::printf("  throughput   %.0f authorisations/s\n", static_cast<double>(done) / elapsed);
  std::printf("  latency      p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
              latency.Percentile(0.50) / 1000.0, latency.Percentile(0.90) / 1000.0, latency.Percentile(0.99) / 1000.0,
              latency.Percentile(0.999) / 1000.0, latency.max() / 1000.0);
  std::printf("  approved     %lld  declined %lld  unknown %lld  (approval rate %.2f%%)\n",
              static_cast<long long>(approved.load()), static_cast<long long>(declined.load()),
              static_cast<long long>(unknown.load()),
              100.0 * static_cast<double>(approved.load()) /
                  std::max<double>(1, static_cast<double>(approved.load() + declined.load() + unknown.load())));
  if (!decline_codes.empty()) {
    std::printf("  declines by DE39:");
    for (const auto& [code, n] : decline_codes) std::printf(" %s×%lld", code.c_str(), static_cast<long long>(n));
    std::printf("\n");
  }
  std::printf("  CPU          %.1f s of %.1f s wall (%.0f%% of one core)\n", cpu, elapsed, 100.0 * cpu / elapsed);
  auto audit = (*rail)->issuers().ledger().Audit();
  std::printf("  ledger audit %s\n", audit.ok() ? "ok" : audit.ToString().c_str());
  for (auto& l : links) l->Stop();
  guard.reset();
  client_io.stop();
  client_thread.join();
  rail->reset();
  std::filesystem::remove_all(dir);
  return audit.ok() ? 0 : 1;
}
