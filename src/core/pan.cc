#include "core/pan.h"

#include "core/bytes.h"
#include "core/hex.h"

namespace tapstack {

namespace {

// Luhn sum with the rightmost digit of `digits` in the "not doubled" position when
// `check_digit_present`, else in the doubled position.
int LuhnSum(std::string_view digits, bool check_digit_present) {
  int sum = 0;
  bool doubled = !check_digit_present;
  for (std::size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (doubled) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    doubled = !doubled;
  }
  return sum;
}

}  // namespace

bool LuhnValid(std::string_view digits) {
  return IsAllDigits(digits) && LuhnSum(digits, true) % 10 == 0;
}

Result<char> LuhnCheckDigit(std::string_view payload) {
  if (!IsAllDigits(payload)) return InvalidArgument("Luhn payload must be one or more digits");
  int sum = LuhnSum(payload, false);
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

Result<Pan> Pan::Parse(std::string_view digits) {
  if (!IsAllDigits(digits)) return InvalidArgument("PAN must contain only digits");
  if (digits.size() < kPanDigitsMin || digits.size() > kPanDigitsMax) {
    return InvalidArgument("PAN has " + std::to_string(digits.size()) + " digits; expected " +
                           std::to_string(kPanDigitsMin) + "-" + std::to_string(kPanDigitsMax));
  }
  if (!LuhnValid(digits)) return InvalidArgument("PAN fails the Luhn check");
  Pan pan;
  digits.copy(pan.digits_.data(), digits.size());
  pan.length_ = digits.size();
  return pan;
}

Pan::Pan(const Pan& other) : digits_(other.digits_), length_(other.length_) {}

Pan& Pan::operator=(const Pan& other) {
  if (this != &other) {
    SecureWipe(digits_.data(), digits_.size());
    digits_ = other.digits_;
    length_ = other.length_;
  }
  return *this;
}

Pan::~Pan() { SecureWipe(digits_.data(), digits_.size()); }

std::string Pan::Masked() const {
  std::string out(reveal());
  for (std::size_t i = 6; i + 4 < length_; ++i) out[i] = '*';
  return out;
}

}  // namespace tapstack
