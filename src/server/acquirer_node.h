// AcquirerNode: the acquirer as a process of its own (`tapstack serve --role acquirer`): the demo
// merchants' terminals (one PosTerminal each) linked to the network over ISO 8583 on TCP, driven
// by an HTTP API so people, tests and load generators can buy things:
//   POST /v1/acquirer/purchases   {"terminal_id", "card": {"bank", "index", "kind"} | "pan"+"expiry"
//                                  [+"cvv2"], "amount_minor", "currency", "entry", "message"}
//                                  → the outcome with STAN, RRN, DE7, approval code (PAN masked)
//   POST /v1/acquirer/completions {"terminal_id", "stan", "amount_minor"}: completes an approved
//                                  authorisation for its final amount (0220 → 0230)
//   POST /v1/acquirer/batches/close {"terminal_id", "currency"}: 0500 → 0510, in balance or not
//   GET  /v1/acquirer/terminals   the terminals and their batch totals
// A purchase whose outcome is unknown (network timeout) is reversed by the terminal and answered
// 504. A full PAN given to the API is used for the request only: never logged or returned.
#pragma once

#include <map>

#include <nlohmann/json_fwd.hpp>
#include <memory>
#include <string>

#include "acquirer/pos_terminal.h"
#include "link/tcp_client.h"
#include "server/http_front.h"
#include "server/io_threads.h"
#include "server/role_node.h"

namespace tapstack::server {

class AcquirerNode final : public RoleNode {
 public:
  static Result<std::unique_ptr<AcquirerNode>> Start(const ServeConfig& config, const demo::DemoNetwork& demo);
  ~AcquirerNode() override { Stop(); }

  std::vector<std::pair<std::string, std::string>> Summary() const override;
  void Stop() override;

 private:
  struct Terminal {
    const demo::DemoMerchant* merchant = nullptr;
    std::unique_ptr<acquirer::PosTerminal> pos;
  };
  AcquirerNode() = default;
  void InstallRoutes();
  // The terminal named by the body's "terminal_id"; nullptr with `error` set when there is none.
  const Terminal* FindTerminal(const nlohmann::json& body, Status& error) const;
  // How long an HTTP answer waits for the terminal: its link timeout, repeats included, and room.
  int OutcomeWaitMs() const { return config_.network_timeout_ms * 6 + 2'000; }

  ServeConfig config_;
  demo::DemoNetwork demo_;
  std::unique_ptr<IoThreads> io_;
  std::unique_ptr<link::Iso8583Client> network_link_;
  std::map<std::string, Terminal> terminals_;  // by terminal id (DE41)
  HttpFront http_;
  bool stopped_ = false;
};

}  // namespace tapstack::server
