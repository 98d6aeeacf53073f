// The handset API on the one-process node: a web app's phone binds a demo card (SMS code from the
// handset's inbox), taps at a POS terminal through the switch, opens and rides a transit card,
// and keeps all of it across a restart. Every call goes over HTTP, as the browser's do.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "server/demo_node.h"

namespace tapstack::server {
namespace {

using nlohmann::json;

struct Answer {
  int status = 0;
  json body;
};

class HandsetRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-handset-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_.data_dir = dir_.string();
    config_.http_port = 0;
    config_.iso8583_port = 0;
    config_.cards_per_bank = 20;
    StartNode();
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartNode() {
    auto node = DemoNode::Start(config_);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
  }

  Answer Call(const std::string& method, const std::string& path, const json& body = nullptr,
              const std::string& session = "", const std::string& key = "") {
    httplib::Client client(node_->http_url());
    client.set_read_timeout(30);
    httplib::Headers headers;
    if (!session.empty()) headers.emplace("Authorization", "Bearer " + session);
    if (!key.empty()) headers.emplace("Idempotency-Key", key);
    auto res = method == "GET" ? client.Get(path, headers)
                               : client.Post(path, headers, body.is_null() ? "" : body.dump(),
                                             "application/json");
    if (!res) return {};
    Answer a{res->status, json::parse(res->body, nullptr, false)};
    EXPECT_FALSE(a.body.is_discarded()) << method << " " << path << ": " << res->body;
    return a;
  }

  // A wallet user with a phone handset registered as their device; returns the handset id.
  std::string NewUserWithPhone(const std::string& phone) {
    EXPECT_EQ(Call("POST", "/v1/users", {{"phone", phone}, {"password", "password-123"}}).status,
              201);
    Answer s = Call("POST", "/v1/sessions", {{"phone", phone}, {"password", "password-123"}});
    session_ = s.body.value("session", "");
    user_id_ = s.body.value("user_id", "");
    Answer h = Call("POST", "/v1/handsets",
                    {{"kind", "phone"}, {"name", "Li Lei's phone"}, {"phone", phone}}, session_);
    EXPECT_EQ(h.status, 201) << h.body.dump();
    const std::string id = h.body.value("handset_id", "");
    EXPECT_EQ(Call("POST", "/v1/devices",
                   {{"device_id", id},
                    {"kind", "phone"},
                    {"name", "Li Lei's phone"},
                    {"se_public_key", h.body["se_public_key"]},
                    {"storage", "se"}},
                   session_)
                  .status,
              201);
    return id;
  }

  // Binds demo debit card `index` of the first bank to `handset` with the SMS code the handset
  // received, installs the credentials; returns the token id.
  std::string BindCard(const std::string& handset, int index) {
    const demo::DemoBank& bank = demo_bank();
    const std::string pan = demo::DemoCardNumber(bank, demo::CardKind::kDebit, index).value();
    const std::string cvv2 =
        demo::DemoCardCvv2(bank.institution_id, pan, demo::kDemoCardExpiry).value();
    Answer add = Call("POST", "/v1/cards",
                      {{"device_id", handset},
                       {"card_type", "debit"},
                       {"pan", pan},
                       {"expiry", "12/29"},
                       {"cvv2", cvv2},
                       {"holder_name", "LI LEI"}},
                      session_, "add-" + std::to_string(index));
    EXPECT_EQ(add.status, 202) << add.body.dump();
    Answer inbox = Call("GET", "/v1/handsets/" + handset + "/messages?after_unix_ms=0");
    EXPECT_EQ(inbox.status, 200);
    EXPECT_EQ(inbox.body["messages"].size(), 1u) << inbox.body.dump();
    std::smatch otp;
    const std::string text = inbox.body["messages"][0].value("text", "");
    EXPECT_TRUE(std::regex_search(text, otp, std::regex(R"(\b(\d{6})\b)"))) << text;
    const std::string card_id = add.body["card"].value("card_id", "");
    Answer verified = Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", otp[1].str()}},
                           session_, "verify-" + std::to_string(index));
    EXPECT_EQ(verified.status, 200) << verified.body.dump();
    std::string token_id;
    for (const json& t : verified.body["card"]["tokens"]) {
      if (t.value("device_id", "") == handset) token_id = t.value("token_id", "");
    }
    Answer installed =
        Call("POST", "/v1/handsets/" + handset + "/credentials",
             {{"token_id", token_id}, {"credentials", verified.body["credentials"]}});
    EXPECT_EQ(installed.status, 200) << installed.body.dump();
    return token_id;
  }

  const demo::DemoBank& demo_bank() {
    static const demo::DemoNetwork network =
        demo::LoadDemoNetwork(demo::DefaultSeedPath().value()).value();
    return network.banks.at(0);
  }

  std::filesystem::path dir_;
  ServeConfig config_;
  std::unique_ptr<DemoNode> node_;
  std::string session_, user_id_;
};

TEST_F(HandsetRoutesTest, BindsACardWithTheSmsCodeAndTapsAtAPosThroughTheSwitch) {
  const std::string handset = NewUserWithPhone("+8613800138001");
  const std::string token = BindCard(handset, 3);
  ASSERT_FALSE(token.empty());

  Answer merchants = Call("GET", "/v1/pos/merchants");
  ASSERT_EQ(merchants.status, 200);
  const std::string merchant = merchants.body["merchants"][0].value("merchant_id", "");
  Answer tap = Call("POST", "/v1/handsets/" + handset + "/taps",
                    {{"token_id", token},
                     {"merchant_id", merchant},
                     {"amount_minor", 1250},
                     {"fingerprint", true}});
  ASSERT_EQ(tap.status, 200) << tap.body.dump();
  EXPECT_TRUE(tap.body["approved"]);
  EXPECT_EQ(tap.body["response_code"], "00");
  EXPECT_EQ(tap.body["approval_code"].get<std::string>().size(), 6u);
  EXPECT_EQ(tap.body["token_last4"].get<std::string>().size(), 4u);
  // Without the fingerprint the card declines offline: nothing reaches the switch.
  Answer no_cdcvm = Call("POST", "/v1/handsets/" + handset + "/taps",
                         {{"token_id", token}, {"merchant_id", merchant}, {"amount_minor", 1250}});
  ASSERT_EQ(no_cdcvm.status, 200);
  EXPECT_FALSE(no_cdcvm.body["approved"]);
  EXPECT_TRUE(no_cdcvm.body["offline_decline"]);
  // The wallet's history of the card holds the approved tap.
  Answer cards = Call("GET", "/v1/cards", nullptr, session_);
  const std::string card_id = cards.body["cards"][0].value("card_id", "");
  Answer history = Call("GET", "/v1/cards/" + card_id + "/transactions", nullptr, session_);
  ASSERT_EQ(history.status, 200);
  ASSERT_GE(history.body["transactions"].size(), 1u) << history.body.dump();
  EXPECT_EQ(history.body["transactions"][0]["amount_minor"], 1250);

  // Lost phone: the wallet suspends the token at the TSP, and the same tap is declined online.
  ASSERT_EQ(Call("POST", "/v1/devices/" + handset + "/lost", nullptr, session_).status, 200);
  Answer lost_tap = Call("POST", "/v1/handsets/" + handset + "/taps",
                         {{"token_id", token},
                          {"merchant_id", merchant},
                          {"amount_minor", 1250},
                          {"fingerprint", true}});
  ASSERT_EQ(lost_tap.status, 200);
  EXPECT_FALSE(lost_tap.body["approved"]);
  EXPECT_FALSE(lost_tap.body["offline_decline"]);
  EXPECT_NE(lost_tap.body["response_code"], "00");

  // A restart keeps the handset, its element and the token's ATC.
  const int atc_before = Call("GET", "/v1/handsets/" + handset).body["tokens"][0].value("atc", -1);
  EXPECT_GE(atc_before, 3);
  node_.reset();
  StartNode();
  Answer after = Call("GET", "/v1/handsets/" + handset);
  ASSERT_EQ(after.status, 200) << after.body.dump();
  EXPECT_EQ(after.body["tokens"][0].value("atc", -1), atc_before);
}

TEST_F(HandsetRoutesTest, OpensTopsUpAndRidesATransitCard) {
  const std::string handset = NewUserWithPhone("+8613800138002");
  const std::string token = BindCard(handset, 4);
  Answer opened = Call("POST", "/v1/handsets/" + handset + "/transit/cards",
                       {{"city", "1000"}, {"account_id", user_id_}, {"token_id", token}});
  ASSERT_EQ(opened.status, 201) << opened.body.dump();
  const std::string card = opened.body["card"].value("card_id", "");
  const std::string base = "/v1/handsets/" + handset + "/transit/cards/" + card;
  EXPECT_EQ(Call("POST", base + "/top-ups", {{"amount_fen", 5000}, {"token_id", token}}).status, 400);
  Answer topped = Call("POST", base + "/top-ups", {{"amount_fen", 5000}, {"token_id", token}}, "", "top-up-1");
  ASSERT_EQ(topped.status, 200) << topped.body.dump();
  EXPECT_EQ(topped.body["balance_fen"], 5000);
  // The same top-up again (a retry after a lost answer): the order loaded already, no second charge.
  Answer again = Call("POST", base + "/top-ups", {{"amount_fen", 5000}, {"token_id", token}}, "", "top-up-1");
  ASSERT_EQ(again.status, 200) << again.body.dump();
  EXPECT_EQ(again.body["balance_fen"], 5000);
  EXPECT_EQ(Call("POST", base + "/top-ups", {{"amount_fen", 700}, {"token_id", token}}, "", "top-up-1").status, 409);

  Answer reference = Call("GET", "/v1/transit/1000/reference");
  const json& line = reference.body["city"]["metro"]["lines"][0];
  const int from = line["stations"][0]["id"];
  const int to = line["stations"][3]["id"];
  Answer in = Call("POST", base + "/rides",
                   {{"gate", "metro_entry"}, {"line", line["id"]}, {"station", from}});
  ASSERT_EQ(in.status, 200) << in.body.dump();
  EXPECT_TRUE(in.body["open"]);
  EXPECT_EQ(in.body["fare_fen"], 0);
  Answer out = Call("POST", base + "/rides",
                    {{"gate", "metro_exit"}, {"line", line["id"]}, {"station", to}});
  ASSERT_EQ(out.status, 200) << out.body.dump();
  EXPECT_TRUE(out.body["open"]);
  const int fare = out.body["fare_fen"];
  EXPECT_GT(fare, 0);
  // Gates exist only at the city's own stations and lines.
  Answer nowhere = Call("POST", base + "/rides", {{"gate", "metro_entry"}, {"line", line["id"]}, {"station", 65000}});
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_EQ(nowhere.body["field"], "station");
  Answer no_bus = Call("POST", base + "/rides", {{"gate", "bus"}, {"line", 5000}});
  EXPECT_EQ(no_bus.status, 404);
  EXPECT_EQ(no_bus.body["field"], "line");
  Answer read = Call("GET", base);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.body["balance_fen"], 5000 - fare);
  ASSERT_GE(read.body["trips"].size(), 2u);
  EXPECT_EQ(read.body["trips"][0]["kind"], "purchase");
  EXPECT_EQ(read.body["trips"][0]["amount_fen"], fare);
  EXPECT_NE(read.body["trips"][0]["where"].get<std::string>().find("exit gate"), std::string::npos);
  // Newest first: the exit, the entry (a CAPP record of 0), the top-up.
  EXPECT_EQ(read.body["trips"].back()["kind"], "load");
  EXPECT_EQ(read.body["trips"].back()["where"], "top-up");
  EXPECT_EQ(read.body["trips"].back()["amount_fen"], 5000);

  // Delete: the card is blocked, closed, and its balance (Beijing refunds it) credited back to the
  // bank card that paid the top-up, through the network.
  Answer deleted = Call("POST", base + "/delete", nullptr);
  ASSERT_EQ(deleted.status, 200) << deleted.body.dump();
  EXPECT_EQ(deleted.body["final_balance_fen"], 5000 - fare);
  EXPECT_EQ(deleted.body["refund_fen"], 5000 - fare);
  EXPECT_EQ(deleted.body["refund"]["state"], "paid") << deleted.body.dump();
  EXPECT_TRUE(deleted.body["refund"]["card_on_file"]);
  EXPECT_FALSE(deleted.body["refund"].value("credit_ref", "").empty());
  EXPECT_EQ(Call("GET", base).status, 404);
  EXPECT_EQ(Call("POST", base + "/delete", nullptr).status, 404);
  Answer refunds = Call("GET", "/v1/transit/1000/accounts/" + user_id_ + "/refunds");
  ASSERT_EQ(refunds.status, 200);
  ASSERT_EQ(refunds.body["refunds"].size(), 1u);
  EXPECT_EQ(refunds.body["refunds"][0]["state"], "paid");
  EXPECT_EQ(refunds.body["refunds"][0]["amount_fen"], 5000 - fare);
  // Paying it again sends nothing and answers the same.
  Answer pay_again = Call("POST", "/v1/transit/1000/refunds/" +
                                      deleted.body.value("refund_id", "") + "/pay", nullptr);
  ASSERT_EQ(pay_again.status, 200) << pay_again.body.dump();
  EXPECT_EQ(pay_again.body["refund"]["credit_ref"], deleted.body["refund"]["credit_ref"]);
}

TEST_F(HandsetRoutesTest, TwoHardwareWalletsPayEachOtherOfflineAndSettleOnSync) {
  const std::string phone = "+8613800138005";
  NewUserWithPhone(phone);  // handsets are made by a signed-in wallet user
  Answer wallet = Call("POST", "/v1/dcep/operators/icbc/wallets",
                       {{"phone", phone},
                        {"name", "Li Lei"},
                        {"id_number", "110101199001011234"},
                        {"bank_account", "6222020200000001"}},
                       "", "open-1");
  ASSERT_EQ(wallet.status, 201) << wallet.body.dump();
  const std::string w = wallet.body["wallet"].value("wallet_id", "");
  ASSERT_EQ(Call("POST", "/v1/dcep/operators/icbc/wallets/" + w + "/exchange",
                 {{"amount_fen", 100'000}, {"direction", "to_wallet"}}, "", "exchange-1")
                .status,
            201);
  const std::string phone_hs =
      Call("POST", "/v1/handsets", {{"kind", "phone"}, {"name", "phone"}, {"phone", phone}}, session_)
          .body.value("handset_id", "");
  const std::string watch_hs =
      Call("POST", "/v1/handsets", {{"kind", "watch"}, {"name", "watch"}, {"phone", phone}}, session_)
          .body.value("handset_id", "");
  for (const std::string& hs : {phone_hs, watch_hs}) {
    Answer personalised =
        Call("POST", "/v1/handsets/" + hs + "/dcep", {{"operator", "icbc"}, {"wallet_id", w}});
    ASSERT_EQ(personalised.status, 201) << personalised.body.dump();
    EXPECT_EQ(personalised.body["balance_fen"], 0);
  }
  EXPECT_EQ(
      Call("POST", "/v1/handsets/" + phone_hs + "/dcep", {{"operator", "icbc"}, {"wallet_id", w}})
          .status,
      409);
  EXPECT_EQ(
      Call("POST", "/v1/handsets/" + phone_hs + "/dcep/loads", {{"amount_fen", 20'000}}).status,
      400);
  Answer loaded = Call("POST", "/v1/handsets/" + phone_hs + "/dcep/loads", {{"amount_fen", 20'000}},
                       "", "load-1");
  ASSERT_EQ(loaded.status, 200) << loaded.body.dump();
  EXPECT_EQ(loaded.body["balance_fen"], 20'000);
  // The same load again (a retry): the operator signs the same order, the applet loads it once.
  Answer retried = Call("POST", "/v1/handsets/" + phone_hs + "/dcep/loads",
                        {{"amount_fen", 20'000}}, "", "load-1");
  EXPECT_EQ(retried.status, 200) << retried.body.dump();
  EXPECT_EQ(retried.body["balance_fen"], 20'000);
  EXPECT_EQ(Call("GET", "/v1/handsets/" + phone_hs + "/dcep").body["balance_fen"], 20'000);
  EXPECT_EQ(Call("GET", "/v1/dcep/operators/icbc/wallets/" + w).body["wallet"]["balance_fen"],
            80'000);

  Answer paid = Call("POST", "/v1/handsets/" + phone_hs + "/dcep/offline-payments",
                     {{"payee_handset_id", watch_hs}, {"amount_fen", 5'000}});
  ASSERT_EQ(paid.status, 200) << paid.body.dump();
  EXPECT_EQ(paid.body["payer"]["balance_fen"], 15'000);
  EXPECT_EQ(paid.body["payee"]["balance_fen"], 5'000);
  Answer too_much = Call("POST", "/v1/handsets/" + phone_hs + "/dcep/offline-payments",
                         {{"payee_handset_id", watch_hs}, {"amount_fen", 50'000}});
  EXPECT_EQ(too_much.status, 409);
  EXPECT_NE(too_much.body["message"].get<std::string>().find("9401"), std::string::npos);

  Answer watch_sync = Call("POST", "/v1/handsets/" + watch_hs + "/dcep/sync");
  ASSERT_EQ(watch_sync.status, 200) << watch_sync.body.dump();
  ASSERT_EQ(watch_sync.body["records"].size(), 1u);
  EXPECT_EQ(watch_sync.body["records"][0]["outcome"], "settled");
  Answer phone_sync = Call("POST", "/v1/handsets/" + phone_hs + "/dcep/sync");
  ASSERT_EQ(phone_sync.status, 200);
  EXPECT_EQ(phone_sync.body["records"][0]["outcome"], "duplicate");  // settled once, by either side
  EXPECT_EQ(phone_sync.body["status"]["payments_since_sync"], 0);
}

TEST_F(HandsetRoutesTest, BadInputNamesTheFieldAndUnknownHandsetsAreNotFound) {
  EXPECT_EQ(Call("POST", "/v1/handsets", {{"kind", "phone"}, {"name", "x"}, {"phone", "+8613800138003"}}).status, 401);
  const std::string handset = NewUserWithPhone("+8613800138004");
  Answer bad_phone =
      Call("POST", "/v1/handsets", {{"kind", "phone"}, {"name", "x"}, {"phone", "12345"}}, session_);
  EXPECT_EQ(bad_phone.status, 400);
  EXPECT_EQ(bad_phone.body["field"], "phone");
  Answer bad_kind = Call("POST", "/v1/handsets",
                         {{"kind", "tablet"}, {"name", "x"}, {"phone", "+8613800138003"}}, session_);
  EXPECT_EQ(bad_kind.body["field"], "kind");
  Answer extra =
      Call("POST", "/v1/handsets",
           {{"kind", "phone"}, {"name", "x"}, {"phone", "+8613800138003"}, {"pan", "1"}}, session_);
  EXPECT_EQ(extra.status, 400);
  EXPECT_EQ(extra.body["field"], "pan");
  EXPECT_EQ(Call("GET", "/v1/handsets/hs-00000000000000000000000000000000").status, 404);
  EXPECT_EQ(Call("GET", "/v1/handsets/..%2f..%2fnode").status, 404);

  // At most kHandsetsPerUserMax handsets per user (one made by NewUserWithPhone already).
  for (std::size_t i = 1; i < handset::kHandsetsPerUserMax; ++i) {
    ASSERT_EQ(Call("POST", "/v1/handsets", {{"kind", "watch"}, {"name", "w"}, {"phone", "+8613800138004"}}, session_).status, 201);
  }
  EXPECT_EQ(Call("POST", "/v1/handsets", {{"kind", "watch"}, {"name", "w"}, {"phone", "+8613800138004"}}, session_).status, 409);
  Answer amount =
      Call("POST", "/v1/handsets/" + handset + "/taps",
           {{"token_id", "t"}, {"merchant_id", "MERCHANT0000001"}, {"amount_minor", 0}});
  EXPECT_EQ(amount.status, 400);
  EXPECT_EQ(amount.body["field"], "amount_minor");
  Answer token =
      Call("POST", "/v1/handsets/" + handset + "/taps",
           {{"token_id", "nope"}, {"merchant_id", "MERCHANT0000001"}, {"amount_minor", 100}});
  EXPECT_EQ(token.status, 404);
  EXPECT_EQ(token.body["field"], "token_id");
  Answer gate = Call("POST", "/v1/handsets/" + handset + "/transit/cards/tc-1/rides",
                     {{"gate", "ferry"}, {"line", 1}});
  EXPECT_EQ(gate.status, 400);
  EXPECT_EQ(gate.body["field"], "gate");
  Answer not_json = Call("POST", "/v1/handsets", json("text"), session_);
  EXPECT_EQ(not_json.status, 400);
}

TEST_F(HandsetRoutesTest, DrawsPaymentCodesAsQrImagesAndServesTheWebApp) {
  httplib::Client client(node_->http_url());
  auto svg = client.Post("/v1/qr-images", R"({"text":"281234567890123456"})", "application/json");
  ASSERT_TRUE(svg);
  EXPECT_EQ(svg->status, 200);
  EXPECT_EQ(svg->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_EQ(svg->body.rfind("<svg", 0), 0u);
  auto empty = client.Post("/v1/qr-images", R"({"text":""})", "application/json");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
  auto root = client.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 302);
  auto app = client.Get("/app/index.html");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 200);
  EXPECT_NE(app->body.find("<html"), std::string::npos);
  auto blank = client.Post("/v1/qr-images/decode", R"({"width":2,"height":2,"gray":"/////w=="})",
                           "application/json");
  ASSERT_TRUE(blank);
  EXPECT_EQ(blank->status, 422);
  // A realistic picture (480 x 480: 230,400 luminance bytes, 307,200 base64 characters).
  std::string white64;
  for (int i = 0; i < 480 * 480 / 3; ++i) white64 += "////";  // 3 bytes FF FF FF per quantum
  auto big = client.Post("/v1/qr-images/decode",
                         json{{"width", 480}, {"height", 480}, {"gray", white64}}.dump(),
                         "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 422) << big->body;
  auto bad_size = client.Post("/v1/qr-images/decode", R"({"width":3,"height":2,"gray":"/////w=="})",
                              "application/json");
  ASSERT_TRUE(bad_size);
  EXPECT_EQ(bad_size->status, 400);
  EXPECT_NE(bad_size->body.find("\"field\":\"gray\""), std::string::npos) << bad_size->body;
  auto traversal = client.Get("/app/../../CMakeLists.txt");
  ASSERT_TRUE(traversal);
  EXPECT_NE(traversal->status, 200);
}

}  // namespace
}  // namespace tapstack::server
