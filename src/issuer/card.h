// Card records of an issuer bank. The PAN itself is never stored: a card is found by a keyed
// HMAC-SHA-256 fingerprint of its PAN, and shown by its masked form.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ledger/types.h"

namespace tapstack::issuer {

enum class CardStatus { kActive, kBlocked, kLost, kStolen };
enum class CardType { kDebit, kCredit };

std::string_view CardStatusName(CardStatus status);
Result<CardStatus> ParseCardStatus(std::string_view name);

struct CardRecord {
  std::string fingerprint;       // hex HMAC-SHA-256(bank PAN key, PAN)
  std::string institution_id;    // the issuing bank
  std::string masked_pan;        // first 6 / last 4
  std::string expiry;            // YYMM
  CardStatus status = CardStatus::kActive;
  CardType type = CardType::kDebit;
  ledger::Id128 account_id;      // the card account in the ledger
  std::int64_t per_transaction_limit_minor = 0;  // 0: no limit
  std::int64_t daily_limit_minor = 0;            // 0: no limit
  int daily_transactions_max = 0;                // velocity; 0: no limit
  std::set<std::string> blocked_mccs;            // merchant category codes refused (DE18)
};

}  // namespace tapstack::issuer
