// Internal to src/crypto: mapping from the public BlockCipher enum to OpenSSL ciphers.
#pragma once

#include <cstddef>
#include <span>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/block_cipher.h"
#include "crypto/internal/openssl.h"

namespace tapstack::crypto::internal {

// The OpenSSL cipher for (cipher, mode, key length). Errors: wrong key length.
Result<CipherId> SelectCipher(BlockCipher cipher, CipherMode mode, std::size_t key_bytes);

// Writes the key OpenSSL needs into `out` and returns its length: DES K -> K,K,K and two-key TDES
// K1 K2 -> K1 K2 K1 (both 24 bytes); other keys are copied unchanged. `key` must have a length
// valid for `cipher` (checked by SelectCipher).
std::size_t ExpandKey(BlockCipher cipher, ByteView key, std::span<std::uint8_t, 32> out);

}  // namespace tapstack::crypto::internal
