#include "tsp/token_expiry.h"

#include <gtest/gtest.h>

namespace tapstack::tsp {
namespace {

constexpr std::int64_t k20260101 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kDayMs = 86'400'000;

TEST(TokenExpiryTest, AddsValidityMonthsToTheIssueMonth) {
  EXPECT_EQ(*TokenExpiryFromIssue(k20260101, 36), "2901");
  EXPECT_EQ(*TokenExpiryFromIssue(k20260101, 11), "2612");
  EXPECT_EQ(*TokenExpiryFromIssue(k20260101, 12), "2701");
  // 2026-11-15 + 3 months rolls the year.
  EXPECT_EQ(*TokenExpiryFromIssue(k20260101 + 318 * kDayMs, 3), "2702");
  // One millisecond before 2026 is still December 2025.
  EXPECT_EQ(*TokenExpiryFromIssue(k20260101 - 1, 1), "2601");
}

TEST(TokenExpiryTest, RefusesBadValidityAndYearsOutsideYymm) {
  EXPECT_EQ(TokenExpiryFromIssue(k20260101, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(TokenExpiryFromIssue(k20260101, 121).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(TokenExpiryFromIssue(0, 12).status().code(), ErrorCode::kOutOfRange);  // 1971
}

TEST(TokenExpiryTest, ValidUntilTheEndOfTheMonth) {
  const std::int64_t feb_first = k20260101 + 31 * kDayMs;
  EXPECT_FALSE(*ExpiryHasPassed("2601", feb_first - 1));
  EXPECT_TRUE(*ExpiryHasPassed("2601", feb_first));
  EXPECT_FALSE(*ExpiryHasPassed("2512", k20260101 - 1));
  EXPECT_TRUE(*ExpiryHasPassed("2512", k20260101));
  EXPECT_FALSE(*ExpiryHasPassed("2901", k20260101));
}

TEST(TokenExpiryTest, ValidatesYymm) {
  EXPECT_TRUE(ValidateYymm("2812", "pan_expiry").ok());
  for (const char* bad : {"2813", "2800", "281", "28120", "28a2", ""}) {
    const Status s = ValidateYymm(bad, "pan_expiry");
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("pan_expiry"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace tapstack::tsp
