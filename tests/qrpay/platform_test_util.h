// Shared fixture of the Platform tests: the seed config, a manual clock, a seeded random source,
// and fakes of the three interfaces a platform consumes (RateSource, CardRail, ClearingLink).
// Parameterised over the database: SQLite (the platform's own file under a temp dir) or
// PostgreSQL (an opened store, a schema per platform per test, dropped afterwards; skipped when
// TAPSTACK_TEST_PG_URL is unset). Instantiate with TS_INSTANTIATE_FOR_BOTH_DATABASES(Suite).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/currency.h"
#include "core/random_source.h"
#include "qr/mpm.h"
#include "qrpay/platform.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "store/store_fixture.h"

namespace tapstack::qrpay::testing {

__extension__ typedef __int128 Int128;

using store::testing::TempDir;

inline std::filesystem::path SeedPath() {
  return std::filesystem::path(TAPSTACK_VECTORS_DIR) / ".." / ".." / "seed" / "qrpay.json";
}

inline const Currency& Cur(std::string_view alpha) { return **CurrencyByAlpha(alpha); }
inline Amount Minor(std::int64_t minor, std::string_view alpha) {
  return Amount(minor, Cur(alpha));
}

// Fixed published rates ("1 from = rate to", scale 4), markup on top, rounded half up once.
class FakeRates final : public RateSource {
 public:
  FakeRates() {
    Set("RUB", "CNY", 780);     // 0.0780
    Set("GBP", "CNY", 91000);   // 9.1000
    Set("HKD", "CNY", 9200);    // 0.9200
    Set("PKR", "CNY", 255);     // 0.0255
    Set("EUR", "CNY", 78000);   // 7.8000
    Set("CNY", "PKR", 392000);  // 39.2000
    Set("CNY", "USD", 1380);    // 0.1380
  }
  void Set(std::string_view from, std::string_view to, std::int64_t mantissa) {
    rates_[std::string(from) + std::string(to)] = mantissa;
  }
  Result<FxConversion> Convert(const Amount& amount, const Currency& to,
                               std::int64_t markup_bps) const override {
    FxConversion fx;
    fx.from = amount;
    fx.markup_bps = markup_bps;
    fx.source = "test rates";
    fx.business_date = "2026-01-01";
    fx.rate_scale = 4;
    if (amount.currency() == to) {
      fx.rate_mantissa = 10000;
    } else {
      auto it = rates_.find(std::string(amount.currency().alpha) + std::string(to.alpha));
      if (it == rates_.end()) return NotFound("no rate");
      fx.rate_mantissa = it->second;
    }
    // Both currencies have exponent 2 in these tests.
    const Int128 numerator =
        static_cast<Int128>(amount.minor_units()) * fx.rate_mantissa * (10000 + markup_bps);
    const Int128 denominator = Int128{10000} * 10000;
    fx.to = Amount(static_cast<std::int64_t>((numerator + denominator / 2) / denominator), to);
    return fx;
  }

 private:
  std::map<std::string, std::int64_t> rates_;
};

// Charges succeed when payment_data is {"cryptogram": "good"}; {"cryptogram": "declined"} is a
// DE39 51 decline. Idempotent by order id like the real rail: a charged order answers its first
// charge again, until ForgetOrders() (a rail restart: it then no longer knows the order).
// charge_unavailable > 0 charges but loses the answer (kUnavailable). Credits can be made to fail.
class FakeCardRail final : public CardRail {
 public:
  Result<CardPaymentRequest> PaymentRequest(const CardOrder& order) override {
    std::lock_guard lock(mu_);
    orders_[order.order_id] = order;
    CardPaymentRequest r;
    r.order_id = order.order_id;
    r.merchant_name = order.merchant.name;
    r.amount = order.amount;
    r.unpredictable_number = "0A1B2C3D";
    return r;
  }
  Result<CardCharge> Charge(const CardOrder& order, const nlohmann::json& payment_data) override {
    std::lock_guard lock(mu_);
    ++charges;
    if (!orders_.contains(order.order_id)) return InvalidArgument("order_id: unknown order");
    if (auto it = charged_.find(order.order_id); it != charged_.end()) return it->second;
    if (!(orders_[order.order_id].amount == order.amount)) {
      return InvalidArgument("amount: differs from the payment request");
    }
    if (payment_data.value("cryptogram", "") == "declined") {
      return FailedPrecondition("declined: DE39 51 insufficient funds");
    }
    if (payment_data.value("cryptogram", "") != "good") {
      return InvalidArgument("payment_data.cryptogram: not made for this order");
    }
    CardCharge c;
    c.reference = "T0001:" + std::to_string(100000 + charges);
    c.token_last4 = token.substr(token.size() - 4);
    c.token = token;
    c.token_expiry = "2812";
    charged_.emplace(order.order_id, c);
    ++charges_applied;
    if (charge_unavailable > 0) {
      --charge_unavailable;
      return Unavailable("no answer from the switch");
    }
    return c;
  }
  void ForgetOrders() {
    std::lock_guard lock(mu_);
    orders_.clear();
    charged_.clear();
  }
  Result<std::string> Credit(const CardCredit& credit) override {
    std::lock_guard lock(mu_);
    ++credits;
    last_credit = credit;
    if (credit_unavailable > 0) {
      --credit_unavailable;
      return Unavailable("no answer from the switch");
    }
    if (credit_refused) return FailedPrecondition("refused: DE39 57 not permitted");
    auto [it, fresh] = credited_.emplace(credit.credit_id, "T0001:" + std::to_string(credits));
    if (fresh) ++credits_applied;
    return it->second;
  }

  std::string token = "6250947000001234";  // a device token (never a PAN)
  int charges = 0;          // Charge calls
  int charges_applied = 0;  // orders actually charged
  int charge_unavailable = 0;
  int credits = 0;
  int credits_applied = 0;
  int credit_unavailable = 0;
  bool credit_refused = false;
  CardCredit last_credit;

 private:
  std::mutex mu_;
  std::map<std::string, CardOrder> orders_;
  std::map<std::string, CardCharge> charged_;
  std::map<std::string, std::string> credited_;
};

// The network's QR clearing reduced to a function call into the payee platform.
class FakeClearing final : public ClearingLink {
 public:
  Result<nlohmann::json> Send(const nlohmann::json& request) override {
    ++sent;
    last_request = request;
    if (unavailable > 0) {
      --unavailable;
      return Unavailable("no answer from the network");
    }
    if (!fail_with.ok()) return fail_with;
    if (answer_override.has_value()) return *answer_override;
    if (payee == nullptr) return Unavailable("no payee platform");
    nlohmann::json answer = payee->HandleClearing(request);
    if (answer.value("status", "") == "error") return Unavailable(answer.dump());
    return answer;
  }
  Platform* payee = nullptr;
  int unavailable = 0;
  Status fail_with;                              // returned by every Send while not OK
  std::optional<nlohmann::json> answer_override;  // answered instead of the payee's answer
  int sent = 0;
  nlohmann::json last_request;
};

// Re-encodes `payload` with one root object's value replaced: a valid CRC over altered content
// (a tampered code that only the MAC catches).
inline std::string ReplaceQrObject(const std::string& payload, std::string_view id,
                                   std::string value) {
  qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  for (qr::MpmObject& object : decoded.objects) {
    if (object.id == id) object.value = std::move(value);
  }
  qr::MpmEncodeOptions options;
  options.validate = false;
  auto encoded = qr::EncodeMpm(decoded.objects, options);
  return encoded.ok() ? *encoded : std::string();
}

inline crypto::SecretBytes TestQrKey(std::string_view platform) {
  std::string text = "test qr key of " + std::string(platform) + " padded to 32+ bytes!!";
  return crypto::SecretBytes(
      ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

class PlatformTest : public ::testing::Test {
 protected:
  // SQLite unless the test is parameterised (PlatformDbTest).
  virtual store::Dialect dialect() const { return store::Dialect::kSqlite; }

  ~PlatformTest() override {
    // Platforms of derived fixtures are closed by now (members die before the base).
    cn_.reset();
    for (const auto& [platform_id, role] : pg_roles_) {
      store::testing::PostgresAdmin(pg_url_, "DROP SCHEMA IF EXISTS \"" + role + "\" CASCADE");
    }
  }

  void SetUp() override {
    if (dialect() == store::Dialect::kPostgres) TS_REQUIRE_POSTGRES(pg_url_);
    auto config = LoadQrpayConfig(SeedPath());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = std::move(*config);
    cn_ = OpenPlatform("tapstack-cn", cn_dir_);
    ASSERT_NE(cn_, nullptr);
  }

  // Another connection to the database of platform `id` (opened before in this test).
  Result<std::unique_ptr<store::Store>> OpenStore(const std::string& id, const TempDir& dir) {
    if (dialect() == store::Dialect::kPostgres) {
      auto [it, fresh] = pg_roles_.try_emplace(id, store::testing::UniqueRole());
      return store::OpenPostgres(pg_url_, it->second);
    }
    std::string role = "qrpay_" + id;  // the platform's own file name when given a data_dir
    std::replace(role.begin(), role.end(), '-', '_');
    return store::OpenSqlite(dir.path(), role);
  }

  std::unique_ptr<Platform> OpenPlatform(const std::string& id, const TempDir& dir) {
    PlatformOptions options;
    options.platform_id = id;
    options.config = &config_;
    if (dialect() == store::Dialect::kPostgres) {
      auto opened = OpenStore(id, dir);
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      if (!opened.ok()) return nullptr;
      options.store = std::move(*opened);
    } else {
      options.data_dir = dir.path();
    }
    options.qr_key = TestQrKey(id);
    options.clock = &clock_;
    options.random = &random_;
    options.card_rail = &rail_;
    options.rates = &rates_;
    options.clearing = &clearing_;
    auto opened = Platform::Open(std::move(options));
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return nullptr;
    return std::move(*opened);
  }

  // Closes and reopens the CN platform on the same files (a restart).
  void RestartCn() {
    cn_.reset();
    cn_ = OpenPlatform("tapstack-cn", cn_dir_);
    ASSERT_NE(cn_, nullptr);
  }

  std::string NewAccount(const std::string& owner, int level = 2) {
    auto account = cn_->OpenAccount(owner, Cny(), level);
    EXPECT_TRUE(account.ok()) << account.status().ToString();
    return account.ok() ? account->account_id : std::string();
  }

  // Tops the account up through the fake rail.
  void TopUp(const std::string& account_id, std::int64_t fen) {
    auto request = cn_->StartTopUp(account_id, Minor(fen, "CNY"), "device-1");
    ASSERT_TRUE(request.ok()) << request.status().ToString();
    auto receipt = cn_->CompleteTopUp(request->order_id, {{"cryptogram", "good"}});
    ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  }

  std::int64_t Balance(const std::string& account_id) {
    auto info = cn_->Account(account_id);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->balance.minor_units() : -1;
  }

  std::int64_t MerchantBalance(const std::string& merchant_id) {
    auto balance = cn_->MerchantBalance(merchant_id);
    EXPECT_TRUE(balance.ok()) << balance.status().ToString();
    return balance.ok() ? balance->minor_units() : -1;
  }

  void ExpectAuditOk(Platform& platform) {
    auto audit = platform.Audit();
    EXPECT_TRUE(audit.ok()) << audit.status().ToString();
  }

  QrpayConfig config_;
  ManualClock clock_;  // 2026-01-01T00:00:00Z
  SeededRandom random_{42};
  FakeRates rates_;
  FakeCardRail rail_;
  FakeClearing clearing_;
  TempDir cn_dir_;
  std::string pg_url_;
  std::map<std::string, std::string> pg_roles_;  // platform id → PostgreSQL schema
  std::unique_ptr<Platform> cn_;
};

// PlatformTest on both databases: TEST_P(Suite, …) and TS_INSTANTIATE_FOR_BOTH_DATABASES(Suite).
class PlatformDbTest : public PlatformTest, public ::testing::WithParamInterface<store::Dialect> {
 protected:
  store::Dialect dialect() const override { return GetParam(); }
};

}  // namespace tapstack::qrpay::testing
