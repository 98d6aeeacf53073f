#include "crypto/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <string>

#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, ByteView salt, ByteView info,
                               std::size_t length) {
  if (ikm.empty()) return InvalidArgument("hkdf: input key material is empty");
  if (length == 0 || length > kHkdfSha256OutputBytesMax) {
    return InvalidArgument("hkdf: output length must be 1-" +
                           std::to_string(kHkdfSha256OutputBytesMax) + " bytes");
  }
  if (ikm.size() > kHkdfInputBytesMax || salt.size() > kHkdfInputBytesMax ||
      info.size() > kHkdfInputBytesMax) {
    return InvalidArgument("hkdf: an input is above " + std::to_string(kHkdfInputBytesMax) +
                           " bytes");
  }
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return internal::OpenSslError("hkdf: fetch");
  internal::EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  EVP_KDF_free(kdf);
  if (!ctx) return internal::OpenSslError("hkdf: context");
  // OSSL_PARAM wants mutable pointers; OpenSSL only reads them.
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.reveal().data()), ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out = SecretBytes::Zeroed(length);
  if (EVP_KDF_derive(ctx.get(), out.mutable_bytes().data(), length, params) != 1) {
    return internal::OpenSslError("hkdf: derive");
  }
  return out;
}

}  // namespace tapstack::crypto
