// Byte buffers and views used by every codec and crypto call.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace tapstack {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Views the characters of a string as bytes (no copy; the string must outlive the view).
inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline Bytes Concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  std::size_t total = 0;
  for (ByteView p : parts) total += p.size();
  out.reserve(total);
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Overwrites memory in a way the optimiser may not remove (glibc explicit_bzero); used for PANs
// and other sensitive values that are not key material (keys use crypto::SecretBytes).
void SecureWipe(void* data, std::size_t size);

}  // namespace tapstack
