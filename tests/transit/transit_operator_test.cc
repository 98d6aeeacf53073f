// transit/transit_operator.h: the six seed cities as one network of operators, each with its
// registry, load server and clearing wired together, and the national exchange between them.
// Cards are real emulated phones; top-ups go through the card's own INITIALIZE/CREDIT FOR LOAD.
#include "transit/transit_operator.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "transit_test_util.h"

namespace tapstack::transit {
namespace {

using testing::DemoKeys;
using testing::Field;
using testing::OpenPhone;
using testing::OpenValidator;

constexpr std::int64_t kMinuteMillis = 60'000;

// Approves everything; counts captures.
class ApprovingPayment final : public TopUpPayment {
 public:
  Result<std::string> Authorize(std::string_view order_id, std::uint32_t,
                                const nlohmann::json&) override {
    return "pay-" + std::string(order_id);
  }
  Status Capture(std::string_view) override {
    ++captures;
    return Status::Ok();
  }
  Status Reverse(std::string_view) override { return Status::Ok(); }
  int captures = 0;
};

class TransitOperatorTest : public testing::TransitTest {
 protected:
  void SetUp() override {
    TransitTest::SetUp();
    TransitNetworkOptions options;
    options.keys = [](const CityNetwork& city) { return DemoKeys(city.city_code()); };
    options.payment = &payment_;
    options.clock = &clock_;
    options.data_dir = dir_ / "operators";
    auto network = TransitNetwork::Open(std::move(options));
    ASSERT_TRUE(network.ok()) << network.status().ToString();
    network_ = std::move(network).value();
  }

  TransitOperator& Op(std::string_view code) { return *network_->Operator(code).value(); }

  // Issues `card_id` of `city` into `phone` through the operator's registry.
  std::string Issue(std::string_view city, device::SecureElement& phone, const std::string& card_id,
                    const std::string& account = "acct-1") {
    CardRequest request{card_id, account, phone.device_id(), phone.public_key(), {}};
    const IssuedCard issued = Op(city).registry().IssueCard(request).value();
    EXPECT_TRUE(phone.InstallTransitCard(card_id, issued.wrapped_profile).ok());
    return issued.serial;
  }

  // A paid order loaded into the card through the wallet channel and confirmed.
  void TopUp(std::string_view city, device::SecureElement& phone, const std::string& card_id,
             const std::string& serial, const std::string& order_id, std::uint32_t amount_fen) {
    LoadServer& server = Op(city).load_server();
    ASSERT_TRUE(server.CreateOrder(order_id, serial, amount_fen, {{"token", "t"}}).ok());
    PurseCommands wallet(
        [&phone, card_id](ByteView apdu) { return phone.TransmitToTransitCard(card_id, apdu); });
    const LoadInit init = wallet.InitializeForLoad(amount_fen, server.terminal_id()).value();
    Bytes answer = UintToBytes(init.balance_fen, 4);
    const Bytes counter = UintToBytes(init.online_counter, 2);
    answer.insert(answer.end(), counter.begin(), counter.end());
    answer.push_back(init.key_version);
    answer.push_back(crypto::PurseAlgorithmId(init.algorithm));
    answer.insert(answer.end(), init.card_random.begin(), init.card_random.end());
    answer.insert(answer.end(), init.mac1.begin(), init.mac1.end());
    const LoadAuthorization auth = server.AuthorizeLoad(order_id, answer).value();
    const crypto::PurseMac tac = wallet.CreditForLoad(auth.date, auth.time, auth.mac2).value();
    ASSERT_EQ(server.ConfirmLoad(order_id, tac).value().state, LoadOrderState::kLoaded);
  }

  // A metro ride in Beijing (Pingguoyuan 101 -> Guomao 106: 24.3 km, 6 CNY) whose records are
  // uploaded to Beijing's clearing through the network.
  void RideInBeijing(device::SecureElement& phone, std::uint8_t psam_byte) {
    auto beijing = testing::City("1000");
    const std::string suffix = std::to_string(psam_byte);
    auto in = OpenValidator(dir_, "bj-101-in-" + suffix, ValidatorKind::kMetroEntry, beijing, 1,
                            101, clock_, psam_byte);
    auto out = OpenValidator(dir_, "bj-106-out-" + suffix, ValidatorKind::kMetroExit, beijing, 1,
                             106, clock_, static_cast<std::uint8_t>(psam_byte + 1));
    ASSERT_TRUE(in->Tap(Field(phone)).open);
    clock_.AdvanceMillis(20 * kMinuteMillis);
    ASSERT_TRUE(out->Tap(Field(phone)).open);
    for (Validator* v : {in.get(), out.get()}) {
      const UploadBatch batch = v->NextUploadBatch().value();
      const UploadResult result =
          network_->IngestUpload("1000", UploadBatchToJson(batch, v->id())).value();
      EXPECT_EQ(result.rejected, 0) << ::testing::PrintToString(result.rejections);
      ASSERT_TRUE(v->AcknowledgeUpload(batch.batch_id).ok());
    }
  }

  ApprovingPayment payment_;
  std::unique_ptr<TransitNetwork> network_;
};

TEST_F(TransitOperatorTest, EverySeedCityHasAnOperatorAndUnknownCodesAreNotFound) {
  EXPECT_EQ(network_->city_codes(),
            (std::vector<std::string>{"1000", "2000", "5810", "5840", "3310", "5210"}));
  EXPECT_EQ(Op("2000").city().name(), "Shanghai");
  EXPECT_EQ(network_->Operator("9999").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(network_->IngestUpload("9999", nlohmann::json::object()).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ((*network_->CitySeed("1000").value())["name"], "Beijing");
  EXPECT_EQ(network_->CitySeed("0000").status().code(), ErrorCode::kNotFound);
  // Each city's load server has its own terminal id.
  EXPECT_EQ(HexEncode(Op("1000").load_server().terminal_id()), "991000000001");
  EXPECT_EQ(HexEncode(Op("5840").load_server().terminal_id()), "995840000001");
  EXPECT_EQ(ClearingStoreRole("1000").value(), "transit_1000_clearing");
  EXPECT_EQ(ClearingStoreRole("10").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "operators" / "transit_2000_clearing.db"));
}

TEST_F(TransitOperatorTest, OpenRefusesAMissingKeysFunctionOrPayment) {
  const auto keys = [](const CityNetwork& city) { return DemoKeys(city.city_code()); };
  TransitNetworkOptions no_keys;
  no_keys.payment = &payment_;
  no_keys.data_dir = dir_;
  EXPECT_EQ(TransitNetwork::Open(std::move(no_keys)).status().code(), ErrorCode::kInvalidArgument);
  TransitNetworkOptions no_payment;
  no_payment.keys = keys;
  no_payment.data_dir = dir_;
  EXPECT_EQ(TransitNetwork::Open(std::move(no_payment)).status().code(),
            ErrorCode::kInvalidArgument);
  TransitNetworkOptions bad_path;
  bad_path.keys = keys;
  bad_path.payment = &payment_;
  bad_path.cities_path = dir_ / "missing.json";
  EXPECT_EQ(TransitNetwork::Open(std::move(bad_path)).status().code(), ErrorCode::kNotFound);
}

// The clearing's loads hook is the load server: a top-up between two rides explains the higher
// balance, so nothing is reported and the card stays off the blacklist.
TEST_F(TransitOperatorTest, ClearingSeesTheLoadServersTopUps) {
  auto phone = OpenPhone(dir_, "phone-1", clock_);
  const std::string serial = Issue("1000", *phone, "bj-1");
  TopUp("1000", *phone, "bj-1", serial, "order-1", 2000);
  clock_.AdvanceMillis(5 * kMinuteMillis);
  RideInBeijing(*phone, 1);  // 2000 -> 1400
  clock_.AdvanceMillis(60 * kMinuteMillis);
  TopUp("1000", *phone, "bj-1", serial, "order-2", 5000);  // 1400 -> 6400
  clock_.AdvanceMillis(60 * kMinuteMillis);
  RideInBeijing(*phone, 3);  // 6400 -> 5800
  EXPECT_TRUE(Op("1000").clearing().Anomalies().value().empty());
  EXPECT_TRUE(Op("1000").registry().Blacklist().value().entries.empty());
  EXPECT_EQ(Op("1000").clearing().ClearedRecords().value(), 4);
  EXPECT_EQ(Op("1000").KnownBalance(serial).value(), 5800u);
  EXPECT_EQ(payment_.captures, 2);
}

// The blacklist hook is the registry: a record whose TAC does not verify lists the card, and the
// reference data gates poll carries it.
TEST_F(TransitOperatorTest, AClearingAnomalyBlacklistsTheCardInTheRegistry) {
  auto phone = OpenPhone(dir_, "phone-1", clock_);
  const std::string serial = Issue("1000", *phone, "bj-1");
  TopUp("1000", *phone, "bj-1", serial, "order-1", 2000);
  auto beijing = testing::City("1000");
  auto in =
      OpenValidator(dir_, "bj-101-in", ValidatorKind::kMetroEntry, beijing, 1, 101, clock_, 1);
  ASSERT_TRUE(in->Tap(Field(*phone)).open);
  UploadBatch batch = in->NextUploadBatch().value();
  ASSERT_EQ(batch.records.size(), 1u);
  batch.records[0].tac = "00000000";  // not the card's
  const UploadResult result =
      network_->IngestUpload("1000", UploadBatchToJson(batch, in->id())).value();
  EXPECT_EQ(result.rejected, 1);
  const BlacklistSnapshot blacklist = Op("1000").registry().Blacklist().value();
  ASSERT_EQ(blacklist.entries.size(), 1u);
  EXPECT_EQ(blacklist.entries[0].card_serial, serial);
  EXPECT_EQ(blacklist.version, 1);
}

// A Shanghai card rides in Beijing: Beijing's clearing forwards the records through the exchange
// to Shanghai, which checks them with its own TAC key; both sides book the position.
TEST_F(TransitOperatorTest, AnotherCitysCardSettlesThroughTheExchange) {
  auto phone = OpenPhone(dir_, "phone-1", clock_);
  const std::string serial = Issue("2000", *phone, "sh-1");
  EXPECT_EQ(serial.substr(0, 4), "2000");
  TopUp("2000", *phone, "sh-1", serial, "sh-order-1", 3000);
  clock_.AdvanceMillis(5 * kMinuteMillis);
  RideInBeijing(*phone, 1);

  const std::vector<SettlementPosition> beijing = Op("1000").clearing().Positions().value();
  ASSERT_EQ(beijing.size(), 1u);
  EXPECT_EQ(beijing[0].counterparty_city, "2000");
  EXPECT_EQ(beijing[0].owed_to_us_fen, 600);
  EXPECT_EQ(beijing[0].owed_by_us_fen, 0);
  EXPECT_EQ(beijing[0].records, 2);
  const std::vector<SettlementPosition> shanghai = Op("2000").clearing().Positions().value();
  ASSERT_EQ(shanghai.size(), 1u);
  EXPECT_EQ(shanghai[0].counterparty_city, "1000");
  EXPECT_EQ(shanghai[0].owed_by_us_fen, 600);
  EXPECT_EQ(shanghai[0].owed_to_us_fen, 0);
  // The issuer knows the card's balance from the forwarded records.
  EXPECT_EQ(Op("2000").KnownBalance(serial).value(), 2400u);
  EXPECT_TRUE(Op("2000").clearing().Anomalies().value().empty());
  ASSERT_TRUE(network_->RetryForwarding().ok());  // nothing waiting: positions unchanged
  EXPECT_EQ(Op("1000").clearing().Positions().value()[0].owed_to_us_fen, 600);
}

// A lost phone: the new card carries the balance clearing knows (loads before any ride: the
// opening balance plus the confirmed loads).
TEST_F(TransitOperatorTest, MigrateWithoutABalanceUsesWhatTheOperatorKnows) {
  auto phone = OpenPhone(dir_, "phone-1", clock_);
  auto phone2 = OpenPhone(dir_, "phone-2", clock_);
  const std::string serial = Issue("1000", *phone, "bj-1");
  TopUp("1000", *phone, "bj-1", serial, "order-1", 3000);
  EXPECT_EQ(Op("1000").KnownBalance(serial).value(), 3000u);  // nothing cleared yet
  clock_.AdvanceMillis(5 * kMinuteMillis);
  RideInBeijing(*phone, 1);
  ASSERT_TRUE(Op("1000").registry().ReportLost(serial).ok());

  const MigrationRequest request{"bj-2", "acct-1", phone2->device_id(), phone2->public_key()};
  const IssuedCard moved = Op("1000").MigrateCard(serial, request, std::nullopt).value();
  EXPECT_EQ(moved.opening_balance_fen, 2400u);
  ASSERT_TRUE(phone2->InstallTransitCard("bj-2", moved.wrapped_profile).ok());
  PurseCommands card([&](ByteView apdu) { return phone2->TransmitToTransitCard("bj-2", apdu); });
  EXPECT_EQ(card.GetBalance().value(), 2400u);
  EXPECT_EQ(Op("1000").registry().Card(serial)->status, CardStatus::kMigrated);
  // The new card's known balance starts from its opening balance.
  EXPECT_EQ(Op("1000").KnownBalance(moved.serial).value(), 2400u);

  // A given balance (read from a blocked old card) wins over the estimate.
  auto phone3 = OpenPhone(dir_, "phone-3", clock_);
  const MigrationRequest again{"bj-3", "acct-1", phone3->device_id(), phone3->public_key()};
  EXPECT_EQ(Op("1000").MigrateCard(moved.serial, again, 1234u).value().opening_balance_fen, 1234u);
  EXPECT_EQ(Op("1000").KnownBalance("10000000000000009999").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Op("1000").MigrateCard("123", again, std::nullopt).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::transit
