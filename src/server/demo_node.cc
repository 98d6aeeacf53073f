#include "server/demo_node.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/currency.h"
#include "store/migration.h"
#include "store/sqlite_store.h"

namespace tapstack::server {

namespace {

constexpr char kVersion[] = "0.1.0";
constexpr int kHttpStartWaitMs = 2000;

const store::Migration kNodeMigrations[] = {
    {.version = 1,
     .description = "create node_starts",
     .sql = "CREATE TABLE node_starts (start_id BIGINT PRIMARY KEY, started_unix_ms BIGINT NOT NULL)",
     .sqlite_sql = "",
     .postgres_sql = ""},
};

void ReplyJson(httplib::Response& res, const nlohmann::json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

}  // namespace

Result<std::unique_ptr<DemoNode>> DemoNode::Start(const ServeConfig& config) {
  std::unique_ptr<DemoNode> node(new DemoNode());
  node->config_ = config;
  TS_ASSIGN_OR_RETURN(node->store_, store::OpenSqlite(config.data_dir, kNodeRole));
  store::Store& db = *node->store_;
  TS_RETURN_IF_ERROR(store::ApplyMigrations(db, kNodeMigrations));
  TS_RETURN_IF_ERROR(db.RunInTransaction([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(store::Row row,
                        s.QueryRow("SELECT COALESCE(MAX(start_id), 0) AS last FROM node_starts"));
    TS_ASSIGN_OR_RETURN(std::int64_t last, row.GetInt64("last"));
    node->start_count_ = last + 1;
    return s.Execute("INSERT INTO node_starts (start_id, started_unix_ms) VALUES (?, ?)",
                     {store::Value::Int64(node->start_count_),
                      store::Value::Int64(SystemClock::Instance().NowUnixMillis())})
        .status();
  }));

  // The card payment rail: network switch and issuer banks of the seeded demo network.
  std::filesystem::path seed = config.seed_file;
  if (seed.empty()) {
    TS_ASSIGN_OR_RETURN(seed, demo::DefaultSeedPath());
  }
  TS_ASSIGN_OR_RETURN(node->demo_, demo::LoadDemoNetwork(seed));
  PaymentRailOptions rail_options;
  rail_options.data_dir = config.data_dir;
  rail_options.tcp = true;
  rail_options.switch_bind = config.iso8583_bind;
  rail_options.switch_port = config.iso8583_port;
  TS_ASSIGN_OR_RETURN(node->rail_, PaymentRail::Start(node->demo_, rail_options));

  node->http_ = std::make_unique<httplib::Server>();
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second node silently share the
  // port; keep only SO_REUSEADDR (fast restart after a crash).
  node->http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  node->InstallRoutes();
  node->bound_port_ = config.http_port == 0 ? node->http_->bind_to_any_port(config.http_bind)
                                            : (node->http_->bind_to_port(config.http_bind,
                                                                         config.http_port)
                                                   ? config.http_port
                                                   : -1);
  if (node->bound_port_ < 0) {
    return Unavailable("cannot listen on " + config.http_bind + ":" +
                       std::to_string(config.http_port) + " (address in use or not local)");
  }
  httplib::Server* http = node->http_.get();
  node->http_thread_ = std::thread([http] { http->listen_after_bind(); });
  // The socket already listens; wait (bounded) for the accept loop so Stop() cannot race it.
  for (int i = 0; i < kHttpStartWaitMs && !http->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return node;
}

void DemoNode::InstallRoutes() {
  http_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"status", "ok"},
                    {"version", kVersion},
                    {"store", store_description()},
                    {"start_count", start_count_}});
  });
  http_->Get("/v1/currencies", [](const httplib::Request&, httplib::Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const Currency& c : AllCurrencies()) {
      list.push_back({{"code", c.alpha}, {"numeric", c.numeric}, {"exponent", c.exponent},
                      {"name", c.name}});
    }
    ReplyJson(res, {{"currencies", list}});
  });
  http_->Get("/v1/network/stats", [this](const httplib::Request&, httplib::Response& res) {
    const network::SwitchStats& s = rail_->network().stats();
    nlohmann::json advices = nlohmann::json::object();
    for (const auto& [id, n] : rail_->network().PendingAdvices()) {
      if (n > 0) advices[id] = n;
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
                    {"advices_pending", advices}});
  });
  // Closes the clearing cycle: net positions per bank and currency (they sum to zero), also
  // written to <data_dir>/settlement/cycle-N.csv and .json.
  http_->Post("/v1/settlement/cutoff", [this](const httplib::Request&, httplib::Response& res) {
    auto report = rail_->network().CutOff();
    if (!report.ok()) {
      return ReplyJson(res, {{"error", ErrorCodeName(report.status().code())}, {"message", report.status().message()}}, 500);
    }
    const std::filesystem::path dir = std::filesystem::path(config_.data_dir) / "settlement";
    std::filesystem::create_directories(dir);
    const std::string base = "cycle-" + std::to_string(report->cycle);
    std::ofstream(dir / (base + ".csv")) << report->ToCsv();
    std::ofstream(dir / (base + ".json")) << report->ToJson();
    res.status = 200;
    res.set_content(report->ToJson(), "application/json");
  });
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404) {
      ReplyJson(res, {{"error", "not_found"}, {"message", "no route for " + req.method + " " + req.path}},
                404);
    }
  });
}

Status DemoNode::ResetData(const std::string& data_dir) {
  std::error_code ec;
  if (!std::filesystem::exists(data_dir, ec)) return Status::Ok();
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
    const std::string name = entry.path().filename().string();
    bool is_db = name.ends_with(".db") || name.ends_with(".db-wal") || name.ends_with(".db-shm") ||
                 name.ends_with(".wal");
    if (!is_db) continue;
    if (!std::filesystem::remove(entry.path(), ec) && ec) {
      return IoError("cannot remove " + entry.path().string() + ": " + ec.message());
    }
  }
  if (ec) return IoError("cannot list " + data_dir + ": " + ec.message());
  return Status::Ok();
}

void DemoNode::Stop() {
  rail_.reset();
  if (http_) {
    http_->stop();
    if (http_thread_.joinable()) http_thread_.join();
    http_.reset();
  }
  if (store_) {
    (void)store_->Close();
  }
}

DemoNode::~DemoNode() { Stop(); }

std::string DemoNode::http_url() const {
  return "http://" + config_.http_bind + ":" + std::to_string(bound_port_);
}

}  // namespace tapstack::server
