#include "crypto/signature.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Ascii;
using testing::Hex;
using testing::ToHex;

constexpr SignatureScheme kAllSchemes[] = {SignatureScheme::kEcdsaP256Sha256,
                                           SignatureScheme::kEd25519, SignatureScheme::kSm2Sm3};

// The encodings each scheme supports.
std::vector<SignatureEncoding> Encodings(SignatureScheme scheme) {
  if (scheme == SignatureScheme::kEd25519) return {SignatureEncoding::kRaw};
  return {SignatureEncoding::kDer, SignatureEncoding::kRaw};
}

TEST(CryptoSignature, SignVerifyAndTamperForEveryScheme) {
  const Bytes message = Ascii("provision token 4895370012345678 for device 7");
  for (SignatureScheme scheme : kAllSchemes) {
    for (SignatureEncoding encoding : Encodings(scheme)) {
      SCOPED_TRACE(std::string(SignatureSchemeName(scheme)) +
                   (encoding == SignatureEncoding::kDer ? " DER" : " raw"));
      ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(scheme));
      const PublicKey pub = key.public_key();
      ASSERT_OK_AND_ASSIGN(Bytes signature, Sign(key, message, encoding));
      if (encoding == SignatureEncoding::kRaw) {
        EXPECT_EQ(signature.size(), kRawSignatureBytes);
      }
      EXPECT_OK(Verify(pub, message, signature, encoding));

      Bytes other_message = message;
      other_message.back() ^= 1;
      EXPECT_CODE(Verify(pub, other_message, signature, encoding), ErrorCode::kCryptoFailure);

      Bytes flipped = signature;
      flipped[flipped.size() / 2] ^= 0x01;
      EXPECT_CODE(Verify(pub, message, flipped, encoding), ErrorCode::kCryptoFailure);

      ASSERT_OK_AND_ASSIGN(PrivateKey other, PrivateKey::Generate(scheme));
      EXPECT_CODE(Verify(other.public_key(), message, signature, encoding),
                  ErrorCode::kCryptoFailure);

      // Garbage and truncated signatures fail cleanly.
      EXPECT_CODE(Verify(pub, message, {}, encoding), ErrorCode::kCryptoFailure);
      EXPECT_CODE(Verify(pub, message, Bytes(signature.begin(), signature.end() - 1), encoding),
                  ErrorCode::kCryptoFailure);
      EXPECT_CODE(Verify(pub, message, Bytes(200, 0x30), encoding), ErrorCode::kCryptoFailure);
    }
  }
}

TEST(CryptoSignature, Sm2RoundTripWithSm3AndDefaultId) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(SignatureScheme::kSm2Sm3));
  EXPECT_EQ(key.scheme(), SignatureScheme::kSm2Sm3);
  const Bytes message = Ascii("message digest");
  ASSERT_OK_AND_ASSIGN(Bytes signature, Sign(key, message, SignatureEncoding::kDer));
  EXPECT_OK(Verify(key.public_key(), message, signature, SignatureEncoding::kDer));
  // SM2 signing is randomised: two signatures differ but both verify.
  ASSERT_OK_AND_ASSIGN(Bytes again, Sign(key, message, SignatureEncoding::kDer));
  EXPECT_NE(signature, again);
  EXPECT_OK(Verify(key.public_key(), message, again, SignatureEncoding::kDer));
  // An ECDSA verifier over the same point would not accept it: SM2 is its own scheme.
  ASSERT_OK_AND_ASSIGN(Bytes raw_pub, key.public_key().ToRaw());
  EXPECT_CODE(PublicKey::FromRaw(SignatureScheme::kEcdsaP256Sha256, raw_pub),
              ErrorCode::kInvalidArgument);  // the SM2 point is not on P-256
}

TEST(CryptoSignature, PublicKeyExportImportRoundTrips) {
  const Bytes message = Ascii("cardholder verified");
  for (SignatureScheme scheme : kAllSchemes) {
    SCOPED_TRACE(SignatureSchemeName(scheme));
    ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(scheme));
    const SignatureEncoding encoding = Encodings(scheme).back();
    ASSERT_OK_AND_ASSIGN(Bytes signature, Sign(key, message, encoding));

    ASSERT_OK_AND_ASSIGN(Bytes spki, key.public_key().ToSpkiDer());
    ASSERT_OK_AND_ASSIGN(PublicKey from_spki, PublicKey::FromSpkiDer(spki));
    EXPECT_EQ(from_spki.scheme(), scheme);
    EXPECT_OK(Verify(from_spki, message, signature, encoding));

    ASSERT_OK_AND_ASSIGN(Bytes raw, key.public_key().ToRaw());
    EXPECT_EQ(raw.size(),
              scheme == SignatureScheme::kEd25519 ? kEd25519PublicKeyBytes : kEcRawPublicKeyBytes);
    ASSERT_OK_AND_ASSIGN(PublicKey from_raw, PublicKey::FromRaw(scheme, raw));
    EXPECT_OK(Verify(from_raw, message, signature, encoding));
    ASSERT_OK_AND_ASSIGN(Bytes spki_again, from_raw.ToSpkiDer());
    EXPECT_EQ(spki_again, spki);
  }
}

TEST(CryptoSignature, PrivateKeyPkcs8RoundTrips) {
  const Bytes message = Ascii("top-up 100.00");
  for (SignatureScheme scheme : kAllSchemes) {
    SCOPED_TRACE(SignatureSchemeName(scheme));
    ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(scheme));
    ASSERT_OK_AND_ASSIGN(SecretBytes pkcs8, key.ToPkcs8Der());
    ASSERT_OK_AND_ASSIGN(PrivateKey imported, PrivateKey::FromPkcs8Der(pkcs8.reveal()));
    EXPECT_EQ(imported.scheme(), scheme);
    const SignatureEncoding encoding = Encodings(scheme).back();
    ASSERT_OK_AND_ASSIGN(Bytes signature, Sign(imported, message, encoding));
    EXPECT_OK(Verify(key.public_key(), message, signature, encoding));
  }
}

TEST(CryptoSignature, Ed25519Rfc8032Test1) {
  // RFC 8032 section 7.1 TEST 1 (empty message). The secret key is wrapped in the fixed PKCS#8
  // prefix for Ed25519 (RFC 8410).
  const Bytes pkcs8 =
      Concat({Hex("302E020100300506032B657004220420"),
              Hex("9D61B19DEFFD5A60BA844AF492EC2CC44449C5697B326919703BAC031CAE7F60")});
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::FromPkcs8Der(pkcs8));
  ASSERT_OK_AND_ASSIGN(Bytes pub, key.public_key().ToRaw());
  EXPECT_EQ(ToHex(pub), "D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A");
  ASSERT_OK_AND_ASSIGN(Bytes signature, Sign(key, {}, SignatureEncoding::kRaw));
  EXPECT_EQ(ToHex(signature),
            "E5564300C360AC729086E2CC806E828A84877F1EB8E5D974D873E065224901555FB8821590A33BACC61E39"
            "701CF9B46BD25BF5F0595BBE24655141438E7A100B");
  ASSERT_OK_AND_ASSIGN(PublicKey verifier, PublicKey::FromRaw(SignatureScheme::kEd25519, pub));
  EXPECT_OK(Verify(verifier, {}, signature, SignatureEncoding::kRaw));
}

TEST(CryptoSignature, EcdsaP256Rfc6979Sample) {
  // RFC 6979 A.2.5, P-256 with SHA-256, message "sample": verify the published (r, s) under the
  // published public key (through the raw encodings).
  const Bytes pub =
      Concat({Hex("04"), Hex("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"),
              Hex("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299")});
  ASSERT_OK_AND_ASSIGN(PublicKey key, PublicKey::FromRaw(SignatureScheme::kEcdsaP256Sha256, pub));
  const Bytes signature =
      Hex("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
          "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
  EXPECT_OK(Verify(key, Ascii("sample"), signature, SignatureEncoding::kRaw));
  EXPECT_CODE(Verify(key, Ascii("samplf"), signature, SignatureEncoding::kRaw),
              ErrorCode::kCryptoFailure);
}

TEST(CryptoSignature, DerRawConversionRoundTrips) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(SignatureScheme::kEcdsaP256Sha256));
  for (int i = 0; i < 20; ++i) {  // covers r or s with a leading zero byte now and then
    ASSERT_OK_AND_ASSIGN(Bytes der,
                         Sign(key, Ascii("m" + std::to_string(i)), SignatureEncoding::kDer));
    ASSERT_OK_AND_ASSIGN(Bytes raw, SignatureDerToRaw(der));
    EXPECT_EQ(raw.size(), kRawSignatureBytes);
    ASSERT_OK_AND_ASSIGN(Bytes der_again, SignatureRawToDer(raw));
    EXPECT_EQ(der_again, der);
  }
  // Small scalars encode minimally and come back zero-padded.
  Bytes small(64, 0);
  small[31] = 1;
  small[63] = 2;
  ASSERT_OK_AND_ASSIGN(Bytes der, SignatureRawToDer(small));
  EXPECT_EQ(ToHex(der), "3006020101020102");
  ASSERT_OK_AND_ASSIGN(Bytes back, SignatureDerToRaw(der));
  EXPECT_EQ(back, small);
}

TEST(CryptoSignature, ConversionRejectsMalformedInput) {
  EXPECT_CODE(SignatureRawToDer(Bytes(63)), ErrorCode::kInvalidArgument);
  EXPECT_CODE(SignatureDerToRaw({}), ErrorCode::kInvalidArgument);
  EXPECT_CODE(SignatureDerToRaw(Hex("3006020101020102FF")),
              ErrorCode::kInvalidArgument);  // trailing
  EXPECT_CODE(SignatureDerToRaw(Hex("300702020001020102")),
              ErrorCode::kInvalidArgument);  // non-minimal
  EXPECT_CODE(SignatureDerToRaw(Hex("3106020101020102")), ErrorCode::kInvalidArgument);
}

TEST(CryptoSignature, Ed25519HasNoDerEncoding) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(SignatureScheme::kEd25519));
  EXPECT_CODE(Sign(key, Ascii("x"), SignatureEncoding::kDer), ErrorCode::kInvalidArgument);
  EXPECT_CODE(Verify(key.public_key(), Ascii("x"), Bytes(64), SignatureEncoding::kDer),
              ErrorCode::kInvalidArgument);
}

TEST(CryptoSignature, RejectsMalformedKeys) {
  EXPECT_CODE(PublicKey::FromSpkiDer({}), ErrorCode::kInvalidArgument);
  EXPECT_CODE(PublicKey::FromSpkiDer(Hex("3000")), ErrorCode::kInvalidArgument);
  EXPECT_CODE(PublicKey::FromRaw(SignatureScheme::kEd25519, Bytes(31)),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(PublicKey::FromRaw(SignatureScheme::kEcdsaP256Sha256, Bytes(65, 0x04)),
              ErrorCode::kInvalidArgument);  // not on the curve
  EXPECT_CODE(PublicKey::FromRaw(SignatureScheme::kSm2Sm3, Bytes(33, 0x02)),
              ErrorCode::kInvalidArgument);  // compressed points are not accepted
  EXPECT_CODE(PrivateKey::FromPkcs8Der(Hex("300000")), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
