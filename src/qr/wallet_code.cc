#include "qr/wallet_code.h"

namespace tapstack::qr {
namespace {

struct Shape {
  WalletScheme scheme;
  std::size_t digits_min;
  std::size_t digits_max;
  int prefix_min;  // first two digits as a number, inclusive range
  int prefix_max;
  std::string_view description;
};

constexpr Shape kShapes[] = {
    {WalletScheme::kWeChatPay, kWeChatPayCodeDigits, kWeChatPayCodeDigits, 10, 15,
     "WeChat Pay: 18 digits starting 10-15"},
    {WalletScheme::kAlipay, kAlipayCodeDigitsMin, kAlipayCodeDigitsMax, 25, 30,
     "Alipay: 16-24 digits starting 25-30"},
    {WalletScheme::kUnionPay, kUnionPayCodeDigits, kUnionPayCodeDigits, 62, 62,
     "UnionPay: 19 digits starting 62"},
};

}  // namespace

std::string_view WalletSchemeName(WalletScheme scheme) {
  switch (scheme) {
    case WalletScheme::kWeChatPay:
      return "wechat_pay";
    case WalletScheme::kAlipay:
      return "alipay";
    case WalletScheme::kUnionPay:
      return "unionpay";
  }
  return "unknown";
}

Result<WalletCode> ParseWalletCode(std::string_view code) {
  if (code.empty()) return InvalidArgument("wallet code is empty");
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (code[i] < '0' || code[i] > '9') {
      return InvalidArgument("wallet code: character at offset " + std::to_string(i) +
                             " is not a digit");
    }
  }
  const std::size_t n = code.size();
  const int prefix = n >= 2 ? (code[0] - '0') * 10 + (code[1] - '0') : -1;
  std::string same_length;
  for (const Shape& shape : kShapes) {
    if (n < shape.digits_min || n > shape.digits_max) continue;
    if (prefix >= shape.prefix_min && prefix <= shape.prefix_max) {
      return WalletCode{shape.scheme, std::string(code)};
    }
    if (!same_length.empty()) same_length += "; ";
    same_length += shape.description;
  }
  if (same_length.empty()) {
    return InvalidArgument("wallet code: " + std::to_string(n) +
                           " digits; no wallet uses that length (WeChat Pay 18, Alipay 16-24, "
                           "UnionPay 19)");
  }
  return InvalidArgument("wallet code: " + std::to_string(n) + " digits starting " +
                         std::string(code.substr(0, 2)) + "; expected " + same_length);
}

}  // namespace tapstack::qr
