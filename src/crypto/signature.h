// Digital signatures: ECDSA over P-256 with SHA-256 (FIPS 186-4), Ed25519 (RFC 8032) and SM2 with
// SM3 (GB/T 32918-2016) using the default distinguishing ID "1234567812345678".
//
// Keys are immutable handles over OpenSSL EVP_PKEY objects; copies share the same key and may be
// used from several threads at once. Private keys leave the process only through ToPkcs8Der(),
// which returns SecretBytes.
//
// Signature encodings: ECDSA and SM2 signatures are DER (SEQUENCE { r, s }) or raw r || s
// (2 x 32 bytes); Ed25519 signatures are always the raw 64 bytes. Verification never throws:
// any mismatch, malformed signature or wrong encoding is kCryptoFailure.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

enum class SignatureScheme { kEcdsaP256Sha256, kEd25519, kSm2Sm3 };
enum class SignatureEncoding { kDer, kRaw };

inline constexpr std::size_t kRawSignatureBytes = 64;    // r || s, or Ed25519 R || S
inline constexpr std::size_t kEcScalarBytes = 32;        // P-256 and SM2 r, s, private scalar
inline constexpr std::size_t kEcRawPublicKeyBytes = 65;  // 04 || X || Y (uncompressed point)
inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kKeyDerBytesMax = 4096;  // SPKI / PKCS#8 inputs
inline constexpr std::size_t kSignedMessageBytesMax = std::size_t{16} << 20;  // 16 MiB
inline constexpr std::string_view kSm2DefaultId = "1234567812345678";

// "ECDSA-P256-SHA256", "Ed25519", "SM2-SM3".
std::string_view SignatureSchemeName(SignatureScheme scheme);

class PublicKey {
 public:
  // Parses a DER SubjectPublicKeyInfo. Errors (kInvalidArgument): not DER, or a key that is not
  // P-256, Ed25519 or SM2.
  static Result<PublicKey> FromSpkiDer(ByteView der);
  // Raw encodings: the 65-byte uncompressed point 04 || X || Y for ECDSA P-256 and SM2; the
  // 32-byte key for Ed25519. Errors: wrong length or a point not on the curve.
  static Result<PublicKey> FromRaw(SignatureScheme scheme, ByteView raw);

  SignatureScheme scheme() const { return scheme_; }
  Result<Bytes> ToSpkiDer() const;
  Result<Bytes> ToRaw() const;

 private:
  PublicKey(SignatureScheme scheme, std::shared_ptr<EVP_PKEY> key)
      : scheme_(scheme), key_(std::move(key)) {}
  friend class PrivateKey;
  friend Status Verify(const PublicKey& key, ByteView message, ByteView signature,
                       SignatureEncoding encoding);

  SignatureScheme scheme_;
  std::shared_ptr<EVP_PKEY> key_;
};

class PrivateKey {
 public:
  // A fresh key pair from OpenSSL's DRBG. Errors: kCryptoFailure if OpenSSL fails.
  static Result<PrivateKey> Generate(SignatureScheme scheme);
  // Parses an unencrypted DER PKCS#8 PrivateKeyInfo. Errors (kInvalidArgument): not PKCS#8, or an
  // unsupported key type.
  static Result<PrivateKey> FromPkcs8Der(ByteView der);

  SignatureScheme scheme() const { return scheme_; }
  // The matching public key (shares the EVP_PKEY).
  PublicKey public_key() const { return PublicKey(scheme_, key_); }
  // Unencrypted DER PKCS#8; protect it like any key.
  Result<SecretBytes> ToPkcs8Der() const;

 private:
  PrivateKey(SignatureScheme scheme, std::shared_ptr<EVP_PKEY> key)
      : scheme_(scheme), key_(std::move(key)) {}
  friend Result<Bytes> Sign(const PrivateKey& key, ByteView message, SignatureEncoding encoding);

  SignatureScheme scheme_;
  std::shared_ptr<EVP_PKEY> key_;
};

// Signs `message` (hashing is part of the scheme: SHA-256, SM3 with Z_A, or none for Ed25519).
// Errors: kInvalidArgument for kDer with Ed25519 or a message above kSignedMessageBytesMax;
// kCryptoFailure if OpenSSL fails.
Result<Bytes> Sign(const PrivateKey& key, ByteView message, SignatureEncoding encoding);

// OK when `signature` (in `encoding`) is a valid signature of `message` under `key`.
// kCryptoFailure for any signature that does not verify, including malformed ones;
// kInvalidArgument for kDer with Ed25519.
Status Verify(const PublicKey& key, ByteView message, ByteView signature,
              SignatureEncoding encoding);

// Conversions for ECDSA and SM2 signatures (32-byte scalars). DER input must be strict DER.
// Errors (kInvalidArgument): malformed input, wrong raw length, a scalar wider than 32 bytes.
Result<Bytes> SignatureDerToRaw(ByteView der);
Result<Bytes> SignatureRawToDer(ByteView raw);

}  // namespace tapstack::crypto
