// Card personalisation: the operator's side of issuing a transit card into a phone's secure
// element (shared/design/domain/transit-purse.md section 3). The card's own keys are diversified
// from the master keys with the last 8 bytes of its serial number, packed into a
// device::TransitCardProfile and wrapped for that one secure element (crypto/device_key_wrap.h),
// so only that device can install it and nothing on the way can read the keys.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "transit/city_network.h"
#include "transit/purse_commands.h"

namespace tapstack::transit {

// The purse master keys (16 bytes each). purchase and maintenance are the national T-Union keys
// every PSAM holds; load and tac belong to the card's issuing city (its load server and clearing).
struct TransitMasterKeys {
  crypto::SecretBytes purchase;
  crypto::SecretBytes maintenance;
  crypto::SecretBytes load;
  crypto::SecretBytes tac;
};

struct CardIssue {
  std::string card_id;               // the wallet's id of this card instance (the wrap "token id")
  Serial serial{};                   // 20 BCD digits
  std::uint32_t start_date = 0;      // YYYYMMDD
  std::uint32_t expiry_date = 0;     // YYYYMMDD
  std::uint32_t balance_fen = 0;     // opening balance: non-zero only when a card migrates
};

// The card's key for `master` (one of the four above). Errors: as crypto::DiversifyPurseKey.
Result<crypto::SecretBytes> CardKey(const CityNetwork& city, const crypto::SecretBytes& master,
                                    const Serial& serial);

// The wrapped personalisation blob for SecureElement::InstallTransitCard(card_id, blob).
// Errors (kInvalidArgument): a bad profile (names the field), a device key that is not a P-256
// point, ids out of range; kCryptoFailure if OpenSSL fails.
Result<Bytes> PersonaliseTransitCard(const CityNetwork& city, const TransitMasterKeys& keys,
                                     const CardIssue& issue, ByteView device_public_key,
                                     std::string_view device_id);

// "1000" -> 0x1000: a 4-digit code as the BCD number the card stores. Errors (kInvalidArgument).
Result<std::uint16_t> BcdCode(std::string_view four_digits);

}  // namespace tapstack::transit
