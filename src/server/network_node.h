// NetworkNode: the card network's switch as a process of its own (`tapstack serve --role
// network`): an acquirer-facing ISO 8583 listener, TCP links to the issuer processes named in the
// configuration ([[network.issuers]]), clearing and store-and-forward on SQLite or PostgreSQL,
// and the network's HTTP API (stats, settlement cut-off).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "link/tcp_server.h"
#include "network/switch.h"
#include "server/demo_wiring.h"
#include "server/http_front.h"
#include "server/io_threads.h"
#include "server/role_node.h"

namespace tapstack::server {

// The network's HTTP routes, shared with the one-process demo node:
//   GET  /v1/network/stats       counters and advices waiting per issuer
//   POST /v1/settlement/cutoff   closes the clearing cycle; the report is also written to
//                                <data_dir>/settlement/cycle-N.csv and .json
void InstallNetworkRoutes(HttpFront& http, network::Switch& network, std::string data_dir);

// Where the cut-off reports go: <data_dir>/settlement/cycle-N.csv and .json.
inline constexpr char kSettlementSubdir[] = "settlement";

// Closes the clearing cycle (Switch::CutOff) and writes its report under kSettlementSubdir. The
// cycle is closed and durable in the switch's store once CutOff returns: a report file that
// cannot be written is logged, not an error. Errors: CutOff's.
Result<network::SettlementReport> CutOffSettlement(network::Switch& network,
                                                   const std::filesystem::path& data_dir);

class NetworkNode final : public RoleNode {
 public:
  static Result<std::unique_ptr<NetworkNode>> Start(const ServeConfig& config, const demo::DemoNetwork& demo);
  ~NetworkNode() override { Stop(); }

  std::vector<std::pair<std::string, std::string>> Summary() const override;
  void Stop() override;
  // The switch's (network::Switch::Health).
  Status Health() const override;

 private:
  NetworkNode() = default;

  ServeConfig config_;
  std::string store_description_;
  std::unique_ptr<network::Switch> switch_;
  std::unique_ptr<IoThreads> io_;
  std::vector<std::unique_ptr<link::Iso8583Client>> issuer_links_;
  std::unique_ptr<link::Iso8583Server> acquirer_server_;
  std::unique_ptr<AdviceRetryTimer> advice_timer_;
  HttpFront http_;
  bool stopped_ = false;
};

}  // namespace tapstack::server
