#include "core/status.h"

#include <gtest/gtest.h>

namespace tapstack {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("value must be positive");
  return v;
}

Result<int> DoubledPositive(int v) {
  TS_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return x * 2;
}

Status CheckBoth(int a, int b) {
  TS_RETURN_IF_ERROR(ParsePositive(a).status());
  TS_RETURN_IF_ERROR(ParsePositive(b).status().WithContext("b"));
  return Status::Ok();
}

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = OutOfRange("DE4 exceeds 12 digits");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(s.ToString(), "out_of_range: DE4 exceeds 12 digits");
  EXPECT_EQ(s.WithContext("0100").message(), "0100: DE4 exceeds 12 digits");
}

TEST(StatusTest, ResultPropagatesThroughMacros) {
  EXPECT_EQ(*DoubledPositive(21), 42);
  Result<int> bad = DoubledPositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, 0).message(), "b: value must be positive");
}

TEST(StatusTest, ResultFromOkStatusBecomesInternalError) {
  Result<int> r{Status::Ok()};
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace tapstack
