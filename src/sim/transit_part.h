// The transit part of a simulation run (issue #10: the transit operators in the simulated
// network; docs/RELIABILITY.md). After the digital-currency part, on the same seed, world and
// clock.
//
// The back office is the real one (transit::TransitNetwork: every seed city's operator with its
// card registry, load server and clearing, SQLite stores under the run's directory, and the
// national exchange between them). Three phones with secure elements hold purse cards: two of
// Beijing and one of Shanghai (a visitor: its records go through the exchange). Beijing's gates
// (metro entries and exits on three lines, and a bus validator) work offline with their PSAMs and
// keep their records in their own files until an upload is acknowledged.
//
// The seed drives rides (entry then exit, or a bus), top-ups through the load server (order, the
// card's INITIALIZE FOR LOAD, MAC2, CREDIT FOR LOAD, the TAC confirmed) and uploads, with faults:
//   - a torn tap: the card answers the DEBIT but the answer never reaches the gate (the rider taps
//     again at the same gate, which completes the record with GET TRANSACTION PROVE);
//   - a debit that never reaches the card (the rider taps again);
//   - a top-up whose CREDIT FOR LOAD answer is lost: the wallet reads the card's log and the load
//     server reconciles the order from it;
//   - an upload's answer lost (the gate sends the same batch again later) or an upload sent twice;
//   - a gate, or the whole back office, closed and reopened from its files.
// Then it heals (every gate uploads until it holds nothing; forwarding retried) and checks:
//   transit-purse-agrees   each card's balance is its loads less the fares its gates charged
//   transit-cleared-once   each city's clearing accepted exactly the records the gates made
//                          (one per completed tap), the last of each card with the card's balance
//   transit-no-anomaly     no honest card was reported (bad TAC, counter reused, balance gained
//                          or lost) or blacklisted
//   transit-positions      what Beijing is owed by Shanghai is what Shanghai owes Beijing, and both
//                          are the fares the visitor's card paid at Beijing's gates
//   transit-loads-once     every top-up order is loaded at most once and captured exactly when
//                          loaded
// Not thread-safe; one run per thread.
#pragma once

#include <filesystem>
#include <vector>

#include "core/status.h"
#include "sim/invariants.h"
#include "sim/sim_world.h"

namespace tapstack::sim {

struct TransitPartOptions {
  int taps = 24;                      // taps attempted (rides are two of them)
  bool faults = true;                 // torn taps, lost answers, repeated uploads, restarts
  bool corrupt_lost_batch = false;  // test-only: a gate drops a batch as if clearing had stored it
};

// Runs the part under `dir` (created; the caller removes it) and appends what it found to
// `violations`. Errors: set-up failed (seed cities, stores, issuing cards): not a verdict on the
// seed.
Status RunTransitPart(SimWorld& world, const std::filesystem::path& dir, const TransitPartOptions& options,
                      std::vector<Violation>& violations);

}  // namespace tapstack::sim
