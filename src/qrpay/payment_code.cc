#include "qrpay/payment_code.h"


namespace tapstack::qrpay {

Result<std::string> NewPaymentCode(RandomSource& random) {
  std::string code(kPaymentCodePrefix);
  while (code.size() < kPaymentCodeDigits) {
    TS_ASSIGN_OR_RETURN(std::uint64_t digit, random.Uniform(10));
    code.push_back(static_cast<char>('0' + digit));
  }
  return code;
}

Status CheckPaymentCode(std::string_view code) {
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (code[i] < '0' || code[i] > '9') {
      return InvalidArgument("payment_code: expected digits only, found a non-digit at offset " +
                             std::to_string(i));
    }
  }
  if (code.size() != kPaymentCodeDigits) {
    return InvalidArgument("payment_code: expected " + std::to_string(kPaymentCodeDigits) +
                           " digits, got " + std::to_string(code.size()));
  }
  if (!code.starts_with(kPaymentCodePrefix)) {
    return InvalidArgument("payment_code: expected a tapstack code starting " +
                           std::string(kPaymentCodePrefix) + ", got one starting " +
                           std::string(code.substr(0, 2)));
  }
  return Status::Ok();
}

}  // namespace tapstack::qrpay
