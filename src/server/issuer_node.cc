#include "server/issuer_node.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "link/tls_context.h"
#include "server/demo_wiring.h"
#include "server/issuer_routes.h"

namespace tapstack::server {

namespace {
constexpr int kIoThreads = 2;

}  // namespace

Result<std::unique_ptr<IssuerNode>> IssuerNode::Start(const ServeConfig& config, const demo::DemoNetwork& demo) {
  std::unique_ptr<IssuerNode> node(new IssuerNode());
  node->config_ = config;
  // HTTPS only when http.tls_* are set (issue #10); first, so a bad certificate stops start-up early.
  TS_RETURN_IF_ERROR(node->http_.UseTls(config.http_tls_cert_file, config.http_tls_key_file));
  // TLS on the network-facing ISO 8583 listener (iso8583.tls_*): read now, like the HTTP files.
  std::shared_ptr<link::ServerTls> listener_tls;
  if (config.iso8583_tls.enabled()) {
    TS_ASSIGN_OR_RETURN(listener_tls, link::LoadServerTls(config.iso8583_tls, "iso8583."));
  }
  node->demo_ = demo;
  TS_ASSIGN_OR_RETURN(std::vector<issuer::IssuerBankConfig> banks, DemoIssuerBanks(demo, config.issuer_banks));
  const std::vector<std::string> bank_ids = InstitutionIds(banks);
  node->bank_count_ = banks.size();
  issuer::IssuerOptions options;
  options.data_dir = config.data_dir;
  options.name = config.issuer_name;
  TS_ASSIGN_OR_RETURN(options.cards_store, OpenRoleStore(config.store_url, config.data_dir, config.issuer_name));
  node->store_description_ = options.cards_store->description();
  TS_ASSIGN_OR_RETURN(node->host_, issuer::IssuerHost::Open(std::move(options), std::move(banks)));
  TS_RETURN_IF_ERROR(SeedDemoCards(*node->host_, demo, bank_ids, config.cards_per_bank));

  node->io_ = std::make_unique<IoThreads>(kIoThreads);
  link::ServerOptions server;
  server.name = config.issuer_name;
  server.bind = config.iso8583_bind;
  server.port = config.iso8583_port;
  server.allowed_peers = config.allowed_peers;
  server.tls = listener_tls;
  node->server_ = std::make_unique<link::Iso8583Server>(node->io_->io(), server, *node->host_);
  TS_RETURN_IF_ERROR(node->server_->Start());
  node->InstallRoutes();
  TS_RETURN_IF_ERROR(node->http_.Start(config.http_bind, config.http_port));
  return node;
}

void IssuerNode::InstallRoutes() {
  http_.routes().Get("/health", [](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"status", "ok"}, {"role", "issuer"}});
  });
  InstallIssuerRoutes(http_, *host_, demo_);
}

Status IssuerNode::Health() const {
  if (host_ && host_->ledger_failed()) {
    return IoError("the issuer's ledger failed a write; the host answers nothing until restarted");
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> IssuerNode::Summary() const {
  return {{"role", "issuer '" + config_.issuer_name + "' (" + std::to_string(bank_count_) + " banks, " +
                       std::to_string(host_->card_count()) + " cards)"},
          {"HTTP API", http_.url() + "   (GET /health, /v1/issuer/stats, /v1/issuer/authorizations, /v1/issuer/audit; POST /v1/issuer/cards/balance)"},
          {"ISO 8583", config_.iso8583_bind + ":" + std::to_string(server_->port()) + "   (from the network" +
                           (config_.iso8583_tls.enabled() ? ", TLS)" : ")")},
          {"store", store_description_ + "; ledger in " + config_.data_dir}};
}

void IssuerNode::Stop() {
  if (stopped_) return;
  stopped_ = true;
  http_.Stop();
  if (server_) server_->Stop();
  if (io_) io_->Stop();
  server_.reset();
  host_.reset();
}

}  // namespace tapstack::server
