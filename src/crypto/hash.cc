#include "crypto/hash.h"

#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

Result<Bytes> Hash(HashAlgorithm algorithm, ByteView data) {
  const internal::DigestId id =
      algorithm == HashAlgorithm::kSha256 ? internal::DigestId::kSha256 : internal::DigestId::kSm3;
  Bytes digest(algorithm == HashAlgorithm::kSha256 ? kSha256Bytes : kSm3Bytes);
  TS_RETURN_IF_ERROR(internal::RunDigest(id, data, digest));
  return digest;
}

}  // namespace tapstack::crypto
