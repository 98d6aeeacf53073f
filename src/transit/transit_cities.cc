#include "transit/transit_cities.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace tapstack::transit {

Result<std::vector<CityNetwork>> ParseTransitCities(std::string_view json_text) {
  using nlohmann::json;
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("transit cities: not a JSON object");
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "note" && key != "sources" && key != "cities") {
      return InvalidArgument("transit cities: " + key +
                             ": unknown field; expected one of note, sources, cities");
    }
  }
  if (!doc.contains("cities") || !doc["cities"].is_array() || doc["cities"].empty() ||
      doc["cities"].size() > kTransitCitiesMax) {
    return InvalidArgument("transit cities: cities: expected an array of 1-" +
                           std::to_string(kTransitCitiesMax) + " cities");
  }
  std::vector<CityNetwork> cities;
  std::set<std::string> codes;
  for (std::size_t i = 0; i < doc["cities"].size(); ++i) {
    const std::string where = "cities[" + std::to_string(i) + "]";
    auto city = CityNetwork::FromJson(doc["cities"][i]);
    if (!city.ok()) return city.status().WithContext(where);
    if (!codes.insert(city->city_code()).second) {
      return InvalidArgument(where + ": city code " + city->city_code() + " is listed twice");
    }
    cities.push_back(std::move(city).value());
  }
  return cities;
}

Result<std::vector<CityNetwork>> LoadTransitCities(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  auto cities = ParseTransitCities(text.str());
  if (!cities.ok()) return cities.status().WithContext(path.string());
  return cities;
}

Result<std::filesystem::path> DefaultTransitCitiesPath() {
  for (const std::filesystem::path& p :
       {std::filesystem::path(TAPSTACK_SOURCE_DIR) / "seed" / "transit_cities.json",
        std::filesystem::path("seed") / "transit_cities.json"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return NotFound("seed/transit_cities.json not found");
}

Result<const CityNetwork*> CityByCode(const std::vector<CityNetwork>& cities,
                                      std::string_view city_code) {
  for (const CityNetwork& c : cities) {
    if (c.city_code() == city_code) return &c;
  }
  return NotFound("transit city " + std::string(city_code) + " not found");
}

}  // namespace tapstack::transit
