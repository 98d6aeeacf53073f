#include "core/amount.h"

#include <gtest/gtest.h>

#include <limits>

namespace tapstack {
namespace {

const Currency& Jpy() { return **CurrencyByAlpha("JPY"); }
const Currency& Rub() { return **CurrencyByAlpha("RUB"); }

TEST(AmountTest, ParseUsesCurrencyExponent) {
  EXPECT_EQ(Amount::Parse("123.45", Cny())->minor_units(), 12345);
  EXPECT_EQ(Amount::Parse("123.4", Cny())->minor_units(), 12340);
  EXPECT_EQ(Amount::Parse("100", Cny())->minor_units(), 10000);
  EXPECT_EQ(Amount::Parse("-0.50", Cny())->minor_units(), -50);
  EXPECT_EQ(Amount::Parse("1000", Jpy())->minor_units(), 1000);
}

TEST(AmountTest, ParseRejectsBadInput) {
  EXPECT_FALSE(Amount::Parse("1.234", Cny()).ok());  // 3 fraction digits, CNY has 2
  EXPECT_FALSE(Amount::Parse("1.5", Jpy()).ok());    // JPY has no minor unit
  EXPECT_FALSE(Amount::Parse("", Cny()).ok());
  EXPECT_FALSE(Amount::Parse("1.", Cny()).ok());
  EXPECT_FALSE(Amount::Parse(".5", Cny()).ok());
  EXPECT_FALSE(Amount::Parse("1e3", Cny()).ok());
  EXPECT_FALSE(Amount::Parse("12,00", Cny()).ok());
  auto overflow = Amount::Parse("92233720368547758.08", Cny());
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(Amount::Parse("92233720368547758.07", Cny())->minor_units(),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(Amount::Parse("-92233720368547758.08", Cny())->minor_units(),
            std::numeric_limits<std::int64_t>::min());
}

TEST(AmountTest, FormatsWithExponent) {
  EXPECT_EQ(Amount(12345, Cny()).ToString(), "123.45 CNY");
  EXPECT_EQ(Amount(5, Cny()).ToDecimalString(), "0.05");
  EXPECT_EQ(Amount(-5, Cny()).ToDecimalString(), "-0.05");
  EXPECT_EQ(Amount(1000, Jpy()).ToString(), "1000 JPY");
  EXPECT_EQ(Amount(std::numeric_limits<std::int64_t>::min(), Cny()).ToDecimalString(),
            "-92233720368547758.08");
}

TEST(AmountTest, CheckedArithmetic) {
  Amount a(150, Cny());
  Amount b(50, Cny());
  EXPECT_EQ(*a.Add(b), Amount(200, Cny()));
  EXPECT_EQ(*b.Subtract(a), Amount(-100, Cny()));
  EXPECT_EQ(*a.Multiply(3), Amount(450, Cny()));
  EXPECT_EQ(*a.Negate(), Amount(-150, Cny()));
}

TEST(AmountTest, MixingCurrenciesIsAnError) {
  auto r = Amount(1, Cny()).Add(Amount(1, Rub()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("CNY and RUB"), std::string::npos);
  EXPECT_FALSE(Amount(1, Cny()).Subtract(Amount(1, Usd())).ok());
  EXPECT_NE(Amount(1, Cny()), Amount(1, Usd()));
}

TEST(AmountTest, OverflowIsAnError) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(Amount(kMax, Cny()).Add(Amount(1, Cny())).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(Amount(kMin, Cny()).Subtract(Amount(1, Cny())).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(Amount(kMax / 2 + 1, Cny()).Multiply(2).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(Amount(kMin, Cny()).Negate().status().code(), ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace tapstack
