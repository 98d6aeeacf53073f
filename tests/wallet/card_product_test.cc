// The BIN table: range checks and lookup by the PAN's first 8 digits.
#include "wallet/card_product.h"

#include <gtest/gtest.h>

#include "wallet_test_support.h"

namespace tapstack::wallet::testing {
namespace {

TEST(CardProductTest, FindsTheRangeHoldingTheFirstEightDigits) {
  auto products = DemoProducts();
  ASSERT_TRUE(CheckCardProducts(products).ok());
  const CardProduct* p = FindCardProduct(products, *Pan::Parse(DemoBankPan(7)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->short_name, "CDB");
  EXPECT_EQ(FindCardProduct(products, *Pan::Parse(kVisaTestPan))->short_name, "VTB");
  EXPECT_EQ(FindCardProduct(products, *Pan::Parse("5555555555554444")), nullptr);
}

TEST(CardProductTest, RefusesMalformedAndOverlappingRanges) {
  auto products = DemoProducts();
  products[1].bin_low = "4111111";
  Status s = CheckCardProducts(products);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("card_products[1].bin_low"), std::string::npos) << s.message();
  products = DemoProducts();
  products[1].bin_low = "62220250";
  products[1].bin_high = "62220300";
  EXPECT_NE(CheckCardProducts(products).message().find("overlaps"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::wallet::testing
