// The demo key set: fixed, derived from published strings, one key per purpose.
#include "demo/demo_keys.h"

#include <gtest/gtest.h>

#include "core/hex.h"

namespace tapstack::demo {
namespace {

TEST(DemoKeysTest, TspKeysAreFixedAndOnePerPurpose) {
  const crypto::SecretBytes kek = DemoTspKey("kek");
  ASSERT_EQ(kek.size(), 32u);
  EXPECT_EQ(HexEncode(kek.reveal()), HexEncode(DemoTspKey("kek").reveal()));  // deterministic
  EXPECT_NE(HexEncode(kek.reveal()), HexEncode(DemoTspKey("pan-fingerprint").reveal()));
  EXPECT_NE(HexEncode(kek.reveal()), HexEncode(DemoTspKey("otp").reveal()));
}

TEST(DemoKeysTest, TransitKeysAreSixteenBytesAndOnePerScopeAndPurpose) {
  const crypto::SecretBytes dpk = DemoTransitKey("t-union", "purchase");
  ASSERT_EQ(dpk.size(), 16u);
  EXPECT_EQ(HexEncode(dpk.reveal()), HexEncode(DemoTransitKey("t-union", "purchase").reveal()));
  EXPECT_NE(HexEncode(dpk.reveal()), HexEncode(DemoTransitKey("t-union", "maintenance").reveal()));
  EXPECT_NE(HexEncode(DemoTransitKey("1000", "load").reveal()),
            HexEncode(DemoTransitKey("2000", "load").reveal()));
}

TEST(DemoKeysTest, TokenImkIsThePublishedVectorKey) {
  EXPECT_EQ(HexEncode(DemoTokenImk().reveal()), kDemoTokenImkHex);
}

}  // namespace
}  // namespace tapstack::demo
