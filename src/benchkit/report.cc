#include "benchkit/report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

namespace tapstack::benchkit {

namespace {

// `value` with `decimals` digits after the point, then `suffix` ("%.*f" is a literal: checked).
std::string Printf(double value, int decimals, std::string_view suffix = {}) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return std::string(buffer) + std::string(suffix);
}

// 1234567.8 → "1.23 M"; 4321 → "4.32 k"; 12.34 → "12.3".
std::string Human(double value) {
  if (value >= 1e6) return Printf(value / 1e6, 2, " M");
  if (value >= 1e3) return Printf(value / 1e3, 2, " k");
  return Printf(value, 1);
}

std::string Micros(double us) {
  if (us >= 1000) return Printf(us / 1000, 2, " ms");
  return Printf(us, 3, " µs");
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string FormatText(const RunResult& r) {
  const Measurement& m = r.measurement;
  std::ostringstream out;
  out << r.scenario << ": " << r.description << "\n";
  out << "  options      ";
  for (const auto& [name, value] : r.options) out << name << "=" << value << " ";
  out << "threads=" << r.limits.threads << " (bounds: " << r.limits.seconds << " s, " << r.limits.count
      << " ops; stopped by " << m.stop_reason << ")\n";
  if (r.limits.rate > 0) out << "  paced        " << Human(r.limits.rate) << " ops/s (--rate)\n";
  out << "  throughput   " << Human(m.ops_per_second) << " ops/s (" << m.ops << " ops in "
      << Printf(m.wall_seconds, 2) << " s";
  if (m.errors > 0) out << ", " << m.errors << " FAILED; first: " << m.first_error;
  out << ")\n";
  if (r.items_per_op != 1) {
    out << "               = " << Human(m.ops_per_second * static_cast<double>(r.items_per_op)) << " " << r.item_name
        << "/s (" << r.items_per_op << " per op)\n";
  }
  out << "  latency      p50 " << Micros(m.latency.p50_us) << "  p90 " << Micros(m.latency.p90_us)
      << "  p99 " << Micros(m.latency.p99_us) << "  p99.9 " << Micros(m.latency.p999_us) << "  max "
      << Micros(m.latency.max_us) << "\n";
  out << "  cpu          user " << Printf(m.cpu_user_seconds, 2) << " s + sys "
      << Printf(m.cpu_system_seconds, 2) << " s = " << Printf(m.cpu_percent_of_cores, 0)
      << "% of " << m.cores << " cores × wall\n";
  out << "  peak memory  " << Printf(static_cast<double>(m.peak_rss_bytes) / (1 << 20), 1)
      << " MiB (ru_maxrss)\n";
  const double mib = 1 << 20;
  out << "  rss          start " << Printf(static_cast<double>(m.rss.start_bytes) / mib, 1) << " MiB, end "
      << Printf(static_cast<double>(m.rss.end_bytes) / mib, 1) << " MiB, max "
      << Printf(static_cast<double>(m.rss.max_bytes) / mib, 1) << " MiB; growth "
      << Printf(m.rss.growth_bytes_per_minute / mib, 2) << " MiB/min over the second half\n";
  for (const auto& [key, value] : r.details) {
    out << "  " << key << std::string(key.size() < 13 ? 13 - key.size() : 1, ' ') << value << "\n";
  }
  if (r.has_peer) {
    if (r.peer.available) {
      out << "  peer         " << r.peer.name << ": " << Human(r.peer.ops_per_second) << " ops/s";
      if (r.peer_ratio) out << "  → ratio " << Printf(*r.peer_ratio, 2) << "×";
      out << "\n               " << r.peer.note << "\n";
    } else {
      out << "  peer         NOT MEASURED: " << r.peer.note << "\n";
    }
  }
  return out.str();
}

nlohmann::json ToJson(const RunResult& r) {
  const Measurement& m = r.measurement;
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["description"] = r.description;
  j["limits"] = {{"seconds", r.limits.seconds},
                 {"count", r.limits.count},
                 {"threads", r.limits.threads},
                 {"rate", r.limits.rate}};
  j["options"] = nlohmann::json::object();
  for (const auto& [name, value] : r.options) j["options"][name] = value;
  j["ops"] = m.ops;
  j["errors"] = m.errors;
  j["first_error"] = m.first_error;
  j["stop_reason"] = m.stop_reason;
  j["wall_seconds"] = m.wall_seconds;
  j["ops_per_second"] = m.ops_per_second;
  j["items_per_op"] = r.items_per_op;
  j["item_name"] = r.item_name;
  j["items_per_second"] = m.ops_per_second * static_cast<double>(r.items_per_op);
  j["latency_us"] = {{"p50", m.latency.p50_us}, {"p90", m.latency.p90_us}, {"p99", m.latency.p99_us},
                     {"p99_9", m.latency.p999_us}, {"max", m.latency.max_us}};
  j["cpu"] = {{"user_seconds", m.cpu_user_seconds}, {"system_seconds", m.cpu_system_seconds},
              {"cores", m.cores}, {"percent_of_cores", m.cpu_percent_of_cores}};
  j["peak_rss_bytes"] = m.peak_rss_bytes;
  j["rss"] = {{"start_bytes", m.rss.start_bytes},
              {"end_bytes", m.rss.end_bytes},
              {"max_bytes", m.rss.max_bytes},
              {"growth_bytes_per_minute", m.rss.growth_bytes_per_minute}};
  j["details"] = nlohmann::json::object();
  for (const auto& [key, value] : r.details) j["details"][key] = value;
  if (r.has_peer) {
    j["peer"] = {{"available", r.peer.available}, {"name", r.peer.name},
                 {"ops_per_second", r.peer.ops_per_second}, {"note", r.peer.note},
                 {"ratio", r.peer_ratio ? nlohmann::json(*r.peer_ratio) : nlohmann::json(nullptr)}};
  } else {
    j["peer"] = nullptr;
  }
  j["series"] = nlohmann::json::array();
  for (const Sample& s : m.series) {
    j["series"].push_back({{"start_s", s.start_s}, {"duration_s", s.duration_s}, {"ops", s.ops},
                           {"errors", s.errors}, {"ops_per_second", s.ops_per_second},
                           {"p50_us", s.p50_us}, {"p99_us", s.p99_us}, {"rss_bytes", s.rss_bytes}});
  }
  return j;
}

std::string RenderSvg(const RunResult& r) {
  constexpr double kWidth = 800, kHeight = 520;
  constexpr double kLeft = 80, kRight = 770;
  constexpr double kTopPanel = 50, kPanelHeight = 180, kBottomPanel = 300;
  const std::vector<Sample>& series = r.measurement.series;
  const double wall = std::max(r.measurement.wall_seconds, 1e-9);
  double ops_max = 1, latency_max = 1e-3;
  for (const Sample& s : series) {
    ops_max = std::max(ops_max, s.ops_per_second);
    latency_max = std::max({latency_max, s.p50_us, s.p99_us});
  }
  ops_max *= 1.1;
  latency_max *= 1.1;
  auto x_of = [&](const Sample& s) { return kLeft + (kRight - kLeft) * (s.start_s + s.duration_s / 2) / wall; };
  auto points = [&](double top, double max, auto value) {
    std::string p;
    for (const Sample& s : series) {
      p += Printf(x_of(s), 1) + "," + Printf(top + kPanelHeight * (1 - value(s) / max), 1) + " ";
    }
    return p;
  };
  auto panel = [&](double top, const std::string& label, double max, const std::string& unit) {
    std::string out;
    out += "<rect x=\"" + Printf(kLeft, 0) + "\" y=\"" + Printf(top, 0) + "\" width=\"" +
           Printf(kRight - kLeft, 0) + "\" height=\"" + Printf(kPanelHeight, 0) +
           "\" fill=\"none\" stroke=\"#888\"/>\n";
    out += "<text x=\"" + Printf(kLeft, 0) + "\" y=\"" + Printf(top - 8, 0) + "\">" +
           XmlEscape(label) + "</text>\n";
    out += "<text x=\"" + Printf(kLeft - 6, 0) + "\" y=\"" + Printf(top + 12, 0) +
           "\" text-anchor=\"end\">" + XmlEscape(Human(max) + unit) + "</text>\n";
    out += "<text x=\"" + Printf(kLeft - 6, 0) + "\" y=\"" + Printf(top + kPanelHeight, 0) +
           "\" text-anchor=\"end\">0</text>\n";
    return out;
  };
  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + Printf(kWidth, 0) +
         "\" height=\"" + Printf(kHeight, 0) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<title>" + XmlEscape("tapstack bench " + r.scenario) + "</title>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + Printf(kLeft, 0) + "\" y=\"20\" font-size=\"15\">" +
         XmlEscape("tapstack bench " + r.scenario + ": " + Human(r.measurement.ops_per_second) +
                   " ops/s, p99 " + Micros(r.measurement.latency.p99_us)) +
         "</text>\n";
  svg += panel(kTopPanel, "throughput per second (ops/s)", ops_max, "");
  svg += "<polyline id=\"throughput\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"" +
         points(kTopPanel, ops_max, [](const Sample& s) { return s.ops_per_second; }) + "\"/>\n";
  svg += panel(kBottomPanel, "latency per second (µs): p50 blue, p99 red", latency_max, " µs");
  svg += "<polyline id=\"latency-p50\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"" +
         points(kBottomPanel, latency_max, [](const Sample& s) { return s.p50_us; }) + "\"/>\n";
  svg += "<polyline id=\"latency-p99\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"" +
         points(kBottomPanel, latency_max, [](const Sample& s) { return s.p99_us; }) + "\"/>\n";
  const double axis_y = kBottomPanel + kPanelHeight + 18;
  svg += "<text x=\"" + Printf(kLeft, 0) + "\" y=\"" + Printf(axis_y, 0) + "\">0 s</text>\n";
  svg += "<text x=\"" + Printf(kRight, 0) + "\" y=\"" + Printf(axis_y, 0) +
         "\" text-anchor=\"end\">" + Printf(wall, 1, " s") + "</text>\n";
  svg += "</svg>\n";
  return svg;
}

Status WriteReportFiles(const RunResult& result, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(dir.string() + ": cannot create directory: " + ec.message());
  const std::pair<std::filesystem::path, std::string> files[] = {
      {dir / (result.scenario + ".json"), ToJson(result).dump(2) + "\n"},
      {dir / (result.scenario + ".svg"), RenderSvg(result)},
  };
  for (const auto& [path, text] : files) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return IoError(path.string() + ": write failed");
  }
  return Status::Ok();
}

}  // namespace tapstack::benchkit
