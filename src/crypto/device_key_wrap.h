// Key material for one secure element only: an ECIES-style wrap (SEC 1 v2 section 5.1 shape, with
// HKDF and AES-GCM as in RFC 9180's base mode) from the TSP to a device's P-256 key.
//
//   TSP:    e = fresh P-256 key; Z = ECDH(e, device public key)
//           key || nonce = HKDF-SHA-256(ikm = Z, salt = E || D, info = kDeviceKeyWrapInfo, 44)
//           blob = 01 || E (65) || AES-256-GCM(key, nonce, plaintext, AD) (ciphertext || tag)
//   Device: the same Z from its private key and E, then GCM open with the same AD.
//
// E and D are the ephemeral and the device public keys (04 || X || Y). The AD binds the device id
// and the token id: "tapstack-kw1" || len || device id || len || token id (lengths one byte), so a
// blob made for device A, or for another token, never opens on device B or for another token.
// The key and nonce are used once (a fresh ephemeral key per blob), so the derived nonce is safe.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/key_agreement.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

inline constexpr std::uint8_t kDeviceKeyWrapVersion = 0x01;
inline constexpr std::string_view kDeviceKeyWrapInfo = "tapstack device key wrap v1";
inline constexpr std::size_t kWrapIdBytesMax = 64;               // device id, token id
inline constexpr std::size_t kWrappedPlaintextBytesMax = 16384;  // one token's keys (HCE batch)
inline constexpr std::size_t kDeviceKeyWrapOverheadBytes = 1 + 65 + 16;

// The TSP side. Errors (kInvalidArgument): the device key is not a P-256 point, an id empty or
// above kWrapIdBytesMax, plaintext empty or above kWrappedPlaintextBytesMax; kCryptoFailure.
Result<Bytes> WrapForDevice(ByteView device_public_key, std::string_view device_id,
                            std::string_view token_id, const SecretBytes& plaintext_keys);

// The device side, run inside the secure element. Errors: kInvalidArgument for a blob of the
// wrong version or size, or a bad ephemeral point; kCryptoFailure when the blob was made for
// another device or token, or was changed in any byte.
Result<SecretBytes> UnwrapOnDevice(const EcdhPrivateKey& device_key, std::string_view device_id,
                                   std::string_view token_id, ByteView blob);

}  // namespace tapstack::crypto
