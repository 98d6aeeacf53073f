// TransitOperator and TransitNetwork: the transit back office as one service
// (shared/design/domain/transit-purse.md sections 3, 11 and 12).
//
// TransitOperator is one city's operator: its card registry (transit/card_registry.h), its load
// server (transit/load_server.h) and its clearing centre (transit/clearing.h), opened on the
// city's stores with the city's purse master keys. The clearing's hooks are wired to the same
// operator: balance continuity sees the load server's confirmed loads, and every anomaly
// blacklists the card in the registry (so the next reference-data poll of a gate blocks it).
//
// TransitNetwork is every city of the seed (seed/transit_cities.json), one TransitOperator each,
// plus the national T-Union exchange between them: a record of a Shanghai card uploaded by a
// Beijing gate is forwarded, in process, to Shanghai's ClearOwnCards, and the fare is then owed
// by Shanghai to Beijing (positions on both sides).
//
// Stores: SQLite files <data_dir>/transit_<code>.db (registry and load server, one connection
// each) and <data_dir>/transit_<code>_clearing.db, or the PostgreSQL schemas of the same names
// when a URL is given. Card keys are never stored; nothing here logs or returns key material.
//
// Thread-safety: every component is thread-safe. A clearing holds its lock while its exchange
// forwards to another city's clearing, so two cities ingesting each other's cards at the same time
// would wait on each other; TransitNetwork::IngestUpload and RetryForwarding therefore take a
// network-wide lock: batches of a city's own cards only share it, batches that may forward hold it
// alone. Call uploads through the network, not through Operator(...)->clearing(), when the
// operators are part of a network.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "transit/card_personalisation.h"
#include "transit/card_registry.h"
#include "transit/city_network.h"
#include "transit/clearing.h"
#include "transit/load_server.h"
#include "transit/top_up_payment.h"

namespace tapstack::transit {

// The clearing store's role for city `city_code`: "transit_1000_clearing".
// Errors (kInvalidArgument): a code that is not 4 digits.
Result<std::string> ClearingStoreRole(std::string_view city_code);

// The load terminal id a network gives a city's load server unless told otherwise:
// 99 | city code (BCD, 2 bytes) | 00 00 01, e.g. 99 10 00 00 00 01 for Beijing. Errors: a city
// code that is not 4 digits.
Result<TerminalId> DefaultLoadTerminalId(std::string_view city_code);

struct TransitOperatorOptions {
  std::shared_ptr<const CityNetwork> city;
  TransitMasterKeys keys;           // the city's purse master keys (16 bytes each)
  TopUpPayment* payment = nullptr;  // not owned; must outlive the operator
  const Clock* clock = nullptr;     // default: SystemClock::Instance()
  TerminalId load_terminal_id{};    // the load server's terminal id in MAC1/MAC2/TAC
  std::filesystem::path data_dir;   // SQLite files; unused with postgres_url
  std::string postgres_url;         // set: PostgreSQL schemas instead of SQLite files
  // The national exchange (ClearingOptions::forward); unset: records of other cities' cards
  // wait in clearing as "issuer unreachable" until RetryForwarding.
  std::function<Result<std::vector<RecordVerdict>>(const std::string& card_city,
                                                   std::span<const TransitRecord> records)>
      forward;
};

class TransitOperator {
 public:
  // Opens the registry, the load server and the clearing. Errors (kInvalidArgument): no city or
  // payment; keys not 16 bytes; store errors from opening or migrating the stores.
  static Result<std::unique_ptr<TransitOperator>> Open(TransitOperatorOptions options);

  const CityNetwork& city() const { return *city_; }
  CardRegistry& registry() { return *registry_; }
  const CardRegistry& registry() const { return *registry_; }
  LoadServer& load_server() { return *load_server_; }
  const LoadServer& load_server() const { return *load_server_; }
  Clearing& clearing() { return *clearing_; }
  const Clearing& clearing() const { return *clearing_; }
  // How this operator is paid (top-ups, opening fees).
  TopUpPayment& payment() { return *payment_; }

  // The balance the operator knows for `serial` without the card: the balance after the card's
  // last cleared purchase; when clearing has none, the card's opening balance plus every load
  // confirmed for it.
  // Risk (the operator's, as the registry's lost-phone note says): taps not yet uploaded by
  // offline validators are missing (the estimate is too high), and so are loads confirmed after
  // the last cleared purchase (too low: clearing does not say when that purchase happened).
  // Errors: kInvalidArgument (bad serial), kNotFound (unknown card); store errors.
  Result<std::uint32_t> KnownBalance(std::string_view serial) const;

  // Moves card `old_serial` to a new phone (CardRegistry::MigrateCard). `balance_fen` given: the
  // wallet read it from the blocked old card. Omitted (the phone is lost): KnownBalance(old).
  // Errors: as KnownBalance and CardRegistry::MigrateCard.
  Result<IssuedCard> MigrateCard(std::string_view old_serial, const MigrationRequest& request,
                                 std::optional<std::uint32_t> balance_fen);

 private:
  TransitOperator() = default;

  std::shared_ptr<const CityNetwork> city_;
  std::unique_ptr<CardRegistry> registry_;
  std::unique_ptr<LoadServer> load_server_;
  std::unique_ptr<Clearing> clearing_;
  TopUpPayment* payment_ = nullptr;
};

struct TransitNetworkOptions {
  std::filesystem::path cities_path;  // empty: DefaultTransitCitiesPath()
  // The purse master keys of a city's cards (the server passes demo::DemoTransitKey). Required.
  std::function<TransitMasterKeys(const CityNetwork& city)> keys;
  // Every operator's top-up and issue payments; not owned. Load order ids reach it as the client
  // chose them, so they must be unique across cities (the wallet's are).
  TopUpPayment* payment = nullptr;
  const Clock* clock = nullptr;  // default: SystemClock::Instance()
  std::filesystem::path data_dir;
  std::string postgres_url;
  // A city's load terminal id; unset: DefaultLoadTerminalId.
  std::function<TerminalId(const CityNetwork& city)> load_terminal_id;
};

class TransitNetwork {
 public:
  // Loads the cities and opens one operator per city, wired to the exchange. Errors: the cities
  // file (kNotFound, kInvalidArgument); no keys function or payment (kInvalidArgument); as
  // TransitOperator::Open for each city.
  static Result<std::unique_ptr<TransitNetwork>> Open(TransitNetworkOptions options);

  // The operator of `city_code`. Errors: kNotFound naming the code. The pointer lives as long as
  // the network.
  Result<TransitOperator*> Operator(std::string_view city_code);
  // The seed's city object as shipped (what validators apply with CityNetwork::FromJson).
  // Errors: kNotFound.
  Result<const nlohmann::json*> CitySeed(std::string_view city_code) const;
  // The city codes in seed order.
  const std::vector<std::string>& city_codes() const { return city_codes_; }

  // A validator batch uploaded to `city_code`'s clearing (Clearing::IngestUpload), under the
  // exchange lock described above. Errors: kNotFound (city); as Clearing::IngestUpload.
  Result<UploadResult> IngestUpload(std::string_view city_code, const nlohmann::json& batch);
  // Every city forwards again what its card's issuer did not answer. Errors: store errors.
  Status RetryForwarding();

 private:
  TransitNetwork() = default;
  // `card_city`'s ClearOwnCards: the exchange of the forwarding clearing.
  Result<std::vector<RecordVerdict>> Exchange(const std::string& card_city,
                                              std::span<const TransitRecord> records);

  std::vector<std::string> city_codes_;
  std::map<std::string, nlohmann::json, std::less<>> seeds_;
  std::map<std::string, std::unique_ptr<TransitOperator>, std::less<>> operators_;
  std::shared_mutex exchange_mu_;
};

}  // namespace tapstack::transit
