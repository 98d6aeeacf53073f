// Token-provisioning ID&V at the issuer: the bank's answer to the TSP's question "may this card
// be tokenised?", asked as an ISO 8583 account-verification 0100 carrying DE48 PV = "1"
// (docs/ISO8583.md "Token provisioning ID&V (0100 with PV)").
//
// Checks, in order (the first failure decides, answered with IV = "R"):
//   format (30, DE44 names the field): DE48 well-formed with PV "1", the MTI is 0100/0101, DE2,
//     DE4, DE11, DE41 present, DE4 zero (an account verification moves no money), DE14 4 digits,
//     a C2 that is present 3 digits;
//   card known by its PAN fingerprint (14);
//   CheckCardAuthentication (authorization_rules.h): status 62 / 41 / 43, expired or DE14 not
//     the expiry on file 54, CVV2 missing or wrong N7. With a card verification key the CVV2 is
//     always required: tokenisation creates a new credential, so the cardholder must prove
//     possession whatever cvv2_required_for_card_not_present says for purchases. A bank without a
//     key cannot check CVV2 and skips it (as for purchases).
// Then the bank's policy (IssuerBankConfig::idv_decision): "85" (no reason to decline) with
// IV = "Y" (step-up) or "G" (approve), or "05" with IV = "R" (the bank refuses tokenisation).
// The EMVCo tokenisation framework calls these paths green / yellow / red.
//
// An ID&V moves no money: nothing is held, posted or written, and the daily amount and velocity
// counters are not touched. The MCC, per-transaction and daily limits do not apply.
#pragma once

#include <string_view>

#include "core/status.h"
#include "iso8583/message.h"
#include "iso8583/token_data.h"
#include "issuer/authorization_rules.h"
#include "issuer/card.h"

namespace tapstack::issuer {

// What a bank answers for a card that passes the ID&V checks.
enum class IdvDecision {
  kStepUp,   // yellow: the TSP must authenticate the cardholder (OTP) before activating the token
  kApprove,  // green: tokenise without step-up
  kDecline,  // red, "05": the bank does not let its cards be tokenised
};

// "step_up", "approve", "decline".
std::string_view IdvDecisionName(IdvDecision decision);
// Errors (kInvalidArgument): any other name.
Result<IdvDecision> ParseIdvDecision(std::string_view name);

// DE44 (ans..25) details of format errors are at most this long.
inline constexpr std::size_t kIdvFormatDetailCharsMax = 25;

// The format checks above, without the card. OK, or kInvalidArgument whose message names the
// field and what was expected in at most kIdvFormatDetailCharsMax characters, so it is DE44 as is.
// DE48 is read in place (iso8583::FindSubElement): the CVV2 in it is never copied.
Status CheckIdvRequestFormat(const iso8583::Message& request);

struct IdvOutcome {
  std::string_view response_code;  // DE39
  std::string_view result;         // DE48 IV: iso8583::idv_result
};

// The decision for a known card: CheckCardAuthentication on `facts`, then `policy`.
IdvOutcome DecideIdv(const CardRecord& card, const RequestFacts& facts, IdvDecision policy);

// The 0110 to `request` (iso8583::ResponseTo: matching fields echoed, DE48 of the request — with
// its CVV2 — never) with DE39 = `code`, DE48 = IV `result`, and DE44 = `detail` when not empty.
iso8583::Message IdvResponse(const iso8583::Message& request, std::string_view code,
                             std::string_view result, std::string_view detail = {});

}  // namespace tapstack::issuer
