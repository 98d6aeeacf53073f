// The issuer's authorisation rules, as a pure function of the card, the request facts and the
// card's activity today. Funds are checked by the ledger (the hold), not here.
// Order (first failing rule decides): card status, expiry, merchant category, per-transaction
// limit, daily amount limit, daily velocity.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "issuer/card.h"

namespace tapstack::issuer {

// DE39 response codes the issuer uses.
namespace response_code {
inline constexpr std::string_view kApproved = "00";
inline constexpr std::string_view kDoNotHonour = "05";
inline constexpr std::string_view kInvalidTransaction = "12";
inline constexpr std::string_view kInvalidCardNumber = "14";
inline constexpr std::string_view kFormatError = "30";
inline constexpr std::string_view kLostCard = "41";
inline constexpr std::string_view kStolenCard = "43";
inline constexpr std::string_view kInsufficientFunds = "51";
inline constexpr std::string_view kExpiredCard = "54";
inline constexpr std::string_view kNotPermittedToCardholder = "57";
inline constexpr std::string_view kExceedsAmountLimit = "61";
inline constexpr std::string_view kRestrictedCard = "62";
inline constexpr std::string_view kExceedsFrequencyLimit = "65";
inline constexpr std::string_view kSystemMalfunction = "96";
}  // namespace response_code

struct RequestFacts {
  std::int64_t amount_minor = 0;     // in the card's currency
  std::string_view expiry_on_request;  // DE14 (may be empty)
  std::string_view mcc;                // DE18 (may be empty)
  std::string today_yymm;              // the issuer's current year and month, YYMM
};

struct DailyActivity {
  std::int64_t amount_minor = 0;
  int transactions = 0;
};

// kApproved when every rule passes, else the response code of the first failing rule.
std::string_view CheckAuthorizationRules(const CardRecord& card, const RequestFacts& facts,
                                         const DailyActivity& today);

}  // namespace tapstack::issuer
