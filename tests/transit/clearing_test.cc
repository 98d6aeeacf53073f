// transit/clearing.h: de-duplication, TAC checks with the card's key, counter reuse, balance
// continuity, interop settlement between two cities' operators, and repeated uploads.
#include "transit/clearing.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/sqlite_store.h"
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

constexpr char kSerial[] = "10000000000000000007";

// A record of a Beijing card as a validator would upload it, with a TAC made by the card's key.
TransitRecord Signed(const CityNetwork& card_city, std::string serial, std::uint16_t counter,
                     std::uint32_t sequence, std::uint32_t amount, std::uint32_t before, std::string time,
                     std::string acquirer_city = "1000") {
  TransitRecord r;
  r.card_serial = std::move(serial);
  r.card_city = card_city.city_code();
  r.offline_counter = counter;
  r.psam_number = "100000000001";
  r.psam_sequence = sequence;
  r.amount_fen = amount;
  r.balance_before_fen = before;
  r.type = 0x09;
  r.local_time = std::move(time);
  r.kind = "metro_exit";
  r.city = std::move(acquirer_city);
  r.line = 1;
  r.station = 106;
  r.validator_id = "bj-106-out";
  const crypto::SecretBytes dtk = CardKey(card_city, DemoKeys(card_city.city_code()).tac, SerialOf(r.card_serial)).value();
  r.tac = HexEncode(crypto::PurseTac(card_city.purse_algorithm(), dtk, r.TacInput().value()).value());
  return r;
}

class ClearingTest : public testing::TransitTest {
 protected:
  std::unique_ptr<Clearing> OpenClearing(std::string_view code, std::vector<std::string>* blacklisted = nullptr,
                                         std::vector<CardLoad> loads = {}) {
    ClearingOptions options;
    options.city = City(code);
    options.tac_master_key = DemoKeys(code).tac;
    options.store = store::OpenSqlite(dir_, "transit_" + std::string(code) + "_clearing").value();
    options.clock = &clock_;
    if (blacklisted != nullptr) {
      options.blacklist = [blacklisted](const std::string& serial, const std::string&) {
        blacklisted->push_back(serial);
        return Status::Ok();
      };
    }
    options.loads = [loads](const std::string&) -> Result<std::vector<CardLoad>> { return loads; };
    auto clearing = Clearing::Open(std::move(options));
    EXPECT_TRUE(clearing.ok()) << clearing.status().ToString();
    return std::move(clearing).value();
  }

  std::vector<std::string> Kinds(const Clearing& clearing) {
    std::vector<std::string> kinds;
    const Result<std::vector<Anomaly>> anomalies = clearing.Anomalies();
    EXPECT_TRUE(anomalies.ok()) << anomalies.status().ToString();
    if (!anomalies.ok()) return kinds;
    for (const Anomaly& a : *anomalies) kinds.push_back(a.kind);
    return kinds;
  }
};

TEST_F(ClearingTest, ValidatorUploadsClearOnceAndRepeatsAreAnsweredTheSame) {
  auto beijing = City("1000");
  auto phone = OpenPhone(dir_, "phone-1", clock_);
  IssueCard(*phone, *beijing, "card", kSerial, 5000);
  auto in = OpenValidator(dir_, "bj-101-in", ValidatorKind::kMetroEntry, beijing, 1, 101, clock_, 1);
  auto out = OpenValidator(dir_, "bj-106-out", ValidatorKind::kMetroExit, beijing, 1, 106, clock_, 2);
  ASSERT_TRUE(in->Tap(Field(*phone)).open);
  ASSERT_TRUE(out->Tap(Field(*phone)).open);
  auto clearing = OpenClearing("1000");

  for (Validator* validator : {in.get(), out.get()}) {
    const UploadBatch batch = validator->NextUploadBatch().value();
    const nlohmann::json body = UploadBatchToJson(batch, validator->id());
    const UploadResult result = clearing->IngestUpload(body).value();
    EXPECT_EQ(result.accepted, 1);
    EXPECT_EQ(result.rejected, 0) << ::testing::PrintToString(result.rejections);
    // The answer was lost: the validator sends the same batch again.
    const UploadResult again = clearing->IngestUpload(body).value();
    EXPECT_EQ(again.accepted, 1);
    ASSERT_TRUE(validator->AcknowledgeUpload(batch.batch_id).ok());
    // The same records under another batch id are duplicates, not new money.
    nlohmann::json renamed = body;
    renamed["batch_id"] = batch.batch_id + "-again";
    const UploadResult renamed_result = clearing->IngestUpload(renamed).value();
    EXPECT_EQ(renamed_result.accepted, 0);
    EXPECT_EQ(renamed_result.duplicates, 1);
  }
  EXPECT_EQ(clearing->ClearedRecords().value(), 2);
  EXPECT_TRUE(clearing->Anomalies().value().empty());
  EXPECT_EQ(clearing->LastClearedBalance(kSerial).value(), std::optional<std::uint32_t>(4400));
  EXPECT_TRUE(clearing->Positions().value().empty());  // a Beijing card in Beijing settles nothing
}

TEST_F(ClearingTest, BadTacIsRejectedReportedAndBlacklisted) {
  auto beijing = City("1000");
  std::vector<std::string> blacklisted;
  auto clearing = OpenClearing("1000", &blacklisted);
  TransitRecord forged = Signed(*beijing, kSerial, 3, 10, 300, 5000, "20261122090000");
  forged.amount_fen = 30;  // changed after the card signed it
  const std::vector<RecordVerdict> verdicts = clearing->ClearOwnCards(std::vector<TransitRecord>{forged}).value();
  EXPECT_EQ(verdicts[0].verdict, Verdict::kRejected);
  EXPECT_EQ(verdicts[0].reason, "bad TAC");
  EXPECT_EQ(Kinds(*clearing), std::vector<std::string>{"bad_tac"});
  EXPECT_EQ(blacklisted, std::vector<std::string>{kSerial});
  EXPECT_EQ(clearing->ClearedRecords().value(), 0);
}

TEST_F(ClearingTest, ACounterUsedTwiceIsAClone) {
  auto beijing = City("1000");
  std::vector<std::string> blacklisted;
  auto clearing = OpenClearing("1000", &blacklisted);
  const TransitRecord genuine = Signed(*beijing, kSerial, 3, 10, 300, 5000, "20261122090000");
  const TransitRecord clone = Signed(*beijing, kSerial, 3, 77, 300, 5000, "20261122091500");
  const std::vector<RecordVerdict> verdicts = clearing->ClearOwnCards(std::vector<TransitRecord>{genuine, clone}).value();
  EXPECT_EQ(verdicts[0].verdict, Verdict::kAccepted);
  EXPECT_EQ(verdicts[1].verdict, Verdict::kRejected);
  EXPECT_EQ(verdicts[1].reason, "counter reused");
  EXPECT_EQ(Kinds(*clearing), std::vector<std::string>{"counter_reused"});
  EXPECT_EQ(blacklisted, std::vector<std::string>{kSerial});
}

TEST_F(ClearingTest, BalanceMustFollowFromPurchasesAndConfirmedLoads) {
  auto beijing = City("1000");
  std::vector<std::string> blacklisted;
  {
    auto clearing = OpenClearing("1000", &blacklisted);
    // 5000 - 300 = 4700 after counter 3, but counter 4 starts from 6000: money from nowhere.
    const std::vector<RecordVerdict> verdicts =
        clearing
            ->ClearOwnCards(std::vector<TransitRecord>{Signed(*beijing, kSerial, 4, 11, 300, 6000, "20261122180000"),
                             Signed(*beijing, kSerial, 3, 10, 300, 5000, "20261122090000")})
            .value();
    EXPECT_EQ(verdicts[0].verdict, Verdict::kAccepted);  // the TAC proves the card made them
    EXPECT_EQ(verdicts[1].verdict, Verdict::kAccepted);
    EXPECT_EQ(Kinds(*clearing), std::vector<std::string>{"balance_gained"});
    EXPECT_EQ(blacklisted, std::vector<std::string>{kSerial});
  }
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  // The same pair with a confirmed 13.00 top-up between them is consistent.
  auto clearing = OpenClearing("1000", nullptr, {{1, 1300, "20261122120000"}});
  ASSERT_TRUE(clearing
                  ->ClearOwnCards(std::vector<TransitRecord>{Signed(*beijing, kSerial, 3, 10, 300, 5000, "20261122090000"),
                                   Signed(*beijing, kSerial, 4, 11, 300, 6000, "20261122180000")})
                  .ok());
  EXPECT_TRUE(clearing->Anomalies().value().empty());
}

// A load in the same second as a purchase may have come before or after it (the clocks are whole
// seconds): both readings are consistent, neither is an anomaly.
TEST_F(ClearingTest, ALoadInTheSameSecondAsAPurchaseCountsEitherWay) {
  auto beijing = City("1000");
  for (const std::uint32_t later_before : {4700u, 6000u}) {  // loaded before / after purchase 3
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto clearing = OpenClearing("1000", nullptr, {{1, 1300, "20261122090000"}});
    ASSERT_TRUE(clearing
                    ->ClearOwnCards(std::vector<TransitRecord>{
                        Signed(*beijing, kSerial, 3, 10, 300, 5000, "20261122090000"),
                        Signed(*beijing, kSerial, 4, 11, 300, later_before, "20261122180000")})
                    .ok());
    EXPECT_TRUE(clearing->Anomalies().value().empty()) << later_before;
  }
}

// A Shanghai card rides in Beijing: Beijing's clearing forwards the records to Shanghai's operator,
// which checks the TAC with its own key; Shanghai then owes Beijing the fares.
TEST_F(ClearingTest, InteropRecordsSettleBetweenTheTwoOperators) {
  auto shanghai_city = City("2000");
  auto shanghai = OpenClearing("2000");
  auto beijing = OpenClearing("1000");
  bool shanghai_reachable = false;
  // Rebuild Beijing with a national exchange that reaches Shanghai when allowed.
  beijing.reset();
  {
    ClearingOptions options;
    options.city = City("1000");
    options.tac_master_key = DemoKeys("1000").tac;
    options.store = store::OpenSqlite(dir_, "transit_1000_clearing").value();
    options.forward = [&](const std::string& card_city, std::span<const TransitRecord> records)
        -> Result<std::vector<RecordVerdict>> {
      if (card_city != "2000" || !shanghai_reachable) return Unavailable("issuer unreachable");
      return shanghai->ClearOwnCards(records);
    };
    beijing = Clearing::Open(std::move(options)).value();
  }
  const std::string sh_serial = "20000000000000000003";
  const TransitRecord ride = Signed(*shanghai_city, sh_serial, 1, 20, 500, 3000, "20261122100000", "1000");
  UploadBatch batch;
  batch.batch_id = "bj-106-out-1";
  batch.records = {ride};
  // Shanghai cannot be reached: the record is kept, the validator's upload is safe.
  UploadResult first = beijing->IngestUpload(UploadBatchToJson(batch, "bj-106-out")).value();
  EXPECT_EQ(first.accepted, 1);
  EXPECT_TRUE(beijing->Positions().value().empty());
  shanghai_reachable = true;
  ASSERT_TRUE(beijing->RetryForwarding().ok());
  const std::vector<SettlementPosition> ours = beijing->Positions().value();
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_EQ(ours[0].counterparty_city, "2000");
  EXPECT_EQ(ours[0].owed_to_us_fen, 500);
  const std::vector<SettlementPosition> theirs = shanghai->Positions().value();
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].counterparty_city, "1000");
  EXPECT_EQ(theirs[0].owed_by_us_fen, 500);
  // Nothing is forwarded or owed twice.
  ASSERT_TRUE(beijing->RetryForwarding().ok());
  batch.batch_id = "bj-106-out-2";
  EXPECT_EQ(beijing->IngestUpload(UploadBatchToJson(batch, "bj-106-out")).value().duplicates, 1);
  EXPECT_EQ(beijing->Positions().value()[0].owed_to_us_fen, 500);
  EXPECT_EQ(shanghai->Positions().value()[0].owed_by_us_fen, 500);
  // A forged foreign record is rejected by its issuer and owed by nobody.
  TransitRecord forged = Signed(*shanghai_city, sh_serial, 2, 21, 500, 2500, "20261122110000", "1000");
  forged.tac = "00000000";
  batch.batch_id = "bj-106-out-3";
  batch.records = {forged};
  const UploadResult rejected = beijing->IngestUpload(UploadBatchToJson(batch, "bj-106-out")).value();
  EXPECT_EQ(rejected.rejected, 1);
  EXPECT_EQ(beijing->Positions().value()[0].owed_to_us_fen, 500);
}

TEST_F(ClearingTest, MalformedUploadsAreRefusedWhole) {
  auto beijing = City("1000");
  auto clearing = OpenClearing("1000");
  UploadBatch batch;
  batch.batch_id = "b-1";
  batch.records = {Signed(*beijing, kSerial, 3, 10, 300, 5000, "20261122090000")};
  nlohmann::json body = UploadBatchToJson(batch, "bj-106-out");
  body["records"].push_back({{"card_serial", "short"}});
  const Result<UploadResult> refused = clearing->IngestUpload(body);
  ASSERT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("records[1]"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("card_serial"), std::string::npos);
  EXPECT_EQ(clearing->ClearedRecords().value(), 0);  // nothing of the batch was stored
  EXPECT_EQ(clearing->IngestUpload(nlohmann::json::array()).status().code(), ErrorCode::kInvalidArgument);
  nlohmann::json amount_above_balance = TransitRecordToJson(batch.records[0]);
  amount_above_balance["amount_fen"] = 6000;
  EXPECT_EQ(TransitRecordFromJson(amount_above_balance).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::transit
