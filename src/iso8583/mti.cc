#include "iso8583/mti.h"

#include "core/hex.h"

namespace tapstack::iso8583 {

Result<std::string> ResponseMti(std::string_view mti) {
  if (mti.size() != 4 || !IsAllDigits(mti)) {
    return InvalidArgument("MTI '" + std::string(mti) + "': expected 4 digits");
  }
  const char function = mti[2];
  if (function != '0' && function != '2') {
    return InvalidArgument("MTI " + std::string(mti) + " is not a request or advice");
  }
  std::string out(mti);
  out[2] = static_cast<char>(function + 1);
  out[3] = (mti[3] == '1' || mti[3] == '3') ? static_cast<char>(mti[3] - 1) : mti[3];
  return out;
}

std::string OriginalOfRepeat(std::string_view mti) {
  std::string out(mti);
  if (IsRepeat(mti)) out[3] = static_cast<char>(out[3] - 1);
  return out;
}

bool IsRepeat(std::string_view mti) { return mti.size() == 4 && (mti[3] == '1' || mti[3] == '3'); }

bool IsAuthorizationRequest(std::string_view mti) { return mti == "0100" || mti == "0101"; }
bool IsFinancialRequest(std::string_view mti) { return mti == "0200" || mti == "0201"; }
bool IsReversal(std::string_view mti) {
  return mti == "0400" || mti == "0401" || mti == "0420" || mti == "0421";
}
bool IsAuthorizationOrFinancialAdvice(std::string_view mti) {
  return mti == "0120" || mti == "0121" || mti == "0220" || mti == "0221";
}

std::string DescribeMti(std::string_view mti) {
  if (mti.size() != 4 || !IsAllDigits(mti)) return "invalid MTI";
  static constexpr std::string_view kClass[] = {
      "reserved",       "authorization", "financial",    "file action",      "reversal",
      "reconciliation", "administrative", "fee collection", "network management", "reserved"};
  static constexpr std::string_view kFunction[] = {
      "request", "request response", "advice", "advice response", "notification",
      "reserved", "reserved", "reserved", "reserved", "reserved"};
  std::string out(kClass[mti[1] - '0']);
  out += ' ';
  out += kFunction[mti[2] - '0'];
  if (IsRepeat(mti)) out += " repeat";
  return out;
}

}  // namespace tapstack::iso8583
