// Checksum: SHA-256 (OpenSSL EVP) truncated to 128 bits, for the log's headers, bodies and hash
// chain. A cryptographic hash rather than a CRC so that a misdirected or stale block cannot pass
// by accident and a deliberate edit of the log needs a hash preimage, not arithmetic.
// With SHA-NI this runs at about 1.7 GB/s, far faster than the disk's sync rate.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace tapstack::ledger {

using Checksum = std::array<std::uint8_t, 16>;

// The first 16 bytes of SHA-256(data). Thread-safe (a digest context per thread).
// Throws std::runtime_error only when OpenSSL cannot provide SHA-256 at all (start-up failure).
Checksum ComputeChecksum(std::span<const std::uint8_t> data);

// Incremental form, for data in several pieces.
class ChecksumBuilder {
 public:
  ChecksumBuilder();
  ~ChecksumBuilder();
  ChecksumBuilder(const ChecksumBuilder&) = delete;
  ChecksumBuilder& operator=(const ChecksumBuilder&) = delete;

  void Update(std::span<const std::uint8_t> data);
  Checksum Finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace tapstack::ledger
