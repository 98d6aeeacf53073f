// Wallet payment codes: the one-time numeric barcode a payer shows and a merchant's scanner reads
// ("B scans C"), the plain 18-digit form of the Chinese wallets (qr/wallet_code.h: 18 digits,
// first two digits 10–15).
//
// A tapstack code is kPaymentCodePrefix + 16 random digits (crypto::Csprng through the
// RandomSource; about 53 bits): nothing in it names the account, so only the platform that issued
// it can resolve it, from its own table of live codes (domain note qr-and-cross-border.md §3).
// The platform keeps each code for kPaymentCodeValiditySeconds and lets it pay once.
// Pure and thread-safe apart from the random source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/random_source.h"
#include "core/status.h"

namespace tapstack::qrpay {

inline constexpr std::string_view kPaymentCodePrefix = "15";
inline constexpr std::size_t kPaymentCodeDigits = 18;
inline constexpr std::int64_t kPaymentCodeValiditySeconds = 60;

// A fresh code. Errors: the random source's.
Result<std::string> NewPaymentCode(RandomSource& random);

// OK when `code` has the shape of a tapstack payment code. Errors (kInvalidArgument): not 18
// digits (the first offending offset named), or not starting with kPaymentCodePrefix.
Status CheckPaymentCode(std::string_view code);

}  // namespace tapstack::qrpay
