#include "dcep/tiers.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/hex.h"

namespace tapstack::dcep {

namespace {

using nlohmann::json;

Status CheckMembers(const json& object, std::string_view at,
                    std::initializer_list<std::string_view> required,
                    std::initializer_list<std::string_view> optional = {}) {
  if (!object.is_object()) return InvalidArgument(std::string(at) + ": expected an object");
  for (const auto& [key, value] : object.items()) {
    if (std::find(required.begin(), required.end(), key) == required.end() &&
        std::find(optional.begin(), optional.end(), key) == optional.end()) {
      return InvalidArgument(std::string(at) + (at.empty() ? "" : ".") + key +
                             ": unknown member");
    }
  }
  for (std::string_view name : required) {
    if (!object.contains(name)) {
      return InvalidArgument(std::string(at) + (at.empty() ? "" : ".") + std::string(name) +
                             ": required");
    }
  }
  return Status::Ok();
}

Result<std::string> Text(const json& object, std::string_view at, std::string_view name,
                         std::size_t bytes_max) {
  const json& value = object.at(std::string(name));
  const std::string path = std::string(at) + "." + std::string(name);
  if (!value.is_string()) return InvalidArgument(path + ": expected a string");
  std::string text = value.get<std::string>();
  if (text.empty() || text.size() > bytes_max) {
    return InvalidArgument(path + ": expected 1-" + std::to_string(bytes_max) + " bytes");
  }
  return text;
}

Result<std::int64_t> Fen(const json& object, std::string_view at, std::string_view name,
                         std::int64_t min) {
  const json& value = object.at(std::string(name));
  const std::string path = std::string(at).empty() ? std::string(name)
                                                   : std::string(at) + "." + std::string(name);
  if (!value.is_number_integer() || value.get<std::int64_t>() < min) {
    return InvalidArgument(path + ": expected an integer >= " + std::to_string(min));
  }
  return value.get<std::int64_t>();
}

Status CheckMerchantId(std::string_view field, std::string_view id) {
  const bool ok = !id.empty() && id.size() <= kMerchantIdBytesMax &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_';
                  });
  if (ok) return Status::Ok();
  return InvalidArgument(std::string(field) + ": expected 1-" +
                         std::to_string(kMerchantIdBytesMax) + " of a-z 0-9 - _");
}

}  // namespace

Status CheckOperatorId(std::string_view field, std::string_view id) {
  const bool ok = !id.empty() && id.size() <= kOperatorIdBytesMax && id[0] >= 'a' &&
                  id[0] <= 'z' && std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                  });
  if (ok) return Status::Ok();
  return InvalidArgument(std::string(field) + ": expected 1-" +
                         std::to_string(kOperatorIdBytesMax) +
                         " of a-z 0-9 starting with a letter");
}

Result<const OperatorInfo*> DcepConfig::Operator(std::string_view id) const {
  for (const OperatorInfo& op : operators) {
    if (op.id == id) return &op;
  }
  return NotFound("operator \"" + std::string(id) + "\" is not an authorised operator");
}

Result<const MerchantInfo*> DcepConfig::Merchant(std::string_view id) const {
  for (const MerchantInfo& merchant : merchants) {
    if (merchant.id == id) return &merchant;
  }
  return NotFound("merchant \"" + std::string(id) + "\" is not known");
}

Result<const TierLimits*> DcepConfig::Tier(int tier) const {
  for (const TierLimits& limits : tiers) {
    if (limits.tier == tier) return &limits;
  }
  return NotFound("tier " + std::to_string(tier) + " is not configured");
}

Result<DcepConfig> ParseDcepConfig(std::string_view json_text) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgument("dcep config: not JSON");
  TS_RETURN_IF_ERROR(CheckMembers(root, "", {"reserve_seed_fen", "operators", "tiers", "merchants"},
                                  {"note", "sources"}));
  DcepConfig config;
  TS_ASSIGN_OR_RETURN(config.reserve_seed_fen, Fen(root, "", "reserve_seed_fen", 1));

  const json& operators = root["operators"];
  if (!operators.is_array() || operators.empty() || operators.size() > kOperatorsMax) {
    return InvalidArgument("operators: expected an array of 1-" + std::to_string(kOperatorsMax) +
                           " operators");
  }
  std::set<std::string> operator_ids;
  for (std::size_t i = 0; i < operators.size(); ++i) {
    const std::string at = "operators[" + std::to_string(i) + "]";
    TS_RETURN_IF_ERROR(CheckMembers(operators[i], at, {"id", "name"}));
    OperatorInfo op;
    TS_ASSIGN_OR_RETURN(op.id, Text(operators[i], at, "id", kOperatorIdBytesMax));
    TS_RETURN_IF_ERROR(CheckOperatorId(at + ".id", op.id));
    TS_ASSIGN_OR_RETURN(op.name, Text(operators[i], at, "name", kDisplayNameBytesMax));
    if (!operator_ids.insert(op.id).second) {
      return InvalidArgument(at + ".id: \"" + op.id + "\" is listed twice");
    }
    config.operators.push_back(std::move(op));
  }

  const json& tiers = root["tiers"];
  if (!tiers.is_array() || tiers.size() != 4) {
    return InvalidArgument("tiers: expected an array of the 4 tiers");
  }
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    const std::string at = "tiers[" + std::to_string(i) + "]";
    TS_RETURN_IF_ERROR(CheckMembers(
        tiers[i], at,
        {"tier", "opened_with", "balance_max_fen", "payment_max_fen", "daily_max_fen"}));
    TierLimits limits;
    const json& tier = tiers[i]["tier"];
    if (!tier.is_number_integer() || tier.get<int>() < kTierHighest ||
        tier.get<int>() > kTierLowest) {
      return InvalidArgument(at + ".tier: expected an integer 1-4");
    }
    limits.tier = tier.get<int>();
    if (std::any_of(config.tiers.begin(), config.tiers.end(),
                    [&](const TierLimits& t) { return t.tier == limits.tier; })) {
      return InvalidArgument(at + ".tier: tier " + std::to_string(limits.tier) +
                             " is listed twice");
    }
    TS_ASSIGN_OR_RETURN(limits.opened_with,
                        Text(tiers[i], at, "opened_with", kDisplayNameBytesMax));
    TS_ASSIGN_OR_RETURN(limits.balance_max_fen, Fen(tiers[i], at, "balance_max_fen", 0));
    TS_ASSIGN_OR_RETURN(limits.payment_max_fen, Fen(tiers[i], at, "payment_max_fen", 0));
    TS_ASSIGN_OR_RETURN(limits.daily_max_fen, Fen(tiers[i], at, "daily_max_fen", 0));
    config.tiers.push_back(std::move(limits));
  }
  std::sort(config.tiers.begin(), config.tiers.end(),
            [](const TierLimits& a, const TierLimits& b) { return a.tier < b.tier; });

  const json& merchants = root["merchants"];
  if (!merchants.is_array() || merchants.size() > kMerchantsMax) {
    return InvalidArgument("merchants: expected an array of at most " +
                           std::to_string(kMerchantsMax) + " merchants");
  }
  std::set<std::string> merchant_ids;
  for (std::size_t i = 0; i < merchants.size(); ++i) {
    const std::string at = "merchants[" + std::to_string(i) + "]";
    TS_RETURN_IF_ERROR(CheckMembers(merchants[i], at, {"id", "name", "operator", "mcc"}));
    MerchantInfo merchant;
    TS_ASSIGN_OR_RETURN(merchant.id, Text(merchants[i], at, "id", kMerchantIdBytesMax));
    TS_RETURN_IF_ERROR(CheckMerchantId(at + ".id", merchant.id));
    TS_ASSIGN_OR_RETURN(merchant.name, Text(merchants[i], at, "name", kDisplayNameBytesMax));
    TS_ASSIGN_OR_RETURN(merchant.operator_id,
                        Text(merchants[i], at, "operator", kOperatorIdBytesMax));
    if (operator_ids.count(merchant.operator_id) == 0) {
      return InvalidArgument(at + ".operator: \"" + merchant.operator_id +
                             "\" is not one of the operators");
    }
    TS_ASSIGN_OR_RETURN(merchant.mcc, Text(merchants[i], at, "mcc", 4));
    if (merchant.mcc.size() != 4 || !IsAllDigits(merchant.mcc)) {
      return InvalidArgument(at + ".mcc: expected 4 digits (ISO 18245)");
    }
    if (!merchant_ids.insert(merchant.id).second) {
      return InvalidArgument(at + ".id: \"" + merchant.id + "\" is listed twice");
    }
    config.merchants.push_back(std::move(merchant));
  }
  return config;
}

Result<DcepConfig> LoadDcepConfig(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  auto config = ParseDcepConfig(text.str());
  if (!config.ok()) return config.status().WithContext(path.string());
  return config;
}

Result<std::filesystem::path> DefaultDcepConfigPath() {
  for (const std::filesystem::path& p :
       {std::filesystem::path(TAPSTACK_SOURCE_DIR) / "seed" / "dcep.json",
        std::filesystem::path("seed") / "dcep.json"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return NotFound("seed/dcep.json not found");
}

}  // namespace tapstack::dcep
