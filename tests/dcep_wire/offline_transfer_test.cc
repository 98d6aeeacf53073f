#include "dcep_wire/offline_transfer.h"

#include <gtest/gtest.h>

#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {
namespace {

using testing::kNow;
using testing::TestPki;

OfflineTransferBody MakeBody(const Certificate& payer) {
  OfflineTransferBody b;
  b.payer_device_id = payer.body.subject_id;
  b.payer_counter = 7;
  b.payee_device_id = "watch-b";
  b.payee_nonce = Bytes(kNonceBytes, 0x5A);
  b.amount_fen = 2500;
  b.currency_numeric = kCnyCurrencyNumeric;
  b.time_unix_s = kNow;
  b.payer_certificate_serial = payer.body.serial;
  return b;
}

class OfflineTransferTest : public ::testing::TestWithParam<crypto::SignatureScheme> {
 protected:
  OfflineTransferTest()
      : pki_(GetParam()),
        payer_key_(testing::NewKey(GetParam())),
        payer_(pki_.IssueDevice("watch-a", testing::RawKey(payer_key_), 4242)),
        body_(MakeBody(payer_)) {}

  Status FromRoot(const OfflineTransfer& t, const CertificateChain& chain,
                  const IsRevoked& revoked = {}) {
    return VerifyOfflineTransferFromRoot(t, chain, pki_.root_key.public_key(), kNow, revoked);
  }

  TestPki pki_;
  crypto::PrivateKey payer_key_;
  Certificate payer_;
  OfflineTransferBody body_;
};

TEST_P(OfflineTransferTest, SignParseVerifyRoundTrip) {
  auto encoded = SignOfflineTransfer(body_, payer_key_);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_LE(encoded->size(), kOfflineTransferBytesMax);
  auto t = ParseOfflineTransfer(*encoded);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->body, body_);
  EXPECT_EQ(t->encoded, *encoded);
  EXPECT_EQ(t->signed_body, *EncodeOfflineTransferBody(body_));
  EXPECT_TRUE(VerifyOfflineTransfer(*t, payer_key_.public_key()).ok());
  EXPECT_TRUE(FromRoot(*t, pki_.Chain(payer_)).ok());
}

TEST_P(OfflineTransferTest, ChainContainerRoundTrip) {
  auto encoded = EncodeCertificateChain(pki_.Chain(payer_));
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ((*encoded)[0], 0xE4);
  auto chain = ParseCertificateChain(*encoded);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ(chain->device.encoded, payer_.encoded);
  EXPECT_EQ(chain->operator_cert.encoded, pki_.operator_cert.encoded);
  // E2 | E4 as PAY answers.
  const Bytes transfer = *SignOfflineTransfer(body_, payer_key_);
  auto both = ParseTransferWithChain(Concat({transfer, *encoded}));
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->transfer.body, body_);
  EXPECT_TRUE(FromRoot(both->transfer, both->chain).ok());
  EXPECT_FALSE(ParseTransferWithChain(Concat({*encoded, transfer})).ok());  // order matters
  EXPECT_FALSE(ParseTransferWithChain(transfer).ok());
  EXPECT_FALSE(ParseTransferWithChain(Concat({transfer, *encoded, Bytes{0x00}})).ok());
}

TEST_P(OfflineTransferTest, RefusesWrongSignerAndWrongChain) {
  const auto other_key = testing::NewKey(GetParam());
  const auto t = *ParseOfflineTransfer(*SignOfflineTransfer(body_, other_key));
  EXPECT_EQ(VerifyOfflineTransfer(t, payer_key_.public_key()).code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(FromRoot(t, pki_.Chain(payer_)).code(), ErrorCode::kCryptoFailure);
  // A transfer naming another payer than the chain's device.
  OfflineTransferBody body = body_;
  body.payer_device_id = "watch-z";
  const auto other_payer = *ParseOfflineTransfer(*SignOfflineTransfer(body, payer_key_));
  EXPECT_EQ(FromRoot(other_payer, pki_.Chain(payer_)).code(), ErrorCode::kCryptoFailure);
  // ... or another certificate serial.
  body = body_;
  body.payer_certificate_serial += 1;
  const auto other_serial = *ParseOfflineTransfer(*SignOfflineTransfer(body, payer_key_));
  EXPECT_EQ(FromRoot(other_serial, pki_.Chain(payer_)).code(), ErrorCode::kCryptoFailure);
  // A chain from another root.
  TestPki rogue(GetParam());
  const Certificate rogue_payer = rogue.IssueDevice("watch-a", testing::RawKey(payer_key_), 4242);
  const auto t_ok = *ParseOfflineTransfer(*SignOfflineTransfer(body_, payer_key_));
  EXPECT_EQ(FromRoot(t_ok, rogue.Chain(rogue_payer)).code(), ErrorCode::kCryptoFailure);
}

TEST_P(OfflineTransferTest, RefusesRevokedAndExpiredPayer) {
  const auto t = *ParseOfflineTransfer(*SignOfflineTransfer(body_, payer_key_));
  EXPECT_EQ(FromRoot(t, pki_.Chain(payer_),
                     [](const Certificate& c) { return c.body.subject_id == "watch-a"; })
                .code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(VerifyOfflineTransferFromRoot(t, pki_.Chain(payer_), pki_.root_key.public_key(),
                                          testing::kNotAfter + 1)
                .code(),
            ErrorCode::kOutOfRange);
}

TEST_P(OfflineTransferTest, EveryByteChangeIsRefused) {
  const Bytes encoded = *SignOfflineTransfer(body_, payer_key_);
  const crypto::PublicKey key = payer_key_.public_key();
  testing::ExpectEveryByteChangeRefused(encoded, [&](const Bytes& bytes) {
    auto t = ParseOfflineTransfer(bytes);
    return t.ok() && VerifyOfflineTransfer(*t, key).ok();
  });
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, OfflineTransferTest, ::testing::ValuesIn(testing::AllSchemes()));

TEST(OfflineTransferParseTest, RefusesMalformed) {
  TestPki pki(crypto::SignatureScheme::kEd25519);
  const auto key = testing::NewKey(pki.scheme);
  const Certificate payer = pki.IssueDevice("watch-a", testing::RawKey(key));
  const Bytes encoded = *SignOfflineTransfer(MakeBody(payer), key);
  Bytes bad_tag = encoded;
  bad_tag[0] = 0xE5;
  EXPECT_NE(ParseOfflineTransfer(bad_tag).status().message().find("expected tag E2"),
            std::string::npos);
  EXPECT_FALSE(ParseOfflineTransfer(Bytes(encoded.begin(), encoded.end() - 10)).ok());
  EXPECT_EQ(ParseOfflineTransfer(Bytes(kOfflineTransferBytesMax + 1, 0xE2)).status().code(),
            ErrorCode::kOutOfRange);
  // The body without its signature.
  const Bytes unsigned_transfer = *emv::EncodeTlv(kTagOfflineTransfer, *EncodeOfflineTransferBody(MakeBody(payer)));
  EXPECT_NE(ParseOfflineTransfer(unsigned_transfer).status().message().find("5F37"),
            std::string::npos);
  // Chain containers with one or three certificates, or a foreign tag.
  EXPECT_FALSE(ParseCertificateChain(*emv::EncodeTlv(kTagCertificateChain, payer.encoded)).ok());
  EXPECT_FALSE(ParseCertificateChain(*emv::EncodeTlv(
                                         kTagCertificateChain,
                                         Concat({payer.encoded, payer.encoded, payer.encoded})))
                   .ok());
  EXPECT_FALSE(ParseCertificateChain(*emv::EncodeTlv(
                                         kTagCertificateChain,
                                         Concat({payer.encoded, Bytes{0x80, 0x01, 0x00}})))
                   .ok());
}

TEST(OfflineTransferParseTest, EncodeRefusesBadBodies) {
  OfflineTransferBody b;
  b.payer_device_id = "watch-a";
  b.payee_device_id = "watch-b";
  b.payee_nonce = Bytes(16, 0);
  b.amount_fen = 1;
  EXPECT_TRUE(EncodeOfflineTransferBody(b).ok());
  OfflineTransferBody bad = b;
  bad.payee_device_id = "Watch B";
  EXPECT_FALSE(EncodeOfflineTransferBody(bad).ok());
  bad = b;
  bad.amount_fen = 0;
  EXPECT_FALSE(EncodeOfflineTransferBody(bad).ok());
  bad = b;
  bad.payee_nonce = Bytes(15, 0);
  EXPECT_FALSE(EncodeOfflineTransferBody(bad).ok());
  bad = b;
  bad.payer_device_id = std::string(65, 'a');
  EXPECT_FALSE(EncodeOfflineTransferBody(bad).ok());
}

}  // namespace
}  // namespace tapstack::dcep_wire
