// DE3: which processing codes are credits to the card.
#include "iso8583/processing_code.h"

#include <gtest/gtest.h>

namespace tapstack::iso8583 {
namespace {

TEST(ProcessingCodeTest, TransactionType20IsACredit) {
  EXPECT_TRUE(IsCreditProcessingCode(kProcessingRefund));
  EXPECT_TRUE(IsCreditProcessingCode("200020"));
  EXPECT_FALSE(IsCreditProcessingCode(kProcessingPurchase));
  EXPECT_FALSE(IsCreditProcessingCode("020000"));
  EXPECT_FALSE(IsCreditProcessingCode("20000"));  // not n6
  EXPECT_FALSE(IsCreditProcessingCode("20000A"));
  EXPECT_FALSE(IsCreditProcessingCode(std::nullopt));
}

}  // namespace
}  // namespace tapstack::iso8583
