// Shared by the transit tests: the shipped cities, the demo key set, a phone with a transit card
// personalised by the operator's code, and validators in a temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "core/clock.h"
#include "core/hex.h"
#include "demo/demo_keys.h"
#include "device/secure_element.h"
#include "transit/card_personalisation.h"
#include "transit/transit_cities.h"
#include "transit/validator.h"

namespace tapstack::transit::testing {

// 2026-11-22 08:30:00 China Standard Time.
inline constexpr std::int64_t kMorningMillis = 1'795'307'400'000;

inline const std::vector<CityNetwork>& Cities() {
  static const std::vector<CityNetwork> cities = [] {
    auto path = DefaultTransitCitiesPath();
    EXPECT_TRUE(path.ok()) << path.status().ToString();
    auto loaded = LoadTransitCities(*path);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return std::move(loaded).value();
  }();
  return cities;
}

inline std::shared_ptr<const CityNetwork> City(std::string_view code) {
  auto city = CityByCode(Cities(), code);
  EXPECT_TRUE(city.ok()) << city.status().ToString();
  return std::make_shared<CityNetwork>(**city);
}

inline TransitMasterKeys DemoKeys(std::string_view city_code) {
  return {demo::DemoTransitKey("t-union", "purchase"), demo::DemoTransitKey("t-union", "maintenance"),
          demo::DemoTransitKey(city_code, "load"), demo::DemoTransitKey(city_code, "tac")};
}

inline Serial SerialOf(std::string_view twenty_digits) {
  Serial serial{};
  const Bytes bytes = HexDecode(twenty_digits).value();
  std::copy(bytes.begin(), bytes.end(), serial.begin());
  return serial;
}

inline std::unique_ptr<device::SecureElement> OpenPhone(const std::filesystem::path& dir,
                                                        std::string device_id, const Clock& clock) {
  device::SecureElementOptions options;
  options.data_dir = dir;
  options.device_id = std::move(device_id);
  options.clock = &clock;
  auto se = device::SecureElement::Open(std::move(options));
  EXPECT_TRUE(se.ok()) << se.status().ToString();
  return std::move(se).value();
}

// Installs a card of `city` with `balance_fen` opening balance, valid 2026-01-01..2031-12-31.
inline void IssueCard(device::SecureElement& se, const CityNetwork& city, std::string card_id,
                      std::string_view serial_digits, std::uint32_t balance_fen) {
  CardIssue issue;
  issue.card_id = std::move(card_id);
  issue.serial = SerialOf(serial_digits);
  issue.start_date = 20260101;
  issue.expiry_date = 20311231;
  issue.balance_fen = balance_fen;
  auto blob = PersonaliseTransitCard(city, DemoKeys(city.city_code()), issue, se.public_key(), se.device_id());
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  ASSERT_TRUE(se.InstallTransitCard(issue.card_id, *blob).ok());
}

inline Transmit Field(device::SecureElement& se) {
  return [&se](ByteView apdu) { return se.Transmit(apdu); };
}

inline PsamOptions DemoPsam(std::uint8_t last_byte) {
  PsamOptions psam;
  psam.number = {0x10, 0x00, 0x00, 0x00, 0x00, last_byte};
  psam.purchase_master_key = demo::DemoTransitKey("t-union", "purchase");
  psam.maintenance_master_key = demo::DemoTransitKey("t-union", "maintenance");
  return psam;
}

inline std::unique_ptr<Validator> OpenValidator(const std::filesystem::path& dir, std::string id,
                                                ValidatorKind kind, std::shared_ptr<const CityNetwork> city,
                                                std::uint16_t line, std::uint16_t station, const Clock& clock,
                                                std::uint8_t psam_byte) {
  ValidatorOptions options;
  options.validator_id = std::move(id);
  options.kind = kind;
  options.city = std::move(city);
  options.line = line;
  options.station = station;
  options.data_dir = dir;
  options.psam = DemoPsam(psam_byte);
  options.clock = &clock;
  auto validator = Validator::Open(std::move(options));
  EXPECT_TRUE(validator.ok()) << validator.status().ToString();
  return std::move(validator).value();
}

// A fresh directory per test and a manual clock at kMorningMillis.
class TransitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-transit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  ManualClock clock_{kMorningMillis};
};

}  // namespace tapstack::transit::testing
