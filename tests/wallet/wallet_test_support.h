// Shared set-up for the wallet tests: a WalletService on this test's database (SQLite or
// PostgreSQL) with a fake TSP, its routes on a real loopback port, called through tests/support/http_harness.h.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <map>

#include "core/clock.h"
#include "core/pan.h"
#include "core/random_source.h"
#include "fake_tsp_client.h"
#include "store/store_fixture.h"
#include "support/http_harness.h"
#include "wallet/wallet_http.h"
#include "wallet/wallet_service.h"

namespace tapstack::wallet::testing {

using nlohmann::json;

inline constexpr const char* kPhoneA = "+8613800138000";
inline constexpr const char* kPhoneB = "+8613900139000";
inline constexpr const char* kPassword = "correct horse battery";
inline constexpr const char* kCvv2 = "123";

// An uncompressed P-256 point as the app sends it (shape only; the wallet passes it on).
inline std::string SeKey(char fill = 'A') { return "04" + std::string(128, fill); }

// A Luhn-valid 16-digit PAN of the demo bank (BIN 62220200-62220299), distinct per `n`.
inline std::string DemoBankPan(int n) {
  char payload[16];
  std::snprintf(payload, sizeof payload, "622202%09d", n);
  return std::string(payload) + *LuhnCheckDigit(payload);
}
inline constexpr const char* kVisaTestPan = "4111111111111111";

inline std::vector<CardProduct> DemoProducts() {
  return {{.bin_low = "62220200",
           .bin_high = "62220299",
           .bank_name = "China Demo Bank",
           .short_name = "CDB",
           .art_color = "#C8102E",
           .promotions = {"10% off at Demo Coffee", "Metro rides 2 CNY"}},
          {.bin_low = "41111111",
           .bin_high = "41111111",
           .bank_name = "Visa Test Bank",
           .short_name = "VTB",
           .art_color = "#1A1F71",
           .promotions = {}}};
}

using tapstack::testing::HttpAnswer;

class WalletHttpTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    WalletOptions options;
    options.clock = &clock_;
    options.random = &random_;
    options.password_params.log2_n = 10;  // fast tests; production keeps the default 2^15
    options.card_products = DemoProducts();
    options.request_hmac_key = crypto::SecretBytes(AsBytes("wallet-test-hmac-key-NOT-A-SECRET"));
    auto service = WalletService::Open(*store_, tsp_, std::move(options));
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    http_ = std::make_unique<tapstack::testing::HttpHarness>(
        [this](httplib::Server& server) { InstallWalletRoutes(server, *service_); });
    ASSERT_GT(http_->port(), 0);
  }
  void TearDown() override {
    http_.reset();
    service_.reset();
    StoreTest::TearDown();
  }

  HttpAnswer Call(const std::string& method, const std::string& path, const json& body = nullptr,
                  const std::string& session = "", const std::string& idempotency_key = "") {
    std::map<std::string, std::string> headers;
    if (!session.empty()) headers.emplace("Authorization", "Bearer " + session);
    if (!idempotency_key.empty()) headers.emplace("Idempotency-Key", idempotency_key);
    return http_->Call(method, path, body, headers);
  }

  // Signs up `phone` and returns a session token.
  std::string SignUpAndIn(const std::string& phone) {
    HttpAnswer up = Call("POST", "/v1/users", {{"phone", phone}, {"password", kPassword}});
    EXPECT_EQ(up.status, 201) << up.body.dump();
    HttpAnswer in = Call("POST", "/v1/sessions", {{"phone", phone}, {"password", kPassword}});
    EXPECT_EQ(in.status, 201) << in.body.dump();
    return in.body.value("session", "");
  }

  HttpAnswer RegisterDevice(const std::string& session, const std::string& device_id,
                            const std::string& kind = "phone", char key_fill = 'A',
                            const std::string& storage = "se") {
    return Call("POST", "/v1/devices",
                {{"device_id", device_id},
                 {"kind", kind},
                 {"name", kind + " of the tester"},
                 {"se_public_key", SeKey(key_fill)},
                 {"storage", storage}},
                session);
  }

  json CardBody(const std::string& device_id, const std::string& pan) {
    return {{"device_id", device_id}, {"card_type", "debit"}, {"pan", pan},
            {"expiry", "12/28"},      {"cvv2", kCvv2},        {"holder_name", "LI LEI"}};
  }

  HttpAnswer AddCard(const std::string& session, const std::string& device_id,
                     const std::string& pan, const std::string& key) {
    return Call("POST", "/v1/cards", CardBody(device_id, pan), session, key);
  }

  ManualClock clock_;
  SeededRandom random_{42};
  FakeTspClient tsp_;
  std::unique_ptr<WalletService> service_;
  std::unique_ptr<tapstack::testing::HttpHarness> http_;
};

// User A signed in with device "phone-1" registered: the starting point of most route tests.
class SignedInWalletTest : public WalletHttpTest {
 protected:
  void SetUp() override {
    WalletHttpTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    session_ = SignUpAndIn(kPhoneA);
    ASSERT_EQ(RegisterDevice(session_, "phone-1").status, 201);
  }
  std::string session_;
};

}  // namespace tapstack::wallet::testing
