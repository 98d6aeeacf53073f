// Report: the JSON members docs/PERFORMANCE.md documents, and a well-formed SVG with both series.
#include "benchkit/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tapstack::benchkit {
namespace {

RunResult SampleResult() {
  RunResult r;
  r.scenario = "unit<&>";
  r.description = "a test";
  r.limits = {2, 1000, 1};
  r.options = {{"--profile", "ascii"}};
  Measurement& m = r.measurement;
  m.ops = 300;
  m.wall_seconds = 2.5;
  m.ops_per_second = 120;
  m.stop_reason = "time";
  m.latency = {1.5, 2, 9, 12, 40};
  m.cpu_user_seconds = 2;
  m.cpu_system_seconds = 0.5;
  m.cores = 2;
  m.cpu_percent_of_cores = 50;
  m.peak_rss_bytes = 10 << 20;
  m.series = {{0, 1, 100, 0, 100, 1.5, 9}, {1, 1, 150, 0, 150, 1.4, 8}, {2, 0.5, 50, 0, 100, 1.6, 11}};
  r.has_peer = true;
  r.peer = {true, "peer x", 60, "how"};
  r.peer_ratio = 2.0;
  return r;
}

TEST(ReportTest, JsonHasTheDocumentedMembers) {
  const nlohmann::json j = ToJson(SampleResult());
  for (const char* key : {"scenario", "description", "limits", "options", "ops", "errors", "first_error",
                          "stop_reason", "wall_seconds", "ops_per_second", "latency_us", "cpu",
                          "peak_rss_bytes", "peer", "series"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["ops"], 300);
  EXPECT_EQ(j["limits"]["threads"], 1);
  EXPECT_EQ(j["options"]["--profile"], "ascii");
  for (const char* key : {"p50", "p90", "p99", "p99_9", "max"}) EXPECT_TRUE(j["latency_us"].contains(key)) << key;
  EXPECT_DOUBLE_EQ(j["latency_us"]["p99_9"].get<double>(), 12);
  for (const char* key : {"user_seconds", "system_seconds", "cores", "percent_of_cores"}) {
    EXPECT_TRUE(j["cpu"].contains(key)) << key;
  }
  EXPECT_EQ(j["peer"]["available"], true);
  EXPECT_DOUBLE_EQ(j["peer"]["ratio"].get<double>(), 2.0);
  ASSERT_EQ(j["series"].size(), 3u);
  std::int64_t sum = 0;
  for (const auto& s : j["series"]) {
    for (const char* key : {"start_s", "duration_s", "ops", "errors", "ops_per_second", "p50_us", "p99_us"}) {
      EXPECT_TRUE(s.contains(key)) << key;
    }
    sum += s["ops"].get<std::int64_t>();
  }
  EXPECT_EQ(sum, j["ops"].get<std::int64_t>());
}

TEST(ReportTest, PeerIsNullWithoutOneAndRatioNullWhenUnavailable) {
  RunResult r = SampleResult();
  r.has_peer = false;
  EXPECT_TRUE(ToJson(r)["peer"].is_null());
  r.has_peer = true;
  r.peer = {false, "npm iso_8583", 0, "node not found on PATH"};
  r.peer_ratio.reset();
  const nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["peer"]["available"], false);
  EXPECT_TRUE(j["peer"]["ratio"].is_null());
  EXPECT_EQ(j["peer"]["note"], "node not found on PATH");
  EXPECT_NE(FormatText(r).find("NOT MEASURED: node not found on PATH"), std::string::npos);
}

TEST(ReportTest, SvgIsWellFormedWithBothSeries) {
  const std::string svg = RenderSvg(SampleResult());
  ASSERT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_NE(svg.find("</svg>\n"), std::string::npos);
  EXPECT_EQ(svg.find("</svg>"), svg.size() - 7);
  EXPECT_NE(svg.find("id=\"throughput\""), std::string::npos);
  EXPECT_NE(svg.find("id=\"latency-p50\""), std::string::npos);
  EXPECT_NE(svg.find("id=\"latency-p99\""), std::string::npos);
  // The scenario name is escaped; no raw '&' outside an entity.
  EXPECT_NE(svg.find("unit&lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("unit<&>"), std::string::npos);
  // Every element opened is closed or self-closed: count tags by hand.
  int depth = 0;
  for (std::size_t i = 0; (i = svg.find('<', i)) != std::string::npos; ++i) {
    const std::size_t close = svg.find('>', i);
    ASSERT_NE(close, std::string::npos);
    if (svg[i + 1] == '/') {
      --depth;
    } else if (svg[close - 1] != '/') {
      ++depth;
    }
    ASSERT_GE(depth, 0) << svg.substr(i, 40);
  }
  EXPECT_EQ(depth, 0);
  // Three samples: three points per polyline.
  const std::size_t p = svg.find("points=\"", svg.find("id=\"throughput\""));
  const std::string points = svg.substr(p + 8, svg.find('"', p + 8) - p - 8);
  EXPECT_EQ(std::count(points.begin(), points.end(), ','), 3);
}

TEST(ReportTest, WritesJsonAndSvgFiles) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "benchkit-report" / "nested";
  std::filesystem::remove_all(dir);
  RunResult r = SampleResult();
  r.scenario = "unit";
  ASSERT_TRUE(WriteReportFiles(r, dir).ok());
  std::ifstream json(dir / "unit.json");
  EXPECT_EQ(nlohmann::json::parse(json)["scenario"], "unit");
  std::ifstream svg(dir / "unit.svg");
  std::stringstream text;
  text << svg.rdbuf();
  EXPECT_EQ(text.str(), RenderSvg(r));
}

}  // namespace
}  // namespace tapstack::benchkit
