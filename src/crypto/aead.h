// Authenticated encryption: AES-256-GCM (NIST SP 800-38D) with associated data, a 12-byte nonce
// and a 16-byte tag. Used for data at rest and envelope encryption.
//
// The caller owns nonce uniqueness: a nonce must never repeat under one key (draw it from a
// RandomSource, or use a counter). Sealed output is ciphertext || tag. Thread-safe.
#pragma once

#include <cstddef>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

inline constexpr std::size_t kAes256GcmKeyBytes = 32;
inline constexpr std::size_t kGcmNonceBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;
inline constexpr std::size_t kAeadPlaintextBytesMax = std::size_t{16} << 20;      // 16 MiB
inline constexpr std::size_t kAeadAssociatedDataBytesMax = std::size_t{1} << 20;  // 1 MiB

// Encrypts `plaintext` and authenticates it together with `associated_data`.
// Returns ciphertext (same length as plaintext) followed by the 16-byte tag.
// Errors (kInvalidArgument): key not 32 bytes, nonce not 12 bytes, inputs above the limits.
Result<Bytes> AesGcmSeal(const SecretBytes& key, ByteView nonce, ByteView plaintext,
                         ByteView associated_data);

// Checks the tag over `sealed` (ciphertext || tag) and `associated_data`, then returns the
// plaintext. Errors: kInvalidArgument for bad lengths (sealed shorter than a tag, key or nonce
// length); kCryptoFailure when the tag does not verify (tampered ciphertext, tag, associated data,
// wrong key or nonce) — no plaintext is returned then.
Result<Bytes> AesGcmOpen(const SecretBytes& key, ByteView nonce, ByteView sealed,
                         ByteView associated_data);

}  // namespace tapstack::crypto
