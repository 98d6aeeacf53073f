// Amount: an exact sum of money, int64 minor units of one ISO 4217 currency.
//
// There is no floating point anywhere: parsing and formatting work on decimal strings with the
// currency's exponent. Arithmetic is checked: overflow and mixing currencies are errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/currency.h"
#include "core/status.h"

namespace tapstack {

class Amount {
 public:
  // Zero of the given currency.
  explicit Amount(const Currency& currency) : currency_(&currency) {}
  Amount(std::int64_t minor_units, const Currency& currency)
      : minor_units_(minor_units), currency_(&currency) {}

  // Parses "123.45" (or "-0.50", "100") in `currency`. Errors: more fraction digits than the
  // currency's exponent, non-digit characters, or a value beyond int64 minor units.
  static Result<Amount> Parse(std::string_view decimal, const Currency& currency);

  std::int64_t minor_units() const { return minor_units_; }
  const Currency& currency() const { return *currency_; }
  bool is_zero() const { return minor_units_ == 0; }
  bool is_negative() const { return minor_units_ < 0; }

  // Checked arithmetic. Errors: different currencies (kInvalidArgument), overflow (kOutOfRange).
  Result<Amount> Add(const Amount& other) const;
  Result<Amount> Subtract(const Amount& other) const;
  Result<Amount> Multiply(std::int64_t factor) const;
  Result<Amount> Negate() const;

  // "123.45" with exactly `exponent` fraction digits; "1000" for JPY.
  std::string ToDecimalString() const;
  // "123.45 CNY".
  std::string ToString() const;

  friend bool operator==(const Amount& a, const Amount& b) {
    return a.minor_units_ == b.minor_units_ && *a.currency_ == *b.currency_;
  }

 private:
  Status CheckSameCurrency(const Amount& other) const;

  std::int64_t minor_units_ = 0;
  const Currency* currency_;
};

}  // namespace tapstack
