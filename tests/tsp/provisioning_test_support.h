// Shared set-up for the provisioning tests: a fake issuer that answers token-provisioning ID&V
// requests per the contract in docs/tsp.md, and a TspService on fresh SQLite databases.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/hex.h"
#include "core/random_source.h"
#include "crypto/key_agreement.h"
#include "iso8583/token_data.h"
#include "link/in_memory_link.h"
#include "store/sqlite_store.h"
#include "store/store_fixture.h"
#include "tsp/idv_client.h"
#include "tsp/tsp_service.h"
#include "tsp/tsp_test_support.h"

namespace tapstack::tsp::testing {

inline constexpr std::string_view kDemoWalletKey = "demo-wallet-requestor-key-NOT-A-SECRET";
inline constexpr std::string_view kOtherWalletKey = "other-wallet-requestor-key-NOT-A-SECRET";
inline constexpr std::string_view kDemoOtpKey = "tapstack-demo-otp-1-NOT-A-SECRET";
inline constexpr std::string_view kDemoImkHex = "0123456789ABCDEFFEDCBA9876543210";
inline constexpr std::string_view kPhone = "+8613800138000";
inline constexpr std::string_view kCvv2 = "123";
inline constexpr std::string_view kPanExpiry = "2812";

inline TokenRangeKeys DemoRangeKeys() {
  return {"49990000", "49990099", "mc-cvn20", *crypto::SecretBytes::FromHex(kDemoImkHex)};
}

// A card the fake issuer knows.
struct IdvTestCard {
  std::string expiry = std::string(kPanExpiry);
  std::string cvv2 = std::string(kCvv2);
  std::string block_code;  // "62", "41", "43", "05": declined with this code
};

// The issuer side of ID&V: knows some cards and answers 0100 PV requests per the contract.
class FakeIdvIssuer final : public link::MessageHandler {
 public:
  using Card = IdvTestCard;

  void AddCard(std::string_view pan, Card card = {}) {
    std::lock_guard lock(mu_);
    cards_[std::string(pan)] = std::move(card);
  }
  void set_decision(std::string_view iv) {
    std::lock_guard lock(mu_);
    decision_ = std::string(iv);
  }
  void set_down(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  std::vector<iso8583::Message> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  void OnRequest(iso8583::Message request, link::Reply reply) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    iso8583::Message response("0110");
    for (int f : {2, 3, 4, 7, 11, 12, 13, 32, 41, 42, 49}) {
      if (auto v = request.Get(f)) response.Set(f, *v);
    }
    std::string code = "85";
    std::string iv = decision_;
    auto de48 = iso8583::TokenData::Parse(request.Get(48).value_or(""));
    const auto it = cards_.find(std::string(request.Get(2).value_or("")));
    if (down_) {
      code = "91";
    } else if (!de48.ok() || de48->Get("PV") != "1" || request.Get(25) != "51") {
      code = "30";  // format error: not a provisioning ID&V request
    } else if (it == cards_.end()) {
      code = "14";
    } else if (!it->second.block_code.empty()) {
      code = it->second.block_code;
    } else if (request.Get(14) != it->second.expiry) {
      code = "54";
    } else if (de48->Get(iso8583::token_tag::kCardSecurityCode) != it->second.cvv2) {
      code = "N7";
    }
    if (code != "85") iv = "R";
    response.Set(39, code);
    if (code != "91") {
      iso8583::TokenData out;
      out.Set("IV", iv);
      response.Set(48, *out.ToField());
    }
    reply(std::move(response));
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Card> cards_;
  std::string decision_ = "Y";
  bool down_ = false;
  std::vector<iso8583::Message> requests_;
};

// A device: its key-agreement key pair.
struct TestDevice {
  std::string id;
  crypto::EcdhPrivateKey key;
  Bytes public_key;
};
inline TestDevice MakeDevice(std::string id) {
  auto key = crypto::EcdhPrivateKey::Generate();
  EXPECT_TRUE(key.ok());
  auto pub = key->PublicKeyRaw();
  EXPECT_TRUE(pub.ok());
  return TestDevice{std::move(id), std::move(*key), *pub};
}

class TspServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<store::testing::TempDir>();
    issuer_.AddCard(kTestPanVisa);
    issuer_.AddCard(kTestPanMastercard);
    OpenService();
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    atc_store_.reset();
  }

  void OpenService() {
    service_.reset();
    auto s = store::OpenSqlite(dir_->path(), "tsp");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto a = store::OpenSqlite(dir_->path(), "tsp_atc");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    atc_store_ = std::move(*a);
    TspServiceOptions o;
    o.store = store_.get();
    o.atc_store = atc_store_.get();
    o.vault_keys = TokenVaultKeys{DemoKek1(), DemoKey(kDemoFingerprintKey)};
    o.token_numbers = &numbers_;
    o.par = &par_;
    o.token_ranges.push_back(DemoRangeKeys());
    o.requestors = {{std::string(kWalletTrid), "tapstack wallet", std::string(kDemoWalletKey)},
                    {std::string(kOtherWalletTrid), "other wallet", std::string(kOtherWalletKey)}};
    o.otp_key = DemoKey(kDemoOtpKey);
    o.sms_gateway = sms_override_;
    o.idv_link = &link_;
    o.idv.timeout_ms = 2000;
    o.clock = &clock_;
    o.random = &random_;
    auto service = TspService::Open(std::move(o));
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
  }

  ProvisionRequest Request(const TestDevice& device, std::string_view pan = kTestPanVisa,
                           KeyStorage storage = KeyStorage::kSe) {
    ProvisionRequest r;
    r.requestor_id = std::string(kWalletTrid);
    r.device_id = device.id;
    r.device_public_key = device.public_key;
    r.storage = storage;
    r.pan = std::string(pan);
    r.pan_expiry = std::string(kPanExpiry);
    r.cvv2 = std::string(kCvv2);
    r.holder_name = "LI LEI";
    r.phone = std::string(kPhone);
    return r;
  }

  // The OTP in the newest outbox message to kPhone ("" when none).
  std::string LatestOtp() {
    auto messages = service_->SmsOutbox(kPhone, 0);
    EXPECT_TRUE(messages.ok()) << messages.status().ToString();
    if (!messages.ok() || messages->empty()) return "";
    const std::string& text = messages->back().text;
    for (std::size_t i = 0; i + 6 <= text.size(); ++i) {
      if (IsAllDigits(text.substr(i, 6))) return text.substr(i, 6);
    }
    return "";
  }

  std::int64_t CountTokens() {
    auto row = store_->QueryRow("SELECT count(*) AS n FROM tsp_tokens");
    EXPECT_TRUE(row.ok());
    return row.ok() ? *row->GetInt64(0) : -1;
  }

  std::unique_ptr<store::testing::TempDir> dir_;
  FakeIdvIssuer issuer_;
  link::InMemoryLink link_{issuer_};
  ManualClock clock_;
  SeededRandom random_{20260101};
  TokenNumberGenerator numbers_ = DemoTokenNumbers();
  ParGenerator par_ = DemoPar();
  SmsGateway* sms_override_ = nullptr;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Store> atc_store_;
  std::unique_ptr<TspService> service_;
};

}  // namespace tapstack::tsp::testing
