#include "dcep_wire/transfer_verifier.h"

#include <gtest/gtest.h>

#include "dcep_wire/dcep_test_pki.h"

namespace tapstack::dcep_wire {
namespace {

using testing::TestPki;

class TransferVerifierTest : public ::testing::TestWithParam<crypto::SignatureScheme> {
 protected:
  TransferVerifierTest()
      : pki_(GetParam()),
        payer_key_(testing::NewKey(GetParam())),
        device_(pki_.IssueDevice("watch-a", testing::RawKey(payer_key_), 7)) {}

  OfflineTransfer Transfer(std::uint32_t counter, std::string payer = "watch-a",
                           std::uint64_t serial = 7) {
    OfflineTransferBody body{std::move(payer), counter,      "watch-b", Bytes(16, 0x5A),
                             1'000,            156,          testing::kNow, serial};
    auto encoded = SignOfflineTransfer(body, payer_key_);
    EXPECT_TRUE(encoded.ok()) << encoded.status().ToString();
    return *ParseOfflineTransfer(*encoded);
  }

  // The verifier and the uncached check must agree on every input.
  void ExpectSameAnswer(TransferVerifier& verifier, const OfflineTransfer& t, const CertificateChain& chain,
                        std::int64_t now, const IsRevoked& revoked = {}) {
    const Status plain = VerifyOfflineTransferFromRoot(t, chain, pki_.root_key.public_key(), now, revoked);
    const Status cached = verifier.Verify(t, chain, now, revoked);
    EXPECT_EQ(cached.code(), plain.code()) << cached.ToString() << " vs " << plain.ToString();
    EXPECT_EQ(cached.message(), plain.message());
  }

  TestPki pki_;
  crypto::PrivateKey payer_key_;
  Certificate device_;
};

TEST_P(TransferVerifierTest, VerifiesEachChainOnceAndAgreesWithTheFullCheck) {
  TransferVerifier verifier(pki_.root_key.public_key());
  const CertificateChain chain = pki_.Chain(device_);
  for (std::uint32_t counter = 1; counter <= 5; ++counter) {
    EXPECT_TRUE(verifier.Verify(Transfer(counter), chain, testing::kNow).ok());
  }
  EXPECT_EQ(verifier.stats().chains_verified, 1u);
  EXPECT_EQ(verifier.stats().chain_hits, 4u);

  // With the chain cached, everything that can be wrong is still caught, with the same error.
  OfflineTransfer forged = Transfer(6);
  forged.signature[3] ^= 0x01;
  ExpectSameAnswer(verifier, forged, chain, testing::kNow);
  OfflineTransfer tampered = Transfer(7);
  tampered.signed_body[tampered.signed_body.size() - 20] ^= 0x01;  // a signed byte changed
  ExpectSameAnswer(verifier, tampered, chain, testing::kNow);
  ExpectSameAnswer(verifier, Transfer(8, "watch-z"), chain, testing::kNow);       // another payer
  ExpectSameAnswer(verifier, Transfer(9, "watch-a", 8), chain, testing::kNow);    // another serial
  ExpectSameAnswer(verifier, Transfer(10), chain, testing::kNotAfter + 1);        // expired since
  const IsRevoked revoked = [](const Certificate& c) { return c.body.subject_id == "watch-a"; };
  ExpectSameAnswer(verifier, Transfer(11), chain, testing::kNow, revoked);        // revoked since
  for (const Status& s : {verifier.Verify(forged, chain, testing::kNow),
                         verifier.Verify(Transfer(10), chain, testing::kNotAfter + 1),
                         verifier.Verify(Transfer(11), chain, testing::kNow, revoked)}) {
    EXPECT_FALSE(s.ok());
  }
}

TEST_P(TransferVerifierTest, AChainThatFailsIsNeverCached) {
  TransferVerifier verifier(pki_.root_key.public_key());
  TestPki other(GetParam(), "ccb");  // a chain under another root
  const Certificate foreign = other.IssueDevice("watch-a", testing::RawKey(payer_key_), 7);
  for (int i = 0; i < 2; ++i) {
    ExpectSameAnswer(verifier, Transfer(1), other.Chain(foreign), testing::kNow);
    EXPECT_EQ(verifier.Verify(Transfer(1), other.Chain(foreign), testing::kNow).code(),
              ErrorCode::kCryptoFailure);
  }
  EXPECT_EQ(verifier.stats().chains_verified, 0u);
  EXPECT_EQ(verifier.stats().chain_hits, 0u);
}

TEST_P(TransferVerifierTest, TheCacheIsBounded) {
  TransferVerifier verifier(pki_.root_key.public_key(), /*chains_max=*/2);
  for (int i = 0; i < 5; ++i) {
    payer_key_ = testing::NewKey(GetParam());
    const std::string id = "watch-" + std::to_string(i);
    const Certificate device = pki_.IssueDevice(id, testing::RawKey(payer_key_), 7);
    EXPECT_TRUE(verifier.Verify(Transfer(1, id), pki_.Chain(device), testing::kNow).ok());
    EXPECT_TRUE(verifier.Verify(Transfer(2, id), pki_.Chain(device), testing::kNow).ok());
  }
  EXPECT_EQ(verifier.stats().chains_verified, 5u);
  EXPECT_EQ(verifier.stats().chain_hits, 5u);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, TransferVerifierTest, ::testing::ValuesIn(testing::AllSchemes()));

}  // namespace
}  // namespace tapstack::dcep_wire
