#include "network/reconciliation_totals.h"

#include <array>
#include <cstdlib>

namespace tapstack::network {

namespace {

struct TotalField {
  int number;
  std::size_t digits;
  std::int64_t ReconciliationTotals::*member;
};

// DE74-77 counts (n10), DE86-89 amounts (n16): ISO 8583:1987 field table.
constexpr std::array<TotalField, 8> kTotalFields{{
    {74, 10, &ReconciliationTotals::credits},
    {75, 10, &ReconciliationTotals::credit_reversals},
    {76, 10, &ReconciliationTotals::debits},
    {77, 10, &ReconciliationTotals::debit_reversals},
    {86, 16, &ReconciliationTotals::credits_minor},
    {87, 16, &ReconciliationTotals::credit_reversals_minor},
    {88, 16, &ReconciliationTotals::debits_minor},
    {89, 16, &ReconciliationTotals::debit_reversals_minor},
}};

constexpr int kNetSettlementField = 97;
constexpr std::size_t kNetSettlementDigits = 16;

std::string Padded(std::int64_t value, std::size_t width) {
  std::string digits = std::to_string(value);
  return std::string(width - std::min(width, digits.size()), '0') + digits;
}

// Exactly `width` digits (fixed numeric fields keep their padding when unpacked).
bool ParseDigits(std::string_view s, std::size_t width, std::int64_t& out) {
  if (s.size() != width) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::string Label(int field) { return "DE" + std::to_string(field); }

}  // namespace

std::int64_t ReconciliationTotals::NetMinor() const {
  return (debits_minor - debit_reversals_minor) - (credits_minor - credit_reversals_minor);
}

std::string ReconciliationTotals::NetField() const {
  const std::int64_t net = NetMinor();
  return (net >= 0 ? "C" : "D") + Padded(net >= 0 ? net : -net, kNetSettlementDigits);
}

ReconciliationTotals& ReconciliationTotals::operator+=(const ReconciliationTotals& other) {
  for (const TotalField& f : kTotalFields) this->*f.member += other.*f.member;
  return *this;
}

ReconciliationTotals& ReconciliationTotals::operator-=(const ReconciliationTotals& other) {
  for (const TotalField& f : kTotalFields) this->*f.member -= other.*f.member;
  return *this;
}

Status ReconciliationTotals::WriteTo(iso8583::Message& message) const {
  for (const TotalField& f : kTotalFields) {
    const std::int64_t v = this->*f.member;
    const std::int64_t max =
        f.digits == 10 ? kReconciliationCountMax : kReconciliationAmountMinorMax;
    if (v < 0 || v > max) {
      return InvalidArgument(Label(f.number) + ": " + std::to_string(v) + " is outside 0.." +
                             std::to_string(max));
    }
  }
  const std::int64_t net = NetMinor();
  if (net > kReconciliationAmountMinorMax || net < -kReconciliationAmountMinorMax) {
    return InvalidArgument("DE97: net " + std::to_string(net) + " exceeds 16 digits");
  }
  for (const TotalField& f : kTotalFields) message.Set(f.number, Padded(this->*f.member, f.digits));
  message.Set(kNetSettlementField, NetField());
  return Status::Ok();
}

Result<ReconciliationTotals> ReconciliationTotals::ReadFrom(const iso8583::Message& message) {
  ReconciliationTotals t;
  for (const TotalField& f : kTotalFields) {
    auto v = message.Get(f.number);
    if (!v) return InvalidArgument(Label(f.number) + " missing");
    if (!ParseDigits(*v, f.digits, t.*f.member)) {
      return InvalidArgument(Label(f.number) + ": expected " + std::to_string(f.digits) +
                             " digits");
    }
  }
  auto net = message.Get(kNetSettlementField);
  if (!net) return InvalidArgument("DE97 missing");
  std::int64_t magnitude = 0;
  if (net->empty() || ((*net)[0] != 'C' && (*net)[0] != 'D') ||
      !ParseDigits(net->substr(1), kNetSettlementDigits, magnitude)) {
    return InvalidArgument("DE97: expected C/D+n16");
  }
  const std::int64_t signed_net = (*net)[0] == 'C' ? magnitude : -magnitude;
  // "D0000000000000000" is a zero too; only the value must match.
  if (signed_net != t.NetMinor()) return InvalidArgument("DE97 != net of DE86-DE89");
  return t;
}

std::string ReconciliationTotals::ToString() const {
  auto pair = [](std::int64_t n, std::int64_t minor) {
    return std::to_string(n) + "/" + std::to_string(minor);
  };
  return "debits " + pair(debits, debits_minor) + " debit reversals " +
         pair(debit_reversals, debit_reversals_minor) + " credits " + pair(credits, credits_minor) +
         " credit reversals " + pair(credit_reversals, credit_reversals_minor) + " net " +
         NetField();
}

}  // namespace tapstack::network
