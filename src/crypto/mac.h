// Message authentication codes: ISO/IEC 9797-1 MAC algorithms 1 and 3 with padding methods 1 and
// 2, CMAC (NIST SP 800-38B = ISO/IEC 9797-1 algorithm 5) over AES, TDES and SM4, and HMAC-SHA-256.
//
// All calls return the full MAC; callers truncate (EMV cryptograms keep 8 bytes, ARPC method 2 and
// PBOC MAC1/MAC2 keep 4). Thread-safe; contexts are reused per thread (crypto/internal/openssl.h).
#pragma once

#include <cstddef>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/block_cipher.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

// ISO/IEC 9797-1 padding methods (section 6.3).
enum class MacPadding {
  // Method 1: append the fewest 00 bytes to reach a whole block. An aligned input gets nothing;
  // the empty input becomes one zero block.
  kMethod1 = 1,
  // Method 2 (also ISO/IEC 7816-4): always append 80, then 00 to a whole block. An aligned input
  // grows by one block.
  kMethod2 = 2,
};

inline constexpr std::size_t kRetailMacKeyBytes = 16;  // K || K' for MAC algorithm 3
inline constexpr std::size_t kHmacSha256Bytes = 32;
inline constexpr std::size_t kHmacKeyBytesMax = 1024;
// Largest MAC input, as for ciphers.
inline constexpr std::size_t kMacDataBytesMax = kCipherDataBytesMax;

// `data` padded with `padding` to a multiple of `block_bytes` (8 or 16).
Bytes PadIso9797(ByteView data, MacPadding padding, std::size_t block_bytes);

// ISO/IEC 9797-1 MAC algorithm 1: CBC-MAC with a zero ICV over the padded data; returns the last
// block (8 bytes for DES/TDES, 16 for AES/SM4). With BlockCipher::kDes the key must be exactly
// 8 bytes (a 16-byte key is an error, not silently TDES); use kTdes for the TDES variant.
// Errors: wrong key length or data above kMacDataBytesMax (kInvalidArgument).
Result<Bytes> Iso9797Alg1Mac(BlockCipher cipher, const SecretBytes& key, ByteView data,
                             MacPadding padding);

// ISO/IEC 9797-1 MAC algorithm 3 (ANSI X9.19 retail MAC) with a 16-byte key K || K': single-DES
// CBC under K over the padded data, then DES(K)[DES^-1(K')[Hq]]. Returns 8 bytes. Differs from a
// TDES CBC-MAC whenever the padded data is longer than one block.
// Errors: key not 16 bytes, data too large (kInvalidArgument).
Result<Bytes> Iso9797Alg3Mac(const SecretBytes& key, ByteView data, MacPadding padding);

// CMAC (RFC 4493 / SP 800-38B; CMAC applies its own padding and subkeys, so there is no padding
// parameter). kAes takes 16/24/32-byte keys and returns 16 bytes; kTdes 16/24-byte keys (two-key
// means K3 = K1) and returns 8; kSm4 a 16-byte key and returns 16. kDes is not supported.
// Errors: kInvalidArgument for the cipher or key length; kCryptoFailure if OpenSSL fails.
Result<Bytes> Cmac(BlockCipher cipher, const SecretBytes& key, ByteView data);

// HMAC-SHA-256 (RFC 2104 / FIPS 198-1), 32 bytes. Errors: key empty or above kHmacKeyBytesMax.
Result<Bytes> HmacSha256(const SecretBytes& key, ByteView data);

// True when a and b have the same length and contents, in time independent of the contents
// (CRYPTO_memcmp). Use for every MAC, cryptogram or tag comparison.
bool ConstantTimeEquals(ByteView a, ByteView b);

}  // namespace tapstack::crypto
