// ISO 4217 currencies and ISO 3166-1 countries: the reference tables every amount and route uses.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"

namespace tapstack {

// One ISO 4217 entry. Instances live in a static table; pass `const Currency&` or compare codes.
struct Currency {
  std::string_view alpha;   // "CNY"
  std::uint16_t numeric;    // 156 (ISO 8583 DE49, EMV 5F2A)
  int exponent;             // minor-unit digits: 2 for CNY, 0 for JPY and KRW
  std::string_view name;

  friend bool operator==(const Currency& a, const Currency& b) { return a.numeric == b.numeric; }
};

// Look-ups. Errors: unknown code (the code is named in the message).
Result<const Currency*> CurrencyByAlpha(std::string_view alpha);
Result<const Currency*> CurrencyByNumeric(std::uint16_t numeric);

// Every currency tapstack knows, ordered by alpha code.
std::span<const Currency> AllCurrencies();

// Shorthands for the currencies the demo network uses most.
const Currency& Cny();
const Currency& Usd();

// One ISO 3166-1 entry.
struct Country {
  std::string_view alpha2;   // "CN"
  std::uint16_t numeric;     // 156 (ISO 8583 DE19, EMV 9F1A)
  std::string_view name;
  std::string_view currency; // the local currency's alpha code

  friend bool operator==(const Country& a, const Country& b) { return a.numeric == b.numeric; }
};

Result<const Country*> CountryByAlpha2(std::string_view alpha2);
Result<const Country*> CountryByNumeric(std::uint16_t numeric);
std::span<const Country> AllCountries();

}  // namespace tapstack
