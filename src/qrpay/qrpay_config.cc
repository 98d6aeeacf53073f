#include "qrpay/qrpay_config.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "crypto/secret_bytes.h"

namespace tapstack::qrpay {

namespace {

using nlohmann::json;

std::string Path(std::string_view at, std::string_view name) {
  return at.empty() ? std::string(name) : std::string(at) + "." + std::string(name);
}

Status CheckMembers(const json& object, std::string_view at,
                    std::initializer_list<std::string_view> required,
                    std::initializer_list<std::string_view> optional = {}) {
  if (!object.is_object()) {
    return InvalidArgument((at.empty() ? std::string("qrpay config") : std::string(at)) +
                           ": expected an object");
  }
  for (const auto& [key, value] : object.items()) {
    if (std::find(required.begin(), required.end(), key) == required.end() &&
        std::find(optional.begin(), optional.end(), key) == optional.end()) {
      return InvalidArgument(Path(at, key) + ": unknown member");
    }
  }
  for (std::string_view name : required) {
    if (!object.contains(name)) return InvalidArgument(Path(at, name) + ": required");
  }
  return Status::Ok();
}

Result<std::string> Text(const json& object, std::string_view at, std::string_view name,
                         std::size_t bytes_max) {
  const json& value = object.at(std::string(name));
  if (!value.is_string()) return InvalidArgument(Path(at, name) + ": expected a string");
  std::string text = value.get<std::string>();
  if (text.empty() || text.size() > bytes_max) {
    return InvalidArgument(Path(at, name) + ": expected 1-" + std::to_string(bytes_max) + " bytes");
  }
  return text;
}

Result<std::int64_t> Integer(const json& object, std::string_view at, std::string_view name,
                             std::int64_t min, std::int64_t max) {
  const json& value = object.at(std::string(name));
  if (!value.is_number_integer() || value.get<std::int64_t>() < min ||
      value.get<std::int64_t>() > max) {
    return InvalidArgument(Path(at, name) + ": expected an integer " + std::to_string(min) + ".." +
                           std::to_string(max));
  }
  return value.get<std::int64_t>();
}

Result<std::int64_t> Minor(const json& object, std::string_view at, std::string_view name) {
  const json& value = object.at(std::string(name));
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
    return InvalidArgument(Path(at, name) + ": expected an integer >= 0");
  }
  return value.get<std::int64_t>();
}

Result<const Currency*> CurrencyMember(const json& object, std::string_view at) {
  TS_ASSIGN_OR_RETURN(const std::string alpha, Text(object, at, "currency", 3));
  auto currency = CurrencyByAlpha(alpha);
  if (!currency.ok()) {
    return InvalidArgument(Path(at, "currency") + ": \"" + alpha + "\" is not an ISO 4217 code");
  }
  return *currency;
}

// The "platform" member of a merchant, operator or agent: one of `platform_ids`.
Result<std::string> PlatformMember(const json& object, const std::string& at,
                                   const std::set<std::string>& platform_ids) {
  TS_ASSIGN_OR_RETURN(std::string platform_id, Text(object, at, "platform", kPlatformIdBytesMax));
  if (!platform_ids.contains(platform_id)) {
    return InvalidArgument(at + ".platform: \"" + platform_id + "\" is not a platform");
  }
  return platform_id;
}

// Refund operators and agents: a prefunded party of one platform,
// {"platform", "id": [a-z0-9-] 1-id_bytes_max, "name", "prefund_minor"}, listed at most
// `count_max` times under root[member]. Ids are unique within the list.
template <typename Party>
Result<std::vector<Party>> ParsePrefundedParties(const json& list, const std::string& member,
                                                 std::size_t count_max, std::string_view noun,
                                                 std::size_t id_bytes_max,
                                                 const std::set<std::string>& platform_ids) {
  if (!list.is_array() || list.size() > count_max) {
    return InvalidArgument(member + ": expected an array of at most " + std::to_string(count_max) +
                           " " + std::string(noun));
  }
  std::vector<Party> parties;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = member + "[" + std::to_string(i) + "]";
    TS_RETURN_IF_ERROR(CheckMembers(list[i], at, {"platform", "id", "name", "prefund_minor"}));
    Party party;
    TS_ASSIGN_OR_RETURN(party.platform_id, PlatformMember(list[i], at, platform_ids));
    TS_ASSIGN_OR_RETURN(party.id, Text(list[i], at, "id", id_bytes_max));
    const bool id_ok = std::all_of(party.id.begin(), party.id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!id_ok) {
      return InvalidArgument(at + ".id: expected 1-" + std::to_string(id_bytes_max) +
                             " of a-z 0-9 -");
    }
    TS_ASSIGN_OR_RETURN(party.name, Text(list[i], at, "name", kDisplayNameBytesMax));
    TS_ASSIGN_OR_RETURN(party.prefund_minor, Minor(list[i], at, "prefund_minor"));
    if (!ids.insert(party.id).second) {
      return InvalidArgument(at + ".id: \"" + party.id + "\" is listed twice");
    }
    parties.push_back(std::move(party));
  }
  return parties;
}

Result<PlatformInfo> ParsePlatform(const json& object, const std::string& at) {
  TS_RETURN_IF_ERROR(CheckMembers(
      object, at, {"id", "name", "currency", "country", "utc_offset_minutes", "levels"}));
  PlatformInfo p;
  TS_ASSIGN_OR_RETURN(p.id, Text(object, at, "id", kPlatformIdBytesMax));
  TS_ASSIGN_OR_RETURN(p.name, Text(object, at, "name", kDisplayNameBytesMax));
  TS_ASSIGN_OR_RETURN(p.currency, CurrencyMember(object, at));
  TS_ASSIGN_OR_RETURN(p.country, Text(object, at, "country", 2));
  if (!CountryByAlpha2(p.country).ok()) {
    return InvalidArgument(at + ".country: \"" + p.country + "\" is not an ISO 3166-1 code");
  }
  TS_ASSIGN_OR_RETURN(p.utc_offset_minutes, Integer(object, at, "utc_offset_minutes", -720, 840));
  const json& levels = object["levels"];
  if (!levels.is_array() || levels.size() != kLevelHighest) {
    return InvalidArgument(at + ".levels: expected an array of the levels 1-3");
  }
  p.levels.resize(kLevelHighest);
  std::set<int> seen;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const std::string lat = at + ".levels[" + std::to_string(i) + "]";
    TS_RETURN_IF_ERROR(CheckMembers(
        levels[i], lat,
        {"level", "verified_with", "daily_max_minor", "yearly_max_minor", "balance_max_minor"}));
    LevelLimits limits;
    TS_ASSIGN_OR_RETURN(const std::int64_t level,
                        Integer(levels[i], lat, "level", kLevelLowest, kLevelHighest));
    limits.level = static_cast<int>(level);
    if (!seen.insert(limits.level).second) {
      return InvalidArgument(lat + ".level: level " + std::to_string(level) + " is listed twice");
    }
    TS_ASSIGN_OR_RETURN(limits.verified_with,
                        Text(levels[i], lat, "verified_with", kDisplayNameBytesMax));
    TS_ASSIGN_OR_RETURN(limits.daily_max_minor, Minor(levels[i], lat, "daily_max_minor"));
    TS_ASSIGN_OR_RETURN(limits.yearly_max_minor, Minor(levels[i], lat, "yearly_max_minor"));
    TS_ASSIGN_OR_RETURN(limits.balance_max_minor, Minor(levels[i], lat, "balance_max_minor"));
    p.levels[static_cast<std::size_t>(limits.level - 1)] = std::move(limits);
  }
  return p;
}

}  // namespace

Result<const PlatformInfo*> QrpayConfig::Platform(std::string_view id) const {
  for (const PlatformInfo& p : platforms) {
    if (p.id == id) return &p;
  }
  return NotFound("platform \"" + std::string(id) + "\" is not configured");
}

Result<const MerchantProfile*> QrpayConfig::Merchant(std::string_view merchant_id) const {
  for (const MerchantProfile& m : merchants) {
    if (m.merchant_id == merchant_id) return &m;
  }
  return NotFound("merchant \"" + std::string(merchant_id) + "\" is not registered");
}

Result<const RefundOperatorInfo*> QrpayConfig::RefundOperator(std::string_view id) const {
  for (const RefundOperatorInfo& op : refund_operators) {
    if (op.id == id) return &op;
  }
  return NotFound("refund operator \"" + std::string(id) + "\" is not registered");
}

Result<const AgentInfo*> QrpayConfig::Agent(std::string_view id) const {
  for (const AgentInfo& agent : agents) {
    if (agent.id == id) return &agent;
  }
  return NotFound("agent \"" + std::string(id) + "\" is not registered");
}

Result<const LevelLimits*> QrpayConfig::Level(std::string_view platform_id, int level) const {
  TS_ASSIGN_OR_RETURN(const PlatformInfo* platform, Platform(platform_id));
  if (level < kLevelLowest || level > kLevelHighest) {
    return NotFound("level " + std::to_string(level) + " is not configured (levels are 1-3)");
  }
  return &platform->levels[static_cast<std::size_t>(level - 1)];
}

Result<QrpayConfig> ParseQrpayConfig(std::string_view json_text) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgument("qrpay config: not JSON");
  TS_RETURN_IF_ERROR(CheckMembers(root, "",
                                  {"markup_bps", "quote_validity_seconds", "platforms", "merchants",
                                   "refund_operators", "visitor_cards"},
                                  {"note", "sources", "agents"}));
  QrpayConfig config;
  TS_ASSIGN_OR_RETURN(config.markup_bps, Integer(root, "", "markup_bps", 0, kBasisPointsMax));
  TS_ASSIGN_OR_RETURN(config.quote_validity_seconds,
                      Integer(root, "", "quote_validity_seconds", 1, kQuoteValiditySecondsMax));

  const json& platforms = root["platforms"];
  if (!platforms.is_array() || platforms.empty() || platforms.size() > kPlatformsMax) {
    return InvalidArgument("platforms: expected an array of 1-" + std::to_string(kPlatformsMax) +
                           " platforms");
  }
  std::set<std::string> platform_ids;
  for (std::size_t i = 0; i < platforms.size(); ++i) {
    TS_ASSIGN_OR_RETURN(PlatformInfo p,
                        ParsePlatform(platforms[i], "platforms[" + std::to_string(i) + "]"));
    if (!platform_ids.insert(p.id).second) {
      return InvalidArgument("platforms[" + std::to_string(i) + "].id: \"" + p.id +
                             "\" is listed twice");
    }
    config.platforms.push_back(std::move(p));
  }

  const json& merchants = root["merchants"];
  if (!merchants.is_array() || merchants.size() > kQrMerchantsMax) {
    return InvalidArgument("merchants: expected an array of at most " +
                           std::to_string(kQrMerchantsMax) + " merchants");
  }
  // A merchant the QR rules refuse would fail at the first code; refuse it at load instead.
  const crypto::SecretBytes probe_key = crypto::SecretBytes::Zeroed(kMerchantQrKeyBytesMin);
  std::set<std::string> merchant_ids;
  for (std::size_t i = 0; i < merchants.size(); ++i) {
    const std::string at = "merchants[" + std::to_string(i) + "]";
    TS_RETURN_IF_ERROR(CheckMembers(
        merchants[i], at, {"platform", "id", "name", "city", "country", "currency", "mcc"}));
    MerchantProfile m;
    TS_ASSIGN_OR_RETURN(m.platform_id, PlatformMember(merchants[i], at, platform_ids));
    TS_ASSIGN_OR_RETURN(m.merchant_id, Text(merchants[i], at, "id", kMerchantIdBytesMax));
    TS_ASSIGN_OR_RETURN(m.name, Text(merchants[i], at, "name", kDisplayNameBytesMax));
    TS_ASSIGN_OR_RETURN(m.city, Text(merchants[i], at, "city", kDisplayNameBytesMax));
    TS_ASSIGN_OR_RETURN(m.country, Text(merchants[i], at, "country", 2));
    TS_ASSIGN_OR_RETURN(m.currency, CurrencyMember(merchants[i], at));
    TS_ASSIGN_OR_RETURN(m.mcc, Text(merchants[i], at, "mcc", 4));
    const auto code = MakeStaticMerchantQr(m, probe_key);
    if (!code.ok()) return InvalidArgument(at + ": " + code.status().message());
    if (!merchant_ids.insert(m.merchant_id).second) {
      return InvalidArgument(at + ".id: \"" + m.merchant_id + "\" is listed twice");
    }
    config.merchants.push_back(std::move(m));
  }

  TS_ASSIGN_OR_RETURN(config.refund_operators,
                      ParsePrefundedParties<RefundOperatorInfo>(
                          root["refund_operators"], "refund_operators", kRefundOperatorsMax,
                          "operators", kRefundOperatorIdBytesMax, platform_ids));
  if (root.contains("agents")) {
    TS_ASSIGN_OR_RETURN(config.agents,
                        ParsePrefundedParties<AgentInfo>(root["agents"], "agents", kAgentsMax,
                                                         "agents", kAgentIdBytesMax, platform_ids));
  }

  const json& cards = root["visitor_cards"];
  const std::string at = "visitor_cards";
  TS_RETURN_IF_ERROR(CheckMembers(cards, at,
                                  {"home_country", "per_transaction_max_usd_minor",
                                   "yearly_max_usd_minor", "fee_free_up_to_minor", "fee_bps"}));
  TS_ASSIGN_OR_RETURN(config.visitor_cards.home_country, Text(cards, at, "home_country", 2));
  if (!CountryByAlpha2(config.visitor_cards.home_country).ok()) {
    return InvalidArgument(at + ".home_country: expected an ISO 3166-1 alpha-2 code");
  }
  TS_ASSIGN_OR_RETURN(config.visitor_cards.per_transaction_max_usd_minor,
                      Minor(cards, at, "per_transaction_max_usd_minor"));
  TS_ASSIGN_OR_RETURN(config.visitor_cards.yearly_max_usd_minor,
                      Minor(cards, at, "yearly_max_usd_minor"));
  TS_ASSIGN_OR_RETURN(config.visitor_cards.fee_free_up_to_minor,
                      Minor(cards, at, "fee_free_up_to_minor"));
  TS_ASSIGN_OR_RETURN(config.visitor_cards.fee_bps,
                      Integer(cards, at, "fee_bps", 0, kBasisPointsMax));
  return config;
}

Result<QrpayConfig> LoadQrpayConfig(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return NotFound("qrpay config: cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  Result<QrpayConfig> config = ParseQrpayConfig(text.str());
  if (!config.ok()) return config.status().WithContext(path.string());
  return config;
}

}  // namespace tapstack::qrpay
