// IssuerNode: issuer banks as a process of their own (`tapstack serve --role issuer`): the banks
// named in [issuer] banks (default every seed bank) in one IssuerHost with its demo cards, an
// ISO 8583 listener for the network (accepting only [iso8583] allowed_peers when set), card
// records on SQLite or PostgreSQL, the ledger file under data_dir, and the issuer's HTTP API
// (server/issuer_routes.h).
#pragma once

#include <memory>
#include <string>

#include "issuer/issuer_host.h"
#include "link/tcp_server.h"
#include "server/http_front.h"
#include "server/io_threads.h"
#include "server/role_node.h"

namespace tapstack::server {

class IssuerNode final : public RoleNode {
 public:
  static Result<std::unique_ptr<IssuerNode>> Start(const ServeConfig& config, const demo::DemoNetwork& demo);
  ~IssuerNode() override { Stop(); }

  std::vector<std::pair<std::string, std::string>> Summary() const override;
  Status Health() const override;
  void Stop() override;

 private:
  IssuerNode() = default;
  void InstallRoutes();

  ServeConfig config_;
  demo::DemoNetwork demo_;
  std::string store_description_;
  std::size_t bank_count_ = 0;
  std::unique_ptr<issuer::IssuerHost> host_;
  std::unique_ptr<IoThreads> io_;
  std::unique_ptr<link::Iso8583Server> server_;
  HttpFront http_;
  bool stopped_ = false;
};

}  // namespace tapstack::server
