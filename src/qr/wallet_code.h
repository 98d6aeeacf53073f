// Wallet numeric payment codes: the plain digit strings that wallet apps show as a barcode for a
// merchant to scan ("B scans C"), which are not EMVCo CPM payloads.
//
// Shapes (domain note qr-and-cross-border.md §3, from the wallets' developer documentation as
// quoted publicly; secondary source):
//   WeChat Pay  18 digits, first two digits 10–15   (the plain 18-digit one-time form)
//   Alipay      16–24 digits, first two digits 25–30
//   UnionPay    19 digits, first two digits 62
// The prefix ranges do not overlap, so the shape alone tells the wallets apart. A code is single
// use and short-lived; only the issuing wallet can resolve it to an account, so nothing here says
// whether a code is live. Pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::qr {

enum class WalletScheme { kWeChatPay, kAlipay, kUnionPay };

// "wechat_pay", "alipay", "unionpay".
std::string_view WalletSchemeName(WalletScheme scheme);

inline constexpr std::size_t kWeChatPayCodeDigits = 18;
inline constexpr std::size_t kAlipayCodeDigitsMin = 16;
inline constexpr std::size_t kAlipayCodeDigitsMax = 24;
inline constexpr std::size_t kUnionPayCodeDigits = 19;

struct WalletCode {
  WalletScheme scheme;
  std::string digits;
};

// Classifies a scanned code by length and two-digit prefix. Errors (kInvalidArgument): empty, a
// non-digit (its offset named), a length no wallet uses, or a prefix that does not match any wallet
// using that length (the message lists what would have matched).
Result<WalletCode> ParseWalletCode(std::string_view code);

}  // namespace tapstack::qr
