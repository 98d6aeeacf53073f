// PaymentRail: the card payment rail of the demo network wired in one process: the network switch,
// its token service provider (server/demo_tsp.h) and one issuer host holding every demo bank,
// linked by ISO 8583 over in-memory links (the same bytes as TCP) or over real TCP on loopback,
// with the demo cards issued from the seed.
//
// Used by `tapstack serve`, the end-to-end tests and the load benchmark. Acquirers reach the switch
// through acquirer_link() (in-memory) or switch_port() (TCP).
#pragma once

#include <asio.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "demo/demo_network.h"
#include "issuer/issuer_host.h"
#include "link/in_memory_link.h"
#include "link/tcp_client.h"
#include "link/tcp_server.h"
#include "network/switch.h"
#include "server/demo_tsp.h"
#include "server/demo_wiring.h"
#include "server/io_threads.h"

namespace tapstack::server {

struct PaymentRailOptions {
  std::filesystem::path data_dir;
  const Clock* clock = nullptr;       // default: the system clock
  bool tcp = false;                   // links over loopback TCP instead of in memory
  int io_threads = 2;                 // TCP only
  int issuer_timeout_ms = 2'000;
  int cards_per_bank = -1;            // -1: as the seed says
  std::string switch_bind = "127.0.0.1";
  std::uint16_t switch_port = 0;      // TCP: acquirer-facing port (0: any)
};

class PaymentRail {
 public:
  static Result<std::unique_ptr<PaymentRail>> Start(const demo::DemoNetwork& demo, PaymentRailOptions options);
  ~PaymentRail();

  network::Switch& network() { return *switch_; }
  issuer::IssuerHost& issuers() { return *issuers_; }
  DemoTsp& tsp() { return *tsp_; }
  // The in-memory link from an acquirer to the switch (valid in both modes).
  link::RequestSender& acquirer_link() { return *acquirer_link_; }
  std::uint16_t switch_port() const;  // TCP mode
  asio::io_context* io() { return io_ ? &io_->io() : nullptr; }

  // In-memory mode: take one bank's issuer link down or up (STIP tests).
  void SetIssuerLinkUp(const std::string& institution_id, bool up);

  // The demo card number of bank `bank_index` (debit when the bank issues debit cards).
  static Result<std::string> CardNumber(const demo::DemoNetwork& demo, int bank_index, int card_index);

 private:
  PaymentRail() = default;

  PaymentRailOptions options_;
  std::unique_ptr<IoThreads> io_;
  std::unique_ptr<issuer::IssuerHost> issuers_;
  std::unique_ptr<network::Switch> switch_;
  std::unique_ptr<DemoTsp> tsp_;  // destroyed before the switch (its ID&V link points there)
  std::unique_ptr<link::Iso8583Server> issuer_server_;
  std::unique_ptr<link::Iso8583Server> switch_server_;
  std::map<std::string, std::unique_ptr<link::InMemoryLink>> memory_links_;
  std::map<std::string, std::unique_ptr<link::Iso8583Client>> tcp_links_;
  std::unique_ptr<link::InMemoryLink> acquirer_link_;
  std::unique_ptr<AdviceRetryTimer> advice_timer_;
};

}  // namespace tapstack::server
