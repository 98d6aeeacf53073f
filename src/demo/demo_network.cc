#include "demo/demo_network.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/hex.h"
#include "core/pan.h"

namespace tapstack::demo {

namespace {

using nlohmann::json;

Result<std::string> Text(const json& j, const std::string& where, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) {
    return InvalidArgument(where + ": \"" + key + "\" must be a string");
  }
  return j[key].get<std::string>();
}

Result<std::vector<DemoBinRange>> Ranges(const json& j, const std::string& where, const char* key) {
  std::vector<DemoBinRange> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) return InvalidArgument(where + ": \"" + key + "\" must be an array");
  for (const json& r : j[key]) {
    TS_ASSIGN_OR_RETURN(std::string low, Text(r, where + "." + key, "low"));
    TS_ASSIGN_OR_RETURN(std::string high, Text(r, where + "." + key, "high"));
    if (!IsAllDigits(low) || low.size() != 8 || high.size() != 8 || !IsAllDigits(high) || low > high) {
      return InvalidArgument(where + "." + key + ": ranges are 8-digit low <= high");
    }
    out.push_back({low, high});
  }
  return out;
}

Result<DemoTsp> ParseTsp(const json& doc) {
  DemoTsp tsp;
  if (!doc.contains("tsp")) return tsp;
  const json& t = doc["tsp"];
  if (!t.is_object()) return InvalidArgument("tsp: must be an object");
  TS_ASSIGN_OR_RETURN(tsp.institution_id, Text(t, "tsp", "institution_id"));
  if (tsp.institution_id.size() != 8 || !IsAllDigits(tsp.institution_id)) {
    return InvalidArgument("tsp.institution_id: expected 8 digits");
  }
  TS_ASSIGN_OR_RETURN(tsp.par_bin_prefix, Text(t, "tsp", "par_bin_prefix"));
  TS_ASSIGN_OR_RETURN(std::vector<DemoBinRange> ranges, Ranges(t, "tsp", "token_bin_ranges"));
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const std::string where = "tsp.token_bin_ranges[" + std::to_string(i) + "]";
    TS_ASSIGN_OR_RETURN(std::string profile, Text(t["token_bin_ranges"][i], where, "profile"));
    tsp.token_ranges.push_back({ranges[i].low, ranges[i].high, std::move(profile)});
  }
  for (std::size_t i = 0; i < t.value("token_requestors", json::array()).size(); ++i) {
    const json& r = t["token_requestors"][i];
    const std::string where = "tsp.token_requestors[" + std::to_string(i) + "]";
    TS_ASSIGN_OR_RETURN(std::string id, Text(r, where, "id"));
    if (id.size() != 11 || !IsAllDigits(id)) return InvalidArgument(where + ".id: expected 11 digits");
    TS_ASSIGN_OR_RETURN(std::string name, Text(r, where, "name"));
    tsp.requestors.push_back({std::move(id), std::move(name)});
  }
  return tsp;
}

}  // namespace

const DemoBank* DemoNetwork::BankById(std::string_view institution_id) const {
  for (const DemoBank& b : banks) {
    if (b.institution_id == institution_id) return &b;
  }
  return nullptr;
}

const DemoBank* DemoNetwork::BankForPan(std::string_view pan) const {
  if (pan.size() < 8) return nullptr;
  const std::string_view bin = pan.substr(0, 8);
  for (const DemoBank& b : banks) {
    for (const auto* list : {&b.credit_bins, &b.debit_bins}) {
      for (const DemoBinRange& r : *list) {
        if (bin >= r.low && bin <= r.high) return &b;
      }
    }
  }
  return nullptr;
}

Result<DemoNetwork> ParseDemoNetwork(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("demo network: not a JSON object");
  DemoNetwork net;
  TS_ASSIGN_OR_RETURN(net.network_institution_id, Text(doc, "demo network", "network_institution_id"));
  TS_ASSIGN_OR_RETURN(net.fx_source, Text(doc, "demo network", "fx_source"));
  TS_ASSIGN_OR_RETURN(net.fx_business_date, Text(doc, "demo network", "fx_business_date"));
  for (std::size_t i = 0; i < doc.value("banks", json::array()).size(); ++i) {
    const json& b = doc["banks"][i];
    const std::string where = "banks[" + std::to_string(i) + "]";
    DemoBank bank;
    TS_ASSIGN_OR_RETURN(bank.institution_id, Text(b, where, "institution_id"));
    TS_ASSIGN_OR_RETURN(bank.name, Text(b, where, "name"));
    TS_ASSIGN_OR_RETURN(bank.short_name, Text(b, where, "short_name"));
    TS_ASSIGN_OR_RETURN(bank.country, Text(b, where, "country"));
    TS_ASSIGN_OR_RETURN(std::string currency, Text(b, where, "currency"));
    TS_ASSIGN_OR_RETURN(bank.currency, CurrencyByAlpha(currency));
    TS_ASSIGN_OR_RETURN(bank.credit_bins, Ranges(b, where, "credit_bins"));
    TS_ASSIGN_OR_RETURN(bank.debit_bins, Ranges(b, where, "debit_bins"));
    if (bank.institution_id.size() != 8 || !IsAllDigits(bank.institution_id)) {
      return InvalidArgument(where + ": institution_id must be 8 digits");
    }
    bank.cardholders = b.value("cardholders", 0);
    if (bank.cardholders < 0 || bank.cardholders > 9'999'999) {
      return InvalidArgument(where + ": cardholders must be 0-9999999");
    }
    bank.idv_decision = b.value("idv_decision", std::string("step_up"));
    if (bank.idv_decision != "step_up" && bank.idv_decision != "approve" &&
        bank.idv_decision != "decline") {
      return InvalidArgument(where + ": idv_decision must be step_up, approve or decline");
    }
    if (b.contains("stand_in")) {
      bank.stand_in.approve_within_limits = b["stand_in"].value("approve_within_limits", true);
      bank.stand_in.per_transaction_limit_minor = b["stand_in"].value("per_transaction_limit_minor", 0);
    }
    net.banks.push_back(std::move(bank));
  }
  for (std::size_t i = 0; i < doc.value("merchants", json::array()).size(); ++i) {
    const json& m = doc["merchants"][i];
    const std::string where = "merchants[" + std::to_string(i) + "]";
    DemoMerchant merchant;
    TS_ASSIGN_OR_RETURN(merchant.merchant_id, Text(m, where, "merchant_id"));
    TS_ASSIGN_OR_RETURN(merchant.terminal_id, Text(m, where, "terminal_id"));
    TS_ASSIGN_OR_RETURN(merchant.name, Text(m, where, "name"));
    TS_ASSIGN_OR_RETURN(merchant.city, Text(m, where, "city"));
    TS_ASSIGN_OR_RETURN(merchant.country, Text(m, where, "country"));
    TS_ASSIGN_OR_RETURN(std::string currency, Text(m, where, "currency"));
    TS_ASSIGN_OR_RETURN(merchant.currency, CurrencyByAlpha(currency));
    TS_ASSIGN_OR_RETURN(merchant.mcc, Text(m, where, "mcc"));
    TS_ASSIGN_OR_RETURN(merchant.acquirer_id, Text(m, where, "acquirer_id"));
    TS_RETURN_IF_ERROR(CountryByAlpha2(merchant.country).status().WithContext(where));
    if (merchant.merchant_id.size() != 15 || merchant.terminal_id.size() != 8 || merchant.mcc.size() != 4) {
      return InvalidArgument(where + ": merchant_id is 15, terminal_id 8 and mcc 4 characters");
    }
    net.merchants.push_back(std::move(merchant));
  }
  for (const json& r : doc.value("fx_rates", json::array())) {
    TS_ASSIGN_OR_RETURN(std::string from, Text(r, "fx_rates", "from"));
    TS_ASSIGN_OR_RETURN(std::string to, Text(r, "fx_rates", "to"));
    TS_ASSIGN_OR_RETURN(std::string rate, Text(r, "fx_rates", "rate"));
    net.fx_rates.push_back({from, to, rate});
  }
  TS_ASSIGN_OR_RETURN(net.tsp, ParseTsp(doc));
  return net;
}

Result<DemoNetwork> LoadDemoNetwork(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return ParseDemoNetwork(text.str());
}

Result<std::filesystem::path> DefaultSeedPath() {
  for (const std::filesystem::path& p :
       {std::filesystem::path(TAPSTACK_SOURCE_DIR) / "seed" / "demo_network.json",
        std::filesystem::path("seed") / "demo_network.json"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return NotFound("seed/demo_network.json not found");
}

Result<std::string> DemoCardNumber(const DemoBank& bank, CardKind kind, int index) {
  const auto& ranges = kind == CardKind::kCredit ? bank.credit_bins : bank.debit_bins;
  if (ranges.empty()) {
    return InvalidArgument(bank.short_name + " issues no " + (kind == CardKind::kCredit ? "credit" : "debit") + " cards");
  }
  if (index < 0 || index >= bank.cardholders) {
    return OutOfRange("card index " + std::to_string(index) + " outside 0-" + std::to_string(bank.cardholders - 1));
  }
  std::string digits = std::to_string(index);
  std::string payload = ranges.front().low + std::string(7 - digits.size(), '0') + digits;
  TS_ASSIGN_OR_RETURN(char check, LuhnCheckDigit(payload));
  return payload + check;
}

}  // namespace tapstack::demo
