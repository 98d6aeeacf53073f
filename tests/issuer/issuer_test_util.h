// Helpers shared by the issuer tests: test card numbers and fixed-width digit strings.
#pragma once

#include <cstdint>
#include <string>

#include "core/pan.h"

namespace tapstack::issuer::testing {

// A Luhn-valid 16-digit PAN: `prefix` (8 digits), `serial` as 7 digits, check digit.
inline std::string MakePan(const std::string& prefix, int serial) {
  std::string digits = std::to_string(serial);
  std::string payload = prefix + std::string(7 - digits.size(), '0') + digits;
  return payload + *LuhnCheckDigit(payload);
}

// `value` as `width` digits, zero-padded (STANs, amounts).
inline std::string Digits(std::int64_t value, std::size_t width) {
  std::string s = std::to_string(value);
  return std::string(width - s.size(), '0') + s;
}

}  // namespace tapstack::issuer::testing
