#include "core/currency.h"

#include <array>
#include <string>

namespace tapstack {
namespace {

// ISO 4217 (list one, maintained by SIX on behalf of ISO). Sorted by alpha code.
constexpr std::array kCurrencies = {
    Currency{"AED", 784, 2, "UAE Dirham"},       Currency{"AUD", 36, 2, "Australian Dollar"},
    Currency{"CAD", 124, 2, "Canadian Dollar"},  Currency{"CHF", 756, 2, "Swiss Franc"},
    Currency{"CNY", 156, 2, "Yuan Renminbi"},    Currency{"EUR", 978, 2, "Euro"},
    Currency{"GBP", 826, 2, "Pound Sterling"},   Currency{"HKD", 344, 2, "Hong Kong Dollar"},
    Currency{"INR", 356, 2, "Indian Rupee"},     Currency{"JPY", 392, 0, "Yen"},              Currency{"KHR", 116, 2, "Riel"},
    Currency{"KRW", 410, 0, "Won"},              Currency{"MOP", 446, 2, "Pataca"},
    Currency{"MYR", 458, 2, "Malaysian Ringgit"}, Currency{"PHP", 608, 2, "Philippine Peso"},
    Currency{"PKR", 586, 2, "Pakistan Rupee"},
    Currency{"RUB", 643, 2, "Russian Ruble"},    Currency{"SGD", 702, 2, "Singapore Dollar"},
    Currency{"THB", 764, 2, "Baht"},             Currency{"USD", 840, 2, "US Dollar"},
};

// ISO 3166-1. Sorted by alpha-2 code.
constexpr std::array kCountries = {
    Country{"AE", 784, "United Arab Emirates", "AED"}, Country{"AU", 36, "Australia", "AUD"},
    Country{"CA", 124, "Canada", "CAD"},               Country{"CH", 756, "Switzerland", "CHF"},
    Country{"CN", 156, "China", "CNY"},                Country{"DE", 276, "Germany", "EUR"},
    Country{"FR", 250, "France", "EUR"},               Country{"GB", 826, "United Kingdom", "GBP"},
    Country{"HK", 344, "Hong Kong", "HKD"},            Country{"IN", 356, "India", "INR"},
    Country{"JP", 392, "Japan", "JPY"},                Country{"KH", 116, "Cambodia", "KHR"},                Country{"KR", 410, "Korea, Republic of", "KRW"},
    Country{"MO", 446, "Macao", "MOP"},                Country{"MY", 458, "Malaysia", "MYR"},
    Country{"PH", 608, "Philippines", "PHP"},          Country{"PK", 586, "Pakistan", "PKR"},             Country{"RU", 643, "Russian Federation", "RUB"},
    Country{"SG", 702, "Singapore", "SGD"},            Country{"TH", 764, "Thailand", "THB"},
    Country{"US", 840, "United States of America", "USD"},
};

}  // namespace

Result<const Currency*> CurrencyByAlpha(std::string_view alpha) {
  for (const Currency& c : kCurrencies) {
    if (c.alpha == alpha) return &c;
  }
  return InvalidArgument("unknown ISO 4217 currency code '" + std::string(alpha) + "'");
}

Result<const Currency*> CurrencyByNumeric(std::uint16_t numeric) {
  for (const Currency& c : kCurrencies) {
    if (c.numeric == numeric) return &c;
  }
  return InvalidArgument("unknown ISO 4217 numeric currency code " + std::to_string(numeric));
}

std::span<const Currency> AllCurrencies() { return kCurrencies; }

const Currency& Cny() {
  static const Currency& cny = **CurrencyByAlpha("CNY");
  return cny;
}
const Currency& Usd() {
  static const Currency& usd = **CurrencyByAlpha("USD");
  return usd;
}

Result<const Country*> CountryByAlpha2(std::string_view alpha2) {
  for (const Country& c : kCountries) {
    if (c.alpha2 == alpha2) return &c;
  }
  return InvalidArgument("unknown ISO 3166-1 alpha-2 country code '" + std::string(alpha2) + "'");
}

Result<const Country*> CountryByNumeric(std::uint16_t numeric) {
  for (const Country& c : kCountries) {
    if (c.numeric == numeric) return &c;
  }
  return InvalidArgument("unknown ISO 3166-1 numeric country code " + std::to_string(numeric));
}

std::span<const Country> AllCountries() { return kCountries; }

}  // namespace tapstack
