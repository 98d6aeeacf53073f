#include "crypto/device_key_wrap.h"

#include <string>

#include "crypto/aead.h"
#include "crypto/hkdf.h"

namespace tapstack::crypto {

namespace {

constexpr std::string_view kAdLabel = "tapstack-kw1";
constexpr std::size_t kHeaderBytes = 1 + kEcdhP256PublicKeyBytes;

Status CheckId(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > kWrapIdBytesMax) {
    return InvalidArgument(std::string(what) + " must be 1-" + std::to_string(kWrapIdBytesMax) +
                           " bytes");
  }
  return Status::Ok();
}

Result<Bytes> AssociatedData(std::string_view device_id, std::string_view token_id) {
  TS_RETURN_IF_ERROR(CheckId("device id", device_id));
  TS_RETURN_IF_ERROR(CheckId("token id", token_id));
  Bytes ad(kAdLabel.begin(), kAdLabel.end());
  ad.push_back(static_cast<std::uint8_t>(device_id.size()));
  ad.insert(ad.end(), device_id.begin(), device_id.end());
  ad.push_back(static_cast<std::uint8_t>(token_id.size()));
  ad.insert(ad.end(), token_id.begin(), token_id.end());
  return ad;
}

struct KeyAndNonce {
  SecretBytes key;
  Bytes nonce;
};

Result<KeyAndNonce> DeriveKeyAndNonce(const SecretBytes& shared, ByteView ephemeral_public,
                                      ByteView device_public) {
  const Bytes salt = Concat({ephemeral_public, device_public});
  TS_ASSIGN_OR_RETURN(SecretBytes okm, HkdfSha256(shared, salt, AsBytes(kDeviceKeyWrapInfo),
                                                  kAes256GcmKeyBytes + kGcmNonceBytes));
  KeyAndNonce out;
  out.key = SecretBytes(okm.reveal().first(kAes256GcmKeyBytes));
  const ByteView nonce = okm.reveal().subspan(kAes256GcmKeyBytes);
  out.nonce.assign(nonce.begin(), nonce.end());
  return out;
}

}  // namespace

Result<Bytes> WrapForDevice(ByteView device_public_key, std::string_view device_id,
                            std::string_view token_id, const SecretBytes& plaintext_keys) {
  TS_ASSIGN_OR_RETURN(const Bytes ad, AssociatedData(device_id, token_id));
  if (plaintext_keys.empty() || plaintext_keys.size() > kWrappedPlaintextBytesMax) {
    return InvalidArgument("key wrap: plaintext must be 1-" +
                           std::to_string(kWrappedPlaintextBytesMax) + " bytes");
  }
  TS_RETURN_IF_ERROR(CheckEcdhP256PublicKey(device_public_key).WithContext("device public key"));
  TS_ASSIGN_OR_RETURN(const EcdhPrivateKey ephemeral, EcdhPrivateKey::Generate());
  TS_ASSIGN_OR_RETURN(const Bytes ephemeral_public, ephemeral.PublicKeyRaw());
  TS_ASSIGN_OR_RETURN(const SecretBytes shared, ephemeral.DeriveSharedSecret(device_public_key));
  TS_ASSIGN_OR_RETURN(const KeyAndNonce kn,
                      DeriveKeyAndNonce(shared, ephemeral_public, device_public_key));
  TS_ASSIGN_OR_RETURN(const Bytes sealed,
                      AesGcmSeal(kn.key, kn.nonce, plaintext_keys.reveal(), ad));
  Bytes blob;
  blob.reserve(kHeaderBytes + sealed.size());
  blob.push_back(kDeviceKeyWrapVersion);
  blob.insert(blob.end(), ephemeral_public.begin(), ephemeral_public.end());
  blob.insert(blob.end(), sealed.begin(), sealed.end());
  return blob;
}

Result<SecretBytes> UnwrapOnDevice(const EcdhPrivateKey& device_key, std::string_view device_id,
                                   std::string_view token_id, ByteView blob) {
  TS_ASSIGN_OR_RETURN(const Bytes ad, AssociatedData(device_id, token_id));
  if (blob.size() <= kDeviceKeyWrapOverheadBytes ||
      blob.size() > kDeviceKeyWrapOverheadBytes + kWrappedPlaintextBytesMax) {
    return InvalidArgument("key wrap: blob of " + std::to_string(blob.size()) +
                           " bytes is outside the possible sizes");
  }
  if (blob[0] != kDeviceKeyWrapVersion) {
    return InvalidArgument("key wrap: unknown version " + std::to_string(blob[0]));
  }
  const ByteView ephemeral_public = blob.subspan(1, kEcdhP256PublicKeyBytes);
  TS_ASSIGN_OR_RETURN(const Bytes device_public, device_key.PublicKeyRaw());
  TS_ASSIGN_OR_RETURN(const SecretBytes shared, device_key.DeriveSharedSecret(ephemeral_public));
  TS_ASSIGN_OR_RETURN(const KeyAndNonce kn,
                      DeriveKeyAndNonce(shared, ephemeral_public, device_public));
  Result<Bytes> plain = AesGcmOpen(kn.key, kn.nonce, blob.subspan(kHeaderBytes), ad);
  if (!plain.ok()) {
    if (plain.status().code() == ErrorCode::kCryptoFailure) {
      return CryptoFailure("key wrap: blob was not made for this device and token, or changed");
    }
    return plain.status();
  }
  return SecretBytes(std::move(plain).value());
}

}  // namespace tapstack::crypto
