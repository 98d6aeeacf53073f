// `tapstack demo transit` against a started `tapstack serve`, both real processes (issue #6 "Show
// it"): the story ends as expected (exit 0) with each step's key line; a second run on the same
// server holds too (new validators, new batch ids); after a restart the operator still has the
// card, its migration and the loaded order (SQLite under <data dir>/transit); and no full demo PAN
// is in any file the server, the phones or the gates wrote.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "demo/demo_network.h"
#include "support/pan_scan.h"
#include "support/subprocess.h"

namespace tapstack {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kHealthWaitMs = 60'000;

using testing::AllDemoPans;
using testing::PansIn;
using testing::ReadFile;

// The first capture of `pattern` in `text`, or "".
std::string Find(const std::string& text, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(pattern)) ? m[1].str() : std::string();
}

class DemoTransitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-demo-transit-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    http_port_ = testing::FreeTcpPort();
    iso_port_ = testing::FreeTcpPort();
  }
  void TearDown() override {
    if (server_) StopServer();
    std::filesystem::remove_all(dir_);
  }

  // Starts `tapstack serve` on the test's data directory and waits for /health.
  void StartServer() {
    server_ = std::make_unique<testing::ChildProcess>(
        testing::TapstackBinary(),
        std::vector<std::string>{"serve", "--data-dir", (dir_ / "data").string(), "--http-port",
                                 std::to_string(http_port_), "--iso8583-port",
                                 std::to_string(iso_port_)},
        (dir_ / ("serve-" + std::to_string(++starts_) + ".log")).string());
    httplib::Client http("127.0.0.1", http_port_);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kHealthWaitMs);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = http.Get("/health");
      if (r && r->status == 200) {
        health_ = json::parse(r->body, nullptr, false);
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "no /health: " << ReadFile(dir_ / ("serve-" + std::to_string(starts_) + ".log"));
  }
  // SIGTERM and wait: every WAL is checkpointed or closed. Expects a clean exit.
  void StopServer() {
    server_->Signal(SIGTERM);
    const int status = server_->Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << ReadFile(dir_ / ("serve-" + std::to_string(starts_) + ".log"));
    server_.reset();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  testing::ProcessResult RunDemo() {
    return testing::RunProcess(testing::TapstackBinary(),
                               {"demo", "transit", "--url", url(), "--device-dir",
                                (dir_ / "devices").string(), "--card-index", "7"});
  }
  json Get(const std::string& path) {
    httplib::Client http("127.0.0.1", http_port_);
    auto r = http.Get(path);
    if (!r) return json();
    json body = json::parse(r->body, nullptr, false);
    body["http_status"] = r->status;
    return body;
  }

  std::filesystem::path dir_;
  std::uint16_t http_port_ = 0;
  std::uint16_t iso_port_ = 0;
  int starts_ = 0;
  std::unique_ptr<testing::ChildProcess> server_;
  json health_;
};

TEST_F(DemoTransitTest, TheStoryRunsSurvivesRestartAndLeavesNoPan) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // /health lists the six seed cities.
  ASSERT_TRUE(health_.contains("transit_cities")) << health_.dump();
  EXPECT_EQ(health_["transit_cities"].size(), 6u) << health_.dump();
  EXPECT_EQ(health_["transit_cities"][0], "1000") << health_.dump();

  const testing::ProcessResult run = RunDemo();
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string& out = run.out;
  // Step by step: the bound card, the card opened, the top-up, the rides, the torn tap, the
  // uploads, the lost phone, the migration.
  EXPECT_NE(out.find("ok: the issuer asks for a one-time code"), std::string::npos) << out;
  EXPECT_NE(out.find("ok: the card is active with balance 0.00 CNY"), std::string::npos) << out;
  EXPECT_NE(out.find("loaded and the payment captured"), std::string::npos) << out;
  EXPECT_NE(out.find("ok: GET BALANCE: 50.00 CNY"), std::string::npos) << out;
  EXPECT_NE(out.find("ok: Pingguoyuan to Guomao: fare 6.00 CNY (expected 6.00 CNY), balance "
                     "44.00 CNY"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("ok: bus fare 1.00 CNY, balance 43.00 CNY"), std::string::npos) << out;
  EXPECT_NE(out.find("ok: the gate stays shut and asks to tap again"), std::string::npos) << out;
  EXPECT_NE(out.find("ok: the next tap completes the torn one: charged once, balance 43.00 CNY -> "
                     "37.00 CNY"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("ok: clearing found no anomaly"), std::string::npos) << out;
  EXPECT_NE(out.find("ok: the lost phone is blocked at the gate"), std::string::npos) << out;
  EXPECT_NE(out.find("with balance 37.00 CNY (the old card had 37.00 CNY after its last uploaded "
                     "ride)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("ok: the new phone rides: balance 31.00 CNY"), std::string::npos) << out;
  EXPECT_NE(out.find("demo transit finished: every step as expected"), std::string::npos) << out;
  EXPECT_EQ(out.find("UNEXPECTED"), std::string::npos) << out;
  const std::string serial = Find(out, "serial ([0-9]{20}),");
  const std::string order = Find(out, "order (topup-[0-9a-f]{8}-1)");
  ASSERT_FALSE(serial.empty()) << out;
  ASSERT_FALSE(order.empty()) << out;

  // A second run on the same server: a new user, phones and gates; the same bank card pays.
  const testing::ProcessResult again = RunDemo();
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.out.find("UNEXPECTED"), std::string::npos) << again.out;

  // A city the operator does not run: its reference data is 404 and the demo stops with code 2.
  const testing::ProcessResult unknown = testing::RunProcess(
      testing::TapstackBinary(), {"demo", "transit", "--url", url(), "--device-dir",
                                  (dir_ / "devices").string(), "--city", "9999"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_NE(unknown.err.find("got 404"), std::string::npos) << unknown.err;
  // Not a city code at all: refused before anything is sent.
  const testing::ProcessResult bad = testing::RunProcess(
      testing::TapstackBinary(), {"demo", "transit", "--url", url(), "--city", "10"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("4-digit city code"), std::string::npos) << bad.err;

  // Restart: the operator's stores keep the card (lost, replaced), its successor and the order.
  StopServer();
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const json card = Get("/v1/transit/1000/cards/" + serial);
  ASSERT_EQ(card.value("http_status", 0), 200) << card.dump();
  EXPECT_NE(card["card"].value("status", ""), "active") << card.dump();
  const std::string successor = card["card"].value("replaced_by", "");
  ASSERT_FALSE(successor.empty()) << card.dump();
  const json moved = Get("/v1/transit/1000/cards/" + successor);
  EXPECT_EQ(moved["card"].value("replaces", ""), serial) << moved.dump();
  EXPECT_EQ(moved["card"].value("status", ""), "active") << moved.dump();
  const json loaded = Get("/v1/transit/1000/orders/" + order);
  EXPECT_EQ(loaded["order"].value("state", ""), "loaded") << loaded.dump();
  EXPECT_EQ(loaded["order"].value("amount_fen", 0), 5000) << loaded.dump();
  // The lost card is still on the blacklist the gates poll.
  const json reference = Get("/v1/transit/1000/reference");
  bool listed = false;
  for (const json& e : reference["blacklist"])
    listed = listed || e.value("card_serial", "") == serial;
  EXPECT_TRUE(listed) << reference.dump();
  StopServer();
  // No server: the demo says so and exits 2.
  const testing::ProcessResult down = RunDemo();
  EXPECT_EQ(down.exit_code, 2) << down.out << down.err;
  EXPECT_NE(down.err.find("no answer from the server"), std::string::npos) << down.err;

  // No demo card number in clear in any file: databases, WALs, logs, devices, validators.
  auto demo = demo::LoadDemoNetwork(*demo::DefaultSeedPath());
  ASSERT_TRUE(demo.ok());
  const std::set<std::string> pans = AllDemoPans(*demo);
  ASSERT_GT(pans.size(), 1000u);
  ASSERT_EQ(PansIn("x" + *pans.begin() + "y", pans).size(), 1u);  // the scan can find one
  std::size_t files = 0;
  std::size_t transit_files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    if (entry.path().parent_path().filename() == "transit") ++transit_files;
    const std::vector<std::string> found = PansIn(ReadFile(entry.path()), pans);
    EXPECT_TRUE(found.empty()) << entry.path() << " holds " << found.size()
                               << " demo card number(s) in clear";
  }
  EXPECT_GE(transit_files, 12u);  // transit_<city>.db and transit_<city>_clearing.db, six cities
  EXPECT_GE(files, 20u);
}

}  // namespace
}  // namespace tapstack
