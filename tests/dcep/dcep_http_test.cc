// The digital-currency JSON API (dcep/dcep_http.h) through httplib::Client on a loopback port:
// open wallets, exchange, pay across operators, history, purses, admin auth and error shapes.
#include "dcep/dcep_http.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "dcep/qr_payments.h"
#include "dcep_test_util.h"
#include "qr/mpm.h"

namespace tapstack::dcep {
namespace {

using nlohmann::json;
using testing::Must;

constexpr char kToken[] = "test-admin-token";

class DcepHttpTest : public testing::DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    OpenNetwork();
    InstallDcepRoutes(server_, *network_,
                      {kToken, std::make_shared<const QrPayments>(
                                   &network_->config(),
                                   Must(MerchantQrKeys::Demo(network_->config())), &clock_)});
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
    DcepTest::TearDown();
  }

  struct Reply {
    int status = 0;
    json body;
    bool replayed = false;
  };
  Reply Post(const std::string& path, const json& body, const std::string& key = "",
             bool admin = false) {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Idempotency-Key", key);
    if (admin) headers.emplace("Authorization", std::string("Bearer ") + kToken);
    return ToReply(client_->Post(path, headers, body.dump(), "application/json"));
  }
  Reply Get(const std::string& path, bool admin = false) {
    httplib::Headers headers;
    if (admin) headers.emplace("Authorization", std::string("Bearer ") + kToken);
    return ToReply(client_->Get(path, headers));
  }
  static Reply ToReply(const httplib::Result& r) {
    if (!r) return {};
    Reply reply{r->status, json::parse(r->body, nullptr, false),
                r->get_header_value("Idempotent-Replayed") == "true"};
    return reply;
  }
  std::string OpenWalletAt(const std::string& op, const std::string& phone) {
    const Reply r = Post("/v1/dcep/operators/" + op + "/wallets", {{"phone", phone}}, "o-" + phone);
    EXPECT_EQ(r.status, 201) << r.body.dump();
    return r.body["wallet"]["wallet_id"];
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(DcepHttpTest, WalletExchangePayAndHistory) {
  const Reply ops = Get("/v1/dcep/operators");
  ASSERT_EQ(ops.status, 200);
  EXPECT_EQ(ops.body["tiers"][3]["tier"], 4);

  const std::string a = OpenWalletAt("icbc", "13800000001");
  const std::string b = OpenWalletAt("ccb", "13900000001");
  Reply r = Post("/v1/dcep/operators/icbc/issuance", {{"amount_fen", 100'000}}, "float-1", true);
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["entry"]["kind"], "issue");
  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/exchange",
           {{"amount_fen", 50'000}, {"direction", "to_wallet"}}, "ex-1");
  ASSERT_EQ(r.status, 201) << r.body.dump();

  const json pay = {{"payee_operator", "ccb"}, {"payee_wallet", b}, {"amount_fen", 12'000}};
  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/payments", pay, "pay-1");
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["entry"]["status"], "posted");
  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/payments", pay, "pay-1");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.replayed);
  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/payments",
           {{"payee_operator", "ccb"}, {"payee_wallet", b}, {"amount_fen", 1}}, "pay-1");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["error"], "already_exists");

  r = Get("/v1/dcep/operators/ccb/wallets/" + b);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["wallet"]["balance_fen"], 12'000);
  r = Get("/v1/dcep/operators/icbc/wallets/" + a + "/history?limit=1");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["entries"].size(), 1u);
  EXPECT_EQ(r.body["entries"][0]["kind"], "interbank_out");
  EXPECT_TRUE(r.body["next_before"].is_number());

  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/purses/band-1/fund", {{"amount_fen", 500}},
           "p-1");
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["entry"]["device_id"], "band-1");

  r = Get("/v1/dcep/central-bank/audit", true);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["issued_fen"], 100'000);
  r = Post("/v1/dcep/central-bank/position", {{"operator_id", "ccb"}}, "", true);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["position_fen"], 12'000);
}

TEST_F(DcepHttpTest, ErrorsNameTheFieldAndLimitsAre422) {
  const std::string a = OpenWalletAt("icbc", "13800000001");
  const std::string b = OpenWalletAt("icbc", "13800000002");
  Reply r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/payments",
                 {{"payee_wallet", b}, {"amount_fen", 300'000}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "Idempotency-Key");
  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/payments",
           {{"payee_wallet", b}, {"amount_fen", 300'000}}, "k");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body["error"], "limit_exceeded");
  EXPECT_EQ(r.body["field"], "payment_max_fen");
  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/payments",
           {{"payee_wallet", "w0000000000000002"}, {"amount_fen", "1"}}, "k2");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "amount_fen");
  r = Post("/v1/dcep/operators/icbc/wallets/" + a + "/payments",
           {{"payee_wallet", "w0000000000000002"}, {"amount_fen", 1}, {"memo", "x"}}, "k3");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "memo");
  r = Get("/v1/dcep/operators/icbc/wallets/W123");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "wallet");
  r = Get("/v1/dcep/operators/hsbc/wallets/" + a);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["field"], "operator");
  r = Post("/v1/dcep/operators/icbc/issuance", {{"amount_fen", 1}}, "f");
  EXPECT_EQ(r.status, 401);
  r = Get("/v1/dcep/central-bank/audit");
  EXPECT_EQ(r.status, 401);
  r = Get("/v1/dcep/operators/icbc/wallets/" + a + "/view");
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.body["view"].contains("phone"));  // tier 4: pseudonymous
}

TEST_F(DcepHttpTest, PrepaidContractLockDeliverCancelAndAudit) {
  const std::string parent = FundedWallet("icbc", "13800000001", 50'000);
  const std::string shop = MerchantWalletId("icbc", "m-beijing-coffee");
  const json terms = {{"template", "prepaid_service"},
                      {"payer_wallet", parent},
                      {"merchant_id", "m-beijing-coffee"},
                      {"amount_fen", 10'000},
                      {"units", 4},
                      {"unit_name", "coffee"},
                      {"expires_unix_ms", clock_.NowUnixMillis() + 86'400'000}};
  Reply r = Post("/v1/dcep/contracts", {{"operator", "icbc"}, {"terms", terms}}, "card-1");
  ASSERT_EQ(r.status, 201) << r.body.dump();
  const std::string id = r.body["contract"]["contract_id"];
  EXPECT_EQ(r.body["contract"]["locked_fen"], 10'000);
  EXPECT_EQ(r.body["entry"]["kind"], "contract_lock");
  EXPECT_EQ(r.body["entry"]["contract_id"], id);
  r = Post("/v1/dcep/contracts", {{"operator", "icbc"}, {"terms", terms}}, "card-1");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.replayed);
  EXPECT_EQ(r.body["contract"]["contract_id"], id);

  r = Post("/v1/dcep/contracts/" + id + "/deliver", {{"actor_wallet", shop}, {"units", 1}}, "c1");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["entry"]["amount_fen"], 2'500);
  EXPECT_EQ(r.body["contract"]["progress"]["units_delivered"], 1);
  r = Post("/v1/dcep/contracts/" + id + "/deliver", {{"actor_wallet", parent}, {"units", 1}}, "c2");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["field"], "actor_wallet");
  r = Post("/v1/dcep/contracts/" + id + "/deliver", {{"actor_wallet", shop}, {"units", 9}}, "c3");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body["field"], "units");
  r = Post("/v1/dcep/contracts/" + id + "/spend",
           {{"actor_wallet", parent}, {"merchant_id", "m-beijing-coffee"}, {"amount_fen", 1}}, "c4");
  EXPECT_EQ(r.status, 409);
  r = Post("/v1/dcep/contracts/" + id + "/confirm", {{"actor_wallet", parent}, {"units", 1}}, "c5");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "units");
  r = Post("/v1/dcep/contracts/" + id + "/cancel", {{"actor_wallet", parent}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "Idempotency-Key");

  r = Get("/v1/dcep/operators/icbc/audit", true);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["escrows_fen"], 7'500);
  r = Post("/v1/dcep/contracts/" + id + "/cancel", {{"actor_wallet", parent}}, "stop");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["contract"]["state"], "closed");
  EXPECT_EQ(r.body["entry"]["amount_fen"], 7'500);
  r = Get("/v1/dcep/contracts/" + id);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["contract"]["terms"]["unit_name"], "coffee");
  ASSERT_EQ(r.body["contract"]["events"].size(), 6u);  // create, deliver, 3 refusals, cancel
  EXPECT_EQ(r.body["contract"]["events"][2]["status"], "refused");
  EXPECT_EQ(Must(Op("icbc").Wallet(parent)).balance_fen, 50'000 - 2'500);

  r = Get("/v1/dcep/contracts/ct-icbc-123");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "contract_id");
  r = Get("/v1/dcep/contracts/ct-hsbc-0123456789abcdef");
  EXPECT_EQ(r.status, 404);
  r = Post("/v1/dcep/contracts", {{"operator", "icbc"}, {"terms", "x"}}, "t");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "terms");
  r = Post("/v1/dcep/operators/icbc/contracts/expire", json::object(), "", true);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["refunded"], 0);
}

TEST_F(DcepHttpTest, PayAMerchantByScanningItsQrCode) {
  const std::string payer = FundedWallet("icbc", "13800000001", 10'000);
  const std::string pay_path = "/v1/dcep/operators/icbc/wallets/" + payer + "/qr-payments";
  Reply r = Post("/v1/dcep/operators/icbc/merchants/m-beijing-coffee/qr",
                 {{"amount_fen", 2'600}, {"order_id", "A1024"}, {"expires_in_s", 120}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const std::string payload = r.body["payload"];
  EXPECT_EQ(payload.rfind("000201010212", 0), 0u) << payload;
  EXPECT_EQ(r.body["dynamic"], true);
  EXPECT_EQ(r.body["merchant_name"], "Beijing Coffee Roasters");
  EXPECT_EQ(r.body["expires_unix_s"], testing::kMorningMillis / 1'000 + 120);

  r = Post(pay_path, {{"payload", payload}}, "scan-1");
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["entry"]["kind"], "payment");
  EXPECT_EQ(r.body["entry"]["merchant_id"], "m-beijing-coffee");
  EXPECT_EQ(r.body["entry"]["amount_fen"], 2'600);
  EXPECT_EQ(r.body["qr"]["order_id"], "A1024");
  const std::string entry_id = r.body["entry"]["entry_id"];
  // Scanned again (another key): the first outcome, no second charge.
  r = Post(pay_path, {{"payload", payload}}, "scan-2");
  EXPECT_EQ(r.status, 200) << r.body.dump();
  EXPECT_TRUE(r.replayed);
  EXPECT_EQ(r.body["entry"]["entry_id"], entry_id);
  EXPECT_EQ(Must(Op("icbc").Wallet(payer)).balance_fen, 10'000 - 2'600);
  EXPECT_EQ(Must(Op("icbc").Wallet(MerchantWalletId("icbc", "m-beijing-coffee"))).balance_fen,
            2'600);

  // The merchant prints the same order again for another amount: 409, nothing charged.
  r = Post("/v1/dcep/operators/icbc/merchants/m-beijing-coffee/qr",
           {{"amount_fen", 100}, {"order_id", "A1024"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  r = Post(pay_path, {{"payload", r.body["payload"]}}, "scan-3");
  EXPECT_EQ(r.status, 409) << r.body.dump();
  EXPECT_EQ(r.body["error"], "already_exists");
  EXPECT_EQ(r.body["field"], "merchant_order_id");

  // The code expires 120 s after it was issued.
  clock_.AdvanceMillis(120'000);
  r = Post(pay_path, {{"payload", payload}}, "scan-4");
  EXPECT_EQ(r.status, 409) << r.body.dump();
  EXPECT_EQ(r.body["error"], "failed_precondition");
  EXPECT_EQ(r.body["field"], "payload");
  EXPECT_EQ(Must(Op("icbc").Wallet(payer)).balance_fen, 10'000 - 2'600);
}

TEST_F(DcepHttpTest, QrCodeOfAnotherOperatorsMerchantAndAStaticCode) {
  const std::string payer = FundedWallet("icbc", "13800000001", 10'000);
  const std::string pay_path = "/v1/dcep/operators/icbc/wallets/" + payer + "/qr-payments";
  Reply r = Post("/v1/dcep/operators/ccb/merchants/m-shenzhen-grocer/qr", json::object());
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["dynamic"], false);
  EXPECT_EQ(r.body["operator_id"], "ccb");
  EXPECT_FALSE(r.body.contains("amount_fen"));
  const std::string payload = r.body["payload"];

  r = Post(pay_path, {{"payload", payload}}, "grocer-1");
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_EQ(r.body["field"], "amount_fen");
  r = Post(pay_path, {{"payload", payload}, {"amount_fen", 1'500}}, "grocer-1");
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["entry"]["kind"], "interbank_out");
  EXPECT_EQ(r.body["entry"]["status"], "posted");
  EXPECT_EQ(r.body["entry"]["counter_operator"], "ccb");
  r = Post(pay_path, {{"payload", payload}, {"amount_fen", 1'500}}, "grocer-1");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.replayed);
  EXPECT_EQ(Must(Op("ccb").Wallet(MerchantWalletId("ccb", "m-shenzhen-grocer"))).balance_fen,
            1'500);
  EXPECT_EQ(Must(Op("icbc").Wallet(payer)).balance_fen, 10'000 - 1'500);
  ExpectNetworkBalanced();
}

TEST_F(DcepHttpTest, QrPaymentErrorsNameTheField) {
  const std::string payer = FundedWallet("icbc", "13800000001", 500'000);
  const std::string pay_path = "/v1/dcep/operators/icbc/wallets/" + payer + "/qr-payments";
  Reply r = Post("/v1/dcep/operators/icbc/merchants/m-beijing-coffee/qr",
                 {{"amount_fen", 2'600}, {"order_id", "B1"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const std::string payload = r.body["payload"];

  // The amount edited to 0.26 yuan and the CRC recomputed: only the MAC can tell.
  qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  for (qr::MpmObject& o : decoded.objects) {
    if (o.id == "54") o.value = "0.26";
  }
  r = Post(pay_path, {{"payload", Must(qr::EncodeMpm(decoded.objects))}}, "t1");
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_EQ(r.body["error"], "crypto_failure");
  EXPECT_EQ(r.body["field"], "payload");
  // The merchant swapped for another (the money would go elsewhere).
  decoded = qr::DecodeMpm(payload);
  for (qr::MpmObject& o : decoded.objects) {
    if (o.id != "26") continue;
    for (qr::MpmObject& c : o.children) {
      if (c.id == "02") c.value = "m-suzhen-shop";
    }
  }
  r = Post(pay_path, {{"payload", Must(qr::EncodeMpm(decoded.objects))}}, "t2");
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_EQ(r.body["error"], "crypto_failure");

  r = Post(pay_path, {{"payload", "00020101021163041234"}}, "g");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "payload");
  r = Post(pay_path, json::object(), "g2");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "payload");
  r = Post(pay_path, {{"payload", payload}, {"tip", 1}}, "g3");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "tip");
  r = Post(pay_path, {{"payload", payload}, {"amount_fen", 1}}, "g4");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "amount_fen");
  r = Post(pay_path, {{"payload", payload}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "Idempotency-Key");

  // Tier 4 pays at most 2,000 yuan at once: a 3,000 yuan order is 422.
  r = Post("/v1/dcep/operators/icbc/merchants/m-beijing-coffee/qr",
           {{"amount_fen", 300'000}, {"order_id", "B2"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  r = Post(pay_path, {{"payload", r.body["payload"]}}, "big");
  EXPECT_EQ(r.status, 422) << r.body.dump();
  EXPECT_EQ(r.body["field"], "payment_max_fen");

  // Issuing: a merchant of another operator, a malformed merchant, bad members.
  r = Post("/v1/dcep/operators/icbc/merchants/m-shenzhen-grocer/qr", json::object());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["field"], "merchant_id");
  r = Post("/v1/dcep/operators/icbc/merchants/M%20X/qr", json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "merchant");
  r = Post("/v1/dcep/operators/icbc/merchants/m-beijing-coffee/qr", {{"amount_fen", 5}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "order_id");
  r = Post("/v1/dcep/operators/icbc/merchants/m-beijing-coffee/qr",
           {{"amount_fen", 5}, {"order_id", "C1"}, {"expires_in_s", 0}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "expires_in_s");
  r = Post("/v1/dcep/operators/icbc/merchants/m-beijing-coffee/qr", {{"currency", "CNY"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "currency");
  EXPECT_EQ(Must(Op("icbc").Wallet(payer)).balance_fen, 500'000);
}

TEST_F(DcepHttpTest, ALostDeviceIsFrozenAndItsBalanceRecoveredAfterTheWait) {
  const std::string owner = FundedWallet("icbc", "13800000009", 5'000);
  HardwareWallets& wallets = *Must(network_->hardware_wallets("icbc"));
  const crypto::PrivateKey key = Must(crypto::PrivateKey::Generate(crypto::SignatureScheme::kSm2Sm3));
  Must(wallets.CertifyDevice(owner, "watch-lost", crypto::SignatureScheme::kSm2Sm3,
                             Must(key.public_key().ToRaw())));
  Must(wallets.Load(owner, "watch-lost", 1'500, "load-1"));
  const std::string device = "/v1/dcep/operators/icbc/devices/watch-lost";

  EXPECT_EQ(Post(device + "/freeze", json::object()).status, 401);  // admin only
  Reply r = Post(device + "/freeze", json::object(), "", true);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["state"], "frozen");
  EXPECT_EQ(Post(device + "/freeze", json::object(), "", true).status, 200);  // idempotent
  r = Get(device, true);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["state"], "frozen");
  EXPECT_FALSE(r.body.contains("recovered_fen"));
  // Before the waiting period ends: 409, and the message says when.
  r = Post(device + "/recover-balance", json::object(), "", true);
  EXPECT_EQ(r.status, 409) << r.body.dump();
  EXPECT_EQ(r.body["error"], "failed_precondition");
  clock_.AdvanceMillis(kFrozenWaitMillisDefault + 1'000);
  r = Post(device + "/recover-balance", json::object(), "", true);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["recovered_fen"], 1'500);
  EXPECT_EQ(Post(device + "/recover-balance", json::object(), "", true).body["recovered_fen"],
            1'500);  // the same amount again, moved once
  EXPECT_EQ(Must(Op("icbc").Wallet(owner)).balance_fen, 5'000);
  EXPECT_EQ(Get(device, true).body["state"], "recovered");
  EXPECT_EQ(Get("/v1/dcep/operators/icbc/devices/Not%20A%20Device", true).status, 400);
  EXPECT_EQ(Post("/v1/dcep/operators/icbc/devices/nobody/freeze", json::object(), "", true).status,
            404);
  ExpectNetworkBalanced();
}

}  // namespace
}  // namespace tapstack::dcep
