// SecretBytes: the handle every crypto call takes for key material.
//
// Owns its bytes and overwrites them (OPENSSL_cleanse) when destroyed, assigned over or moved
// from. It cannot be printed (no operator<<) and cannot be copied implicitly: a second copy of a
// key must be asked for with Clone(). The bytes are reachable through reveal() for the crypto code
// that must feed them to OpenSSL; never log or store what reveal() returns.
//
// Not thread-safe for mutation; concurrent const use is safe.
#pragma once

#include <cstddef>
#include <ostream>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  // Copies `bytes`; the caller remains responsible for wiping its own copy.
  explicit SecretBytes(ByteView bytes);
  // Takes `bytes` without copying; `bytes` is left empty.
  explicit SecretBytes(Bytes&& bytes);
  // `size` zero bytes, for callers that fill the key through mutable().
  static SecretBytes Zeroed(std::size_t size);
  // Decodes hex (e.g. from the command line or a test vector). Errors: as HexDecode; the error
  // message never echoes the input. The temporary decoded buffer is wiped.
  static Result<SecretBytes> FromHex(std::string_view hex);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // A deliberate second copy.
  SecretBytes Clone() const { return SecretBytes(reveal()); }

  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // The key bytes; the view dies with (or on modification of) this object.
  ByteView reveal() const { return bytes_; }
  // Writable bytes, for derivation code that builds a key in place (e.g. parity fixing).
  std::span<std::uint8_t> mutable_bytes() { return bytes_; }

  // Constant-time comparison (CRYPTO_memcmp); sizes are not secret.
  bool EqualsConstantTime(const SecretBytes& other) const;

  // Key material is never printable.
  friend std::ostream& operator<<(std::ostream&, const SecretBytes&) = delete;

 private:
  void Wipe();

  Bytes bytes_;
};

}  // namespace tapstack::crypto
