// transit/validator.h against a real emulated phone (device::SecureElement with the transit purse
// applet): every byte between gate, PSAM and card is an APDU. Fares come from the shipped seed.
#include "transit/validator.h"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "crypto/purse_crypto.h"
#include "transit/bcd_time.h"
#include "transit_test_util.h"

namespace tapstack::transit {
namespace {

using testing::City;
using testing::DemoKeys;
using testing::Field;
using testing::IssueCard;
using testing::OpenPhone;
using testing::OpenValidator;
using testing::SerialOf;

constexpr char kBeijingSerial[] = "10000000000000000001";
constexpr std::int64_t kMinuteMillis = 60'000;

class ValidatorTest : public testing::TransitTest {
 protected:
  void SetUp() override {
    TransitTest::SetUp();
    beijing_ = City("1000");
    phone_ = OpenPhone(dir_, "phone-1", clock_);
    IssueCard(*phone_, *beijing_, "bj-card", kBeijingSerial, 5000);
  }

  std::unique_ptr<Validator> Gate(std::string id, ValidatorKind kind, std::uint16_t station,
                                  std::uint8_t psam_byte, std::uint16_t line = 1) {
    return OpenValidator(dir_, std::move(id), kind, beijing_, line, station, clock_, psam_byte);
  }

  std::uint32_t Balance() {
    PurseCommands card([this](ByteView apdu) { return phone_->TransmitToTransitCard("bj-card", apdu); });
    EXPECT_TRUE(card.Select().ok());
    return card.GetBalance().value();
  }

  TripRecord Trip() {
    PurseCommands card([this](ByteView apdu) { return phone_->TransmitToTransitCard("bj-card", apdu); });
    EXPECT_TRUE(card.Select().ok());
    return DecodeTripRecord(card.ReadTripRecord().value()).value();
  }

  // The record's TAC under the card's DTK, as the issuer's clearing checks it.
  void ExpectTacVerifies(const TransitRecord& record, const CityNetwork& city) {
    const crypto::SecretBytes dtk =
        CardKey(city, DemoKeys(city.city_code()).tac, SerialOf(record.card_serial)).value();
    const crypto::PurseMac tac = crypto::PurseTac(city.purse_algorithm(), dtk, record.TacInput().value()).value();
    EXPECT_EQ(HexEncode(tac), record.tac) << record.DedupKey();
  }

  std::shared_ptr<const CityNetwork> beijing_;
  std::unique_ptr<device::SecureElement> phone_;
};

TEST_F(ValidatorTest, EntryThenExitChargesTheDistanceFare) {
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  auto out = Gate("bj-106-out", ValidatorKind::kMetroExit, 106, 2);
  const TapResult entry = in->Tap(Field(*phone_));
  ASSERT_TRUE(entry.open) << entry.reason;
  EXPECT_EQ(entry.fare_fen, 0u);
  EXPECT_EQ(Trip().state, TripState::kEntered);
  EXPECT_EQ(Trip().max_fare_reserved_fen, beijing_->MaxMetroFare(101).value());

  clock_.AdvanceMillis(35 * kMinuteMillis);
  const TapResult exit = out->Tap(Field(*phone_));
  ASSERT_TRUE(exit.open) << exit.reason;
  // Pingguoyuan -> Guomao is 24.3 km on Line 1: the 22-32 km band, 6 CNY.
  EXPECT_EQ(exit.fare_fen, 600u);
  EXPECT_EQ(exit.balance_fen, 4400u);
  EXPECT_EQ(Balance(), 4400u);
  const TripRecord trip = Trip();
  EXPECT_EQ(trip.state, TripState::kExited);
  EXPECT_EQ(trip.entry_station, 101);
  EXPECT_EQ(trip.exit_station, 106);
  EXPECT_EQ(trip.fare_charged_fen, 600u);

  const UploadBatch in_batch = in->NextUploadBatch().value();
  const UploadBatch out_batch = out->NextUploadBatch().value();
  ASSERT_EQ(in_batch.records.size(), 1u);
  ASSERT_EQ(out_batch.records.size(), 1u);
  const TransitRecord& exit_record = out_batch.records[0];
  EXPECT_EQ(exit_record.card_serial, kBeijingSerial);
  EXPECT_EQ(exit_record.card_city, "1000");
  EXPECT_EQ(exit_record.offline_counter, in_batch.records[0].offline_counter + 1);
  EXPECT_EQ(exit_record.amount_fen, 600u);
  EXPECT_EQ(exit_record.balance_before_fen, 5000u);
  EXPECT_EQ(exit_record.kind, "metro_exit");
  EXPECT_EQ(exit_record.local_time, "20261122090500");
  ExpectTacVerifies(in_batch.records[0], *beijing_);
  ExpectTacVerifies(exit_record, *beijing_);
}

TEST_F(ValidatorTest, InterchangeTripUsesTheShortestPath) {
  auto in = Gate("bj-401-in", ValidatorKind::kMetroEntry, 401, 1, 4);
  auto out = Gate("bj-105-out", ValidatorKind::kMetroExit, 105, 2);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  const TapResult exit = out->Tap(Field(*phone_));
  ASSERT_TRUE(exit.open) << exit.reason;
  EXPECT_EQ(exit.fare_fen, beijing_->MetroFare(401, 105).value());
  EXPECT_EQ(Balance(), 5000u - exit.fare_fen);
}

TEST_F(ValidatorTest, MissingExitIsChargedTheReservedMaximumAtTheNextEntry) {
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  const std::uint32_t max_fare = beijing_->MaxMetroFare(101).value();
  clock_.AdvanceMillis(600 * kMinuteMillis);
  const TapResult again = in->Tap(Field(*phone_));
  ASSERT_TRUE(again.open) << again.reason;
  EXPECT_EQ(again.penalty_fen, max_fare);
  EXPECT_EQ(again.fare_fen, max_fare);
  EXPECT_EQ(Balance(), 5000u - max_fare);
  EXPECT_EQ(Trip().state, TripState::kEntered);  // the new trip has begun
}

TEST_F(ValidatorTest, ExitWithoutEntryChargesTheMaximumFromThatStation) {
  auto out = Gate("bj-106-out", ValidatorKind::kMetroExit, 106, 2);
  const TapResult exit = out->Tap(Field(*phone_));
  ASSERT_TRUE(exit.open) << exit.reason;
  EXPECT_EQ(exit.fare_fen, beijing_->MaxMetroFare(106).value());
  EXPECT_EQ(exit.penalty_fen, exit.fare_fen);
}

TEST_F(ValidatorTest, TripOverTheTimeLimitPaysTheMaximum) {
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  auto out = Gate("bj-102-out", ValidatorKind::kMetroExit, 102, 2);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  clock_.AdvanceMillis((beijing_->metro()->max_trip_minutes + 1) * kMinuteMillis);
  const TapResult exit = out->Tap(Field(*phone_));
  ASSERT_TRUE(exit.open);
  EXPECT_EQ(exit.fare_fen, beijing_->MaxMetroFare(101).value());
}

TEST_F(ValidatorTest, LowBalanceKeepsTheGateShutAndTheCardUntouched) {
  auto phone = OpenPhone(dir_, "phone-2", clock_);
  IssueCard(*phone, *beijing_, "poor", "10000000000000000002", 250);  // below the 3 CNY minimum
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  const TapResult entry = in->Tap(Field(*phone));
  EXPECT_FALSE(entry.open);
  EXPECT_NE(entry.reason.find("insufficient balance"), std::string::npos) << entry.reason;
  EXPECT_EQ(entry.balance_fen, 250u);
  EXPECT_EQ(in->PendingRecords(), 0u);
  EXPECT_EQ(in->GreyRecords(), 0u);
}

TEST_F(ValidatorTest, BusFareAndTransferDiscountInShanghai) {
  auto shanghai = City("2000");
  auto phone = OpenPhone(dir_, "phone-sh", clock_);
  IssueCard(*phone, *shanghai, "sh-card", "20000000000000000001", 5000);
  auto in = OpenValidator(dir_, "sh-102-in", ValidatorKind::kMetroEntry, shanghai, 1, 102, clock_, 3);
  auto out = OpenValidator(dir_, "sh-104-out", ValidatorKind::kMetroExit, shanghai, 1, 104, clock_, 4);
  auto bus = OpenValidator(dir_, "sh-bus-911", ValidatorKind::kBus, shanghai, 911, 0, clock_, 5);
  ASSERT_TRUE(in->Tap(Field(*phone)).open);
  clock_.AdvanceMillis(20 * kMinuteMillis);
  const TapResult exit = out->Tap(Field(*phone));
  ASSERT_TRUE(exit.open);
  EXPECT_EQ(exit.fare_fen, 300u);  // 5.6 km: the first band
  clock_.AdvanceMillis(30 * kMinuteMillis);
  const TapResult transfer = bus->Tap(Field(*phone));
  ASSERT_TRUE(transfer.open) << transfer.reason;
  EXPECT_EQ(transfer.discount_fen, 100u);
  EXPECT_EQ(transfer.fare_fen, 100u);  // 2 CNY less the 1 CNY metro->bus discount
  clock_.AdvanceMillis(150 * kMinuteMillis);
  const TapResult late = bus->Tap(Field(*phone));
  ASSERT_TRUE(late.open);
  EXPECT_EQ(late.discount_fen, 0u);  // bus->bus is not a discounted pair, and the window passed
  EXPECT_EQ(late.fare_fen, 200u);
}

TEST_F(ValidatorTest, Sm4CardRidesThroughTheSamePsam) {
  auto shenzhen = City("5840");
  ASSERT_EQ(shenzhen->purse_algorithm(), crypto::PurseAlgorithm::kSm4);
  auto phone = OpenPhone(dir_, "phone-sz", clock_);
  IssueCard(*phone, *shenzhen, "sz-card", "58400000000000000001", 3000);
  auto in = OpenValidator(dir_, "sz-101-in", ValidatorKind::kMetroEntry, shenzhen, 1, 101, clock_, 6);
  auto out = OpenValidator(dir_, "sz-103-out", ValidatorKind::kMetroExit, shenzhen, 1, 103, clock_, 7);
  ASSERT_TRUE(in->Tap(Field(*phone)).open);
  const TapResult exit = out->Tap(Field(*phone));
  ASSERT_TRUE(exit.open) << exit.reason;
  EXPECT_EQ(exit.fare_fen, 300u);  // 4.9 km: the 4-8 km band
  const UploadBatch batch = out->NextUploadBatch().value();
  ASSERT_EQ(batch.records.size(), 1u);
  ExpectTacVerifies(batch.records[0], *shenzhen);
}

// The card answers the DEBIT but the answer never reaches the gate: the next tap at the same gate
// completes the record from GET TRANSACTION PROVE and charges nothing more.
TEST_F(ValidatorTest, TornDebitIsRecoveredWithoutChargingTwice) {
  auto out = Gate("bj-106-out", ValidatorKind::kMetroExit, 106, 2);
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  Transmit torn = [this](ByteView apdu) {
    Bytes answer = phone_->Transmit(apdu);
    if (apdu.size() > 1 && apdu[0] == 0x80 && apdu[1] == 0x54) return Bytes{};  // lost answer
    return answer;
  };
  const TapResult first = out->Tap(torn);
  EXPECT_FALSE(first.open);
  EXPECT_NE(first.reason.find("tap again"), std::string::npos) << first.reason;
  EXPECT_EQ(out->GreyRecords(), 1u);
  EXPECT_EQ(Balance(), 4400u);  // the card did pay

  const TapResult again = out->Tap(Field(*phone_));
  ASSERT_TRUE(again.open) << again.reason;
  EXPECT_TRUE(again.recovered);
  EXPECT_EQ(again.fare_fen, 600u);
  EXPECT_EQ(Balance(), 4400u);  // and only once
  EXPECT_EQ(out->GreyRecords(), 0u);
  const UploadBatch batch = out->NextUploadBatch().value();
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_TRUE(batch.records[0].recovered);
  ExpectTacVerifies(batch.records[0], *beijing_);
}

// The DEBIT never reaches the card: the next tap finds the counter unchanged, drops the grey record
// and charges once.
TEST_F(ValidatorTest, DebitThatNeverArrivedIsRetriedOnce) {
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  auto out = Gate("bj-106-out", ValidatorKind::kMetroExit, 106, 2);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  Transmit gone = [this](ByteView apdu) {
    if (apdu.size() > 1 && apdu[0] == 0x80 && apdu[1] == 0x54) return Bytes{};  // card already gone
    return phone_->Transmit(apdu);
  };
  EXPECT_FALSE(out->Tap(gone).open);
  EXPECT_EQ(Balance(), 5000u);
  const TapResult again = out->Tap(Field(*phone_));
  ASSERT_TRUE(again.open) << again.reason;
  EXPECT_FALSE(again.recovered);
  EXPECT_EQ(Balance(), 4400u);
  EXPECT_EQ(out->NextUploadBatch().value().records.size(), 1u);
}

TEST_F(ValidatorTest, BlacklistedCardIsBlockedOnTheSpot) {
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  ASSERT_TRUE(in->ApplyBlacklist(3, {{kBeijingSerial, crypto::PurseAlgorithm::kTdes}}).ok());
  const TapResult tap = in->Tap(Field(*phone_));
  EXPECT_FALSE(tap.open);
  EXPECT_TRUE(tap.blocked);
  // The card itself now refuses everything, at any gate.
  PurseCommands card(Field(*phone_));
  EXPECT_EQ(PurseError(card.Select()), emv::kSwSelectedFileInvalidated);
  auto other = Gate("bj-104-in", ValidatorKind::kMetroEntry, 104, 9);
  EXPECT_FALSE(other->Tap(Field(*phone_)).open);
  const UploadBatch batch = in->NextUploadBatch().value();
  ASSERT_EQ(batch.blocked_cards.size(), 1u);
  EXPECT_EQ(batch.blocked_cards[0], kBeijingSerial);
  // An older push does not undo the list.
  ASSERT_TRUE(in->ApplyBlacklist(2, {}).ok());
  EXPECT_EQ(in->blacklist_version(), 3);
}

TEST_F(ValidatorTest, UploadBatchIsResentUntilAcknowledgedAndStateSurvivesRestart) {
  std::uint32_t first_sequence = 0;
  {
    auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
    ASSERT_TRUE(in->Tap(Field(*phone_)).open);
    ASSERT_TRUE(in->ApplyBlacklist(1, {{"10000000000000000999", crypto::PurseAlgorithm::kTdes}}).ok());
    const UploadBatch batch = in->NextUploadBatch().value();
    ASSERT_EQ(batch.records.size(), 1u);
    first_sequence = batch.records[0].psam_sequence;
    EXPECT_EQ(in->NextUploadBatch().value().batch_id, batch.batch_id);  // same batch until acked
  }
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);  // restart
  EXPECT_EQ(in->PendingRecords(), 1u);
  EXPECT_EQ(in->blacklist_version(), 1);
  UploadBatch batch = in->NextUploadBatch().value();
  ASSERT_EQ(batch.records.size(), 1u);
  ASSERT_TRUE(in->AcknowledgeUpload(batch.batch_id).ok());
  EXPECT_EQ(in->PendingRecords(), 0u);
  EXPECT_EQ(in->AcknowledgeUpload(batch.batch_id).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(in->NextUploadBatch().value().empty());
  // The PSAM sequence never repeats across the restart.
  clock_.AdvanceMillis(600 * kMinuteMillis);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  batch = in->NextUploadBatch().value();
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_GT(batch.records[0].psam_sequence, first_sequence);
}

// The operator pushes a new fare table (GET /v1/transit/{city}/reference carries the city's
// configuration): the next exit is charged from it; a table for another city, or one without the
// validator's station, is refused and the fares stay as they were.
TEST_F(ValidatorTest, PushedFareTableAppliesToTheNextTap) {
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  auto out = Gate("bj-106-out", ValidatorKind::kMetroExit, 106, 2);
  std::ifstream seed_file(DefaultTransitCitiesPath().value());
  nlohmann::json seed = nlohmann::json::parse(seed_file);
  nlohmann::json city = seed["cities"][0];
  ASSERT_EQ(city["city_code"], "1000");
  for (nlohmann::json& band : city["metro"]["distance_bands"]) band["fare_fen"] = band["fare_fen"].get<int>() + 100;
  auto dearer = std::make_shared<const CityNetwork>(CityNetwork::FromJson(city).value());

  EXPECT_EQ(out->ApplyCityNetwork(City("2000")).code(), ErrorCode::kInvalidArgument);
  nlohmann::json no_station = seed["cities"][0];
  no_station["metro"]["lines"][0]["stations"].erase(5);  // Guomao (106)
  EXPECT_EQ(out->ApplyCityNetwork(std::make_shared<const CityNetwork>(CityNetwork::FromJson(no_station).value()))
                .code(),
            ErrorCode::kNotFound);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  EXPECT_EQ(out->Tap(Field(*phone_)).fare_fen, 600u);  // the old table still

  ASSERT_TRUE(in->ApplyCityNetwork(dearer).ok());
  ASSERT_TRUE(out->ApplyCityNetwork(dearer).ok());
  clock_.AdvanceMillis(60 * kMinuteMillis);
  ASSERT_TRUE(in->Tap(Field(*phone_)).open);
  const TapResult exit = out->Tap(Field(*phone_));
  ASSERT_TRUE(exit.open) << exit.reason;
  EXPECT_EQ(exit.fare_fen, 700u);
  EXPECT_EQ(Balance(), 5000u - 600u - 700u);
}

TEST_F(ValidatorTest, CityListAndValidityAreChecked) {
  auto in = OpenValidator(dir_, "bj-101-in", ValidatorKind::kMetroEntry, beijing_, 1, 101, clock_, 1);
  ValidatorOptions options;
  options.validator_id = "bj-104-in";
  options.kind = ValidatorKind::kMetroEntry;
  options.city = beijing_;
  options.line = 1;
  options.station = 104;
  options.data_dir = dir_;
  options.psam = testing::DemoPsam(8);
  options.clock = &clock_;
  options.accepted_cities = {"2000"};
  auto picky = Validator::Open(std::move(options)).value();
  const TapResult refused = picky->Tap(Field(*phone_));
  EXPECT_FALSE(refused.open);
  EXPECT_NE(refused.reason.find("city 1000"), std::string::npos) << refused.reason;

  clock_.SetUnixMillis(testing::kMorningMillis + std::int64_t{6} * 365 * 24 * 3600 * 1000);  // 2032
  const TapResult expired = in->Tap(Field(*phone_));
  EXPECT_FALSE(expired.open);
  EXPECT_NE(expired.reason.find("not valid"), std::string::npos) << expired.reason;
}

TEST_F(ValidatorTest, NoCardAndBadConfigurationAreReported) {
  auto in = Gate("bj-101-in", ValidatorKind::kMetroEntry, 101, 1);
  EXPECT_FALSE(in->Tap([](ByteView) { return Bytes{}; }).open);
  ValidatorOptions options;
  options.validator_id = "bad";
  options.kind = ValidatorKind::kMetroEntry;
  options.city = beijing_;
  options.station = 999;
  options.data_dir = dir_;
  options.psam = testing::DemoPsam(1);
  EXPECT_EQ(Validator::Open(std::move(options)).status().code(), ErrorCode::kNotFound);
  ValidatorOptions no_id;
  no_id.validator_id = "Bad Id";
  no_id.city = beijing_;
  EXPECT_EQ(Validator::Open(std::move(no_id)).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::transit
