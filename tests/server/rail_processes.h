// The payment rail as separate processes on loopback, shared by the multi-process tests and the
// SIGKILL loop: a network, kIssuers issuer processes (the 22 demo banks split between them) and an
// acquirer, each `tapstack serve --config FILE` with its own data directory and FILE.log. The
// network's store is on PostgreSQL when TAPSTACK_TEST_PG_URL is set (always in CI).
//   - RailProcesses: writes the configurations, starts, kills (SIGKILL) and restarts each process on
//     the ports picked once (below the kernel's ephemeral range, support/subprocess.h, so a restart
//     finds its port free), and reads the roles' HTTP APIs. With RailTls::kMutual every ISO 8583
//     link (acquirer → network → issuers) is mutual TLS, configured through the files' keys, with
//     certificates of a CA generated for the run (link/test_pki.h).
//   - Load: client threads buying through the acquirer's HTTP API, recording what they saw.
//   - ExpectEveryApprovalInALedger, ExpectAuditsPass: the invariants both tests check.
// Header-only. RailProcesses: one test thread starts and kills; its HTTP reads may be called from
// any thread. The data directory is removed at the end unless the test failed (its logs are kept
// for the failure and its path printed).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "demo/demo_network.h"
#include "link/test_pki.h"
#include "support/subprocess.h"

namespace tapstack::server::rail {

using namespace std::chrono_literals;
using nlohmann::json;

inline constexpr int kIssuers = 3;
inline constexpr int kCardsPerBank = 20;
inline constexpr int kHealthWaitMs = 30'000;
// Health is polled this often after a (re)start: a kill cycle's restart time is mostly this wait.
inline constexpr int kHealthPollMs = 20;
inline constexpr int kAdviceDrainWaitMs = 30'000;
// The network's wait for an issuer before it stands in, and the acquirer's wait for the network.
inline constexpr int kIssuerTimeoutMs = 1'000;
inline constexpr int kNetworkTimeoutMs = 3'000;
// A client's wait for the acquirer's answer: above the acquirer's own wait for its terminal
// (kNetworkTimeoutMs × 6 + 2 s, acquirer_node.h), so a slow answer is still seen.
inline constexpr int kClientReadTimeoutS = 25;

// One process of the rail.
enum class Role { kNetwork, kAcquirer, kIssuer };
struct RailProcess {
  Role role = Role::kNetwork;
  int issuer = 0;  // kIssuer: which one, 0 … kIssuers-1
  // "network", "acquirer", "issuer0" …: also the name of its config and log files.
  std::string name() const {
    switch (role) {
      case Role::kNetwork: return "network";
      case Role::kAcquirer: return "acquirer";
      case Role::kIssuer: return "issuer" + std::to_string(issuer);
    }
    return "?";
  }
};

// Every process of the rail, issuers first (the order StartAll starts them in).
inline std::vector<RailProcess> AllProcesses() {
  std::vector<RailProcess> all;
  for (int i = 0; i < kIssuers; ++i) all.push_back({Role::kIssuer, i});
  all.push_back({Role::kNetwork, 0});
  all.push_back({Role::kAcquirer, 0});
  return all;
}

inline std::string TomlList(const std::vector<std::string>& items) {
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
  std::string response_code;  // DE39 of the answer ("00" approved)
  std::string approval_code;
  std::string acquirer_id, terminal_id, stan, transmission_time;
  std::int64_t amount_minor = 0;             // asked, in the merchant's currency
  std::int64_t cardholder_amount_minor = 0;  // DE6 when the card's currency differs; else 0
  std::chrono::steady_clock::time_point answered_at;
  // Whether the client then voided an approval (POST /v1/acquirer/reversals), and what came of it.
  enum class Reversal {
    kNone,          // not asked, or the terminal no longer knew it (404: the acquirer restarted)
    kAcknowledged,  // 0410 "00": the hold must be released and nothing settled
    kRefused,       // 0410 with another code: the approval stands
    kUnknown        // no answer, or no attempt acknowledged (503): either way
  };
  Reversal reversal = Reversal::kNone;

  // What the issuer holds: the billing amount when there is one.
  std::int64_t held_minor() const { return cardholder_amount_minor != 0 ? cardholder_amount_minor : amount_minor; }
  // (bank, DE32, DE41, DE11, DE7): the key of the issuer's hold.
  std::tuple<std::string, std::string, std::string, std::string, std::string> key() const {
    return {bank, acquirer_id, terminal_id, stan, transmission_time};
  }
};

inline bool IsStandIn(const Outcome& o) { return !o.approval_code.empty() && o.approval_code[0] == 'S'; }

inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// How the rail's ISO 8583 links are carried.
enum class RailTls { kNone, kMutual };

class RailProcesses {
 public:
  explicit RailProcesses(RailTls tls = RailTls::kNone) : tls_(tls) {
    std::string pattern = (std::filesystem::temp_directory_path() / "tapstack-mp-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    auto seed = demo::DefaultSeedPath();
    if (!seed.ok()) throw std::runtime_error(seed.status().ToString());
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
  ~RailProcesses() {
    KillAll();
    if (::testing::Test::HasFailure()) {
      std::printf("rail processes: logs and data kept in %s\n", dir_.string().c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RailProcesses(const RailProcesses&) = delete;
  RailProcesses& operator=(const RailProcesses&) = delete;

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
  std::uint16_t network_iso8583_port() const { return net_iso_; }

  // Starts `p` and waits until it answers /health (the acquirer: with its network link up).
  // Throws std::runtime_error with the process's log when it does not within kHealthWaitMs.
  void Start(const RailProcess& p) {
    Slot(p) = std::make_unique<testing::ChildProcess>(
        testing::TapstackBinary(), std::vector<std::string>{"serve", "--config", (dir_ / (p.name() + ".toml")).string()},
        (dir_ / (p.name() + ".log")).string());
    WaitHealthy(p);
  }
  // SIGKILL, then reaped. Nothing happens when `p` is not running.
  void Kill(const RailProcess& p) {
    auto& slot = Slot(p);
    if (!slot) return;
    slot->Signal(SIGKILL);
    slot.reset();
  }
  // Whether `p` was started and has not ended (a process that died by itself is not running).
  bool Running(const RailProcess& p) {
    auto& slot = Slot(p);
    return slot && slot->running();
  }
  void StartIssuer(int i) { Start({Role::kIssuer, i}); }
  void StartNetwork() { Start({Role::kNetwork, 0}); }
  void StartAcquirer() { Start({Role::kAcquirer, 0}); }
  void StartAll() {
    for (const RailProcess& p : AllProcesses()) Start(p);
  }
  void KillIssuer(int i) { Kill({Role::kIssuer, i}); }
  void KillAll() {
    // SIGKILL everything at once, then reap.
    for (const RailProcess& p : AllProcesses()) {
      if (Slot(p)) Slot(p)->Signal(SIGKILL);
    }
    for (const RailProcess& p : AllProcesses()) Slot(p).reset();
  }

  // Polls /health every kHealthPollMs until `p` is up (the acquirer: with its network link ready).
  void WaitHealthy(const RailProcess& p) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kHealthWaitMs);
    const bool need_network_link = p.role == Role::kAcquirer;
    while (std::chrono::steady_clock::now() < deadline) {
      json health = Get(HttpPort(p), "/health");
      if (health.value("status", "") == "ok" && (!need_network_link || health.value("network_link_ready", false))) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(kHealthPollMs));
    }
    throw std::runtime_error(p.name() + " did not become healthy; its log:\n" + Log(p.name()));
  }

  // GET on a role's HTTP API: the JSON body plus "http_status", or {"http_error": …}.
  json Get(std::uint16_t port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(10, 0);
    auto res = client.Get(path);
    if (!res) return json{{"http_error", httplib::to_string(res.error())}};
    json body = json::parse(res->body, nullptr, false);
    if (!body.is_object()) body = json{{"body", res->body}};
    body["http_status"] = res->status;
    return body;
  }
  json Post(std::uint16_t port, const std::string& path, const json& body) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    auto res = client.Post(path, body.dump(), "application/json");
    if (!res) return json{{"http_error", httplib::to_string(res.error())}};
    json out = json::parse(res->body, nullptr, false);
    if (!out.is_object()) out = json{{"body", res->body}};
    out["http_status"] = res->status;
    return out;
  }
  json PostAcquirer(const std::string& path, const json& body) { return Post(acq_http_, path, body); }
  json NetworkStats() { return Get(net_http_, "/v1/network/stats"); }
  // Closes the network's clearing cycle: the settlement report (network/switch.h SettlementReport).
  json SettlementCutOff() { return Post(net_http_, "/v1/settlement/cutoff", json::object()); }
  // What the client's issuer knows of the authorisation `o` (issuer_routes.h).
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
      std::this_thread::sleep_for(50ms);
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
  // RailTls::kMutual: the [iso8583] keys of a listener that speaks TLS only and wants a client
  // certificate of the run's CA; "" without TLS.
  std::string ListenerTls(const std::string& name) const {
    if (!ca_) return "";
    const link::testing::CertFiles leaf = ca_->Issue(name, "IP:127.0.0.1");
    return "tls_cert_file = \"" + leaf.cert_file + "\"\ntls_key_file = \"" + leaf.key_file +
           "\"\ntls_client_ca_file = \"" + ca_->cert_file() + "\"\n";
  }
  // The keys of a client link (`prefix`: "" for [[network.issuers]], "network_" for [acquirer]):
  // the run's CA, the listener's address as its name, and `name`'s client certificate.
  std::string LinkTls(const std::string& prefix, const std::string& name) const {
    if (!ca_) return "";
    const link::testing::CertFiles leaf = ca_->Issue(name, "IP:127.0.0.1");
    return prefix + "tls_ca_file = \"" + ca_->cert_file() + "\"\n" + prefix + "tls_server_name = \"127.0.0.1\"\n" +
           prefix + "tls_cert_file = \"" + leaf.cert_file + "\"\n" + prefix + "tls_key_file = \"" +
           leaf.key_file + "\"\n";
  }

  void WriteConfigs() {
    if (tls_ == RailTls::kMutual) ca_ = std::make_unique<link::testing::TestCa>(dir_, "rail");
    for (int i = 0; i < kIssuers; ++i) {
      const std::string name = "issuer" + std::to_string(i);
      std::ofstream(dir_ / (name + ".toml"))
          << "role = \"issuer\"\n[store]\ndata_dir = \"" << (dir_ / name).string() << "\"\n[http]\nport = "
          << iss_http_[i] << "\n[iso8583]\nport = " << iss_iso_[i] << "\nallowed_peers = [\"127.0.0.1\"]\n"
          << ListenerTls(name + "-listener") << "[demo]\ncards_per_bank = " << kCardsPerBank
          << "\n[issuer]\nname = \"" << name << "\"\nbanks = " << TomlList(banks_[i]) << "\n";
    }
    std::ofstream network(dir_ / "network.toml");
    network << "role = \"network\"\n[store]\ndata_dir = \"" << (dir_ / "network").string() << "\"\n";
    if (!pg_url_.empty()) network << "url = \"" << pg_url_ << "\"\n";
    network << "[http]\nport = " << net_http_ << "\n[iso8583]\nport = " << net_iso_
            << "\nallowed_peers = [\"127.0.0.1\"]\n"
            << ListenerTls("network-listener") << "[network]\nname = \"" << network_name_
            << "\"\nissuer_timeout_ms = " << kIssuerTimeoutMs << "\n";
    for (int i = 0; i < kIssuers; ++i) {
      network << "[[network.issuers]]\nport = " << iss_iso_[i] << "\nbanks = " << TomlList(banks_[i]) << "\n"
              << LinkTls("", "network-to-issuer" + std::to_string(i));
    }
    std::ofstream(dir_ / "acquirer.toml") << "role = \"acquirer\"\n[store]\ndata_dir = \""
                                          << (dir_ / "acquirer").string() << "\"\n[http]\nport = " << acq_http_
                                          << "\n[acquirer]\nnetwork_port = " << net_iso_
                                          << "\nnetwork_timeout_ms = " << kNetworkTimeoutMs << "\n"
                                          << LinkTls("network_", "acquirer");
  }
  std::unique_ptr<testing::ChildProcess>& Slot(const RailProcess& p) {
    switch (p.role) {
      case Role::kNetwork: return network_;
      case Role::kAcquirer: return acquirer_;
      case Role::kIssuer: break;
    }
    return issuers_[p.issuer];
  }
  std::uint16_t HttpPort(const RailProcess& p) const {
    switch (p.role) {
      case Role::kNetwork: return net_http_;
      case Role::kAcquirer: return acq_http_;
      case Role::kIssuer: break;
    }
    return iss_http_[p.issuer];
  }

  RailTls tls_;
  std::unique_ptr<link::testing::TestCa> ca_;  // RailTls::kMutual
  std::filesystem::path dir_;
  demo::DemoNetwork demo_;
  std::vector<std::string> banks_[kIssuers];
  std::string pg_url_;
  std::string network_name_;
  std::uint16_t net_iso_ = 0, net_http_ = 0, acq_http_ = 0;
  std::uint16_t iss_iso_[kIssuers] = {}, iss_http_[kIssuers] = {};
  std::unique_ptr<testing::ChildProcess> network_, acquirer_, issuers_[kIssuers];
};

// Client threads buying through the acquirer's HTTP API with demo cards of every bank, each on its
// own connection, until Stop(). A purchase whose answer never came (the acquirer was killed, or
// refused the connection while down) has no outcome: the client cannot know what happened.
class Load {
 public:
  // `seed` varies the cards and amounts (each thread: its own generator from seed and index).
  // With `reverse_one_in` N > 0, about one approval in N is voided at once through the acquirer.
  Load(RailProcesses& rail, int threads, unsigned seed = 0, int reverse_one_in = 0)
      : rail_(rail), reverse_one_in_(reverse_one_in) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t, seed] { Run(t, seed); });
    }
  }
  ~Load() { Stop(); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

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
  // Purchases with no answer (connection refused or dropped, or the client's timeout).
  int unanswered() const { return unanswered_; }
  // Purchases answered with another HTTP status than 200 (504: outcome unknown, reversal sent).
  int errors() const { return errors_; }

 private:
  void Run(int thread_index, unsigned seed) {
    httplib::Client client("127.0.0.1", rail_.acquirer_port());
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(kClientReadTimeoutS, 0);
    std::mt19937 rng(seed * 2'654'435'761u + static_cast<unsigned>(thread_index) * 7919u + 1);
    const auto& banks = rail_.demo().banks;
    while (!stop_) {
      const auto& bank = banks[rng() % banks.size()];
      int index = 4 + static_cast<int>(rng() % (kCardsPerBank - 4));  // cards 0-3 carry rule demos
      const std::int64_t amount = 100 + static_cast<std::int64_t>(rng() % 2'000);
      json request = {{"terminal_id", "TERM0001"},
                      {"card", {{"bank", bank.institution_id}, {"index", index}}},
                      {"amount_minor", amount}};
      auto res = client.Post("/v1/acquirer/purchases", request.dump(), "application/json");
      if (!res) {
        ++unanswered_;
        std::this_thread::sleep_for(20ms);  // the acquirer is down (killed): no outcome
        continue;
      }
      Outcome o;
      o.bank = bank.institution_id;
      o.issuer = rail_.IssuerOf(bank.institution_id);
      o.amount_minor = amount;
      o.answered_at = std::chrono::steady_clock::now();
      o.http_status = res->status;
      json body = json::parse(res->body, nullptr, false);
      if (res->status == 200 && body.is_object()) {
        o.approved = body.value("approved", false);
        o.response_code = body.value("response_code", "");
        o.approval_code = body.value("approval_code", "");
        o.acquirer_id = body.value("acquirer_id", "");
        o.terminal_id = body.value("terminal_id", "");
        o.stan = body.value("stan", "");
        o.transmission_time = body.value("transmission_time", "");
        o.cardholder_amount_minor = body.value("cardholder_amount_minor", std::int64_t{0});
        if (o.approved && reverse_one_in_ > 0 && rng() % static_cast<unsigned>(reverse_one_in_) == 0) {
          o.reversal = Reverse(client, o);
        }
      } else if (body.is_object()) {
        o.acquirer_id = body.value("acquirer_id", "");
        o.terminal_id = body.value("terminal_id", "");
        o.stan = body.value("stan", "");
      }
      {
        std::lock_guard lock(mu_);
        outcomes_.push_back(o);
        if (o.approved) {
          ++approvals_;
          ++approvals_at_[o.issuer];
        }
      }
      if (o.http_status != 200) {
        ++errors_;
        // Answered at once while the acquirer's link to the network is down: a pause, not a spin.
        std::this_thread::sleep_for(20ms);
      }
    }
  }

  static Outcome::Reversal Reverse(httplib::Client& client, const Outcome& o) {
    json request = {{"terminal_id", o.terminal_id}, {"stan", o.stan}};
    auto res = client.Post("/v1/acquirer/reversals", request.dump(), "application/json");
    if (!res) return Outcome::Reversal::kUnknown;
    if (res->status == 404) return Outcome::Reversal::kNone;
    if (res->status != 200) return Outcome::Reversal::kUnknown;
    json body = json::parse(res->body, nullptr, false);
    if (!body.is_object()) return Outcome::Reversal::kUnknown;
    return body.value("reversed", false) ? Outcome::Reversal::kAcknowledged : Outcome::Reversal::kRefused;
  }

  RailProcesses& rail_;
  const int reverse_one_in_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<Outcome> outcomes_;
  std::atomic<int> approvals_{0};
  std::atomic<int> approvals_at_[kIssuers] = {};
  std::atomic<int> unanswered_{0};
  std::atomic<int> errors_{0};
};

// What ExpectEveryApprovalInALedger found.
struct LedgerCheck {
  int approvals = 0;      // approvals the client saw, all checked
  int pending = 0;        // held
  int posted = 0;         // posted (a stand-in approval the card could not cover)
  int stand_in = 0;       // of which the network approved on the bank's behalf
  int stand_in_held = 0;  // stand-in approvals held as advices (the bank had not approved them)
  int reversed = 0;          // voided by an acknowledged reversal, and released
  int reversals_unknown = 0; // voided with no acknowledgement: held or released
};

// Every approval the client saw is in its issuer's ledger exactly once: a hold (or a posting) of
// the amount the client was approved for, under the request's key; no two approvals the client
// saw share a key (the issuer keys its hold by it, so two would be one hold for two sales).
inline LedgerCheck ExpectEveryApprovalInALedger(RailProcesses& rail, const std::vector<Outcome>& outcomes) {
  LedgerCheck check;
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, std::string> seen;
  for (const Outcome& o : outcomes) {
    if (!o.approved) continue;
    ++check.approvals;
    auto [it, fresh] = seen.emplace(o.key(), o.approval_code);
    EXPECT_TRUE(fresh) << "two approvals the client saw share the key of bank " << o.bank << " terminal "
                       << o.terminal_id << " STAN " << o.stan << " DE7 " << o.transmission_time << ": "
                       << it->second << " and " << o.approval_code;
    json state = rail.Authorization(o);
    const std::string s = state.value("state", "");
    const bool held = s == "pending" || s == "posted";
    const bool released = s == "voided" || s == "refunded";  // refunded: a posted one reversed
    switch (o.reversal) {
      case Outcome::Reversal::kAcknowledged:
        ++check.reversed;
        EXPECT_TRUE(released) << "approval " << o.approval_code << " of bank " << o.bank << " STAN " << o.stan
                              << " DE7 " << o.transmission_time << " was reversed (0410 00) but is " << state.dump();
        break;
      case Outcome::Reversal::kUnknown:
        ++check.reversals_unknown;
        EXPECT_TRUE(held || released) << "approval " << o.approval_code << " of bank " << o.bank << " STAN "
                                      << o.stan << " is " << state.dump();
        break;
      case Outcome::Reversal::kNone:
      case Outcome::Reversal::kRefused:
        EXPECT_TRUE(held) << "approval " << o.approval_code << " of bank " << o.bank << " STAN " << o.stan
                          << " DE7 " << o.transmission_time << " is " << state.dump();
        break;
    }
    EXPECT_EQ(state.value("amount_minor", std::int64_t{-1}), o.held_minor())
        << "approval " << o.approval_code << " of bank " << o.bank << " STAN " << o.stan << ": " << state.dump();
    check.pending += s == "pending" ? 1 : 0;
    check.posted += s == "posted" ? 1 : 0;
    if (IsStandIn(o)) {
      ++check.stand_in;
      // A stand-in approval the issuer had not made itself arrived as an advice.
      if (state.value("stand_in", false)) ++check.stand_in_held;
    }
  }
  EXPECT_GT(check.approvals, 0);
  return check;
}

// Every issuer's ledger passes its audit (ledger::Ledger::Audit: balances match the transfers,
// debits equal credits per ledger).
inline void ExpectAuditsPass(RailProcesses& rail) {
  for (int i = 0; i < kIssuers; ++i) {
    json audit = rail.Audit(i);
    EXPECT_EQ(audit.value("ok", false), true) << "issuer " << i << ": " << audit.dump();
    EXPECT_GT(audit.value("ledgers", json::array()).size(), 0u) << "issuer " << i << ": " << audit.dump();
  }
}

}  // namespace tapstack::server::rail
