// HKDF with SHA-256 (RFC 5869): extract-then-expand key derivation over OpenSSL's EVP_KDF "HKDF".
// Used to turn an ECDH shared secret into a symmetric key (crypto/device_key_wrap.h). Thread-safe.
#pragma once

#include <cstddef>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

// RFC 5869 section 2.3: L <= 255 * HashLen.
inline constexpr std::size_t kHkdfSha256OutputBytesMax = 255 * 32;
inline constexpr std::size_t kHkdfInputBytesMax = 4096;  // ikm, salt and info each

// OKM = HKDF-Expand(HKDF-Extract(salt, ikm), info, length). An empty salt means HashLen zeros.
// Errors (kInvalidArgument): ikm empty, length 0 or above kHkdfSha256OutputBytesMax, an input
// above kHkdfInputBytesMax; kCryptoFailure if OpenSSL fails.
Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, ByteView salt, ByteView info,
                               std::size_t length);

}  // namespace tapstack::crypto
