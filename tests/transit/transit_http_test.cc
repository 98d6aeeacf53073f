// The transit operators' JSON API (transit/transit_http.h) through httplib::Client on a real
// loopback port: cards open into emulated phones, top-ups go through the real card's APDUs,
// validators ride and upload, and every refusal names its field.
#include "transit/transit_http.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "core/hex.h"
#include "transit/transit_operator.h"
#include "transit_test_util.h"

namespace tapstack::transit {
namespace {

using nlohmann::json;
using testing::DemoKeys;
using testing::Field;
using testing::OpenPhone;
using testing::OpenValidator;

constexpr std::int64_t kMinuteMillis = 60'000;

// Approves unless told to decline; records captures.
class FakePayment final : public TopUpPayment {
 public:
  Result<std::string> Authorize(std::string_view order_id, std::uint32_t,
                                const nlohmann::json& payment_data) override {
    if (payment_data.value("decline", false)) return FailedPrecondition("declined: 51");
    return "pay-" + std::string(order_id);
  }
  Status Capture(std::string_view ref) override {
    captured.push_back(std::string(ref));
    return Status::Ok();
  }
  Status Reverse(std::string_view ref) override {
    reversed.push_back(std::string(ref));
    return Status::Ok();
  }
  std::vector<std::string> captured;
  std::vector<std::string> reversed;
};

class TransitHttpTest : public testing::TransitTest {
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
    InstallTransitRoutes(server_, *network_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    phone_ = OpenPhone(dir_, "phone-1", clock_);
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
    TransitTest::TearDown();
  }

  struct Reply {
    int status = 0;
    json body;
  };
  static Reply ToReply(const httplib::Result& r) {
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  Reply PostRaw(const std::string& path, const std::string& body) {
    return ToReply(client_->Post(path, body, "application/json"));
  }
  Reply Post(const std::string& path, const json& body) { return PostRaw(path, body.dump()); }
  Reply Get(const std::string& path) { return ToReply(client_->Get(path)); }

  // Asserts a refusal: HTTP status, error code and the field it names.
  static void ExpectError(const Reply& r, int status, std::string_view code,
                          std::string_view field) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    EXPECT_EQ(r.body.value("error", ""), code) << r.body.dump();
    EXPECT_EQ(r.body.value("field", ""), field) << r.body.dump();
    EXPECT_FALSE(r.body.value("message", "").empty());
  }

  json IssueBody(const std::string& card_id, device::SecureElement& phone,
                 const std::string& account = "acct-1") {
    return {{"card_id", card_id},
            {"account_id", account},
            {"device_id", phone.device_id()},
            {"device_public_key", HexEncode(phone.public_key())},
            {"payment_data", {{"token", "t-1"}}}};
  }

  // Opens a card over HTTP and installs the wrapped profile in `phone`; returns the card JSON.
  json OpenCard(const std::string& city, const std::string& card_id, device::SecureElement& phone,
                const std::string& account = "acct-1") {
    const Reply r = Post("/v1/transit/" + city + "/cards", IssueBody(card_id, phone, account));
    EXPECT_EQ(r.status, 201) << r.body.dump();
    const Bytes profile = HexDecode(r.body["wrapped_profile"].get<std::string>()).value();
    EXPECT_TRUE(phone.InstallTransitCard(card_id, profile).ok());
    return r.body["card"];
  }

  PurseCommands Wallet(device::SecureElement& phone, const std::string& card_id) {
    return PurseCommands(
        [&phone, card_id](ByteView apdu) { return phone.TransmitToTransitCard(card_id, apdu); });
  }

  // The load terminal id the city publishes in /cities.
  TerminalId LoadTerminal(const std::string& city) {
    const Reply r = Get("/v1/transit/cities");
    for (const json& c : r.body["cities"]) {
      if (c["city_code"] == city) {
        const Bytes id = HexDecode(c["load_terminal_id"].get<std::string>()).value();
        TerminalId terminal{};
        std::copy(id.begin(), id.end(), terminal.begin());
        return terminal;
      }
    }
    ADD_FAILURE() << "no city " << city;
    return {};
  }

  // INITIALIZE FOR LOAD on the card through the wallet channel: the 16-byte answer as hex.
  std::string InitForLoad(device::SecureElement& phone, const std::string& card_id,
                          const std::string& city, std::uint32_t amount_fen) {
    Bytes apdu = {0x80, 0x50, 0x00, 0x02, 0x0B, 0x01};
    const Bytes amount = UintToBytes(amount_fen, 4);
    apdu.insert(apdu.end(), amount.begin(), amount.end());
    const TerminalId terminal = LoadTerminal(city);
    apdu.insert(apdu.end(), terminal.begin(), terminal.end());
    apdu.push_back(0x10);
    const Bytes answer = phone.TransmitToTransitCard(card_id, apdu);
    EXPECT_EQ(answer.size(), 18u);
    return HexEncode(ByteView(answer).first(16));
  }

  // orders -> load -> CREDIT FOR LOAD on the card -> confirm. Returns the confirmed order.
  json TopUp(const std::string& city, device::SecureElement& phone, const std::string& card_id,
             const std::string& serial, const std::string& order_id, std::uint32_t amount_fen) {
    const std::string base = "/v1/transit/" + city + "/orders";
    const Reply created = Post(base, {{"order_id", order_id},
                                      {"card_serial", serial},
                                      {"amount_fen", amount_fen},
                                      {"payment_data", {{"token", "t-1"}}}});
    EXPECT_EQ(created.status, 201) << created.body.dump();
    EXPECT_EQ(created.body["order"]["state"], "paid");
    const Reply load = Post(base + "/" + order_id + "/load",
                            {{"init_for_load", InitForLoad(phone, card_id, city, amount_fen)}});
    EXPECT_EQ(load.status, 200) << load.body.dump();
    const Bytes date = HexDecode(load.body["date"].get<std::string>()).value();
    const Bytes time = HexDecode(load.body["time"].get<std::string>()).value();
    const Bytes mac2 = HexDecode(load.body["mac2"].get<std::string>()).value();
    crypto::PurseMac mac{};
    std::copy(mac2.begin(), mac2.end(), mac.begin());
    const crypto::PurseMac tac = Wallet(phone, card_id).CreditForLoad(date, time, mac).value();
    const Reply confirmed = Post(base + "/" + order_id + "/confirm", {{"tac", HexEncode(tac)}});
    EXPECT_EQ(confirmed.status, 200) << confirmed.body.dump();
    return confirmed.body["order"];
  }

  // Pingguoyuan (101) -> Guomao (106) in Beijing, 6 CNY, both validators' batches POSTed.
  void RideInBeijing(device::SecureElement& phone, std::uint8_t psam_byte) {
    auto beijing = testing::City("1000");
    const std::string suffix = std::to_string(psam_byte);
    auto in = OpenValidator(dir_, "bj-101-in-" + suffix, ValidatorKind::kMetroEntry, beijing, 1,
                            101, clock_, psam_byte);
    auto out = OpenValidator(dir_, "bj-106-out-" + suffix, ValidatorKind::kMetroExit, beijing, 1,
                             106, clock_, static_cast<std::uint8_t>(psam_byte + 1));
    ASSERT_TRUE(in->Tap(Field(phone)).open);
    clock_.AdvanceMillis(20 * kMinuteMillis);
    const TapResult exit = out->Tap(Field(phone));
    ASSERT_TRUE(exit.open) << exit.reason;
    EXPECT_EQ(exit.fare_fen, 600u);
    for (Validator* v : {in.get(), out.get()}) {
      const UploadBatch batch = v->NextUploadBatch().value();
      const Reply r = Post("/v1/transit/1000/uploads", UploadBatchToJson(batch, v->id()));
      EXPECT_EQ(r.status, 200) << r.body.dump();
      EXPECT_EQ(r.body["batch_id"], batch.batch_id);
      EXPECT_EQ(r.body["accepted"], 1);
      EXPECT_EQ(r.body["rejected"], 0) << r.body.dump();
      ASSERT_TRUE(v->AcknowledgeUpload(batch.batch_id).ok());
    }
  }

  FakePayment payment_;
  std::unique_ptr<TransitNetwork> network_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
  std::unique_ptr<device::SecureElement> phone_;
};

TEST_F(TransitHttpTest, CitiesListTheSeedWithRulesAndMaps) {
  const Reply r = Get("/v1/transit/cities");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["cities"].size(), 6u);
  const json& beijing = r.body["cities"][0];
  EXPECT_EQ(beijing["city_code"], "1000");
  EXPECT_EQ(beijing["name"], "Beijing");
  EXPECT_EQ(beijing["purse_algorithm"], "tdes");
  EXPECT_EQ(beijing["card_rules"]["top_up_min_fen"], 1000);
  EXPECT_EQ(beijing["card_rules"]["refund_on_delete"], true);
  EXPECT_EQ(beijing["load_terminal_id"], "991000000001");
  EXPECT_EQ(beijing["metro"]["lines"][0]["stations"][0]["id"], 101);
  EXPECT_EQ(beijing["metro"]["lines"][0]["stations"][0]["name"], "Pingguoyuan");
  EXPECT_EQ(beijing["bus"]["default_fare_fen"], 100);
  const json& hangzhou = r.body["cities"][4];
  EXPECT_EQ(hangzhou["city_code"], "3310");
  EXPECT_TRUE(hangzhou["metro"].is_null());
  EXPECT_EQ(hangzhou["bus"]["lines"][2]["fare_fen"], 300);
  EXPECT_EQ(r.body["cities"][3]["purse_algorithm"], "sm4");
}

// Open, top up, ride, lose the phone (the gates learn it from /reference), then move the card to
// a new phone with the balance clearing knows.
TEST_F(TransitHttpTest, OpenTopUpRideLoseAndMigrate) {
  const json card = OpenCard("1000", "bj-1", *phone_);
  const std::string serial = card["serial"];
  EXPECT_EQ(serial.size(), 20u);
  EXPECT_EQ(card["status"], "active");
  EXPECT_EQ(card["account_id"], "acct-1");
  EXPECT_EQ(card["deposit_fen"], 0);
  // The same card_id again is the same card (a retry), with a fresh profile.
  const Reply retry = Post("/v1/transit/1000/cards", IssueBody("bj-1", *phone_));
  EXPECT_EQ(retry.status, 201);
  EXPECT_EQ(retry.body["card"]["serial"], serial);

  const json order = TopUp("1000", *phone_, "bj-1", serial, "order-1", 5000);
  EXPECT_EQ(order["state"], "loaded");
  EXPECT_EQ(order["captured"], true);
  EXPECT_EQ(order["online_counter"], 0);
  EXPECT_EQ(payment_.captured, std::vector<std::string>{"pay-order-1"});
  EXPECT_EQ(Get("/v1/transit/1000/orders/order-1").body["order"], order);
  EXPECT_EQ(Wallet(*phone_, "bj-1").GetBalance().value(), 5000u);
  // The same order again is the stored order, not a second payment.
  const Reply again = Post("/v1/transit/1000/orders", {{"order_id", "order-1"},
                                                       {"card_serial", serial},
                                                       {"amount_fen", 5000},
                                                       {"payment_data", {{"token", "t-1"}}}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body["order"]["state"], "loaded");

  clock_.AdvanceMillis(10 * kMinuteMillis);
  RideInBeijing(*phone_, 1);
  EXPECT_EQ(Get("/v1/transit/1000/anomalies").body["anomalies"], json::array());
  EXPECT_EQ(Get("/v1/transit/1000/settlement").body["positions"], json::array());

  // The phone is lost: the card is blacklisted and the gates' reference data carries it.
  const Reply lost = PostRaw("/v1/transit/1000/cards/" + serial + "/lost", "");
  ASSERT_EQ(lost.status, 200) << lost.body.dump();
  EXPECT_EQ(lost.body["card"]["status"], "lost");
  const Reply reference = Get("/v1/transit/1000/reference");
  ASSERT_EQ(reference.status, 200);
  EXPECT_EQ(reference.body["blacklist_version"], 1);
  EXPECT_EQ(reference.body["blacklist"],
            json::array({{{"card_serial", serial}, {"algorithm", "tdes"}}}));
  EXPECT_EQ(reference.body["city"]["name"], "Beijing");
  // A gate that applies it blocks the card at the next tap.
  auto gate = OpenValidator(dir_, "bj-104-in", ValidatorKind::kMetroEntry, testing::City("1000"), 1,
                            104, clock_, 9);
  std::vector<BlacklistEntry> entries;
  for (const json& e : reference.body["blacklist"]) {
    entries.push_back({e["card_serial"], crypto::PurseAlgorithm::kTdes});
  }
  ASSERT_TRUE(gate->ApplyBlacklist(reference.body["blacklist_version"], entries).ok());
  auto pushed = CityNetwork::FromJson(reference.body["city"]);
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  ASSERT_TRUE(gate->ApplyCityNetwork(std::make_shared<CityNetwork>(*pushed)).ok());
  const TapResult blocked = gate->Tap(Field(*phone_));
  EXPECT_FALSE(blocked.open);
  EXPECT_TRUE(blocked.blocked);

  // A new phone of the same account gets the card with the balance clearing knows (50 - 6 CNY).
  auto phone2 = OpenPhone(dir_, "phone-2", clock_);
  json move = IssueBody("bj-2", *phone2);
  move.erase("payment_data");
  const Reply migrated = Post("/v1/transit/1000/cards/" + serial + "/migrate", move);
  ASSERT_EQ(migrated.status, 201) << migrated.body.dump();
  EXPECT_EQ(migrated.body["card"]["replaces"], serial);
  EXPECT_EQ(migrated.body["fee_fen"], 0);
  const std::string new_serial = migrated.body["card"]["serial"];
  ASSERT_TRUE(
      phone2
          ->InstallTransitCard(
              "bj-2", HexDecode(migrated.body["wrapped_profile"].get<std::string>()).value())
          .ok());
  EXPECT_EQ(Wallet(*phone2, "bj-2").GetBalance().value(), 4400u);
  const json old_card = Get("/v1/transit/1000/cards/" + serial).body["card"];
  EXPECT_EQ(old_card["status"], "migrated");
  EXPECT_EQ(old_card["replaced_by"], new_serial);
  EXPECT_EQ(old_card["final_balance_fen"], 4400);
  const Reply cards = Get("/v1/transit/1000/accounts/acct-1/cards");
  ASSERT_EQ(cards.body["cards"].size(), 2u);
  EXPECT_EQ(cards.body["cards"][1]["serial"], new_serial);
  // The old serial cannot move twice.
  json move3 = IssueBody("bj-3", *phone2);
  move3.erase("payment_data");
  ExpectError(Post("/v1/transit/1000/cards/" + serial + "/migrate", move3), 409,
              "failed_precondition", "serial");
}

// Delete: the wallet blocks the card with the operator's MAC, reads the balance and closes.
TEST_F(TransitHttpTest, CloseAfterBlockMacRefundsTheBalance) {
  const std::string serial = OpenCard("1000", "bj-1", *phone_)["serial"];
  TopUp("1000", *phone_, "bj-1", serial, "order-1", 3000);
  PurseCommands wallet = Wallet(*phone_, "bj-1");
  ASSERT_TRUE(wallet.Select().ok());
  const auto challenge = wallet.GetChallenge().value();
  const Reply mac = Post("/v1/transit/1000/cards/" + serial + "/block-mac",
                         {{"challenge", HexEncode(challenge)}});
  ASSERT_EQ(mac.status, 200) << mac.body.dump();
  const Bytes mac_bytes = HexDecode(mac.body["mac"].get<std::string>()).value();
  ASSERT_EQ(mac_bytes.size(), 4u);
  crypto::PurseMac block{};
  std::copy(mac_bytes.begin(), mac_bytes.end(), block.begin());
  ASSERT_TRUE(wallet.ApplicationBlock(block).ok());
  const std::uint32_t balance = wallet.GetBalance().value();
  EXPECT_EQ(balance, 3000u);

  const Reply closed =
      Post("/v1/transit/1000/cards/" + serial + "/close", {{"final_balance_fen", balance}});
  ASSERT_EQ(closed.status, 200) << closed.body.dump();
  EXPECT_EQ(closed.body["refund_fen"], 3000);
  EXPECT_EQ(closed.body["refund_id"], "close-" + serial);
  const json card = Get("/v1/transit/1000/cards/" + serial).body["card"];
  EXPECT_EQ(card["status"], "closed");
  EXPECT_EQ(card["final_balance_fen"], 3000);
  // Closing again with the same balance is the same answer; another balance is refused.
  EXPECT_EQ(Post("/v1/transit/1000/cards/" + serial + "/close", {{"final_balance_fen", 3000}})
                .body["refund_fen"],
            3000);
  ExpectError(Post("/v1/transit/1000/cards/" + serial + "/close", {{"final_balance_fen", 10}}), 409,
              "failed_precondition", "serial");
  ExpectError(PostRaw("/v1/transit/1000/cards/" + serial + "/lost", ""), 409, "failed_precondition",
              "serial");
}

// A Shanghai card used on Beijing's metro: Beijing's clearing forwards it through the exchange,
// Shanghai's checks it, and both positions show the fare.
TEST_F(TransitHttpTest, AShanghaiCardInBeijingSettlesThroughTheExchange) {
  const std::string serial = OpenCard("2000", "sh-1", *phone_)["serial"];
  EXPECT_EQ(serial.substr(0, 4), "2000");
  TopUp("2000", *phone_, "sh-1", serial, "sh-order-1", 2000);
  clock_.AdvanceMillis(5 * kMinuteMillis);
  RideInBeijing(*phone_, 1);
  const Reply beijing = Get("/v1/transit/1000/settlement");
  ASSERT_EQ(beijing.status, 200);
  EXPECT_EQ(beijing.body["positions"], json::array({{{"counterparty_city", "2000"},
                                                     {"owed_to_us_fen", 600},
                                                     {"owed_by_us_fen", 0},
                                                     {"records", 2}}}));
  const Reply shanghai = Get("/v1/transit/2000/settlement");
  EXPECT_EQ(shanghai.body["positions"], json::array({{{"counterparty_city", "1000"},
                                                      {"owed_to_us_fen", 0},
                                                      {"owed_by_us_fen", 600},
                                                      {"records", 2}}}));
  EXPECT_EQ(Get("/v1/transit/2000/anomalies").body["anomalies"], json::array());
}

// Reconcile and cancel: an order authorised and loaded on the card whose confirm was lost is
// found in the card's log; a paid order never loaded is cancelled and reversed.
TEST_F(TransitHttpTest, ReconcileFindsALoadWhoseConfirmWasLostAndCancelReverses) {
  const std::string serial = OpenCard("1000", "bj-1", *phone_)["serial"];
  const std::string base = "/v1/transit/1000/orders";
  ASSERT_EQ(Post(base, {{"order_id", "o-1"},
                        {"card_serial", serial},
                        {"amount_fen", 2000},
                        {"payment_data", json::object()}})
                .status,
            201);
  const Reply load =
      Post(base + "/o-1/load", {{"init_for_load", InitForLoad(*phone_, "bj-1", "1000", 2000)}});
  ASSERT_EQ(load.status, 200) << load.body.dump();
  EXPECT_EQ(load.body["terminal_id"], "991000000001");
  EXPECT_EQ(load.body["date"], "20261122");
  EXPECT_EQ(load.body["time"], "083000");
  crypto::PurseMac mac2{};
  const Bytes mac2_bytes = HexDecode(load.body["mac2"].get<std::string>()).value();
  std::copy(mac2_bytes.begin(), mac2_bytes.end(), mac2.begin());
  ASSERT_TRUE(Wallet(*phone_, "bj-1")
                  .CreditForLoad(HexDecode(load.body["date"].get<std::string>()).value(),
                                 HexDecode(load.body["time"].get<std::string>()).value(), mac2)
                  .ok());
  EXPECT_EQ(Get(base + "/o-1").body["order"]["state"], "authorised");
  // The confirm never arrived: the wallet reads the card's log.
  const PurseLogRecord record = Wallet(*phone_, "bj-1").ReadLogRecord(1).value();
  const json log = json::array({{{"counter", record.counter},
                                 {"amount_fen", record.amount_fen},
                                 {"type", "02"},
                                 {"terminal_id", HexEncode(record.terminal_id)},
                                 {"date_time", HexEncode(record.date_time)}}});
  const Reply reconciled = Post("/v1/transit/1000/cards/" + serial + "/reconcile", {{"log", log}});
  ASSERT_EQ(reconciled.status, 200) << reconciled.body.dump();
  EXPECT_EQ(reconciled.body["loaded"], json::array({"o-1"}));
  EXPECT_EQ(reconciled.body["needs_review"], json::array());
  EXPECT_EQ(Get(base + "/o-1").body["order"]["state"], "loaded");

  ASSERT_EQ(Post(base, {{"order_id", "o-2"},
                        {"card_serial", serial},
                        {"amount_fen", 1000},
                        {"payment_data", json::object()}})
                .status,
            201);
  const Reply cancelled = Post(base + "/o-2/cancel", {{"online_counter", 1}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.body.dump();
  EXPECT_EQ(cancelled.body["order"]["state"], "refunded");
  EXPECT_EQ(payment_.reversed, std::vector<std::string>{"pay-o-2"});
  // A loaded order cannot be cancelled.
  ExpectError(Post(base + "/o-1/cancel", {{"online_counter", 1}}), 409, "failed_precondition",
              "order_id");
}

TEST_F(TransitHttpTest, BadRequestsNameTheirField) {
  const std::string serial = OpenCard("1000", "bj-1", *phone_)["serial"];
  const std::string cards = "/v1/transit/1000/cards";
  // Bodies.
  ExpectError(PostRaw(cards, "not json"), 400, "invalid_argument", "body");
  ExpectError(PostRaw(cards, "[1]"), 400, "invalid_argument", "body");
  ExpectError(PostRaw(cards, std::string(kTransitRequestBodyBytesMax + 1, ' ')), 400,
              "invalid_argument", "body");
  json body = IssueBody("bj-9", *phone_);
  body["colour"] = "red";
  ExpectError(Post(cards, body), 400, "invalid_argument", "colour");
  // Issue members.
  ExpectError(Post(cards, json::object()), 400, "invalid_argument", "card_id");
  body = IssueBody("bj-9", *phone_);
  body["account_id"] = 7;
  ExpectError(Post(cards, body), 400, "invalid_argument", "account_id");
  body = IssueBody("bj 9", *phone_);
  ExpectError(Post(cards, body), 400, "invalid_argument", "card_id");
  body = IssueBody("bj-9", *phone_);
  body["device_public_key"] = "04AB";
  ExpectError(Post(cards, body), 400, "invalid_argument", "device_public_key");
  body["device_public_key"] = "05" + std::string(128, 'A');
  ExpectError(Post(cards, body), 400, "invalid_argument", "device_public_key");
  body["device_public_key"] = "04" + std::string(128, 'A');  // not on the curve
  ExpectError(Post(cards, body), 400, "invalid_argument", "device_public_key");
  body = IssueBody("bj-9", *phone_);
  body["payment_data"] = "card";
  ExpectError(Post(cards, body), 400, "invalid_argument", "payment_data");
  // The same card_id for another device.
  auto phone2 = OpenPhone(dir_, "phone-2", clock_);
  ExpectError(Post(cards, IssueBody("bj-1", *phone2)), 409, "already_exists", "card_id");

  // Paths.
  ExpectError(Get("/v1/transit/10a0/cards/" + serial), 400, "invalid_argument", "city");
  ExpectError(Get("/v1/transit/9999/cards/" + serial), 404, "not_found", "city");
  ExpectError(Get(cards + "/12345"), 400, "invalid_argument", "serial");
  ExpectError(Get(cards + "/10000000000000009999"), 404, "not_found", "serial");
  ExpectError(Get("/v1/transit/1000/orders/no%20such"), 400, "invalid_argument", "order_id");
  ExpectError(Get("/v1/transit/1000/orders/nope"), 404, "not_found", "order_id");
  ExpectError(Get("/v1/transit/1000/accounts/a%20b/cards"), 400, "invalid_argument", "account_id");

  // Card actions.
  ExpectError(Post(cards + "/" + serial + "/block-mac", {{"challenge", "00112233445566"}}), 400,
              "invalid_argument", "challenge");
  ExpectError(Post(cards + "/10000000000000009999/block-mac", {{"challenge", "0011223344556677"}}),
              404, "not_found", "serial");
  ExpectError(Post(cards + "/" + serial + "/close", {{"final_balance_fen", -1}}), 400,
              "invalid_argument", "final_balance_fen");
  ExpectError(Post(cards + "/" + serial + "/close", {{"final_balance_fen", 100000000}}), 400,
              "invalid_argument", "final_balance_fen");
  ExpectError(Post(cards + "/" + serial + "/lost", {{"why", "stolen"}}), 400, "invalid_argument",
              "why");
  json move = IssueBody("bj-5", *phone2, "acct-2");
  move.erase("payment_data");
  ExpectError(Post(cards + "/" + serial + "/migrate", move), 409, "failed_precondition", "serial");
  move["account_id"] = "acct-1";
  move["balance_fen"] = 1.5;
  ExpectError(Post(cards + "/" + serial + "/migrate", move), 400, "invalid_argument",
              "balance_fen");
  move["balance_fen"] = 100001;  // above Beijing's card cap
  ExpectError(Post(cards + "/" + serial + "/migrate", move), 400, "invalid_argument",
              "balance_fen");
  const json good_log = {{"counter", 0},
                         {"amount_fen", 100},
                         {"type", "02"},
                         {"terminal_id", "991000000001"},
                         {"date_time", "20261122083000"}};
  json bad_log = good_log;
  bad_log["terminal_id"] = "9910";
  ExpectError(Post(cards + "/" + serial + "/reconcile", {{"log", json::array({bad_log})}}), 400,
              "invalid_argument", "log[0].terminal_id");
  bad_log = good_log;
  bad_log["date_time"] = "20261399083000";
  ExpectError(
      Post(cards + "/" + serial + "/reconcile", {{"log", json::array({good_log, bad_log})}}), 400,
      "invalid_argument", "log[1].date_time");
  ExpectError(Post(cards + "/" + serial + "/reconcile", {{"log", json::array({good_log, 1})}}), 400,
              "invalid_argument", "log[1]");
  ExpectError(Post(cards + "/" + serial + "/reconcile", {{"log", "none"}}), 400, "invalid_argument",
              "log");

  // Orders.
  const std::string orders = "/v1/transit/1000/orders";
  const json order = {{"order_id", "o-1"},
                      {"card_serial", serial},
                      {"amount_fen", 2000},
                      {"payment_data", json::object()}};
  json bad = order;
  bad["amount_fen"] = "2000";
  ExpectError(Post(orders, bad), 400, "invalid_argument", "amount_fen");
  bad["amount_fen"] = 10;  // below Beijing's minimum top-up
  ExpectError(Post(orders, bad), 400, "invalid_argument", "amount_fen");
  bad = order;
  bad.erase("payment_data");
  ExpectError(Post(orders, bad), 400, "invalid_argument", "payment_data");
  bad = order;
  bad["card_serial"] = "1000";
  ExpectError(Post(orders, bad), 400, "invalid_argument", "card_serial");
  bad["card_serial"] = "10000000000000009999";
  ExpectError(Post(orders, bad), 404, "not_found", "card_serial");
  bad = order;
  bad["order_id"] = "o-declined";
  bad["payment_data"] = {{"decline", true}};
  ExpectError(Post(orders, bad), 409, "failed_precondition", "payment_data");
  ASSERT_EQ(Post(orders, order).status, 201);
  bad = order;
  bad["amount_fen"] = 3000;
  ExpectError(Post(orders, bad), 409, "already_exists", "order_id");
  ExpectError(Post(orders + "/o-1/load", {{"init_for_load", "00"}}), 400, "invalid_argument",
              "init_for_load");
  ExpectError(
      Post(orders + "/nope/load", {{"init_for_load", InitForLoad(*phone_, "bj-1", "1000", 2000)}}),
      404, "not_found", "order_id");
  // A MAC1 changed on the way does not verify.
  std::string init = InitForLoad(*phone_, "bj-1", "1000", 2000);
  init[31] = init[31] == '0' ? '1' : '0';
  ExpectError(Post(orders + "/o-1/load", {{"init_for_load", init}}), 400, "invalid_argument",
              "init_for_load");
  // Confirm before any MAC2 was issued; then a TAC that is not the card's.
  ExpectError(Post(orders + "/o-1/confirm", {{"tac", "00000000"}}), 409, "failed_precondition",
              "order_id");
  ASSERT_EQ(
      Post(orders + "/o-1/load", {{"init_for_load", InitForLoad(*phone_, "bj-1", "1000", 2000)}})
          .status,
      200);
  ExpectError(Post(orders + "/o-1/confirm", {{"tac", "00000000"}}), 400, "invalid_argument", "tac");
  ExpectError(Post(orders + "/o-1/confirm", {{"tac", "0000"}}), 400, "invalid_argument", "tac");
  ExpectError(Post(orders + "/o-1/cancel", {{"online_counter", 70000}}), 400, "invalid_argument",
              "online_counter");
  ExpectError(Post(orders + "/o-1/cancel", json::object()), 400, "invalid_argument",
              "online_counter");

  // Uploads.
  const std::string uploads = "/v1/transit/1000/uploads";
  ExpectError(Post(uploads, {{"validator_id", "v-1"}, {"records", json::array()}}), 400,
              "invalid_argument", "batch_id");
  ExpectError(Post(uploads, {{"batch_id", "b-1"}, {"validator_id", "v-1"}}), 400,
              "invalid_argument", "records");
  ExpectError(
      Post(
          uploads,
          {{"batch_id", "b-1"}, {"validator_id", "v-1"}, {"records", json::array()}, {"extra", 1}}),
      400, "invalid_argument", "extra");
  TransitRecord record;
  record.card_serial = serial;
  record.card_city = "1000";
  record.psam_number = "100000000001";
  record.local_time = "20261122083000";
  record.tac = "00000000";
  record.kind = "bus";
  record.city = "1000";
  record.validator_id = "v-1";
  json records = json::array({TransitRecordToJson(record)});
  records[0]["type"] = 9;
  ExpectError(Post(uploads, {{"batch_id", "b-1"}, {"validator_id", "v-1"}, {"records", records}}),
              400, "invalid_argument", "records[0].type");
  records[0] = TransitRecordToJson(record);
  records[0]["psam_number"] = "12";
  ExpectError(Post(uploads, {{"batch_id", "b-1"}, {"validator_id", "v-1"}, {"records", records}}),
              400, "invalid_argument", "records[0].psam_number");
  // Nothing of a refused batch was stored.
  EXPECT_EQ(network_->Operator("1000").value()->clearing().ClearedRecords().value(), 0);
}

}  // namespace
}  // namespace tapstack::transit
