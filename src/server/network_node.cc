#include "server/network_node.h"

#include <filesystem>
#include <fstream>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "link/tls_context.h"

namespace tapstack::server {

namespace {
constexpr int kIoThreads = 2;
constexpr int kAdviceRetryIntervalMs = 1'000;
}  // namespace

Result<network::SettlementReport> CutOffSettlement(network::Switch& network,
                                                   const std::filesystem::path& data_dir) {
  TS_ASSIGN_OR_RETURN(network::SettlementReport report, network.CutOff());
  const std::filesystem::path dir = data_dir / kSettlementSubdir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string base = "cycle-" + std::to_string(report.cycle);
  // Written aside and renamed: a reader (the console's last report) never sees half a file.
  bool written = true;
  for (const auto& [name, text] : {std::pair{base + ".csv", report.ToCsv()}, std::pair{base + ".json", report.ToJson()}}) {
    const std::filesystem::path tmp = dir / (name + ".tmp");
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.close();
    std::filesystem::rename(tmp, dir / name, ec);
    written = written && out && !ec;
  }
  if (!written) {
    spdlog::warn("settlement cycle {} closed, but {} could not be written", report.cycle,
                 (dir / base).string());
  }
  return report;
}

void InstallNetworkRoutes(HttpFront& http, network::Switch& network, std::string data_dir) {
  http.routes().Get("/v1/network/stats", [&network](const httplib::Request&, httplib::Response& res) {
    const network::SwitchStats& s = network.stats();
    nlohmann::json advices = nlohmann::json::object();
    std::int64_t pending = 0;
    for (const auto& [id, n] : network.PendingAdvices()) {
      if (n > 0) advices[id] = n;
      pending += n;
    }
    ReplyJson(res, {{"requests", s.requests.load()},
                    {"approved", s.approved.load()},
                    {"declined", s.declined.load()},
                    {"stand_in_approved", s.stand_in_approved.load()},
                    {"stand_in_declined", s.stand_in_declined.load()},
                    {"duplicates", s.duplicates.load()},
                    {"format_errors", s.format_errors.load()},
                    {"late_reversals", s.late_reversals.load()},
                    {"advices_delivered", s.advices_delivered.load()},
                    {"unanswered_store_failures", s.unanswered_store_failures.load()},
                    {"advices_pending_total", pending},
                    {"advices_pending", advices}});
  });
  http.routes().Post("/v1/settlement/cutoff", [&network, data_dir](const httplib::Request&, httplib::Response& res) {
    auto report = CutOffSettlement(network, data_dir);
    if (!report.ok()) return ReplyError(res, report.status());
    res.status = 200;
    res.set_content(report->ToJson(), "application/json");
  });
}

Result<std::unique_ptr<NetworkNode>> NetworkNode::Start(const ServeConfig& config, const demo::DemoNetwork& demo) {
  std::unique_ptr<NetworkNode> node(new NetworkNode());
  node->config_ = config;
  // HTTPS only when http.tls_* are set (issue #10); first, so a bad certificate stops start-up early.
  TS_RETURN_IF_ERROR(node->http_.UseTls(config.http_tls_cert_file, config.http_tls_key_file));
  // TLS on ISO 8583 (iso8583.tls_*, network.issuers[i].tls_*): the files are read now, so a bad
  // one stops start-up naming its key.
  std::shared_ptr<link::ServerTls> listener_tls;
  if (config.iso8583_tls.enabled()) {
    TS_ASSIGN_OR_RETURN(listener_tls, link::LoadServerTls(config.iso8583_tls, "iso8583."));
  }
  std::vector<std::shared_ptr<link::ClientTls>> issuer_tls(config.issuer_links.size());
  for (std::size_t i = 0; i < config.issuer_links.size(); ++i) {
    const IssuerLinkConfig& link = config.issuer_links[i];
    if (!link.tls.enabled()) continue;
    TS_ASSIGN_OR_RETURN(issuer_tls[i],
                        link::LoadClientTls(link.tls, link.host, "network.issuers[" + std::to_string(i) + "]."));
  }
  TS_ASSIGN_OR_RETURN(auto store, OpenRoleStore(config.store_url, config.data_dir, config.network_name));
  TS_ASSIGN_OR_RETURN(auto journal,
                      OpenRoleStore(config.store_url, config.data_dir, config.network_name + "_journal"));
  node->store_description_ = store->description();
  TS_ASSIGN_OR_RETURN(node->switch_, OpenDemoSwitch(demo, SystemClock::Instance(), std::move(store), std::move(journal)));

  node->io_ = std::make_unique<IoThreads>(kIoThreads);
  std::set<std::string> linked;
  for (std::size_t i = 0; i < config.issuer_links.size(); ++i) {
    const IssuerLinkConfig& link = config.issuer_links[i];
    for (const std::string& id : link.banks) {
      if (demo.BankById(id) == nullptr) {
        return InvalidArgument("network.issuers: '" + id + "' is not a bank of the seed");
      }
      if (!linked.insert(id).second) return InvalidArgument("network.issuers: bank '" + id + "' is listed twice");
    }
    auto client = ConnectIssuerHost(node->io_->io(), *node->switch_, demo, link.host, link.port,
                                    config.issuer_timeout_ms, link.banks, issuer_tls[i]);
    for (const std::string& id : link.banks) {
      TS_RETURN_IF_ERROR(AddDemoIssuer(*node->switch_, *demo.BankById(id), *client));
    }
    node->issuer_links_.push_back(std::move(client));
  }
  for (const demo::DemoBank& b : demo.banks) {
    if (!linked.contains(b.institution_id)) {
      spdlog::warn("network: bank {} ({}) has no issuer link: its cards are answered 15", b.institution_id, b.name);
    }
  }

  link::ServerOptions server;
  server.name = "switch";
  server.bind = config.iso8583_bind;
  server.port = config.iso8583_port;
  server.allowed_peers = config.allowed_peers;
  server.tls = listener_tls;
  node->acquirer_server_ = std::make_unique<link::Iso8583Server>(node->io_->io(), server, *node->switch_);
  TS_RETURN_IF_ERROR(node->acquirer_server_->Start());
  node->advice_timer_ = std::make_unique<AdviceRetryTimer>(node->io_->io(), *node->switch_, kAdviceRetryIntervalMs);

  node->http_.routes().Get("/health", [](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"status", "ok"}, {"role", "network"}});
  });
  InstallNetworkRoutes(node->http_, *node->switch_, config.data_dir);
  TS_RETURN_IF_ERROR(node->http_.Start(config.http_bind, config.http_port));
  return node;
}

std::vector<std::pair<std::string, std::string>> NetworkNode::Summary() const {
  std::vector<std::pair<std::string, std::string>> lines = {
      {"role", "network (switch)"},
      {"HTTP API", http_.url() + "   (GET /health, /v1/network/stats; POST /v1/settlement/cutoff)"},
      {"ISO 8583", config_.iso8583_bind + ":" + std::to_string(acquirer_server_->port()) + "   (acquirers" +
                       (config_.iso8583_tls.enabled() ? ", TLS)" : ")")},
      {"store", store_description_}};
  for (const IssuerLinkConfig& link : config_.issuer_links) {
    lines.emplace_back("issuer link", link.host + ":" + std::to_string(link.port) + "   (" +
                                          std::to_string(link.banks.size()) + " banks" +
                                          (link.tls.enabled() ? ", TLS)" : ")"));
  }
  return lines;
}

Status NetworkNode::Health() const { return switch_ ? switch_->Health() : Status::Ok(); }

void NetworkNode::Stop() {
  if (stopped_) return;
  stopped_ = true;
  http_.Stop();
  if (switch_) switch_->StopTokenStep();
  if (io_) {
    asio::post(io_->io(), [this] {
      if (advice_timer_) advice_timer_->Cancel();
    });
    for (auto& link : issuer_links_) link->Stop();
    if (acquirer_server_) acquirer_server_->Stop();
    io_->Stop();
  }
  advice_timer_.reset();
  acquirer_server_.reset();
  // The switch before its issuer links: while its store writer drains, its callbacks still ask
  // a link whether it is up (advice delivery).
  switch_.reset();
  issuer_links_.clear();
}

}  // namespace tapstack::server
