#include "sim/sim_world.h"

#include "core/hex.h"
#include "crypto/hash.h"

namespace tapstack::sim {

SimWorld::SimWorld(std::uint64_t seed, bool keep_trace_lines)
    : start_unix_ms_(clock_.NowUnixMillis()), random_(seed), keep_lines_(keep_trace_lines) {}

bool SimWorld::Chance(double probability) {
  if (probability <= 0) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_) < probability;
}

std::int64_t SimWorld::Uniform(std::int64_t low, std::int64_t high) {
  return std::uniform_int_distribution<std::int64_t>(low, high)(random_);
}

std::int64_t SimWorld::DrawDelayMs(bool* slow) {
  *slow = Chance(faults_.slow);
  if (*slow) return Uniform(faults_.delay_max_ms, faults_.slow_delay_max_ms);
  return Uniform(faults_.delay_min_ms, faults_.delay_max_ms);
}

void SimWorld::Trace(const std::string& text) {
  std::string line = "t=" + std::to_string(now_ms()) + " " + text;
  hash_input_ += line;
  hash_input_ += '\n';
  ++trace_count_;
  if (keep_lines_) lines_.push_back(std::move(line));
}

std::string SimWorld::TraceHash() const {
  auto digest = crypto::Sha256(AsBytes(hash_input_));
  return digest.ok() ? HexEncode(*digest) : std::string("hash-failed");
}

}  // namespace tapstack::sim
