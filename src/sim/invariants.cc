#include "sim/invariants.h"

namespace tapstack::sim {

std::string Violation::ToString() const {
  return invariant + (step > 0 ? " (step " + std::to_string(step) + ")" : "") + ": " + detail;
}

namespace {

bool Held(const std::string& state) { return state == "pending" || state == "posted"; }

// What the issuer holds or posted on the card for one transaction.
std::int64_t IssuerMoved(const TxnFacts& t) {
  if (t.issuer_state == "pending") return t.issuer_amount_minor;
  if (t.issuer_state == "posted") return t.issuer_posted_minor;
  return 0;
}

}  // namespace

std::vector<Violation> CheckInvariants(const RunFacts& facts) {
  std::vector<Violation> out;
  if (!facts.finished) out.push_back({"run-finished", facts.unfinished_reason, 0});
  for (const auto& [host, status] : facts.ledger_audits) {
    if (!status.ok()) out.push_back({"ledger-audit", host + ": " + status.ToString(), 0});
  }
  std::map<std::string, std::int64_t> expected_by_card;
  for (const TxnFacts& t : facts.txns) {
    if (t.answers_disagree) {
      out.push_back({"answers-agree", t.label + ": the original and a repeat got different answers", t.step});
    }
    if (t.reversal_unfinished) {
      out.push_back({"run-finished", t.label + ": reversal never acknowledged", t.step});
    }
    if (t.completion_unfinished) {
      out.push_back({"run-finished", t.label + ": completion never acknowledged", t.step});
    }
    if (t.reversal_acknowledged) {
      // An 0200's reversal is a refund transfer next to the posting: card-money checks it.
      if (t.dual_message && Held(t.issuer_state)) {
        out.push_back({"reversal-undone",
                       t.label + ": reversal acknowledged but the issuer's hold is " + t.issuer_state,
                       t.step});
      }
    } else {
      expected_by_card[t.card] += IssuerMoved(t);
      if (t.declined && Held(t.issuer_state)) {
        out.push_back({"decline-not-held",
                       t.label + ": the terminal was told it was declined, but the issuer's authorisation is " +
                           t.issuer_state,
                       t.step});
      }
      if (t.approved) {
        if (!Held(t.issuer_state)) {
          out.push_back({"approval-held",
                         t.label + ": approved, not reversed, but the issuer's authorisation is " +
                             t.issuer_state,
                         t.step});
        } else if (t.same_currency) {
          const std::int64_t want = t.completion_acknowledged ? t.completed_minor : t.amount_minor;
          const std::int64_t got = t.completion_acknowledged || !t.dual_message ? t.issuer_posted_minor
                                                                                 : t.issuer_amount_minor;
          if (got != want) {
            out.push_back({"approval-held",
                           t.label + ": the issuer moved " + std::to_string(got) + " minor units (" +
                               t.issuer_state + "), the terminal " + std::to_string(want),
                           t.step});
          }
        }
      }
    }
    if (t.token && t.approved && !t.atc_recorded) {
      out.push_back({"token-atc-durable", t.label + ": approved, but the TSP's store has not its ATC", t.step});
    }
    if (t.token && t.approved && t.phone >= 0) {
      auto s = facts.suspended_at_ms.find(t.phone);
      if (s != facts.suspended_at_ms.end() && t.first_at_switch_ms >= s->second) {
        out.push_back({"token-suspension",
                       t.label + ": approved at t=" + std::to_string(t.first_at_switch_ms) +
                           " ms, after the token's suspension at t=" + std::to_string(s->second),
                       t.step});
      }
    }
  }
  for (const CardFacts& c : facts.cards) {
    const std::int64_t expected = expected_by_card[c.card];
    if (c.used_minor != expected) {
      out.push_back({"card-money",
                     c.card + ": the issuer moved " + std::to_string(c.used_minor) +
                         " minor units, the terminals' transactions account for " + std::to_string(expected),
                     0});
    }
  }
  if (facts.settlement_ran) {
    for (const auto& [currency, net] : facts.settlement_net_by_currency) {
      if (net != 0) {
        out.push_back({"settlement-zero", currency + " positions sum to " + std::to_string(net), 0});
      }
    }
  } else {
    out.push_back({"settlement-zero", "the cut-off did not run", 0});
  }
  return out;
}

}  // namespace tapstack::sim
