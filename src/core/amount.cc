#include "core/amount.h"

#include <limits>

#include "core/hex.h"

namespace tapstack {

Result<Amount> Amount::Parse(std::string_view decimal, const Currency& currency) {
  std::string_view s = decimal;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  std::string_view whole = s;
  std::string_view fraction;
  if (std::size_t dot = s.find('.'); dot != std::string_view::npos) {
    whole = s.substr(0, dot);
    fraction = s.substr(dot + 1);
    if (fraction.empty()) return InvalidArgument("amount '" + std::string(decimal) + "' ends in '.'");
  }
  if (!IsAllDigits(whole) || (!fraction.empty() && !IsAllDigits(fraction))) {
    return InvalidArgument("amount '" + std::string(decimal) + "' is not a decimal number");
  }
  if (fraction.size() > static_cast<std::size_t>(currency.exponent)) {
    return InvalidArgument("amount '" + std::string(decimal) + "' has " +
                           std::to_string(fraction.size()) + " fraction digits; " +
                           std::string(currency.alpha) + " allows " +
                           std::to_string(currency.exponent));
  }
  // Accumulate as a negative number so that INT64_MIN parses too.
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  std::int64_t acc = 0;
  auto push_digit = [&](int d) -> bool {
    if (acc < kMin / 10) return false;
    acc *= 10;
    if (acc < kMin + d) return false;
    acc -= d;
    return true;
  };
  for (char c : whole) {
    if (!push_digit(c - '0')) return OutOfRange("amount '" + std::string(decimal) + "' overflows");
  }
  for (int i = 0; i < currency.exponent; ++i) {
    int d = i < static_cast<int>(fraction.size()) ? fraction[static_cast<std::size_t>(i)] - '0' : 0;
    if (!push_digit(d)) return OutOfRange("amount '" + std::string(decimal) + "' overflows");
  }
  if (!negative) {
    if (acc == kMin) return OutOfRange("amount '" + std::string(decimal) + "' overflows");
    acc = -acc;
  }
  return Amount(acc, currency);
}

Status Amount::CheckSameCurrency(const Amount& other) const {
  if (*currency_ == *other.currency_) return Status::Ok();
  return InvalidArgument("currency mismatch: " + std::string(currency_->alpha) + " and " +
                         std::string(other.currency_->alpha));
}

Result<Amount> Amount::Add(const Amount& other) const {
  TS_RETURN_IF_ERROR(CheckSameCurrency(other));
  std::int64_t out = 0;
  if (__builtin_add_overflow(minor_units_, other.minor_units_, &out)) {
    return OutOfRange("amount overflow adding " + ToString() + " and " + other.ToString());
  }
  return Amount(out, *currency_);
}

Result<Amount> Amount::Subtract(const Amount& other) const {
  TS_RETURN_IF_ERROR(CheckSameCurrency(other));
  std::int64_t out = 0;
  if (__builtin_sub_overflow(minor_units_, other.minor_units_, &out)) {
    return OutOfRange("amount overflow subtracting " + other.ToString() + " from " + ToString());
  }
  return Amount(out, *currency_);
}

Result<Amount> Amount::Multiply(std::int64_t factor) const {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(minor_units_, factor, &out)) {
    return OutOfRange("amount overflow multiplying " + ToString() + " by " + std::to_string(factor));
  }
  return Amount(out, *currency_);
}

Result<Amount> Amount::Negate() const { return Amount(0, *currency_).Subtract(*this); }

std::string Amount::ToDecimalString() const {
  // Work on the unsigned magnitude so INT64_MIN formats correctly.
  bool negative = minor_units_ < 0;
  std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(minor_units_)
                                     : static_cast<std::uint64_t>(minor_units_);
  std::string digits = std::to_string(magnitude);
  auto exp = static_cast<std::size_t>(currency_->exponent);
  if (digits.size() <= exp) digits.insert(0, exp + 1 - digits.size(), '0');
  if (exp > 0) digits.insert(digits.size() - exp, 1, '.');
  return negative ? "-" + digits : digits;
}

std::string Amount::ToString() const { return ToDecimalString() + " " + std::string(currency_->alpha); }

}  // namespace tapstack
