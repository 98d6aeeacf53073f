#include "transit/transit_operator.h"

#include <fstream>
#include <mutex>
#include <sstream>

#include "core/hex.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "transit/operator_store.h"
#include "transit/transit_cities.h"

namespace tapstack::transit {

namespace {

Result<std::unique_ptr<store::Store>> OpenClearingStore(const TransitOperatorOptions& options) {
  TS_ASSIGN_OR_RETURN(const std::string role, ClearingStoreRole(options.city->city_code()));
  if (!options.postgres_url.empty()) return store::OpenPostgres(options.postgres_url, role);
  return store::OpenSqlite(options.data_dir, role);
}

// True when every record of an upload batch is a card of `own` city: such a batch never reaches
// the exchange. Anything unexpected counts as "may forward" (Clearing checks the shape itself).
bool OnlyOwnCards(const nlohmann::json& batch, const std::string& own) {
  if (!batch.is_object()) return false;
  const auto records = batch.find("records");
  if (records == batch.end() || !records->is_array()) return false;
  for (const nlohmann::json& record : *records) {
    if (!record.is_object()) return false;
    const auto city = record.find("card_city");
    if (city == record.end() || !city->is_string() || city->get_ref<const std::string&>() != own) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::string> ClearingStoreRole(std::string_view city_code) {
  TS_ASSIGN_OR_RETURN(std::string role, OperatorStoreRole(city_code));
  return role + "_clearing";
}

Result<TerminalId> DefaultLoadTerminalId(std::string_view city_code) {
  TS_ASSIGN_OR_RETURN(const std::uint16_t bcd, BcdCode(city_code));
  return TerminalId{
      0x99, static_cast<std::uint8_t>(bcd >> 8), static_cast<std::uint8_t>(bcd), 0x00, 0x00, 0x01};
}

Result<std::unique_ptr<TransitOperator>> TransitOperator::Open(TransitOperatorOptions options) {
  if (options.city == nullptr) return InvalidArgument("transit operator: no city");
  if (options.payment == nullptr) return InvalidArgument("transit operator: no payment");
  const std::string& code = options.city->city_code();
  std::unique_ptr<TransitOperator> op(new TransitOperator());
  op->city_ = options.city;
  op->payment_ = options.payment;

  CardRegistryOptions registry;
  registry.city = options.city;
  registry.keys = {options.keys.purchase.Clone(), options.keys.maintenance.Clone(),
                   options.keys.load.Clone(), options.keys.tac.Clone()};
  registry.payment = options.payment;
  registry.clock = options.clock;
  TS_ASSIGN_OR_RETURN(registry.store,
                      OpenOperatorStore(code, options.data_dir, options.postgres_url));
  TS_ASSIGN_OR_RETURN(op->registry_, CardRegistry::Open(std::move(registry)));

  LoadServerOptions load;
  load.city = options.city;
  load.load_master_key = options.keys.load.Clone();
  load.tac_master_key = options.keys.tac.Clone();
  load.terminal_id = options.load_terminal_id;
  load.payment = options.payment;
  load.registry = op->registry_.get();
  load.clock = options.clock;
  TS_ASSIGN_OR_RETURN(load.store, OpenOperatorStore(code, options.data_dir, options.postgres_url));
  TS_ASSIGN_OR_RETURN(op->load_server_, LoadServer::Open(std::move(load)));

  ClearingOptions clearing;
  clearing.city = options.city;
  clearing.tac_master_key = options.keys.tac.Clone();
  TS_ASSIGN_OR_RETURN(clearing.store, OpenClearingStore(options));
  clearing.clock = options.clock;
  clearing.forward = std::move(options.forward);
  LoadServer* load_server = op->load_server_.get();
  clearing.loads = [load_server](const std::string& card_serial) -> Result<std::vector<CardLoad>> {
    std::vector<CardLoad> loads;
    TS_ASSIGN_OR_RETURN(std::vector<ConfirmedLoad> confirmed, load_server->ConfirmedLoads(card_serial));
    loads.reserve(confirmed.size());
    for (const ConfirmedLoad& c : confirmed) {
      loads.push_back({c.online_counter, c.amount_fen, c.local_time});
    }
    return loads;
  };
  CardRegistry* registry_ptr = op->registry_.get();
  clearing.blacklist = [registry_ptr](const std::string& card_serial, const std::string& reason) {
    return registry_ptr->AddToBlacklist(card_serial, reason);
  };
  TS_ASSIGN_OR_RETURN(op->clearing_, Clearing::Open(std::move(clearing)));
  return op;
}

Result<std::uint32_t> TransitOperator::KnownBalance(std::string_view serial) const {
  TS_ASSIGN_OR_RETURN(const TransitCardInfo card, registry_->Card(serial));
  TS_ASSIGN_OR_RETURN(const std::optional<std::uint32_t> cleared,
                      clearing_->LastClearedBalance(card.serial));
  if (cleared) return *cleared;
  // No purchase cleared: nothing was spent that the operator knows of.
  TS_ASSIGN_OR_RETURN(const std::vector<ConfirmedLoad> loads,
                      load_server_->ConfirmedLoads(card.serial));
  std::uint64_t balance = card.opening_balance_fen;
  for (const ConfirmedLoad& load : loads) balance += load.amount_fen;
  if (balance > city_->card_rules().balance_cap_fen) {
    return Internal("card " + card.serial + ": known balance " + std::to_string(balance) +
                    " fen is above the card cap");
  }
  return static_cast<std::uint32_t>(balance);
}

Result<IssuedCard> TransitOperator::MigrateCard(std::string_view old_serial,
                                                const MigrationRequest& request,
                                                std::optional<std::uint32_t> balance_fen) {
  if (!balance_fen) {
    TS_ASSIGN_OR_RETURN(balance_fen, KnownBalance(old_serial));
  }
  return registry_->MigrateCard(old_serial, request, *balance_fen);
}

Result<std::unique_ptr<TransitNetwork>> TransitNetwork::Open(TransitNetworkOptions options) {
  if (!options.keys) return InvalidArgument("transit network: no keys");
  if (options.payment == nullptr) return InvalidArgument("transit network: no payment");
  std::filesystem::path path = options.cities_path;
  if (path.empty()) {
    TS_ASSIGN_OR_RETURN(path, DefaultTransitCitiesPath());
  }
  std::ifstream in(path);
  if (!in) return NotFound("transit network: cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  // ParseTransitCities checks every city; the raw objects are kept for validators' reference data.
  TS_ASSIGN_OR_RETURN(std::vector<CityNetwork> cities, ParseTransitCities(text.str()));
  const nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);

  std::unique_ptr<TransitNetwork> network(new TransitNetwork());
  TransitNetwork* self = network.get();
  for (std::size_t i = 0; i < cities.size(); ++i) {
    auto city = std::make_shared<const CityNetwork>(std::move(cities[i]));
    const std::string code = city->city_code();
    TransitOperatorOptions op;
    op.city = city;
    op.keys = options.keys(*city);
    op.payment = options.payment;
    op.clock = options.clock;
    if (options.load_terminal_id) {
      op.load_terminal_id = options.load_terminal_id(*city);
    } else {
      TS_ASSIGN_OR_RETURN(op.load_terminal_id, DefaultLoadTerminalId(code));
    }
    op.data_dir = options.data_dir;
    op.postgres_url = options.postgres_url;
    op.forward = [self](const std::string& card_city, std::span<const TransitRecord> records) {
      return self->Exchange(card_city, records);
    };
    Result<std::unique_ptr<TransitOperator>> opened = TransitOperator::Open(std::move(op));
    if (!opened.ok()) return opened.status().WithContext("transit network: city " + code);
    network->operators_.emplace(code, std::move(opened).value());
    network->seeds_.emplace(code, doc["cities"][i]);
    network->city_codes_.push_back(code);
  }
  return network;
}

Result<TransitOperator*> TransitNetwork::Operator(std::string_view city_code) {
  const auto it = operators_.find(city_code);
  if (it == operators_.end()) {
    return NotFound("city: no transit operator for city code \"" + std::string(city_code) + "\"");
  }
  return it->second.get();
}

Result<const nlohmann::json*> TransitNetwork::CitySeed(std::string_view city_code) const {
  const auto it = seeds_.find(city_code);
  if (it == seeds_.end()) {
    return NotFound("city: no transit city with code \"" + std::string(city_code) + "\"");
  }
  return &it->second;
}

Result<std::vector<RecordVerdict>> TransitNetwork::Exchange(
    const std::string& card_city, std::span<const TransitRecord> records) {
  const auto it = operators_.find(card_city);
  // A card of a city outside the network: its issuer cannot be reached; the records wait.
  if (it == operators_.end()) return Unavailable("no T-Union member with city code " + card_city);
  return it->second->clearing().ClearOwnCards(records);
}

Result<UploadResult> TransitNetwork::IngestUpload(std::string_view city_code,
                                                  const nlohmann::json& batch) {
  TS_ASSIGN_OR_RETURN(TransitOperator * op, Operator(city_code));
  if (OnlyOwnCards(batch, op->city().city_code())) {
    std::shared_lock lock(exchange_mu_);
    return op->clearing().IngestUpload(batch);
  }
  std::unique_lock lock(exchange_mu_);
  return op->clearing().IngestUpload(batch);
}

Status TransitNetwork::RetryForwarding() {
  std::unique_lock lock(exchange_mu_);
  for (const std::string& code : city_codes_) {
    TS_RETURN_IF_ERROR(
        operators_.at(code)->clearing().RetryForwarding().WithContext("city " + code));
  }
  return Status::Ok();
}

}  // namespace tapstack::transit
