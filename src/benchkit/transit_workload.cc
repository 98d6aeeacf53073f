#include "benchkit/transit_workload.h"

#include <algorithm>
#include <cstdio>

#include "core/hex.h"
#include "crypto/purse_crypto.h"
#include "demo/demo_keys.h"
#include "transit/transit_cities.h"

namespace tapstack::benchkit {

namespace {

constexpr std::uint32_t kCardStartDate = 20260101;
constexpr std::uint32_t kCardExpiryDate = 20991231;
// Clearing records: 3.00 CNY per trip from a balance of 1,000.00 CNY.
constexpr std::uint32_t kRecordFareFen = 300;
constexpr std::uint32_t kRecordOpeningBalanceFen = 100'000;

}  // namespace

Result<std::shared_ptr<const transit::CityNetwork>> LoadTransitCity(std::string_view city_code) {
  TS_ASSIGN_OR_RETURN(const std::filesystem::path path, transit::DefaultTransitCitiesPath());
  TS_ASSIGN_OR_RETURN(const std::vector<transit::CityNetwork> cities,
                      transit::LoadTransitCities(path));
  TS_ASSIGN_OR_RETURN(const transit::CityNetwork* city, transit::CityByCode(cities, city_code));
  return std::make_shared<const transit::CityNetwork>(*city);
}

transit::TransitMasterKeys TransitDemoKeys(const transit::CityNetwork& city) {
  return {demo::DemoTransitKey("t-union", "purchase"),
          demo::DemoTransitKey("t-union", "maintenance"),
          demo::DemoTransitKey(city.city_code(), "load"),
          demo::DemoTransitKey(city.city_code(), "tac")};
}

transit::Serial TransitSerial(const transit::CityNetwork& city, std::int64_t n) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%.4s%016lld", city.city_code().c_str(),
                static_cast<long long>(n));
  transit::Serial serial{};
  const Result<Bytes> bytes = HexDecode(std::string_view(digits, 20));
  if (bytes.ok())
    std::copy_n(bytes->begin(), std::min(bytes->size(), serial.size()), serial.begin());
  return serial;
}

Result<std::unique_ptr<TransitGateRig>> TransitGateRig::Open(
    std::shared_ptr<const transit::CityNetwork> city, const std::filesystem::path& dir, int rig,
    int phones) {
  if (city == nullptr) return InvalidArgument("city: expected a city");
  if (phones < 1) return InvalidArgument("phones: expected at least 1");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(dir.string() + ": cannot create directory: " + ec.message());
  std::unique_ptr<TransitGateRig> r(new TransitGateRig());
  r->city_ = city;
  r->rig_ = rig;

  auto open_gate = [&](transit::ValidatorKind kind, std::uint16_t line, std::uint16_t station,
                       std::uint8_t psam_byte, const char* suffix) -> Status {
    transit::ValidatorOptions options;
    options.validator_id = "rig-" + std::to_string(rig) + "-" + suffix;
    options.kind = kind;
    options.city = city;
    options.line = line;
    options.station = station;
    options.data_dir = dir;
    options.psam.number = {
        0x10,     0x00, 0x00, static_cast<std::uint8_t>(rig >> 8), static_cast<std::uint8_t>(rig),
        psam_byte};
    options.psam.purchase_master_key = demo::DemoTransitKey("t-union", "purchase");
    options.psam.maintenance_master_key = demo::DemoTransitKey("t-union", "maintenance");
    TS_ASSIGN_OR_RETURN(std::unique_ptr<transit::Validator> gate,
                        transit::Validator::Open(std::move(options)));
    r->gates_.push_back(std::move(gate));
    return Status::Ok();
  };
  std::uint32_t highest_fare = 0;
  if (city->metro().has_value() && !city->metro()->lines.empty() &&
      city->metro()->lines[0].stops.size() >= 2) {
    const transit::MetroLine& line = city->metro()->lines[0];
    const std::uint16_t entry = line.stops[0].station_id;
    const std::uint16_t exit = line.stops[1].station_id;
    TS_RETURN_IF_ERROR(open_gate(transit::ValidatorKind::kMetroEntry, line.id, entry, 1, "in")
                           .WithContext("entry gate"));
    TS_RETURN_IF_ERROR(open_gate(transit::ValidatorKind::kMetroExit, line.id, exit, 2, "out")
                           .WithContext("exit gate"));
    for (std::uint16_t station : {entry, exit}) {
      TS_ASSIGN_OR_RETURN(const std::uint32_t fare, city->MaxMetroFare(station));
      highest_fare = std::max(highest_fare, fare);
    }
  } else if (city->bus().has_value()) {
    const std::uint16_t line = city->bus()->lines.empty() ? 1 : city->bus()->lines[0].id;
    TS_RETURN_IF_ERROR(
        open_gate(transit::ValidatorKind::kBus, line, 0, 3, "bus").WithContext("bus validator"));
    TS_ASSIGN_OR_RETURN(highest_fare, city->BusFare(line));
  } else {
    return InvalidArgument("city " + city->city_code() +
                           ": expected a metro line of 2 stations or buses");
  }
  r->refill_below_fen_ = kTransitCardRefillFares * std::max<std::uint32_t>(highest_fare, 1);

  for (int p = 0; p < phones; ++p) {
    device::SecureElementOptions options;
    options.data_dir = dir;
    options.device_id = "rig-" + std::to_string(rig) + "-phone-" + std::to_string(p);
    Phone phone;
    TS_ASSIGN_OR_RETURN(phone.se, device::SecureElement::Open(std::move(options)));
    TS_RETURN_IF_ERROR(r->IssueCard(phone).WithContext("phone " + std::to_string(p)));
    r->phones_.push_back(std::move(phone));
  }
  return r;
}

Status TransitGateRig::IssueCard(Phone& phone) {
  // Serial numbers: rig in the high digits, then the card's number in the rig.
  const std::int64_t n = static_cast<std::int64_t>(rig_) * 1'000'000'000LL + cards_issued_;
  transit::CardIssue issue;
  issue.card_id = "card-" + std::to_string(n);
  issue.serial = TransitSerial(*city_, n);
  issue.start_date = kCardStartDate;
  issue.expiry_date = kCardExpiryDate;
  issue.balance_fen = city_->card_rules().balance_cap_fen;
  TS_ASSIGN_OR_RETURN(const Bytes blob, transit::PersonaliseTransitCard(
                                            *city_, TransitDemoKeys(*city_), issue,
                                            phone.se->public_key(), phone.se->device_id()));
  if (!phone.card_id.empty()) TS_RETURN_IF_ERROR(phone.se->RemoveTransitCard(phone.card_id));
  TS_RETURN_IF_ERROR(phone.se->InstallTransitCard(issue.card_id, blob));
  phone.card_id = issue.card_id;
  ++cards_issued_;
  return Status::Ok();
}

GateTap TransitGateRig::Tap() {
  const bool bus = gates_.size() == 1;
  const std::int64_t i = taps_++;
  last_phone_ =
      static_cast<std::size_t>((bus ? i : i / 2) % static_cast<std::int64_t>(phones_.size()));
  device::SecureElement& phone = *phones_[last_phone_].se;
  transit::Validator& gate = *gates_[bus ? 0 : static_cast<std::size_t>(i % 2)];
  GateTap tap;
  tap.result = gate.Tap([&phone, &tap](ByteView apdu) {
    ++tap.card_apdus;
    return phone.Transmit(apdu);
  });
  return tap;
}

Status TransitGateRig::AfterTap(const GateTap& tap) {
  fares_fen_ += tap.result.fare_fen;
  if (tap.result.open && tap.result.balance_fen < refill_below_fen_) {
    TS_RETURN_IF_ERROR(IssueCard(phones_[last_phone_]).WithContext("card refill"));
  }
  for (std::unique_ptr<transit::Validator>& gate : gates_) {
    if (gate->PendingRecords() < kTransitGatePendingMax) continue;
    TS_ASSIGN_OR_RETURN(const transit::UploadBatch batch, gate->NextUploadBatch());
    TS_RETURN_IF_ERROR(gate->AcknowledgeUpload(batch.batch_id).WithContext("gate upload"));
  }
  return Status::Ok();
}

Result<std::vector<transit::TransitRecord>> MakeClearingRecords(const transit::CityNetwork& city,
                                                                std::int64_t total, int cards) {
  if (total < 1 || cards < 1) return InvalidArgument("records and cards: expected at least 1");
  const std::int64_t per_card = std::max<std::int64_t>(1, (total + cards - 1) / cards);
  if (per_card * kRecordFareFen > kRecordOpeningBalanceFen) {
    return InvalidArgument("records: expected at most " +
                           std::to_string(static_cast<std::int64_t>(cards) *
                                          (kRecordOpeningBalanceFen / kRecordFareFen)) +
                           " for " + std::to_string(cards) +
                           " cards (each card's balance must last)");
  }
  std::vector<transit::TransitRecord> records;
  records.reserve(static_cast<std::size_t>(total));
  const crypto::SecretBytes tac_master = demo::DemoTransitKey(city.city_code(), "tac");
  const std::string psam = "100000000002";
  const std::string validator = "bench-" + city.city_code() + "-out";
  for (int c = 0; c < cards && static_cast<std::int64_t>(records.size()) < total; ++c) {
    const transit::Serial serial = TransitSerial(city, c);
    TS_ASSIGN_OR_RETURN(const crypto::SecretBytes dtk, transit::CardKey(city, tac_master, serial));
    const std::string serial_hex = HexEncode(serial);
    for (std::int64_t n = 0; n < per_card && static_cast<std::int64_t>(records.size()) < total;
         ++n) {
      transit::TransitRecord r;
      r.card_serial = serial_hex;
      r.card_city = city.city_code();
      r.offline_counter = static_cast<std::uint16_t>(n);
      r.psam_number = psam;
      r.psam_sequence = static_cast<std::uint32_t>(records.size() + 1);
      r.amount_fen = kRecordFareFen;
      r.balance_before_fen =
          kRecordOpeningBalanceFen - kRecordFareFen * static_cast<std::uint32_t>(n);
      r.type = 0x09;  // EP purchase with a composite application (CAPP), transit-purse.md section 2
      char time[16];
      std::snprintf(time, sizeof time, "202611%02d%02d%02d00", static_cast<int>(1 + n / 96 % 28),
                    static_cast<int>(n / 4 % 24), static_cast<int>(n % 4 * 15));
      r.local_time = time;
      r.kind = "metro_exit";
      r.city = city.city_code();
      r.line = 1;
      r.station = 102;
      r.validator_id = validator;
      TS_ASSIGN_OR_RETURN(const Bytes tac_input, r.TacInput());
      TS_ASSIGN_OR_RETURN(const auto tac, crypto::PurseTac(city.purse_algorithm(), dtk, tac_input));
      r.tac = HexEncode(tac);
      records.push_back(std::move(r));
    }
  }
  return records;
}

}  // namespace tapstack::benchkit
