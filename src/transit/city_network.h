// CityNetwork: one city's transit configuration (seed/transit_cities.json): who issues and runs
// its purse cards, the card rules, the metro map and fare model, bus fares and the transfer rule;
// and the pure fare logic validators use at a tap (shared/design/domain/transit-purse.md sections
// 7, 8 and 11).
//
// Metro fares follow the "shortest path" method the operators publish (Shanghai Metro: "when
// there are more than 1 transfer paths between two metro stations, the ticket price shall be
// calculated based on the path with the shortest mileage"): the network distance is the shortest
// path over line segments (Dijkstra), where stations with the same id on several lines are
// interchanges; the fare model then maps metres to fen.
//
// A CityNetwork is built only by FromJson/Parse, which check every invariant the fare logic
// relies on (stations strictly increasing along each line, one connected metro network, bands
// increasing). It is immutable afterwards; const calls are thread-safe.
// All amounts are fen (0.01 CNY) in uint32; distances are whole metres.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "transit/trip_record.h"

namespace tapstack::transit {

// Limits of a city configuration (checked at parse time).
inline constexpr std::size_t kMetroLinesPerCityMax = 64;
inline constexpr std::size_t kStationsPerLineMax = 128;
inline constexpr std::size_t kBusLinesPerCityMax = 1024;
inline constexpr std::size_t kFareBandsMax = 16;
inline constexpr std::uint32_t kLinePositionMetresMax = 500'000;  // 500 km along one line
inline constexpr std::uint32_t kFareFenMax = 100'000;             // 1,000 CNY for any one fare
inline constexpr std::uint32_t kCardAmountFenMax = 1'000'000;     // fees, caps, top-up bounds
inline constexpr std::uint32_t kMaxTripMinutesMax = 24 * 60;
inline constexpr std::uint32_t kTransferWindowMinutesMax = 24 * 60;
inline constexpr std::uint32_t kMigrationsPerYearMax = 12;
inline constexpr std::size_t kIssuerIdBytes = 8;

// Card product rules of the city's operator (notes section 11).
struct CardRules {
  std::uint32_t opening_fee_fen = 0;      // charged at issue, not refunded
  std::uint32_t deposit_fen = 0;          // charged at issue, refunded on delete
  std::uint32_t balance_cap_fen = 0;      // a load above it is refused (card SW 6985)
  std::uint32_t top_up_min_fen = 0;       // per load
  std::uint32_t top_up_max_fen = 0;       // per load
  std::uint32_t migrations_per_year = 0;  // moves to a new phone of the same account; 0: none
  bool refund_on_delete = false;          // the balance is refunded when the card is deleted
};

struct Station {
  std::uint16_t id = 0;  // the 2-byte station id written into the trip record
  std::string name;
};

struct LineStop {
  std::uint16_t station_id = 0;
  std::uint32_t position_m = 0;  // along the line; strictly increasing in line order
};

struct MetroLine {
  std::uint16_t id = 0;
  std::string name;
  std::vector<LineStop> stops;  // in line order, at least 2
};

enum class MetroFareModel { kDistance, kFlat };

// Distance fares: the first band whose up_to_m >= the distance gives the fare; beyond the last
// band, every started extra_step_m adds extra_fare_fen (Beijing: "+1 CNY per 20 km above 32 km,
// a part of 20 km counts as 20 km").
struct FareBand {
  std::uint32_t up_to_m = 0;
  std::uint32_t fare_fen = 0;
};

struct MetroConfig {
  MetroFareModel fare_model = MetroFareModel::kDistance;
  std::vector<FareBand> bands;         // kDistance: up_to_m strictly increasing, fares not falling
  std::uint32_t extra_step_m = 0;      // kDistance
  std::uint32_t extra_fare_fen = 0;    // kDistance
  std::uint32_t flat_fare_fen = 0;     // kFlat
  std::uint32_t max_trip_minutes = 0;  // time allowed between entry and exit
  std::vector<MetroLine> lines;
  std::map<std::uint16_t, Station> stations;  // every station of every line, by id
};

struct BusLine {
  std::uint16_t id = 0;  // the 2-byte line id written into the trip record
  std::string name;
  std::uint32_t fare_fen = 0;
};

struct BusConfig {
  std::optional<std::uint32_t> default_fare_fen;  // lines not listed; none: unknown lines refused
  std::vector<BusLine> lines;
};

struct TransferRule {
  std::uint32_t window_minutes = 0;  // from the end of the last leg to the start of this one
  std::uint32_t discount_fen = 0;    // off this leg's fare (the caller caps it at that fare)
  bool metro_to_bus = false;
  bool bus_to_metro = false;
  bool bus_to_bus = false;
  std::uint8_t max_discounted_per_chain = 0;
};

class CityNetwork {
 public:
  // One city object of seed/transit_cities.json (shape in that file). Unknown keys are refused,
  // so a misspelt field is an error rather than a silent default. Errors (kInvalidArgument) name
  // the city, the field path and what was expected, e.g.
  // `city 1000 (Beijing): metro.lines[1].stations[2].position_m: expected an integer ...`.
  static Result<CityNetwork> FromJson(const nlohmann::json& city);
  // The same from JSON text. Errors: as FromJson, or not JSON.
  static Result<CityNetwork> Parse(std::string_view json_text);

  const std::string& city_code() const { return city_code_; }          // "1000"
  const std::string& name() const { return name_; }                    // "Beijing"
  const std::string& province_code() const { return province_code_; }  // "1100"
  const std::string& operator_institution_id() const { return operator_institution_id_; }
  const std::array<std::uint8_t, kIssuerIdBytes>& issuer_id() const { return issuer_id_; }
  crypto::PurseAlgorithm purse_algorithm() const { return purse_algorithm_; }
  std::uint8_t key_version() const { return key_version_; }
  const CardRules& card_rules() const { return card_rules_; }
  const std::optional<MetroConfig>& metro() const { return metro_; }
  const std::optional<BusConfig>& bus() const { return bus_; }
  const std::optional<TransferRule>& transfer() const { return transfer_; }

  // The metro station `id`. Errors: kNotFound (naming the city and id), also when the city has no
  // metro.
  Result<Station> StationById(std::uint16_t id) const;

  // Shortest network distance between two stations in metres (0 for the same station).
  // Errors: kNotFound for an unknown station or a city without metro.
  Result<std::uint32_t> MetroDistanceMetres(std::uint16_t from, std::uint16_t to) const;

  // The fare of a metro trip from `from` to `to` (same station: the lowest fare).
  // Errors: as MetroDistanceMetres.
  Result<std::uint32_t> MetroFare(std::uint16_t from, std::uint16_t to) const;

  // The highest fare of any trip starting at `from`: reserved on entry and charged when the exit
  // is missing (notes section 8). Errors: as MetroDistanceMetres.
  Result<std::uint32_t> MaxMetroFare(std::uint16_t from) const;

  // The fare of a distance under this city's metro fare model. Errors: kNotFound without metro;
  // kOutOfRange when the fare would exceed kFareFenMax.
  Result<std::uint32_t> MetroFareForDistance(std::uint32_t distance_m) const;

  // The bus fare of `line`: its own fare, else the city default. Errors: kNotFound for a line
  // with no fare (no default) or a city without buses.
  Result<std::uint32_t> BusFare(std::uint16_t line) const;

  // The transfer discount for a leg of `this_mode` starting at `this_start_unix_seconds`, after a
  // completed leg of `previous_mode` that ended at `previous_end_unix_seconds`, with
  // `discounted_transfers_so_far` discounts already given in this chain. 0 when the city has no
  // rule, the mode pair is not covered, the gap is negative or longer than the window (a gap of
  // exactly the window still counts), or the chain already has max_discounted_per_chain. The
  // caller caps the discount at the leg's fare, restarts the chain count at 0 after a leg without
  // a discount, and otherwise counts up.
  std::uint32_t TransferDiscount(TransitMode previous_mode, std::int64_t previous_end_unix_seconds,
                                 TransitMode this_mode, std::int64_t this_start_unix_seconds,
                                 std::uint8_t discounted_transfers_so_far) const;

 private:
  CityNetwork() = default;
  // "city 1000 (Beijing)": the prefix of this city's errors.
  std::string Label() const;
  // Shortest distances in metres from `from` to every reachable station.
  Result<std::map<std::uint16_t, std::uint64_t>> DistancesFrom(std::uint16_t from) const;

  std::string city_code_;
  std::string name_;
  std::string province_code_;
  std::string operator_institution_id_;
  std::array<std::uint8_t, kIssuerIdBytes> issuer_id_{};
  crypto::PurseAlgorithm purse_algorithm_ = crypto::PurseAlgorithm::kTdes;
  std::uint8_t key_version_ = 0;
  CardRules card_rules_;
  std::optional<MetroConfig> metro_;
  std::optional<BusConfig> bus_;
  std::optional<TransferRule> transfer_;
  // Metro graph: station id -> (neighbour id, segment metres), built once at parse time.
  std::map<std::uint16_t, std::vector<std::pair<std::uint16_t, std::uint32_t>>> adjacency_;
};

}  // namespace tapstack::transit
