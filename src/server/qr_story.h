// The QR-payment stories (issue #8), played in one process on a fresh data directory over
// QrWorld (server/qr_world.h), as `tapstack demo qr` and `tapstack demo abroad` show them.
//
// `demo qr` — at home, in CNY:
//   1. Li Lei binds his Pearl River Commercial Bank card to his phone (token in the secure
//      element, SMS step) and opens a tapstack Pay account;
//   2. he tops the balance up from the card: an in-app token payment through the card network;
//   3. he scans Old Beijing Noodles' static code, types the amount and pays from the balance;
//   4. a dynamic code for one order: paid once; paying it again, a tampered copy (amount edited,
//      CRC recomputed) and an expired code are refused with the reason;
//   5. he shows his 18-digit payment code at Nanxiang Dumpling House, which scans it;
//   6. he shows an EMVCo consumer-presented code (token, ATC, cryptogram from the secure element)
//      at a card merchant; the scanner sends it through the acquirer and the issuer approves;
//      the same code again is declined (the ATC was used);
//   7. the noodle shop refunds part of a payment; a level-1 account hits its daily limit;
//   8. he withdraws part of the balance back to his card (a credit through the network);
//   9. the month's statement, and the platform's audit.
// `demo abroad` — across borders:
//   1. Li Lei pays Arbat Souvenirs in Moscow by scanning: the RUB amount, the CNY charge, the
//      network's rate and the markup are shown before he confirms; the merchant is credited in RUB;
//   2. he shows his payment code at Camden Market in London (GBP);
//   3. in Lahore he pays a merchant of IndusPay, a partner wallet in Pakistan with its own ledger:
//      the network's QR clearing carries the payment; an IndusPay user pays in Beijing the same way;
//   4. a visitor to China (a card from a Hong Kong bank) pays by card with the fee above CNY 200,
//      and a payment above USD 5,000 is refused;
//   5. a VAT refund from a London receipt is credited in CNY; the same receipt again is refused;
//   6. the merchants' settlement reports (both currencies), the clearing cut-off (positions sum
//      to zero per currency) and both platforms' audits.
// Every step checks its outcome; the first that does not hold ends the story with its error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>

#include "core/status.h"

namespace tapstack::server {

struct QrStoryOptions {
  std::filesystem::path data_dir;  // must not exist or be empty
  std::ostream* out = nullptr;     // the narration; nullptr = none
};

// Figures the stories reached, for tests and the closing line.
struct QrStoryReport {
  std::int64_t steps = 0;                  // steps that ended as the story expects
  std::int64_t refusals_checked = 0;       // refusals that came with the expected reason
  std::int64_t payer_balance_minor = 0;    // Li Lei's balance at the end (CNY fen)
  bool audit_ok = false;
};

Result<QrStoryReport> RunQrStory(const QrStoryOptions& options);
Result<QrStoryReport> RunAbroadStory(const QrStoryOptions& options);

}  // namespace tapstack::server
