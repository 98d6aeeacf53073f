// `tapstack demo qr` and `tapstack demo abroad` in this process: every step ends as the story
// says, and the balances add up to the fen.
#include "server/qr_story.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

namespace tapstack::server {
namespace {

class QrStoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-qr-story-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(QrStoryTest, TheHomeStoryEndsAsItSays) {
  std::ostringstream out;
  auto report = RunQrStory({.data_dir = dir_, .out = &out});
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << out.str();
  // CNY 500 topped up; 38.00 noodles (paid once despite the retry), 23.50 order, 56.00 dumplings,
  // 10.00 refunded, 100.00 withdrawn. The EMVCo code was a card payment, not the balance.
  EXPECT_EQ(report->payer_balance_minor, 50'000 - 3'800 - 2'350 - 5'600 + 1'000 - 10'000);
  // Reused order, tampered, expired, used payment code, declined second EMV code, over-refund,
  // daily limit.
  EXPECT_EQ(report->refusals_checked, 7);
  EXPECT_TRUE(report->audit_ok);
  for (const char* needle : {"altered", "expired", "DE22 032", "daily_max_minor", "statement"}) {
    EXPECT_NE(out.str().find(needle), std::string::npos) << needle << "\n" << out.str();
  }
}

TEST_F(QrStoryTest, TheAbroadStoryEndsAsItSays) {
  std::ostringstream out;
  auto report = RunAbroadStory({.data_dir = dir_, .out = &out});
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << out.str();
  EXPECT_TRUE(report->audit_ok);
  // A visitor's card above USD 5,000; the same VAT receipt twice.
  EXPECT_EQ(report->refusals_checked, 2);
  // CNY 5,000 topped up; RUB 1,250 at 0.0790 + 1% = 99.74; GBP 12.40 at 9.0500 + 1% = 113.34;
  // PKR 3,500 at 0.0256 + 1% = 90.50; a VAT refund of GBP 45.60 at 9.0500 (no markup) = 412.68.
  EXPECT_EQ(report->payer_balance_minor, 500'000 - 9'974 - 11'334 - 9'050 + 41'268);
  for (const char* needle : {"1250.00 RUB", "bp markup", "IndusPay", "clearing", "GB-LHR-884213"}) {
    EXPECT_NE(out.str().find(needle), std::string::npos) << needle << "\n" << out.str();
  }
}

TEST_F(QrStoryTest, RefusesADirectoryThatIsNotEmpty) {
  std::filesystem::create_directories(dir_ / "something");
  auto report = RunQrStory({.data_dir = dir_, .out = nullptr});
  EXPECT_EQ(report.status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tapstack::server
