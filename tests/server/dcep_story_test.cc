#include "server/dcep_story.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>

namespace tapstack::server {
namespace {

class DcepStoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-dcep-story-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(DcepStoryTest, EveryStepEndsAsTheStorySays) {
  std::ostringstream out;
  auto report = RunDcepStory({.data_dir = dir_, .out = &out});
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << out.str();
  EXPECT_EQ(report->issued_fen, 120'000'000);
  // Li Lei: 20,000 yuan exchanged, coffee 38, grocer 120 (once, despite the retry), 26 by QR
  // (once, despite the second scan; the tampered code charged nothing), 500 onto the watch.
  EXPECT_EQ(report->payer_wallet_fen, 2'000'000 - 3'800 - 12'000 - 2'600 - 50'000);
  // His watch: 500 loaded, 125 and 20 paid offline (the clone's 30 came from its own copy).
  EXPECT_EQ(report->payer_watch_fen, 50'000 - 12'500 - 2'000);
  EXPECT_EQ(report->payee_watch_fen, 12'500 + 2'000);
  EXPECT_GE(report->offline_settled, 2);
  EXPECT_GE(report->offline_duplicates, 1);
  EXPECT_TRUE(report->clone_caught);
  EXPECT_TRUE(report->clone_refused_offline);
  // 3 of 10 lessons of 3,000 yuan: 900 released, 2,100 refunded, to the fen.
  EXPECT_EQ(report->lessons_released_fen, 90'000);
  EXPECT_EQ(report->lessons_refunded_fen, 210'000);
  EXPECT_TRUE(report->audit_ok);
  for (const char* step : {"1. ", "4. Paying merchants by scanning their QR codes", "6. ", "8. ",
                           "10. The audit"}) {
    EXPECT_NE(out.str().find(step), std::string::npos) << step;
  }
  const std::string narration = out.str();
  EXPECT_NE(narration.find("he scans it again by mistake"), std::string::npos);
  EXPECT_NE(narration.find("refused (payload: mac:"), std::string::npos) << narration;
  EXPECT_NE(narration.find("Wang Fang (BOC) scans the shop's printed static code"),
            std::string::npos);
}

TEST_F(DcepStoryTest, RefusesADirectoryThatIsNotEmpty) {
  std::filesystem::create_directories(dir_ / "something");
  auto report = RunDcepStory({.data_dir = dir_, .out = nullptr});
  EXPECT_EQ(report.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("not empty"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::server
