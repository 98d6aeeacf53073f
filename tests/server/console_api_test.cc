// The console's HTTP API end to end in one process: the demo switch with its issuers and TSP and a
// provisioned token (token_rail_test_util.h), a POS terminal sending real ISO 8583 over the
// in-memory acquirer link, and the console's routes on an HttpFront called over HTTP.
#include "server/console_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <future>

#include "acquirer/pos_terminal.h"
#include "link/in_memory_link.h"
#include "dcep/dcep_network.h"
#include "server/http_front.h"
#include "server/payment_rail.h"
#include "token_rail_test_util.h"

namespace tapstack::server {
namespace {

using nlohmann::json;
using testing::kWalletTrid;
using testing::TokenRailTest;

constexpr char kUser[] = "admin";
constexpr char kPassword[] = "console-test-password";

class ConsoleApiTest : public TokenRailTest {
 protected:
  void SetUp() override {
    TokenRailTest::SetUp();
    if (HasFatalFailure()) return;
    acquirer_link_ = std::make_unique<link::InMemoryLink>(*switch_);
    const demo::DemoMerchant& m = demo_.merchants[0];
    terminal_ = std::make_unique<acquirer::PosTerminal>(
        acquirer::TerminalConfig{m.terminal_id, m.merchant_id, m.name + " " + m.city, m.mcc,
                                 (*CountryByAlpha2(m.country))->numeric, m.acquirer_id},
        *acquirer_link_, SystemClock::Instance());
    ConsoleOptions options;
    options.user = kUser;
    options.password = kPassword;
    options.network = switch_.get();
    options.tsp = &tsp_->service();
    options.token_requestor_ids = {std::string(kWalletTrid)};
    options.data_dir = dir_;
    auto console = ConsoleApi::Create(std::move(options));
    ASSERT_TRUE(console.ok()) << console.status().ToString();
    console_ = std::move(*console);
    console_->InstallRoutes(http_.routes());
    ASSERT_TRUE(http_.Start("127.0.0.1", 0).ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", http_.port());
  }

  void TearDown() override {
    client_.reset();
    http_.Stop();
    console_.reset();
    terminal_.reset();
    acquirer_link_.reset();
    TokenRailTest::TearDown();
  }

  // A card-not-present sale of `minor` fen with demo card 0 of bank 0.
  std::string Buy(std::int64_t minor) {
    acquirer::Purchase p;
    p.pan = pan_;
    p.expiry = demo::kDemoCardExpiry;
    p.amount = Amount(minor, Cny());
    p.cvv2 = *demo::DemoCardCvv2(bank_->institution_id, pan_, p.expiry);
    std::promise<acquirer::PurchaseResult> done;
    terminal_->Purchase(p, [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
    return done.get_future().get().response_code();
  }

  std::string SignIn() {
    auto res = client_->Post("/v1/console/sessions", json{{"user", kUser}, {"password", kPassword}}.dump(),
                             "application/json");
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 201) << res->body;
    return json::parse(res->body).value("session", "");
  }

  httplib::Headers Auth(const std::string& session) { return {{"Authorization", "Bearer " + session}}; }

  // GET/POST with the session; the body parsed (null when not JSON).
  std::pair<int, json> Get(const std::string& path, const std::string& session) {
    auto res = client_->Get(path, Auth(session));
    if (!res) return {0, nullptr};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::pair<int, json> Post(const std::string& path, const std::string& session, const json& body) {
    auto res = client_->Post(path, Auth(session), body.dump(), "application/json");
    if (!res) return {0, nullptr};
    return {res->status, json::parse(res->body, nullptr, false)};
  }

  std::unique_ptr<link::InMemoryLink> acquirer_link_;
  std::unique_ptr<acquirer::PosTerminal> terminal_;
  std::unique_ptr<ConsoleApi> console_;
  HttpFront http_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ConsoleApiTest, SignInThenEveryRouteNeedsTheSession) {
  const std::string session = SignIn();
  ASSERT_EQ(session.size(), 64u);
  for (const char* path : {"/v1/console/metrics", "/v1/console/links", "/v1/console/settlement",
                           "/v1/console/transactions?last4=0015", "/v1/console/tokens/tok_x"}) {
    auto none = client_->Get(path);
    ASSERT_TRUE(none) << path;
    EXPECT_EQ(none->status, 401) << path;
    const json body = json::parse(none->body);
    EXPECT_EQ(body["error"], "unauthenticated") << path;
    EXPECT_EQ(body["field"], "Authorization") << path;
    EXPECT_EQ(Get(path, std::string(64, 'f')).first, 401) << path;  // not a session
  }
  EXPECT_EQ(Get("/v1/console/links", session).first, 200);
  auto out = client_->Delete("/v1/console/sessions/current", Auth(session));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  EXPECT_EQ(Get("/v1/console/links", session).first, 401);
}

TEST_F(ConsoleApiTest, WrongCredentialsAre401ThenRateLimited) {
  auto try_password = [this](const std::string& password) {
    return client_->Post("/v1/console/sessions", json{{"user", kUser}, {"password", password}}.dump(),
                         "application/json");
  };
  std::string first_message;
  for (int i = 0; i < kSignInFailuresMax; ++i) {
    auto res = try_password("wrong");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(json::parse(res->body)["error"], "unauthenticated");
  }
  auto wrong_user = client_->Post("/v1/console/sessions", json{{"user", "root"}, {"password", kPassword}}.dump(),
                                  "application/json");
  ASSERT_TRUE(wrong_user);
  EXPECT_EQ(wrong_user->status, 401);  // another name: not locked
  auto locked = try_password(kPassword);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 429);
  const json body = json::parse(locked->body);
  EXPECT_EQ(body["error"], "rate_limited");
  EXPECT_GE(body["retry_after_seconds"].get<int>(), 1);
  EXPECT_LE(body["retry_after_seconds"].get<int>(), kSignInFailureWindowSeconds);
  EXPECT_EQ(locked->get_header_value("Retry-After"), std::to_string(body["retry_after_seconds"].get<int>()));
  EXPECT_FALSE(body.contains("session"));

  auto bad = client_->Post("/v1/console/sessions", R"({"user": "admin"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["field"], "password");
}

TEST_F(ConsoleApiTest, MetricsShowTheTrafficOfTheLastSeconds) {
  const std::string session = SignIn();
  // Provisioning's ID&V request went through the switch too.
  const std::uint64_t requests_before = switch_->stats().requests.load();
  const std::uint64_t approved_before = switch_->stats().approved.load();
  console_->metrics().SampleNow();  // the starting point (the test drives the sampler)
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Buy(1'000 + i), "00");
  ASSERT_EQ(Buy(600'000), "51");  // more than the demo deposit
  console_->metrics().SampleNow();

  auto [status, body] = Get("/v1/console/metrics?seconds=60", session);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["interval_ms"], kMetricsSampleIntervalMs);
  ASSERT_EQ(body["samples"].size(), 1u);
  const json& s = body["samples"][0];
  for (const char* key : {"unix_ms", "interval_seconds", "requests", "approved", "declined", "stand_in",
                          "requests_per_second", "approved_per_second", "declined_per_second",
                          "stand_in_per_second", "approval_rate", "answered", "latency_p50_micros",
                          "latency_p90_micros", "latency_p99_micros"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  EXPECT_EQ(s["requests"], 4);
  EXPECT_EQ(s["approved"], 3);
  EXPECT_EQ(s["declined"], 1);
  EXPECT_DOUBLE_EQ(s["approval_rate"].get<double>(), 0.75);
  EXPECT_GT(s["requests_per_second"].get<double>(), 0);
  EXPECT_EQ(s["answered"], 4);
  EXPECT_GT(s["latency_p99_micros"].get<std::int64_t>(), 0);
  EXPECT_LE(s["latency_p50_micros"].get<std::int64_t>(), s["latency_p99_micros"].get<std::int64_t>());
  const json& totals = body["totals"];
  EXPECT_EQ(totals["requests"], requests_before + 4);
  EXPECT_EQ(totals["approved"], approved_before + 3);
  EXPECT_EQ(totals["answered"], static_cast<std::int64_t>(requests_before) + 4);
  EXPECT_GE(totals["latency_max_micros"].get<std::int64_t>(), totals["latency_p99_micros"].get<std::int64_t>());

  EXPECT_EQ(Get("/v1/console/metrics?seconds=0", session).first, 400);
  auto [bad_status, bad] = Get("/v1/console/metrics?seconds=abc", session);
  EXPECT_EQ(bad_status, 400);
  EXPECT_EQ(bad["field"], "seconds");
}

TEST_F(ConsoleApiTest, LinksListEveryIssuer) {
  const std::string session = SignIn();
  auto [status, body] = Get("/v1/console/links", session);
  ASSERT_EQ(status, 200);
  ASSERT_EQ(body["issuers"].size(), demo_.banks.size());
  bool found = false;
  for (const json& i : body["issuers"]) {
    EXPECT_TRUE(i["ready"].get<bool>()) << i.dump();
    EXPECT_EQ(i["advices_pending"], 0);
    EXPECT_EQ(i["stand_in_approved"], 0);
    if (i["institution_id"] == bank_->institution_id) {
      found = true;
      EXPECT_EQ(i["name"], bank_->name);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(body["advices_pending_total"], 0);
}

TEST_F(ConsoleApiTest, TransactionSearchShowsTheMaskedJournal) {
  const std::string session = SignIn();
  ASSERT_EQ(Buy(2'345), "00");
  ASSERT_EQ(Buy(600'000), "51");
  const std::string last4 = pan_.substr(pan_.size() - 4);
  const std::string masked = pan_.substr(0, 6) + std::string(pan_.size() - 10, '*') + last4;

  auto res = client_->Get("/v1/console/transactions?last4=" + last4 + "&limit=10", Auth(session));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  // Never the full card number, anywhere in the answer.
  EXPECT_EQ(res->body.find(pan_), std::string::npos);
  const json body = json::parse(res->body);
  // Our two sales, then the ID&V request of the card's provisioning (an 0100 from the TSP).
  ASSERT_EQ(body["transactions"].size(), 3u);
  EXPECT_EQ(body["transactions"][2]["mti"], "0100");
  const json& declined = body["transactions"][0];  // newest first
  const json& approved = body["transactions"][1];
  EXPECT_EQ(declined["response_code"], "51");
  EXPECT_FALSE(declined["approved"].get<bool>());
  EXPECT_EQ(approved["response_code"], "00");
  EXPECT_TRUE(approved["approved"].get<bool>());
  EXPECT_EQ(approved["masked_pan"], masked);
  EXPECT_EQ(approved["amount_minor"], 2'345);
  EXPECT_EQ(approved["currency"], "CNY");
  // Acquirer in, forward to the issuer, the issuer's answer, the answer to the acquirer.
  ASSERT_EQ(approved["messages"].size(), 4u);
  const json& m = approved["messages"];
  EXPECT_EQ(m[0]["direction"], "in");
  EXPECT_EQ(m[0]["peer"], "acquirer");
  EXPECT_EQ(m[1]["direction"], "out");
  EXPECT_EQ(m[1]["peer"], bank_->institution_id);
  EXPECT_EQ(m[2]["direction"], "in");
  EXPECT_EQ(m[3]["peer"], "acquirer");
  EXPECT_EQ(m[3]["response_code"], "00");
  EXPECT_EQ(m[0]["stan"], approved["stan"]);
  EXPECT_EQ(m[0]["message"]["fields"]["2"], masked);
  // The card security code is never journaled in clear.
  EXPECT_EQ(res->body.find(*demo::DemoCardCvv2(bank_->institution_id, pan_, demo::kDemoCardExpiry) + "\""),
            std::string::npos);

  auto [exact_status, exact] = Get("/v1/console/transactions?masked_pan=" + masked + "&limit=1", session);
  ASSERT_EQ(exact_status, 200);
  ASSERT_EQ(exact["transactions"].size(), 1u);
  EXPECT_EQ(exact["transactions"][0]["response_code"], "51");

  auto [limited_status, limited] = Get("/v1/console/transactions?last4=" + last4 + "&limit=2", session);
  ASSERT_EQ(limited_status, 200);
  ASSERT_EQ(limited["transactions"].size(), 2u);
  EXPECT_EQ(limited["transactions"][1]["response_code"], "00");

  auto [none_status, none] = Get("/v1/console/transactions?last4=9999", session);
  EXPECT_EQ(none_status, 200);
  EXPECT_TRUE(none["transactions"].empty());

  // A full card number is refused, not searched.
  auto [full_status, full] = Get("/v1/console/transactions?masked_pan=" + pan_, session);
  EXPECT_EQ(full_status, 400);
  EXPECT_EQ(full["field"], "masked_pan");
  EXPECT_EQ(full.dump().find(pan_), std::string::npos);
  EXPECT_EQ(Get("/v1/console/transactions?last4=12", session).second["field"], "last4");
  EXPECT_EQ(Get("/v1/console/transactions?last4=0015&limit=1000", session).second["field"], "limit");
}

TEST_F(ConsoleApiTest, TokenLifecycleActions) {
  const std::string session = SignIn();
  const std::string path = "/v1/console/tokens/" + token_.token_id;
  auto [status, body] = Get(path, session);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["token"]["state"], "active");
  EXPECT_EQ(body["token"]["masked_pan"], token_.masked_pan);
  EXPECT_EQ(body.dump().find(token_.token_number), std::string::npos);
  EXPECT_EQ(body.dump().find(pan_), std::string::npos);

  auto [s1, suspended] = Post(path + "/suspend", session, {{"reason", "customer called: phone lost"}});
  ASSERT_EQ(s1, 200) << suspended.dump();
  EXPECT_EQ(suspended["token"]["state"], "suspended");
  EXPECT_EQ(suspended["token"]["suspended_by"], "issuer");
  EXPECT_EQ(Get(path, session).second["token"]["state"], "suspended");
  // A suspended token cannot be suspended again: 409 with the reason from the lifecycle rules.
  auto [s2, again] = Post(path + "/suspend", session, {{"reason", "twice"}});
  EXPECT_EQ(s2, 409) << again.dump();
  auto [s3, resumed] = Post(path + "/resume", session, {{"reason", "phone found"}});
  ASSERT_EQ(s3, 200) << resumed.dump();
  EXPECT_EQ(resumed["token"]["state"], "active");

  auto [s4, no_reason] = Post(path + "/delete", session, json::object());
  EXPECT_EQ(s4, 400);
  EXPECT_EQ(no_reason["field"], "reason");
  EXPECT_EQ(Get(path, session).second["token"]["state"], "active");  // nothing changed

  auto [s5, unknown] = Post("/v1/console/tokens/tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/suspend", session,
                            {{"reason", "x"}});
  EXPECT_EQ(s5, 404) << unknown.dump();
  EXPECT_EQ(Get("/v1/console/tokens/tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", session).first, 404);
}

TEST_F(ConsoleApiTest, DigitalCurrencyNotRunningIs503) {
  auto [status, body] = Get("/v1/console/dcep", SignIn());
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["error"], "unavailable");
}

TEST_F(ConsoleApiTest, SettlementCutoffThenTheLastReport) {
  const std::string session = SignIn();
  auto [s0, before] = Get("/v1/console/settlement", session);
  ASSERT_EQ(s0, 200);
  EXPECT_TRUE(before["report"].is_null());
  ASSERT_EQ(Buy(10'000), "00");
  EXPECT_EQ(Get("/v1/console/settlement", session).second["open_records"], 1);

  auto [s1, cut] = Post("/v1/console/settlement/cutoff", session, json::object());
  ASSERT_EQ(s1, 200) << cut.dump();
  EXPECT_EQ(cut["report"]["cycle"], 1);
  EXPECT_EQ(cut["report"]["records"], 1);
  std::int64_t net = 0;
  bool named = false;
  for (const json& p : cut["report"]["positions"]) {
    net += p["net_minor"].get<std::int64_t>();
    if (p["institution_id"] == bank_->institution_id) named = p["bank_name"] == bank_->name;
  }
  EXPECT_EQ(net, 0);  // positions sum to zero per currency (one currency here)
  EXPECT_TRUE(named);

  auto [s2, last] = Get("/v1/console/settlement", session);
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(last["report"]["cycle"], 1);
  EXPECT_EQ(last["open_records"], 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "settlement" / "cycle-1.csv"));
}

// Stand-in shows per issuer: the whole demo rail in memory with one bank's link taken down.
TEST(ConsoleLinksTest, ALinkDownShowsRedWithItsStandInAndAdvices) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("tapstack-console-links-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto demo = demo::LoadDemoNetwork(*demo::DefaultSeedPath());
  ASSERT_TRUE(demo.ok()) << demo.status().ToString();
  PaymentRailOptions rail_options;
  rail_options.data_dir = dir;
  rail_options.cards_per_bank = 2;
  auto rail = PaymentRail::Start(*demo, rail_options);
  ASSERT_TRUE(rail.ok()) << rail.status().ToString();
  const demo::DemoBank& bank = demo->banks[1];
  (*rail)->SetIssuerLinkUp(bank.institution_id, false);

  ConsoleOptions options;
  options.user = kUser;
  options.password = kPassword;
  options.network = &(*rail)->network();
  options.data_dir = dir;
  auto console = ConsoleApi::Create(std::move(options));
  ASSERT_TRUE(console.ok());
  HttpFront http;
  (*console)->InstallRoutes(http.routes());
  ASSERT_TRUE(http.Start("127.0.0.1", 0).ok());
  httplib::Client client("127.0.0.1", http.port());

  // A small sale on that bank's card: approved by the switch in the issuer's stead.
  const std::string pan = *PaymentRail::CardNumber(*demo, 1, 0);
  const demo::DemoMerchant& m = demo->merchants[0];
  auto terminal = std::make_unique<acquirer::PosTerminal>(
      acquirer::TerminalConfig{m.terminal_id, m.merchant_id, m.name + " " + m.city, m.mcc,
                               (*CountryByAlpha2(m.country))->numeric, m.acquirer_id},
      (*rail)->acquirer_link(), SystemClock::Instance());
  acquirer::Purchase p;
  p.pan = pan;
  p.expiry = demo::kDemoCardExpiry;
  p.amount = Amount(1'000, Cny());
  p.cvv2 = *demo::DemoCardCvv2(bank.institution_id, pan, p.expiry);
  std::promise<acquirer::PurchaseResult> done;
  terminal->Purchase(p, [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
  ASSERT_EQ(done.get_future().get().response_code(), "00");

  auto session = client.Post("/v1/console/sessions", json{{"user", kUser}, {"password", kPassword}}.dump(),
                             "application/json");
  ASSERT_TRUE(session);
  ASSERT_EQ(session->status, 201);
  auto res = client.Get("/v1/console/links",
                        {{"Authorization", "Bearer " + json::parse(session->body)["session"].get<std::string>()}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  int down = 0;
  for (const json& i : body["issuers"]) {
    if (i["institution_id"] != bank.institution_id) {
      EXPECT_TRUE(i["ready"].get<bool>());
      EXPECT_EQ(i["stand_in_approved"], 0);
      continue;
    }
    ++down;
    EXPECT_FALSE(i["ready"].get<bool>());
    EXPECT_EQ(i["stand_in_approved"], 1);
    EXPECT_EQ(i["stand_in_declined"], 0);
    EXPECT_EQ(i["advices_pending"], 1);  // the 0120/0220 waiting for the bank
  }
  EXPECT_EQ(down, 1);
  EXPECT_EQ(body["advices_pending_total"], 1);

  terminal.reset();
  http.Stop();
  console->reset();
  rail->reset();
  std::filesystem::remove_all(dir);
}

// The digital currency's supply: what the central bank issued is what the operators hold.
TEST(ConsoleDcepTest, SupplyIssuedEqualsHeldPerOperator) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("tapstack-console-dcep-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  dcep::DcepNetworkOptions dcep_options;
  dcep_options.data_dir = dir;
  auto config_path = dcep::DefaultDcepConfigPath();
  ASSERT_TRUE(config_path.ok()) << config_path.status().ToString();
  auto config = dcep::LoadDcepConfig(*config_path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  dcep_options.config = *config;
  auto dcep = dcep::DcepNetwork::Open(std::move(dcep_options));
  ASSERT_TRUE(dcep.ok()) << dcep.status().ToString();
  const std::vector<std::string> ids = (*dcep)->operator_ids();
  ASSERT_FALSE(ids.empty());
  auto op = (*dcep)->operator_of(ids[0]);
  ASSERT_TRUE(op.ok());
  ASSERT_TRUE((*op)->RequestIssuance(123'456, "console-test-issuance").ok());

  // The console needs a switch; an empty one will do.
  auto demo = demo::LoadDemoNetwork(*demo::DefaultSeedPath());
  ASSERT_TRUE(demo.ok());
  auto switch_store = store::OpenSqlite(dir, "network");
  auto journal_store = store::OpenSqlite(dir, "network_journal");
  ASSERT_TRUE(switch_store.ok() && journal_store.ok());
  auto network = OpenDemoSwitch(*demo, SystemClock::Instance(), std::move(*switch_store), std::move(*journal_store));
  ASSERT_TRUE(network.ok()) << network.status().ToString();

  ConsoleOptions options;
  options.user = kUser;
  options.password = kPassword;
  options.network = network->get();
  options.dcep = dcep->get();
  options.data_dir = dir;
  auto console = ConsoleApi::Create(std::move(options));
  ASSERT_TRUE(console.ok());
  HttpFront http;
  (*console)->InstallRoutes(http.routes());
  ASSERT_TRUE(http.Start("127.0.0.1", 0).ok());
  httplib::Client client("127.0.0.1", http.port());
  auto session = client.Post("/v1/console/sessions", json{{"user", kUser}, {"password", kPassword}}.dump(),
                             "application/json");
  ASSERT_TRUE(session);
  ASSERT_EQ(session->status, 201);
  auto res = client.Get("/v1/console/dcep",
                        {{"Authorization", "Bearer " + json::parse(session->body)["session"].get<std::string>()}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["central_bank"]["issued_fen"], 123'456);
  EXPECT_EQ(body["central_bank"]["positions_sum_fen"], 123'456);
  EXPECT_EQ(body["held_fen"], 123'456);
  EXPECT_TRUE(body["balanced"].get<bool>());
  ASSERT_EQ(body["operators"].size(), ids.size());
  for (const json& o : body["operators"]) {
    const std::int64_t expected = o["id"] == ids[0] ? 123'456 : 0;
    EXPECT_EQ(o["position_fen"], expected) << o.dump();
    EXPECT_EQ(o["held_fen"], expected) << o.dump();
    EXPECT_TRUE(o["name"].is_string()) << o.dump();
    EXPECT_TRUE(o["revoked_devices"].empty());
  }

  http.Stop();
  console->reset();
  network->reset();
  dcep->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tapstack::server
