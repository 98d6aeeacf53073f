#include "acquirer/pos_terminal.h"

#include <ctime>

#include "iso8583/original_data_elements.h"

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

}  // namespace

PosTerminal::PosTerminal(TerminalConfig config, link::RequestSender& link, const Clock& clock)
    : config_(std::move(config)), link_(link), clock_(clock) {}

std::string PosTerminal::NextStan() { return Digits(stan_.fetch_add(1) % 999'999 + 1, 6); }

iso8583::Message PosTerminal::BuildRequest(const acquirer::Purchase& p, const std::string& stan) {
  const std::int64_t now_ms = clock_.NowUnixMillis();
  std::time_t seconds = now_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  const std::string mmdd = Digits(static_cast<std::uint64_t>(tm.tm_mon + 1), 2) +
                           Digits(static_cast<std::uint64_t>(tm.tm_mday), 2);
  const std::string hhmmss = Digits(static_cast<std::uint64_t>(tm.tm_hour), 2) +
                             Digits(static_cast<std::uint64_t>(tm.tm_min), 2) +
                             Digits(static_cast<std::uint64_t>(tm.tm_sec), 2);
  iso8583::Message m(p.single_message ? "0200" : "0100");
  m.Set(2, p.pan);
  m.Set(3, "000000");
  m.Set(4, Digits(static_cast<std::uint64_t>(p.amount.minor_units()), 12));
  m.Set(7, mmdd + hhmmss);
  m.Set(11, stan);
  m.Set(12, hhmmss);
  m.Set(13, mmdd);
  if (!p.expiry.empty()) m.Set(14, p.expiry);
  m.Set(18, config_.mcc);
  m.Set(19, Digits(config_.country_numeric, 3));
  // DE22: 07 contactless chip, 01 manual / card not present (81 e-commerce); PIN capable.
  m.Set(22, p.entry == EntryMode::kContactless ? "071" : p.entry == EntryMode::kManual ? "011" : "812");
  m.Set(25, p.entry == EntryMode::kCardNotPresent ? "59" : "00");
  m.Set(32, config_.acquirer_id);
  // RRN: Julian-ish day + STAN, unique per terminal and day.
  m.Set(37, Digits(static_cast<std::uint64_t>(tm.tm_yday), 3) + hhmmss.substr(0, 3) + stan);
  m.Set(41, config_.terminal_id);
  m.Set(42, config_.merchant_id);
  m.Set(43, PadRight(config_.name_location, 40));
  if (!p.token_data.empty()) m.Set(48, p.token_data);
  m.Set(49, Digits(p.amount.currency().numeric, 3));
  if (!p.icc_data.empty()) m.Set(55, p.icc_data);
  return m;
}

void PosTerminal::Purchase(const acquirer::Purchase& purchase, std::function<void(PurchaseResult)> done) {
  const std::string stan = NextStan();
  iso8583::Message request = BuildRequest(purchase, stan);
  const std::string currency(purchase.amount.currency().alpha);
  const std::int64_t minor = purchase.amount.minor_units();
  std::string rrn(*request.Get(37));
  link_.Send(request, [this, request, stan, rrn, currency, minor, done = std::move(done)](
                          Result<iso8583::Message> response) mutable {
    PurchaseResult result;
    result.stan = stan;
    result.rrn = rrn;
    {
      std::lock_guard lock(mu_);
      if (!response.ok()) {
        ++totals_.unknown;
      } else if (response->Get(39) == std::string_view("00")) {
        ++totals_.approved;
        totals_.approved_minor[currency] += minor;
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

void PosTerminal::SendReversal(iso8583::Message original, int attempt) {
  if (attempt >= config_.reversal_attempts_max) return;  // left for the acquirer's back office
  iso8583::Message reversal(attempt == 0 ? "0400" : "0401");
  for (int f : {2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49}) {
    if (auto v = original.Get(f)) reversal.Set(f, *v);
  }
  iso8583::OriginalDataElements ode{std::string(original.mti()), std::string(*original.Get(11)),
                                    std::string(*original.Get(7)), config_.acquirer_id, ""};
  if (auto de90 = ode.ToField(); de90.ok()) reversal.Set(90, *de90);
  reversals_sent_++;
  link_.Send(reversal, [this, original = std::move(original), attempt](Result<iso8583::Message> r) {
    if (!r.ok()) SendReversal(original, attempt + 1);
  });
}

BatchTotals PosTerminal::totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

}  // namespace tapstack::acquirer
