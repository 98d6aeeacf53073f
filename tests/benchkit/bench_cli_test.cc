// `tapstack bench` through the built binary: short runs of iso8583-codec and arqc (shapes, not
// timings), the list, and usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/subprocess.h"

namespace tapstack {
namespace {

using tapstack::testing::RunProcess;
using tapstack::testing::TapstackBinary;

std::filesystem::path FreshDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / ("bench-cli-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

nlohmann::json ReadJson(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

void ExpectRunShape(const nlohmann::json& j, const std::string& scenario) {
  EXPECT_EQ(j["scenario"], scenario);
  EXPECT_GT(j["ops"].get<std::int64_t>(), 0);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_GT(j["ops_per_second"].get<double>(), 0);
  EXPECT_GT(j["latency_us"]["max"].get<double>(), 0);
  EXPECT_LE(j["latency_us"]["p50"].get<double>(), j["latency_us"]["p99"].get<double>());
  EXPECT_LE(j["latency_us"]["p99"].get<double>(), j["latency_us"]["max"].get<double>());
  EXPECT_GT(j["cpu"]["user_seconds"].get<double>() + j["cpu"]["system_seconds"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_bytes"].get<std::int64_t>(), 0);
  std::int64_t sum = 0;
  for (const auto& s : j["series"]) sum += s["ops"].get<std::int64_t>();
  EXPECT_EQ(sum, j["ops"].get<std::int64_t>());
  ASSERT_TRUE(j["peer"].is_object());
}

TEST(BenchCliTest, ListNamesTheScenariosInOrder) {
  auto r = RunProcess(TapstackBinary(), {"bench", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::size_t iso = r.out.find("iso8583-codec");
  const std::size_t arqc = r.out.find("arqc");
  ASSERT_NE(iso, std::string::npos);
  ASSERT_NE(arqc, std::string::npos);
  EXPECT_LT(iso, arqc);
}

TEST(BenchCliTest, Iso8583CodecOneSecondWithTheNpmPeerOrItsReason) {
  const auto dir = FreshDir("iso");
  auto r = RunProcess(TapstackBinary(), {"bench", "iso8583-codec", "--seconds", "1", "--out", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("throughput"), std::string::npos);
  EXPECT_NE(r.out.find("p99.9"), std::string::npos);
  EXPECT_NE(r.out.find("peer"), std::string::npos);
  // Not a TTY: plain progress lines, ending with the summary line.
  EXPECT_NE(r.err.find("done: "), std::string::npos) << r.err;
  const nlohmann::json j = ReadJson(dir / "iso8583-codec.json");
  ExpectRunShape(j, "iso8583-codec");
  EXPECT_EQ(j["stop_reason"], "time");
  EXPECT_EQ(j["options"]["--profile"], "ascii");
  // Either measured (with a ratio) or unavailable with its reason: never silently absent.
  if (j["peer"]["available"].get<bool>()) {
    EXPECT_GT(j["peer"]["ops_per_second"].get<double>(), 0);
    EXPECT_GT(j["peer"]["ratio"].get<double>(), 0);
  } else {
    EXPECT_FALSE(j["peer"]["note"].get<std::string>().empty());
  }
  std::ifstream svg(dir / "iso8583-codec.svg");
  std::string first_line;
  std::getline(svg, first_line);
  EXPECT_EQ(first_line.rfind("<svg ", 0), 0u);
}

TEST(BenchCliTest, ArqcStopsAtTheCountWithTheRawCipherPeer) {
  const auto dir = FreshDir("arqc");
  auto r = RunProcess(TapstackBinary(), {"bench", "arqc", "--seconds", "1", "--count", "20000", "--threads",
                                         "2", "--cipher", "aes", "--out", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json j = ReadJson(dir / "arqc.json");
  ExpectRunShape(j, "arqc");
  EXPECT_EQ(j["ops"], 20000);
  EXPECT_EQ(j["stop_reason"], "count");
  EXPECT_EQ(j["limits"]["threads"], 2);
  EXPECT_EQ(j["options"]["--cipher"], "aes");
  EXPECT_EQ(j["peer"]["available"], true) << j["peer"]["note"];
  EXPECT_NE(j["peer"]["name"].get<std::string>().find("AES-128-ECB"), std::string::npos);
  EXPECT_GT(j["peer"]["ratio"].get<double>(), 0);
}

TEST(BenchCliTest, SkippedPeerIsReportedNotDropped) {
  const auto dir = FreshDir("skip");
  auto r = RunProcess(TapstackBinary(),
                      {"bench", "arqc", "--count", "100", "--skip-peer", "--out", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = ReadJson(dir / "arqc.json");
  EXPECT_EQ(j["peer"]["available"], false);
  EXPECT_EQ(j["peer"]["note"], "skipped (--skip-peer)");
  EXPECT_NE(r.out.find("NOT MEASURED: skipped"), std::string::npos);
}

TEST(BenchCliTest, BadUsageExitsTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"bench", "arqc", "--cipher", "des", "--count", "10"},
           {"bench", "arqc", "--seconds", "0"},
           {"bench", "iso8583-codec", "--profile", "ebcdic", "--count", "10"},
           {"bench", "no-such-scenario"}}) {
    auto r = RunProcess(TapstackBinary(), args);
    EXPECT_EQ(r.exit_code, 2) << args[1] << " " << args[2] << ": " << r.err;
  }
}

}  // namespace
}  // namespace tapstack
