#include "acquirer/pos_terminal.h"

#include <ctime>

#include "iso8583/compact_message.h"
#include "iso8583/original_data_elements.h"
#include "iso8583/token_data.h"

namespace tapstack::acquirer {

namespace {

std::string Digits(std::uint64_t value, std::size_t width) {
  std::string s = std::to_string(value);
  return s.size() >= width ? s.substr(s.size() - width) : std::string(width - s.size(), '0') + s;
}

std::string PadRight(std::string_view s, std::size_t width) {
  std::string out(s.substr(0, width));
  out.append(width - out.size(), ' ');
  return out;
}

// A fixed numeric field as the terminal itself wrote it (digits only).
std::int64_t ParseDigits(std::string_view s) {
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// ISO 4217 alpha of a DE49/DE50 value the terminal wrote; empty when unknown.
std::string CurrencyAlpha(std::optional<std::string_view> numeric) {
  if (!numeric) return {};
  const std::int64_t n = ParseDigits(*numeric);
  if (n < 0) return {};
  auto c = CurrencyByNumeric(static_cast<std::uint16_t>(n));
  return c.ok() ? std::string((*c)->alpha) : std::string();
}

}  // namespace

PosTerminal::PosTerminal(TerminalConfig config, link::RequestSender& link, const Clock& clock)
    : config_(std::move(config)), link_(link), clock_(clock), stan_(config_.stan_start) {}

std::string PosTerminal::NextStan() { return Digits(stan_.fetch_add(1) % 999'999 + 1, 6); }

PosTerminal::Now PosTerminal::LocalNow() const {
  const std::int64_t now_ms = clock_.NowUnixMillis();
  std::time_t seconds = now_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  Now now;
  now.mmdd = Digits(static_cast<std::uint64_t>(tm.tm_mon + 1), 2) +
             Digits(static_cast<std::uint64_t>(tm.tm_mday), 2);
  now.hhmmss = Digits(static_cast<std::uint64_t>(tm.tm_hour), 2) +
               Digits(static_cast<std::uint64_t>(tm.tm_min), 2) +
               Digits(static_cast<std::uint64_t>(tm.tm_sec), 2);
  now.yday = tm.tm_yday;
  return now;
}

iso8583::Message PosTerminal::BuildRequest(const acquirer::Purchase& p, const std::string& stan) {
  const Now now = LocalNow();
  iso8583::Message m(p.single_message ? "0200" : "0100");
  m.Set(2, p.pan);
  m.Set(3, p.processing_code);
  m.Set(4, Digits(static_cast<std::uint64_t>(p.amount.minor_units()), 12));
  m.Set(7, now.mmdd + now.hhmmss);
  m.Set(11, stan);
  m.Set(12, now.hhmmss);
  m.Set(13, now.mmdd);
  if (!p.expiry.empty()) m.Set(14, p.expiry);
  m.Set(18, config_.mcc);
  m.Set(19, Digits(config_.country_numeric, 3));
  // DE22: 07 contactless chip, 01 manual / card not present (81 e-commerce), 09 in-app with the
  // chip cryptogram in DE55 (pos_terminal.h); PIN capable only at a terminal.
  m.Set(22, p.entry == EntryMode::kContactless  ? "071"
            : p.entry == EntryMode::kManual     ? "011"
            : p.entry == EntryMode::kInAppChip  ? "092"
            : p.entry == EntryMode::kConsumerQr ? "032"
                                                : "812");
  m.Set(25,
        p.entry == EntryMode::kCardNotPresent || p.entry == EntryMode::kInAppChip ? "59" : "00");
  if (!p.card_sequence_number.empty()) m.Set(23, p.card_sequence_number);
  m.Set(32, config_.acquirer_id);
  // RRN: Julian-ish day + STAN, unique per terminal and day.
  m.Set(37, Digits(static_cast<std::uint64_t>(now.yday), 3) + now.hhmmss.substr(0, 3) + stan);
  m.Set(41, config_.terminal_id);
  m.Set(42, config_.merchant_id);
  m.Set(43, PadRight(config_.name_location, 40));
  if (!p.cvv2.empty()) {
    // DE48 tag C2 next to any token data; a DE48 that does not parse is sent as given (the
    // network answers it with a format error) rather than silently dropped.
    auto de48 = iso8583::TokenData::Parse(p.token_data);
    if (de48.ok()) {
      de48->Set(iso8583::token_tag::kCardSecurityCode, p.cvv2);
      if (auto field = de48->ToField(); field.ok()) m.Set(48, *field);
    } else {
      m.Set(48, p.token_data);
    }
  } else if (!p.token_data.empty()) {
    m.Set(48, p.token_data);
  }
  m.Set(49, Digits(p.amount.currency().numeric, 3));
  if (!p.icc_data.empty()) m.Set(55, p.icc_data);
  return m;
}

void PosTerminal::Purchase(const acquirer::Purchase& purchase,
                           std::function<void(PurchaseResult)> done) {
  const std::string_view de3 = purchase.processing_code;
  if (de3.size() != 6 || ParseDigits(de3) < 0) {
    PurchaseResult refused;
    refused.response = InvalidArgument("processing code (DE3) '" + purchase.processing_code +
                                       "': expected 6 digits");
    return done(std::move(refused));
  }
  const bool credit = IsCreditProcessingCode(de3);
  if (credit && !purchase.single_message) {
    PurchaseResult refused;
    refused.response = InvalidArgument("processing code (DE3) " + purchase.processing_code +
                                       " is a credit: expected single_message (0200)");
    return done(std::move(refused));
  }
  const std::string stan = NextStan();
  iso8583::Message request = BuildRequest(purchase, stan);
  const std::string currency(purchase.amount.currency().alpha);
  const std::int64_t minor = purchase.amount.minor_units();
  std::string rrn(*request.Get(37));
  link_.Send(request, [this, request, stan, rrn, currency, minor, credit,
                       done = std::move(done)](Result<iso8583::Message> response) mutable {
    PurchaseResult result;
    result.stan = stan;
    result.rrn = rrn;
    {
      std::lock_guard lock(mu_);
      if (!response.ok()) {
        ++totals_.unknown;
      } else if (response->Get(39) == std::string_view("00") && credit) {
        // A credit to the card: the acquirer owes it to the network (reconciliation_totals.h).
        ++totals_.approved;
        network::ReconciliationTotals& batch = totals_.by_currency[currency];
        batch.credits += 1;
        batch.credits_minor += minor;
      } else if (response->Get(39) == std::string_view("00")) {
        ++totals_.approved;
        totals_.approved_minor[currency] += minor;
        network::ReconciliationTotals& batch = totals_.by_currency[currency];
        batch.debits += 1;
        batch.debits_minor += minor;
        if (request.mti() == "0100") {
          // Completable later; the oldest is dropped beyond the limit.
          OpenAuthorization open{iso8583::CompactMessage(request),
                                 std::string(response->Get(38).value_or("")),
                                 currency,
                                 minor,
                                 next_sequence_++,
                                 false};
          open_authorizations_[stan] = std::move(open);
          open_order_.push_back(stan);
          while (open_order_.size() > config_.open_authorizations_max) {
            open_authorizations_.erase(open_order_.front());
            open_order_.pop_front();
          }
        }
      } else {
        ++totals_.declined;
      }
    }
    // Unknown outcome: the issuer may hold the money; reverse so it is released.
    if (!response.ok()) SendReversal(request, 0);
    result.response = std::move(response);
    done(std::move(result));
  });
}

iso8583::Message PosTerminal::ReversalOf(const iso8583::Message& original, int attempt) const {
  iso8583::Message reversal(attempt == 0 ? "0400" : "0401");
  for (int f : {2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49}) {
    if (auto v = original.Get(f)) reversal.Set(f, *v);
  }
  iso8583::OriginalDataElements ode{std::string(original.mti()), std::string(*original.Get(11)),
                                    std::string(*original.Get(7)), config_.acquirer_id, ""};
  if (auto de90 = ode.ToField(); de90.ok()) reversal.Set(90, *de90);
  return reversal;
}

void PosTerminal::SendReversal(iso8583::Message original, int attempt) {
  if (attempt >= config_.reversal_attempts_max) return;  // left for the acquirer's back office
  iso8583::Message reversal = ReversalOf(original, attempt);
  reversals_sent_++;
  link_.Send(reversal, [this, original = std::move(original), attempt](Result<iso8583::Message> r) {
    if (!r.ok()) return SendReversal(original, attempt + 1);
    if (r->Get(39) != std::string_view("00")) return;
    // The network now records the sale as approved and reversed (or as a reversal of something
    // it never approved): both sides count a debit and a debit reversal; for a credit to the card
    // (DE3 "20", which the reversal repeats), a credit and a credit reversal.
    const std::string currency = CurrencyAlpha(original.Get(49));
    const std::int64_t minor = ParseDigits(original.Get(4).value_or(""));
    if (currency.empty() || minor < 0) return;
    std::lock_guard lock(mu_);
    network::ReconciliationTotals& batch = totals_.by_currency[currency];
    if (IsCreditProcessingCode(original.Get(3).value_or(""))) {
      batch.credits += 1;
      batch.credits_minor += minor;
      batch.credit_reversals += 1;
      batch.credit_reversals_minor += minor;
      return;
    }
    batch.debits += 1;
    batch.debits_minor += minor;
    batch.debit_reversals += 1;
    batch.debit_reversals_minor += minor;
  });
}

void PosTerminal::Complete(const std::string& authorization_stan, const Amount& final_amount,
                           std::function<void(Result<iso8583::Message>)> done) {
  iso8583::Message advice("0220");
  std::string currency(final_amount.currency().alpha);
  std::int64_t delta_minor = 0;
  {
    std::lock_guard lock(mu_);
    auto it = open_authorizations_.find(authorization_stan);
    if (it == open_authorizations_.end()) {
      return done(
          NotFound("no open approved 0100 with STAN " + authorization_stan + " in this batch"));
    }
    OpenAuthorization& open = it->second;
    if (open.completing) {
      return done(
          FailedPrecondition("a completion of STAN " + authorization_stan + " is in flight"));
    }
    if (open.currency != currency) {
      return done(InvalidArgument("completion in " + currency + " of an authorisation in " +
                                  open.currency));
    }
    if (final_amount.minor_units() <= 0 || final_amount.minor_units() > open.authorized_minor) {
      return done(InvalidArgument(
          "completion amount " + std::to_string(final_amount.minor_units()) + ": expected 1.." +
          std::to_string(open.authorized_minor) + " (the authorised amount, minor units)"));
    }
    open.completing = true;
    delta_minor = final_amount.minor_units() - open.authorized_minor;
    const iso8583::Message original = iso8583::ExpandMessage(open.request);
    for (int f : {2, 3, 14, 18, 19, 22, 25, 32, 37, 41, 42, 43, 49}) {
      if (auto v = original.Get(f)) advice.Set(f, *v);
    }
    if (!open.approval_code.empty()) advice.Set(38, open.approval_code);
    // DE90 names the 0100 (iso8583/original_data_elements.h for the layout).
    iso8583::OriginalDataElements ode{std::string(original.mti()), std::string(*original.Get(11)),
                                      std::string(*original.Get(7)), config_.acquirer_id, ""};
    auto de90 = ode.ToField();
    if (!de90.ok()) {
      open.completing = false;
      return done(de90.status());
    }
    advice.Set(90, *de90);
  }
  const Now now = LocalNow();
  advice.Set(4, Digits(static_cast<std::uint64_t>(final_amount.minor_units()), 12));
  advice.Set(7, now.mmdd + now.hhmmss);
  advice.Set(11, NextStan());
  advice.Set(12, now.hhmmss);
  advice.Set(13, now.mmdd);
  SendCompletion(std::move(advice), 0, authorization_stan, std::move(currency), delta_minor,
                 std::move(done));
}

void PosTerminal::SendCompletion(iso8583::Message advice, int attempt,
                                 std::string authorization_stan, std::string currency,
                                 std::int64_t delta_minor,
                                 std::function<void(Result<iso8583::Message>)> done) {
  if (attempt >= config_.completion_attempts_max) {
    {
      std::lock_guard lock(mu_);
      if (auto it = open_authorizations_.find(authorization_stan);
          it != open_authorizations_.end()) {
        it->second.completing = false;
      }
    }
    return done(Unavailable("completion of STAN " + authorization_stan +
                            " not acknowledged after " + std::to_string(attempt) + " attempts"));
  }
  iso8583::Message m = advice;
  if (attempt > 0) m.set_mti("0221");  // repeat: same STAN and DE7
  link_.Send(
      std::move(m), [this, advice = std::move(advice), attempt, authorization_stan, currency,
                     delta_minor, done = std::move(done)](Result<iso8583::Message> r) mutable {
        if (!r.ok()) {
          return SendCompletion(std::move(advice), attempt + 1, std::move(authorization_stan),
                                std::move(currency), delta_minor, std::move(done));
        }
        {
          std::lock_guard lock(mu_);
          auto it = open_authorizations_.find(authorization_stan);
          if (it != open_authorizations_.end()) {
            if (r->Get(39) == std::string_view("00")) {
              // Only while its batch is open: a closed batch was reconciled at what it counted
              // then.
              network::ReconciliationTotals& batch = totals_.by_currency[currency];
              batch.debits_minor += delta_minor;
              totals_.approved_minor[currency] += delta_minor;
              open_authorizations_.erase(it);
            } else {
              it->second.completing = false;
            }
          }
        }
        done(std::move(r));
      });
}

void PosTerminal::ReverseAuthorization(const std::string& authorization_stan,
                                       std::function<void(Result<iso8583::Message>)> done) {
  iso8583::Message original;
  {
    std::lock_guard lock(mu_);
    auto it = open_authorizations_.find(authorization_stan);
    if (it == open_authorizations_.end()) {
      return done(
          NotFound("no open approved 0100 with STAN " + authorization_stan + " in this batch"));
    }
    if (it->second.completing) {
      return done(FailedPrecondition("a completion or reversal of STAN " + authorization_stan +
                                     " is in flight"));
    }
    it->second.completing = true;
    original = iso8583::ExpandMessage(it->second.request);
  }
  SendAuthorizationReversal(std::move(original), 0, authorization_stan, std::move(done));
}

void PosTerminal::SendAuthorizationReversal(iso8583::Message original, int attempt,
                                            std::string authorization_stan,
                                            std::function<void(Result<iso8583::Message>)> done) {
  if (attempt >= config_.reversal_attempts_max) {
    {
      std::lock_guard lock(mu_);
      if (auto it = open_authorizations_.find(authorization_stan);
          it != open_authorizations_.end()) {
        it->second.completing = false;
      }
    }
    return done(Unavailable("reversal of STAN " + authorization_stan + " not acknowledged after " +
                            std::to_string(attempt) + " attempts"));
  }
  iso8583::Message reversal = ReversalOf(original, attempt);
  reversals_sent_++;
  link_.Send(std::move(reversal), [this, original = std::move(original), attempt,
                                   authorization_stan = std::move(authorization_stan),
                                   done = std::move(done)](Result<iso8583::Message> r) mutable {
    if (!r.ok()) {
      return SendAuthorizationReversal(std::move(original), attempt + 1,
                                       std::move(authorization_stan), std::move(done));
    }
    {
      std::lock_guard lock(mu_);
      auto it = open_authorizations_.find(authorization_stan);
      if (it != open_authorizations_.end()) {
        if (r->Get(39) == std::string_view("00")) {
          // The debit was counted at the approval; now its reversal is too.
          const OpenAuthorization& open = it->second;
          network::ReconciliationTotals& batch = totals_.by_currency[open.currency];
          batch.debit_reversals += 1;
          batch.debit_reversals_minor += open.authorized_minor;
          totals_.approved_minor[open.currency] -= open.authorized_minor;
          open_authorizations_.erase(it);
        } else {
          it->second.completing = false;
        }
      }
    }
    done(std::move(r));
  });
}

void PosTerminal::CloseBatch(const Currency& currency,
                             std::function<void(Result<ReconciliationResult>)> done) {
  const std::string alpha(currency.alpha);
  network::ReconciliationTotals sent;
  std::uint64_t sequence_end = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = totals_.by_currency.find(alpha); it != totals_.by_currency.end())
      sent = it->second;
    sequence_end = next_sequence_;
  }
  const Now now = LocalNow();
  iso8583::Message request("0500");
  request.Set(7, now.mmdd + now.hhmmss);
  request.Set(11, NextStan());
  request.Set(15, now.mmdd);  // settlement date: the business day being closed
  request.Set(32, config_.acquirer_id);
  request.Set(41, config_.terminal_id);
  request.Set(42, config_.merchant_id);
  request.Set(50, Digits(currency.numeric, 3));
  if (Status s = sent.WriteTo(request); !s.ok())
    return done(s.WithContext("batch totals of " + alpha));
  SendReconciliation(
      std::move(request), 0, alpha, sent,
      [this, alpha, sent, sequence_end, done = std::move(done)](Result<ReconciliationResult> r) {
        if (r.ok() && r->in_balance) {
          std::lock_guard lock(mu_);
          network::ReconciliationTotals& batch = totals_.by_currency[alpha];
          batch -= sent;
          totals_.approved_minor[alpha] -= sent.debits_minor - sent.debit_reversals_minor;
          if (batch == network::ReconciliationTotals{}) totals_.by_currency.erase(alpha);
          if (totals_.approved_minor[alpha] == 0) totals_.approved_minor.erase(alpha);
          // The closed batch's authorisations were reconciled as they were.
          for (auto it = open_authorizations_.begin(); it != open_authorizations_.end();) {
            const bool closed = it->second.currency == alpha &&
                                it->second.sequence < sequence_end && !it->second.completing;
            it = closed ? open_authorizations_.erase(it) : std::next(it);
          }
        }
        done(std::move(r));
      });
}

void PosTerminal::SendReconciliation(iso8583::Message request, int attempt,
                                     const std::string& currency,
                                     network::ReconciliationTotals sent,
                                     std::function<void(Result<ReconciliationResult>)> done) {
  if (attempt >= config_.reconciliation_attempts_max) {
    return done(Unavailable("0500 for " + currency + " not answered after " +
                            std::to_string(attempt) + " attempts"));
  }
  iso8583::Message m = request;
  if (attempt > 0) m.set_mti("0501");
  link_.Send(std::move(m), [this, request = std::move(request), attempt, currency, sent,
                            done = std::move(done)](Result<iso8583::Message> r) mutable {
    if (!r.ok())
      return SendReconciliation(std::move(request), attempt + 1, currency, sent, std::move(done));
    const std::string_view code = r->Get(39).value_or("");
    if (code != "00") {
      std::string why = "0510 DE39 '" + std::string(code) + "'";
      if (auto detail = r->Get(44)) why += " (DE44 '" + std::string(*detail) + "')";
      return done(FailedPrecondition(why + " for the 0500 of " + currency));
    }
    const std::string_view settlement = r->Get(66).value_or("");
    if (settlement != "1" && settlement != "2") {
      return done(InvalidArgument("0510 DE66 '" + std::string(settlement) +
                                  "': expected 1 (in balance) or 2"));
    }
    auto network_totals = network::ReconciliationTotals::ReadFrom(*r);
    if (!network_totals.ok()) return done(network_totals.status().WithContext("0510"));
    ReconciliationResult result;
    result.in_balance = settlement == "1";
    result.terminal = sent;
    result.network = *network_totals;
    result.response = std::move(*r);
    done(std::move(result));
  });
}

BatchTotals PosTerminal::totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

}  // namespace tapstack::acquirer
