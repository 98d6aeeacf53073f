#include "crypto/secret_bytes.h"

#include <openssl/crypto.h>

#include <utility>

#include "core/hex.h"

namespace tapstack::crypto {

SecretBytes::SecretBytes(ByteView bytes) : bytes_(bytes.begin(), bytes.end()) {}

SecretBytes::SecretBytes(Bytes&& bytes) : bytes_(std::move(bytes)) { bytes.clear(); }

SecretBytes SecretBytes::Zeroed(std::size_t size) { return SecretBytes(Bytes(size, 0)); }

Result<SecretBytes> SecretBytes::FromHex(std::string_view hex) {
  Result<Bytes> decoded = HexDecode(hex);
  if (!decoded.ok()) return InvalidArgument("key " + decoded.status().message());
  return SecretBytes(std::move(decoded).value());
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

bool SecretBytes::EqualsConstantTime(const SecretBytes& other) const {
  return bytes_.size() == other.bytes_.size() &&
         CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
}

void SecretBytes::Wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

}  // namespace tapstack::crypto
