#include "dcep/interbank.h"

#include <algorithm>
#include <initializer_list>

#include "dcep/operator.h"

namespace tapstack::dcep {

using nlohmann::json;

json ToJson(const IncomingCredit& c) {
  json j = {{"from_operator", c.from_operator}, {"to_operator", c.to_operator},
            {"payment_id", c.payment_id},       {"payer_wallet", c.payer_wallet},
            {"payee_wallet", c.payee_wallet},   {"amount_fen", c.amount_fen},
            {"merchant_id", c.merchant_id}};
  if (!c.payer_device.empty()) j["payer_device"] = c.payer_device;
  if (!c.payee_device.empty()) j["payee_device"] = c.payee_device;
  if (!c.merchant_order_id.empty()) j["merchant_order_id"] = c.merchant_order_id;
  return j;
}

Result<IncomingCredit> IncomingCreditFromJson(const json& j) {
  static constexpr std::string_view kMembers[] = {"from_operator", "to_operator", "payment_id",
                                                  "payer_wallet",  "payee_wallet", "amount_fen",
                                                  "merchant_id"};
  static constexpr std::string_view kOptionalMembers[] = {"payer_device", "payee_device",
                                                          "merchant_order_id"};
  if (!j.is_object()) return InvalidArgument("body: expected a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kMembers), std::end(kMembers), key) == std::end(kMembers) &&
        std::find(std::begin(kOptionalMembers), std::end(kOptionalMembers), key) ==
            std::end(kOptionalMembers)) {
      return InvalidArgument(key + ": unknown member");
    }
  }
  IncomingCredit c;
  for (std::string_view m : kMembers) {
    if (!j.contains(m)) return InvalidArgument(std::string(m) + ": required");
    if (m == "amount_fen") {
      if (!j.at(m).is_number_integer()) return InvalidArgument("amount_fen: expected an integer");
      c.amount_fen = j.at(m).get<std::int64_t>();
      continue;
    }
    if (!j.at(m).is_string()) return InvalidArgument(std::string(m) + ": expected a string");
  }
  c.from_operator = j.at("from_operator").get<std::string>();
  c.to_operator = j.at("to_operator").get<std::string>();
  c.payment_id = j.at("payment_id").get<std::string>();
  c.payer_wallet = j.at("payer_wallet").get<std::string>();
  c.payee_wallet = j.at("payee_wallet").get<std::string>();
  c.merchant_id = j.at("merchant_id").get<std::string>();
  for (std::string_view m : kOptionalMembers) {
    if (!j.contains(m)) continue;
    if (!j.at(m).is_string()) return InvalidArgument(std::string(m) + ": expected a string");
    std::string& target = m == "payer_device"   ? c.payer_device
                          : m == "payee_device" ? c.payee_device
                                                : c.merchant_order_id;
    target = j.at(m).get<std::string>();
  }
  return c;
}

void OperatorDirectory::Add(std::string operator_id, Operator* op) {
  std::lock_guard lock(mu_);
  operators_.insert_or_assign(std::move(operator_id), op);
}

void OperatorDirectory::Remove(std::string_view operator_id) {
  std::lock_guard lock(mu_);
  if (auto it = operators_.find(operator_id); it != operators_.end()) operators_.erase(it);
}

Result<CreditResult> OperatorDirectory::CreditIncoming(const IncomingCredit& credit) {
  Operator* op = nullptr;
  {
    std::lock_guard lock(mu_);
    const auto it = operators_.find(credit.to_operator);
    if (it == operators_.end()) {
      return Unavailable("operator \"" + credit.to_operator + "\" is not reachable");
    }
    op = it->second;
  }
  return op->CreditIncoming(credit);
}

}  // namespace tapstack::dcep
