// The payment rail as separate processes on loopback: a network, three issuer processes (the 22
// demo banks split between them) and an acquirer, each `tapstack serve --role … --config FILE`.
// The network's store is on PostgreSQL when TAPSTACK_TEST_PG_URL is set (always in CI).
//   - An issuer is killed with SIGKILL under load: its banks' cards are stood in for by the
//     network, and once it is back every stand-in approval reaches its ledger as an advice.
//   - The whole stack is killed with SIGKILL under load and restarted: every approval the client
//     received is in an issuer ledger, and every ledger passes its audit.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "demo/demo_network.h"
#include "support/subprocess.h"

namespace tapstack::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChildProcess;

constexpr int kIssuers = 3;
constexpr int kCardsPerBank = 20;
constexpr int kHealthWaitMs = 30'000;
constexpr int kAdviceDrainWaitMs = 30'000;

std::string TomlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
  return out + "]";
}

// What the client saw for one purchase.
struct Outcome {
  std::string bank;
  int issuer = 0;
  int http_status = 0;
  bool approved = false;
  std::string approval_code;
  std::string acquirer_id, terminal_id, stan, transmission_time;
};

class Stack {
 public:
  Stack() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tapstack-mp-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    auto seed = demo::DefaultSeedPath();
    auto network = demo::LoadDemoNetwork(*seed);
    if (!network.ok()) throw std::runtime_error(network.status().ToString());
    demo_ = *network;
    for (std::size_t b = 0; b < demo_.banks.size(); ++b) {
      banks_[b % kIssuers].push_back(demo_.banks[b].institution_id);
    }
    if (const char* url = std::getenv("TAPSTACK_TEST_PG_URL"); url != nullptr && *url != '\0') pg_url_ = url;
    network_name_ = "net_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}() % 100000);
    net_iso_ = testing::FreeTcpPort();
    net_http_ = testing::FreeTcpPort();
    acq_http_ = testing::FreeTcpPort();
    for (int i = 0; i < kIssuers; ++i) {
      iss_iso_[i] = testing::FreeTcpPort();
      iss_http_[i] = testing::FreeTcpPort();
    }
    WriteConfigs();
  }
  ~Stack() {
    KillAll();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const demo::DemoNetwork& demo() const { return demo_; }
  bool on_postgres() const { return !pg_url_.empty(); }
  const std::vector<std::string>& banks(int issuer) const { return banks_[issuer]; }
  int IssuerOf(const std::string& bank) const {
    for (int i = 0; i < kIssuers; ++i) {
      if (std::find(banks_[i].begin(), banks_[i].end(), bank) != banks_[i].end()) return i;
    }
    return -1;
  }
  std::uint16_t acquirer_port() const { return acq_http_; }
  json PostAcquirer(const std::string& path, const json& body) {
    httplib::Client client("127.0.0.1", acq_http_);
    client.set_read_timeout(30, 0);
    auto res = client.Post(path, body.dump(), "application/json");
    if (!res) return json{{"http_error", httplib::to_string(res.error())}};
    json out = json::parse(res->body, nullptr, false);
    out["http_status"] = res->status;
    return out;
  }

  void StartIssuer(int i) {
    issuers_[i] = Spawn("issuer" + std::to_string(i));
    WaitHealthy(iss_http_[i], "issuer" + std::to_string(i), false);
  }
  void StartNetwork() {
    network_ = Spawn("network");
    WaitHealthy(net_http_, "network", false);
  }
  void StartAcquirer() {
    acquirer_ = Spawn("acquirer");
    WaitHealthy(acq_http_, "acquirer", true);
  }
  void StartAll() {
    for (int i = 0; i < kIssuers; ++i) StartIssuer(i);
    StartNetwork();
    StartAcquirer();
  }
  void KillIssuer(int i) { Kill(issuers_[i]); }
  void KillAll() {
    // SIGKILL everything at once, then reap.
    for (auto* p : {&network_, &acquirer_, &issuers_[0], &issuers_[1], &issuers_[2]}) {
      if (*p) (*p)->Signal(SIGKILL);
    }
    for (auto* p : {&network_, &acquirer_, &issuers_[0], &issuers_[1], &issuers_[2]}) p->reset();
  }

  json Get(std::uint16_t port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10, 0);
    auto res = client.Get(path);
    if (!res) return json{{"http_error", httplib::to_string(res.error())}};
    json body = json::parse(res->body, nullptr, false);
    body["http_status"] = res->status;
    return body;
  }
  json NetworkStats() { return Get(net_http_, "/v1/network/stats"); }
  json Authorization(const Outcome& o) {
    return Get(iss_http_[o.issuer], "/v1/issuer/authorizations?institution_id=" + o.bank + "&acquirer_id=" +
                                        o.acquirer_id + "&terminal_id=" + o.terminal_id + "&stan=" + o.stan +
                                        "&transmission_time=" + o.transmission_time);
  }
  json Audit(int issuer) { return Get(iss_http_[issuer], "/v1/issuer/audit"); }

  // Waits until the network has delivered every stored advice.
  bool WaitAdvicesDelivered() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAdviceDrainWaitMs);
    while (std::chrono::steady_clock::now() < deadline) {
      json stats = NetworkStats();
      if (stats.value("advices_pending_total", -1) == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  std::string Log(const std::string& name) {
    std::ifstream in(dir_ / (name + ".log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void WriteConfigs() {
    for (int i = 0; i < kIssuers; ++i) {
      std::ofstream(dir_ / ("issuer" + std::to_string(i) + ".toml"))
          << "role = \"issuer\"\n[store]\ndata_dir = \"" << (dir_ / ("issuer" + std::to_string(i))).string()
          << "\"\n[http]\nport = " << iss_http_[i] << "\n[iso8583]\nport = " << iss_iso_[i]
          << "\nallowed_peers = [\"127.0.0.1\"]\n[demo]\ncards_per_bank = " << kCardsPerBank
          << "\n[issuer]\nname = \"issuer" << i << "\"\nbanks = " << TomlList(banks_[i]) << "\n";
    }
    std::ofstream network(dir_ / "network.toml");
    network << "role = \"network\"\n[store]\ndata_dir = \"" << (dir_ / "network").string() << "\"\n";
    if (!pg_url_.empty()) network << "url = \"" << pg_url_ << "\"\n";
    network << "[http]\nport = " << net_http_ << "\n[iso8583]\nport = " << net_iso_
            << "\nallowed_peers = [\"127.0.0.1\"]\n[network]\nname = \"" << network_name_
            << "\"\nissuer_timeout_ms = 1000\n";
    for (int i = 0; i < kIssuers; ++i) {
      network << "[[network.issuers]]\nport = " << iss_iso_[i] << "\nbanks = " << TomlList(banks_[i]) << "\n";
    }
    std::ofstream(dir_ / "acquirer.toml") << "role = \"acquirer\"\n[store]\ndata_dir = \""
                                          << (dir_ / "acquirer").string() << "\"\n[http]\nport = " << acq_http_
                                          << "\n[acquirer]\nnetwork_port = " << net_iso_
                                          << "\nnetwork_timeout_ms = 3000\n";
  }
  std::unique_ptr<ChildProcess> Spawn(const std::string& name) {
    return std::make_unique<ChildProcess>(testing::TapstackBinary(),
                                          std::vector<std::string>{"serve", "--config", (dir_ / (name + ".toml")).string()},
                                          (dir_ / (name + ".log")).string());
  }
  void Kill(std::unique_ptr<ChildProcess>& p) {
    if (!p) return;
    p->Signal(SIGKILL);
    p.reset();
  }
  // `what` names the process and its log file.
  void WaitHealthy(std::uint16_t port, const std::string& what, bool need_network_link) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kHealthWaitMs);
    while (std::chrono::steady_clock::now() < deadline) {
      json health = Get(port, "/health");
      if (health.value("status", "") == "ok" && (!need_network_link || health.value("network_link_ready", false))) {
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error(what + " did not become healthy; its log:\n" + Log(what));
  }

  std::filesystem::path dir_;
  demo::DemoNetwork demo_;
  std::vector<std::string> banks_[kIssuers];
  std::string pg_url_;
  std::string network_name_;
  std::uint16_t net_iso_ = 0, net_http_ = 0, acq_http_ = 0;
  std::uint16_t iss_iso_[kIssuers] = {}, iss_http_[kIssuers] = {};
  std::unique_ptr<ChildProcess> network_, acquirer_, issuers_[kIssuers];
};

// Client threads buying through the acquirer's HTTP API with demo cards of every bank.
class Load {
 public:
  Load(Stack& stack, int threads) : stack_(stack) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<Outcome> outcomes() {
    std::lock_guard lock(mu_);
    return outcomes_;
  }
  int approvals() const { return approvals_; }
  // Approvals for cards of `issuer`'s banks since the start.
  int approvals_at(int issuer) const { return approvals_at_[issuer]; }

 private:
  void Run(int thread_index) {
    httplib::Client client("127.0.0.1", stack_.acquirer_port());
    client.set_read_timeout(10, 0);
    std::mt19937 rng(static_cast<unsigned>(thread_index) * 7919u + 1);
    const auto& banks = stack_.demo().banks;
    while (!stop_) {
      const auto& bank = banks[rng() % banks.size()];
      int index = 4 + static_cast<int>(rng() % (kCardsPerBank - 4));  // cards 0-3 carry rule demos
      const std::int64_t amount = 100 + static_cast<std::int64_t>(rng() % 2'000);
      json request = {{"terminal_id", "TERM0001"},
                      {"card", {{"bank", bank.institution_id}, {"index", index}}},
                      {"amount_minor", amount}};
      auto res = client.Post("/v1/acquirer/purchases", request.dump(), "application/json");
      Outcome o;
      o.bank = bank.institution_id;
      o.issuer = stack_.IssuerOf(bank.institution_id);
      if (!res) {
        std::this_thread::sleep_for(20ms);  // the acquirer is down (killed): no outcome
        continue;
      }
      o.http_status = res->status;
      json body = json::parse(res->body, nullptr, false);
      if (res->status == 200 && body.is_object()) {
        o.approved = body.value("approved", false);
        o.approval_code = body.value("approval_code", "");
        o.acquirer_id = body.value("acquirer_id", "");
        o.terminal_id = body.value("terminal_id", "");
        o.stan = body.value("stan", "");
        o.transmission_time = body.value("transmission_time", "");
      }
      std::lock_guard lock(mu_);
      outcomes_.push_back(o);
      if (o.approved) {
        ++approvals_;
        ++approvals_at_[o.issuer];
      }
    }
  }

  Stack& stack_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<Outcome> outcomes_;
  std::atomic<int> approvals_{0};
  std::atomic<int> approvals_at_[kIssuers] = {};
};

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

bool IsStandIn(const Outcome& o) { return !o.approval_code.empty() && o.approval_code[0] == 'S'; }

class MultiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ci = std::getenv("CI");
    const char* url = std::getenv("TAPSTACK_TEST_PG_URL");
    if (ci != nullptr && std::string(ci) == "true" && (url == nullptr || *url == '\0')) {
      FAIL() << "CI must run these tests with the network store on PostgreSQL (TAPSTACK_TEST_PG_URL)";
    }
  }

  // Every approval the client saw is a hold (or a posting) in its issuer's ledger.
  void ExpectEveryApprovalInALedger(Stack& stack, const std::vector<Outcome>& outcomes) {
    int checked = 0;
    for (const Outcome& o : outcomes) {
      if (!o.approved) continue;
      json state = stack.Authorization(o);
      const std::string s = state.value("state", "");
      EXPECT_TRUE(s == "pending" || s == "posted")
          << "approval " << o.approval_code << " of bank " << o.bank << " STAN " << o.stan << " is " << state.dump();
      if (IsStandIn(o) && s == "pending") {
        // A stand-in approval the issuer had not made itself arrived as an advice.
        ++stand_in_held_;
      }
      ++checked;
    }
    EXPECT_GT(checked, 0);
  }
  void ExpectAuditsPass(Stack& stack) {
    for (int i = 0; i < kIssuers; ++i) {
      json audit = stack.Audit(i);
      EXPECT_EQ(audit.value("ok", false), true) << "issuer " << i << ": " << audit.dump();
      EXPECT_GT(audit["ledgers"].size(), 0u);
    }
  }
  int stand_in_held_ = 0;
};

TEST_F(MultiProcessTest, IssuerKilledUnderLoadIsStoodInForThenGetsItsAdvices) {
  Stack stack;
  stack.StartAll();
  constexpr int kVictim = 1;
  {
    Load load(stack, 4);
    ASSERT_TRUE(WaitFor([&] { return load.approvals_at(kVictim) >= 30; }, 20s)) << "no traffic reached issuer 1";
    stack.KillIssuer(kVictim);
    const int before = load.approvals_at(kVictim);
    // The network keeps approving the victim's cards within its stand-in limits.
    ASSERT_TRUE(WaitFor([&] { return load.approvals_at(kVictim) >= before + 30; }, 20s))
        << "no stand-in approvals while issuer 1 was down";
    json during = stack.NetworkStats();
    EXPECT_GT(during.value("stand_in_approved", 0), 0) << during.dump();
    EXPECT_GT(during["advices_pending"].size(), 0u) << "advices for issuer 1 should be waiting: " << during.dump();
    stack.StartIssuer(kVictim);
    const int total = load.approvals();
    ASSERT_TRUE(WaitFor([&] { return load.approvals() >= total + 50; }, 20s));
    load.Stop();

    ASSERT_TRUE(stack.WaitAdvicesDelivered()) << stack.NetworkStats().dump();
    std::vector<Outcome> outcomes = load.outcomes();
    int stand_in = 0;
    for (const Outcome& o : outcomes) {
      if (o.approved && IsStandIn(o)) {
        ++stand_in;
        EXPECT_EQ(o.issuer, kVictim) << "only the killed issuer's cards are stood in for";
      }
    }
    EXPECT_GT(stand_in, 0);
    ExpectEveryApprovalInALedger(stack, outcomes);
    std::printf("purchases %zu, approvals %d, stand-in approvals %d (held by issuer 1 after restart: %d), network on %s\n",
                outcomes.size(), load.approvals(), stand_in, stand_in_held_,
                stack.on_postgres() ? "PostgreSQL" : "SQLite");
    EXPECT_GT(stand_in_held_, 0) << "stand-in approvals must reach the issuer's ledger as advices";
    json after = stack.NetworkStats();
    EXPECT_GT(after.value("advices_delivered", 0), 0) << after.dump();
  }
  ExpectAuditsPass(stack);
}

TEST_F(MultiProcessTest, WholeStackKilledUnderLoadLosesNoApproval) {
  Stack stack;
  stack.StartAll();
  std::vector<Outcome> outcomes;
  {
    Load load(stack, 6);
    ASSERT_TRUE(WaitFor([&] { return load.approvals() >= 300; }, 30s));
    stack.KillAll();  // SIGKILL every process while purchases are in flight
    load.Stop();
    outcomes = load.outcomes();
  }
  stack.StartAll();
  ASSERT_TRUE(stack.WaitAdvicesDelivered()) << stack.NetworkStats().dump();
  ExpectEveryApprovalInALedger(stack, outcomes);
  int approvals = 0;
  for (const Outcome& o : outcomes) approvals += o.approved ? 1 : 0;
  std::printf("purchases before SIGKILL %zu, approvals %d: all found in the issuer ledgers after restart\n",
              outcomes.size(), approvals);
  ExpectAuditsPass(stack);

  // And the restarted stack still works.
  Load again(stack, 2);
  EXPECT_TRUE(WaitFor([&] { return again.approvals() >= 20; }, 20s));
}

TEST_F(MultiProcessTest, CompletionPostsTheHoldAndTheBatchReconciles) {
  Stack stack;
  stack.StartAll();
  const std::string bank = stack.banks(0).front();
  std::vector<json> sales;
  for (int i = 0; i < 3; ++i) {
    sales.push_back(stack.PostAcquirer("/v1/acquirer/purchases",
                                       {{"terminal_id", "TERM0001"},
                                        {"card", {{"bank", bank}, {"index", 5 + i}}},
                                        {"amount_minor", 10'000}}));
    ASSERT_EQ(sales.back().value("approved", false), true) << sales.back().dump();
    EXPECT_EQ(sales.back().value("masked_pan", "").find_first_not_of("0123456789*"), std::string::npos);
  }
  // A wrong CVV2 on a card-not-present sale is declined N7 by the issuer.
  const std::string pan = *demo::DemoCardNumber(*stack.demo().BankById(bank), demo::CardKind::kDebit, 9);
  json bad_cvv = stack.PostAcquirer("/v1/acquirer/purchases", {{"terminal_id", "TERM0001"},
                                                               {"pan", pan},
                                                               {"expiry", demo::kDemoCardExpiry},
                                                               {"cvv2", "000"},
                                                               {"amount_minor", 500}});
  EXPECT_EQ(bad_cvv.value("response_code", ""), "N7") << bad_cvv.dump();
  EXPECT_EQ(bad_cvv.dump().find(pan), std::string::npos) << "the API never returns a full PAN";

  // Complete the first sale for 70.00 of its 100.00: the issuer posts 70.00 and releases the rest.
  json done = stack.PostAcquirer("/v1/acquirer/completions",
                                 {{"terminal_id", "TERM0001"}, {"stan", sales[0]["stan"]}, {"amount_minor", 7'000}});
  EXPECT_EQ(done.value("completed", false), true) << done.dump();
  Outcome first;
  first.bank = bank;
  first.issuer = 0;
  first.acquirer_id = sales[0]["acquirer_id"];
  first.terminal_id = "TERM0001";
  first.stan = sales[0]["stan"];
  first.transmission_time = sales[0]["transmission_time"];
  ASSERT_TRUE(WaitFor([&] { return stack.Authorization(first).value("state", "") == "posted"; }, 10s))
      << stack.Authorization(first).dump();
  EXPECT_EQ(stack.Authorization(first).value("posted_minor", 0), 7'000);

  // The terminal's batch (70.00 + 2 × 100.00) agrees with the network's records.
  json close = stack.PostAcquirer("/v1/acquirer/batches/close", {{"terminal_id", "TERM0001"}});
  EXPECT_EQ(close.value("in_balance", false), true) << close.dump();
  ExpectAuditsPass(stack);
}

}  // namespace
}  // namespace tapstack::server
