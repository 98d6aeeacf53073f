// Console transaction search: the switch's message journal (network/journal.h, masked already)
// read by card or token and grouped into transactions.
//
// A transaction is the acquirer's request, the switch's forward to the issuer, the issuer's answer
// and the switch's answer to the acquirer. All four carry the acquirer's DE11 (STAN), DE7
// (transmission date and time) and DE41 (terminal id) — the switch forwards them unchanged and
// echoes them back — so (DE11, DE7, DE41) is the grouping key (jPOS and ISO 8583:1987 §4.3 match
// a response to its request the same way). DE2 differs between the legs of a token payment: the
// acquirer side holds the token, the issuer side the funding card, both masked; a search by
// either finds the rows of its side, then the other legs are read by STAN and kept when their
// key matches.
//
// Never a full card number: every number in the answer comes from the journal, which stores DE2
// masked (first 6 / last 4); the search itself takes a masked number or last 4 digits only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "network/switch.h"

namespace tapstack::server {

inline constexpr std::size_t kConsoleTransactionsDefault = 20;
inline constexpr std::size_t kConsoleTransactionsMax = 100;
// Journal rows read per transaction asked for (four legs, plus repeats and reversals).
inline constexpr std::size_t kJournalRowsPerTransaction = 6;

// What to search: exactly one of masked_pan and last4.
struct JournalSearch {
  std::string masked_pan;  // "622202******0015": first 6, 2 to 9 '*', last 4 (card or token)
  std::string last4;       // "0015"
  std::size_t limit = kConsoleTransactionsDefault;  // transactions, 1..kConsoleTransactionsMax
};

struct JournalTransaction {
  std::string stan;
  std::string transmission_time;  // DE7, MMDDhhmmss
  std::string terminal_id;        // DE41
  std::string masked_pan;         // the acquirer side's DE2 (card or token), masked
  std::string mti;                // of the acquirer's first request
  std::string response_code;      // of the switch's last answer to the acquirer ("" none yet)
  std::string amount_minor;       // DE4 of the acquirer's request, as sent ("" when absent)
  std::string currency;           // DE49 numeric, as sent
  std::int64_t first_unix_ms = 0;
  std::int64_t last_unix_ms = 0;
  std::vector<network::JournalEntry> messages;  // oldest first
};

// Checks `search`: exactly one of masked_pan / last4, in the forms above, limit in range.
// Errors: kInvalidArgument naming the field ("masked_pan", "last4", "limit").
Status ValidateJournalSearch(const JournalSearch& search);

// Groups journal rows (any order) into transactions by (DE11, DE7, DE41) read from each row's
// message_json, newest transaction first (by its newest row). Rows without DE11 are dropped.
std::vector<JournalTransaction> GroupJournal(std::vector<network::JournalEntry> entries);

// Validates, reads the matching rows and the other legs of their transactions from `network`,
// groups them and returns at most search.limit transactions, newest first.
// Errors: ValidateJournalSearch's; Switch::JournalEntries's.
Result<std::vector<JournalTransaction>> SearchJournal(network::Switch& network,
                                                      const JournalSearch& search);

}  // namespace tapstack::server
