#include "crypto/internal/openssl.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>

#include <array>
#include <string>

namespace tapstack::crypto::internal {

namespace {

constexpr std::size_t kCipherCount = static_cast<std::size_t>(CipherId::kCount);
constexpr std::size_t kCmacCount = static_cast<std::size_t>(CmacId::kCount);
constexpr std::size_t kDigestCount = static_cast<std::size_t>(DigestId::kCount);

constexpr std::array<const char*, kCipherCount> kCipherNames = {
    "DES-EDE3-ECB", "DES-EDE3-CBC", "AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "AES-128-CBC",
    "AES-192-CBC",  "AES-256-CBC",  "SM4-ECB",     "SM4-CBC",     "AES-256-GCM",
};
// CMAC runs on the CBC variant of its block cipher (OpenSSL requires a CBC cipher name).
constexpr std::array<const char*, kCmacCount> kCmacCipherNames = {
    "AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "DES-EDE3-CBC", "SM4-CBC",
};
constexpr std::array<const char*, kDigestCount> kDigestNames = {"SHA1", "SHA2-256", "SM3"};

// Fetched once per process (C++ guarantees thread-safe initialisation of function statics) and
// kept for the life of the process: fetched algorithms are immutable and safe to share.
struct FetchedAlgorithms {
  std::array<EVP_CIPHER*, kCipherCount> ciphers{};
  std::array<EVP_MD*, kDigestCount> digests{};
  EVP_MAC* cmac = nullptr;
  EVP_MAC* hmac = nullptr;

  FetchedAlgorithms() {
    for (std::size_t i = 0; i < kCipherCount; ++i) {
      ciphers[i] = EVP_CIPHER_fetch(nullptr, kCipherNames[i], nullptr);
    }
    for (std::size_t i = 0; i < kDigestCount; ++i) {
      digests[i] = EVP_MD_fetch(nullptr, kDigestNames[i], nullptr);
    }
    cmac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ERR_clear_error();  // a missing algorithm is reported when it is used
  }
  FetchedAlgorithms(const FetchedAlgorithms&) = delete;
  FetchedAlgorithms& operator=(const FetchedAlgorithms&) = delete;
  ~FetchedAlgorithms() {
    for (EVP_CIPHER* c : ciphers) EVP_CIPHER_free(c);
    for (EVP_MD* d : digests) EVP_MD_free(d);
    EVP_MAC_free(cmac);
    EVP_MAC_free(hmac);
  }
};

const FetchedAlgorithms& Fetched() {
  static const FetchedAlgorithms fetched;
  return fetched;
}

struct ThreadContexts {
  std::array<EvpCipherCtxPtr, kCipherCount> ciphers;
  std::array<EvpMacCtxPtr, kCmacCount> cmacs;
};

ThreadContexts& ThisThread() {
  thread_local ThreadContexts contexts;
  return contexts;
}

}  // namespace

const EVP_CIPHER* Cipher(CipherId id) { return Fetched().ciphers[static_cast<std::size_t>(id)]; }

const EVP_MD* Digest(DigestId id) { return Fetched().digests[static_cast<std::size_t>(id)]; }

const EVP_MAC* MacAlgorithm(std::string_view name) {
  if (name == "CMAC") return Fetched().cmac;
  if (name == "HMAC") return Fetched().hmac;
  return nullptr;
}

EVP_CIPHER_CTX* ThreadCipherContext(CipherId id) {
  EvpCipherCtxPtr& slot = ThisThread().ciphers[static_cast<std::size_t>(id)];
  if (slot) return slot.get();
  const EVP_CIPHER* cipher = Cipher(id);
  if (cipher == nullptr) return nullptr;
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, nullptr, nullptr, 1, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return nullptr;
  }
  slot = std::move(ctx);
  return slot.get();
}

EVP_MAC_CTX* ThreadCmacContext(CmacId id) {
  EvpMacCtxPtr& slot = ThisThread().cmacs[static_cast<std::size_t>(id)];
  if (slot) return slot.get();
  const EVP_MAC* mac = MacAlgorithm("CMAC");
  if (mac == nullptr) return nullptr;
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(mac)));  // OpenSSL API is not const-correct
  if (!ctx) return nullptr;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(
          OSSL_MAC_PARAM_CIPHER, const_cast<char*>(kCmacCipherNames[static_cast<std::size_t>(id)]),
          0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_CTX_set_params(ctx.get(), params) != 1) return nullptr;
  slot = std::move(ctx);
  return slot.get();
}

Status OpenSslError(std::string_view what) {
  unsigned long code = ERR_get_error();
  std::string message(what);
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    message += ": ";
    message += text.data();
  }
  ERR_clear_error();
  return CryptoFailure(std::move(message));
}

Status RunCipher(CipherId id, bool encrypt, ByteView key, ByteView iv, ByteView in,
                 std::span<std::uint8_t> out) {
  if (out.size() != in.size()) return Internal("cipher output buffer size differs from input");
  if (in.size() > kInputBytesMax) {
    return InvalidArgument("cipher input of " + std::to_string(in.size()) + " bytes exceeds " +
                           std::to_string(kInputBytesMax));
  }
  EVP_CIPHER_CTX* ctx = ThreadCipherContext(id);
  if (ctx == nullptr) {
    return OpenSslError(std::string("cipher ") + kCipherNames[static_cast<std::size_t>(id)] +
                        " is unavailable");
  }
  if (EVP_CipherInit_ex2(ctx, nullptr, key.data(), iv.empty() ? nullptr : iv.data(),
                         encrypt ? 1 : 0, nullptr) != 1) {
    return OpenSslError("cipher key setup failed");
  }
  int written = 0;
  if (!in.empty() &&
      (EVP_CipherUpdate(ctx, out.data(), &written, in.data(), static_cast<int>(in.size())) != 1 ||
       static_cast<std::size_t>(written) != in.size())) {
    return OpenSslError("cipher operation failed");
  }
  return Status::Ok();
}

Status RunCmac(CmacId id, ByteView key, ByteView data, std::span<std::uint8_t> out) {
  if (data.size() > kInputBytesMax) {
    return InvalidArgument("MAC input of " + std::to_string(data.size()) + " bytes exceeds " +
                           std::to_string(kInputBytesMax));
  }
  EVP_MAC_CTX* ctx = ThreadCmacContext(id);
  if (ctx == nullptr) return OpenSslError("CMAC is unavailable");
  if (EVP_MAC_init(ctx, key.data(), key.size(), nullptr) != 1) {
    return OpenSslError("CMAC key setup failed");
  }
  std::size_t written = 0;
  if (EVP_MAC_update(ctx, data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx, out.data(), &written, out.size()) != 1 || written != out.size()) {
    return OpenSslError("CMAC computation failed");
  }
  return Status::Ok();
}

Status RunDigest(DigestId id, ByteView data, std::span<std::uint8_t> out) {
  if (data.size() > kInputBytesMax) {
    return InvalidArgument("hash input of " + std::to_string(data.size()) + " bytes exceeds " +
                           std::to_string(kInputBytesMax));
  }
  const EVP_MD* md = Digest(id);
  if (md == nullptr) {
    return OpenSslError(std::string("digest ") + kDigestNames[static_cast<std::size_t>(id)] +
                        " is unavailable");
  }
  if (static_cast<std::size_t>(EVP_MD_get_size(md)) != out.size()) {
    return Internal("digest output buffer has the wrong size");
  }
  unsigned int written = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &written, md, nullptr) != 1) {
    return OpenSslError("digest failed");
  }
  return Status::Ok();
}

Result<SecretBytes> EncodePkcs8Der(EVP_PKEY* key) {
  OSSL_ENCODER_CTX* ectx = OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", nullptr);
  if (ectx == nullptr) return OpenSslError("PKCS#8 encoder setup failed");
  unsigned char* data = nullptr;
  std::size_t len = 0;
  const int ok = OSSL_ENCODER_to_data(ectx, &data, &len);
  OSSL_ENCODER_CTX_free(ectx);
  if (ok != 1 || data == nullptr) return OpenSslError("PKCS#8 encoding failed");
  SecretBytes out(ByteView(data, len));
  OPENSSL_clear_free(data, len);
  return out;
}

EvpPkeyPtr DecodePkcs8Der(ByteView der, const char* key_type) {
  EVP_PKEY* raw_key = nullptr;
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&raw_key, "DER", "PrivateKeyInfo", key_type,
                                                         EVP_PKEY_KEYPAIR, nullptr, nullptr);
  if (dctx == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  const unsigned char* p = der.data();
  std::size_t remaining = der.size();
  const int ok = OSSL_DECODER_from_data(dctx, &p, &remaining);
  OSSL_DECODER_CTX_free(dctx);
  EvpPkeyPtr key(raw_key);
  if (ok != 1 || !key || remaining != 0) {
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

}  // namespace tapstack::crypto::internal
