#include "iso8583/mti.h"

#include <gtest/gtest.h>

namespace tapstack::iso8583 {
namespace {

TEST(MtiTest, ResponseMtiFoldsRepeats) {
  EXPECT_EQ(*ResponseMti("0100"), "0110");
  EXPECT_EQ(*ResponseMti("0101"), "0110");
  EXPECT_EQ(*ResponseMti("0120"), "0130");
  EXPECT_EQ(*ResponseMti("0200"), "0210");
  EXPECT_EQ(*ResponseMti("0400"), "0410");
  EXPECT_EQ(*ResponseMti("0421"), "0430");
  EXPECT_EQ(*ResponseMti("0800"), "0810");
  EXPECT_FALSE(ResponseMti("0110").ok());
  EXPECT_FALSE(ResponseMti("01x0").ok());
  EXPECT_FALSE(ResponseMti("100").ok());
}

TEST(MtiTest, RepeatsAndDescriptions) {
  EXPECT_TRUE(IsRepeat("0421"));
  EXPECT_FALSE(IsRepeat("0420"));
  EXPECT_EQ(OriginalOfRepeat("0101"), "0100");
  EXPECT_EQ(OriginalOfRepeat("0200"), "0200");
  EXPECT_TRUE(IsAuthorizationRequest("0101"));
  EXPECT_FALSE(IsAuthorizationRequest("0200"));
  EXPECT_TRUE(IsFinancialRequest("0200"));
  EXPECT_TRUE(IsReversal("0421"));
  EXPECT_FALSE(IsReversal("0410"));
  EXPECT_TRUE(IsAuthorizationOrFinancialAdvice("0221"));
  EXPECT_FALSE(IsAuthorizationOrFinancialAdvice("0130"));
  EXPECT_EQ(DescribeMti("0100"), "authorization request");
  EXPECT_EQ(DescribeMti("0421"), "reversal advice repeat");
  EXPECT_EQ(DescribeMti("0810"), "network management request response");
}

}  // namespace
}  // namespace tapstack::iso8583
