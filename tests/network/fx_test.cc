#include "network/fx.h"

#include <gtest/gtest.h>

namespace tapstack::network {
namespace {

TEST(FxTest, ConvertsWithMarkupAndRoundsHalfUp) {
  FxTable fx;
  ASSERT_TRUE(fx.SetRate("RUB", "CNY", "0.0790", "demo", "2026-11-21").ok());
  ASSERT_TRUE(fx.SetRate("CNY", "JPY", "20.5", "demo", "2026-11-21").ok());
  // 1,000.00 RUB × 0.0790 × 1.01 = 79.79 CNY.
  auto c = fx.Convert(Amount(100'000, **CurrencyByAlpha("RUB")), Cny(), 100);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->billing, Amount(7'979, Cny()));
  EXPECT_EQ(c->markup_bps, 100);
  EXPECT_EQ(c->de10, "70797900");  // first digit: 7 decimal places; 0.0797900 with the markup
  // Exponents differ: 10.00 CNY × 20.5 = 205 JPY (no minor unit).
  auto jpy = fx.Convert(Amount(1'000, Cny()), **CurrencyByAlpha("JPY"), 0);
  ASSERT_TRUE(jpy.ok());
  EXPECT_EQ(jpy->billing.minor_units(), 205);
  // 0.01 RUB × 0.079 = 0.00079 CNY rounds to 0.00; 0.07 RUB → 0.00553 → 0.01.
  EXPECT_EQ(fx.Convert(Amount(1, **CurrencyByAlpha("RUB")), Cny(), 0)->billing.minor_units(), 0);
  EXPECT_EQ(fx.Convert(Amount(7, **CurrencyByAlpha("RUB")), Cny(), 0)->billing.minor_units(), 1);
  // Same currency: identity.
  EXPECT_EQ(fx.Convert(Amount(5, Cny()), Cny(), 100)->billing, Amount(5, Cny()));
}

TEST(FxTest, Errors) {
  FxTable fx;
  EXPECT_FALSE(fx.SetRate("XXX", "CNY", "1", "", "").ok());
  EXPECT_FALSE(fx.SetRate("RUB", "CNY", "-1", "", "").ok());
  EXPECT_FALSE(fx.SetRate("RUB", "CNY", "0", "", "").ok());
  EXPECT_FALSE(fx.SetRate("RUB", "CNY", "1e3", "", "").ok());
  auto missing = fx.Convert(Amount(1, Usd()), Cny(), 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tapstack::network
