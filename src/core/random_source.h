// RandomSource: the one way tapstack code draws random bytes, injectable for deterministic tests.
//
// Production code uses crypto::Csprng (OpenSSL RAND_bytes), which implements this interface.
// SeededRandom is for tests and the deterministic simulation only: it is predictable by design
// and must never produce keys, nonces or OTPs outside a test.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>

#include "core/status.h"

namespace tapstack {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Errors: the source failed (kCryptoFailure); `out` is then
  // zero-filled so no caller acts on stale bytes by mistake.
  virtual Status Fill(std::span<std::uint8_t> out) = 0;

  // A uniform integer in [0, bound) without modulo bias. Errors as Fill; bound 0 is kInvalidArgument.
  Result<std::uint64_t> Uniform(std::uint64_t bound);
};

// Deterministic generator (SplitMix64) for reproducible tests and simulation runs. Thread-safe.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  Status Fill(std::span<std::uint8_t> out) override;

 private:
  std::uint64_t Next();

  std::mutex mu_;
  std::uint64_t state_;
};

}  // namespace tapstack
