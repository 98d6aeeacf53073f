// CardRun: the terminals — originals, repeats, reversals, completions (card_run.h).
#include "sim/card_run.h"

#include "iso8583/original_data_elements.h"

namespace tapstack::sim::card {

std::string CardRun::Label(const Txn& t) const {
  const char* kind = t.kind == Kind::kPurchase ? "0200" : t.kind == Kind::kTokenTap ? "0100 token" : "0100";
  return terminals_[static_cast<std::size_t>(t.terminal)].spec.terminal_id + std::string(" stan=") +
         std::string(t.request.Get(11).value_or("-")) + " " + kind;
}

iso8583::Message CardRun::BuildRequest(Txn& t, const std::string& pan, const std::string& expiry,
                                   const std::string& icc, const std::string& psn) {
  Terminal& term = terminals_[static_cast<std::size_t>(t.terminal)];
  const std::int64_t now_ms = world_.clock().NowUnixMillis();
  std::time_t seconds = now_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  const std::string mmdd = Digits(static_cast<std::uint64_t>(tm.tm_mon + 1), 2) + Digits(static_cast<std::uint64_t>(tm.tm_mday), 2);
  const std::string hhmmss = Digits(static_cast<std::uint64_t>(tm.tm_hour), 2) +
                             Digits(static_cast<std::uint64_t>(tm.tm_min), 2) + Digits(static_cast<std::uint64_t>(tm.tm_sec), 2);
  const std::string stan = NextStan(term);
  iso8583::Message m(t.kind == Kind::kPurchase ? "0200" : "0100");
  m.Set(2, pan);
  m.Set(3, "000000");
  m.Set(4, Digits(static_cast<std::uint64_t>(t.facts.amount_minor), 12));
  m.Set(7, mmdd + hhmmss);
  m.Set(11, stan);
  m.Set(12, hhmmss);
  m.Set(13, mmdd);
  m.Set(14, expiry);
  m.Set(18, term.merchant->mcc);
  m.Set(19, Digits(term.spec.country_numeric, 3));
  m.Set(22, t.kind == Kind::kTokenTap ? "071" : "051");
  m.Set(25, "00");
  if (!psn.empty()) m.Set(23, "0" + psn);
  m.Set(32, term.merchant->acquirer_id);
  m.Set(37, Digits(static_cast<std::uint64_t>(tm.tm_yday), 3) + hhmmss.substr(0, 3) + stan);
  m.Set(41, term.spec.terminal_id);
  m.Set(42, term.merchant->merchant_id);
  std::string name = term.merchant->name.substr(0, 40);
  m.Set(43, name + std::string(40 - name.size(), ' '));
  m.Set(49, Digits(term.merchant->currency->numeric, 3));
  if (!icc.empty()) m.Set(55, icc);
  return m;
}

void CardRun::Start(std::size_t i) {
  Txn& t = txns_[i];
  Terminal& term = terminals_[static_cast<std::size_t>(t.terminal)];
  const Card& card = cards_[static_cast<std::size_t>(t.card)];
  t.facts.step = static_cast<int>(steps_);
  t.facts.card = card.label;
  t.facts.dual_message = t.kind != Kind::kPurchase;
  t.facts.token = t.kind == Kind::kTokenTap;
  t.facts.same_currency = *card.currency == *term.merchant->currency;
  if (t.kind == Kind::kTokenTap) {
    Phone& phone = phones_[static_cast<std::size_t>(t.facts.phone)];
    phone.se->BiometricVerified();
    acquirer::ContactlessTerminalData data;
    data.amount_authorised_minor = static_cast<std::uint64_t>(t.facts.amount_minor);
    data.currency_numeric = term.merchant->currency->numeric;
    data.country_numeric = term.spec.country_numeric;
    auto tap = phone.kernel->Run(data);
    if (!tap.ok() || tap->outcome != acquirer::KernelOutcome::kOnlineRequest) {
      world_.Trace(std::string(term.spec.terminal_id) + " tap declined by the kernel");
      world_.Count("taps-refused-offline");
      return;
    }
    t.atc = tap->atc;
    t.request = BuildRequest(t, tap->token_number, tap->expiry_yymm,
                             std::string(tap->icc_data.begin(), tap->icc_data.end()), tap->psn);
  } else {
    t.request = BuildRequest(t, card.pan, demo::kDemoCardExpiry, "", "");
  }
  t.facts.label = Label(t);
  txn_by_key_[std::string(term.spec.terminal_id) + "|" + std::string(*t.request.Get(11))] = i;
  t.outcome = Outcome::kPending;
  world_.Count("transactions");
  SendOriginal(i, false);
  if (t.repeat) {
    At(world_.now_ms() + t.repeat_after_ms, "repeat|" + Digits(i, 6), [this, i] {
      if (txns_[i].outcome == Outcome::kPending) SendOriginal(i, true);
    });
  }
}

void CardRun::SendOriginal(std::size_t i, bool repeat) {
  Txn& t = txns_[i];
  iso8583::Message m = t.request;
  if (repeat) {
    std::string mti(m.mti());
    mti[3] = '1';
    m.set_mti(mti);
    world_.Count("repeats");
  }
  ++t.outstanding;
  terminals_[static_cast<std::size_t>(t.terminal)].link->Send(
      std::move(m), [this, i](Result<iso8583::Message> r) { OnOriginalAnswer(i, std::move(r)); });
}

void CardRun::OnOriginalAnswer(std::size_t i, Result<iso8583::Message> r) {
  Txn& t = txns_[i];
  --t.outstanding;
  if (r.ok()) {
    const std::string rc(r->Get(39).value_or(""));
    if (rc == "94") {  // a copy the link duplicated: says nothing about the original
      if (t.outstanding == 0 && t.outcome == Outcome::kPending) {
        t.outcome = Outcome::kUnknown;
        SendReversal(i, 0);
      }
      return;
    }
    const bool approved = rc == "00";
    if (t.outcome == Outcome::kPending) {
      t.outcome = approved ? Outcome::kApproved : Outcome::kDeclined;
      t.facts.approved = approved;
      t.facts.declined = !approved;
      world_.Count(approved ? "approved" : "declined");
      if (approved) PlanFollowUp(i);
    } else if ((t.outcome == Outcome::kApproved || t.outcome == Outcome::kDeclined) &&
               approved != (t.outcome == Outcome::kApproved)) {
      t.facts.answers_disagree = true;
    }
    return;
  }
  if (t.outstanding == 0 && t.outcome == Outcome::kPending) {
    // Outcome unknown: the issuer may hold the money, so reverse it (repeated until acknowledged).
    t.outcome = Outcome::kUnknown;
    world_.Count("unknown");
    SendReversal(i, 0);
  }
}

void CardRun::PlanFollowUp(std::size_t i) {
  Txn& t = txns_[i];
  const std::int64_t when = world_.now_ms() + world_.Uniform(50, 2'000);
  if (t.kind == Kind::kAuthorization && world_.Chance(0.35)) {
    const std::int64_t final_minor = std::max<std::int64_t>(1, t.facts.amount_minor * world_.Uniform(50, 100) / 100);
    t.follow_up_active = true;
    At(when, "complete|" + Digits(i, 6), [this, i, final_minor] {
      Txn& x = txns_[i];
      Terminal& term = terminals_[static_cast<std::size_t>(x.terminal)];
      iso8583::Message advice("0220");
      for (int f : {2, 3, 14, 18, 19, 22, 25, 32, 37, 41, 42, 43, 49}) {
        if (auto v = x.request.Get(f)) advice.Set(f, *v);
      }
      iso8583::OriginalDataElements ode{std::string(x.request.mti()), std::string(*x.request.Get(11)),
                                        std::string(*x.request.Get(7)), term.merchant->acquirer_id, ""};
      if (auto de90 = ode.ToField(); de90.ok()) advice.Set(90, *de90);
      advice.Set(4, Digits(static_cast<std::uint64_t>(final_minor), 12));
      advice.Set(7, std::string(*x.request.Get(7)));
      advice.Set(11, NextStan(term));
      advice.Set(12, std::string(*x.request.Get(12)));
      advice.Set(13, std::string(*x.request.Get(13)));
      x.facts.completed_minor = final_minor;
      world_.Count("completions");
      SendCompletion(i, std::move(advice), 0);
    });
  } else if (world_.Chance(0.2)) {
    t.follow_up_active = true;
    At(when, "reverse|" + Digits(i, 6), [this, i] { SendReversal(i, 0); });
  }
}

void CardRun::SendReversal(std::size_t i, int attempt) {
  Txn& t = txns_[i];
  t.follow_up_active = true;
  if (attempt == 0) world_.Count("reversals");
  if (attempt >= kFollowUpsAttemptsMax) {
    t.facts.reversal_unfinished = true;
    t.follow_up_active = false;
    return;
  }
  Terminal& term = terminals_[static_cast<std::size_t>(t.terminal)];
  iso8583::Message reversal(attempt == 0 ? "0400" : "0401");
  for (int f : {2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49}) {
    if (auto v = t.request.Get(f)) reversal.Set(f, *v);
  }
  iso8583::OriginalDataElements ode{std::string(t.request.mti()), std::string(*t.request.Get(11)),
                                    std::string(*t.request.Get(7)), term.merchant->acquirer_id, ""};
  if (auto de90 = ode.ToField(); de90.ok()) reversal.Set(90, *de90);
  term.link->Send(std::move(reversal), [this, i, attempt](Result<iso8583::Message> r) {
    Txn& x = txns_[i];
    if (r.ok()) {
      x.facts.reversal_acknowledged = true;
      x.follow_up_active = false;
      return;
    }
    At(world_.now_ms() + kRetryIntervalMs, "reverse|" + Digits(i, 6) + "|" + std::to_string(attempt + 1),
       [this, i, attempt] { SendReversal(i, attempt + 1); });
  });
}

void CardRun::SendCompletion(std::size_t i, iso8583::Message advice, int attempt) {
  Txn& t = txns_[i];
  if (attempt >= kFollowUpsAttemptsMax) {
    t.facts.completion_unfinished = true;
    t.follow_up_active = false;
    return;
  }
  iso8583::Message m = advice;
  if (attempt > 0) m.set_mti("0221");
  terminals_[static_cast<std::size_t>(t.terminal)].link->Send(
      std::move(m), [this, i, attempt, advice = std::move(advice)](Result<iso8583::Message> r) mutable {
        Txn& x = txns_[i];
        if (r.ok()) {
          x.facts.completion_acknowledged = r->Get(39) == std::string_view("00");
          x.follow_up_active = false;
          return;
        }
        At(world_.now_ms() + kRetryIntervalMs, "complete|" + Digits(i, 6) + "|" + std::to_string(attempt + 1),
           [this, i, attempt, advice = std::move(advice)]() mutable { SendCompletion(i, std::move(advice), attempt + 1); });
      });
}

}  // namespace tapstack::sim::card
