#include "crypto/csprng.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

Status Csprng::Fill(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int length; draw large requests in chunks.
  constexpr std::size_t kChunkBytes = std::size_t{1} << 30;
  for (std::size_t offset = 0; offset < out.size(); offset += kChunkBytes) {
    const std::size_t n = std::min(kChunkBytes, out.size() - offset);
    if (RAND_bytes(out.data() + offset, static_cast<int>(n)) != 1) {
      std::fill(out.begin(), out.end(), std::uint8_t{0});
      return internal::OpenSslError("RAND_bytes failed");
    }
  }
  return Status::Ok();
}

}  // namespace tapstack::crypto
