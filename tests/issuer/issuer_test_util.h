// Helpers shared by the issuer tests: two test banks, test card numbers and fixed-width digits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/currency.h"
#include "core/pan.h"
#include "demo/demo_keys.h"
#include "issuer/issuer_host.h"

namespace tapstack::issuer::testing {

inline constexpr char kBank[] = "48020000";       // BINs 62220100-199, verifies CVV2
inline constexpr char kPlainBank[] = "48030000";  // BINs 62220200-299, no card verification key

// kBank and kPlainBank in CNY with the demo key set's keys.
inline std::vector<IssuerBankConfig> TwoTestBanks() {
  std::vector<IssuerBankConfig> banks;
  for (const char* id : {kBank, kPlainBank}) {
    IssuerBankConfig bank;
    bank.institution_id = id;
    bank.name = id;
    bank.currency = &Cny();
    bank.bin_ranges = {id == std::string(kBank) ? std::pair{"62220100", "62220199"}
                                                : std::pair{"62220200", "62220299"}};
    bank.pan_fingerprint_key = demo::DemoPanFingerprintKey(id);
    if (id == std::string(kBank)) bank.card_verification_key = demo::DemoCardVerificationKey(id);
    banks.push_back(std::move(bank));
  }
  return banks;
}

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
