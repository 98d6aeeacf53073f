// Payment codes: 18 digits starting "15", the plain numeric wallet form that scanners classify.
#include "qrpay/payment_code.h"

#include <gtest/gtest.h>

#include <set>

#include "qr/wallet_code.h"

namespace tapstack::qrpay {
namespace {

TEST(PaymentCodeTest, CodesHaveTheWalletShapeAndDoNotRepeat) {
  SeededRandom random(7);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto code = NewPaymentCode(random);
    ASSERT_TRUE(code.ok());
    EXPECT_TRUE(CheckPaymentCode(*code).ok()) << *code;
    auto shape = qr::ParseWalletCode(*code);
    ASSERT_TRUE(shape.ok()) << shape.status().ToString();
    EXPECT_EQ(shape->scheme, qr::WalletScheme::kWeChatPay);  // the 18-digit, 10–15 form
    seen.insert(*code);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(PaymentCodeTest, MalformedCodesAreRefusedWithTheReason) {
  EXPECT_NE(CheckPaymentCode("15123456789012345").message().find("18 digits"), std::string::npos);
  EXPECT_NE(CheckPaymentCode("15123456789012345a").message().find("offset 17"), std::string::npos);
  EXPECT_NE(CheckPaymentCode("131234567890123456").message().find("starting 13"), std::string::npos);
  EXPECT_TRUE(CheckPaymentCode("151234567890123456").ok());
}

}  // namespace
}  // namespace tapstack::qrpay
