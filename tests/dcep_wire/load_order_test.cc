#include "dcep_wire/load_order.h"

#include <gtest/gtest.h>

#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {
namespace {

LoadOrderBody MakeBody() {
  LoadOrderBody b;
  b.device_id = "watch-a";
  b.load_sequence = 3;
  b.amount_fen = 50'000;
  b.currency_numeric = kCnyCurrencyNumeric;
  b.operator_certificate_serial = 100;
  return b;
}

class LoadOrderTest : public ::testing::TestWithParam<crypto::SignatureScheme> {};

TEST_P(LoadOrderTest, IssueParseVerify) {
  const auto key = testing::NewKey(GetParam());
  auto encoded = IssueLoadOrder(MakeBody(), key);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_LE(encoded->size(), kLoadOrderBytesMax);
  auto order = ParseLoadOrder(*encoded);
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_EQ(order->body, MakeBody());
  EXPECT_TRUE(VerifyLoadOrder(*order, key.public_key()).ok());
  EXPECT_EQ(VerifyLoadOrder(*order, testing::NewKey(GetParam()).public_key()).code(),
            ErrorCode::kCryptoFailure);
}

TEST_P(LoadOrderTest, EveryByteChangeIsRefused) {
  const auto key = testing::NewKey(GetParam());
  const crypto::PublicKey public_key = key.public_key();
  testing::ExpectEveryByteChangeRefused(*IssueLoadOrder(MakeBody(), key), [&](const Bytes& bytes) {
    auto order = ParseLoadOrder(bytes);
    return order.ok() && VerifyLoadOrder(*order, public_key).ok();
  });
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, LoadOrderTest, ::testing::ValuesIn(testing::AllSchemes()));

TEST(LoadOrderParseTest, Refusals) {
  const auto key = testing::NewKey(crypto::SignatureScheme::kSm2Sm3);
  const Bytes encoded = *IssueLoadOrder(MakeBody(), key);
  Bytes bad = encoded;
  bad[0] = 0xE7;
  EXPECT_NE(ParseLoadOrder(bad).status().message().find("expected tag E5"), std::string::npos);
  EXPECT_FALSE(ParseLoadOrder(Bytes(encoded.begin(), encoded.begin() + 20)).ok());
  EXPECT_EQ(ParseLoadOrder(Bytes(kLoadOrderBytesMax + 1, 0xE5)).status().code(),
            ErrorCode::kOutOfRange);
  LoadOrderBody body = MakeBody();
  body.amount_fen = 0;
  EXPECT_FALSE(IssueLoadOrder(body, key).ok());
  body = MakeBody();
  body.device_id = "";
  EXPECT_FALSE(IssueLoadOrder(body, key).ok());
}

}  // namespace
}  // namespace tapstack::dcep_wire
