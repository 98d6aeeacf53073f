// Pan: a primary account number that can only be shown masked.
//
// A Pan is 12-19 digits with a valid Luhn check digit (ISO/IEC 7812-1). It formats only as
// first 6 / last 4 ("622202******1234"); the full digits are reachable through reveal(), whose
// callers are the few places that must see them (cryptographic derivation, the vault, the wire).
// The digits are wiped from memory when a Pan is destroyed or overwritten.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack {

inline constexpr std::size_t kPanDigitsMin = 12;
inline constexpr std::size_t kPanDigitsMax = 19;

// True when `digits` is all ASCII digits and its last digit is the Luhn check digit.
bool LuhnValid(std::string_view digits);

// The check digit ('0'..'9') to append to `payload` so the whole number is Luhn-valid.
// Errors: empty payload or a non-digit.
Result<char> LuhnCheckDigit(std::string_view payload);

class Pan {
 public:
  // Errors: not all digits, length outside 12-19, or a Luhn failure; the message never echoes
  // the digits.
  static Result<Pan> Parse(std::string_view digits);

  Pan(const Pan& other);
  Pan& operator=(const Pan& other);
  ~Pan();

  // "622202******1234": first 6 and last 4 digits, the rest replaced by '*'.
  std::string Masked() const;
  // The bank identification number: the first 6 digits. Safe to log.
  std::string_view Bin() const { return {digits_.data(), 6}; }
  std::string_view LastFour() const { return {digits_.data() + length_ - 4, 4}; }
  std::size_t length() const { return length_; }

  // The full digits. Never log or return these; the view dies with this Pan.
  std::string_view reveal() const { return {digits_.data(), length_}; }

  friend bool operator==(const Pan& a, const Pan& b) { return a.reveal() == b.reveal(); }

 private:
  Pan() = default;

  std::array<char, kPanDigitsMax> digits_{};
  std::size_t length_ = 0;
};

}  // namespace tapstack
