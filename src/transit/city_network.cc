#include "transit/city_network.h"

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <queue>
#include <set>
#include <utility>

#include "core/hex.h"

namespace tapstack::transit {

namespace {

using nlohmann::json;

// A JSON object at `path` (e.g. "metro.lines[1]"), read field by field with errors that name
// the full path and what was expected.
class Fields {
 public:
  static Result<Fields> Of(const json& j, std::string path) {
    if (!j.is_object()) return InvalidArgument(Label(path) + ": expected an object");
    return Fields(j, std::move(path));
  }

  // Refuses keys outside `allowed` (a misspelt optional field would otherwise be ignored).
  Status OnlyKeys(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : j_.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return InvalidArgument(Path(key) + ": unknown field; expected one of " + list);
      }
    }
    return Status::Ok();
  }

  bool Has(const char* key) const { return j_.contains(key); }
  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  Result<std::string> Text(const char* key) const {
    if (!j_.contains(key)) return InvalidArgument(Path(key) + ": missing; expected a string");
    if (!j_[key].is_string() || j_[key].get<std::string>().empty()) {
      return InvalidArgument(Path(key) + ": expected a non-empty string, got " + j_[key].dump());
    }
    return j_[key].get<std::string>();
  }

  // A string of exactly `count` decimal digits.
  Result<std::string> Digits(const char* key, std::size_t count) const {
    TS_ASSIGN_OR_RETURN(std::string s, Text(key));
    if (s.size() != count || !IsAllDigits(s)) {
      return InvalidArgument(Path(key) + ": expected " + std::to_string(count) +
                             " decimal digits, got \"" + s + "\"");
    }
    return s;
  }

  // An integer in [min, max]; floats ("6.1") and negative numbers are refused.
  Result<std::uint32_t> Uint(const char* key, std::uint32_t min, std::uint32_t max) const {
    const std::string expected =
        "expected an integer " + std::to_string(min) + "-" + std::to_string(max);
    if (!j_.contains(key)) return InvalidArgument(Path(key) + ": missing; " + expected);
    const json& v = j_[key];
    // The parser stores non-negative literals as unsigned; values built in code may be signed.
    const bool non_negative =
        v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
    if (!non_negative || v.get<std::uint64_t>() < min || v.get<std::uint64_t>() > max) {
      return InvalidArgument(Path(key) + ": " + expected + ", got " + v.dump());
    }
    return static_cast<std::uint32_t>(v.get<std::uint64_t>());
  }

  Result<bool> Bool(const char* key) const {
    if (!j_.contains(key)) return InvalidArgument(Path(key) + ": missing; expected true or false");
    if (!j_[key].is_boolean()) {
      return InvalidArgument(Path(key) + ": expected true or false, got " + j_[key].dump());
    }
    return j_[key].get<bool>();
  }

  // An array of min..max elements.
  Result<const json*> Array(const char* key, std::size_t min, std::size_t max) const {
    const std::string expected =
        "expected an array of " + std::to_string(min) + "-" + std::to_string(max) + " entries";
    if (!j_.contains(key)) return InvalidArgument(Path(key) + ": missing; " + expected);
    const json& v = j_[key];
    if (!v.is_array() || v.size() < min || v.size() > max) {
      return InvalidArgument(Path(key) + ": " + expected +
                             (v.is_array() ? ", got " + std::to_string(v.size()) : ""));
    }
    return &v;
  }

  Result<Fields> Child(const char* key) const {
    if (!j_.contains(key)) return InvalidArgument(Path(key) + ": missing; expected an object");
    return Of(j_[key], Path(key));
  }

  // Accepts "note" (a string) and "sources" (an array of strings), allowed on any object that
  // lists them in OnlyKeys: documentation, not configuration.
  Status Documentation() const {
    if (j_.contains("note") && !j_["note"].is_string()) {
      return InvalidArgument(Path("note") + ": expected a string");
    }
    if (j_.contains("sources")) {
      const json& s = j_["sources"];
      if (!s.is_array() ||
          !std::all_of(s.begin(), s.end(), [](const json& e) { return e.is_string(); })) {
        return InvalidArgument(Path("sources") + ": expected an array of strings");
      }
    }
    return Status::Ok();
  }

 private:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  static std::string Label(const std::string& path) { return path.empty() ? "city" : path; }

  const json& j_;
  std::string path_;
};

std::string Indexed(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Result<CardRules> ParseCardRules(const Fields& f) {
  TS_RETURN_IF_ERROR(
      f.OnlyKeys({"opening_fee_fen", "deposit_fen", "balance_cap_fen", "top_up_min_fen",
                  "top_up_max_fen", "migrations_per_year", "refund_on_delete", "note"}));
  TS_RETURN_IF_ERROR(f.Documentation());
  CardRules r;
  TS_ASSIGN_OR_RETURN(r.opening_fee_fen, f.Uint("opening_fee_fen", 0, kCardAmountFenMax));
  TS_ASSIGN_OR_RETURN(r.deposit_fen, f.Uint("deposit_fen", 0, kCardAmountFenMax));
  TS_ASSIGN_OR_RETURN(r.balance_cap_fen, f.Uint("balance_cap_fen", 1, kCardAmountFenMax));
  TS_ASSIGN_OR_RETURN(r.top_up_min_fen, f.Uint("top_up_min_fen", 1, r.balance_cap_fen));
  TS_ASSIGN_OR_RETURN(r.top_up_max_fen,
                      f.Uint("top_up_max_fen", r.top_up_min_fen, r.balance_cap_fen));
  TS_ASSIGN_OR_RETURN(r.migrations_per_year,
                      f.Uint("migrations_per_year", 0, kMigrationsPerYearMax));
  TS_ASSIGN_OR_RETURN(r.refund_on_delete, f.Bool("refund_on_delete"));
  return r;
}

Status ParseDistanceFares(const Fields& f, MetroConfig& metro) {
  TS_ASSIGN_OR_RETURN(const json* bands, f.Array("distance_bands", 1, kFareBandsMax));
  for (std::size_t i = 0; i < bands->size(); ++i) {
    TS_ASSIGN_OR_RETURN(Fields b, Fields::Of((*bands)[i], Indexed(f.Path("distance_bands"), i)));
    TS_RETURN_IF_ERROR(b.OnlyKeys({"up_to_m", "fare_fen"}));
    FareBand band;
    const std::uint32_t min_m = metro.bands.empty() ? 1 : metro.bands.back().up_to_m + 1;
    const std::uint32_t min_fare = metro.bands.empty() ? 1 : metro.bands.back().fare_fen;
    // Each band reaches further than the previous one and costs no less.
    TS_ASSIGN_OR_RETURN(band.up_to_m, b.Uint("up_to_m", min_m, kLinePositionMetresMax));
    TS_ASSIGN_OR_RETURN(band.fare_fen, b.Uint("fare_fen", min_fare, kFareFenMax));
    metro.bands.push_back(band);
  }
  TS_ASSIGN_OR_RETURN(Fields beyond, f.Child("beyond_last_band"));
  TS_RETURN_IF_ERROR(beyond.OnlyKeys({"every_m", "fare_fen"}));
  TS_ASSIGN_OR_RETURN(metro.extra_step_m, beyond.Uint("every_m", 1, kLinePositionMetresMax));
  TS_ASSIGN_OR_RETURN(metro.extra_fare_fen, beyond.Uint("fare_fen", 1, kFareFenMax));
  return Status::Ok();
}

Status ParseMetroLines(const Fields& f, MetroConfig& metro) {
  TS_ASSIGN_OR_RETURN(const json* lines, f.Array("lines", 1, kMetroLinesPerCityMax));
  std::set<std::uint16_t> line_ids;
  for (std::size_t i = 0; i < lines->size(); ++i) {
    TS_ASSIGN_OR_RETURN(Fields l, Fields::Of((*lines)[i], Indexed(f.Path("lines"), i)));
    TS_RETURN_IF_ERROR(l.OnlyKeys({"id", "name", "stations"}));
    MetroLine line;
    TS_ASSIGN_OR_RETURN(std::uint32_t id, l.Uint("id", 1, 0xFFFF));
    line.id = static_cast<std::uint16_t>(id);
    if (!line_ids.insert(line.id).second) {
      return InvalidArgument(l.Path("id") + ": line " + std::to_string(id) + " is listed twice");
    }
    TS_ASSIGN_OR_RETURN(line.name, l.Text("name"));
    TS_ASSIGN_OR_RETURN(const json* stations, l.Array("stations", 2, kStationsPerLineMax));
    std::set<std::uint16_t> on_this_line;
    for (std::size_t k = 0; k < stations->size(); ++k) {
      TS_ASSIGN_OR_RETURN(Fields s, Fields::Of((*stations)[k], Indexed(l.Path("stations"), k)));
      TS_RETURN_IF_ERROR(s.OnlyKeys({"id", "name", "position_m"}));
      TS_ASSIGN_OR_RETURN(std::uint32_t station_id, s.Uint("id", 1, 0xFFFF));
      TS_ASSIGN_OR_RETURN(std::string name, s.Text("name"));
      const std::uint32_t min_m = line.stops.empty() ? 0 : line.stops.back().position_m + 1;
      // Strictly increasing: a segment of zero length would make two stations one.
      TS_ASSIGN_OR_RETURN(std::uint32_t position_m,
                          s.Uint("position_m", min_m, kLinePositionMetresMax));
      const auto sid = static_cast<std::uint16_t>(station_id);
      if (!on_this_line.insert(sid).second) {
        return InvalidArgument(s.Path("id") + ": station " + std::to_string(sid) +
                               " appears twice on line " + std::to_string(line.id));
      }
      // The same id on another line is an interchange: it must be the same station.
      auto [it, inserted] = metro.stations.try_emplace(sid, Station{sid, name});
      if (!inserted && it->second.name != name) {
        return InvalidArgument(s.Path("name") + ": station " + std::to_string(sid) + " is \"" +
                               it->second.name + "\" on another line, got \"" + name + "\"");
      }
      line.stops.push_back({sid, position_m});
    }
    metro.lines.push_back(std::move(line));
  }
  return Status::Ok();
}

Result<MetroConfig> ParseMetro(const Fields& f) {
  TS_RETURN_IF_ERROR(f.OnlyKeys({"fare_model", "distance_bands", "beyond_last_band",
                                 "flat_fare_fen", "max_trip_minutes", "lines", "note", "sources"}));
  TS_RETURN_IF_ERROR(f.Documentation());
  MetroConfig metro;
  TS_ASSIGN_OR_RETURN(std::string model, f.Text("fare_model"));
  if (model == "distance") {
    metro.fare_model = MetroFareModel::kDistance;
    if (f.Has("flat_fare_fen")) {
      return InvalidArgument(f.Path("flat_fare_fen") + ": not used by fare_model \"distance\"");
    }
    TS_RETURN_IF_ERROR(ParseDistanceFares(f, metro));
  } else if (model == "flat") {
    metro.fare_model = MetroFareModel::kFlat;
    for (const char* key : {"distance_bands", "beyond_last_band"}) {
      if (f.Has(key)) return InvalidArgument(f.Path(key) + ": not used by fare_model \"flat\"");
    }
    TS_ASSIGN_OR_RETURN(metro.flat_fare_fen, f.Uint("flat_fare_fen", 1, kFareFenMax));
  } else {
    return InvalidArgument(f.Path("fare_model") + ": expected \"distance\" or \"flat\", got \"" +
                           model + "\"");
  }
  TS_ASSIGN_OR_RETURN(metro.max_trip_minutes, f.Uint("max_trip_minutes", 1, kMaxTripMinutesMax));
  TS_RETURN_IF_ERROR(ParseMetroLines(f, metro));
  return metro;
}

Result<BusConfig> ParseBus(const Fields& f) {
  TS_RETURN_IF_ERROR(f.OnlyKeys({"default_fare_fen", "lines", "note", "sources"}));
  TS_RETURN_IF_ERROR(f.Documentation());
  BusConfig bus;
  if (f.Has("default_fare_fen")) {
    TS_ASSIGN_OR_RETURN(bus.default_fare_fen, f.Uint("default_fare_fen", 1, kFareFenMax));
  }
  if (f.Has("lines")) {
    TS_ASSIGN_OR_RETURN(const json* lines, f.Array("lines", 1, kBusLinesPerCityMax));
    std::set<std::uint16_t> ids;
    for (std::size_t i = 0; i < lines->size(); ++i) {
      TS_ASSIGN_OR_RETURN(Fields l, Fields::Of((*lines)[i], Indexed(f.Path("lines"), i)));
      TS_RETURN_IF_ERROR(l.OnlyKeys({"id", "name", "fare_fen"}));
      BusLine line;
      TS_ASSIGN_OR_RETURN(std::uint32_t id, l.Uint("id", 1, 0xFFFF));
      line.id = static_cast<std::uint16_t>(id);
      if (!ids.insert(line.id).second) {
        return InvalidArgument(l.Path("id") + ": bus line " + std::to_string(id) +
                               " is listed twice");
      }
      TS_ASSIGN_OR_RETURN(line.name, l.Text("name"));
      TS_ASSIGN_OR_RETURN(line.fare_fen, l.Uint("fare_fen", 1, kFareFenMax));
      bus.lines.push_back(std::move(line));
    }
  }
  if (!bus.default_fare_fen && bus.lines.empty()) {
    return InvalidArgument(f.Path("default_fare_fen") +
                           ": missing; a bus section needs default_fare_fen or lines");
  }
  return bus;
}

Result<TransferRule> ParseTransfer(const Fields& f, bool has_metro, bool has_bus) {
  TS_RETURN_IF_ERROR(f.OnlyKeys(
      {"window_minutes", "discount_fen", "pairs", "max_discounted_per_chain", "note", "sources"}));
  TS_RETURN_IF_ERROR(f.Documentation());
  TransferRule rule;
  TS_ASSIGN_OR_RETURN(rule.window_minutes, f.Uint("window_minutes", 1, kTransferWindowMinutesMax));
  TS_ASSIGN_OR_RETURN(rule.discount_fen, f.Uint("discount_fen", 1, kFareFenMax));
  TS_ASSIGN_OR_RETURN(std::uint32_t max_chain, f.Uint("max_discounted_per_chain", 1, 0xFF));
  rule.max_discounted_per_chain = static_cast<std::uint8_t>(max_chain);
  TS_ASSIGN_OR_RETURN(const json* pairs, f.Array("pairs", 1, 3));
  for (std::size_t i = 0; i < pairs->size(); ++i) {
    const std::string path = Indexed(f.Path("pairs"), i);
    const json& p = (*pairs)[i];
    const std::string pair = p.is_string() ? p.get<std::string>() : "";
    bool* flag = nullptr;
    bool needs_metro = true;
    if (pair == "metro->bus") {
      flag = &rule.metro_to_bus;
    } else if (pair == "bus->metro") {
      flag = &rule.bus_to_metro;
    } else if (pair == "bus->bus") {
      flag = &rule.bus_to_bus;
      needs_metro = false;
    } else {
      return InvalidArgument(
          path + ": expected \"metro->bus\", \"bus->metro\" or \"bus->bus\", got " + p.dump());
    }
    if (*flag) return InvalidArgument(path + ": \"" + pair + "\" is listed twice");
    if ((needs_metro && !has_metro) || !has_bus) {
      return InvalidArgument(path + ": \"" + pair + "\" needs " +
                             (needs_metro ? "both metro and bus" : "bus") + " in this city");
    }
    *flag = true;
  }
  return rule;
}

}  // namespace

std::string CityNetwork::Label() const { return "city " + city_code_ + " (" + name_ + ")"; }

Result<CityNetwork> CityNetwork::Parse(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return InvalidArgument("city: not valid JSON");
  return FromJson(doc);
}

Result<CityNetwork> CityNetwork::FromJson(const nlohmann::json& city) {
  TS_ASSIGN_OR_RETURN(Fields f, Fields::Of(city, ""));
  CityNetwork net;
  {
    auto code = f.Digits("city_code", 4);
    if (!code.ok()) return code.status().WithContext("city");
    net.city_code_ = *code;
    auto name = f.Text("name");
    if (!name.ok()) return name.status().WithContext("city " + net.city_code_);
    net.name_ = *name;
  }
  // From here on every error names the city.
  auto parse_rest = [&]() -> Status {
    TS_RETURN_IF_ERROR(f.OnlyKeys({"city_code", "name", "province_code", "operator_institution_id",
                                   "issuer_id", "purse_algorithm", "key_version", "card_rules",
                                   "metro", "bus", "transfer", "note", "sources"}));
    TS_RETURN_IF_ERROR(f.Documentation());
    TS_ASSIGN_OR_RETURN(net.province_code_, f.Digits("province_code", 4));
    TS_ASSIGN_OR_RETURN(net.operator_institution_id_, f.Digits("operator_institution_id", 8));
    TS_ASSIGN_OR_RETURN(std::string issuer_hex, f.Text("issuer_id"));
    auto issuer = HexDecode(issuer_hex);
    if (!issuer.ok() || issuer->size() != kIssuerIdBytes) {
      return InvalidArgument("issuer_id: expected 16 hex digits (8 bytes), got \"" + issuer_hex +
                             "\"");
    }
    std::copy(issuer->begin(), issuer->end(), net.issuer_id_.begin());
    TS_ASSIGN_OR_RETURN(std::string algorithm, f.Text("purse_algorithm"));
    if (algorithm == "tdes") {
      net.purse_algorithm_ = crypto::PurseAlgorithm::kTdes;
    } else if (algorithm == "sm4") {
      net.purse_algorithm_ = crypto::PurseAlgorithm::kSm4;
    } else {
      return InvalidArgument("purse_algorithm: expected \"tdes\" or \"sm4\", got \"" + algorithm +
                             "\"");
    }
    TS_ASSIGN_OR_RETURN(std::uint32_t key_version, f.Uint("key_version", 1, 0xFF));
    net.key_version_ = static_cast<std::uint8_t>(key_version);
    TS_ASSIGN_OR_RETURN(Fields rules, f.Child("card_rules"));
    TS_ASSIGN_OR_RETURN(net.card_rules_, ParseCardRules(rules));
    if (f.Has("metro")) {
      TS_ASSIGN_OR_RETURN(Fields metro, f.Child("metro"));
      TS_ASSIGN_OR_RETURN(net.metro_, ParseMetro(metro));
    }
    if (f.Has("bus")) {
      TS_ASSIGN_OR_RETURN(Fields bus, f.Child("bus"));
      TS_ASSIGN_OR_RETURN(net.bus_, ParseBus(bus));
    }
    if (!net.metro_ && !net.bus_) return InvalidArgument("metro, bus: a city needs at least one");
    if (f.Has("transfer")) {
      TS_ASSIGN_OR_RETURN(Fields transfer, f.Child("transfer"));
      TS_ASSIGN_OR_RETURN(net.transfer_,
                          ParseTransfer(transfer, net.metro_.has_value(), net.bus_.has_value()));
    }
    if (net.metro_) {
      for (const MetroLine& line : net.metro_->lines) {
        for (std::size_t k = 1; k < line.stops.size(); ++k) {
          const LineStop& a = line.stops[k - 1];
          const LineStop& b = line.stops[k];
          const std::uint32_t metres = b.position_m - a.position_m;
          net.adjacency_[a.station_id].emplace_back(b.station_id, metres);
          net.adjacency_[b.station_id].emplace_back(a.station_id, metres);
        }
      }
      // One connected network: otherwise some trips would have no fare.
      const std::uint16_t first = net.metro_->lines.front().stops.front().station_id;
      TS_ASSIGN_OR_RETURN(auto reachable, net.DistancesFrom(first));
      for (const MetroLine& line : net.metro_->lines) {
        if (!reachable.contains(line.stops.front().station_id)) {
          return InvalidArgument("metro.lines: line " + std::to_string(line.id) + " (" + line.name +
                                 ") shares no interchange station with line " +
                                 std::to_string(net.metro_->lines.front().id) +
                                 "; the network must be connected");
        }
      }
    }
    return Status::Ok();
  };
  Status status = parse_rest();
  if (!status.ok()) return status.WithContext(net.Label());
  return net;
}

Result<Station> CityNetwork::StationById(std::uint16_t id) const {
  if (!metro_) return NotFound(Label() + ": no metro, so no station " + std::to_string(id));
  auto it = metro_->stations.find(id);
  if (it == metro_->stations.end()) {
    return NotFound(Label() + ": metro station " + std::to_string(id) + " not found");
  }
  return it->second;
}

Result<std::map<std::uint16_t, std::uint64_t>> CityNetwork::DistancesFrom(
    std::uint16_t from) const {
  TS_RETURN_IF_ERROR(StationById(from).status());
  // Dijkstra: segment lengths are non-negative.
  std::map<std::uint16_t, std::uint64_t> best{{from, 0}};
  using Entry = std::pair<std::uint64_t, std::uint16_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  queue.emplace(0, from);
  while (!queue.empty()) {
    const auto [distance, station] = queue.top();
    queue.pop();
    if (distance > best[station]) continue;  // a stale entry
    auto adj = adjacency_.find(station);
    if (adj == adjacency_.end()) continue;
    for (const auto& [next, metres] : adj->second) {
      const std::uint64_t candidate = distance + metres;
      auto it = best.find(next);
      if (it == best.end() || candidate < it->second) {
        best[next] = candidate;
        queue.emplace(candidate, next);
      }
    }
  }
  return best;
}

Result<std::uint32_t> CityNetwork::MetroDistanceMetres(std::uint16_t from, std::uint16_t to) const {
  TS_RETURN_IF_ERROR(StationById(to).status());
  TS_ASSIGN_OR_RETURN(auto distances, DistancesFrom(from));
  auto it = distances.find(to);
  if (it == distances.end()) {  // parse-time connectivity makes this a bug
    return Internal(Label() + ": no metro path from " + std::to_string(from) + " to " +
                    std::to_string(to));
  }
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(it->second, std::numeric_limits<std::uint32_t>::max()));
}

Result<std::uint32_t> CityNetwork::MetroFareForDistance(std::uint32_t distance_m) const {
  if (!metro_) return NotFound(Label() + ": no metro");
  if (metro_->fare_model == MetroFareModel::kFlat) return metro_->flat_fare_fen;
  for (const FareBand& band : metro_->bands) {
    if (distance_m <= band.up_to_m) return band.fare_fen;
  }
  const FareBand& last = metro_->bands.back();
  // Every started step counts as a whole step.
  const std::uint64_t beyond = distance_m - last.up_to_m;
  const std::uint64_t steps = (beyond + metro_->extra_step_m - 1) / metro_->extra_step_m;
  const std::uint64_t fare = last.fare_fen + steps * metro_->extra_fare_fen;
  if (fare > kFareFenMax) {
    return OutOfRange(Label() + ": metro fare for " + std::to_string(distance_m) +
                      " m exceeds the " + std::to_string(kFareFenMax) + " fen limit");
  }
  return static_cast<std::uint32_t>(fare);
}

Result<std::uint32_t> CityNetwork::MetroFare(std::uint16_t from, std::uint16_t to) const {
  TS_ASSIGN_OR_RETURN(std::uint32_t distance_m, MetroDistanceMetres(from, to));
  return MetroFareForDistance(distance_m);
}

Result<std::uint32_t> CityNetwork::MaxMetroFare(std::uint16_t from) const {
  TS_ASSIGN_OR_RETURN(auto distances, DistancesFrom(from));
  std::uint64_t farthest = 0;
  for (const auto& [station, metres] : distances) farthest = std::max(farthest, metres);
  // Fares never fall with distance (bands are checked at parse time), so the farthest station
  // has the highest fare.
  return MetroFareForDistance(static_cast<std::uint32_t>(
      std::min<std::uint64_t>(farthest, std::numeric_limits<std::uint32_t>::max())));
}

Result<std::uint32_t> CityNetwork::BusFare(std::uint16_t line) const {
  if (!bus_) return NotFound(Label() + ": no buses, so no bus line " + std::to_string(line));
  for (const BusLine& l : bus_->lines) {
    if (l.id == line) return l.fare_fen;
  }
  if (bus_->default_fare_fen) return *bus_->default_fare_fen;
  return NotFound(Label() + ": bus line " + std::to_string(line) +
                  " not found and the city has no default bus fare");
}

std::uint32_t CityNetwork::TransferDiscount(TransitMode previous_mode,
                                            std::int64_t previous_end_unix_seconds,
                                            TransitMode this_mode,
                                            std::int64_t this_start_unix_seconds,
                                            std::uint8_t discounted_transfers_so_far) const {
  if (!transfer_) return 0;
  const TransferRule& rule = *transfer_;
  bool covered = false;
  if (previous_mode == TransitMode::kMetro && this_mode == TransitMode::kBus) {
    covered = rule.metro_to_bus;
  } else if (previous_mode == TransitMode::kBus && this_mode == TransitMode::kMetro) {
    covered = rule.bus_to_metro;
  } else if (previous_mode == TransitMode::kBus && this_mode == TransitMode::kBus) {
    covered = rule.bus_to_bus;
  }
  if (!covered) return 0;
  if (discounted_transfers_so_far >= rule.max_discounted_per_chain) return 0;
  // A clock that went backwards is not a transfer.
  if (this_start_unix_seconds < previous_end_unix_seconds) return 0;
  std::int64_t gap_seconds = 0;
  if (__builtin_sub_overflow(this_start_unix_seconds, previous_end_unix_seconds, &gap_seconds)) {
    return 0;
  }
  if (gap_seconds > static_cast<std::int64_t>(rule.window_minutes) * 60) return 0;
  return rule.discount_fen;
}

}  // namespace tapstack::transit
