// `tapstack demo` against a started `tapstack serve`, both real processes (issue #5 "Show it"):
// the story ends as expected (exit 0, each decline where it belongs), and afterwards no full demo
// PAN is in any file the server wrote (databases, WAL files, the ledger, the log) or in the
// devices' files: every run of 13-19 digits in every file is checked against every demo card.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "demo/demo_network.h"
#include "support/pan_scan.h"
#include "support/subprocess.h"

namespace tapstack {
namespace {

using namespace std::chrono_literals;

constexpr int kHealthWaitMs = 60'000;

using testing::AllDemoPans;
using testing::PansIn;
using testing::ReadFile;

TEST(DemoStoryTest, TheStoryRunsAndNoPanIsLeftInAnyFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tapstack-demo-story-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::uint16_t http_port = testing::FreeTcpPort();
  const std::uint16_t iso_port = testing::FreeTcpPort();
  auto server = std::make_unique<testing::ChildProcess>(
      testing::TapstackBinary(),
      std::vector<std::string>{"serve", "--data-dir", (dir / "data").string(), "--http-port",
                               std::to_string(http_port), "--iso8583-port",
                               std::to_string(iso_port)},
      (dir / "serve.log").string());
  httplib::Client http("127.0.0.1", http_port);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kHealthWaitMs);
  bool healthy = false;
  while (!healthy && std::chrono::steady_clock::now() < deadline) {
    auto r = http.Get("/health");
    healthy = r && r->status == 200;
    if (!healthy) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(healthy) << ReadFile(dir / "serve.log");

  const std::string url = "http://127.0.0.1:" + std::to_string(http_port);
  const testing::ProcessResult demo_run = testing::RunProcess(
      testing::TapstackBinary(),
      {"demo", "--url", url, "--device-dir", (dir / "devices").string(), "--card-index", "7"});
  EXPECT_EQ(demo_run.exit_code, 0) << demo_run.out << demo_run.err;
  const std::string& out = demo_run.out;
  EXPECT_NE(out.find("ok: the issuer asks for a one-time code"), std::string::npos) << out;
  EXPECT_NE(out.find("APPROVED 00"), std::string::npos) << out;
  EXPECT_NE(out.find("ARPC ok"), std::string::npos) << out;
  EXPECT_NE(out.find("DECLINED BY CARD (offline)"), std::string::npos) << out;
  EXPECT_NE(out.find("DECLINED 14"), std::string::npos) << out;
  EXPECT_NE(out.find("demo finished: every step as expected"), std::string::npos) << out;
  EXPECT_EQ(out.find("UNEXPECTED"), std::string::npos) << out;

  // A second run against the same server: a new user, phone and watch; the same card binds again
  // (tokens are per device) and the story holds.
  const testing::ProcessResult again = testing::RunProcess(
      testing::TapstackBinary(),
      {"demo", "--url", url, "--device-dir", (dir / "devices").string(), "--card-index", "7"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;

  // Stop the server cleanly so every WAL is checkpointed or closed, then read every file.
  server->Signal(SIGTERM);
  const int status = server->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(dir / "serve.log");
  server.reset();
  auto loaded = demo::LoadDemoNetwork(*demo::DefaultSeedPath());
  ASSERT_TRUE(loaded.ok());
  const std::set<std::string> pans = AllDemoPans(*loaded);
  ASSERT_GT(pans.size(), 1000u);
  // The check can fail: the seed's PANs are findable where they are written in clear.
  ASSERT_EQ(PansIn("x" + *pans.begin() + "y", pans).size(), 1u);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::vector<std::string> found = PansIn(ReadFile(entry.path()), pans);
    EXPECT_TRUE(found.empty()) << entry.path() << " holds " << found.size()
                               << " demo card number(s) in clear";
  }
  EXPECT_GE(files, 10u);  // tsp.db, wallet.db, network, issuer, ledger, devices, log ...
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tapstack
