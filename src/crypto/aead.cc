#include "crypto/aead.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <string>

#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace {

Status CheckInputs(const SecretBytes& key, ByteView nonce, std::size_t text_bytes,
                   ByteView associated_data) {
  if (key.size() != kAes256GcmKeyBytes) {
    return InvalidArgument("AES-256-GCM key must be 32 bytes; got " + std::to_string(key.size()));
  }
  if (nonce.size() != kGcmNonceBytes) {
    return InvalidArgument("GCM nonce must be 12 bytes; got " + std::to_string(nonce.size()));
  }
  if (text_bytes > kAeadPlaintextBytesMax) {
    return InvalidArgument("AEAD input of " + std::to_string(text_bytes) + " bytes exceeds " +
                           std::to_string(kAeadPlaintextBytesMax));
  }
  if (associated_data.size() > kAeadAssociatedDataBytesMax) {
    return InvalidArgument("associated data of " + std::to_string(associated_data.size()) +
                           " bytes exceeds " + std::to_string(kAeadAssociatedDataBytesMax));
  }
  return Status::Ok();
}

// A fresh context per call: GCM state is per message and these calls are not on a hot path.
Result<internal::EvpCipherCtxPtr> NewGcmContext(const SecretBytes& key, ByteView nonce,
                                                bool encrypt) {
  const EVP_CIPHER* gcm = internal::Cipher(internal::CipherId::kAes256Gcm);
  if (gcm == nullptr) return internal::OpenSslError("AES-256-GCM is unavailable");
  internal::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::size_t nonce_bytes = kGcmNonceBytes;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &nonce_bytes),
      OSSL_PARAM_construct_end(),
  };
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), gcm, key.reveal().data(), nonce.data(), encrypt ? 1 : 0,
                                 params) != 1) {
    return internal::OpenSslError("AES-256-GCM setup failed");
  }
  return ctx;
}

Status AddAssociatedData(EVP_CIPHER_CTX* ctx, ByteView associated_data) {
  int unused = 0;
  if (!associated_data.empty() && EVP_CipherUpdate(ctx, nullptr, &unused, associated_data.data(),
                                                   static_cast<int>(associated_data.size())) != 1) {
    return internal::OpenSslError("AES-256-GCM associated data failed");
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> AesGcmSeal(const SecretBytes& key, ByteView nonce, ByteView plaintext,
                         ByteView associated_data) {
  TS_RETURN_IF_ERROR(CheckInputs(key, nonce, plaintext.size(), associated_data));
  TS_ASSIGN_OR_RETURN(internal::EvpCipherCtxPtr ctx, NewGcmContext(key, nonce, true));
  TS_RETURN_IF_ERROR(AddAssociatedData(ctx.get(), associated_data));
  Bytes sealed(plaintext.size() + kGcmTagBytes);
  int written = 0;
  if (!plaintext.empty() && (EVP_EncryptUpdate(ctx.get(), sealed.data(), &written, plaintext.data(),
                                               static_cast<int>(plaintext.size())) != 1 ||
                             static_cast<std::size_t>(written) != plaintext.size())) {
    return internal::OpenSslError("AES-256-GCM encryption failed");
  }
  int final_bytes = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), sealed.data() + plaintext.size(), &final_bytes) != 1 ||
      final_bytes != 0) {
    return internal::OpenSslError("AES-256-GCM finalisation failed");
  }
  OSSL_PARAM get_tag[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                        sealed.data() + plaintext.size(), kGcmTagBytes),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_get_params(ctx.get(), get_tag) != 1) {
    return internal::OpenSslError("AES-256-GCM tag retrieval failed");
  }
  return sealed;
}

Result<Bytes> AesGcmOpen(const SecretBytes& key, ByteView nonce, ByteView sealed,
                         ByteView associated_data) {
  if (sealed.size() < kGcmTagBytes) {
    return InvalidArgument("sealed data of " + std::to_string(sealed.size()) +
                           " bytes is shorter than the 16-byte tag");
  }
  const std::size_t text_bytes = sealed.size() - kGcmTagBytes;
  TS_RETURN_IF_ERROR(CheckInputs(key, nonce, text_bytes, associated_data));
  TS_ASSIGN_OR_RETURN(internal::EvpCipherCtxPtr ctx, NewGcmContext(key, nonce, false));
  TS_RETURN_IF_ERROR(AddAssociatedData(ctx.get(), associated_data));
  Bytes plaintext(text_bytes);
  int written = 0;
  if (text_bytes != 0 && (EVP_DecryptUpdate(ctx.get(), plaintext.data(), &written, sealed.data(),
                                            static_cast<int>(text_bytes)) != 1 ||
                          static_cast<std::size_t>(written) != text_bytes)) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return internal::OpenSslError("AES-256-GCM decryption failed");
  }
  // OpenSSL copies the expected tag; the const_cast only satisfies OSSL_PARAM's signature.
  OSSL_PARAM set_tag[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                        const_cast<std::uint8_t*>(sealed.data() + text_bytes),
                                        kGcmTagBytes),
      OSSL_PARAM_construct_end(),
  };
  int final_bytes = 0;
  if (EVP_CIPHER_CTX_set_params(ctx.get(), set_tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + text_bytes, &final_bytes) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    ERR_clear_error();
    return CryptoFailure(
        "AES-256-GCM tag does not verify (data, associated data, key or nonce "
        "differ from what was sealed)");
  }
  return plaintext;
}

}  // namespace tapstack::crypto
