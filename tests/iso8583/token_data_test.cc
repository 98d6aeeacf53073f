#include "iso8583/token_data.h"

#include <gtest/gtest.h>

namespace tapstack::iso8583 {
namespace {

TEST(TokenDataTest, ParseAndBuild) {
  TokenData d;
  d.Set(token_tag::kRequestorId, "40000000001");
  d.Set(token_tag::kDeviceId, "DEVICE01");
  d.Set("ZZ", "kept");
  auto field = d.ToField();
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(*field, "TR01140000000001DI008DEVICE01ZZ004kept");
  auto back = TokenData::Parse(*field);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back->Get(token_tag::kDeviceId), "DEVICE01");
  EXPECT_EQ(*back->Get("ZZ"), "kept");
  EXPECT_FALSE(back->Get(token_tag::kPar).has_value());
  d.Set(token_tag::kDeviceId, "D2");
  EXPECT_EQ(*d.ToField(), "TR01140000000001DI002D2ZZ004kept");
  EXPECT_TRUE(TokenData::Parse("")->elements().empty());
}

TEST(TokenDataTest, ParseErrorsNameOffset) {
  struct Case {
    const char* field;
    const char* expect;
  };
  for (const Case& c : {Case{"TR01", "offset 0: truncated sub-element header"},
                        Case{"tr001x", "tag 'tr'"},
                        Case{"TR0x1x", "length of TR is not 3 digits"},
                        Case{"TR005abc", "TR declares 5 characters but 3 remain"},
                        Case{"TR001aTR001b", "offset 6: duplicate tag TR"}}) {
    auto r = TokenData::Parse(c.field);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
}

TEST(TokenDataTest, FindSubElementReadsInPlace) {
  const std::string de48 = "C2003123PV0011TR01140010000001";
  auto c2 = FindSubElement(de48, token_tag::kCardSecurityCode);
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE(c2->has_value());
  EXPECT_EQ(**c2, "123");
  EXPECT_EQ((*c2)->data(), de48.data() + 5) << "a view into the field, not a copy";
  EXPECT_FALSE(FindSubElement(de48, token_tag::kDeviceId)->has_value());
  EXPECT_FALSE(FindSubElement("", token_tag::kDeviceId)->has_value());
  // The whole field is checked, also past the element looked for.
  auto bad = FindSubElement("C2003123PV001", token_tag::kCardSecurityCode);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("offset 8: PV declares 1 characters but 0 remain"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(FindSubElement("PV0011PV0011", token_tag::kProvisioningIdv).ok());  // duplicate
}

TEST(TokenDataTest, ProvisioningIdvMarker) {
  EXPECT_TRUE(IsProvisioningIdv("PV0011"));
  EXPECT_TRUE(IsProvisioningIdv("TR01140010000001PV0010"));  // any value: fail closed
  EXPECT_FALSE(IsProvisioningIdv("TR01140010000001"));
  EXPECT_FALSE(IsProvisioningIdv(""));
  EXPECT_FALSE(IsProvisioningIdv("PV001"));  // malformed: not token data at all
  TokenData answer;
  answer.Set(token_tag::kIdvResult, idv_result::kYellow);
  EXPECT_EQ(*answer.ToField(), "IV001Y");
}

TEST(TokenDataTest, BuildRejectsOversize) {
  TokenData d;
  d.Set("AA", std::string(995, 'x'));
  EXPECT_FALSE(d.ToField().ok());
}

}  // namespace
}  // namespace tapstack::iso8583
