// Internal to src/crypto: cached OpenSSL algorithm fetches, per-thread reusable contexts and error
// conversion. Not part of the public API; other modules must not include this header.
//
// Why: EVP_CIPHER_fetch / EVP_MAC_fetch take a global lock and search the provider store, and
// setting a cipher on a context allocates. Hot paths (cryptograms, MACs) therefore fetch each
// algorithm once per process and keep one context per algorithm per thread, re-keying it per call.
// Consequence: the last key schedule used on a thread stays in that thread's context until the next
// call re-keys it or the thread exits (contexts are freed, and cleansed by OpenSSL, at thread
// exit).
#pragma once

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto::internal {

// Largest input accepted by any cipher, MAC or hash call, in bytes. Keeps lengths far below INT_MAX
// (OpenSSL takes int lengths) and bounds work per call.
inline constexpr std::size_t kInputBytesMax = std::size_t{16} << 20;  // 16 MiB

// Every cipher tapstack uses. Single DES and two-key TDES run on DES-EDE3 with an expanded key
// (K,K,K and K1,K2,K1): OpenSSL 3 keeps single DES in the legacy provider, which tapstack does not
// load; EDE with three equal keys is exactly single DES.
enum class CipherId : std::uint8_t {
  kDesEde3Ecb,
  kDesEde3Cbc,
  kAes128Ecb,
  kAes192Ecb,
  kAes256Ecb,
  kAes128Cbc,
  kAes192Cbc,
  kAes256Cbc,
  kSm4Ecb,
  kSm4Cbc,
  kAes256Gcm,
  kCount,
};

// CMAC flavours (EVP_MAC "CMAC" with the named CBC cipher).
enum class CmacId : std::uint8_t { kAes128, kAes192, kAes256, kTdes, kSm4, kCount };

enum class DigestId : std::uint8_t { kSha1, kSha256, kSm3, kCount };

// The fetched algorithm, fetched once per process; nullptr when no provider offers it.
const EVP_CIPHER* Cipher(CipherId id);
const EVP_MD* Digest(DigestId id);
const EVP_MAC* MacAlgorithm(std::string_view name);  // "CMAC" or "HMAC"

// This thread's context for `id`, created on first use with the cipher set and padding off;
// nullptr if OpenSSL fails. Callers re-key it with EVP_CipherInit_ex2(ctx, nullptr, key, iv, ...).
EVP_CIPHER_CTX* ThreadCipherContext(CipherId id);
// This thread's CMAC context for `id` with the cipher parameter already set; re-key with
// EVP_MAC_init(ctx, key, key_len, nullptr).
EVP_MAC_CTX* ThreadCmacContext(CmacId id);

// kCryptoFailure naming `what` and the first queued OpenSSL error; clears the error queue.
Status OpenSslError(std::string_view what);

// Runs a block cipher over block-aligned `in` into `out` (same size, may alias `in`) on this
// thread's context. `key` must already have the cipher's exact key length; `iv` is empty for ECB.
Status RunCipher(CipherId id, bool encrypt, ByteView key, ByteView iv, ByteView in,
                 std::span<std::uint8_t> out);

// CMAC of `data` under `key` into `out` (the cipher's block size).
Status RunCmac(CmacId id, ByteView key, ByteView data, std::span<std::uint8_t> out);

// One-shot digest into `out` (exact digest size).
Status RunDigest(DigestId id, ByteView data, std::span<std::uint8_t> out);

// Owning smart pointers for OpenSSL objects.
struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpPkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct EvpMdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EvpCipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct EvpMacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct EvpKdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxFree>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxFree>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxFree>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, EvpMacCtxFree>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, EvpKdfCtxFree>;

// The unencrypted DER PKCS#8 PrivateKeyInfo of `key` (RFC 5208), as a key handle.
// Errors: kCryptoFailure when OpenSSL cannot encode it.
Result<SecretBytes> EncodePkcs8Der(EVP_PKEY* key);
// Decodes an unencrypted DER PKCS#8 private key of `key_type` ("EC", or nullptr for any type) that
// fills `der` exactly. Empty (OpenSSL's error queue cleared) when `der` is not one.
EvpPkeyPtr DecodePkcs8Der(ByteView der, const char* key_type);

// Wipes a fixed buffer when it leaves scope (expanded keys, intermediate MAC states).
template <std::size_t N>
class WipedArray {
 public:
  WipedArray() = default;
  WipedArray(const WipedArray&) = delete;
  WipedArray& operator=(const WipedArray&) = delete;
  ~WipedArray() { OPENSSL_cleanse(data_, N); }
  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::uint8_t& operator[](std::size_t i) { return data_[i]; }
  static constexpr std::size_t size() { return N; }
  std::span<std::uint8_t> span(std::size_t n = N) { return {data_, n}; }
  ByteView view(std::size_t n = N) const { return {data_, n}; }

 private:
  std::uint8_t data_[N] = {};
};

}  // namespace tapstack::crypto::internal
