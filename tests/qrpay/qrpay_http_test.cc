// The wallet payment platform's JSON API (qrpay/qrpay_http.h) through HttpHarness on a loopback
// port, over real Platforms on SQLite with the fakes of platform_test_util.h: every route's happy
// path, replays, the error shapes (wrong type, unknown member, tampered code, limits, admin auth,
// unknown account, another platform's id) and that no answer carries a card number.
#include "qrpay/qrpay_http.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "platform_test_util.h"
#include "qr/mpm.h"
#include "qrpay/payment_code.h"
#include "support/http_harness.h"

namespace tapstack::qrpay::testing {
namespace {

using nlohmann::json;
using tapstack::testing::HttpAnswer;
using tapstack::testing::HttpHarness;

constexpr char kToken[] = "qrpay-admin-token";
constexpr char kCn[] = "/v1/qrpay/tapstack-cn";
constexpr char kPk[] = "/v1/qrpay/induspay-pk";
constexpr char kNoodles[] = "BJNOODLES01";
constexpr char kNoAccount[] = "a0000000000000000";

json Money(std::int64_t minor, const char* currency) {
  return {{"minor", minor}, {"currency", currency}};
}

// Re-encodes `payload` with one root object's value replaced: a valid CRC over altered content.
std::string Edit(const std::string& payload, std::string_view id, std::string value) {
  qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  for (qr::MpmObject& object : decoded.objects) {
    if (object.id == id) object.value = std::move(value);
  }
  qr::MpmEncodeOptions options;
  options.validate = false;
  auto encoded = qr::EncodeMpm(decoded.objects, options);
  return encoded.ok() ? *encoded : std::string();
}

class QrpayHttpTest : public PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    if (HasFatalFailure()) return;
    pk_ = OpenPlatform("induspay-pk", pk_dir_);
    ASSERT_NE(pk_, nullptr);
    http_ = std::make_unique<HttpHarness>([this](httplib::Server& server) {
      InstallQrpayRoutes(server, *cn_, {kToken, nullptr});
      InstallQrpayRoutes(server, *pk_, {kToken, nullptr});
      InstallQrpayFallbackRoutes(server, {"tapstack-cn", "induspay-pk"});
    });
    ASSERT_GT(http_->port(), 0);
  }
  void TearDown() override { http_.reset(); }

  HttpAnswer Post(const std::string& path, const json& body, const std::string& key = "",
                  bool admin = false) {
    std::map<std::string, std::string> headers;
    if (!key.empty()) headers.emplace("Idempotency-Key", key);
    if (admin) headers.emplace("Authorization", std::string("Bearer ") + kToken);
    return Checked(http_->Call("POST", path, body, headers));
  }
  HttpAnswer Get(const std::string& path, bool admin = false) {
    std::map<std::string, std::string> headers;
    if (admin) headers.emplace("Authorization", std::string("Bearer ") + kToken);
    return Checked(http_->Call("GET", path, nullptr, headers));
  }
  // Every answer is JSON and never holds the card's token number (nor, a fortiori, a PAN).
  HttpAnswer Checked(HttpAnswer a) {
    EXPECT_FALSE(a.body.is_discarded()) << "not JSON";
    EXPECT_EQ(a.body.dump().find(rail_.token), std::string::npos) << a.body.dump();
    return a;
  }
  static bool Replayed(const HttpAnswer& a) {
    const auto it = a.headers.find("Idempotent-Replayed");
    return it != a.headers.end() && it->second == "true";
  }

  std::string OpenAccount(const std::string& owner, int level = 2) {
    const HttpAnswer a =
        Post(std::string(kCn) + "/accounts", {{"owner_id", owner}, {"level", level}});
    EXPECT_EQ(a.status, 201) << a.body.dump();
    return a.body["account"].value("account_id", "");
  }
  // Top-up through the routes: start, then complete with the phone's payment data.
  HttpAnswer TopUp(const std::string& account, std::int64_t fen) {
    const HttpAnswer start = Post(std::string(kCn) + "/accounts/" + account + "/top-ups",
                                  {{"amount", Money(fen, "CNY")}, {"device_id", "phone-1"}});
    EXPECT_EQ(start.status, 201) << start.body.dump();
    const std::string order = start.body["payment_request"].value("order_id", "");
    return Post(std::string(kCn) + "/top-ups/" + order + "/complete",
                {{"payment_data", {{"cryptogram", "good"}}}});
  }
  json AccountOf(const std::string& account) {
    const HttpAnswer a = Get(std::string(kCn) + "/accounts/" + account);
    EXPECT_EQ(a.status, 200) << a.body.dump();
    return a.body["account"];
  }
  std::string StaticCode(const std::string& merchant = kNoodles) {
    const HttpAnswer a = Get(std::string(kCn) + "/merchants/" + merchant + "/codes/static");
    EXPECT_EQ(a.status, 200) << a.body.dump();
    return a.body.value("payload", "");
  }
  std::string DynamicCode(const std::string& merchant, const std::string& order,
                          const json& amount) {
    const HttpAnswer a = Post(std::string(kCn) + "/merchants/" + merchant + "/codes",
                              {{"order_id", order}, {"amount", amount}, {"validity_seconds", 300}});
    EXPECT_EQ(a.status, 201) << a.body.dump();
    return a.body.value("payload", "");
  }

  TempDir pk_dir_;
  std::unique_ptr<Platform> pk_;
  std::unique_ptr<HttpHarness> http_;
};

TEST_F(QrpayHttpTest, AccountTopUpFundingCardAndWithdrawal) {
  HttpAnswer a = Get(kCn);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["platform"]["currency"], "CNY");
  EXPECT_EQ(a.body["platform"]["levels"][0]["daily_max"], Money(200000, "CNY"));

  const std::string account = OpenAccount("owner-http-1");
  // The same owner again is the same account.
  EXPECT_EQ(OpenAccount("owner-http-1"), account);
  json info = AccountOf(account);
  EXPECT_EQ(info["level"], 2);
  EXPECT_EQ(info["balance"], Money(0, "CNY"));
  EXPECT_EQ(info["limits"]["balance_max"], Money(5000000, "CNY"));

  const HttpAnswer start = Post(std::string(kCn) + "/accounts/" + account + "/top-ups",
                                {{"amount", Money(50000, "CNY")}, {"device_id", "phone-1"}});
  ASSERT_EQ(start.status, 201) << start.body.dump();
  EXPECT_EQ(start.body["payment_request"]["amount"], Money(50000, "CNY"));
  EXPECT_EQ(start.body["payment_request"]["unpredictable_number"], "0A1B2C3D");
  const std::string complete = std::string(kCn) + "/top-ups/" +
                               start.body["payment_request"]["order_id"].get<std::string>() +
                               "/complete";
  a = Post(complete, {{"payment_data", {{"cryptogram", "good"}}}});
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "top_up");
  EXPECT_EQ(a.body["receipt"]["payer_amount"], Money(50000, "CNY"));
  EXPECT_FALSE(Replayed(a));
  const HttpAnswer again = Post(complete, {{"payment_data", {{"cryptogram", "good"}}}});
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(Replayed(again));
  EXPECT_EQ(again.body["receipt"]["receipt_id"], a.body["receipt"]["receipt_id"]);
  EXPECT_EQ(rail_.charges, 1);
  EXPECT_EQ(AccountOf(account)["balance"], Money(50000, "CNY"));

  a = Get(std::string(kCn) + "/accounts/" + account + "/funding-cards");
  ASSERT_EQ(a.status, 200) << a.body.dump();
  ASSERT_EQ(a.body["cards"].size(), 1u);
  EXPECT_EQ(a.body["cards"][0]["token_last4"], "1234");
  const std::string card = a.body["cards"][0]["card_id"];

  const std::string withdraw = std::string(kCn) + "/accounts/" + account + "/withdrawals";
  const json body = {{"card_id", card}, {"amount", Money(20000, "CNY")}};
  a = Post(withdraw, body);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "Idempotency-Key");
  a = Post(withdraw, body, "wd-1");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "withdrawal");
  a = Post(withdraw, body, "wd-1");
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(Replayed(a));
  a = Post(withdraw, {{"card_id", card}, {"amount", Money(1, "CNY")}}, "wd-1");
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.body["error"], "already_exists");
  EXPECT_EQ(a.body["message"], kKeyReusedMessage);
  EXPECT_EQ(rail_.credits_applied, 1);
  EXPECT_EQ(AccountOf(account)["balance"], Money(30000, "CNY"));

  // A credit the rail does not answer: 503, retry with the same key.
  rail_.credit_unavailable = 1;
  a = Post(withdraw, {{"card_id", card}, {"amount", Money(100, "CNY")}}, "wd-2");
  EXPECT_EQ(a.status, 503) << a.body.dump();
  EXPECT_EQ(a.body["error"], "unavailable");
  a = Post(withdraw, {{"card_id", card}, {"amount", Money(100, "CNY")}}, "wd-2");
  // The retry drives the first request's hold (the platform may call that a replay): either way
  // the status and the header agree, and the money moved once.
  ASSERT_TRUE(a.status == 200 || a.status == 201) << a.body.dump();
  EXPECT_EQ(Replayed(a), a.status == 200);
  EXPECT_EQ(a.body["receipt"]["amount"], Money(100, "CNY"));
  EXPECT_EQ(rail_.credits_applied, 2);
  EXPECT_EQ(AccountOf(account)["balance"], Money(29900, "CNY"));
}

TEST_F(QrpayHttpTest, ScanPayRefundSettleAndStatement) {
  const std::string account = OpenAccount("owner-http-2");
  ASSERT_EQ(TopUp(account, 100000).status, 201);
  const std::string code = StaticCode();
  ASSERT_FALSE(code.empty());

  HttpAnswer a = Post(std::string(kCn) + "/scan", {{"payload", code}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["scan"]["merchant_name"], "Old Beijing Noodles");
  EXPECT_EQ(a.body["scan"]["dynamic"], false);
  EXPECT_FALSE(a.body["scan"].contains("amount"));

  const std::string pay = std::string(kCn) + "/accounts/" + account + "/payments";
  a = Post(pay, {{"payload", code}, {"amount", Money(2500, "CNY")}}, "pay-1");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "qr_payment");
  EXPECT_EQ(a.body["receipt"]["merchant_id"], kNoodles);
  const std::string payment = a.body["receipt"]["receipt_id"];
  a = Post(pay, {{"payload", code}, {"amount", Money(2500, "CNY")}}, "pay-1");
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(Replayed(a));
  EXPECT_EQ(a.body["receipt"]["receipt_id"], payment);

  const std::string order = DynamicCode(kNoodles, "ORDER-42", Money(4200, "CNY"));
  a = Post(std::string(kCn) + "/scan", {{"payload", order}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["scan"]["amount"], Money(4200, "CNY"));
  EXPECT_EQ(a.body["scan"]["order_id"], "ORDER-42");
  a = Post(pay, {{"payload", order}}, "pay-2");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["reference"], "ORDER-42");
  a = Post(pay, {{"payload", order}}, "pay-3");  // the order is paid once
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.body["field"], "order_id");

  const std::string refunds = std::string(kCn) + "/merchants/" + kNoodles + "/refunds";
  a = Post(refunds, {{"payment_id", payment}, {"amount", Money(500, "CNY")}}, "rf-1");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "refund");
  EXPECT_EQ(a.body["receipt"]["payment_id"], payment);
  a = Post(refunds, {{"payment_id", payment}, {"amount", Money(2001, "CNY")}}, "rf-2");
  EXPECT_EQ(a.status, 422) << a.body.dump();
  EXPECT_EQ(a.body["field"], "amount");

  a = Get(std::string(kCn) + "/merchants/" + kNoodles);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["merchant"]["balance"], Money(2500 + 4200 - 500, "CNY"));
  a = Get(std::string(kCn) + "/merchants/" + kNoodles + "/settlement/2026-01-01");
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["settlement"]["lines"].size(), 3u);
  EXPECT_EQ(a.body["settlement"]["merchant_total"], Money(2500 + 4200 - 500, "CNY"));
  EXPECT_EQ(a.body["settlement"]["merchant_currency"], "CNY");
  a = Get(std::string(kCn) + "/merchants/" + kNoodles + "/settlement/2026-1-1");
  EXPECT_EQ(a.status, 400);

  a = Get(std::string(kCn) + "/accounts/" + account + "/statements/2026-01");
  ASSERT_EQ(a.status, 200) << a.body.dump();
  const json& statement = a.body["statement"];
  EXPECT_EQ(statement["opening_balance"], Money(0, "CNY"));
  ASSERT_EQ(statement["entries"].size(), 4u);  // top-up, two payments, a refund
  EXPECT_EQ(statement["entries"][1]["amount"], Money(-2500, "CNY"));
  EXPECT_EQ(statement["closing_balance"], Money(100000 - 2500 - 4200 + 500, "CNY"));
  EXPECT_EQ(Get(std::string(kCn) + "/accounts/" + account + "/statements/2026").status, 400);
}

TEST_F(QrpayHttpTest, CrossBorderQuoteThenPay) {
  const std::string account = OpenAccount("owner-http-3");
  ASSERT_EQ(TopUp(account, 100000).status, 201);
  const std::string moscow = DynamicCode("MOSARBAT01", "RU-1", Money(100000, "RUB"));

  HttpAnswer a = Post(std::string(kCn) + "/scan", {{"payload", moscow}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["scan"]["foreign"], true);
  EXPECT_EQ(a.body["scan"]["quote_preview"]["to"], Money(7878, "CNY"));
  EXPECT_EQ(a.body["scan"]["quote_preview"]["rate"], "0.0780");

  // A foreign merchant is not paid from the balance directly.
  a = Post(std::string(kCn) + "/accounts/" + account + "/payments", {{"payload", moscow}}, "x-1");
  EXPECT_EQ(a.status, 409) << a.body.dump();

  a = Post(std::string(kCn) + "/accounts/" + account + "/quotes", {{"payload", moscow}});
  ASSERT_EQ(a.status, 201) << a.body.dump();
  const json quote = a.body["quote"];
  EXPECT_EQ(quote["merchant_amount"], Money(100000, "RUB"));
  EXPECT_EQ(quote["payer_amount"], Money(7878, "CNY"));
  EXPECT_EQ(quote["markup_bps"], 100);
  const std::string pay = std::string(kCn) + "/accounts/" + account + "/quotes/" +
                          quote["quote_id"].get<std::string>() + "/pay";
  a = Post(pay, json::object(), "fx-1");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "cross_border_payment");
  EXPECT_EQ(a.body["receipt"]["amount"], Money(100000, "RUB"));
  EXPECT_EQ(a.body["receipt"]["payer_amount"], Money(7878, "CNY"));
  a = Post(pay, json::object(), "fx-1");
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(Replayed(a));
  a = Post(pay, {{"amount", Money(1, "CNY")}}, "fx-2");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "amount");
  EXPECT_EQ(AccountOf(account)["balance"], Money(100000 - 7878, "CNY"));
}

TEST_F(QrpayHttpTest, PaymentCodePaidByTheMerchantsScanner) {
  const std::string account = OpenAccount("owner-http-4");
  ASSERT_EQ(TopUp(account, 10000).status, 201);
  HttpAnswer a = Post(std::string(kCn) + "/accounts/" + account + "/payment-codes",
                      {{"device_id", "phone-1"}});
  ASSERT_EQ(a.status, 201) << a.body.dump();
  const std::string code = a.body["payment_code"]["code"];
  EXPECT_EQ(code.size(), 18u);
  EXPECT_EQ(a.body["payment_code"]["expires_unix_ms"].get<std::int64_t>(),
            clock_.NowUnixMillis() + kPaymentCodeValiditySeconds * 1000);

  const std::string scanner = std::string(kCn) + "/merchants/SHDUMPLING01/code-payments";
  const json body = {{"code", code}, {"amount", Money(1880, "CNY")}};
  a = Post(scanner, body, "scan-1");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "code_payment");
  EXPECT_EQ(a.body["receipt"]["account_id"], account);
  a = Post(scanner, body, "scan-1");
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(Replayed(a));
  a = Post(scanner, body, "scan-2");  // a code pays once
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.body["field"], "code");
  EXPECT_EQ(AccountOf(account)["balance"], Money(10000 - 1880, "CNY"));
}

TEST_F(QrpayHttpTest, VisitorCardPaysAMerchantWithTheFee) {
  const std::string account = OpenAccount("owner-http-5");
  const HttpAnswer start = Post(std::string(kCn) + "/accounts/" + account + "/card-payments",
                                {{"payload", StaticCode()},
                                 {"amount", Money(20001, "CNY")},
                                 {"card_issuer_country", "HK"},
                                 {"device_id", "phone-1"}});
  ASSERT_EQ(start.status, 201) << start.body.dump();
  EXPECT_EQ(start.body["payment_request"]["amount"], Money(20601, "CNY"));  // 3% of 200.01
  const std::string complete = std::string(kCn) + "/card-payments/" +
                               start.body["payment_request"]["order_id"].get<std::string>() +
                               "/complete";
  HttpAnswer a = Post(complete, {{"payment_data", {{"cryptogram", "good"}}}});
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "card_payment");
  EXPECT_EQ(a.body["receipt"]["fee"], Money(600, "CNY"));
  a = Post(complete, {{"payment_data", {{"cryptogram", "good"}}}});
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(Replayed(a));
  a = Post(complete, {{"payment_data", "good"}});
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "payment_data");
  EXPECT_EQ(Post(std::string(kCn) + "/card-payments/cp-unknown/complete",
                 {{"payment_data", {{"cryptogram", "good"}}}})
                .status,
            404);
}

TEST_F(QrpayHttpTest, AdminRoutesNeedTheTokenThenRefundCashInClearAndAudit) {
  const std::string account = OpenAccount("owner-http-6");
  const json refund = {{"operator_id", "globalrefund-demo"},
                       {"account_id", account},
                       {"receipt_reference", "GB-VAT-000123"},
                       {"amount", Money(10000, "EUR")}};
  const std::string tax = std::string(kCn) + "/tax-refunds";
  HttpAnswer a = Post(tax, refund, "tr-1");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body["error"], "unauthenticated");
  EXPECT_EQ(a.headers["WWW-Authenticate"], "Bearer");
  a = http_->Call("POST", tax, refund,
                  {{"Idempotency-Key", "tr-1"}, {"Authorization", "Bearer wrong-token"}});
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(Get(std::string(kCn) + "/audit").status, 401);
  EXPECT_EQ(AccountOf(account)["balance"], Money(0, "CNY"));

  a = Post(tax, refund, "tr-1", true);
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "tax_refund");
  EXPECT_EQ(a.body["receipt"]["payer_amount"], Money(78000, "CNY"));
  EXPECT_EQ(a.body["receipt"]["rate"], "7.8000");
  a = Post(tax, refund, "tr-1", true);
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(Replayed(a));
  a = Post(tax, refund, "tr-2", true);  // a receipt is refunded once, whatever the key
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.body["field"], "receipt_reference");

  // Cash-in at IndusPay's seed agent, on the other platform served by the same server.
  const HttpAnswer opened =
      Post(std::string(kPk) + "/accounts", {{"owner_id", "owner-pk-1"}, {"level", 2}});
  ASSERT_EQ(opened.status, 201) << opened.body.dump();
  const std::string pk_account = opened.body["account"]["account_id"];
  const std::string cash_in = std::string(kPk) + "/agents/agent-lahore-01/cash-ins";
  const json deposit = {{"account_id", pk_account}, {"amount", Money(500000, "PKR")}};
  EXPECT_EQ(Post(cash_in, deposit, "ci-1").status, 401);
  a = Post(cash_in, deposit, "ci-1", true);
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["receipt"]["kind"], "cash_in");
  a = Post(cash_in, deposit, "ci-1", true);
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(Replayed(a));
  a = Get(std::string(kPk) + "/accounts/" + pk_account);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["account"]["balance"], Money(500000, "PKR"));
  // Each platform answers for its own accounts only.
  EXPECT_EQ(Get(std::string(kCn) + "/accounts/" + pk_account).status, 404);
  a = Post(std::string(kCn) + "/agents/agent-lahore-01/cash-ins",
           {{"account_id", account}, {"amount", Money(100, "CNY")}}, "ci-2", true);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["field"], "agent_id");

  // The network's qr_payment for one of our merchants, from the partner platform.
  const json clearing = {{"type", "qr_payment"},
                         {"clearing_id", "induspay-pk:p-1"},
                         {"payer_platform", "induspay-pk"},
                         {"payee_platform", "tapstack-cn"},
                         {"payload", StaticCode()},
                         {"amount", Money(1000, "CNY")},
                         {"payer_amount", Money(39592, "PKR")},
                         {"rate", "39.2000"},
                         {"markup_bps", 100},
                         {"payer_alias", "pk-payer-1"}};
  EXPECT_EQ(Post(std::string(kCn) + "/clearing", clearing).status, 401);
  a = Post(std::string(kCn) + "/clearing", clearing, "", true);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["status"], "approved");
  EXPECT_EQ(a.body["clearing_id"], "induspay-pk:p-1");
  const HttpAnswer replay = Post(std::string(kCn) + "/clearing", clearing, "", true);
  EXPECT_EQ(replay.body, a.body);
  json wrong = clearing;
  wrong["clearing_id"] = "induspay-pk:p-2";
  wrong["payee_platform"] = "induspay-pk";
  a = Post(std::string(kCn) + "/clearing", wrong, "", true);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["status"], "declined");
  EXPECT_TRUE(a.body["reason"].get<std::string>().starts_with("payee_platform:"));
  EXPECT_EQ(Get(std::string(kCn) + "/merchants/" + kNoodles).body["merchant"]["balance"],
            Money(1000, "CNY"));

  a = Get(std::string(kCn) + "/audit", true);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_GT(a.body["journal_entries"].get<std::int64_t>(), 0);
  ASSERT_EQ(a.body["user_balances"].size(), 1u);
  EXPECT_EQ(a.body["user_balances"][0], Money(78000, "CNY"));
}

TEST_F(QrpayHttpTest, BadInputIsRefusedNamingTheMember) {
  const std::string account = OpenAccount("owner-http-7", 1);  // daily_max_minor 200000
  const std::string pay = std::string(kCn) + "/accounts/" + account + "/payments";
  const std::string code = StaticCode();

  // Wrong types.
  HttpAnswer a = Post(std::string(kCn) + "/accounts", {{"owner_id", 7}, {"level", 1}});
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["error"], "invalid_argument");
  EXPECT_EQ(a.body["field"], "owner_id");
  a = Post(std::string(kCn) + "/accounts", {{"owner_id", "o"}, {"level", "1"}});
  EXPECT_EQ(a.body["field"], "level");
  a = Post(pay, {{"payload", code}, {"amount", {{"minor", "2500"}, {"currency", "CNY"}}}}, "k-1");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "amount.minor");
  a = Post(pay, {{"payload", code}, {"amount", 2500}}, "k-1");
  EXPECT_EQ(a.body["field"], "amount");
  a = Post(pay, {{"payload", code}, {"amount", Money(2500, "XYZ")}}, "k-1");
  EXPECT_EQ(a.body["field"], "amount.currency");
  // Unknown members, at the top and inside an amount.
  a = Post(pay, {{"payload", code}, {"amount", Money(2500, "CNY")}, {"memo", "x"}}, "k-1");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "memo");
  EXPECT_EQ(a.body["message"], "memo: unknown member");
  a = Post(pay, {{"payload", code}, {"amount", {{"minor", 1}, {"currency", "CNY"}, {"fen", 1}}}},
           "k-1");
  EXPECT_EQ(a.body["field"], "amount.fen");
  // Not an object, too large, a bad key.
  a = Checked(http_->Call("POST", pay, "not json", {{"Idempotency-Key", "k-1"}}));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "body");
  a = Post(pay, {{"payload", std::string(kQrpayRequestBodyBytesMax, 'x')}}, "k-1");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "body");
  a = Post(pay, {{"payload", code}, {"amount", Money(2500, "CNY")}}, "key with spaces");
  EXPECT_EQ(a.body["field"], "Idempotency-Key");

  // A tampered code: the amount edited, the CRC recomputed; the MAC tells.
  const std::string order = DynamicCode(kNoodles, "ORDER-9", Money(9900, "CNY"));
  const std::string cheaper = Edit(order, "54", "0.99");
  ASSERT_FALSE(cheaper.empty());
  ASSERT_EQ(TopUp(account, 300000).status, 201);
  a = Post(pay, {{"payload", cheaper}}, "k-t");
  EXPECT_EQ(a.status, 400) << a.body.dump();
  EXPECT_EQ(a.body["error"], "crypto_failure");
  EXPECT_EQ(a.body["field"], "payload");
  EXPECT_TRUE(a.body["message"].get<std::string>().starts_with(
      "mac: the code was altered after it was issued"))
      << a.body.dump();
  // A broken CRC is a misread, not a forgery.
  a = Post(pay,
           {{"payload", order.substr(0, order.size() - 1) + (order.back() == '0' ? "1" : "0")}},
           "k-crc");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["error"], "invalid_argument");

  // A level limit: 422 naming it and the numbers.
  a = Post(pay, {{"payload", code}, {"amount", Money(250000, "CNY")}}, "k-limit");
  EXPECT_EQ(a.status, 422) << a.body.dump();
  EXPECT_EQ(a.body["error"], "limit_exceeded");
  EXPECT_EQ(a.body["field"], "daily_max_minor");
  EXPECT_NE(a.body["message"].get<std::string>().find("200000"), std::string::npos);
  a = Post(pay, {{"payload", code}, {"amount", Money(250000, "CNY")}}, "k-limit");
  EXPECT_EQ(a.status, 422);  // a refusal replays as the same error
  EXPECT_EQ(AccountOf(account)["balance"], Money(300000, "CNY"));

  // Unknown and malformed accounts, another platform, an unknown route.
  a = Get(std::string(kCn) + "/accounts/" + kNoAccount);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["error"], "not_found");
  EXPECT_EQ(Post(std::string(kCn) + "/accounts/" + kNoAccount + "/payments",
                 {{"payload", code}, {"amount", Money(1, "CNY")}}, "k-2")
                .status,
            404);
  a = Get(std::string(kCn) + "/accounts/A123");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "account");
  a = Get("/v1/qrpay/otherpay-hk/accounts/" + account);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["field"], "platform");
  a = Post("/v1/qrpay/otherpay-hk/accounts", {{"owner_id", "o"}, {"level", 1}});
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["field"], "platform");
  a = Get(std::string(kCn) + "/nothing-here");
  EXPECT_EQ(a.status, 404);
  EXPECT_FALSE(a.body.contains("field"));
  a = Get(std::string(kCn) + "/merchants/NOSUCHSHOP/codes/static");
  EXPECT_EQ(a.status, 404);
  a = Get(std::string(kCn) + "/merchants/lower-case/codes/static");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "merchant");
}

}  // namespace
}  // namespace tapstack::qrpay::testing
