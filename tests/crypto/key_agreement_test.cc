#include "crypto/key_agreement.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::ToHex;

// A PKCS#8 PrivateKeyInfo around a SEC 1 ECPrivateKey (RFC 5915) on P-256 with scalar `d`.
Bytes P256Pkcs8(std::string_view d_hex) {
  return Concat(
      {Hex("3041020100301306072A8648CE3D020106082A8648CE3D030107042730250201010420"), Hex(d_hex)});
}

// RFC 5903 section 8.1 (256-bit random ECP group): ECDH known answer.
TEST(KeyAgreementTest, Rfc5903P256KnownAnswer) {
  ASSERT_OK_AND_ASSIGN(const EcdhPrivateKey i,
                       EcdhPrivateKey::FromPkcs8Der(P256Pkcs8(
                           "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433")));
  ASSERT_OK_AND_ASSIGN(const Bytes gi, i.PublicKeyRaw());
  EXPECT_EQ(ToHex(gi),
            "04DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
            "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3");
  const Bytes gr =
      Hex("04D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
          "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB");
  ASSERT_OK_AND_ASSIGN(const SecretBytes z, i.DeriveSharedSecret(gr));
  EXPECT_EQ(ToHex(z.reveal()), "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE");
}

TEST(KeyAgreementTest, BothSidesAgreeAndPkcs8RoundTrips) {
  ASSERT_OK_AND_ASSIGN(const EcdhPrivateKey a, EcdhPrivateKey::Generate());
  ASSERT_OK_AND_ASSIGN(const EcdhPrivateKey b, EcdhPrivateKey::Generate());
  ASSERT_OK_AND_ASSIGN(const Bytes a_pub, a.PublicKeyRaw());
  ASSERT_OK_AND_ASSIGN(const Bytes b_pub, b.PublicKeyRaw());
  ASSERT_OK_AND_ASSIGN(const SecretBytes ab, a.DeriveSharedSecret(b_pub));
  ASSERT_OK_AND_ASSIGN(const SecretBytes ba, b.DeriveSharedSecret(a_pub));
  EXPECT_TRUE(ab.EqualsConstantTime(ba));
  EXPECT_EQ(ab.size(), kEcdhP256SharedSecretBytes);

  ASSERT_OK_AND_ASSIGN(const SecretBytes der, a.ToPkcs8Der());
  ASSERT_OK_AND_ASSIGN(const EcdhPrivateKey a2, EcdhPrivateKey::FromPkcs8Der(der.reveal()));
  ASSERT_OK_AND_ASSIGN(const Bytes a2_pub, a2.PublicKeyRaw());
  EXPECT_EQ(a2_pub, a_pub);
}

TEST(KeyAgreementTest, RefusesPointsOffTheCurveAndBadEncodings) {
  ASSERT_OK_AND_ASSIGN(const EcdhPrivateKey a, EcdhPrivateKey::Generate());
  ASSERT_OK_AND_ASSIGN(Bytes pub, a.PublicKeyRaw());
  pub[64] ^= 0x01;  // y no longer matches x
  EXPECT_EQ(a.DeriveSharedSecret(pub).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(a.DeriveSharedSecret(Bytes(65, 0)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(a.DeriveSharedSecret(Bytes(33, 2)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckEcdhP256PublicKey({}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(EcdhPrivateKey::FromPkcs8Der(Hex("3000")).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
