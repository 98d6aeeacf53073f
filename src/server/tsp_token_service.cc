#include "server/tsp_token_service.h"

#include <optional>
#include <string>

#include "core/hex.h"
#include "iso8583/token_data.h"

namespace tapstack::server {

namespace {

// An authorisation or financial request (or its repeat): MTI class 1 or 2, function 0.
bool IsAuthorisationRequest(std::string_view mti) {
  return mti.size() == 4 && (mti[1] == '1' || mti[1] == '2') && mti[2] == '0';
}

// A fixed-length numeric field, or kInvalidArgument naming it.
Result<std::string_view> NumericField(const iso8583::Message& m, int field, std::size_t digits,
                                      bool required) {
  const std::optional<std::string_view> v = m.Get(field);
  if (!v) {
    if (required) return InvalidArgument("DE" + std::to_string(field) + " missing");
    return std::string_view();
  }
  if (v->size() != digits || !IsAllDigits(*v)) {
    return InvalidArgument("DE" + std::to_string(field) + ": expected n" + std::to_string(digits));
  }
  return *v;
}

}  // namespace

Result<network::Detokenized> TspTokenService::Detokenize(const iso8583::Message& request) {
  const std::optional<std::string_view> token = request.Get(2);
  if (!token) return InvalidArgument("DE2 missing");

  if (!IsAuthorisationRequest(request.mti())) {
    TS_ASSIGN_OR_RETURN(
        tsp::DetokenizedPan funding,
        tsp_.ResolveFollowUp(*token, "follow-up mti=" + std::string(request.mti())));
    return network::Detokenized{std::string(funding.pan.reveal()), funding.pan_expiry, ""};
  }

  TS_ASSIGN_OR_RETURN(std::string_view amount, NumericField(request, 4, 12, true));
  TS_ASSIGN_OR_RETURN(std::string_view currency, NumericField(request, 49, 3, true));
  TS_ASSIGN_OR_RETURN(std::string_view entry_mode, NumericField(request, 22, 3, true));
  TS_ASSIGN_OR_RETURN(std::string_view expiry, NumericField(request, 14, 4, false));
  // DE23 card sequence number n3; the card's PSN (5F34) is its last two digits.
  TS_ASSIGN_OR_RETURN(std::string_view sequence, NumericField(request, 23, 3, false));
  tsp::TokenUse use;
  use.token_number = *token;
  use.pos_entry_mode = entry_mode;
  use.processing_code = request.Get(3).value_or("");
  use.icc_data = AsBytes(request.Get(55).value_or(""));
  use.amount_minor = std::stoll(std::string(amount));
  use.currency_numeric = static_cast<std::uint16_t>(std::stoi(std::string(currency)));
  use.token_expiry = expiry;
  if (!sequence.empty()) use.psn = sequence.substr(1);
  // An 0100 and its repeat 0101 (likewise 0200/0201) share this: the switch's duplicate key
  // without the MTI.
  const std::string repeat_key = std::string(request.Get(32).value_or("")) + "|" +
                                 std::string(request.Get(41).value_or("")) + "|" +
                                 std::string(request.Get(11).value_or("")) + "|" +
                                 std::string(request.Get(7).value_or(""));
  use.repeat_key = repeat_key;
  std::optional<iso8583::TokenData> de48;
  if (const std::optional<std::string_view> field = request.Get(iso8583::kTokenDataField)) {
    Result<iso8583::TokenData> parsed = iso8583::TokenData::Parse(*field);
    if (!parsed.ok()) return parsed.status();
    de48 = std::move(*parsed);
    use.device_id = de48->Get(iso8583::token_tag::kDeviceId).value_or("");
    use.requestor_id = de48->Get(iso8583::token_tag::kRequestorId).value_or("");
  }

  TS_ASSIGN_OR_RETURN(tsp::TokenAuthorizationResult result, tsp_.Authorize(use));
  const Bytes& tag91 = result.issuer_authentication_data;
  return network::Detokenized{std::string(result.funding.pan.reveal()), result.funding.pan_expiry,
                              std::string(tag91.begin(), tag91.end())};
}

void TspTokenService::OnTokenUseAnswered(const network::TokenUseOutcome& o) {
  tsp_.RecordUse({o.token_number, o.mti, o.amount_minor, o.currency_numeric, o.merchant, o.mcc,
                  o.pos_entry_mode, o.response_code, o.approval_code, o.stan, o.terminal_id,
                  o.time_unix_ms});
}

}  // namespace tapstack::server
