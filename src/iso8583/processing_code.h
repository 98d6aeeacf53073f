// DE3 processing code (ISO 8583:1987, n6): positions 1-2 the transaction type, 3-4 the "from"
// account type, 5-6 the "to" account type ("00": default accounts, which tapstack does not
// distinguish).
#pragma once

#include <optional>
#include <string_view>

namespace tapstack::iso8583 {

// A purchase of goods or services.
inline constexpr std::string_view kProcessingPurchase = "000000";
// A credit to the card account ("20": returns): a merchant's refund of an earlier purchase or a
// payment to the card (a wallet's withdrawal to it). Single message (0200) only.
inline constexpr std::string_view kProcessingRefund = "200000";
inline constexpr std::string_view kCreditTransactionType = "20";

// True when `de3` is 6 digits whose transaction type is kCreditTransactionType. A missing or
// malformed DE3 is not a credit (it is then handled as a purchase, as before credits existed).
bool IsCreditProcessingCode(std::optional<std::string_view> de3);

}  // namespace tapstack::iso8583
