#include "tsp/par.h"

#include <gtest/gtest.h>

#include "tsp_test_support.h"

namespace tapstack::tsp {
namespace {

using testing::DemoKey;
using testing::TestPan;

TEST(ParTest, KnownAnswerFromAnIndependentImplementation) {
  // Python: "T001" + base64.b32encode(hmac.new(key, b"tapstack-par-v1\0" + pan, sha256)
  //         .digest())[:25], with key = the demo PAR key.
  ParGenerator par = testing::DemoPar();
  EXPECT_EQ(*par.ForPan(TestPan(testing::kTestPanVisa)), "T001J3G7GXP6YHJB4FPIERYY7YFJH");
  EXPECT_EQ(*par.ForPan(TestPan(testing::kTestPanMastercard)), "T001VZW4XGYQ3XAINIDAOP4FKARU2");
}

TEST(ParTest, TwentyNineCharactersDeterministicPerPanAndKey) {
  ParGenerator par = testing::DemoPar();
  const std::string a = *par.ForPan(TestPan(testing::kTestPanVisa));
  EXPECT_EQ(a.size(), kParChars);
  EXPECT_TRUE(IsWellFormedPar(a));
  EXPECT_EQ(a.substr(0, 4), "T001");
  EXPECT_EQ(*par.ForPan(TestPan(testing::kTestPanVisa)), a);
  EXPECT_NE(*par.ForPan(TestPan(testing::kTestPanVisa2)), a);
  ParGenerator other = *ParGenerator::Create("T001", DemoKey(testing::kDemoKek2));
  EXPECT_NE(*other.ForPan(TestPan(testing::kTestPanVisa)), a);
  // The PAR never contains the PAN's digits.
  EXPECT_EQ(a.find("1111"), std::string::npos);
}

TEST(ParTest, RefusesBadControllerIdAndKey) {
  for (const char* id : {"T01", "T0001", "t001", "T-01"}) {
    EXPECT_EQ(ParGenerator::Create(id, DemoKey(testing::kDemoParKey)).status().code(),
              ErrorCode::kInvalidArgument)
        << id;
  }
  auto short_key = ParGenerator::Create("T001", DemoKey("too-short"));
  EXPECT_EQ(short_key.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(short_key.status().message().find("par_key"), std::string::npos);
}

TEST(ParTest, WellFormedCheck) {
  EXPECT_TRUE(IsWellFormedPar("T001J3G7GXP6YHJB4FPIERYY7YFJH"));
  EXPECT_FALSE(IsWellFormedPar("T001J3G7GXP6YHJB4FPIERYY7YFJ"));
  EXPECT_FALSE(IsWellFormedPar("t001J3G7GXP6YHJB4FPIERYY7YFJH"));
}

}  // namespace
}  // namespace tapstack::tsp
