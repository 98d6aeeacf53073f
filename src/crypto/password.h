// Password hashing with scrypt (RFC 7914) through OpenSSL's EVP_KDF "SCRYPT".
//
// Encoded form, one printable line safe to store as-is:
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt in hex>$<hash, 64 hex digits>
// e.g. "$scrypt$ln=15,r=8,p=1$9F...$4A...". The parameters travel with the hash so they can be
// raised later without invalidating stored hashes. HashPassword writes a 16-byte salt;
// verification accepts 8-64 byte salts (hashes imported from elsewhere, RFC 7914 vectors).
// VerifyPassword enforces the same parameter limits as HashPassword, so a stored string cannot
// make verification use unbounded memory or time.
//
// Thread-safe. The caller owns wiping its copy of the password.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/random_source.h"
#include "core/status.h"

namespace tapstack::crypto {

struct ScryptParams {
  // N = 2^log2_n, the CPU/memory cost. Default 2^15: about 32 MiB and tens of milliseconds,
  // the RFC 7914 interactive-login setting.
  std::uint32_t log2_n = 15;
  std::uint32_t r = 8;  // block size factor
  std::uint32_t p = 1;  // parallelisation factor
};

inline constexpr std::uint32_t kScryptLog2NMin = 10;
inline constexpr std::uint32_t kScryptLog2NMax = 20;
inline constexpr std::uint32_t kScryptRMax = 32;
inline constexpr std::uint32_t kScryptPMax = 16;
// Upper bound on scrypt working memory (about 128 * r * (N + p) bytes).
inline constexpr std::uint64_t kScryptMemoryBytesMax = std::uint64_t{256} << 20;  // 256 MiB
inline constexpr std::size_t kPasswordSaltBytes = 16;
inline constexpr std::size_t kPasswordSaltBytesMin = 8;
inline constexpr std::size_t kPasswordSaltBytesMax = 64;
inline constexpr std::size_t kPasswordHashBytes = 32;
inline constexpr std::size_t kPasswordBytesMax = 1024;

// Hashes `password` with a fresh salt drawn from `random` and returns the encoded string.
// Errors: kInvalidArgument for an empty or over-long password or parameters outside the limits;
// the random source's error; kCryptoFailure if OpenSSL fails.
Result<std::string> HashPassword(std::string_view password, RandomSource& random,
                                 const ScryptParams& params = {});

// OK when `password` matches `encoded` (compared in constant time). Errors: kCryptoFailure when
// it does not match; kInvalidArgument when `encoded` is malformed or its parameters exceed the
// limits (the message names the part that is wrong).
Status VerifyPassword(std::string_view password, std::string_view encoded);

}  // namespace tapstack::crypto
