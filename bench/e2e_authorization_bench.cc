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
#include <atomic>
#include <chrono>
#include <deque>
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
#include "bench_util.h"
#include "contactless_taps.h"
#include "demo/demo_keys.h"
#include "link/tcp_client.h"
#include "server/payment_rail.h"

using namespace tapstack;
using bench::Flag;
using bench::Histogram;

int main(int argc, char** argv) {
  const int seconds = Flag(argc, argv, "--seconds", 10);
  const int connections = Flag(argc, argv, "--connections", 8);
  const int in_flight = Flag(argc, argv, "--in-flight", 64);
  const int cards_per_bank = Flag(argc, argv, "--cards-per-bank", 50);
  const int contactless_devices = Flag(argc, argv, "--contactless", 0);
  const int taps_per_device = Flag(argc, argv, "--taps-per-device", 30);
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
  // Contactless mode: the pre-made taps of each connection, in send order.
  std::vector<std::deque<acquirer::Purchase>> taps(static_cast<std::size_t>(connections));
  std::int64_t taps_total = 0;
  if (contactless_devices > 0) {
    const auto made = bench::MakeContactlessTaps(*demo, (*rail)->tsp().service(), dir / "devices",
                                                 contactless_devices, taps_per_device);
    if (!made.ok()) {
      std::fprintf(stderr, "%s\n", made.status().ToString().c_str());
      return 1;
    }
    for (std::size_t d = 0; d < made->size(); ++d) {
      for (const acquirer::Purchase& p : (*made)[d]) {
        taps[d % taps.size()].push_back(p);
        ++taps_total;
      }
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
  std::mutex taps_mu;
  std::function<void(int)> send_one = [&](int c) {
    if (!running.load()) return;
    acquirer::Purchase p;
    if (contactless_devices > 0) {
      std::lock_guard lock(taps_mu);
      auto& queue = taps[static_cast<std::size_t>(c)];
      if (queue.empty()) return;
      p = std::move(queue.front());
      queue.pop_front();
    } else {
      const LoadCard& card = cards[next_card.fetch_add(1) % cards.size()];
      p.pan = card.pan;
      p.cvv2 = card.cvv2;
      p.expiry = demo::kDemoCardExpiry;
      p.amount = Amount(100 + static_cast<std::int64_t>(next_card.load() % 900), Cny());
    }
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
  const auto deadline = t0 + std::chrono::seconds(seconds);
  int shown = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    if (contactless_devices > 0 && latency.count() >= taps_total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int s = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::steady_clock::now() - t0)
                                       .count());
    if (s != shown) {
      shown = s;
      std::fprintf(stderr, "\r[%-*s] %d/%d s  %lld authorisations", seconds,
                   std::string(static_cast<std::size_t>(std::min(s, seconds)), '#').c_str(), s,
                   seconds, static_cast<long long>(latency.count()));
    }
  }
  running = false;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::int64_t done = latency.count();
  for (int i = 0; i < 1000 && outstanding.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  std::fprintf(stderr, "\n");
  if (contactless_devices > 0) {
    std::printf("e2e contactless token authorisations over TCP: terminals → switch → TSP → issuer host "
                "(durable ATC, audit, ledger hold, clearing record), one process; %d phones × %d taps\n",
                contactless_devices, taps_per_device);
  } else {
    std::printf("e2e card-not-present authorisations over TCP (switch + issuer host + durable ledger, one process)\n");
  }
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
