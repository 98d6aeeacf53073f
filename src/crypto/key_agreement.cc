#include "crypto/key_agreement.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>

#include <array>
#include <string>
#include <string_view>

#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace {

using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) { return {key, internal::EvpPkeyFree()}; }

bool IsP256(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  std::array<char, 64> group{};
  std::size_t group_len = 0;
  if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &group_len) != 1) return false;
  const std::string_view name(group.data(), group_len);
  return name == "prime256v1" || name == "P-256";
}

// Imports 04 || X || Y as a P-256 public key; OpenSSL's fromdata checks the point is on the curve.
Result<EvpPkeyPtr> ImportPublic(ByteView raw) {
  if (raw.size() != kEcdhP256PublicKeyBytes || raw[0] != 0x04) {
    return InvalidArgument("P-256 public key must be 65 bytes 04 || X || Y; got " +
                           std::to_string(raw.size()) + " bytes");
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  char group[] = "prime256v1";  // OSSL_PARAM wants a mutable buffer; OpenSSL only reads it
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<std::uint8_t*>(raw.data()), raw.size()),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1 || key == nullptr) {
    ERR_clear_error();
    return InvalidArgument("public key is not a point on the P-256 curve");
  }
  EvpPkeyPtr owned(key);
  // fromdata does not always validate the point; the public check does (SP 800-56A 5.6.2.3.3).
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, owned.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("public key is not a point on the P-256 curve");
  }
  return owned;
}

}  // namespace

Status CheckEcdhP256PublicKey(ByteView raw) { return ImportPublic(raw).status(); }

Result<EcdhPrivateKey> EcdhPrivateKey::Generate() {
  char curve[] = "P-256";
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  if (key == nullptr) return internal::OpenSslError("ECDH P-256 key generation failed");
  return EcdhPrivateKey(Share(key));
}

Result<EcdhPrivateKey> EcdhPrivateKey::FromPkcs8Der(ByteView der) {
  if (der.empty() || der.size() > 4096) {
    return InvalidArgument("PKCS#8 key must be 1-4096 bytes");
  }
  EvpPkeyPtr key = internal::DecodePkcs8Der(der, "EC");
  if (!key || !IsP256(key.get())) {
    return InvalidArgument("not an unencrypted DER PKCS#8 P-256 private key");
  }
  return EcdhPrivateKey(Share(key.release()));
}

Result<SecretBytes> EcdhPrivateKey::ToPkcs8Der() const {
  return internal::EncodePkcs8Der(key_.get());
}

Result<Bytes> EcdhPrivateKey::PublicKeyRaw() const {
  Bytes raw(kEcdhP256PublicKeyBytes);
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw.data(),
                                      raw.size(), &len) != 1 ||
      len != raw.size() || raw[0] != 0x04) {
    return internal::OpenSslError("P-256 public key export failed");
  }
  return raw;
}

Result<SecretBytes> EcdhPrivateKey::DeriveSharedSecret(ByteView peer_public_raw) const {
  TS_ASSIGN_OR_RETURN(EvpPkeyPtr peer, ImportPublic(peer_public_raw));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    return internal::OpenSslError("ECDH setup failed");
  }
  std::size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1 || len != kEcdhP256SharedSecretBytes) {
    return internal::OpenSslError("ECDH size query failed");
  }
  SecretBytes secret = SecretBytes::Zeroed(len);
  if (EVP_PKEY_derive(ctx.get(), secret.mutable_bytes().data(), &len) != 1 ||
      len != kEcdhP256SharedSecretBytes) {
    return internal::OpenSslError("ECDH derive failed");
  }
  return secret;
}

}  // namespace tapstack::crypto
