// `tapstack bench`: the benchmark harness (docs/PERFORMANCE.md, "tapstack bench").
//   bench list                                  the scenarios, one per line with what an op is
//   bench <scenario> [--seconds S] [--count N] [--threads T] [--out DIR] [--skip-peer]
//                    [scenario options]         run, print the figures, write
//                                               DIR/<scenario>.json and DIR/<scenario>.svg
// Progress goes to stderr (a bar on a TTY, else a line per second); the figures to stdout.
// Exit 0 when every operation succeeded, 1 when any failed or set-up failed, 2 on bad usage.
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterBenchCommand(CLI::App& app);

}  // namespace tapstack::cli
