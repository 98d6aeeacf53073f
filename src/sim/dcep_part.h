// The digital-currency part of a simulation run (issue #10: "no offline transfer was credited
// twice"; docs/RELIABILITY.md). After the card network's part, on the same seed, world and clock:
//
// The network is the real one (dcep::DcepNetwork: the central bank, operators icbc and ccb, their
// SQLite stores and ledgers under the run's directory). Three watches with hardware wallets
// (emulated secure elements, SM2 keys) are certified and loaded: watch-a and watch-c at icbc,
// watch-b at ccb. The seed may clone watch-a's secure element byte for byte (the clone pays
// too), then drives offline payments between the watches over APDUs (device::PayOffline) and
// uploads of their logs (READ LOG, upload, SYNC), with faults: an upload's answer lost (the
// watch keeps its records and uploads them again), an upload sent twice, the interbank link
// between the operators losing credit requests or their answers, and the whole network closed
// and reopened from its files. Then it heals (every watch uploads until its log is settled,
// pending records are re-driven) and checks what follows.
// Between those steps the watches' owners pay each other online (dcep::Operator::Pay, within an
// operator and across) or pay merchants' orders (dynamic codes, at times scanned again by the
// same payer or by another), under an idempotency key each: the seed sends a payment twice or loses
// its answer, and the client asks again under the same key later (also while healing, until
// every payment has an answer); answers that leave the outcome open (unavailable, I/O error,
// internal) are asked again too. The two owners at icbc also lock value in escrow contracts
// (dcep::ContractBook), which the payer confirms, the payee cancels or the operator's expiry
// timer refunds, their calls retried the same way. The checks:
//   dcep-network-balanced   the central bank's issued total = Σ positions, each position = the
//                           operator's float + wallets + purses + escrows, nothing in transit
//   dcep-credited-once      no transfer (payer, counter) settled twice; no operator's record of a
//                           purse holds more than the watch itself does (a credit counted twice)
//   dcep-purse-agrees       nor less (a transfer lost or debited twice); both for every watch
//                           the cloned payer never offered a payment to
//   dcep-clone-caught       when both the clone and the original paid, the payer is revoked
//   dcep-online-answered    every online payment and contract call got a final answer once healed
//   dcep-online-first-outcome  every later answer under a key was its first one (same entry)
//   dcep-online-balance     each owner's wallet holds its start balance plus what the posted
//                           answers and the contracts' progress moved: nothing twice or lost
//   dcep-contract-agrees    released + refunded + locked = the amount, closed iff nothing is
//                           locked; a confirmed contract released all, a cancelled one refunded all
//   dcep-history-agrees     each wallet's history, paged, is newest first and lists every posted
//                           payment it paid (or received within its operator) exactly once
//   dcep-order-paid-once    no merchant order was paid by two entries
// The seed may also fail the disk under one operator store (its wallets and journal, or its
// offline settlement records) or under the network's ledger logs: a write or fdatasync fails, the
// unsynced writes lost or kept, and a supervisor restarts the network at the next step.
// Not thread-safe; one run per thread.
#pragma once

#include <filesystem>
#include <vector>

#include "core/status.h"
#include "sim/invariants.h"
#include "sim/sim_world.h"

namespace tapstack::sim {

struct DcepPartOptions {
  int payments = 12;                   // offline payments attempted
  bool faults = true;                  // lost answers, repeated uploads, interbank faults, restarts
  bool force_clone = false;            // clone watch-a whatever the seed says
  bool corrupt_double_credit = false;  // test-only: a purse credited behind its watch's back
  bool corrupt_unrecorded_payment = false;  // test-only: an online payment no client asked for
};

// Runs the part under `dir` (created; the caller removes it) and appends what it found to
// `violations`. Errors: set-up failed (config, stores, certification): not a verdict on the seed.
Status RunDcepPart(SimWorld& world, const std::filesystem::path& dir,
                   const DcepPartOptions& options, std::vector<Violation>& violations);

}  // namespace tapstack::sim
