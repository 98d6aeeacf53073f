// Elliptic-curve Diffie-Hellman over P-256 (NIST SP 800-56A rev. 3, section 5.7.1.2; OpenSSL
// EVP_PKEY_derive). The shared secret is the x-coordinate of the shared point (32 bytes); feed it
// to a KDF (crypto/hkdf.h), never use it as a key directly.
//
// EcdhPrivateKey is an immutable handle over an OpenSSL key; copies share it and may be used from
// several threads. The private scalar leaves the handle only through ToPkcs8Der() (SecretBytes).
// Public keys travel as the 65-byte uncompressed point 04 || X || Y.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <memory>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

inline constexpr std::size_t kEcdhP256PublicKeyBytes = 65;  // 04 || X || Y (SEC 1 2.3.3)
inline constexpr std::size_t kEcdhP256SharedSecretBytes = 32;

class EcdhPrivateKey {
 public:
  // A fresh P-256 key pair from OpenSSL's DRBG. Errors: kCryptoFailure.
  static Result<EcdhPrivateKey> Generate();
  // An unencrypted DER PKCS#8 P-256 key. Errors (kInvalidArgument): not PKCS#8, not P-256.
  static Result<EcdhPrivateKey> FromPkcs8Der(ByteView der);

  Result<SecretBytes> ToPkcs8Der() const;
  // 04 || X || Y.
  Result<Bytes> PublicKeyRaw() const;

  // The ECDH shared secret with `peer_public_raw` (04 || X || Y). Errors (kInvalidArgument): not
  // 65 bytes, or not a point on P-256 (OpenSSL checks the point); kCryptoFailure otherwise.
  Result<SecretBytes> DeriveSharedSecret(ByteView peer_public_raw) const;

 private:
  explicit EcdhPrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

// OK when `raw` is an uncompressed P-256 point on the curve; kInvalidArgument otherwise.
Status CheckEcdhP256PublicKey(ByteView raw);

}  // namespace tapstack::crypto
