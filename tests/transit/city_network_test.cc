// One city's configuration and fare logic: distance bands at their edges, the shortest path
// through an interchange, the maximum fare from a station, bus fares, transfer discounts, and a
// precise error for every bad field.
#include "transit/city_network.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

namespace tapstack::transit {
namespace {

using nlohmann::json;

// Three lines: A 1-2-3-4, B 3-5 and C 1-5. From Alpha (1) to Echo (5) the direct line C is
// 15 km, but A to the Charlie (3) interchange and B onwards is 10 + 2 = 12 km.
json TestCity() {
  return json::parse(R"({
    "city_code": "9000", "name": "Testville", "province_code": "9900",
    "operator_institution_id": "48039999", "issuer_id": "9000990000000001",
    "purse_algorithm": "tdes", "key_version": 1,
    "card_rules": {"opening_fee_fen": 0, "deposit_fen": 500, "balance_cap_fen": 100000,
                   "top_up_min_fen": 1000, "top_up_max_fen": 50000,
                   "migrations_per_year": 3, "refund_on_delete": true},
    "metro": {
      "fare_model": "distance",
      "distance_bands": [{"up_to_m": 6000, "fare_fen": 300}, {"up_to_m": 12000, "fare_fen": 400},
                         {"up_to_m": 22000, "fare_fen": 500}, {"up_to_m": 32000, "fare_fen": 600}],
      "beyond_last_band": {"every_m": 20000, "fare_fen": 100},
      "max_trip_minutes": 240,
      "lines": [
        {"id": 1, "name": "A", "stations": [
          {"id": 1, "name": "Alpha", "position_m": 0}, {"id": 2, "name": "Bravo", "position_m": 5000},
          {"id": 3, "name": "Charlie", "position_m": 10000},
          {"id": 4, "name": "Delta", "position_m": 30000}]},
        {"id": 2, "name": "B", "stations": [
          {"id": 3, "name": "Charlie", "position_m": 0}, {"id": 5, "name": "Echo", "position_m": 2000}]},
        {"id": 3, "name": "C", "stations": [
          {"id": 1, "name": "Alpha", "position_m": 0}, {"id": 5, "name": "Echo", "position_m": 15000}]}
      ]
    },
    "bus": {"default_fare_fen": 200, "lines": [{"id": 7, "name": "7", "fare_fen": 150}]},
    "transfer": {"window_minutes": 90, "discount_fen": 100, "pairs": ["bus->bus", "bus->metro"],
                 "max_discounted_per_chain": 2},
    "note": "test city", "sources": ["none"]
  })");
}

CityNetwork Parsed(const json& j) {
  auto city = CityNetwork::FromJson(j);
  EXPECT_TRUE(city.ok()) << city.status().ToString();
  return std::move(city).value();
}

TEST(CityNetworkTest, ParsesEveryField) {
  const CityNetwork city = Parsed(TestCity());
  EXPECT_EQ(city.city_code(), "9000");
  EXPECT_EQ(city.name(), "Testville");
  EXPECT_EQ(city.province_code(), "9900");
  EXPECT_EQ(city.operator_institution_id(), "48039999");
  EXPECT_EQ(city.issuer_id()[0], 0x90);
  EXPECT_EQ(city.issuer_id()[7], 0x01);
  EXPECT_EQ(city.purse_algorithm(), crypto::PurseAlgorithm::kTdes);
  EXPECT_EQ(city.key_version(), 1);
  EXPECT_EQ(city.card_rules().deposit_fen, 500u);
  EXPECT_EQ(city.card_rules().top_up_max_fen, 50000u);
  EXPECT_TRUE(city.card_rules().refund_on_delete);
  ASSERT_TRUE(city.metro().has_value());
  EXPECT_EQ(city.metro()->lines.size(), 3u);
  EXPECT_EQ(city.metro()->stations.size(), 5u);  // interchanges counted once
  EXPECT_EQ(city.metro()->max_trip_minutes, 240u);
  ASSERT_TRUE(city.transfer().has_value());
  EXPECT_TRUE(city.transfer()->bus_to_bus);
  EXPECT_FALSE(city.transfer()->metro_to_bus);
  EXPECT_EQ(city.StationById(3).value().name, "Charlie");
  auto unknown = city.StationById(99);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "city 9000 (Testville): metro station 99 not found");
  EXPECT_EQ(CityNetwork::Parse(TestCity().dump()).value().name(), "Testville");
  EXPECT_EQ(CityNetwork::Parse("{").status().code(), ErrorCode::kInvalidArgument);
}

TEST(CityNetworkTest, BeijingBandsAtTheirEdges) {
  // One straight line with a station at each band edge and one metre past it.
  json j = TestCity();
  j.erase("transfer");
  j["metro"]["lines"] = json::parse(R"([{"id": 1, "name": "Long", "stations": [
      {"id": 1, "name": "0 m", "position_m": 0},
      {"id": 2, "name": "6 km", "position_m": 6000},
      {"id": 3, "name": "6.1 km", "position_m": 6100},
      {"id": 4, "name": "12 km", "position_m": 12000},
      {"id": 5, "name": "12 km + 1 m", "position_m": 12001},
      {"id": 6, "name": "22 km", "position_m": 22000},
      {"id": 7, "name": "32 km", "position_m": 32000},
      {"id": 8, "name": "32 km + 1 m", "position_m": 32001},
      {"id": 9, "name": "52 km", "position_m": 52000},
      {"id": 10, "name": "52 km + 1 m", "position_m": 52001},
      {"id": 11, "name": "72 km", "position_m": 72000}]}])");
  const CityNetwork city = Parsed(j);
  const std::pair<std::uint16_t, std::uint32_t> expected[] = {
      {1, 300}, {2, 300}, {3, 400}, {4, 400},  {5, 500}, {6, 500},
      {7, 600}, {8, 700}, {9, 700}, {10, 800}, {11, 800}};
  for (const auto& [station, fare] : expected) {
    auto got = city.MetroFare(1, station);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, fare) << "to station " << station;
    EXPECT_EQ(city.MetroFare(station, 1).value(), fare) << "symmetric, station " << station;
  }
  EXPECT_EQ(city.MetroDistanceMetres(3, 10).value(), 45'901u);
  EXPECT_EQ(city.MaxMetroFare(1).value(), 800u);
  EXPECT_EQ(city.MaxMetroFare(6).value(), 700u);  // 50 km to the far end
  EXPECT_EQ(city.MetroFareForDistance(0).value(), 300u);
  EXPECT_EQ(city.MetroFareForDistance(92'000).value(), 900u);
  EXPECT_EQ(city.MetroFareForDistance(4'000'000'000u).status().code(), ErrorCode::kOutOfRange);
}

TEST(CityNetworkTest, ThePathThroughTheInterchangeIsTheShortest) {
  const CityNetwork city = Parsed(TestCity());
  // Direct on line C: 15 km (5 CNY); A to Charlie then B: 12 km (4 CNY).
  EXPECT_EQ(city.MetroDistanceMetres(1, 5).value(), 12'000u);
  EXPECT_EQ(city.MetroFare(1, 5).value(), 400u);
  EXPECT_EQ(city.MetroFareForDistance(15'000).value(), 500u);
  EXPECT_EQ(city.MetroDistanceMetres(5, 1).value(), 12'000u);
  // Bravo to Echo: back along A is 5 + 15 km; forward through Charlie is 5 + 2 km.
  EXPECT_EQ(city.MetroDistanceMetres(2, 5).value(), 7'000u);
  EXPECT_EQ(city.MetroDistanceMetres(4, 5).value(), 22'000u);
  EXPECT_EQ(city.MetroDistanceMetres(3, 3).value(), 0u);
  EXPECT_EQ(city.MetroFare(3, 3).value(), 300u);  // same station: the lowest fare
}

TEST(CityNetworkTest, MaxFareIsTheFareToTheFarthestStation) {
  const CityNetwork city = Parsed(TestCity());
  EXPECT_EQ(city.MaxMetroFare(1).value(), 600u);  // Delta, 30 km
  EXPECT_EQ(city.MaxMetroFare(5).value(), 500u);  // Delta, 22 km via Charlie
  EXPECT_EQ(city.MaxMetroFare(3).value(), 500u);  // Delta, 20 km
  auto unknown = city.MaxMetroFare(42);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("station 42"), std::string::npos);
  auto unknown_to = city.MetroFare(1, 43);
  EXPECT_EQ(unknown_to.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(unknown_to.status().message().find("station 43"), std::string::npos);
}

TEST(CityNetworkTest, FlatMetro) {
  json j = TestCity();
  j["metro"].erase("distance_bands");
  j["metro"].erase("beyond_last_band");
  j["metro"]["fare_model"] = "flat";
  j["metro"]["flat_fare_fen"] = 200;
  const CityNetwork city = Parsed(j);
  EXPECT_EQ(city.MetroFare(1, 4).value(), 200u);
  EXPECT_EQ(city.MetroFare(1, 1).value(), 200u);
  EXPECT_EQ(city.MaxMetroFare(5).value(), 200u);
}

TEST(CityNetworkTest, BusFares) {
  const CityNetwork city = Parsed(TestCity());
  EXPECT_EQ(city.BusFare(7).value(), 150u);  // the line's own fare
  EXPECT_EQ(city.BusFare(8).value(), 200u);  // the city default

  json no_default = TestCity();
  no_default["bus"].erase("default_fare_fen");
  auto missing = Parsed(no_default).BusFare(8);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("bus line 8 not found"), std::string::npos);

  json metro_only = TestCity();
  metro_only.erase("bus");
  metro_only.erase("transfer");
  EXPECT_EQ(Parsed(metro_only).BusFare(7).status().code(), ErrorCode::kNotFound);

  json bus_only = TestCity();
  bus_only.erase("metro");
  bus_only["transfer"]["pairs"] = json::array({"bus->bus"});
  const CityNetwork buses = Parsed(bus_only);
  EXPECT_EQ(buses.MetroFare(1, 2).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(buses.MaxMetroFare(1).status().code(), ErrorCode::kNotFound);
  EXPECT_NE(buses.StationById(1).status().message().find("no metro"), std::string::npos);
}

TEST(CityNetworkTest, TransferDiscountCountsTheChain) {
  const CityNetwork city = Parsed(TestCity());  // 90 minutes, 1 CNY, at most 2 per chain
  const std::int64_t end = 1'767'225'600;
  EXPECT_EQ(city.TransferDiscount(TransitMode::kBus, end, TransitMode::kBus, end + 60, 0), 100u);
  EXPECT_EQ(city.TransferDiscount(TransitMode::kBus, end, TransitMode::kBus, end + 60, 1), 100u);
  EXPECT_EQ(city.TransferDiscount(TransitMode::kBus, end, TransitMode::kBus, end + 60, 2), 0u);
  EXPECT_EQ(city.TransferDiscount(TransitMode::kBus, end, TransitMode::kMetro, end + 90 * 60, 0),
            100u);
  EXPECT_EQ(
      city.TransferDiscount(TransitMode::kBus, end, TransitMode::kMetro, end + 90 * 60 + 1, 0), 0u);
  // metro->bus is not one of this city's pairs, nor is anything after no leg at all.
  EXPECT_EQ(city.TransferDiscount(TransitMode::kMetro, end, TransitMode::kBus, end + 60, 0), 0u);
  EXPECT_EQ(city.TransferDiscount(TransitMode::kNone, end, TransitMode::kBus, end + 60, 0), 0u);
  // A clock running backwards is no transfer; nor do extreme times overflow.
  EXPECT_EQ(city.TransferDiscount(TransitMode::kBus, end, TransitMode::kBus, end - 1, 0), 0u);
  EXPECT_EQ(city.TransferDiscount(TransitMode::kBus, std::numeric_limits<std::int64_t>::min(),
                                  TransitMode::kBus, std::numeric_limits<std::int64_t>::max(), 0),
            0u);

  json no_rule = TestCity();
  no_rule.erase("transfer");
  EXPECT_EQ(Parsed(no_rule).TransferDiscount(TransitMode::kBus, end, TransitMode::kBus, end, 0),
            0u);
}

TEST(CityNetworkTest, EveryBadFieldIsNamed) {
  struct Case {
    const char* pointer;
    json value;  // null: remove the field
    const char* expected;
  };
  const Case cases[] = {
      {"/city_code", "90", "city: city_code: expected 4 decimal digits, got \"90\""},
      {"/name", "", "city 9000: name: expected a non-empty string"},
      {"/name", nullptr, "city 9000: name: missing"},
      {"/province_code", 9900, "city 9000 (Testville): province_code: expected a non-empty string"},
      {"/operator_institution_id", "4803", "operator_institution_id: expected 8 decimal digits"},
      {"/issuer_id", "90009900", "issuer_id: expected 16 hex digits (8 bytes), got \"90009900\""},
      {"/issuer_id", "900099000000000G", "issuer_id: expected 16 hex digits"},
      {"/purse_algorithm", "aes", "purse_algorithm: expected \"tdes\" or \"sm4\", got \"aes\""},
      {"/key_version", 0, "key_version: expected an integer 1-255, got 0"},
      {"/key_version", 256, "key_version: expected an integer 1-255, got 256"},
      {"/card_rules", nullptr, "card_rules: missing; expected an object"},
      {"/card_rules", json::array(), "card_rules: expected an object"},
      {"/card_rules/balance_cap_fen", nullptr, "card_rules.balance_cap_fen: missing"},
      {"/card_rules/top_up_min_fen", 0, "card_rules.top_up_min_fen: expected an integer 1-100000"},
      {"/card_rules/top_up_max_fen", 200000,
       "card_rules.top_up_max_fen: expected an integer 1000-100000, got 200000"},
      {"/card_rules/deposit_fen", -1,
       "card_rules.deposit_fen: expected an integer 0-1000000, got -1"},
      {"/card_rules/migrations_per_year", 13, "card_rules.migrations_per_year"},
      {"/card_rules/refund_on_delete", "yes",
       "card_rules.refund_on_delete: expected true or false"},
      {"/card_rules/refund", true, "card_rules.refund: unknown field"},
      {"/metro/fare_model", "zone",
       "metro.fare_model: expected \"distance\" or \"flat\", got \"zone\""},
      {"/metro/flat_fare_fen", 200, "metro.flat_fare_fen: not used by fare_model \"distance\""},
      {"/metro/distance_bands", json::array(), "metro.distance_bands: expected an array of 1-16"},
      {"/metro/distance_bands/1/up_to_m", 6000,
       "metro.distance_bands[1].up_to_m: expected an integer 6001-500000, got 6000"},
      {"/metro/distance_bands/1/fare_fen", 200,
       "metro.distance_bands[1].fare_fen: expected an integer 300-100000, got 200"},
      {"/metro/distance_bands/0/fare", 300, "metro.distance_bands[0].fare: unknown field"},
      {"/metro/beyond_last_band/every_m", 0,
       "metro.beyond_last_band.every_m: expected an integer 1-"},
      {"/metro/beyond_last_band", nullptr, "metro.beyond_last_band: missing"},
      {"/metro/max_trip_minutes", 0, "metro.max_trip_minutes: expected an integer 1-1440, got 0"},
      {"/metro/colour", "red", "metro.colour: unknown field"},
      {"/metro/lines", json::array(), "metro.lines: expected an array of 1-64 entries, got 0"},
      {"/metro/lines/1/id", 1, "metro.lines[1].id: line 1 is listed twice"},
      {"/metro/lines/1/name", nullptr, "metro.lines[1].name: missing"},
      {"/metro/lines/1/stations/1", nullptr,
       "metro.lines[1].stations: expected an array of 2-128 entries, got 1"},
      {"/metro/lines/0/stations/1/position_m", 6.1,
       "metro.lines[0].stations[1].position_m: expected an integer 1-500000, got 6.1"},
      {"/metro/lines/0/stations/2/position_m", 5000,
       "metro.lines[0].stations[2].position_m: expected an integer 5001-500000, got 5000"},
      {"/metro/lines/0/stations/2/id", 1,
       "metro.lines[0].stations[2].id: station 1 appears twice on line 1"},
      {"/metro/lines/0/stations/0/id", 0,
       "metro.lines[0].stations[0].id: expected an integer 1-65535"},
      {"/metro/lines/1/stations/0/name", "Charly",
       "metro.lines[1].stations[0].name: station 3 is \"Charlie\" on another line, got \"Charly\""},
      {"/bus/default_fare_fen", 0, "bus.default_fare_fen: expected an integer 1-100000, got 0"},
      {"/bus/lines/0/fare_fen", -150,
       "bus.lines[0].fare_fen: expected an integer 1-100000, got -150"},
      {"/bus/lines/0/id", "7", "bus.lines[0].id: expected an integer 1-65535, got \"7\""},
      {"/transfer/window_minutes", 0, "transfer.window_minutes: expected an integer 1-1440, got 0"},
      {"/transfer/discount_fen", nullptr, "transfer.discount_fen: missing"},
      {"/transfer/pairs/0", "metro->metro",
       "transfer.pairs[0]: expected \"metro->bus\", \"bus->metro\" or \"bus->bus\", got "
       "\"metro->metro\""},
      {"/transfer/pairs/1", "bus->bus", "transfer.pairs[1]: \"bus->bus\" is listed twice"},
      {"/transfer/max_discounted_per_chain", 0,
       "transfer.max_discounted_per_chain: expected an integer 1-255"},
      {"/note", 5, "note: expected a string"},
      {"/sources", "x", "sources: expected an array of strings"},
      {"/tariff", "x", "tariff: unknown field"},
  };
  ASSERT_TRUE(CityNetwork::FromJson(TestCity()).ok());
  for (const Case& c : cases) {
    json j = TestCity();
    const json::json_pointer ptr(c.pointer);
    if (c.value.is_null()) {
      j.at(ptr.parent_pointer()).is_array()
          ? j.at(ptr.parent_pointer()).erase(std::stoul(ptr.back()))
          : static_cast<void>(j.at(ptr.parent_pointer()).erase(ptr.back()));
    } else {
      j[ptr] = c.value;
    }
    auto city = CityNetwork::FromJson(j);
    ASSERT_FALSE(city.ok()) << c.pointer;
    EXPECT_EQ(city.status().code(), ErrorCode::kInvalidArgument) << c.pointer;
    EXPECT_NE(city.status().message().find(c.expected), std::string::npos)
        << c.pointer << ": " << city.status().ToString();
    if (std::string_view(c.pointer) != "/city_code" && std::string_view(c.pointer) != "/name") {
      EXPECT_EQ(city.status().message().rfind("city 9000 (Testville): ", 0), 0u)
          << city.status().message();
    }
  }
}

TEST(CityNetworkTest, WholeCityRulesAreChecked) {
  json disconnected = TestCity();
  disconnected["metro"]["lines"][1]["stations"][0] = {
      {"id", 8}, {"name", "Island"}, {"position_m", 0}};
  disconnected["metro"]["lines"].erase(2);
  auto island = CityNetwork::FromJson(disconnected);
  EXPECT_NE(island.status().message().find(
                "metro.lines: line 2 (B) shares no interchange station with line 1"),
            std::string::npos)
      << island.status().ToString();

  json nothing = TestCity();
  nothing.erase("metro");
  nothing.erase("bus");
  nothing.erase("transfer");
  EXPECT_NE(CityNetwork::FromJson(nothing).status().message().find(
                "metro, bus: a city needs at least one"),
            std::string::npos);

  json bus_only = TestCity();
  bus_only.erase("metro");  // the transfer rule still names bus->metro
  EXPECT_NE(CityNetwork::FromJson(bus_only).status().message().find(
                "transfer.pairs[1]: \"bus->metro\" needs both metro and bus in this city"),
            std::string::npos)
      << CityNetwork::FromJson(bus_only).status().ToString();

  json empty_bus = TestCity();
  empty_bus["bus"] = json::object();
  EXPECT_NE(CityNetwork::FromJson(empty_bus).status().message().find(
                "bus.default_fare_fen: missing; a bus section needs default_fare_fen or lines"),
            std::string::npos);

  EXPECT_EQ(CityNetwork::FromJson(json::array()).status().message(), "city: expected an object");

  json sm4 = TestCity();
  sm4["purse_algorithm"] = "sm4";
  EXPECT_EQ(Parsed(sm4).purse_algorithm(), crypto::PurseAlgorithm::kSm4);
}

}  // namespace
}  // namespace tapstack::transit
