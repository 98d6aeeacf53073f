#include "dcep_wire/scheme.h"

#include <string>

namespace tapstack::dcep_wire {

std::uint8_t SchemeByte(crypto::SignatureScheme scheme) {
  switch (scheme) {
    case crypto::SignatureScheme::kSm2Sm3:
      return static_cast<std::uint8_t>(SchemeId::kSm2Sm3);
    case crypto::SignatureScheme::kEcdsaP256Sha256:
      return static_cast<std::uint8_t>(SchemeId::kEcdsaP256Sha256);
    case crypto::SignatureScheme::kEd25519:
      return static_cast<std::uint8_t>(SchemeId::kEd25519);
  }
  return static_cast<std::uint8_t>(SchemeId::kSm2Sm3);
}

Result<crypto::SignatureScheme> SchemeFromByte(std::uint8_t byte) {
  switch (static_cast<SchemeId>(byte)) {
    case SchemeId::kSm2Sm3:
      return crypto::SignatureScheme::kSm2Sm3;
    case SchemeId::kEcdsaP256Sha256:
      return crypto::SignatureScheme::kEcdsaP256Sha256;
    case SchemeId::kEd25519:
      return crypto::SignatureScheme::kEd25519;
  }
  return InvalidArgument("signature scheme: expected 00 (SM2-SM3), 01 (ECDSA-P256-SHA256) or 02"
                         " (Ed25519), got " + std::to_string(byte));
}

std::size_t RawPublicKeyBytes(crypto::SignatureScheme scheme) {
  return scheme == crypto::SignatureScheme::kEd25519 ? crypto::kEd25519PublicKeyBytes
                                                     : crypto::kEcRawPublicKeyBytes;
}

}  // namespace tapstack::dcep_wire
