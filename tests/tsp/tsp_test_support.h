// Shared set-up for the TSP tests: fixed demo keys and a vault on a fresh database per test.
//
// Every key below is the ASCII text it spells, 32 bytes, chosen to be obviously not a secret. They
// exist only for tests and demos; production keys come from a KMS/HSM and never appear in source.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/pan.h"
#include "core/random_source.h"
#include "crypto/secret_bytes.h"
#include "store/store_fixture.h"
#include "tsp/par.h"
#include "tsp/token_number.h"
#include "tsp/token_vault.h"

namespace tapstack::tsp::testing {

inline constexpr std::string_view kDemoKek1 = "tapstack-demo-kek-1-NOT-A-SECRET";
inline constexpr std::string_view kDemoKek2 = "tapstack-demo-kek-2-NOT-A-SECRET";
inline constexpr std::string_view kDemoFingerprintKey = "tapstack-demo-fpk-1-NOT-A-SECRET";
inline constexpr std::string_view kDemoParKey = "tapstack-demo-par-1-NOT-A-SECRET";
inline constexpr std::string_view kDemoBinControllerId = "T001";

// Published test card numbers (Visa and Mastercard developer test PANs), never real accounts.
inline constexpr std::string_view kTestPanVisa = "4111111111111111";
inline constexpr std::string_view kTestPanMastercard = "5555555555554444";
inline constexpr std::string_view kTestPanVisa2 = "4012888888881881";

// A Token Requestor ID (11 digits) for the demo wallet, and another one.
inline constexpr std::string_view kWalletTrid = "40010000001";
inline constexpr std::string_view kOtherWalletTrid = "40010000002";

inline crypto::SecretBytes DemoKey(std::string_view text) {
  return crypto::SecretBytes(AsBytes(text));
}
inline KeyEncryptionKey DemoKek1() { return {"demo-kek-1", DemoKey(kDemoKek1)}; }
inline KeyEncryptionKey DemoKek2() { return {"demo-kek-2", DemoKey(kDemoKek2)}; }

inline Pan TestPan(std::string_view digits) { return *Pan::Parse(digits); }

// Fictional token range 49990000-49990099, disjoint from the issuer BINs of the test PANs.
inline TokenNumberGenerator DemoTokenNumbers() {
  auto g = TokenNumberGenerator::Create(
      {{"49990000", "49990099", 16}},
      {{"411111", "411111"}, {"555555", "555555"}, {"401288", "401288"}}, nullptr);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return std::move(*g);
}
inline ParGenerator DemoPar() {
  return *ParGenerator::Create(std::string(kDemoBinControllerId), DemoKey(kDemoParKey));
}

inline TokenizeRequest DemoRequest(std::string device = "se-0001") {
  return {.pan_expiry = "2812", .requestor_id = std::string(kWalletTrid), .device_id = device};
}

// A vault on this test's database (SQLite or PostgreSQL), at 2026-01-01 on a manual clock.
class VaultTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto vault = OpenVault(*store_, DemoKek1());
    ASSERT_TRUE(vault.ok()) << vault.status().ToString();
    vault_ = std::move(*vault);
  }
  void TearDown() override {
    vault_.reset();
    StoreTest::TearDown();
  }

  Result<std::unique_ptr<TokenVault>> OpenVault(store::Store& store, KeyEncryptionKey kek) {
    TokenVaultOptions options;
    options.clock = &clock_;
    options.random = &random_;
    options.token_numbers = &numbers_;
    options.par = &par_;
    return TokenVault::Open(store, TokenVaultKeys{std::move(kek), DemoKey(kDemoFingerprintKey)},
                            options);
  }

  // Tokenizes and activates `pan` for the demo wallet on `device`.
  TokenRecord ActiveToken(std::string_view pan, std::string device = "se-0001") {
    auto t = vault_->Tokenize(TestPan(pan), DemoRequest(device));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (!t.ok()) return {};
    auto a = vault_->ChangeState(t->record.token_id, LifecycleAction::kActivate,
                                 {InitiatorKind::kTsp, "tsp:idv"}, "idv passed");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? a->record : TokenRecord{};
  }

  ManualClock clock_;
  SeededRandom random_{20260101};
  TokenNumberGenerator numbers_ = DemoTokenNumbers();
  ParGenerator par_ = DemoPar();
  std::unique_ptr<TokenVault> vault_;
};

}  // namespace tapstack::tsp::testing
