#include "server/issuer_node.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/demo_wiring.h"

namespace tapstack::server {

namespace {
constexpr int kIoThreads = 2;

}  // namespace

Result<std::unique_ptr<IssuerNode>> IssuerNode::Start(const ServeConfig& config, const demo::DemoNetwork& demo) {
  std::unique_ptr<IssuerNode> node(new IssuerNode());
  node->config_ = config;
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
  http_.routes().Get("/v1/issuer/stats", [this](const httplib::Request&, httplib::Response& res) {
    const issuer::IssuerStats& s = host_->stats();
    ReplyJson(res, {{"requests", s.requests.load()},
                    {"approved", s.approved.load()},
                    {"declined", s.declined.load()},
                    {"batches", s.batches.load()},
                    {"cards", host_->card_count()}});
  });
  http_.routes().Get("/v1/issuer/authorizations", [this](const httplib::Request& req, httplib::Response& res) {
    std::string fields[5];
    const char* names[5] = {"institution_id", "acquirer_id", "terminal_id", "stan", "transmission_time"};
    for (int i = 0; i < 5; ++i) {
      if (!req.has_param(names[i])) {
        return ReplyError(res, InvalidArgument(std::string("query parameter '") + names[i] + "' is required"));
      }
      fields[i] = req.get_param_value(names[i]);
    }
    auto found = host_->FindAuthorization(fields[0], fields[1], fields[2], fields[3], fields[4]);
    if (!found.ok()) return ReplyError(res, found.status());
    ReplyJson(res, {{"state", issuer::AuthorizationStateName(found->state)},
                    {"amount_minor", found->amount_minor},
                    {"posted_minor", found->posted_minor},
                    {"stand_in", found->stand_in}});
  });
  http_.routes().Get("/v1/issuer/audit", [this](const httplib::Request&, httplib::Response& res) {
    ledger::AuditReport report;
    Status audit = host_->ledger().Audit(&report);
    nlohmann::json ledgers = nlohmann::json::array();
    for (const ledger::LedgerTotals& t : report.ledgers) {
      ledgers.push_back({{"ledger", t.ledger},
                         {"accounts", t.accounts},
                         {"transfers", t.transfers},
                         {"holds_pending", t.holds_pending},
                         {"debits_posted", t.debits_posted.ToDecimal()},
                         {"credits_posted", t.credits_posted.ToDecimal()},
                         {"debits_pending", t.debits_pending.ToDecimal()},
                         {"credits_pending", t.credits_pending.ToDecimal()}});
    }
    ReplyJson(res,
              {{"ok", audit.ok()}, {"message", audit.ok() ? "" : audit.ToString()}, {"ledgers", ledgers},
               {"accounts", report.accounts}, {"transfers", report.transfers}},
              audit.ok() ? 200 : 409);
  });
}

std::vector<std::pair<std::string, std::string>> IssuerNode::Summary() const {
  return {{"role", "issuer '" + config_.issuer_name + "' (" + std::to_string(bank_count_) + " banks, " +
                       std::to_string(host_->card_count()) + " cards)"},
          {"HTTP API", http_.url() + "   (GET /health, /v1/issuer/stats, /v1/issuer/authorizations, /v1/issuer/audit)"},
          {"ISO 8583", config_.iso8583_bind + ":" + std::to_string(server_->port()) + "   (from the network)"},
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
