#include "network/bin_table.h"

#include <gtest/gtest.h>

namespace tapstack::network {
namespace {

TEST(BinTableTest, RoutesByLongestMatchingRange) {
  auto table = BinTable::Build({{"62990100", "62990149", "48020001", RangeKind::kIssuer},
                                {"62990150", "62990199", "48020001", RangeKind::kIssuer},
                                {"629902", "629902", "48020002", RangeKind::kIssuer},
                                {"65000000", "65000099", "TSP", RangeKind::kToken}});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table->Lookup("6299010012345678"))->institution_id, "48020001");
  EXPECT_EQ((*table->Lookup("6299019912345678"))->institution_id, "48020001");
  EXPECT_EQ((*table->Lookup("6299020000000000"))->institution_id, "48020002");
  EXPECT_EQ((*table->Lookup("6500005012345678"))->kind, RangeKind::kToken);
  auto none = table->Lookup("6299030000000000");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(table->Lookup("62").ok());
}

TEST(BinTableTest, RefusesAmbiguousOrMalformedRanges) {
  EXPECT_FALSE(BinTable::Build({{"62990100", "62990149", "A", RangeKind::kIssuer},
                                {"62990140", "62990199", "B", RangeKind::kIssuer}})
                   .ok());
  EXPECT_FALSE(BinTable::Build({{"629901", "629901", "A", RangeKind::kIssuer},
                                {"62990150", "62990199", "B", RangeKind::kIssuer}})
                   .ok());  // a 6-digit range containing an 8-digit one
  EXPECT_FALSE(BinTable::Build({{"6299", "6299", "A", RangeKind::kIssuer}}).ok());
  EXPECT_FALSE(BinTable::Build({{"62990199", "62990100", "A", RangeKind::kIssuer}}).ok());
  EXPECT_FALSE(BinTable::Build({{"6299010x", "62990100", "A", RangeKind::kIssuer}}).ok());
}

}  // namespace
}  // namespace tapstack::network
