// The shipped seed: six cities that parse, with the fares the operators publish; and the file
// level errors (bad city, duplicate code, missing file) named.
#include "transit/transit_cities.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace tapstack::transit {
namespace {

using nlohmann::json;

std::vector<CityNetwork> Shipped() {
  auto path = DefaultTransitCitiesPath();
  EXPECT_TRUE(path.ok()) << path.status().ToString();
  auto cities = LoadTransitCities(*path);
  EXPECT_TRUE(cities.ok()) << cities.status().ToString();
  return std::move(cities).value();
}

std::uint16_t StationNamed(const CityNetwork& city, std::string_view name) {
  for (const auto& [id, station] : city.metro()->stations) {
    if (station.name == name) return id;
  }
  ADD_FAILURE() << "no station " << name << " in " << city.name();
  return 0;
}

TEST(TransitCitiesTest, TheShippedSeedHasSixCities) {
  const std::vector<CityNetwork> cities = Shipped();
  ASSERT_EQ(cities.size(), 6u);
  std::set<std::string> codes;
  bool sm4 = false, bus_only_or_flat = false, transfers = false;
  for (const CityNetwork& c : cities) {
    codes.insert(c.city_code());
    sm4 |= c.purse_algorithm() == crypto::PurseAlgorithm::kSm4;
    bus_only_or_flat |= !c.metro() || c.metro()->fare_model == MetroFareModel::kFlat;
    transfers |= c.transfer().has_value();
    EXPECT_EQ(c.card_rules().balance_cap_fen, 100'000u) << c.name();
    EXPECT_EQ(c.card_rules().top_up_min_fen, 1'000u) << c.name();
    EXPECT_EQ(c.card_rules().top_up_max_fen, 50'000u) << c.name();
    EXPECT_TRUE(c.bus().has_value()) << c.name();
    if (!c.metro()) continue;
    // 6-12 stations on 2-3 lines, with at least one interchange.
    EXPECT_GE(c.metro()->stations.size(), 6u) << c.name();
    EXPECT_LE(c.metro()->stations.size(), 12u) << c.name();
    EXPECT_GE(c.metro()->lines.size(), 2u) << c.name();
    EXPECT_LE(c.metro()->lines.size(), 3u) << c.name();
    std::size_t stops = 0;
    for (const MetroLine& l : c.metro()->lines) stops += l.stops.size();
    EXPECT_GT(stops, c.metro()->stations.size()) << c.name() << " has no interchange";
  }
  EXPECT_EQ(codes, (std::set<std::string>{"1000", "2000", "3310", "5210", "5810", "5840"}));
  EXPECT_TRUE(sm4);
  EXPECT_TRUE(bus_only_or_flat);
  EXPECT_TRUE(transfers);
}

TEST(TransitCitiesTest, BeijingFaresOnTheSeedMap) {
  const std::vector<CityNetwork> cities = Shipped();
  const CityNetwork& beijing = *CityByCode(cities, "1000").value();
  EXPECT_EQ(beijing.name(), "Beijing");
  EXPECT_EQ(beijing.card_rules().opening_fee_fen, 0u);
  EXPECT_EQ(beijing.BusFare(1).value(), 100u);
  const std::uint16_t pingguoyuan = StationNamed(beijing, "Pingguoyuan");
  // 17.2 km on Line 1 to Xidan, 4.8 km on Line 4: exactly 22 km, the top of the 5 CNY band.
  const std::uint16_t south = StationNamed(beijing, "Beijing South Railway Station");
  EXPECT_EQ(beijing.MetroDistanceMetres(pingguoyuan, south).value(), 22'000u);
  EXPECT_EQ(beijing.MetroFare(pingguoyuan, south).value(), 500u);
  // Chegongzhuang to Wangfujing: Line 2 to the Fuxingmen interchange then Line 1 (7.3 km), not
  // Line 2 back to Xizhimen and Line 4 (8.9 km).
  EXPECT_EQ(beijing
                .MetroDistanceMetres(StationNamed(beijing, "Chegongzhuang"),
                                     StationNamed(beijing, "Wangfujing"))
                .value(),
            7'300u);
  // The farthest station from Pingguoyuan is Sihui East, 29.1 km: 6 CNY reserved on entry.
  EXPECT_EQ(beijing.MaxMetroFare(pingguoyuan).value(), 600u);
  EXPECT_EQ(beijing.MetroFareForDistance(6'000).value(), 300u);
  EXPECT_EQ(beijing.MetroFareForDistance(6'100).value(), 400u);
  EXPECT_EQ(beijing.MetroFareForDistance(32'000).value(), 600u);
  EXPECT_EQ(beijing.MetroFareForDistance(52'000).value(), 700u);
  EXPECT_EQ(beijing.MetroFareForDistance(52'001).value(), 800u);
}

TEST(TransitCitiesTest, ShanghaiTransferDiscount) {
  const std::vector<CityNetwork> cities = Shipped();
  const CityNetwork& shanghai = *CityByCode(cities, "2000").value();
  EXPECT_EQ(
      shanghai
          .MetroFare(StationNamed(shanghai, "People's Square"), StationNamed(shanghai, "Lujiazui"))
          .value(),
      300u);
  EXPECT_EQ(shanghai.MetroFareForDistance(16'000).value(), 400u);
  EXPECT_EQ(shanghai.MetroFareForDistance(16'001).value(), 500u);
  EXPECT_EQ(shanghai.BusFare(71).value(), 200u);

  const std::int64_t exit = 1'767'254'400;  // a metro exit
  constexpr std::int64_t kWindow = 120 * 60;
  // Inside the window, both directions; the window's last second still counts.
  EXPECT_EQ(shanghai.TransferDiscount(TransitMode::kMetro, exit, TransitMode::kBus, exit + 600, 0),
            100u);
  EXPECT_EQ(
      shanghai.TransferDiscount(TransitMode::kBus, exit, TransitMode::kMetro, exit + kWindow, 0),
      100u);
  // Outside it.
  EXPECT_EQ(shanghai.TransferDiscount(TransitMode::kMetro, exit, TransitMode::kBus,
                                      exit + kWindow + 1, 0),
            0u);
  // One discounted transfer per chain: the second change gets nothing.
  EXPECT_EQ(shanghai.TransferDiscount(TransitMode::kBus, exit, TransitMode::kMetro, exit + 600, 1),
            0u);
  // Bus to bus and metro to metro are not Shanghai transfer pairs.
  EXPECT_EQ(shanghai.TransferDiscount(TransitMode::kBus, exit, TransitMode::kBus, exit + 600, 0),
            0u);
  EXPECT_EQ(
      shanghai.TransferDiscount(TransitMode::kMetro, exit, TransitMode::kMetro, exit + 600, 0), 0u);
  // Beijing has no transfer rule.
  EXPECT_EQ(CityByCode(cities, "1000")
                .value()
                ->TransferDiscount(TransitMode::kMetro, exit, TransitMode::kBus, exit + 600, 0),
            0u);
}

TEST(TransitCitiesTest, OtherCitiesRules) {
  const std::vector<CityNetwork> cities = Shipped();
  const CityNetwork& shenzhen = *CityByCode(cities, "5840").value();
  EXPECT_GT(shenzhen.card_rules().opening_fee_fen, 0u);
  EXPECT_EQ(shenzhen.purse_algorithm(), crypto::PurseAlgorithm::kSm4);
  EXPECT_EQ(shenzhen.metro()->max_trip_minutes, 180u);
  const CityNetwork& hangzhou = *CityByCode(cities, "3310").value();
  EXPECT_FALSE(hangzhou.metro().has_value());
  EXPECT_EQ(hangzhou.BusFare(902).value(), 300u);
  EXPECT_EQ(hangzhou.BusFare(1).value(), 200u);
  const CityNetwork& guangzhou = *CityByCode(cities, "5810").value();
  // 4 km bands: 2 CNY to 4 km, 3 to 8, then +1 per 8 km after 24 km.
  EXPECT_EQ(guangzhou.MetroFareForDistance(4'000).value(), 200u);
  EXPECT_EQ(guangzhou.MetroFareForDistance(4'001).value(), 300u);
  EXPECT_EQ(guangzhou.MetroFareForDistance(32'000).value(), 700u);
  EXPECT_FALSE(CityByCode(cities, "5210").value()->card_rules().refund_on_delete);

  auto missing = CityByCode(cities, "9999");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "transit city 9999 not found");
}

json TwoCities() {
  auto path = DefaultTransitCitiesPath();
  std::ifstream in(*path);
  json doc = json::parse(in);
  json& cities = doc["cities"];
  cities.erase(cities.begin() + 2, cities.end());
  return doc;
}

TEST(TransitCitiesTest, FileErrorsAreNamed) {
  ASSERT_EQ(ParseTransitCities(TwoCities().dump()).value().size(), 2u);

  json bad_city = TwoCities();
  bad_city["cities"][1]["metro"]["max_trip_minutes"] = 0;
  EXPECT_EQ(
      ParseTransitCities(bad_city.dump())
          .status()
          .message()
          .rfind("cities[1]: city 2000 (Shanghai): metro.max_trip_minutes: expected an integer", 0),
      0u)
      << ParseTransitCities(bad_city.dump()).status().ToString();

  json duplicate = TwoCities();
  duplicate["cities"][1]["city_code"] = "1000";
  EXPECT_EQ(ParseTransitCities(duplicate.dump()).status().message(),
            "cities[1]: city code 1000 is listed twice");

  json empty = TwoCities();
  empty["cities"] = json::array();
  EXPECT_EQ(ParseTransitCities(empty.dump()).status().message(),
            "transit cities: cities: expected an array of 1-400 cities");

  json unknown = TwoCities();
  unknown["town"] = "x";
  EXPECT_NE(ParseTransitCities(unknown.dump()).status().message().find("town: unknown field"),
            std::string::npos);

  EXPECT_EQ(ParseTransitCities("[1]").status().message(), "transit cities: not a JSON object");
  EXPECT_EQ(ParseTransitCities("{").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(LoadTransitCities("/nonexistent/transit_cities.json").status().code(),
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tapstack::transit
