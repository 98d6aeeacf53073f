#include "iso8583/processing_code.h"

#include "core/hex.h"

namespace tapstack::iso8583 {

bool IsCreditProcessingCode(std::optional<std::string_view> de3) {
  return de3.has_value() && de3->size() == 6 && IsAllDigits(*de3) &&
         de3->substr(0, kCreditTransactionType.size()) == kCreditTransactionType;
}

}  // namespace tapstack::iso8583
