// End-to-end authorisation load over loopback TCP: terminal connections → network switch → (TSP
// for tokens) → issuer host, whose ledger makes every hold durable before the approval leaves.
// Shared by `tapstack bench e2e-contactless` and bench/e2e_authorization_bench.cc.
//
// Card-not-present mode (contactless_devices == 0): pipelined 0100s with the demo cards' CVV2s,
// for as long as the sink grants operations. Contactless mode: `contactless_devices` phones
// (secure-element emulators) each get a demo card bound through the TSP, then make
// `taps_per_device` taps of 1.00 CNY before the clock starts (the phone's work is not the
// network's figure); a phone's taps go over one terminal connection in ATC order, and the load
// ends when every tap is answered.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>

#include "acquirer/pos_terminal.h"
#include "benchkit/operation_sink.h"
#include "core/status.h"
#include "demo/demo_network.h"
#include "link/tcp_client.h"
#include "server/payment_rail.h"

namespace tapstack::benchkit {

struct E2eLoadOptions {
  std::filesystem::path data_dir;  // the rail's and the phones' files (created; not removed)
  int connections = 8;             // terminal connections to the switch
  int in_flight = 64;              // outstanding authorisations per connection
  int cards_per_bank = 50;         // demo cards issued per bank (load uses cards 4..)
  int contactless_devices = 0;     // > 0: contactless token taps instead of card-not-present
  int taps_per_device = 30;
  int io_threads = 2;              // the rail's I/O threads
};

inline constexpr int kE2eRequestTimeoutMs = 5000;
inline constexpr int kE2eSignOnWaitMs = 2500;

struct E2eOutcomes {
  std::int64_t approved = 0;
  std::int64_t declined = 0;
  std::int64_t unknown = 0;                         // no answer (timeout, link lost)
  std::map<std::string, std::int64_t> decline_codes;  // DE39 → count
};

class E2eAuthorizationLoad {
 public:
  // Loads the demo network (seed/), starts the rail over TCP, makes the taps (contactless mode)
  // and connects the terminals. Errors: any step's.
  static Result<std::unique_ptr<E2eAuthorizationLoad>> Start(const E2eLoadOptions& options);
  ~E2eAuthorizationLoad();  // disconnects the terminals and stops the rail
  E2eAuthorizationLoad(const E2eAuthorizationLoad&) = delete;
  E2eAuthorizationLoad& operator=(const E2eAuthorizationLoad&) = delete;

  // Keeps in_flight authorisations outstanding per connection, each claimed from `sink` first
  // and completed into it when answered (no answer: completed with kUnavailable; a decline is a
  // completed operation, counted in outcomes()). Returns when every chain has stopped (Claim said
  // no, or the taps ran out) and every sent authorisation is answered. Call from one thread.
  void Drive(OperationSink& sink);

  std::int64_t taps_total() const { return taps_total_; }
  E2eOutcomes outcomes() const;
  // The issuers' ledger audit (money conserved, holds consistent).
  Status AuditLedger();

 private:
  struct LoadCard {
    std::string pan, cvv2;  // the CVV2 printed on the demo card (card-not-present purchases)
  };
  explicit E2eAuthorizationLoad(const E2eLoadOptions& options) : options_(options) {}
  void SendOne(int connection, OperationSink& sink);
  void ChainEnded();

  E2eLoadOptions options_;
  std::unique_ptr<demo::DemoNetwork> demo_;
  std::unique_ptr<server::PaymentRail> rail_;
  std::vector<LoadCard> cards_;
  std::vector<std::deque<acquirer::Purchase>> taps_;  // contactless: per connection, send order
  std::int64_t taps_total_ = 0;

  asio::io_context client_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::vector<std::unique_ptr<link::Iso8583Client>> links_;
  std::vector<std::unique_ptr<acquirer::PosTerminal>> terminals_;
  std::thread client_thread_;

  std::atomic<std::uint64_t> next_card_{0};
  mutable std::mutex mu_;  // outcomes_, taps_, chains_ended_
  E2eOutcomes outcomes_;
  int chains_ended_ = 0;
  std::condition_variable chains_cv_;
};

}  // namespace tapstack::benchkit
