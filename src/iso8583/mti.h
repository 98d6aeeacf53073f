// Message type indicator helpers (ISO 8583:1987 §4.1): version · class · function · origin.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::iso8583 {

// The response MTI for a request or advice: function digit + 1, repeat origin folded back
// (0100/0101 → 0110, 0120/0121 → 0130, 0200 → 0210, 0400/0401 → 0410, 0420/0421 → 0430,
// 0800 → 0810). Errors: not 4 digits, or already a response / notification.
Result<std::string> ResponseMti(std::string_view mti);

// The original MTI of a repeat (0101 → 0100, 0421 → 0420); other MTIs unchanged.
std::string OriginalOfRepeat(std::string_view mti);

// True for repeats (origin digit 1 or 3).
bool IsRepeat(std::string_view mti);

// Message kinds a switch or host dispatches on (originals and repeats alike).
bool IsAuthorizationRequest(std::string_view mti);  // 0100, 0101
bool IsFinancialRequest(std::string_view mti);      // 0200, 0201
bool IsReversal(std::string_view mti);              // 0400, 0401, 0420, 0421
bool IsAuthorizationOrFinancialAdvice(std::string_view mti);  // 0120, 0121, 0220, 0221

// A short English description: "authorization request", "reversal advice repeat", …
std::string DescribeMti(std::string_view mti);

}  // namespace tapstack::iso8583
