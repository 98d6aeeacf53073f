// End-to-end authorisation load over loopback TCP: terminal connections → network switch → (TSP
// for tokens) → issuer host, whose ledger makes every hold durable before the approval leaves.
// Shared by `tapstack bench e2e-contactless` and bench/e2e_authorization_bench.cc.
//
// Card-not-present mode (contactless_devices == 0): pipelined 0100s with the demo cards' CVV2s,
// for as long as the sink grants operations. Contactless mode: phones (secure-element emulators)
// each get a demo card bound through the TSP and make taps of 1.00 CNY outside the timed
// authorisation (the phone's work is not the network's figure); a phone's taps go over one
// terminal connection in ATC order.
//  - fixed taps (refill_taps false): `contactless_devices` phones make `taps_per_device` taps
//    each before the clock starts, and the load ends when every tap is answered;
//  - refilled taps (refill_taps true): enough phones for the run (see E2eLoadOptions), each with
//    a card of a CNY bank; `taps_ahead` taps per connection are made before the clock starts, and
//    a refill thread keeps each connection's queue topped up while the run goes, so the load is
//    bounded by the sink (time, count) and only ends early when every phone has spent
//    kE2eTapsPerPhoneMax taps. A chain that finds its queue empty waits for the refill (the wait
//    is not timed: its clock starts when the tap is sent).
// Under --rate (OperationSink::ClaimStart) a chain sends at its operation's start time from a
// timer, never sleeping on the client I/O thread.
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
#include "benchkit/contactless_taps.h"
#include "benchkit/operation_sink.h"
#include "core/status.h"
#include "demo/demo_network.h"
#include "link/tcp_client.h"
#include "server/payment_rail.h"

namespace tapstack::benchkit {

struct E2eLoadOptions {
  std::filesystem::path data_dir;  // the rail's and the phones' files (created; not removed)
  // The phones' files when not empty (else data_dir/devices): memory (/dev/shm) keeps the
  // phones' ATC commits, which are not the network's figure, off the shared disk.
  std::filesystem::path phones_dir;
  int connections = 8;             // terminal connections to the switch
  int in_flight = 64;              // outstanding authorisations per connection
  int cards_per_bank = 50;         // demo cards issued per bank (load uses cards 4..)
  int contactless_devices = 0;     // > 0: contactless token taps instead of card-not-present
  int taps_per_device = 30;        // fixed taps: made per phone before the clock starts
  int io_threads = 2;              // the rail's I/O threads
  // Contactless: refill taps on a thread as the run needs them (see above).
  bool refill_taps = false;
  // Refilled taps: taps waiting per connection (made before the clock starts, then kept there).
  int taps_ahead = 512;
  // Refilled taps: the most taps the run can ask for (from its bounds); phones are added above
  // contactless_devices until they can make that many at kE2eTapsPerPhoneMax each.
  std::int64_t taps_expected = 0;
};

inline constexpr int kE2eRequestTimeoutMs = 5000;
inline constexpr int kE2eSignOnWaitMs = 2500;
// Taps one phone makes when refilled: 4,000 × 1.00 CNY of holds stays under the funds of the
// smallest CNY demo card (a debit card of 5,000 CNY, server/demo_wiring.cc; holds are never
// cleared in a bench run), and far under the token's ATC limit (0xFFFF, EMV Book 3 Annex A).
inline constexpr std::int64_t kE2eTapsPerPhoneMax = 4'000;
inline constexpr int kE2eTapsAheadMax = 100'000;  // per connection
// The refill thread and Drive look again at least this often (the run stopping, queues drained).
inline constexpr int kE2eRefillIdleMs = 20;
// Demo cards usable by phones per CNY bank (cards 4.. of E2eLoadOptions::cards_per_bank; cards
// 0-3 carry rule demos such as a 3-a-day velocity limit).
inline constexpr int kE2eFirstLoadCard = 4;

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

  // Taps made so far (before the clock and by the refill), and phones bound.
  std::int64_t taps_total() const;
  int phones() const { return phones_bound_; }
  // The first tap the refill could not make (its connection then got no more), empty if none.
  std::string refill_error() const;
  E2eOutcomes outcomes() const;
  // The issuers' ledger audit (money conserved, holds consistent).
  Status AuditLedger();

 private:
  struct LoadCard {
    std::string pan, cvv2;  // the CVV2 printed on the demo card (card-not-present purchases)
  };
  explicit E2eAuthorizationLoad(const E2eLoadOptions& options) : options_(options) {}
  Status BindRefilledPhones();
  // Refilled taps: makes taps until every connection's queue holds taps_ahead (or its phones are
  // spent); true when it made one. Only from Start, then only from the refill thread.
  bool RefillOnce();
  void RefillLoop();
  void SendOne(int connection, OperationSink& sink);
  void Send(int connection, acquirer::Purchase purchase, OperationSink& sink);
  void ChainEnded();

  E2eLoadOptions options_;
  std::unique_ptr<demo::DemoNetwork> demo_;
  std::unique_ptr<server::PaymentRail> rail_;
  std::vector<LoadCard> cards_;
  std::vector<std::deque<acquirer::Purchase>> taps_;  // contactless: per connection, send order
  std::int64_t taps_total_ = 0;
  // Refilled taps: phones by connection (phone d on connection d % connections), each
  // connection's next phone, whether no more taps will come for it, chains waiting for a tap.
  std::vector<std::vector<std::unique_ptr<ContactlessPhone>>> phones_;
  std::vector<std::size_t> next_phone_;
  std::vector<bool> spent_;
  std::vector<int> waiting_;
  int phones_bound_ = 0;
  std::string refill_error_;  // the first tap the refill could not make
  OperationSink* sink_ = nullptr;  // during Drive
  std::thread refill_thread_;
  std::condition_variable refill_cv_;
  bool stop_refill_ = false;

  asio::io_context client_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::vector<std::unique_ptr<link::Iso8583Client>> links_;
  std::vector<std::unique_ptr<acquirer::PosTerminal>> terminals_;
  std::thread client_thread_;

  std::atomic<std::uint64_t> next_card_{0};
  mutable std::mutex mu_;  // outcomes_, taps_, taps_total_, spent_, waiting_, sink_, stop_refill_, chains_ended_
  E2eOutcomes outcomes_;
  int chains_ended_ = 0;
  std::condition_variable chains_cv_;
};

}  // namespace tapstack::benchkit
