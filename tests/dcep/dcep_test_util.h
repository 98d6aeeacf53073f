// Shared by the dcep tests: a temp directory, a manual clock, the seed config and a whole
// network (central bank + operators) with helpers to open and fund wallets.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/random_source.h"
#include "dcep/dcep_network.h"
#include "dcep/tiers.h"

namespace tapstack::dcep::testing {

// 2026-01-01T10:00:00+08:00 (02:00 UTC).
inline constexpr std::int64_t kMorningMillis = 1'767'225'600'000 + 2 * 3'600'000;
inline constexpr std::int64_t kHourMillis = 3'600'000;

inline DcepConfig SeedConfig() {
  auto path = DefaultDcepConfigPath();
  EXPECT_TRUE(path.ok());
  auto config = LoadDcepConfig(*path);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const ::tapstack::Status ts_s_ = (expr);                     \
    ASSERT_TRUE(ts_s_.ok()) << #expr << ": " << ts_s_.ToString(); \
  } while (false)

template <typename T>
T Must(Result<T> r, const char* what = "") {
  EXPECT_TRUE(r.ok()) << what << ": " << r.status().ToString();
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

class DcepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-dcep-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    network_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Opens icbc, ccb and boc (the others are not needed and cost ledger opens).
  void OpenNetwork(CentralBankClient* client = nullptr) {
    DcepNetworkOptions options;
    options.data_dir = dir_;
    options.config = SeedConfig();
    options.clock = &clock_;
    options.random = &random_;
    options.operator_ids = {"icbc", "ccb", "boc"};
    options.central_bank_client = client;
    network_ = Must(DcepNetwork::Open(std::move(options)), "open network");
  }

  Operator& Op(std::string_view id) { return *Must(network_->operator_of(id)); }

  // A wallet at `op` with `evidence` tier, holding `balance_fen` from an exchange.
  std::string FundedWallet(std::string_view op, const std::string& phone,
                           std::int64_t balance_fen, bool real_name = false) {
    TierEvidence evidence{phone, "", "", "", false};
    if (real_name) evidence = {phone, "Li Lei", "110101199001011234", "6222020200112233", false};
    const WalletInfo wallet = Must(Op(op).OpenWallet(evidence, "open-" + phone));
    if (balance_fen > 0) {
      EnsureFloat(op, balance_fen);
      Must(Op(op).Exchange(wallet.wallet_id, balance_fen, false, "fund-" + phone));
    }
    return wallet.wallet_id;
  }

  void EnsureFloat(std::string_view op, std::int64_t amount_fen) {
    Must(Op(op).RequestIssuance(amount_fen, "float-" + std::to_string(++floats_)));
  }

  void ExpectNetworkBalanced() {
    auto audit = network_->AuditNetwork();
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  }

  std::filesystem::path dir_;
  ManualClock clock_{kMorningMillis};
  SeededRandom random_{7};
  std::unique_ptr<DcepNetwork> network_;
  int floats_ = 0;
};

}  // namespace tapstack::dcep::testing
