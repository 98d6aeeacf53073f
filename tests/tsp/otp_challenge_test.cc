// OtpChallenges: right, wrong, expired, locked after kOtpAttemptsMax, lock-out, MAC-only storage.
#include "tsp/otp_challenge.h"

#include <gtest/gtest.h>

#include "store/store_fixture.h"
#include "tsp/tsp_test_support.h"

namespace tapstack::tsp {
namespace {

using testing::TestPan;

class OtpChallengeTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto otp = OtpChallenges::Open(*store_, clock_, random_,
                                   testing::DemoKey("tapstack-demo-otp-1-NOT-A-SECRET"));
    ASSERT_TRUE(otp.ok()) << otp.status().ToString();
    otp_ = std::move(*otp);
  }
  std::string Wrong(const std::string& right) {
    std::string w = right;
    w[0] = right[0] == '9' ? '0' : static_cast<char>(right[0] + 1);
    return w;
  }

  ManualClock clock_;
  SeededRandom random_{7};
  std::unique_ptr<OtpChallenges> otp_;
  const Pan pan_ = TestPan(testing::kTestPanVisa);
};

TEST_P(OtpChallengeTest, RightCodeVerifiesAndIsStoredOnlyAsMac) {
  auto issued = otp_->Issue("tok_a", pan_, "+8613800138000");
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->otp.size(), kOtpDigits);
  EXPECT_EQ(issued->attempts_left, kOtpAttemptsMax);
  EXPECT_EQ(issued->expires_unix_ms, clock_.NowUnixMillis() + kOtpValiditySeconds * 1000);
  auto row = store_->QueryRow("SELECT otp_mac, masked_phone FROM tsp_otp_challenges");
  ASSERT_TRUE(row.ok());
  const Bytes mac = *row->GetBlob(0);
  EXPECT_EQ(mac.size(), 32u);
  const std::string mac_text(mac.begin(), mac.end());
  EXPECT_EQ(mac_text.find(issued->otp), std::string::npos);
  EXPECT_EQ(*row->GetText(1), "+86*******8000");

  auto check = otp_->Verify("tok_a", issued->otp);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->outcome, OtpOutcome::kVerified);
  // A retried call with the same code gets the same answer.
  EXPECT_EQ(otp_->Verify("tok_a", issued->otp)->outcome, OtpOutcome::kVerified);
  // The MAC binds the token id: the code does not verify for another token.
  EXPECT_EQ(otp_->Verify("tok_b", issued->otp).status().code(), ErrorCode::kNotFound);
}

TEST_P(OtpChallengeTest, WrongCodeCountsAttempts) {
  auto issued = otp_->Issue("tok_a", pan_, "+8613800138000");
  ASSERT_TRUE(issued.ok());
  auto check = otp_->Verify("tok_a", Wrong(issued->otp));
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->outcome, OtpOutcome::kMismatch);
  EXPECT_EQ(check->attempts_left, kOtpAttemptsMax - 1);
  // Asking again keeps the attempts used.
  auto again = otp_->Issue("tok_a", pan_, "+8613800138000");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->attempts_left, kOtpAttemptsMax - 1);
  if (issued->otp != again->otp) {  // the old code is replaced
    EXPECT_EQ(otp_->Verify("tok_a", issued->otp)->outcome, OtpOutcome::kMismatch);
  }
  EXPECT_EQ(otp_->Verify("tok_a", again->otp)->outcome, OtpOutcome::kVerified);
}

TEST_P(OtpChallengeTest, ExpiredCodeCountsNoAttempt) {
  auto issued = otp_->Issue("tok_a", pan_, "+8613800138000");
  ASSERT_TRUE(issued.ok());
  clock_.AdvanceMillis(kOtpValiditySeconds * 1000 + 1);
  auto check = otp_->Verify("tok_a", issued->otp);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->outcome, OtpOutcome::kExpired);
  EXPECT_EQ(check->attempts_left, kOtpAttemptsMax);
}

TEST_P(OtpChallengeTest, FifthWrongCodeLocksAndLocksOut) {
  auto issued = otp_->Issue("tok_a", pan_, "+8613800138000");
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(*otp_->LockedOutUntil(pan_), 0);
  for (int i = 1; i < kOtpAttemptsMax; ++i) {
    EXPECT_EQ(otp_->Verify("tok_a", Wrong(issued->otp))->outcome, OtpOutcome::kMismatch);
  }
  auto last = otp_->Verify("tok_a", Wrong(issued->otp));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->outcome, OtpOutcome::kLocked);
  EXPECT_EQ(last->attempts_left, 0);
  // Locked: even the right code fails now, and no new code is issued.
  EXPECT_EQ(otp_->Verify("tok_a", issued->otp)->outcome, OtpOutcome::kLocked);
  EXPECT_EQ(otp_->Issue("tok_a", pan_, "+8613800138000").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(*otp_->LockedOutUntil(pan_), clock_.NowUnixMillis() + kOtpLockoutSeconds * 1000);
  EXPECT_EQ(*otp_->LockedOutUntil(TestPan(testing::kTestPanMastercard)), 0);
  clock_.AdvanceMillis(kOtpLockoutSeconds * 1000 + 1);
  EXPECT_EQ(*otp_->LockedOutUntil(pan_), 0);
}

TEST_P(OtpChallengeTest, BadInputIsRefusedWithoutCounting) {
  auto issued = otp_->Issue("tok_a", pan_, "+8613800138000");
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(otp_->Verify("tok_a", "12345").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(otp_->Verify("tok_a", "12a456").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(otp_->Issue("tok_a", pan_, "8613800138000").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(otp_->Verify("tok_a", issued->otp)->outcome, OtpOutcome::kVerified);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(OtpChallengeTest);

TEST(OtpSmsTextTest, TheCodeIsReadBackFromTheTextAndOnlyASixDigitRunCounts) {
  const std::string text = OtpSmsText("012345");
  EXPECT_NE(text.find("5 minutes"), std::string::npos) << text;  // kOtpValiditySeconds
  EXPECT_EQ(OtpFromSmsText(text), "012345");
  EXPECT_EQ(OtpFromSmsText("call 95588 or +8613800138000, code 654321."), "654321");
  EXPECT_EQ(OtpFromSmsText("no code here"), "");
  EXPECT_EQ(OtpFromSmsText("1234567"), "");
}

}  // namespace
}  // namespace tapstack::tsp
