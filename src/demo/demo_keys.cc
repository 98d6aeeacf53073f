#include "demo/demo_keys.h"

#include "core/hex.h"
#include "crypto/card_verification.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "crypto/purse_crypto.h"

namespace tapstack::demo {

namespace {

// HMAC-SHA-256(SHA-256(master), institution_id), keeping the first `bytes` bytes.
crypto::SecretBytes DeriveDemoKey(std::string_view master, std::string_view institution_id,
                                  std::size_t bytes) {
  auto master_digest = crypto::Sha256(AsBytes(master));
  if (!master_digest.ok()) return {};
  const crypto::SecretBytes master_key(std::move(*master_digest));
  auto key = crypto::HmacSha256(master_key, AsBytes(institution_id));
  if (!key.ok()) return {};
  if (bytes < key->size()) {
    SecureWipe(key->data() + bytes, key->size() - bytes);  // the unused tail is key material too
    key->resize(bytes);
  }
  return crypto::SecretBytes(std::move(*key));
}

}  // namespace

crypto::SecretBytes DemoPanFingerprintKey(std::string_view institution_id) {
  return DeriveDemoKey(kDemoPanFingerprintMaster, institution_id, crypto::kHmacSha256Bytes);
}

crypto::SecretBytes DemoCardVerificationKey(std::string_view institution_id) {
  return DeriveDemoKey(kDemoCardVerificationMaster, institution_id,
                       crypto::kCardVerificationKeyBytes);
}

crypto::SecretBytes DemoTspKey(std::string_view purpose) {
  return DeriveDemoKey(kDemoTspMaster, purpose, crypto::kHmacSha256Bytes);
}

crypto::SecretBytes DemoTransitKey(std::string_view scope, std::string_view purpose) {
  return DeriveDemoKey(kDemoTransitMaster, std::string(scope) + "/" + std::string(purpose),
                       crypto::kPurseKeyBytes);
}

crypto::SecretBytes DemoQrKey(std::string_view platform_id) {
  return DeriveDemoKey(kDemoQrMaster, platform_id, crypto::kHmacSha256Bytes);
}

crypto::SecretBytes DemoTokenImk() {
  auto key = HexDecode(kDemoTokenImkHex);
  return key.ok() ? crypto::SecretBytes(std::move(*key)) : crypto::SecretBytes();
}

Result<std::string> DemoCardCvv2(std::string_view institution_id, std::string_view pan,
                                 std::string_view expiry_yymm) {
  return crypto::GenerateCardVerificationValue(DemoCardVerificationKey(institution_id), pan,
                                               expiry_yymm, crypto::cvv_service_code::kCvv2);
}

}  // namespace tapstack::demo
