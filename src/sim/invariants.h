// The invariants checked after every simulated run, over facts gathered from the terminals' view
// (what each terminal sent and was told) and from the roles (issuers' ledgers and authorisations,
// the switch's settlement). Pure functions of RunFacts, so tests can break each invariant on
// purpose and see it named.
//
//   ledger-audit        every issuer host's ledger passes ledger::Audit (money conserved per
//                       currency and ledger, balances match transfers)
//   approval-held       every approval a terminal saw and did not reverse has its hold or posting
//                       at the issuer (pending or posted, of the approved amount when the card's
//                       currency is the terminal's; a completion posted the completed amount)
//   reversal-undone     every acknowledged reversal left no hold or posting (0100: voided or
//                       never held)
//   decline-not-held    no transaction a terminal was told was declined holds or posts money at
//                       the issuer (an issuer that booked it and went unheard is reversed by the
//                       switch; one whose disk failed leaves it unanswered rather than declined)
//   card-money          on every card the issuer moved exactly what the terminals' transactions
//                       account for (one hold or posting each, none for acknowledged reversals):
//                       catches a second hold or a double posting
//   settlement-zero     the switch's settlement positions sum to zero per currency
//   token-suspension    no token tap that first reached the switch after the token's suspension
//                       was acknowledged was approved
//   token-atc-durable   every token tap the terminal saw approved has its ATC spent in the TSP's
//                       store at the end (the TSP answers only once its ATC record is durable)
//   answers-agree       an original and its repeats were not answered one approved, one declined
//   run-finished        every reversal and completion was acknowledged before the run ended
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace tapstack::sim {

// One transaction as the terminal saw it, with what its issuer says about it at the end.
struct TxnFacts {
  std::string label;          // "TERM0001 stan=000012 0100" (no card number)
  std::string card;           // the card's label ("48020001/debit/0"), never its number
  bool dual_message = false;  // 0100 (a hold) rather than 0200 (posted at once)
  bool token = false;
  bool same_currency = true;  // the terminal's currency is the card's
  std::int64_t amount_minor = 0;
  bool approved = false;           // the terminal was told "00"
  bool declined = false;           // the terminal was told another answer (not "94": a copy's)
  bool reversal_acknowledged = false;
  bool reversal_unfinished = false;  // a reversal was needed and never acknowledged
  bool completion_acknowledged = false;  // 0230 "00"
  bool completion_unfinished = false;
  std::int64_t completed_minor = 0;
  bool answers_disagree = false;
  std::int64_t first_at_switch_ms = -1;  // when a copy of the request first reached the switch
  int phone = -1;                        // token taps: which phone
  bool atc_recorded = true;              // token taps: the TSP's store counts the tap's ATC spent
  // At the issuer, at the end (issuer::AuthorizationState names).
  std::string issuer_state = "not_found";
  std::int64_t issuer_amount_minor = 0;  // card currency
  std::int64_t issuer_posted_minor = 0;
  int step = 0;  // the step the transaction started at
};

struct CardFacts {
  std::string card;
  std::int64_t used_minor = 0;  // opening available minus available at the end
};

struct RunFacts {
  std::map<std::string, Status> ledger_audits;            // by issuer host
  std::vector<TxnFacts> txns;
  std::vector<CardFacts> cards;
  std::map<std::string, std::int64_t> settlement_net_by_currency;  // Σ net_minor
  bool settlement_ran = false;
  std::map<int, std::int64_t> suspended_at_ms;  // phone → when the suspension was acknowledged
  bool finished = true;                         // every loop ended within steps_max
  std::string unfinished_reason;
};

struct Violation {
  std::string invariant;  // the names above
  std::string detail;
  int step = 0;  // the step of the transaction concerned when known, else 0
  std::string ToString() const;
};

std::vector<Violation> CheckInvariants(const RunFacts& facts);

}  // namespace tapstack::sim
