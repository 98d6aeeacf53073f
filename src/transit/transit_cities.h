// The transit cities shipped with tapstack (seed/transit_cities.json): each city's operator,
// card rules, metro map, fares and transfer rule (transit/city_network.h). Gates, the operator's
// back office and the wallet load the same file, so they agree on fares without talking.
//
// File shape: {"note": "...", "sources": [...], "cities": [<city>, ...]} with <city> as in
// city_network.h. Pure functions of their input; thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "transit/city_network.h"

namespace tapstack::transit {

inline constexpr std::size_t kTransitCitiesMax = 400;  // T-Union had 327 cities in 2022

// Parses the whole file. Errors (kInvalidArgument): not JSON; "cities" missing or empty; a bad
// city (prefixed "cities[i]: "); two cities with the same city code.
Result<std::vector<CityNetwork>> ParseTransitCities(std::string_view json_text);

// Reads and parses `path`. Errors: kNotFound if the file cannot be opened; as ParseTransitCities.
Result<std::vector<CityNetwork>> LoadTransitCities(const std::filesystem::path& path);

// seed/transit_cities.json in the source tree, or ./seed/transit_cities.json. Errors: kNotFound.
Result<std::filesystem::path> DefaultTransitCitiesPath();

// The city with `city_code` ("1000"), or kNotFound naming the code.
Result<const CityNetwork*> CityByCode(const std::vector<CityNetwork>& cities,
                                      std::string_view city_code);

}  // namespace tapstack::transit
