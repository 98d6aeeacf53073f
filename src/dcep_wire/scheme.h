// SchemeId: the one-byte signature-scheme identifier of the digital-currency wire formats
// (docs/dcep-offline.md): 00 SM2 with SM3 (the default), 01 ECDSA P-256 with SHA-256, 02 Ed25519.
// Every signature on these formats is crypto::Sign(key, body, SignatureEncoding::kRaw): 64 bytes.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "crypto/signature.h"

namespace tapstack::dcep_wire {

enum class SchemeId : std::uint8_t {
  kSm2Sm3 = 0x00,
  kEcdsaP256Sha256 = 0x01,
  kEd25519 = 0x02,
};

inline constexpr crypto::SignatureScheme kDefaultScheme = crypto::SignatureScheme::kSm2Sm3;

// The wire byte of `scheme`.
std::uint8_t SchemeByte(crypto::SignatureScheme scheme);

// The scheme a wire byte names. Errors (kInvalidArgument): a byte other than 00, 01, 02.
Result<crypto::SignatureScheme> SchemeFromByte(std::uint8_t byte);

// The raw public key length of `scheme`: 65 (04 || X || Y) for SM2 and P-256, 32 for Ed25519.
std::size_t RawPublicKeyBytes(crypto::SignatureScheme scheme);

}  // namespace tapstack::dcep_wire
