#include "crypto/signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>
#include <string>

#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace {

using internal::EvpMdCtxPtr;
using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) { return {key, internal::EvpPkeyFree()}; }

// Which of our schemes an OpenSSL key belongs to; kInvalidArgument for anything else.
Result<SignatureScheme> DetectScheme(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return SignatureScheme::kEd25519;
  if (EVP_PKEY_is_a(key, "SM2")) return SignatureScheme::kSm2Sm3;
  if (EVP_PKEY_is_a(key, "EC")) {
    std::array<char, 64> group{};
    std::size_t group_len = 0;
    if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &group_len) == 1) {
      const std::string_view name(group.data(), group_len);
      if (name == "prime256v1" || name == "P-256") return SignatureScheme::kEcdsaP256Sha256;
      if (name == "SM2") {
        return InvalidArgument("EC key on the SM2 curve was not loaded as an SM2 key");
      }
      ERR_clear_error();
      return InvalidArgument("unsupported EC curve " + std::string(name) +
                             "; expected P-256 or SM2");
    }
  }
  ERR_clear_error();
  return InvalidArgument("unsupported key type; expected ECDSA P-256, Ed25519 or SM2");
}

Status CheckMessage(ByteView message) {
  if (message.size() > kSignedMessageBytesMax) {
    return InvalidArgument("message of " + std::to_string(message.size()) +
                           " bytes exceeds the signing limit of " +
                           std::to_string(kSignedMessageBytesMax));
  }
  return Status::Ok();
}

// Prepares `mctx` for a DigestSign/DigestVerify one-shot over `key`. For SM2 the distinguishing ID
// goes on a caller-owned EVP_PKEY_CTX (returned in `sm2_ctx`, which must outlive `mctx`).
Status InitDigestContext(bool sign, SignatureScheme scheme, EVP_PKEY* key, EVP_MD_CTX* mctx,
                         EvpPkeyCtxPtr& sm2_ctx) {
  const char* digest = nullptr;
  switch (scheme) {
    case SignatureScheme::kEcdsaP256Sha256:
      digest = "SHA2-256";
      break;
    case SignatureScheme::kEd25519:
      digest = nullptr;  // Ed25519 hashes internally (PureEdDSA)
      break;
    case SignatureScheme::kSm2Sm3: {
      digest = "SM3";
      sm2_ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
      if (!sm2_ctx || EVP_PKEY_CTX_set1_id(sm2_ctx.get(), kSm2DefaultId.data(),
                                           static_cast<int>(kSm2DefaultId.size())) <= 0) {
        return internal::OpenSslError("SM2 distinguishing ID setup failed");
      }
      EVP_MD_CTX_set_pkey_ctx(mctx, sm2_ctx.get());
      break;
    }
  }
  const int ok =
      sign ? EVP_DigestSignInit_ex(mctx, nullptr, digest, nullptr, nullptr, key, nullptr)
           : EVP_DigestVerifyInit_ex(mctx, nullptr, digest, nullptr, nullptr, key, nullptr);
  if (ok != 1) return internal::OpenSslError("signature setup failed");
  return Status::Ok();
}

Result<Bytes> I2dToBytes(int len, unsigned char* der, std::string_view what) {
  if (len <= 0 || der == nullptr) return internal::OpenSslError(std::string(what) + " failed");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string_view SignatureSchemeName(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEcdsaP256Sha256:
      return "ECDSA-P256-SHA256";
    case SignatureScheme::kEd25519:
      return "Ed25519";
    case SignatureScheme::kSm2Sm3:
      return "SM2-SM3";
  }
  return "unknown";
}

Result<PublicKey> PublicKey::FromSpkiDer(ByteView der) {
  if (der.empty() || der.size() > kKeyDerBytesMax) {
    return InvalidArgument("SubjectPublicKeyInfo must be 1-" + std::to_string(kKeyDerBytesMax) +
                           " bytes");
  }
  const unsigned char* p = der.data();
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key || p != der.data() + der.size()) {
    ERR_clear_error();
    return InvalidArgument("not a DER SubjectPublicKeyInfo (or trailing bytes after it)");
  }
  TS_ASSIGN_OR_RETURN(SignatureScheme scheme, DetectScheme(key.get()));
  return PublicKey(scheme, Share(key.release()));
}

Result<PublicKey> PublicKey::FromRaw(SignatureScheme scheme, ByteView raw) {
  if (scheme == SignatureScheme::kEd25519) {
    if (raw.size() != kEd25519PublicKeyBytes) {
      return InvalidArgument("Ed25519 public key must be 32 bytes; got " +
                             std::to_string(raw.size()));
    }
    EVP_PKEY* key =
        EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, raw.data(), raw.size());
    if (key == nullptr) return internal::OpenSslError("Ed25519 public key import failed");
    return PublicKey(scheme, Share(key));
  }
  if (raw.size() != kEcRawPublicKeyBytes || raw[0] != 0x04) {
    return InvalidArgument(std::string(SignatureSchemeName(scheme)) +
                           " raw public key must be 65 bytes 04 || X || Y");
  }
  const bool sm2 = scheme == SignatureScheme::kSm2Sm3;
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, sm2 ? "SM2" : "EC", nullptr));
  // OSSL_PARAM wants a mutable buffer; OpenSSL only reads it.
  char p256_name[] = "prime256v1";
  char sm2_name[] = "SM2";
  char* group = sm2 ? sm2_name : p256_name;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<std::uint8_t*>(raw.data()), raw.size()),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1 || key == nullptr) {
    ERR_clear_error();
    return InvalidArgument("raw public key is not a point on the " +
                           std::string(sm2 ? "SM2" : "P-256") + " curve");
  }
  return PublicKey(scheme, Share(key));
}

Result<Bytes> PublicKey::ToSpkiDer() const {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key_.get(), &der);
  return I2dToBytes(len, der, "SubjectPublicKeyInfo encoding");
}

Result<Bytes> PublicKey::ToRaw() const {
  if (scheme_ == SignatureScheme::kEd25519) {
    Bytes raw(kEd25519PublicKeyBytes);
    std::size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(key_.get(), raw.data(), &len) != 1 || len != raw.size()) {
      return internal::OpenSslError("Ed25519 public key export failed");
    }
    return raw;
  }
  Bytes raw(kEcRawPublicKeyBytes);
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw.data(),
                                      raw.size(), &len) != 1 ||
      len != raw.size() || raw[0] != 0x04) {
    return internal::OpenSslError("EC public key export failed");
  }
  return raw;
}

Result<PrivateKey> PrivateKey::Generate(SignatureScheme scheme) {
  EVP_PKEY* key = nullptr;
  switch (scheme) {
    case SignatureScheme::kEcdsaP256Sha256: {
      char curve[] = "P-256";
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
      break;
    }
    case SignatureScheme::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case SignatureScheme::kSm2Sm3:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "SM2");
      break;
  }
  if (key == nullptr) return internal::OpenSslError("key generation failed");
  return PrivateKey(scheme, Share(key));
}

Result<PrivateKey> PrivateKey::FromPkcs8Der(ByteView der) {
  if (der.empty() || der.size() > kKeyDerBytesMax) {
    return InvalidArgument("PKCS#8 key must be 1-" + std::to_string(kKeyDerBytesMax) + " bytes");
  }
  EvpPkeyPtr key = internal::DecodePkcs8Der(der, nullptr);
  if (!key) {
    return InvalidArgument("not an unencrypted DER PKCS#8 private key (or trailing bytes)");
  }
  TS_ASSIGN_OR_RETURN(SignatureScheme scheme, DetectScheme(key.get()));
  return PrivateKey(scheme, Share(key.release()));
}

Result<SecretBytes> PrivateKey::ToPkcs8Der() const {
  return internal::EncodePkcs8Der(key_.get());
}

Result<Bytes> Sign(const PrivateKey& key, ByteView message, SignatureEncoding encoding) {
  if (key.scheme() == SignatureScheme::kEd25519 && encoding == SignatureEncoding::kDer) {
    return InvalidArgument("Ed25519 signatures have only the raw 64-byte encoding");
  }
  TS_RETURN_IF_ERROR(CheckMessage(message));
  EvpPkeyCtxPtr sm2_ctx;  // declared before mctx: must outlive it
  EvpMdCtxPtr mctx(EVP_MD_CTX_new());
  if (!mctx) return internal::OpenSslError("digest context allocation failed");
  TS_RETURN_IF_ERROR(InitDigestContext(true, key.scheme(), key.key_.get(), mctx.get(), sm2_ctx));
  std::size_t len = 0;
  if (EVP_DigestSign(mctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return internal::OpenSslError("signature size query failed");
  }
  Bytes signature(len);
  if (EVP_DigestSign(mctx.get(), signature.data(), &len, message.data(), message.size()) != 1) {
    return internal::OpenSslError("signing failed");
  }
  signature.resize(len);
  if (key.scheme() != SignatureScheme::kEd25519 && encoding == SignatureEncoding::kRaw) {
    return SignatureDerToRaw(signature);
  }
  return signature;
}

Status Verify(const PublicKey& key, ByteView message, ByteView signature,
              SignatureEncoding encoding) {
  if (key.scheme() == SignatureScheme::kEd25519 && encoding == SignatureEncoding::kDer) {
    return InvalidArgument("Ed25519 signatures have only the raw 64-byte encoding");
  }
  TS_RETURN_IF_ERROR(CheckMessage(message));
  Bytes der;
  ByteView to_check = signature;
  if (key.scheme() != SignatureScheme::kEd25519 && encoding == SignatureEncoding::kRaw) {
    Result<Bytes> converted = SignatureRawToDer(signature);
    if (!converted.ok()) {
      return CryptoFailure("signature does not verify: " + converted.status().message());
    }
    der = std::move(converted).value();
    to_check = der;
  }
  EvpPkeyCtxPtr sm2_ctx;
  EvpMdCtxPtr mctx(EVP_MD_CTX_new());
  if (!mctx) return internal::OpenSslError("digest context allocation failed");
  TS_RETURN_IF_ERROR(InitDigestContext(false, key.scheme(), key.key_.get(), mctx.get(), sm2_ctx));
  const int ok = EVP_DigestVerify(mctx.get(), to_check.data(), to_check.size(), message.data(),
                                  message.size());
  ERR_clear_error();
  if (ok != 1) {
    return CryptoFailure(std::string(SignatureSchemeName(key.scheme())) +
                         " signature does not verify");
  }
  return Status::Ok();
}

Result<Bytes> SignatureDerToRaw(ByteView der) {
  if (der.empty() || der.size() > 2 * kEcScalarBytes + 16) {
    return InvalidArgument("DER signature has an impossible length " + std::to_string(der.size()));
  }
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr || p != der.data() + der.size()) {
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return InvalidArgument("not a DER SEQUENCE { r, s } signature (or trailing bytes)");
  }
  // Strict DER: re-encoding must reproduce the input exactly.
  unsigned char* reencoded = nullptr;
  const int reencoded_len = i2d_ECDSA_SIG(sig, &reencoded);
  const bool canonical = reencoded_len == static_cast<int>(der.size()) &&
                         std::memcmp(reencoded, der.data(), der.size()) == 0;
  OPENSSL_free(reencoded);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  Bytes raw(kRawSignatureBytes);
  const bool fits = canonical && BN_num_bytes(r) <= static_cast<int>(kEcScalarBytes) &&
                    BN_num_bytes(s) <= static_cast<int>(kEcScalarBytes) &&
                    BN_bn2binpad(r, raw.data(), kEcScalarBytes) == kEcScalarBytes &&
                    BN_bn2binpad(s, raw.data() + kEcScalarBytes, kEcScalarBytes) == kEcScalarBytes;
  ECDSA_SIG_free(sig);
  if (!fits) {
    ERR_clear_error();
    return InvalidArgument("DER signature is not strict DER or has a scalar wider than 32 bytes");
  }
  return raw;
}

Result<Bytes> SignatureRawToDer(ByteView raw) {
  if (raw.size() != kRawSignatureBytes) {
    return InvalidArgument("raw signature must be 64 bytes (r || s); got " +
                           std::to_string(raw.size()));
  }
  BIGNUM* r = BN_bin2bn(raw.data(), kEcScalarBytes, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + kEcScalarBytes, kEcScalarBytes, nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return internal::OpenSslError("signature conversion failed");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);  // owns r and s now
  return I2dToBytes(len, der, "DER signature encoding");
}

}  // namespace tapstack::crypto
