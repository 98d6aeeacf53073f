#include "iso8583/original_data_elements.h"

#include <gtest/gtest.h>

namespace tapstack::iso8583 {
namespace {

TEST(OriginalDataElementsTest, RoundTrip) {
  OriginalDataElements o{"0100", "000123", "1121093000", "48020000", ""};
  auto field = o.ToField();
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(*field, "0100" "000123" "1121093000" "00048020000" "00000000000");
  EXPECT_EQ(field->size(), 42u);
  auto back = OriginalDataElements::Parse(*field);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->mti, "0100");
  EXPECT_EQ(back->stan, "000123");
  EXPECT_EQ(back->transmission_time, "1121093000");
  EXPECT_EQ(back->acquirer_id, "48020000");
  EXPECT_EQ(back->forwarding_id, "");
}

TEST(OriginalDataElementsTest, ErrorsNameThePart) {
  OriginalDataElements bad{"0100", "12345", "1121093000", "1", ""};
  auto r = bad.ToField();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("original STAN"), std::string::npos);
  OriginalDataElements long_id{"0100", "123456", "1121093000", "123456789012", ""};
  EXPECT_NE(long_id.ToField().status().message().find("acquirer id"), std::string::npos);
  EXPECT_FALSE(OriginalDataElements::Parse("0100").ok());
  EXPECT_FALSE(OriginalDataElements::Parse(std::string(41, '0') + "x").ok());
}

}  // namespace
}  // namespace tapstack::iso8583
