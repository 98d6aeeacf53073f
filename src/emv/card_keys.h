// The card keys a cryptogram profile uses: the application-cryptogram master key (MK-AC) derived
// from the issuer master key, and the per-transaction session key. TDES methods call
// crypto/emv_key_derivation.h; the AES Option C and SM4 methods, which crypto/ does not offer, are
// composed here from crypto/ block-cipher calls and are [uncertain] (see cryptogram_profile.h).
// Keys stay in crypto::SecretBytes; intermediate buffers are wiped. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "emv/cryptogram_profile.h"

namespace tapstack::emv {

// The card's MK-AC from `imk` per profile.master_key_derivation (kNone: a copy of `imk`).
// `pan`: 12-19 digits; `psn`: two digits or empty (meaning 00).
// Errors (kInvalidArgument): key length for the method, non-digit or wrong-length PAN/PSN.
Result<crypto::SecretBytes> DeriveCardMasterKey(const CryptogramProfile& profile,
                                                const crypto::SecretBytes& imk,
                                                std::string_view pan, std::string_view psn);

// The AC session key per profile.session_key_derivation (kNone: a copy of `mk`).
// `unpredictable_number` (4 bytes) is used by the Mastercard method only.
// Errors (kInvalidArgument): key length, UN length for the Mastercard method.
Result<crypto::SecretBytes> DeriveCardSessionKey(const CryptogramProfile& profile,
                                                 const crypto::SecretBytes& mk, std::uint16_t atc,
                                                 ByteView unpredictable_number);

}  // namespace tapstack::emv
