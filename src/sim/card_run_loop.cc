// CardRun: the event loop, healing, test corruptions and the gathered facts (card_run.h).
#include "sim/card_run.h"

#include "iso8583/original_data_elements.h"

namespace tapstack::sim::card {

void CardRun::AdviceTick() {
  if (switch_) switch_->DeliverStoredAdvices();
  if (healed_ && AllDone()) return;  // the last tick: nothing left to retry
  At(world_.now_ms() + kAdviceRetryIntervalMs, "advice-tick", [this] { AdviceTick(); });
}

bool CardRun::AllDone() {
  if (!switch_ || SwitchFailed()) return false;
  if (!tsp_ || tsp_store_failed_->load()) return false;
  for (const auto& h : hosts_) {
    if (!h || h->ledger_failed()) return false;
  }
  for (const Txn& t : txns_) {
    if (t.outcome == Outcome::kNotSent && t.start_ms > world_.now_ms()) return false;
    if (t.outstanding > 0 || t.follow_up_active || t.outcome == Outcome::kPending) return false;
  }
  for (const auto& l : issuer_links_) {
    if (l->waiting() > 0) return false;
  }
  for (const auto& [issuer, pending] : switch_->PendingAdvices()) {
    if (pending > 0) return false;
  }
  return true;
}

void CardRun::Heal() {
  healed_ = true;
  world_.Trace("heal");
  LinkFaultRates& f = world_.faults();
  f.drop_request = f.drop_response = f.duplicate_request = f.slow = 0;
  for (const auto& disk : disks_) disk->Disarm();  // a failure already seen is still restarted
  switch_disk_->Disarm();
  journal_disk_->Disarm();
  tsp_disk_->Disarm();
  for (std::size_t h = 0; h < hosts_.size(); ++h) RestartIssuer(h);
  RestartSwitch();
  RestartTsp();
  for (std::size_t h = 0; h < issuer_links_.size(); ++h) {
    issuer_links_[h]->set_up(true);
    IssuerReady(h);
  }
  for (Terminal& t : terminals_) t.link->set_up(true);
}

Status CardRun::Loop() {
  // The set-up's writes (the phones' ID&V messages in the switch's journal, say) finish before
  // the first event, which may arm a disk under them.
  Quiesce();
  world_.events().Commit();
  while (auto event = world_.events().Pop()) {
    if (steps_ >= options_.steps_max) {
      facts_.finished = false;
      facts_.unfinished_reason = "more than " + std::to_string(options_.steps_max) + " steps (--steps-max)";
      break;
    }
    ++steps_;
    const std::int64_t delta = event->at_ms - world_.now_ms();
    if (delta > 0) world_.clock().AdvanceMillis(delta);
    event->action();
    Quiesce();
    SuperviseIssuers();
    SuperviseSwitch();
    SuperviseTsp();
    world_.events().Commit();
  }
  result_.steps = steps_;
  result_.simulated_ms = world_.now_ms();
  if (facts_.finished && !AllDone()) {
    facts_.finished = false;
    facts_.unfinished_reason = "the agenda emptied with work left (a role down, a loop pending)";
  }
  return Status::Ok();
}

Status CardRun::Corrupt() {
  // The kDcep* ones are done by the digital-currency part (dcep_part.h), kTransit* by the transit
  // part (transit_part.h).
  if (options_.corruption == TestCorruption::kNone ||
      options_.corruption == TestCorruption::kDcepDoubleCredit ||
      options_.corruption == TestCorruption::kDcepUnrecordedPayment ||
      options_.corruption == TestCorruption::kTransitLostBatch) {
    return Status::Ok();
  }
  for (Txn& t : txns_) {
    if (!t.facts.approved || t.facts.reversal_acknowledged || t.follow_up_active) continue;
    const bool hold = t.kind == Kind::kAuthorization && !t.facts.completion_acknowledged && t.facts.completed_minor == 0;
    const bool purchase = t.kind == Kind::kPurchase;
    if ((options_.corruption == TestCorruption::kRemoveHold && !hold) ||
        (options_.corruption == TestCorruption::kDoublePosting && !purchase)) {
      continue;
    }
    const Card& card = cards_[static_cast<std::size_t>(t.card)];
    iso8583::Message m = t.request;
    if (options_.corruption == TestCorruption::kRemoveHold) {
      m.set_mti("0400");
      iso8583::OriginalDataElements ode{"0100", std::string(*t.request.Get(11)), std::string(*t.request.Get(7)),
                                        std::string(*t.request.Get(32)), ""};
      TS_ASSIGN_OR_RETURN(std::string de90, ode.ToField());
      m.Set(90, de90);
    } else {
      m.Set(11, "999999");
    }
    SimLinkOptions lo;
    lo.from = "test-corruption";
    lo.to = Hosts()[static_cast<std::size_t>(card.host)].node;
    SimLink direct(world_, lo);
    direct.set_immediate(true);
    std::optional<Result<iso8583::Message>> answer;
    direct.Send(m, [&answer](Result<iso8583::Message> r) { answer = std::move(r); });
    hosts_[static_cast<std::size_t>(card.host)]->WaitIdle();
    if (!answer.has_value() || !answer->ok()) return Internal("test corruption: the issuer did not answer");
    world_.Trace("test-corruption " + t.facts.label + " rc=" + std::string((*answer)->Get(39).value_or("-")));
    return Status::Ok();
  }
  return NotFound("test corruption: no transaction to corrupt in this seed");
}

void CardRun::Gather(std::vector<Violation> more) {
  // Ledgers.
  for (std::size_t h = 0; h < hosts_.size(); ++h) {
    if (!hosts_[h]) {
      facts_.ledger_audits[Hosts()[h].node] = FailedPrecondition("host down at the end");
      continue;
    }
    ledger::AuditReport report;
    facts_.ledger_audits[Hosts()[h].node] = hosts_[h]->ledger().Audit(&report);
  }
  // Authorisations as the issuers know them.
  for (Txn& t : txns_) {
    if (t.outcome == Outcome::kNotSent) continue;
    const Card& card = cards_[static_cast<std::size_t>(t.card)];
    auto& host = hosts_[static_cast<std::size_t>(card.host)];
    if (!host) continue;
    auto state = host->FindAuthorization(card.bank_id, *t.request.Get(32), *t.request.Get(41), *t.request.Get(11),
                                         *t.request.Get(7));
    if (!state.ok()) {
      t.facts.issuer_state = "error: " + state.status().ToString();
    } else {
      t.facts.issuer_state = std::string(issuer::AuthorizationStateName(state->state));
      t.facts.issuer_amount_minor = state->amount_minor;
      t.facts.issuer_posted_minor = state->posted_minor;
    }
    if (t.facts.token && t.facts.approved && tsp_) {
      auto seen = tsp_->service().AtcSeen(phones_[static_cast<std::size_t>(t.facts.phone)].token_id, t.atc);
      t.facts.atc_recorded = seen.ok() && *seen;
    }
    facts_.txns.push_back(t.facts);
  }
  for (const Card& c : cards_) {
    auto& host = hosts_[static_cast<std::size_t>(c.host)];
    if (!host) continue;
    auto available = host->AvailableMinor(c.bank_id, c.pan);
    facts_.cards.push_back({c.label, available.ok() ? c.opening_minor - *available : -1});
  }
  // Settlement.
  if (switch_) {
    auto report = switch_->CutOff();
    if (report.ok()) {
      facts_.settlement_ran = true;
      for (const network::SettlementPosition& p : report->positions) {
        facts_.settlement_net_by_currency[p.currency] += p.net_minor;
      }
      world_.Trace("cut-off records=" + std::to_string(report->records));
      result_.counts["settled-records"] = report->records;
    }
  }
  result_.violations = CheckInvariants(facts_);
  for (Violation& v : more) result_.violations.push_back(std::move(v));
  for (const auto& [name, count] : world_.counters()) result_.counts[name] = count;
  result_.trace_hash = world_.TraceHash();
  result_.trace = world_.trace();
  result_.counts["trace-lines"] = static_cast<std::int64_t>(world_.trace_lines());
}

}  // namespace tapstack::sim::card
