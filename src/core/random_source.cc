#include "core/random_source.h"

#include <array>

namespace tapstack {

Result<std::uint64_t> RandomSource::Uniform(std::uint64_t bound) {
  if (bound == 0) return InvalidArgument("Uniform bound must be positive");
  // Rejection sampling: discard draws from the incomplete top range.
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    std::array<std::uint8_t, 8> buf{};
    TS_RETURN_IF_ERROR(Fill(buf));
    std::uint64_t v = 0;
    for (std::uint8_t b : buf) v = (v << 8) | b;
    if (v < limit) return v % bound;
  }
}

std::uint64_t SeededRandom::Next() {
  // SplitMix64 (Steele, Lea, Flood 2014): a statistically good, non-cryptographic generator.
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Status SeededRandom::Fill(std::span<std::uint8_t> out) {
  std::lock_guard lock(mu_);
  std::size_t i = 0;
  while (i < out.size()) {
    std::uint64_t v = Next();
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * b));
  }
  return Status::Ok();
}

}  // namespace tapstack
