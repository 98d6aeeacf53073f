#include "dcep_wire/payment_request.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {
namespace {

using testing::TestPki;

PaymentRequest MakeRequest(const TestPki& pki, const Certificate& device) {
  PaymentRequest r;
  r.amount_fen = 1234;
  r.currency_numeric = kCnyCurrencyNumeric;
  r.payee_nonce = Bytes(kNonceBytes, 0xA5);
  r.time_unix_s = testing::kNow;
  r.payee_device = device;
  r.payee_operator = pki.operator_cert;
  return r;
}

class PaymentRequestTest : public ::testing::TestWithParam<crypto::SignatureScheme> {};

TEST_P(PaymentRequestTest, RoundTrip) {
  TestPki pki(GetParam());
  const Certificate device = pki.IssueDevice("watch-b", testing::RawKey(testing::NewKey(GetParam())));
  const PaymentRequest r = MakeRequest(pki, device);
  auto encoded = EncodePaymentRequest(r);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ((*encoded)[0], 0xE1);
  EXPECT_LE(encoded->size(), kPaymentRequestBytesMax);
  auto parsed = ParsePaymentRequest(*encoded);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->amount_fen, 1234);
  EXPECT_EQ(parsed->currency_numeric, 156);
  EXPECT_EQ(parsed->payee_nonce, r.payee_nonce);
  EXPECT_EQ(parsed->time_unix_s, testing::kNow);
  EXPECT_EQ(parsed->payee_device.encoded, device.encoded);
  EXPECT_EQ(parsed->payee_operator.encoded, pki.operator_cert.encoded);
  EXPECT_TRUE(VerifyChain(pki.root_key.public_key(), parsed->payee_operator, parsed->payee_device,
                          testing::kNow)
                  .ok());
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, PaymentRequestTest, ::testing::ValuesIn(testing::AllSchemes()));

class PaymentRequestRefusalTest : public ::testing::Test {
 protected:
  PaymentRequestRefusalTest()
      : pki_(crypto::SignatureScheme::kSm2Sm3),
        device_(pki_.IssueDevice("watch-b", testing::RawKey(testing::NewKey(pki_.scheme)))),
        request_(MakeRequest(pki_, device_)),
        encoded_(*EncodePaymentRequest(request_)) {}

  // E1 with `value` as its contents.
  static Bytes E1(const Bytes& value) { return *emv::EncodeTlv(kTagPaymentRequest, value); }
  Bytes Field(emv::TlvTag tag, const Bytes& value) { return *emv::EncodeTlv(tag, value); }
  Bytes Fields(bool amount = true, bool nonce = true, std::size_t certificates = 2) {
    Bytes v;
    if (amount) v = Field(0x9F02, Bytes{0, 0, 0, 0, 0, 0, 0x04, 0xD2});
    auto add = [&v](const Bytes& b) { v.insert(v.end(), b.begin(), b.end()); };
    add(Field(0x5F2A, {0x00, 0x9C}));
    if (nonce) add(Field(0x9F37, Bytes(16, 0xA5)));
    add(Field(0x9A, UintToBytes(static_cast<std::uint64_t>(testing::kNow), 8)));
    if (certificates > 0) add(device_.encoded);
    if (certificates > 1) add(pki_.operator_cert.encoded);
    if (certificates > 2) add(pki_.operator_cert.encoded);
    return v;
  }

  TestPki pki_;
  Certificate device_;
  PaymentRequest request_;
  Bytes encoded_;
};

TEST_F(PaymentRequestRefusalTest, TheHelperBuildsAValidRequest) {
  EXPECT_TRUE(ParsePaymentRequest(E1(Fields())).ok());
  EXPECT_EQ(E1(Fields()), encoded_);
}

TEST_F(PaymentRequestRefusalTest, RefusesBadTagTruncationAndOversize) {
  Bytes bad = encoded_;
  bad[0] = 0xE2;
  EXPECT_NE(ParsePaymentRequest(bad).status().message().find("expected tag E1"), std::string::npos);
  Bytes cut(encoded_.begin(), encoded_.end() - 1);
  EXPECT_FALSE(ParsePaymentRequest(cut).ok());
  EXPECT_EQ(ParsePaymentRequest(Bytes(kPaymentRequestBytesMax + 1, 0xE1)).status().code(),
            ErrorCode::kOutOfRange);
}

TEST_F(PaymentRequestRefusalTest, RefusesMissingFieldsAndWrongCertificateCount) {
  EXPECT_NE(ParsePaymentRequest(E1(Fields(false))).status().message().find("9F02"),
            std::string::npos);
  EXPECT_NE(ParsePaymentRequest(E1(Fields(true, false))).status().message().find("9F37"),
            std::string::npos);
  EXPECT_NE(ParsePaymentRequest(E1(Fields(true, true, 1))).status().message().find("expected 2"),
            std::string::npos);
  EXPECT_FALSE(ParsePaymentRequest(E1(Fields(true, true, 3))).ok());
}

TEST_F(PaymentRequestRefusalTest, RefusesZeroAmountAndRepeatedTags) {
  Bytes v = Field(0x9F02, Bytes(8, 0x00));
  Bytes rest = Fields(false);
  v.insert(v.end(), rest.begin(), rest.end());
  EXPECT_NE(ParsePaymentRequest(E1(v)).status().message().find("zero"), std::string::npos);
  Bytes twice = Fields();
  const Bytes extra = Field(0x9F37, Bytes(16, 0x00));
  twice.insert(twice.end(), extra.begin(), extra.end());
  EXPECT_NE(ParsePaymentRequest(E1(twice)).status().message().find("twice"), std::string::npos);
}

TEST_F(PaymentRequestRefusalTest, RefusesACertificateThatDoesNotParse) {
  Bytes v = Fields(true, true, 0);
  Bytes broken = device_.encoded;
  broken[5] ^= 0xFF;  // inside the body: a tag byte
  v.insert(v.end(), broken.begin(), broken.end());
  v.insert(v.end(), pki_.operator_cert.encoded.begin(), pki_.operator_cert.encoded.end());
  EXPECT_FALSE(ParsePaymentRequest(E1(v)).ok());
}

TEST_F(PaymentRequestRefusalTest, EncodeRefusesBadInput) {
  PaymentRequest r = request_;
  r.amount_fen = 0;
  EXPECT_FALSE(EncodePaymentRequest(r).ok());
  r = request_;
  r.payee_nonce.pop_back();
  EXPECT_FALSE(EncodePaymentRequest(r).ok());
  r = request_;
  r.payee_operator = {};
  EXPECT_FALSE(EncodePaymentRequest(r).ok());
}

}  // namespace
}  // namespace tapstack::dcep_wire
