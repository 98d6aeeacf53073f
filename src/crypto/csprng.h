// Csprng: the production RandomSource, backed by OpenSSL's DRBG (RAND_bytes).
//
// Thread-safe (OpenSSL keeps a DRBG per thread). Use for keys, nonces, salts and OTPs; tests and
// the deterministic simulation inject core's SeededRandom instead.
#pragma once

#include <cstdint>
#include <span>

#include "core/random_source.h"
#include "core/status.h"

namespace tapstack::crypto {

class Csprng final : public RandomSource {
 public:
  // Fills `out` from RAND_bytes. Errors: kCryptoFailure when the DRBG cannot produce output (e.g.
  // it failed to seed); `out` is zero-filled then.
  Status Fill(std::span<std::uint8_t> out) override;
};

}  // namespace tapstack::crypto
