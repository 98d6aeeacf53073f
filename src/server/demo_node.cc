#include "server/demo_node.h"

#include <filesystem>
#include <system_error>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/currency.h"
#include "demo/demo_keys.h"
#include "crypto/csprng.h"
#include "core/hex.h"
#include "dcep/dcep_http.h"
#include "handset/handset_http.h"
#include "json_api/json_api.h"
#include "server/issuer_routes.h"
#include "server/web_routes.h"
#include "tsp/tsp_http.h"
#include "wallet/wallet_http.h"
#include "server/network_node.h"
#include "store/migration.h"
#include "store/sqlite_store.h"
#include "qrpay/qrpay_http.h"
#include "transit/transit_http.h"

namespace tapstack::server {

namespace {

constexpr char kVersion[] = "0.1.0";

const store::Migration kNodeMigrations[] = {
    {.version = 1,
     .description = "create node_starts",
     .sql = "CREATE TABLE node_starts (start_id BIGINT PRIMARY KEY, started_unix_ms BIGINT NOT NULL)",
     .sqlite_sql = "",
     .postgres_sql = ""},
};

// The purse master keys of `city`'s cards: the national purchase and maintenance keys every PSAM
// holds, and the city's own load and TAC keys (demo/demo_keys.h).
transit::TransitMasterKeys DemoTransitMasterKeys(const transit::CityNetwork& city) {
  return {demo::DemoTransitKey("t-union", "purchase"),
          demo::DemoTransitKey("t-union", "maintenance"),
          demo::DemoTransitKey(city.city_code(), "load"),
          demo::DemoTransitKey(city.city_code(), "tac")};
}

// 32 random bytes in hex: an admin token nobody outside this process knows.
std::string RandomToken() {
  Bytes r(32);
  crypto::Csprng csprng;
  if (!csprng.Fill(r).ok()) return {};  // an empty token refuses every admin call
  return HexEncode(r);
}

// Deletes the database files (SQLite and their WAL/SHM, the ledger's WAL) directly in `dir`.
Status RemoveDatabases(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::Ok();
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    bool is_db = name.ends_with(".db") || name.ends_with(".db-wal") || name.ends_with(".db-shm") ||
                 name.ends_with(".wal");
    if (!is_db) continue;
    if (!std::filesystem::remove(entry.path(), ec) && ec) {
      return IoError("cannot remove " + entry.path().string() + ": " + ec.message());
    }
  }
  if (ec) return IoError("cannot list " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<DemoNode>> DemoNode::Start(const ServeConfig& config) {
  std::unique_ptr<DemoNode> node(new DemoNode());
  node->config_ = config;
  // HTTPS only when http.tls_* are set (issue #10); first, so a bad certificate stops start-up early.
  TS_RETURN_IF_ERROR(node->http_.UseTls(config.http_tls_cert_file, config.http_tls_key_file));
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
  TS_ASSIGN_OR_RETURN(node->demo_, LoadConfiguredSeed(config));
  PaymentRailOptions rail_options;
  rail_options.cards_per_bank = config.cards_per_bank;
  rail_options.data_dir = config.data_dir;
  rail_options.tcp = true;
  rail_options.switch_bind = config.iso8583_bind;
  rail_options.switch_port = config.iso8583_port;
  TS_ASSIGN_OR_RETURN(node->rail_, PaymentRail::Start(node->demo_, rail_options));

  // The transit operators. Their top-up merchant is a terminal of the seed's first acquirer
  // reaching this node's switch over the in-memory acquirer link (the same ISO 8583 bytes as TCP).
  if (node->demo_.merchants.empty()) {
    return InvalidArgument("seed merchants: expected at least one (the transit top-up terminal "
                           "uses its acquirer)");
  }
  NetworkTopUpPaymentOptions top_up;
  top_up.terminal = TransitTopUpTerminalConfig(node->demo_.merchants[0].acquirer_id, "T-Union");
  top_up.link = &node->rail_->acquirer_link();
  TS_ASSIGN_OR_RETURN(node->top_up_, NetworkTopUpPayment::Create(std::move(top_up)));
  transit::TransitNetworkOptions transit_options;
  transit_options.keys = DemoTransitMasterKeys;
  transit_options.payment = node->top_up_.get();
  transit_options.data_dir = std::filesystem::path(config.data_dir) / kTransitDataSubdir;
  TS_ASSIGN_OR_RETURN(node->transit_, transit::TransitNetwork::Open(std::move(transit_options)));

  // The wallet payment platforms (QR payments), on this node's rail.
  QrWorldOptions qr_options;
  qr_options.data_dir = std::filesystem::path(config.data_dir) / kQrpayDataSubdir;
  qr_options.rail = node->rail_.get();
  qr_options.demo = &node->demo_;
  TS_ASSIGN_OR_RETURN(node->qr_, QrWorld::Start(std::move(qr_options)));

  // The digital currency (seed/dcep.json): the central bank and the operators, each issued its
  // demo float (idempotent by key: every start asks for the same issuance once).
  dcep::DcepNetworkOptions dcep_options;
  dcep_options.data_dir = std::filesystem::path(config.data_dir) / kDcepDataSubdir;
  dcep_options.postgres_url = config.store_url;  // "" = SQLite; ledgers stay files either way
  TS_ASSIGN_OR_RETURN(const std::filesystem::path dcep_config, dcep::DefaultDcepConfigPath());
  TS_ASSIGN_OR_RETURN(dcep_options.config, dcep::LoadDcepConfig(dcep_config));
  TS_ASSIGN_OR_RETURN(node->dcep_, dcep::DcepNetwork::Open(std::move(dcep_options)));
  for (const std::string& id : node->dcep_->operator_ids()) {
    TS_ASSIGN_OR_RETURN(dcep::Operator * op, node->dcep_->operator_of(id));
    TS_RETURN_IF_ERROR(op->RequestIssuance(kDemoIssuanceFen, "serve-issuance-" + id).status());
  }

  // The HTTP address first: the wallet calls the TSP's JSON API on this same listener.
  TS_RETURN_IF_ERROR(node->http_.Bind(config.http_bind, config.http_port));
  TS_ASSIGN_OR_RETURN(node->wallet_,
                      DemoWallet::Open(node->demo_, config.data_dir, LoopbackUrl(node->http_),
                                       node->http_.tls_cert_file()));  // trusts our own cert
  // The web app's phones and watches: their secure elements, and the merchants' POS terminals
  // reaching this node's switch over the in-memory acquirer link.
  handset::HandsetHostOptions handset_options;
  handset_options.data_dir = std::filesystem::path(config.data_dir) / kHandsetDataSubdir;
  handset_options.demo = &node->demo_;
  handset_options.acquirer_link = &node->rail_->acquirer_link();
  handset_options.api = {LoopbackUrl(node->http_), node->http_.tls_cert_file()};  // trusts our own cert
  wallet::WalletService* wallet_service = &node->wallet_->service();
  handset_options.authenticate = [wallet_service](std::string_view session) {
    return wallet_service->Authenticate(session);
  };
  TS_ASSIGN_OR_RETURN(node->handsets_, handset::HandsetHost::Open(std::move(handset_options)));
  // The operations console (docs/console.md) on this node's switch, TSP and digital currency.
  ConsoleOptions console;
  console.user = config.console_user;
  console.password = config.console_password;
  console.network = &node->rail_->network();
  console.tsp = &node->rail_->tsp().service();
  console.dcep = node->dcep_.get();
  for (const demo::DemoTokenRequestor& r : node->demo_.tsp.requestors) {
    console.token_requestor_ids.push_back(r.id);
  }
  console.data_dir = config.data_dir;
  TS_ASSIGN_OR_RETURN(node->console_, ConsoleApi::Create(std::move(console)));
  node->console_->Start();
  node->InstallRoutes();
  TS_RETURN_IF_ERROR(node->http_.Serve());
  return node;
}

void DemoNode::InstallRoutes() {
  http_.routes().Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"status", "ok"},
                    {"version", kVersion},
                    {"store", store_description()},
                    {"start_count", start_count_},
                    {"iso8583_port", rail_->switch_port()},
                    {"transit_cities", transit_->city_codes()}});
  });
  http_.routes().Get("/v1/currencies", [](const httplib::Request&, httplib::Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const Currency& c : AllCurrencies()) {
      list.push_back({{"code", c.alpha}, {"numeric", c.numeric}, {"exponent", c.exponent},
                      {"name", c.name}});
    }
    ReplyJson(res, {{"currencies", list}});
  });
  InstallNetworkRoutes(http_, rail_->network(), config_.data_dir);
  InstallIssuerRoutes(http_, rail_->issuers(), demo_);
  tsp::InstallTspRoutes(http_.routes(), rail_->tsp().service());
  wallet::InstallWalletRoutes(http_.routes(), wallet_->service());
  console_->InstallRoutes(http_.routes());
  handset::InstallHandsetRoutes(http_.routes(), *handsets_);
  // Admin routes closed: the token is random and never leaves the process.
  dcep::InstallDcepRoutes(http_.routes(), *dcep_, {.admin_token = RandomToken()});
  const std::string web_dir = config_.web_dir.empty() ? DefaultWebDir() : config_.web_dir;
  if (Status web = InstallWebRoutes(http_.routes(), web_dir); !web.ok()) {
    spdlog::warn("the web app is not served: {}", web.message());
  }
  transit::InstallTransitRoutes(http_.routes(), *transit_);
  // The platforms' app gateway is the wallet: an account is its signed-in user's, and only theirs.
  qrpay::QrpayHttpOptions qrpay_options;
  wallet::WalletService* wallet = &wallet_->service();
  qrpay_options.holder = [wallet](const httplib::Request& req) -> Result<std::string> {
    Result<std::string> user = wallet->Authenticate(json_api::BearerToken(req));
    if (!user.ok()) return FailedPrecondition("Authorization: a wallet session is required (Bearer <session>)");
    return user;
  };
  std::vector<std::string> platform_ids;
  for (qrpay::Platform* platform : qr_->platforms()) {
    qrpay::InstallQrpayRoutes(http_.routes(), *platform, qrpay_options);
    platform_ids.push_back(platform->id());
  }
  qrpay::InstallQrpayFallbackRoutes(http_.routes(), std::move(platform_ids));
}

Status DemoNode::ResetData(const std::string& data_dir) {
  TS_RETURN_IF_ERROR(RemoveDatabases(data_dir));
  TS_RETURN_IF_ERROR(RemoveDatabases(std::filesystem::path(data_dir) / kQrpayDataSubdir));
  TS_RETURN_IF_ERROR(RemoveDatabases(std::filesystem::path(data_dir) / kTransitDataSubdir));
  // Handsets (one directory per secure element, the gates' files) and the digital currency.
  for (const char* subdir : {kHandsetDataSubdir, kDcepDataSubdir}) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(data_dir) / subdir, ec);
    if (ec) return IoError("cannot remove " + data_dir + "/" + subdir + ": " + ec.message());
  }
  return Status::Ok();
}

void DemoNode::Stop() {
  http_.Stop();
  console_.reset();
  handsets_.reset();
  qr_.reset();
  transit_.reset();
  top_up_.reset();
  wallet_.reset();
  rail_.reset();
  if (store_) {
    (void)store_->Close();
  }
}

DemoNode::~DemoNode() { Stop(); }

std::string DemoNode::http_url() const { return http_.url(); }

Status DemoNode::Health() const {
  if (rail_ && rail_->issuers().ledger_failed()) {
    return IoError("the issuers' ledger failed a write; they answer nothing until restarted");
  }
  return rail_ ? rail_->network().Health() : Status::Ok();
}

std::vector<std::pair<std::string, std::string>> DemoNode::Summary() const {
  return {{"role", "all (network, " + std::to_string(demo_.banks.size()) + " issuer banks, in one process)"},
          {"wallet app", http_url() + "/app/   (sign up with any phone number; demo cards: `tapstack demo cards`)"},
          {"console", http_url() + "/console/   (sign in as " + config_.console_user +
                          (config_.console_password == ServeConfig{}.console_password
                               ? " / " + config_.console_password + ", the demo default)"
                               : ", with the password of the configuration)")},
          {"HTTP API", http_url() + "   (wallet /v1/users … /v1/cards, TSP /v1/tsp/…, network, issuer; docs/api.md)"},
          {"transit",
           std::to_string(transit_ ? transit_->city_codes().size() : 0) +
               " cities at /v1/transit/…   (data in " +
               (std::filesystem::path(config_.data_dir) / kTransitDataSubdir).string() + ")"},
          {"digital currency",
           std::to_string(dcep_ ? dcep_->operator_ids().size() : 0) +
               " operators and the central bank at /v1/dcep/…   (docs/dcep.md)"},
          {"QR payments",
           std::to_string(qr_ ? qr_->platforms().size() : 0) +
               " wallet platforms at /v1/qrpay/{tapstack-cn, induspay-pk}/…   (docs/qr-payments.md)"},
          {"ISO 8583", config_.iso8583_bind + ":" + std::to_string(rail_->switch_port()) +
                           "   (ascii profile, 2-byte length frame; acquirers → switch)"},
          {"data", store_description() + "   (start #" + std::to_string(start_count_) + " on this directory)"}};
}

}  // namespace tapstack::server
