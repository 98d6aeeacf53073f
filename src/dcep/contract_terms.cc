#include "dcep/contract_terms.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>

#include "dcep/operator.h"

namespace tapstack::dcep {

namespace {

using nlohmann::json;

Status Bad(std::string_view member, std::string_view expected) {
  return InvalidArgument(std::string(member) + ": " + std::string(expected));
}

Result<std::string> Text(const json& j, std::string_view member) {
  auto it = j.find(member);
  if (it == j.end() || !it->is_string()) return Bad(member, "expected a string");
  return it->get<std::string>();
}

Result<std::int64_t> Integer(const json& j, std::string_view member, std::int64_t min,
                             std::int64_t max) {
  auto it = j.find(member);
  if (it == j.end() || !it->is_number_integer()) {
    return Bad(member, "expected an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max) {
    return Bad(member, "expected an integer from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", got " + std::to_string(v));
  }
  return v;
}

Result<std::string> WalletMember(const json& j, std::string_view member) {
  TS_ASSIGN_OR_RETURN(std::string w, Text(j, member));
  TS_RETURN_IF_ERROR(CheckWalletId(member, w));
  return w;
}

Status CheckMembers(const json& j, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Bad(key, "unknown member for this template");
    }
  }
  return Status::Ok();
}

bool IsMcc(std::string_view s) {
  return s.size() == 4 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string_view ContractTemplateName(ContractTemplate kind) {
  switch (kind) {
    case ContractTemplate::kPrepaidService:
      return "prepaid_service";
    case ContractTemplate::kEscrow:
      return "escrow";
    case ContractTemplate::kSubsidy:
      return "subsidy";
  }
  return "unknown";
}

Result<ContractTerms> ParseContractTerms(std::string_view json_text, std::int64_t now_unix_ms) {
  if (json_text.size() > kContractTermsBytesMax) {
    return Bad("terms", "expected at most " + std::to_string(kContractTermsBytesMax) + " bytes");
  }
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("terms", "expected a JSON object");
  TS_ASSIGN_OR_RETURN(std::string name, Text(j, "template"));
  ContractTerms t;
  if (name == "prepaid_service") {
    t.kind = ContractTemplate::kPrepaidService;
    TS_RETURN_IF_ERROR(CheckMembers(j, {"template", "payer_wallet", "merchant_id", "amount_fen",
                                        "units", "unit_name", "expires_unix_ms"}));
    TS_ASSIGN_OR_RETURN(t.merchant_id, Text(j, "merchant_id"));
    if (t.merchant_id.empty() || t.merchant_id.size() > kMerchantIdBytesMax) {
      return Bad("merchant_id", "expected 1 to " + std::to_string(kMerchantIdBytesMax) + " bytes");
    }
    TS_ASSIGN_OR_RETURN(t.units, Integer(j, "units", 1, kContractUnitsMax));
    if (j.contains("unit_name")) {
      TS_ASSIGN_OR_RETURN(t.unit_name, Text(j, "unit_name"));
      if (t.unit_name.size() > kUnitNameBytesMax) {
        return Bad("unit_name", "expected at most " + std::to_string(kUnitNameBytesMax) + " bytes");
      }
    }
  } else if (name == "escrow") {
    t.kind = ContractTemplate::kEscrow;
    TS_RETURN_IF_ERROR(CheckMembers(
        j, {"template", "payer_wallet", "payee_wallet", "amount_fen", "expires_unix_ms"}));
    TS_ASSIGN_OR_RETURN(t.payee_wallet, WalletMember(j, "payee_wallet"));
  } else if (name == "subsidy") {
    t.kind = ContractTemplate::kSubsidy;
    TS_RETURN_IF_ERROR(CheckMembers(j, {"template", "payer_wallet", "beneficiary_wallet",
                                        "amount_fen", "allowed_mcc", "expires_unix_ms"}));
    TS_ASSIGN_OR_RETURN(t.beneficiary_wallet, WalletMember(j, "beneficiary_wallet"));
    auto mccs = j.find("allowed_mcc");
    if (mccs == j.end() || !mccs->is_array() || mccs->empty() || mccs->size() > kContractMccsMax) {
      return Bad("allowed_mcc", "expected 1 to " + std::to_string(kContractMccsMax) + " MCCs");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < mccs->size(); ++i) {
      const json& m = (*mccs)[i];
      const std::string field = "allowed_mcc[" + std::to_string(i) + "]";
      if (!m.is_string() || !IsMcc(m.get<std::string>())) return Bad(field, "expected 4 digits");
      if (!seen.insert(m.get<std::string>()).second) return Bad(field, "listed twice");
      t.allowed_mcc.push_back(m.get<std::string>());
    }
  } else {
    return Bad("template", "expected prepaid_service, escrow or subsidy");
  }
  TS_ASSIGN_OR_RETURN(t.payer_wallet, WalletMember(j, "payer_wallet"));
  TS_ASSIGN_OR_RETURN(t.amount_fen, Integer(j, "amount_fen", 1, kContractAmountFenMax));
  TS_ASSIGN_OR_RETURN(t.expires_unix_ms,
                      Integer(j, "expires_unix_ms", 0, std::numeric_limits<std::int64_t>::max()));
  if (t.expires_unix_ms <= now_unix_ms) return Bad("expires_unix_ms", "already past");
  if (t.payer_wallet == t.payee_wallet || t.payer_wallet == t.beneficiary_wallet) {
    return Bad("payer_wallet", "must differ from the wallet that receives the value");
  }
  if (t.kind == ContractTemplate::kPrepaidService && t.units > t.amount_fen) {
    return Bad("units", "expected at most one unit per fen of amount_fen");
  }
  return t;
}

std::string ContractTermsJson(const ContractTerms& t) {
  json j = json::object();
  j["template"] = ContractTemplateName(t.kind);
  j["payer_wallet"] = t.payer_wallet;
  switch (t.kind) {
    case ContractTemplate::kPrepaidService:
      j["merchant_id"] = t.merchant_id;
      j["units"] = t.units;
      if (!t.unit_name.empty()) j["unit_name"] = t.unit_name;
      break;
    case ContractTemplate::kEscrow:
      j["payee_wallet"] = t.payee_wallet;
      break;
    case ContractTemplate::kSubsidy:
      j["beneficiary_wallet"] = t.beneficiary_wallet;
      j["allowed_mcc"] = t.allowed_mcc;
      break;
  }
  j["amount_fen"] = t.amount_fen;
  j["expires_unix_ms"] = t.expires_unix_ms;
  return j.dump();  // nlohmann::json objects keep their members sorted: a canonical form
}

std::int64_t LockedFen(const ContractTerms& terms, const ContractProgress& progress) {
  if (progress.closed) return 0;
  return terms.amount_fen - progress.released_fen - progress.refunded_fen;
}

Result<std::int64_t> PrepaidReleaseFen(const ContractTerms& terms, std::int64_t delivered,
                                       std::int64_t units) {
  if (terms.kind != ContractTemplate::kPrepaidService) {
    return FailedPrecondition("deliver: only a prepaid_service contract delivers units");
  }
  if (units < 1) return Bad("units", "expected at least 1");
  if (delivered < 0 || units > terms.units - delivered) {
    return OutOfRange("units: " + std::to_string(terms.units - delivered) + " of " +
                      std::to_string(terms.units) + " remain, " + std::to_string(units) +
                      " delivered");
  }
  // N ≤ 1e11 and U ≤ 1e4: the products stay below 2^63.
  const auto share = [&](std::int64_t d) { return terms.amount_fen * d / terms.units; };
  return share(delivered + units) - share(delivered);
}

Status CheckSubsidyMcc(const ContractTerms& terms, std::string_view mcc) {
  if (std::find(terms.allowed_mcc.begin(), terms.allowed_mcc.end(), mcc) == terms.allowed_mcc.end()) {
    return FailedPrecondition("mcc: the subsidy may not be spent at merchant category " +
                            std::string(mcc));
  }
  return Status::Ok();
}

}  // namespace tapstack::dcep
