// FX: the network's rate table and conversion of a transaction amount into the cardholder's
// billing currency at authorisation (DE6 amount, DE10 rate, DE51 currency).
//
// Rates are exact decimals (mantissa and scale, no floating point): "1 unit of `from` buys
// `rate` units of `to`", with the rate's source and business date kept for the record. The
// network's markup (basis points) is added to the rate the cardholder pays and is visible in the
// conversion. Rounding: half up, to the billing currency's minor unit.
// Thread-safety: SetRate before traffic; Convert is const and thread-safe afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "core/amount.h"
#include "core/status.h"

namespace tapstack::network {

struct FxRate {
  std::int64_t mantissa = 0;  // rate = mantissa / 10^scale
  int scale = 0;              // 0-15
  std::string source;         // e.g. "tapstack demo rates"
  std::string business_date;  // YYYY-MM-DD
};

struct Conversion {
  Amount billing;            // what the cardholder is charged, markup included
  FxRate rate;               // the published rate (before markup)
  std::int64_t markup_bps;   // markup added on top, in basis points
  std::string de10;          // ISO 8583 DE10 n8: decimal places digit + 7 digits of the applied rate
};

class FxTable {
 public:
  // "0.012345" → rate from → to. Errors: unknown currency, not a positive decimal, more than 15
  // decimals, or above 10^9.
  Status SetRate(std::string_view from, std::string_view to, std::string_view decimal_rate,
                 std::string source, std::string business_date);

  // Converts `amount` into `to` with `markup_bps` on top. Identity when currencies are equal.
  // Errors: kNotFound when no rate is set for the pair; kOutOfRange on overflow.
  Result<Conversion> Convert(const Amount& amount, const Currency& to, std::int64_t markup_bps) const;

  // Converts at a given rate (one kept with a clearing record, so a completion is billed at the
  // authorisation's rate). Identity when currencies are equal. Errors: a rate that is not
  // positive or has a scale outside 0-15 (kInvalidArgument); overflow (kOutOfRange).
  static Result<Conversion> ConvertAt(const Amount& amount, const Currency& to, const FxRate& rate,
                                      std::int64_t markup_bps);

 private:
  std::map<std::pair<std::uint16_t, std::uint16_t>, FxRate> rates_;
};

}  // namespace tapstack::network
