// Report: a RunResult as text for the terminal, as JSON (docs/PERFORMANCE.md, "tapstack bench")
// and as an SVG chart of throughput and p50/p99 latency per second (hand-written SVG text).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "benchkit/run_result.h"
#include "core/status.h"

namespace tapstack::benchkit {

// The human summary: throughput, latency percentiles, CPU, memory, peer and ratio.
std::string FormatText(const RunResult& result);

// Members: scenario, description, limits {seconds, count, threads, rate}, options {name: value}, ops,
// errors, first_error, stop_reason, wall_seconds, ops_per_second, items_per_op, item_name,
// items_per_second (ops_per_second × items_per_op), latency_us {p50, p90, p99,
// p99_9, max}, cpu {user_seconds, system_seconds, cores, percent_of_cores}, peak_rss_bytes,
// rss {start_bytes, end_bytes, max_bytes, growth_bytes_per_minute},
// details {name: text} (scenario-specific, e.g. approvals),
// peer (null when the scenario has none, else {available, name, ops_per_second, note, ratio}
// with ratio null when unavailable), series [{start_s, duration_s, ops, errors, ops_per_second,
// p50_us, p99_us, rss_bytes}].
nlohmann::json ToJson(const RunResult& result);

// A 2-panel chart: throughput per second (polyline id "throughput") above, p50 and p99 latency
// per second (ids "latency-p50", "latency-p99") below. A complete SVG 1.1 document.
std::string RenderSvg(const RunResult& result);

// Writes <dir>/<scenario>.json and <dir>/<scenario>.svg, creating `dir`. Errors: kIoError naming
// the file.
Status WriteReportFiles(const RunResult& result, const std::filesystem::path& dir);

}  // namespace tapstack::benchkit
