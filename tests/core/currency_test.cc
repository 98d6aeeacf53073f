#include "core/currency.h"

#include <gtest/gtest.h>

#include <set>

namespace tapstack {
namespace {

struct Iso4217 {
  const char* alpha;
  std::uint16_t numeric;
  int exponent;
};

class CurrencyTableTest : public ::testing::TestWithParam<Iso4217> {};

TEST_P(CurrencyTableTest, AlphaAndNumericAgree) {
  const Iso4217& want = GetParam();
  auto by_alpha = CurrencyByAlpha(want.alpha);
  ASSERT_TRUE(by_alpha.ok()) << want.alpha;
  EXPECT_EQ((*by_alpha)->numeric, want.numeric);
  EXPECT_EQ((*by_alpha)->exponent, want.exponent);
  auto by_numeric = CurrencyByNumeric(want.numeric);
  ASSERT_TRUE(by_numeric.ok());
  EXPECT_EQ((*by_numeric)->alpha, want.alpha);
}

// Values from the ISO 4217 list one.
INSTANTIATE_TEST_SUITE_P(Required, CurrencyTableTest,
                         ::testing::Values(Iso4217{"CNY", 156, 2}, Iso4217{"USD", 840, 2},
                                           Iso4217{"EUR", 978, 2}, Iso4217{"RUB", 643, 2},
                                           Iso4217{"PKR", 586, 2}, Iso4217{"HKD", 344, 2},
                                           Iso4217{"JPY", 392, 0}, Iso4217{"KRW", 410, 0},
                                           Iso4217{"GBP", 826, 2}, Iso4217{"SGD", 702, 2},
                                           Iso4217{"THB", 764, 2}, Iso4217{"MYR", 458, 2}));

TEST(CurrencyTest, UnknownCodesAreErrors) {
  auto r = CurrencyByAlpha("XYZ");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("XYZ"), std::string::npos);
  EXPECT_FALSE(CurrencyByNumeric(999).ok());
  EXPECT_FALSE(CurrencyByAlpha("cny").ok());
}

TEST(CurrencyTest, TableHasNoDuplicates) {
  std::set<std::string_view> alphas;
  std::set<std::uint16_t> numerics;
  for (const Currency& c : AllCurrencies()) {
    EXPECT_TRUE(alphas.insert(c.alpha).second) << c.alpha;
    EXPECT_TRUE(numerics.insert(c.numeric).second) << c.numeric;
  }
  EXPECT_EQ(Cny().alpha, "CNY");
  EXPECT_EQ(Usd().alpha, "USD");
}

TEST(CountryTest, LookupsAndLocalCurrency) {
  for (const char* code : {"CN", "RU", "PK", "HK", "SG", "GB"}) {
    auto c = CountryByAlpha2(code);
    ASSERT_TRUE(c.ok()) << code;
    auto back = CountryByNumeric((*c)->numeric);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ((*back)->alpha2, code);
    EXPECT_TRUE(CurrencyByAlpha((*c)->currency).ok()) << "local currency of " << code;
  }
  EXPECT_EQ((*CountryByAlpha2("PK"))->numeric, 586);
  EXPECT_FALSE(CountryByAlpha2("ZZ").ok());
  EXPECT_FALSE(CountryByNumeric(0).ok());
}

}  // namespace
}  // namespace tapstack
