// Fuzz target for every transit parser that takes outside bytes. The first input byte picks one:
//   0  the transit purse applet through the secure element: a session of C-APDUs, each prefixed by
//      a length byte; a length byte with the high bit set sends through the wallet's channel
//      (TransmitToTransitCard), otherwise through the contactless field (express mode);
//   1  the gate's PSAM: the same session shape;
//   2  the on-card trip record decoder (DecodeTripRecord);
//   3  an upload record as JSON (TransitRecordFromJson) and a city configuration (CityNetwork::Parse);
//   4  the personalisation decoder the secure element runs (DecodeTransitCardProfile);
//   5  the terminal's parsing of card answers: PurseCommands against a "card" that answers with
//      slices of the input.
// Invariants: every APDU answer ends in a status word, and nothing crashes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "demo/demo_keys.h"
#include "device/secure_element.h"
#include "device/transit_card_profile.h"
#include "transit/card_personalisation.h"
#include "transit/city_network.h"
#include "transit/psam.h"
#include "transit/purse_commands.h"
#include "transit/transit_cities.h"
#include "transit/transit_record.h"
#include "transit/trip_record.h"

namespace {

using tapstack::Bytes;
using tapstack::ByteView;
namespace transit = tapstack::transit;
namespace device = tapstack::device;

void Require(bool condition) {
  if (!condition) std::abort();
}

// One phone with one Beijing card and one PSAM for the whole run.
struct World {
  std::unique_ptr<device::SecureElement> phone;
  std::unique_ptr<transit::Psam> psam;
};

World& TheWorld() {
  static World world = [] {
    World w;
    const auto dir = std::filesystem::temp_directory_path() / ("tapstack-fuzz-transit-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    device::SecureElementOptions options;
    options.data_dir = dir;
    options.device_id = "fuzz-phone";
    auto se = device::SecureElement::Open(options);
    Require(se.ok());
    auto path = transit::DefaultTransitCitiesPath();
    Require(path.ok());
    auto cities = transit::LoadTransitCities(*path);
    Require(cities.ok());
    const transit::CityNetwork& beijing = **transit::CityByCode(*cities, "1000");
    transit::CardIssue issue;
    issue.card_id = "fuzz-card";
    issue.serial = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    issue.start_date = 20260101;
    issue.expiry_date = 20991231;
    issue.balance_fen = 50000;
    transit::TransitMasterKeys keys{tapstack::demo::DemoTransitKey("t-union", "purchase"),
                                    tapstack::demo::DemoTransitKey("t-union", "maintenance"),
                                    tapstack::demo::DemoTransitKey("1000", "load"),
                                    tapstack::demo::DemoTransitKey("1000", "tac")};
    auto blob = transit::PersonaliseTransitCard(beijing, keys, issue, (*se)->public_key(), (*se)->device_id());
    Require(blob.ok());
    Require((*se)->InstallTransitCard(issue.card_id, *blob).ok());
    w.phone = std::move(*se);
    transit::PsamOptions psam;
    psam.number = {0x10, 0, 0, 0, 0, 0x01};
    psam.purchase_master_key = tapstack::demo::DemoTransitKey("t-union", "purchase");
    psam.maintenance_master_key = tapstack::demo::DemoTransitKey("t-union", "maintenance");
    auto created = transit::Psam::Create(std::move(psam));
    Require(created.ok());
    w.psam = std::make_unique<transit::Psam>(std::move(*created));
    return w;
  }();
  return world;
}

template <typename Send>
void Session(ByteView input, Send send) {
  std::size_t at = 0;
  while (at < input.size()) {
    const std::uint8_t length_byte = input[at++];
    const std::size_t length = length_byte & 0x7F;
    const std::size_t take = length < input.size() - at ? length : input.size() - at;
    const Bytes answer = send(input.subspan(at, take), (length_byte & 0x80) != 0);
    Require(answer.size() >= 2);
    at += take;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  World& world = TheWorld();
  const ByteView input(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  switch (data[0] % 6) {
    case 0:
      Session(input, [&](ByteView apdu, bool wallet) {
        return wallet ? world.phone->TransmitToTransitCard("fuzz-card", apdu) : world.phone->Transmit(apdu);
      });
      break;
    case 1:
      Session(input, [&](ByteView apdu, bool) { return world.psam->Transmit(apdu); });
      break;
    case 2:
      (void)transit::DecodeTripRecord(input);
      break;
    case 3: {
      const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
      if (!json.is_discarded()) (void)transit::TransitRecordFromJson(json);
      (void)transit::CityNetwork::Parse(text);
      break;
    }
    case 4:
      (void)device::DecodeTransitCardProfile(input);
      break;
    case 5: {
      // Each answer is the next length-prefixed slice of the input.
      std::size_t at = 0;
      transit::PurseCommands card([&](ByteView) {
        if (at >= input.size()) return Bytes{};
        const std::size_t length = input[at++];
        const std::size_t take = length < input.size() - at ? length : input.size() - at;
        Bytes answer(input.begin() + static_cast<std::ptrdiff_t>(at),
                     input.begin() + static_cast<std::ptrdiff_t>(at + take));
        at += take;
        return answer;
      });
      (void)card.Select();
      (void)card.ReadIdentity();
      (void)card.ReadTripRecord();
      (void)card.ReadLogRecord(1);
      (void)card.InitializeForPurchase(true, 300, {});
      (void)card.DebitForPurchase(1, Bytes(4), Bytes(3), {});
      (void)card.GetTransactionProve(true, 0);
      (void)card.InitializeForLoad(1000, {});
      (void)card.CreditForLoad(Bytes(4), Bytes(3), {});
      (void)card.GetChallenge();
      (void)card.GetBalance();
      break;
    }
  }
  return 0;
}
