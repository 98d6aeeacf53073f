#include "dcep_wire/scheme.h"

#include <gtest/gtest.h>

namespace tapstack::dcep_wire {
namespace {

TEST(SchemeTest, BytesRoundTrip) {
  EXPECT_EQ(SchemeByte(crypto::SignatureScheme::kSm2Sm3), 0x00);
  EXPECT_EQ(SchemeByte(crypto::SignatureScheme::kEcdsaP256Sha256), 0x01);
  EXPECT_EQ(SchemeByte(crypto::SignatureScheme::kEd25519), 0x02);
  for (std::uint8_t b : {0x00, 0x01, 0x02}) {
    auto scheme = SchemeFromByte(b);
    ASSERT_TRUE(scheme.ok());
    EXPECT_EQ(SchemeByte(*scheme), b);
  }
  EXPECT_EQ(kDefaultScheme, crypto::SignatureScheme::kSm2Sm3);
}

TEST(SchemeTest, RefusesUnknownByte) {
  auto scheme = SchemeFromByte(0x03);
  ASSERT_FALSE(scheme.ok());
  EXPECT_EQ(scheme.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(SchemeFromByte(0xFF).ok());
}

TEST(SchemeTest, RawKeyLengths) {
  EXPECT_EQ(RawPublicKeyBytes(crypto::SignatureScheme::kSm2Sm3), 65u);
  EXPECT_EQ(RawPublicKeyBytes(crypto::SignatureScheme::kEcdsaP256Sha256), 65u);
  EXPECT_EQ(RawPublicKeyBytes(crypto::SignatureScheme::kEd25519), 32u);
}

}  // namespace
}  // namespace tapstack::dcep_wire
