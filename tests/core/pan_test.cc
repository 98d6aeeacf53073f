#include "core/pan.h"

#include <gtest/gtest.h>

#include "support/vectors.h"

namespace tapstack {
namespace {

TEST(LuhnTest, SharedVectors) {
  auto doc = testing::LoadVectors("emv_crypto.json");
  int checked = 0;
  for (const auto& v : doc.at("vectors")) {
    if (v.at("algo") != "luhn") continue;
    std::string number = v.at("number");
    EXPECT_EQ(LuhnValid(number), v.at("expected_valid").get<bool>()) << v.at("id");
    if (!v.at("expected_check_digit_to_append").is_null()) {
      std::string want = v.at("expected_check_digit_to_append");
      EXPECT_EQ(*LuhnCheckDigit(number), want[0]) << v.at("id");
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(LuhnTest, EveryCheckDigitOfAPayloadIsUnique) {
  // 7992739871x: exactly one x in 0..9 validates (3, per the published doctest).
  int valid = 0;
  for (char d = '0'; d <= '9'; ++d) {
    if (LuhnValid(std::string("7992739871") + d)) {
      ++valid;
      EXPECT_EQ(d, '3');
    }
  }
  EXPECT_EQ(valid, 1);
  EXPECT_FALSE(LuhnValid(""));
  EXPECT_FALSE(LuhnValid("7992739871a"));
  EXPECT_FALSE(LuhnCheckDigit("").ok());
}

TEST(PanTest, ParsesAndMasks) {
  std::string payload = "622202123456789012";
  std::string digits = payload + *LuhnCheckDigit(payload);
  auto ok = Pan::Parse(digits);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->Masked().size(), 19u);
  EXPECT_EQ(ok->Masked().substr(0, 6), "622202");
  EXPECT_EQ(ok->Masked().substr(6, 9), "*********");
  EXPECT_EQ(ok->Masked().substr(15), digits.substr(15));
  EXPECT_EQ(ok->Bin(), "622202");
  EXPECT_EQ(ok->LastFour(), digits.substr(15));
  EXPECT_EQ(ok->reveal(), digits);
}

TEST(PanTest, SixteenDigitMask) {
  auto pan = Pan::Parse("4111111111111111");
  ASSERT_TRUE(pan.ok());
  EXPECT_EQ(pan->Masked(), "411111******1111");
}

TEST(PanTest, LengthLimits) {
  // 12 digits is the minimum, 19 the maximum (ISO/IEC 7812-1).
  std::string p11 = "12345678901";
  std::string p12 = p11 + *LuhnCheckDigit(p11);
  EXPECT_TRUE(Pan::Parse(p12).ok());
  EXPECT_EQ(Pan::Parse(p12)->Masked(), "123456**" + p12.substr(8));
  std::string p10 = "1234567890";
  EXPECT_FALSE(Pan::Parse(p10 + *LuhnCheckDigit(p10)).ok());
  std::string p19 = "123456789012345678";
  std::string p20 = p19 + "9";
  EXPECT_FALSE(Pan::Parse(p20 + *LuhnCheckDigit(p20)).ok());
}

TEST(PanTest, ErrorsNeverEchoDigits) {
  for (const char* bad : {"4111111111111112", "41111111111111a1", "411111"}) {
    auto r = Pan::Parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().find("411111"), std::string::npos) << r.status().message();
  }
}

TEST(PanTest, CopyAndAssign) {
  auto a = *Pan::Parse("4111111111111111");
  auto b = *Pan::Parse("5555555555554444");
  Pan c = a;
  EXPECT_EQ(c, a);
  c = b;
  EXPECT_EQ(c.reveal(), "5555555555554444");
  EXPECT_NE(c, a);
}

}  // namespace
}  // namespace tapstack
