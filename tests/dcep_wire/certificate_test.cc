#include "dcep_wire/certificate.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {
namespace {

using testing::kNotAfter;
using testing::kNow;
using testing::TestPki;

class CertificateTest : public ::testing::TestWithParam<crypto::SignatureScheme> {
 protected:
  CertificateTest()
      : pki_(GetParam()),
        device_key_(testing::NewKey(GetParam())),
        device_(pki_.IssueDevice("watch-a", testing::RawKey(device_key_))) {}

  Status Chain(const Certificate& op, const Certificate& device, std::int64_t now = kNow,
               const IsRevoked& revoked = {}) {
    return VerifyChain(pki_.root_key.public_key(), op, device, now, revoked);
  }

  TestPki pki_;
  crypto::PrivateKey device_key_;
  Certificate device_;
};

TEST_P(CertificateTest, RoundTripKeepsEveryField) {
  const CertificateBody body =
      testing::DeviceBody("watch-a", "icbc", testing::RawKey(device_key_), GetParam(), 1000);
  auto encoded = IssueCertificate(body, pki_.operator_key);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_LE(encoded->size(), kCertificateBytesMax);
  auto cert = ParseCertificate(*encoded);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->body, body);
  EXPECT_EQ(cert->encoded, *encoded);
  EXPECT_EQ(cert->signature.size(), 64u);
  auto body_bytes = EncodeCertificateBody(body);
  ASSERT_TRUE(body_bytes.ok());
  EXPECT_EQ(cert->signed_body, *body_bytes);
  EXPECT_TRUE(VerifyCertificate(*cert, pki_.operator_key.public_key()).ok());
  auto key = cert->PublicKey();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->scheme(), GetParam());
}

TEST_P(CertificateTest, RootIsSelfSigned) {
  EXPECT_EQ(pki_.root.body.role, CertificateRole::kRoot);
  EXPECT_TRUE(VerifyCertificate(pki_.root, pki_.root_key.public_key()).ok());
}

TEST_P(CertificateTest, ChainFromRootVerifies) {
  EXPECT_TRUE(Chain(pki_.operator_cert, device_).ok());
}

TEST_P(CertificateTest, ChainRefusesAnotherRoot) {
  TestPki other(GetParam());
  Status st = VerifyChain(other.root_key.public_key(), pki_.operator_cert, device_, kNow);
  EXPECT_EQ(st.code(), ErrorCode::kCryptoFailure) << st.ToString();
}

TEST_P(CertificateTest, ChainRefusesWrongIssuerLinkage) {
  CertificateBody body = device_.body;
  body.issuer_id = "ccb";
  const Certificate device = pki_.IssueDevice(body);
  Status st = Chain(pki_.operator_cert, device);
  EXPECT_EQ(st.code(), ErrorCode::kCryptoFailure);
  EXPECT_NE(st.message().find("names issuer ccb"), std::string::npos) << st.message();
}

TEST_P(CertificateTest, ChainRefusesDeviceSignedByAnotherOperator) {
  TestPki other(GetParam());  // same operator id "icbc", different keys
  const Certificate device = other.IssueDevice("watch-a", testing::RawKey(device_key_));
  EXPECT_EQ(Chain(pki_.operator_cert, device).code(), ErrorCode::kCryptoFailure);
}

TEST_P(CertificateTest, ChainRefusesWrongRoles) {
  // A device certificate in the operator's place, and the operator's in the device's.
  EXPECT_EQ(Chain(device_, device_).code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(Chain(pki_.operator_cert, pki_.operator_cert).code(), ErrorCode::kCryptoFailure);
  // A certificate signed correctly but with role root where a device is expected.
  CertificateBody body = device_.body;
  body.role = CertificateRole::kOperator;
  EXPECT_EQ(Chain(pki_.operator_cert, pki_.IssueDevice(body)).code(), ErrorCode::kCryptoFailure);
}

TEST_P(CertificateTest, ChainRefusesExpired) {
  Status st = Chain(pki_.operator_cert, device_, kNotAfter + 1);
  EXPECT_EQ(st.code(), ErrorCode::kOutOfRange) << st.ToString();
  EXPECT_TRUE(Chain(pki_.operator_cert, device_, kNotAfter).ok());  // valid through not_after
  CertificateBody body = device_.body;
  body.not_after_unix_s = kNow - 1;
  EXPECT_EQ(Chain(pki_.operator_cert, pki_.IssueDevice(body)).code(), ErrorCode::kOutOfRange);
}

TEST_P(CertificateTest, ChainRefusesRevoked) {
  Status st = Chain(pki_.operator_cert, device_, kNow,
                    [](const Certificate& c) { return c.body.subject_id == "watch-a"; });
  EXPECT_EQ(st.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("revoked"), std::string::npos);
  EXPECT_TRUE(Chain(pki_.operator_cert, device_, kNow, [](const Certificate& c) {
                return c.body.subject_id == "watch-b";
              }).ok());
}

TEST_P(CertificateTest, ChainRefusesWrongSignature) {
  Certificate forged = device_;
  forged.signature[10] ^= 0x40;
  EXPECT_EQ(Chain(pki_.operator_cert, forged).code(), ErrorCode::kCryptoFailure);
}

TEST_P(CertificateTest, EveryByteChangeIsRefused) {
  const crypto::PublicKey operator_key = pki_.operator_key.public_key();
  testing::ExpectEveryByteChangeRefused(device_.encoded, [&](const Bytes& bytes) {
    auto cert = ParseCertificate(bytes);
    return cert.ok() && VerifyCertificate(*cert, operator_key).ok();
  });
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, CertificateTest, ::testing::ValuesIn(testing::AllSchemes()));

// ---- parser refusals (one scheme suffices: the layout does not depend on it) ------------------

class CertificateParseTest : public ::testing::Test {
 protected:
  CertificateParseTest()
      : pki_(crypto::SignatureScheme::kSm2Sm3),
        device_(pki_.IssueDevice("watch-a",
                                 testing::RawKey(testing::NewKey(crypto::SignatureScheme::kSm2Sm3)))) {}

  // Re-signs a certificate whose body value is `body_value` (the 7F4E contents).
  Bytes WithBody(const Bytes& body_value) {
    auto body = emv::EncodeTlv(kTagCertificateBody, body_value);
    EXPECT_TRUE(body.ok());
    auto signature = crypto::Sign(pki_.operator_key, *body, crypto::SignatureEncoding::kRaw);
    EXPECT_TRUE(signature.ok());
    Bytes value = *body;
    EXPECT_TRUE(emv::AppendTlv(value, 0x5F37, *signature).ok());
    return *emv::EncodeTlv(kTagCertificate, value);
  }

  Bytes BodyValue() {
    auto tree = emv::DecodeTlv(device_.signed_body);
    EXPECT_TRUE(tree.ok());
    const ByteView v = tree->roots().begin()->value;
    return Bytes(v.begin(), v.end());
  }

  std::string Error(const Bytes& bytes) {
    auto cert = ParseCertificate(bytes);
    EXPECT_FALSE(cert.ok());
    return cert.ok() ? "" : cert.status().message();
  }

  TestPki pki_;
  Certificate device_;
};

TEST_F(CertificateParseTest, RefusesBadOuterTag) {
  Bytes bytes = device_.encoded;
  bytes[1] = 0x22;  // 7F22
  EXPECT_NE(Error(bytes).find("expected tag 7F21"), std::string::npos);
}

TEST_F(CertificateParseTest, RefusesTruncated) {
  for (std::size_t cut : {std::size_t{1}, std::size_t{3}, device_.encoded.size() / 2,
                          device_.encoded.size() - 1}) {
    Bytes bytes(device_.encoded.begin(), device_.encoded.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_FALSE(ParseCertificate(bytes).ok()) << cut;
  }
  EXPECT_FALSE(ParseCertificate(Bytes{}).ok());
}

TEST_F(CertificateParseTest, RefusesTrailingBytes) {
  Bytes bytes = device_.encoded;
  bytes.push_back(0x00);
  EXPECT_FALSE(ParseCertificate(bytes).ok());
}

TEST_F(CertificateParseTest, RefusesOversize) {
  Bytes bytes(kCertificateBytesMax + 1, 0x00);
  auto cert = ParseCertificate(bytes);
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.status().code(), ErrorCode::kOutOfRange);
}

TEST_F(CertificateParseTest, RefusesMissingSignature) {
  auto only_body = emv::EncodeTlv(kTagCertificate, device_.signed_body);
  EXPECT_NE(Error(*only_body).find("5F37"), std::string::npos);
}

TEST_F(CertificateParseTest, RefusesUnknownAndRepeatedTags) {
  Bytes value = BodyValue();
  Bytes unknown = value;
  ASSERT_TRUE(emv::AppendTlv(unknown, 0x99, Bytes{0x01}).ok());
  EXPECT_NE(Error(WithBody(unknown)).find("unexpected tag 99"), std::string::npos);
  Bytes repeated = value;
  ASSERT_TRUE(emv::AppendTlv(repeated, 0x81, Bytes{0x01}).ok());
  EXPECT_NE(Error(WithBody(repeated)).find("tag 81 appears twice"), std::string::npos);
}

TEST_F(CertificateParseTest, RefusesWrongFieldValues) {
  // Replace one field's value in the body and check the error names the tag.
  auto replace = [&](emv::TlvTag tag, const Bytes& new_value) {
    auto tree = emv::DecodeTlv(device_.signed_body);
    Bytes value;
    for (const emv::TlvNode& child : tree->children(*tree->roots().begin())) {
      if (child.tag == tag) {
        EXPECT_TRUE(emv::AppendTlv(value, tag, new_value).ok());
      } else {
        auto sub = emv::EncodeTlv(child.tag, child.value);
        value.insert(value.end(), sub->begin(), sub->end());
      }
    }
    return WithBody(value);
  };
  EXPECT_NE(Error(replace(0x5F29, {0x02})).find("5F29 (version) must be 01"), std::string::npos);
  EXPECT_NE(Error(replace(0x93, {0x01, 0x02})).find("93 (serial) must be 8 bytes"), std::string::npos);
  EXPECT_NE(Error(replace(0x5F4C, {0x04})).find("5F4C (role)"), std::string::npos);
  EXPECT_NE(Error(replace(0x80, {0x07})).find("tag 80"), std::string::npos);
  EXPECT_NE(Error(replace(0x5F20, {'W', 'A'})).find("5F20"), std::string::npos);  // not a device id
  EXPECT_NE(Error(replace(0x7F49, *emv::EncodeTlv(0x86, Bytes(32, 0x04)))).find("86"),
            std::string::npos);  // SM2 needs 65 bytes
  EXPECT_NE(Error(replace(0x82, Bytes(8, 0xFF))).find("82"), std::string::npos);  // above int64
  // The untouched re-encoding still parses (the helper itself is sound).
  EXPECT_TRUE(ParseCertificate(WithBody(BodyValue())).ok());
}

TEST_F(CertificateParseTest, EncodeRefusesBadFields) {
  CertificateBody body = device_.body;
  body.public_key.pop_back();
  EXPECT_EQ(EncodeCertificateBody(body).status().code(), ErrorCode::kInvalidArgument);
  body = device_.body;
  body.subject_id = "Watch A";
  EXPECT_FALSE(EncodeCertificateBody(body).ok());
  body = device_.body;
  body.offline_payment_max_fen = -1;
  EXPECT_FALSE(EncodeCertificateBody(body).ok());
  body = device_.body;
  body.issuer_id = std::string(kEntityIdBytesMax + 1, 'a');
  EXPECT_FALSE(EncodeCertificateBody(body).ok());
}

}  // namespace
}  // namespace tapstack::dcep_wire
