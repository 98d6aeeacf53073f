// Helpers shared by the device tests: a fresh data directory, the demo issuer key and token
// credentials derived from it the way the TSP will, and wrapping for one device.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/hex.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/device_key_wrap.h"
#include "crypto/secret_bytes.h"
#include "device/secure_element.h"
#include "device/token_credentials.h"
#include "device/transit_card_profile.h"
#include "emv/card_keys.h"
#include "emv/cryptogram_profile.h"

namespace tapstack::device::testing {

// IMK-AC of the published CVN-MC-20 vector in tests/vectors/emv_crypto.json (pyemv). A test key:
// anyone can read it.
inline constexpr std::string_view kTestImk = "0123456789ABCDEFFEDCBA9876543210";
inline constexpr std::string_view kTokenNumber = "5413330089600010";  // Luhn-valid test token
inline constexpr std::string_view kPsn = "01";

// PDOL data: TTQ 26804000, 9F02 000000001234, 9F03 0, 9F1A 0156, 95 0, 5F2A 0156, 9A 260101,
// 9C 00, 9F37 11223344 (33 bytes).
inline constexpr std::string_view kPdolData =
    "26804000"
    "000000001234"
    "000000000000"
    "0156"
    "0000000000"
    "0156"
    "260101"
    "00"
    "11223344";
// CDOL1 data: the same transaction data without the TTQ (29 bytes).
inline constexpr std::string_view kCdolData =
    "000000001234"
    "000000000000"
    "0156"
    "0000000000"
    "0156"
    "260101"
    "00"
    "11223344";

inline Bytes Hex(std::string_view hex) {
  Result<Bytes> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << "bad hex in test: " << hex;
  return bytes.ok() ? *bytes : Bytes();
}

inline crypto::SecretBytes TestImk() { return crypto::SecretBytes(Hex(kTestImk)); }

inline const emv::CryptogramProfile& Profile() {
  return *emv::FindCryptogramProfile(kSupportedProfile);
}

// A directory unique to this test, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("tapstack-device-" + std::to_string(::getpid()) + "-" +
             std::string(info != nullptr ? info->name() : "x") + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The token's MK-AC as the TSP derives it (Option A from the IMK, token number and PSN).
inline crypto::SecretBytes TokenMasterKey(std::string_view token_number = kTokenNumber,
                                          std::string_view psn = kPsn) {
  Result<crypto::SecretBytes> mk =
      emv::DeriveCardMasterKey(Profile(), TestImk(), token_number, psn);
  EXPECT_TRUE(mk.ok()) << mk.status().ToString();
  return mk.ok() ? std::move(mk).value() : crypto::SecretBytes();
}

inline TokenCredentials MasterKeyCredentials(std::string token_id = "tok-1",
                                             std::string token_number = std::string(kTokenNumber)) {
  TokenCredentials c;
  c.token_id = std::move(token_id);
  c.token_number = std::move(token_number);
  c.expiry_yymm = "2812";
  c.psn = std::string(kPsn);
  c.profile_name = std::string(kSupportedProfile);
  c.mode = KeyMode::kMasterKey;
  c.icc_master_key = TokenMasterKey(c.token_number, c.psn);
  return c;
}

// Single-use session keys for ATCs first..first+count-1, as the TSP pre-derives them.
inline std::vector<LimitedUseKey> LimitedUseKeys(std::uint16_t first, std::size_t count) {
  const crypto::SecretBytes mk = TokenMasterKey();
  std::vector<LimitedUseKey> keys;
  for (std::size_t i = 0; i < count; ++i) {
    const auto atc = static_cast<std::uint16_t>(first + i);
    Result<crypto::SecretBytes> sk = emv::DeriveCardSessionKey(Profile(), mk, atc, {});
    EXPECT_TRUE(sk.ok());
    keys.push_back(LimitedUseKey{atc, std::move(sk).value()});
  }
  return keys;
}

inline TokenCredentials HceCredentials(std::string token_id, std::size_t keys) {
  TokenCredentials c = MasterKeyCredentials(std::move(token_id));
  c.mode = KeyMode::kLimitedUse;
  c.icc_master_key = crypto::SecretBytes();
  c.limited_use_keys = LimitedUseKeys(1, keys);
  return c;
}

inline Bytes WrapFor(const SecureElement& se, const TokenCredentials& c,
                     bool replenishment = false) {
  Result<crypto::SecretBytes> plain = EncodeTokenCredentials(c, replenishment);
  EXPECT_TRUE(plain.ok()) << plain.status().ToString();
  Result<Bytes> blob = crypto::WrapForDevice(se.public_key(), se.device_id(), c.token_id, *plain);
  EXPECT_TRUE(blob.ok()) << blob.status().ToString();
  return blob.ok() ? *blob : Bytes();
}

inline std::unique_ptr<SecureElement> OpenDevice(const std::filesystem::path& dir,
                                                 std::string device_id, const Clock* clock,
                                                 RandomSource* transit_random = nullptr) {
  SecureElementOptions options;
  options.data_dir = dir;
  options.device_id = std::move(device_id);
  options.clock = clock;
  options.transit_random = transit_random;
  Result<std::unique_ptr<SecureElement>> se = SecureElement::Open(std::move(options));
  EXPECT_TRUE(se.ok()) << se.status().ToString();
  return se.ok() ? std::move(se).value() : nullptr;
}

// Purse card keys of the published PBOC worked example (tests/vectors/pboc_purse.json): the same
// 16 bytes serve as DPK and DLK. TAC and maintenance keys are this suite's own test keys.
inline constexpr std::string_view kPurseVectorKey = "11223344556677888877665544332211";
inline constexpr std::string_view kPurseTacKey = "0F1E2D3C4B5A69788796A5B4C3D2E1F0";
inline constexpr std::string_view kPurseMaintenanceKey = "00112233445566778899AABBCCDDEEFF";

// A Beijing-style transit card personalisation with the vector keys.
inline TransitCardProfile TransitProfile(std::string card_id = "bj-1",
                                         crypto::PurseAlgorithm algorithm =
                                             crypto::PurseAlgorithm::kTdes,
                                         std::uint32_t balance_fen = 0) {
  TransitCardProfile p;
  p.card_id = std::move(card_id);
  p.issuer_id = Hex("1000000000000001");
  p.serial = Hex("10000000000000012345");
  p.start_date = 20260101;
  p.expiry_date = 20361231;
  p.province_code = 0x1100;
  p.city_code = 0x1000;
  p.card_type = 0x01;
  p.algorithm = algorithm;
  p.key_version = 0x01;
  p.purchase_key = crypto::SecretBytes(Hex(kPurseVectorKey));
  p.load_key = crypto::SecretBytes(Hex(kPurseVectorKey));
  p.tac_key = crypto::SecretBytes(Hex(kPurseTacKey));
  p.maintenance_key = crypto::SecretBytes(Hex(kPurseMaintenanceKey));
  p.balance_fen = balance_fen;
  p.balance_cap_fen = 100000;
  return p;
}

inline Bytes WrapTransitFor(const SecureElement& se, const TransitCardProfile& p) {
  const crypto::SecretBytes plain = EncodeTransitCardProfile(p);
  Result<Bytes> blob = crypto::WrapForDevice(se.public_key(), se.device_id(), p.card_id, plain);
  EXPECT_TRUE(blob.ok()) << blob.status().ToString();
  return blob.ok() ? *blob : Bytes();
}

// A random source that repeats fixed bytes: the card random of the published examples is
// 11223344. Test only.
class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(Bytes pattern = Hex("11223344")) : pattern_(std::move(pattern)) {}
  Status Fill(std::span<std::uint8_t> out) override {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = pattern_[i % pattern_.size()];
    return Status::Ok();
  }

 private:
  Bytes pattern_;
};

// Sends a C-APDU given in hex; returns the R-APDU.
inline Bytes Send(SecureElement& se, std::string_view capdu_hex) {
  return se.Transmit(Hex(capdu_hex));
}

// SW1 SW2 of an R-APDU as a number (0 when shorter than 2 bytes).
inline std::uint16_t SwOf(const Bytes& rapdu) {
  if (rapdu.size() < 2) return 0;
  return static_cast<std::uint16_t>((rapdu[rapdu.size() - 2] << 8) | rapdu.back());
}

// The data of an R-APDU (without SW1 SW2).
inline Bytes DataOf(const Bytes& rapdu) {
  return rapdu.size() < 2 ? Bytes() : Bytes(rapdu.begin(), rapdu.end() - 2);
}

}  // namespace tapstack::device::testing

#define DEVICE_ASSERT_OK(expr)                                     \
  do {                                                             \
    const ::tapstack::Status device_status_ = (expr);              \
    ASSERT_TRUE(device_status_.ok()) << device_status_.ToString(); \
  } while (false)

#define DEVICE_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  DEVICE_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(device_result_, __LINE__), lhs, expr)
#define DEVICE_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();       \
  lhs = std::move(tmp).value()
