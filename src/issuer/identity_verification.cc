#include "issuer/identity_verification.h"

#include "core/hex.h"
#include "iso8583/mti.h"
#include "iso8583/response.h"

namespace tapstack::issuer {

namespace {

constexpr std::size_t kExpiryDigits = 4;  // DE14, YYMM

}  // namespace

std::string_view IdvDecisionName(IdvDecision decision) {
  switch (decision) {
    case IdvDecision::kStepUp: return "step_up";
    case IdvDecision::kApprove: return "approve";
    case IdvDecision::kDecline: return "decline";
  }
  return "unknown";
}

Result<IdvDecision> ParseIdvDecision(std::string_view name) {
  for (IdvDecision d : {IdvDecision::kStepUp, IdvDecision::kApprove, IdvDecision::kDecline}) {
    if (IdvDecisionName(d) == name) return d;
  }
  return InvalidArgument("ID&V decision '" + std::string(name) + "': expected step_up, approve or decline");
}

Status CheckIdvRequestFormat(const iso8583::Message& request) {
  // Each message fits DE44 (ans..25). DE48 is read in place: it holds the CVV2.
  const std::string_view de48 = request.Get(iso8583::kTokenDataField).value_or("");
  auto pv = iso8583::FindSubElement(de48, iso8583::token_tag::kProvisioningIdv);
  if (!pv.ok()) return InvalidArgument("DE48 malformed");
  if (*pv != iso8583::kProvisioningIdvRequested) return InvalidArgument("DE48 PV: expected 1");
  if (!iso8583::IsAuthorizationRequest(request.mti())) return InvalidArgument("MTI: expected 0100");
  for (int field : {2, 4, 11, 41}) {
    if (!request.Has(field)) return InvalidArgument("DE" + std::to_string(field) + " missing");
  }
  const std::string_view amount = *request.Get(4);
  if (amount.empty() || !IsAllDigits(amount) || amount.find_first_not_of('0') != std::string_view::npos) {
    return InvalidArgument("DE4: expected zero");
  }
  const std::string_view expiry = request.Get(14).value_or("");
  if (expiry.size() != kExpiryDigits || !IsAllDigits(expiry)) return InvalidArgument("DE14: expected YYMM");
  if (!Cvv2FromTokenData(de48).ok()) return InvalidArgument("DE48 C2: expected n3");
  return Status::Ok();
}

IdvOutcome DecideIdv(const CardRecord& card, const RequestFacts& facts, IdvDecision policy) {
  const std::string_view code = CheckCardAuthentication(card, facts);
  if (code != response_code::kApproved) return {code, iso8583::idv_result::kRed};
  switch (policy) {
    case IdvDecision::kApprove: return {response_code::kNoReasonToDecline, iso8583::idv_result::kGreen};
    case IdvDecision::kStepUp: return {response_code::kNoReasonToDecline, iso8583::idv_result::kYellow};
    case IdvDecision::kDecline: break;
  }
  return {response_code::kDoNotHonour, iso8583::idv_result::kRed};
}

iso8583::Message IdvResponse(const iso8583::Message& request, std::string_view code,
                             std::string_view result, std::string_view detail) {
  iso8583::Message response = iso8583::ResponseTo(request, code);
  iso8583::TokenData data;
  data.Set(iso8583::token_tag::kIdvResult, result);
  response.Set(iso8583::kTokenDataField, *data.ToField());  // 6 characters: cannot fail
  if (!detail.empty()) response.Set(44, detail.substr(0, kIdvFormatDetailCharsMax));
  return response;
}

}  // namespace tapstack::issuer
