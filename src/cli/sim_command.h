// `tapstack sim`: the deterministic fault simulation of the card network (src/sim/simulation.h;
// docs/RELIABILITY.md).
//   sim --seed N [--trace]              one run: trace hash, counts, faults, verdict (with --trace
//                                       every event: time, from>to, MTI, STAN, DE39, fault)
//   sim --seeds K [--first F]           K runs, seeds F..F+K-1 (F default 1): prints the failing
//                                       seeds and a summary
//   options: --transactions N (per seed), --steps-max N, --json (one JSON object per seed)
// Exit 0 when every seed passed, 1 when any seed violated an invariant or could not be set up,
// 2 on bad usage.
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterSimCommand(CLI::App& app);

}  // namespace tapstack::cli
