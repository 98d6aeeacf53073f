// Shared fixture of the Platform tests: the seed config, a manual clock, a seeded random source,
// and fakes of the three interfaces a platform consumes (RateSource, CardRail, ClearingLink).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/clock.h"
#include "core/currency.h"
#include "core/random_source.h"
#include "qrpay/platform.h"

namespace tapstack::qrpay::testing {

__extension__ typedef __int128 Int128;

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tapstack-qrpay-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

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
// DE39 51 decline. Credits can be made to fail.
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
    return c;
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
  int charges = 0;
  int credits = 0;
  int credits_applied = 0;
  int credit_unavailable = 0;
  bool credit_refused = false;
  CardCredit last_credit;

 private:
  std::mutex mu_;
  std::map<std::string, CardOrder> orders_;
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
    if (payee == nullptr) return Unavailable("no payee platform");
    nlohmann::json answer = payee->HandleClearing(request);
    if (answer.value("status", "") == "error") return Unavailable(answer.dump());
    return answer;
  }
  Platform* payee = nullptr;
  int unavailable = 0;
  int sent = 0;
  nlohmann::json last_request;
};

inline crypto::SecretBytes TestQrKey(std::string_view platform) {
  std::string text = "test qr key of " + std::string(platform) + " padded to 32+ bytes!!";
  return crypto::SecretBytes(
      ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

class PlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = LoadQrpayConfig(SeedPath());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = std::move(*config);
    cn_ = OpenPlatform("tapstack-cn", cn_dir_);
    ASSERT_NE(cn_, nullptr);
  }

  std::unique_ptr<Platform> OpenPlatform(const std::string& id, const TempDir& dir) {
    PlatformOptions options;
    options.platform_id = id;
    options.config = &config_;
    options.data_dir = dir.path();
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
  std::unique_ptr<Platform> cn_;
};

}  // namespace tapstack::qrpay::testing
