#include "qr/wallet_code.h"

#include <gtest/gtest.h>

namespace tapstack::qr {
namespace {

TEST(WalletCodeTest, EighteenDigitsStarting10To15IsWeChatPay) {
  for (const char* code : {"100000000000000000", "134567890123456789", "159999999999999999"}) {
    auto parsed = ParseWalletCode(code);
    ASSERT_TRUE(parsed.ok()) << code << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->scheme, WalletScheme::kWeChatPay);
    EXPECT_EQ(parsed->digits, code);
  }
}

TEST(WalletCodeTest, AlipayLengthsAndPrefixes) {
  EXPECT_EQ(ParseWalletCode("2512345678901234")->scheme, WalletScheme::kAlipay);          // 16
  EXPECT_EQ(ParseWalletCode("281234567890123456")->scheme, WalletScheme::kAlipay);        // 18
  EXPECT_EQ(ParseWalletCode("301234567890123456789012")->scheme, WalletScheme::kAlipay);  // 24
  EXPECT_FALSE(ParseWalletCode("251234567890123").ok());            // 15 digits
  EXPECT_FALSE(ParseWalletCode("2512345678901234567890123").ok());  // 25 digits
}

TEST(WalletCodeTest, UnionPayNineteenDigitsStarting62) {
  EXPECT_EQ(ParseWalletCode("6212345678901234567")->scheme, WalletScheme::kUnionPay);
  // 19 digits starting 25–30 is an Alipay length too.
  EXPECT_EQ(ParseWalletCode("2612345678901234567")->scheme, WalletScheme::kAlipay);
  EXPECT_FALSE(ParseWalletCode("6312345678901234567").ok());
}

TEST(WalletCodeTest, RejectsWrongPrefixForTheLength) {
  auto parsed = ParseWalletCode("160000000000000000");  // 18 digits, prefix 16
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("WeChat Pay"), std::string::npos);
  EXPECT_NE(parsed.status().message().find("Alipay"), std::string::npos);
  EXPECT_FALSE(ParseWalletCode("090000000000000000").ok());
  EXPECT_FALSE(ParseWalletCode("620000000000000000").ok());  // UnionPay prefix, wrong length
}

TEST(WalletCodeTest, RejectsNonDigitsAndOddLengths) {
  auto parsed = ParseWalletCode("13456789012345678X");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("offset 17"), std::string::npos);
  EXPECT_FALSE(ParseWalletCode("").ok());
  EXPECT_FALSE(ParseWalletCode("1345678901234567").ok());  // 16 digits starting 13
  EXPECT_FALSE(ParseWalletCode("13 4567890123456789").ok());
  EXPECT_FALSE(ParseWalletCode("1").ok());
}

TEST(WalletCodeTest, SchemeNames) {
  EXPECT_EQ(WalletSchemeName(WalletScheme::kWeChatPay), "wechat_pay");
  EXPECT_EQ(WalletSchemeName(WalletScheme::kAlipay), "alipay");
  EXPECT_EQ(WalletSchemeName(WalletScheme::kUnionPay), "unionpay");
}

}  // namespace
}  // namespace tapstack::qr
