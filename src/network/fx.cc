#include "network/fx.h"

#include "core/hex.h"

namespace tapstack::network {

namespace {
constexpr int kRateScaleMax = 15;
__extension__ typedef __int128 Int128;

Int128 Pow10(int n) {
  Int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// DE10: first digit = number of decimal places (0-7), then 7 digits; keeps 7 significant digits
// of the applied rate (the exact rate is stored with the transaction).
std::string De10(Int128 mantissa, int scale) {
  while (mantissa >= 10'000'000 && scale > 0) {
    mantissa = (mantissa + 5) / 10;
    --scale;
  }
  while (scale > 7) {
    mantissa = (mantissa + 5) / 10;
    --scale;
  }
  if (mantissa >= 10'000'000) return "09999999";
  std::string digits = std::to_string(static_cast<long long>(mantissa));
  return std::to_string(scale) + std::string(7 - digits.size(), '0') + digits;
}
}  // namespace

Status FxTable::SetRate(std::string_view from, std::string_view to, std::string_view decimal_rate,
                        std::string source, std::string business_date) {
  TS_ASSIGN_OR_RETURN(const Currency* f, CurrencyByAlpha(from));
  TS_ASSIGN_OR_RETURN(const Currency* t, CurrencyByAlpha(to));
  const std::string what = "FX rate " + std::string(from) + "/" + std::string(to) + " '" +
                           std::string(decimal_rate) + "'";
  std::string_view whole = decimal_rate;
  std::string_view fraction;
  if (auto dot = decimal_rate.find('.'); dot != std::string_view::npos) {
    whole = decimal_rate.substr(0, dot);
    fraction = decimal_rate.substr(dot + 1);
  }
  if (!IsAllDigits(whole) || (!fraction.empty() && !IsAllDigits(fraction)) ||
      fraction.size() > kRateScaleMax || whole.size() > 9) {
    return InvalidArgument(what + ": expected a positive decimal with at most 15 decimals");
  }
  FxRate rate;
  rate.scale = static_cast<int>(fraction.size());
  rate.mantissa = std::stoll(std::string(whole) + std::string(fraction));
  if (rate.mantissa <= 0) return InvalidArgument(what + ": must be positive");
  rate.source = std::move(source);
  rate.business_date = std::move(business_date);
  rates_[{f->numeric, t->numeric}] = std::move(rate);
  return Status::Ok();
}

Result<Conversion> FxTable::Convert(const Amount& amount, const Currency& to,
                                    std::int64_t markup_bps) const {
  const Currency& from = amount.currency();
  if (from == to) return Conversion{amount, FxRate{1, 0, "identity", ""}, 0, "00000001"};
  auto it = rates_.find({from.numeric, to.numeric});
  if (it == rates_.end()) {
    return NotFound("no FX rate " + std::string(from.alpha) + "/" + std::string(to.alpha));
  }
  return ConvertAt(amount, to, it->second, markup_bps);
}

Result<Conversion> FxTable::ConvertAt(const Amount& amount, const Currency& to, const FxRate& rate,
                                      std::int64_t markup_bps) {
  const Currency& from = amount.currency();
  if (from == to) return Conversion{amount, FxRate{1, 0, "identity", ""}, 0, "00000001"};
  if (rate.mantissa <= 0 || rate.scale < 0 || rate.scale > kRateScaleMax) {
    return InvalidArgument("FX rate " + std::to_string(rate.mantissa) + "e-" +
                           std::to_string(rate.scale) +
                           ": expected a positive mantissa and a scale of 0-15");
  }
  // applied = mantissa * (10000 + markup) / (10^scale * 10000); billing minor units =
  // amount_minor * applied * 10^(exp_to - exp_from), rounded half up.
  Int128 numerator = static_cast<Int128>(amount.minor_units()) * rate.mantissa * (10'000 + markup_bps);
  Int128 denominator = Pow10(rate.scale) * 10'000;
  const int exp_diff = to.exponent - from.exponent;
  if (exp_diff > 0) numerator *= Pow10(exp_diff);
  if (exp_diff < 0) denominator *= Pow10(-exp_diff);
  Int128 billing = (numerator + denominator / 2) / denominator;
  if (billing > INT64_MAX) return OutOfRange("FX conversion overflows");
  Conversion c{Amount(static_cast<std::int64_t>(billing), to), rate, markup_bps, ""};
  c.de10 = De10(static_cast<Int128>(rate.mantissa) * (10'000 + markup_bps), rate.scale + 4);
  return c;
}

}  // namespace tapstack::network
