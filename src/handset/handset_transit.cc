// HandsetHost's transit cards: what the phone's wallet does with the transit operators' JSON API
// (transit/transit_http.h, docs/transit.md) and the purse applet's APDUs (transit-purse.md), and
// the gates a rider taps, with their PSAMs, run here.
#include <algorithm>

#include "acquirer/in_app_payment.h"
#include "core/clock.h"
#include "core/hex.h"
#include "crypto/csprng.h"
#include "crypto/hash.h"
#include "demo/demo_keys.h"
#include "handset/api_client.h"
#include "handset/handset_host.h"
#include "transit/psam.h"
#include "transit/purse_commands.h"
#include "transit/transit_operator.h"

namespace tapstack::handset {

using nlohmann::json;

namespace {

constexpr std::uint8_t kTripLogRecordsMax = 10;  // SFI 18 (device/device_store.h)
// Unlisted bus lines a city with a default fare accepts (each line is one validator's database).
constexpr std::uint16_t kBusLineUnlistedMax = 99;

std::string CityPath(std::string_view city, const std::string& rest) {
  return "/v1/transit/" + std::string(city) + rest;
}

bool WellFormedCity(std::string_view city) {
  return city.size() == 4 && std::ranges::all_of(city, [](char c) { return c >= '0' && c <= '9'; });
}

std::string BcdDateTimeText(ByteView bcd) {
  const std::string d = HexEncode(bcd);
  if (d.size() != 14) return d;
  return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + " " + d.substr(8, 2) + ":" +
         d.substr(10, 2) + ":" + d.substr(12, 2);
}

std::string RandomHex(std::size_t bytes) {
  Bytes r(bytes);
  crypto::Csprng csprng;
  if (!csprng.Fill(r).ok()) return {};
  std::string s = HexEncode(r);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<std::shared_ptr<const transit::CityNetwork>> HandsetHost::City(std::string_view city_code) {
  if (!WellFormedCity(city_code)) return NotFound("city: expected a 4-digit T-Union city code");
  {
    std::lock_guard lock(mu_);
    if (auto it = cities_.find(city_code); it != cities_.end()) return it->second;
  }
  TS_ASSIGN_OR_RETURN(json reference,
                      CallApi(options_.api, "GET", CityPath(city_code, "/reference"), nullptr));
  TS_ASSIGN_OR_RETURN(transit::CityNetwork city, transit::CityNetwork::FromJson(reference["city"]));
  auto shared = std::make_shared<const transit::CityNetwork>(std::move(city));
  std::lock_guard lock(mu_);
  cities_.emplace(std::string(city_code), shared);
  return shared;
}

Result<HandsetHost::SelectedPurse> HandsetHost::SelectPurse(Handset& h, std::string_view card_id) {
  device::SecureElement* se = h.se.get();
  transit::PurseCommands card([se, id = std::string(card_id)](ByteView capdu) {
    return se->TransmitToTransitCard(id, capdu);
  });
  Result<transit::PurseIdentity> identity =
      card.Select().ok() ? card.ReadIdentity() : Result<transit::PurseIdentity>(NotFound(""));
  if (!identity.ok()) return NotFound("card_id: no such transit card on this handset");
  return SelectedPurse{std::move(card), std::move(*identity)};
}

Result<json> HandsetHost::PayInApp(Handset& h, std::string_view token_id, std::string_view city,
                                   const std::string& order_id, std::uint32_t fen) {
  TS_ASSIGN_OR_RETURN(json request,
                      CallApi(options_.api, "POST", CityPath(city, "/payment-requests"),
                              {{"order_id", order_id}, {"amount_fen", fen}}));
  const json payment_request = {
      {"merchant_name", request.value("merchant_name", "")},
      {"amount", {{"minor", fen}, {"currency", "CNY"}}},
      {"unpredictable_number", request.value("unpredictable_number", "")}};
  // The rider confirmed the amount on the phone with the fingerprint: the web app's button.
  return InAppPayment(h.info.handset_id, token_id, payment_request, true);
}

Result<json> HandsetHost::OpenTransitCard(std::string_view handset_id, std::string_view city_code,
                                          std::string_view account_id, std::string_view token_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<const transit::CityNetwork> city, City(city_code));
  if (account_id.empty()) return InvalidArgument("account_id: required (the wallet user id)");
  const std::string card_id = "tc-" + RandomHex(8);
  json body = {{"card_id", card_id},
               {"account_id", account_id},
               {"device_id", h->info.handset_id},
               {"device_public_key", h->info.se_public_key_hex}};
  // A city with an opening fee is paid like a top-up, under the order id "open-<card_id>".
  if (const std::uint32_t fee = city->card_rules().opening_fee_fen; fee > 0) {
    TS_ASSIGN_OR_RETURN(body["payment_data"],
                        PayInApp(*h, token_id, city_code, "open-" + card_id, fee));
  }
  TS_ASSIGN_OR_RETURN(json issued,
                      CallApi(options_.api, "POST", CityPath(city_code, "/cards"), body));
  Result<Bytes> profile = HexDecode(issued.value("wrapped_profile", ""));
  if (!profile.ok()) return Unavailable("the operator's answer has no wrapped_profile");
  TS_RETURN_IF_ERROR(h->se->InstallTransitCard(card_id, *profile));
  json card = issued.value("card", json::object());
  card["card_id"] = card_id;
  card["city"] = std::string(city_code);
  card["city_name"] = city->name();
  return card;
}

Result<json> HandsetHost::DeleteTransitCard(std::string_view handset_id,
                                            std::string_view card_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  TS_ASSIGN_OR_RETURN(SelectedPurse purse, SelectPurse(*h, card_id));
  transit::PurseCommands& card = purse.card;
  const std::string serial = HexEncode(purse.identity.serial);
  const std::string card_path = CityPath(purse.identity.city_code, "/cards/" + serial);
  // Blocked first, so no gate can spend the balance being refunded; a card blocked by an
  // earlier attempt refuses another block and still answers GET BALANCE.
  TS_ASSIGN_OR_RETURN(const auto challenge, card.GetChallenge());
  TS_ASSIGN_OR_RETURN(json block, CallApi(options_.api, "POST", card_path + "/block-mac",
                                          {{"challenge", HexEncode(challenge)}}));
  Result<Bytes> mac_bytes = HexDecode(block.value("mac", ""));
  if (!mac_bytes.ok() || mac_bytes->size() != crypto::kPurseMacBytes) {
    return Unavailable("the operator's answer has no 4-byte mac");
  }
  crypto::PurseMac mac{};
  std::copy(mac_bytes->begin(), mac_bytes->end(), mac.begin());
  (void)card.ApplicationBlock(mac);
  TS_ASSIGN_OR_RETURN(const std::uint32_t balance, card.GetBalance());
  TS_ASSIGN_OR_RETURN(json closed, CallApi(options_.api, "POST", card_path + "/close",
                                           {{"final_balance_fen", balance}}));
  TS_RETURN_IF_ERROR(h->se->RemoveTransitCard(card_id));
  closed["serial"] = serial;
  closed["final_balance_fen"] = balance;
  return closed;
}

Result<std::uint32_t> HandsetHost::TopUpTransitCard(std::string_view handset_id,
                                                    std::string_view card_id,
                                                    std::uint32_t amount_fen,
                                                    std::string_view token_id,
                                                    std::string_view idempotency_key) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  if (amount_fen == 0) return InvalidArgument("amount_fen: expected more than 0");
  TS_ASSIGN_OR_RETURN(SelectedPurse purse, SelectPurse(*h, card_id));
  transit::PurseCommands& card = purse.card;
  const transit::PurseIdentity& identity = purse.identity;
  const std::string& city = identity.city_code;
  device::SecureElement* se = h->se.get();
  const std::string id(card_id);

  if (idempotency_key.empty()) return InvalidArgument("Idempotency-Key: header required");
  // One order per (handset, card, key): a retry after a failure finds the order it paid and
  // finishes loading it, never paying a second time.
  const std::string key_text =
      h->info.handset_id + "/" + std::string(card_id) + "/" + std::string(idempotency_key);
  TS_ASSIGN_OR_RETURN(Bytes digest, crypto::Sha256(ByteView(
                                        reinterpret_cast<const std::uint8_t*>(key_text.data()),
                                        key_text.size())));
  std::string order_id = "topup-" + HexEncode(ByteView(digest).first(8));
  std::transform(order_id.begin(), order_id.end(), order_id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  Result<json> known = CallApi(options_.api, "GET", CityPath(city, "/orders/" + order_id), nullptr);
  if (known.ok()) {
    const json order = known->value("order", json::object());
    const std::string state = order.value("state", "");
    if (order.value("amount_fen", 0u) != amount_fen) {
      return FailedPrecondition("Idempotency-Key: used for a top-up of another amount");
    }
    // Loaded already (its confirmation, if lost, is reconciled from the card's log).
    if (state == "loaded") return card.GetBalance();
    if (state != "paid") {
      return FailedPrecondition("order " + order_id + " is " + state +
                                "; a new top-up needs a new Idempotency-Key");
    }
  } else if (known.status().code() != ErrorCode::kNotFound) {
    return known.status();
  } else {
    TS_ASSIGN_OR_RETURN(json payment_data, PayInApp(*h, token_id, city, order_id, amount_fen));
    TS_RETURN_IF_ERROR(CallApi(options_.api, "POST", CityPath(city, "/orders"),
                               {{"order_id", order_id},
                                {"card_serial", HexEncode(identity.serial)},
                                {"amount_fen", amount_fen},
                                {"payment_data", payment_data}})
                           .status());
  }
  // INITIALIZE FOR LOAD; its answer (without SW1 SW2) goes to the operator's load server.
  TS_ASSIGN_OR_RETURN(transit::TerminalId load_terminal, transit::DefaultLoadTerminalId(city));
  Bytes init_answer;
  transit::PurseCommands loader([se, id, &init_answer](ByteView capdu) {
    Bytes answer = se->TransmitToTransitCard(id, capdu);
    // INITIALIZE FOR LOAD is 80 50 00 02 (transit/purse_commands.h).
    if (capdu.size() > 2 && capdu[0] == 0x80 && capdu[1] == 0x50 && capdu[2] == 0x00 &&
        answer.size() >= 2) {
      init_answer.assign(answer.begin(), answer.end() - 2);
    }
    return answer;
  });
  TS_RETURN_IF_ERROR(loader.Select());
  TS_RETURN_IF_ERROR(loader.InitializeForLoad(amount_fen, load_terminal).status());
  TS_ASSIGN_OR_RETURN(
      json mac2, CallApi(options_.api, "POST", CityPath(city, "/orders/" + order_id + "/load"),
                         {{"init_for_load", HexEncode(init_answer)}}));
  Result<Bytes> date = HexDecode(mac2.value("date", ""));
  Result<Bytes> time = HexDecode(mac2.value("time", ""));
  Result<Bytes> mac2_bytes = HexDecode(mac2.value("mac2", ""));
  if (!date.ok() || !time.ok() || !mac2_bytes.ok() ||
      mac2_bytes->size() != crypto::kPurseMacBytes) {
    return Unavailable("the load server's answer has no date, time and 4-byte mac2");
  }
  crypto::PurseMac mac{};
  std::copy(mac2_bytes->begin(), mac2_bytes->end(), mac.begin());
  TS_ASSIGN_OR_RETURN(crypto::PurseMac tac, loader.CreditForLoad(*date, *time, mac));
  TS_RETURN_IF_ERROR(CallApi(options_.api, "POST",
                             CityPath(city, "/orders/" + order_id + "/confirm"),
                             {{"tac", HexEncode(tac)}})
                         .status());
  return loader.GetBalance();
}

Result<HandsetHost::Gate*> HandsetHost::GateFor(const std::string& city_code,
                                                transit::ValidatorKind kind, std::uint16_t line,
                                                std::uint16_t station) {
  const std::string kind_name(transit::ValidatorKindName(kind));
  const std::string key =
      city_code + "/" + kind_name + "/" + std::to_string(line) + "/" + std::to_string(station);
  if (auto it = gates_.find(key); it != gates_.end()) return it->second.get();
  TS_ASSIGN_OR_RETURN(std::shared_ptr<const transit::CityNetwork> city, City(city_code));
  std::string label;
  // Only the city's own lines and stations: each gate is a database, so the set of gates a
  // caller can make is the city's, not any number it sends.
  if (kind == transit::ValidatorKind::kBus) {
    if (!city->bus()) return NotFound("gate: " + city->name() + " has no bus network");
    // A listed line, or (a city with a default fare) an unlisted one up to kBusLineUnlistedMax.
    const auto& lines = city->bus()->lines;
    const bool listed =
        std::ranges::any_of(lines, [&](const transit::BusLine& l) { return l.id == line; });
    const bool unlisted = city->bus()->default_fare_fen && line >= 1 && line <= kBusLineUnlistedMax;
    if (!listed && !unlisted) {
      return NotFound("line: " + city->name() + " has no bus line " + std::to_string(line));
    }
    label = "bus validator on line " + std::to_string(line);
  } else {
    if (!city->metro()) return NotFound("gate: " + city->name() + " has no metro");
    const auto& lines = city->metro()->lines;
    const auto on_line = std::ranges::find_if(lines, [&](const transit::MetroLine& l) {
      return l.id == line && std::ranges::any_of(l.stops, [&](const transit::LineStop& stop) {
               return stop.station_id == station;
             });
    });
    if (on_line == lines.end()) {
      return NotFound("station: " + city->name() + " has no station " + std::to_string(station) +
                      " on metro line " + std::to_string(line));
    }
    TS_ASSIGN_OR_RETURN(transit::Station where, city->StationById(station));
    label = std::string(kind == transit::ValidatorKind::kMetroEntry ? "entry" : "exit") +
            " gate at " + where.name;
  }
  transit::ValidatorOptions o;
  o.validator_id = "hs-" + city_code + "-" + kind_name + "-" + std::to_string(line) + "-" +
                   std::to_string(station);
  std::replace(o.validator_id.begin(), o.validator_id.end(), '_', '-');
  o.kind = kind;
  o.city = city;
  o.line = line;
  o.station = station;
  o.data_dir = options_.data_dir / "gates";
  // A PSAM number per gate (6 bytes), stable across restarts: the gate's file keeps its sequence.
  TS_ASSIGN_OR_RETURN(
      Bytes digest,
      crypto::Sha256(ByteView(reinterpret_cast<const std::uint8_t*>(o.validator_id.data()),
                              o.validator_id.size())));
  o.psam.number = {0x20, digest[0], digest[1], digest[2], digest[3], digest[4]};
  o.psam.key_version = city->key_version();
  o.psam.purchase_master_key = demo::DemoTransitKey("t-union", "purchase");
  o.psam.maintenance_master_key = demo::DemoTransitKey("t-union", "maintenance");
  TS_ASSIGN_OR_RETURN(std::unique_ptr<transit::Validator> v,
                      transit::Validator::Open(std::move(o)));
  auto gate = std::make_unique<Gate>();
  gate->label = std::move(label);
  gate->city = city_code;
  gate->validator = std::move(v);
  Gate* raw = gate.get();
  gates_.emplace(key, std::move(gate));
  return raw;
}

Result<TransitRide> HandsetHost::Ride(std::string_view handset_id, std::string_view card_id,
                                      std::string_view gate_kind, std::uint16_t line,
                                      std::uint16_t station) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  transit::ValidatorKind kind;
  if (gate_kind == "metro_entry") {
    kind = transit::ValidatorKind::kMetroEntry;
  } else if (gate_kind == "metro_exit") {
    kind = transit::ValidatorKind::kMetroExit;
  } else if (gate_kind == "bus") {
    kind = transit::ValidatorKind::kBus;
  } else {
    return InvalidArgument("gate: expected metro_entry, metro_exit or bus");
  }
  TS_ASSIGN_OR_RETURN(const SelectedPurse purse, SelectPurse(*h, card_id));
  const std::string& city = purse.identity.city_code;
  // The gate reaches the express card; the rider holds up the card they chose.
  TS_RETURN_IF_ERROR(h->se->SetExpressTransitCard(card_id));

  if (kind == transit::ValidatorKind::kBus) station = 0;  // a bus validator has no station
  TS_RETURN_IF_ERROR(City(city).status());                // the reference data, outside the lock
  Gate* gate = nullptr;
  {
    std::lock_guard lock(gates_mu_);
    TS_ASSIGN_OR_RETURN(gate, GateFor(city, kind, line, station));
  }
  std::lock_guard gate_lock(gate->mu);
  device::SecureElement* se = h->se.get();
  TransitRide ride;
  ride.gate = gate->label;
  ride.tap = gate->validator->Tap([se](ByteView capdu) { return se->Transmit(capdu); });
  // Online right away: the gate uploads its records (the operator clears them) and forgets those
  // the operator stored. An upload that fails stays pending for the next ride.
  Result<transit::UploadBatch> batch = gate->validator->NextUploadBatch();
  if (batch.ok() && !batch->empty()) {
    Result<json> stored = CallApi(options_.api, "POST", CityPath(gate->city, "/uploads"),
                                  transit::UploadBatchToJson(*batch, gate->validator->id()));
    if (stored.ok()) (void)gate->validator->AcknowledgeUpload(batch->batch_id);
  }
  return ride;
}

std::string HandsetHost::GateLabel(const transit::TerminalId& psam_number) {
  std::lock_guard lock(gates_mu_);
  for (const auto& [key, gate] : gates_) {
    if (gate->validator->psam_number() == psam_number) return gate->label;
  }
  return {};
}

Result<json> HandsetHost::TransitCard(std::string_view handset_id, std::string_view card_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  device::SecureElement* se = h->se.get();
  const std::string id(card_id);
  transit::PurseCommands card(
      [se, id](ByteView capdu) { return se->TransmitToTransitCard(id, capdu); });
  if (!card.Select().ok()) return NotFound("card_id: no such transit card on this handset");
  TS_ASSIGN_OR_RETURN(transit::PurseIdentity identity, card.ReadIdentity());
  TS_ASSIGN_OR_RETURN(std::uint32_t balance, card.GetBalance());
  Result<transit::TerminalId> load_terminal = transit::DefaultLoadTerminalId(identity.city_code);
  json trips = json::array();
  for (std::uint8_t i = 1; i <= kTripLogRecordsMax; ++i) {
    Result<transit::PurseLogRecord> r = card.ReadLogRecord(i);
    if (!r.ok()) break;  // kNotFound after the last record
    const bool load = r->type == transit::kLoadTypeEp;
    std::string where = "terminal " + HexEncode(r->terminal_id);
    if (load_terminal.ok() && r->terminal_id == *load_terminal) {
      where = "top-up";
    } else if (std::string label = GateLabel(r->terminal_id); !label.empty()) {
      where = label;
    }
    trips.push_back({{"time", BcdDateTimeText(r->date_time)},
                     {"kind", load ? "load" : "purchase"},
                     {"amount_fen", r->amount_fen},
                     {"counter", r->counter},
                     {"where", where}});
  }
  return json{{"card_id", card_id},
              {"serial", HexEncode(identity.serial)},
              {"city", identity.city_code},
              {"balance_fen", balance},
              {"trips", std::move(trips)}};
}

}  // namespace tapstack::handset
