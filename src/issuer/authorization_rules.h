// The issuer's authorisation rules, as a pure function of the card, the request facts and the
// card's activity today. Funds are checked by the ledger (the hold), not here.
// Order (first failing rule decides): card status, card expired, expiry on the request (DE14),
// CVV2, merchant category, per-transaction limit, daily amount limit, daily velocity.
// The checks that authenticate the card (status, expiry, CVV2) come before the business limits, so
// a caller guessing a CVV2 learns nothing about the card's limits or spending.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "iso8583/token_data.h"
#include "issuer/card.h"

namespace tapstack::issuer {

// DE39 response codes the issuer uses.
namespace response_code {
inline constexpr std::string_view kApproved = "00";
inline constexpr std::string_view kDoNotHonour = "05";
inline constexpr std::string_view kInvalidTransaction = "12";
inline constexpr std::string_view kInvalidAmount = "13";  // e.g. a completion of 0 or above the hold
inline constexpr std::string_view kInvalidCardNumber = "14";
// The original a completion names has no hold to post (unknown, reversed or expired).
inline constexpr std::string_view kUnableToLocateOriginal = "25";
inline constexpr std::string_view kFormatError = "30";
inline constexpr std::string_view kLostCard = "41";
inline constexpr std::string_view kStolenCard = "43";
inline constexpr std::string_view kInsufficientFunds = "51";
inline constexpr std::string_view kExpiredCard = "54";
inline constexpr std::string_view kNotPermittedToCardholder = "57";
inline constexpr std::string_view kExceedsAmountLimit = "61";
inline constexpr std::string_view kRestrictedCard = "62";
inline constexpr std::string_view kExceedsFrequencyLimit = "65";
// ISO 8583:1987 "no reason to decline": an account verification (token-provisioning ID&V,
// identity_verification.h) that passed. Not an approval: nothing was authorised.
inline constexpr std::string_view kNoReasonToDecline = "85";
// ISO 8583:1987 "issuer or switch inoperative": the bank cannot decide now; the network may stand in.
inline constexpr std::string_view kIssuerInoperative = "91";
inline constexpr std::string_view kSystemMalfunction = "96";
// CVV2 failure: ISO 8583:1987 leaves alphanumeric DE39 values to networks; "N7" is Visa's
// "Decline for CVV2 failure" (as relayed by processors, e.g. Adyen's refusal reason list).
// tapstack answers it both for a wrong CVV2 and for a card-not-present request that lacks one
// when the bank requires it: either way the cardholder did not prove possession of the card.
inline constexpr std::string_view kCvv2Failure = "N7";
}  // namespace response_code

struct RequestFacts {
  std::int64_t amount_minor = 0;     // in the card's currency
  std::string_view expiry_on_request;  // DE14 (may be empty)
  std::string_view mcc;                // DE18 (may be empty)
  std::string today_yymm;              // the issuer's current year and month, YYMM
  bool card_not_present = false;       // IsCardNotPresent(DE22)
  std::string_view cvv2_presented = {};  // DE48 tag C2 (Cvv2FromTokenData); empty when absent
  // The card's CVV2 as the host computed it under the bank's card verification key; empty when
  // the bank does not verify CVV2 (then the CVV2 rule is skipped).
  std::string_view cvv2_expected = {};
  bool cvv2_required_for_card_not_present = true;
};

struct DailyActivity {
  std::int64_t amount_minor = 0;
  int transactions = 0;
};

// The rules that authenticate the card, in order: status (62 blocked, 41 lost, 43 stolen), card
// expired (54), DE14 not the expiry on file (54), CVV2 (N7). kApproved when they pass. Shared by
// authorisations (CheckAuthorizationRules) and token-provisioning ID&V (identity_verification.h).
std::string_view CheckCardAuthentication(const CardRecord& card, const RequestFacts& facts);

// kApproved when every rule passes, else the response code of the first failing rule:
// CheckCardAuthentication, then the business limits. The CVV2 is compared in constant time
// (CRYPTO_memcmp).
std::string_view CheckAuthorizationRules(const CardRecord& card, const RequestFacts& facts,
                                         const DailyActivity& today);

// True unless DE22's PAN entry mode says the card itself was read: magnetic stripe (02, 90),
// contact chip (05, 95), chip fallback to stripe (80) or contactless (07, 91). Manual key entry
// (01), e-commerce (09, 81), credential on file (10), unknown (00), any other value, a malformed
// DE22 and a missing one all count as card-not-present: a request that does not show the card was
// read must be authenticated by its CVV2 (fail closed).
bool IsCardNotPresent(std::optional<std::string_view> de22);

// DE48 sub-element carrying the CVV2 (iso8583/token_data.h, tag C2).
inline constexpr std::string_view kCvv2Tag = iso8583::token_tag::kCardSecurityCode;
inline constexpr std::size_t kCvv2Digits = 3;

// The C2 value inside `de48`, as a view into it (no copy: the CVV2 is never stored), or an empty
// view when DE48 has no C2. Errors (kInvalidArgument, never echoing values): DE48 is not a
// well-formed list of sub-elements, or C2 is not exactly 3 digits.
Result<std::string_view> Cvv2FromTokenData(std::string_view de48);

}  // namespace tapstack::issuer
