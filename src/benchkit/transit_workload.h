// Transit workloads shared by `tapstack bench transit-tap` / `transit-clearing` and
// bench/transit_bench.cc: phones holding a city's purse card tapping that city's gates, and
// uploaded trip records with real TACs for the clearing centre.
//
// Keys are the demo keys (demo/demo_keys.h): the national T-Union purchase and maintenance keys
// in every PSAM, and the city's own load and TAC master keys (shared/design/domain/
// transit-purse.md section 3).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "benchkit/memory_scratch_dir.h"
#include "core/status.h"
#include "device/secure_element.h"
#include "transit/card_personalisation.h"
#include "transit/city_network.h"
#include "transit/transit_record.h"
#include "transit/validator.h"

namespace tapstack::benchkit {

// Phones of one gate rig (transit_bench's figure was measured with 16).
inline constexpr int kTransitRigPhonesDefault = 16;
// A card whose balance falls below this many times the rig's highest fare (a penalty is at most
// one maximum fare) is replaced by a new card after the tap (untimed), so that long runs never
// meet "insufficient balance".
inline constexpr std::uint32_t kTransitCardRefillFares = 3;
// A gate's pending records are uploaded and acknowledged (untimed) once this many wait, as a
// gate does when it reaches its back office: its file stays bounded in long runs.
inline constexpr std::size_t kTransitGatePendingMax = transit::kUploadRecordsMax;
// Cards the clearing records are spread over (transit_bench: 10,000).
inline constexpr int kTransitClearingCards = 10'000;

// The city `city_code` of seed/transit_cities.json. Errors: kNotFound (no file, unknown city).
Result<std::shared_ptr<const transit::CityNetwork>> LoadTransitCity(std::string_view city_code);

// The demo master keys of `city`'s cards.
transit::TransitMasterKeys TransitDemoKeys(const transit::CityNetwork& city);

// Serial number n of `city`: its 4-digit city code, then n in 16 decimal digits (BCD).
transit::Serial TransitSerial(const transit::CityNetwork& city, std::int64_t n);

// One tap's outcome, with what the timed part cost on the card side.
struct GateTap {
  transit::TapResult result;
  int card_apdus = 0;  // C-APDUs the gate sent to the phone
};

// A gate rig: `phones` phones with a card of `city` each, and an entry and an exit gate at two
// stations of the city's first metro line (a bus validator on its first bus line when the city
// has no metro). Taps alternate entry, exit per phone, phones round robin. Not thread-safe: one
// rig per worker thread (rigs with distinct `rig` numbers never share a file or serial number).
class TransitGateRig {
 public:
  // Files go under `dir` (created). Errors: validator, secure element or personalisation
  // errors, naming the step.
  static Result<std::unique_ptr<TransitGateRig>> Open(
      std::shared_ptr<const transit::CityNetwork> city, const std::filesystem::path& dir, int rig,
      int phones);

  // The next tap, the whole exchange: the gate's APDUs to the phone's purse applet and its PSAM,
  // and the gate's commits. This is the timed part.
  GateTap Tap();
  // Housekeeping after a tap, not part of it: a card running low is replaced by a new one, and a
  // gate with kTransitGatePendingMax records waiting uploads them. Errors: store or
  // personalisation errors.
  Status AfterTap(const GateTap& tap);

  std::int64_t taps() const { return taps_; }
  std::int64_t cards_issued() const { return cards_issued_; }
  std::int64_t fares_fen() const { return fares_fen_; }

 private:
  struct Phone {
    std::unique_ptr<device::SecureElement> se;
    std::string card_id;
  };
  TransitGateRig() = default;
  Status IssueCard(Phone& phone);

  std::shared_ptr<const transit::CityNetwork> city_;
  int rig_ = 0;
  std::vector<Phone> phones_;
  std::vector<std::unique_ptr<transit::Validator>> gates_;  // entry, exit; or one bus validator
  std::int64_t taps_ = 0;
  std::int64_t cards_issued_ = 0;
  std::int64_t fares_fen_ = 0;
  std::uint32_t refill_below_fen_ = 0;
  std::size_t last_phone_ = 0;
};

// `total` metro-exit records of `cards` cards of `city` (card c: offline counters 0, 1, …,
// 3.00 CNY each from a balance of 1,000.00 CNY, consistent from record to record), each with the
// TAC the card would compute (its DTK from the city's TAC master key), in card order. Errors:
// key diversification or TAC errors.
Result<std::vector<transit::TransitRecord>> MakeClearingRecords(const transit::CityNetwork& city,
                                                                std::int64_t total, int cards);

}  // namespace tapstack::benchkit
