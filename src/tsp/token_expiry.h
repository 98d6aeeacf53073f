// Token expiry: a token's own expiry date, separate from the PAN's (emv-and-tokenization.md §2;
// MDES returns tokenExpiry and accountPanExpiry separately). Format YYMM, as in ISO 8583 DE14 and
// EMV tag 5F24's year and month; valid through the last day of that month (UTC).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::tsp {

// The YYMM `validity_months` after the month of `issue_unix_ms` (UTC): a token issued in
// 2026-01 with 36 months expires "2901". Errors: validity_months outside 1..kTokenValidityMonthsMax
// (kInvalidArgument); a year outside 2000-2099 (kOutOfRange).
Result<std::string> TokenExpiryFromIssue(std::int64_t issue_unix_ms, int validity_months);

// Checks "YYMM" with MM 01-12. Errors: kInvalidArgument naming `field`.
Status ValidateYymm(std::string_view yymm, std::string_view field);

// True once `now_unix_ms` is past the last millisecond of month YYMM (20YY). Errors: as
// ValidateYymm.
Result<bool> ExpiryHasPassed(std::string_view yymm, std::int64_t now_unix_ms);

}  // namespace tapstack::tsp
