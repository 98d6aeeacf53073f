// Cryptographic hashes: SHA-256 (FIPS 180-4) and SM3 (GB/T 32905-2016). Thread-safe.
//
// SHA-1 is deliberately not offered here: the one format that needs it (EMV master key derivation
// Option B) calls it internally.
#pragma once

#include <cstddef>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::crypto {

enum class HashAlgorithm { kSha256, kSm3 };

inline constexpr std::size_t kSha256Bytes = 32;
inline constexpr std::size_t kSm3Bytes = 32;
inline constexpr std::size_t kHashDataBytesMax = std::size_t{16} << 20;  // 16 MiB per call

// The digest of `data` (32 bytes for both algorithms). Errors: data above kHashDataBytesMax
// (kInvalidArgument); kCryptoFailure if OpenSSL fails.
Result<Bytes> Hash(HashAlgorithm algorithm, ByteView data);

inline Result<Bytes> Sha256(ByteView data) { return Hash(HashAlgorithm::kSha256, data); }
inline Result<Bytes> Sm3(ByteView data) { return Hash(HashAlgorithm::kSm3, data); }

}  // namespace tapstack::crypto
