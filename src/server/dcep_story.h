// The digital-currency story (issue #7), played in one process on a fresh data directory, as
// `tapstack demo dcep` shows it:
//
//   1. the central bank issues e-CNY to two operators (ICBC, BOC) against their reserves;
//   2. users open wallets (tiers 2-4) and exchange bank deposits into e-CNY;
//   3. online payments: a coffee shop at the same operator, a grocer at another (interbank);
//   4. QR codes: a dynamic merchant code (one order, amount and MAC in an EMVCo payload) is paid,
//      scanned a second time without a second charge, an edited amount is refused, and a static
//      code of another operator's shop is paid;
//   5. two watches get hardware wallets (SM2 keys made inside their secure elements, certificates
//      central bank → ICBC → watch) and one is loaded from its owner's wallet;
//   6. the watches pay each other with both offline, over APDUs only;
//   7. they sync: the first upload settles, the second is recognised as the same transfer;
//   8. a cloned watch spends the same counter twice: the operator catches it at upload, blocks
//      and revokes the watch; the revocation reaches another watch at its sync and that watch
//      then refuses the clone offline;
//   9. a parent prepays 10 lessons at a school (a conditional payment): each lesson releases its
//      share, cancelling refunds the rest;
//  10. the network audit: issued = held, per ledger and across ledgers.
//
// Every step checks its outcome; the first that does not hold ends the story with its error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "core/status.h"

namespace tapstack::server {

struct DcepStoryOptions {
  // Must not exist or be empty: the story starts from nothing.
  std::filesystem::path data_dir;
  std::ostream* out = nullptr;  // the narration; nullptr = none
};

// Figures the story reached, for tests and the closing summary.
struct DcepStoryReport {
  std::int64_t issued_fen = 0;            // total issued by the central bank
  std::int64_t payer_wallet_fen = 0;      // Li Lei's online wallet at the end
  std::int64_t payer_watch_fen = 0;       // Li Lei's watch (offline purse, as the watch says)
  std::int64_t payee_watch_fen = 0;       // Han Meimei's watch
  std::int64_t offline_settled = 0;       // records settled at upload
  std::int64_t offline_duplicates = 0;    // records uploaded by both sides
  bool clone_caught = false;              // the double spend was detected and the watch blocked
  bool clone_refused_offline = false;     // after its sync, a payee watch refused the clone
  std::int64_t lessons_released_fen = 0;  // paid to the school
  std::int64_t lessons_refunded_fen = 0;  // returned to the parent
  bool audit_ok = false;
};

Result<DcepStoryReport> RunDcepStory(const DcepStoryOptions& options);

}  // namespace tapstack::server
