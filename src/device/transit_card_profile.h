// TransitCardProfile: what a city transit operator personalises into one transit purse applet
// (device/transit_applet.h), and its byte encoding, the plaintext that crypto/device_key_wrap.h
// wraps for one secure element (WrapForDevice(device pk, device id, card_id, plaintext)).
//
// Encoding: BER-TLV with private tags, like token_credentials.h; every tag exactly once:
//   DF41 card id (ASCII)        DF42 issuer id (8)           DF43 serial number (10, BCD)
//   DF44 start date (4, BCD)    DF45 expiry date (4, BCD)    DF46 province code (2, BCD)
//   DF47 city code (2, BCD)     DF48 card type (1)           DF49 algorithm id (1, PurseAlgorithmId)
//   DF4A key version (1)        DF4B DPK purchase (16)       DF4C DLK load (16)
//   DF4D DTK TAC (16)           DF4E maintenance key (16)    DF4F opening balance fen (4)
//   DF50 balance cap fen (4)
// Keys are the card's own, already diversified (transit-purse.md section 3). Integers big-endian.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "crypto/secret_bytes.h"

namespace tapstack::device {

inline constexpr std::size_t kTransitCardIdBytesMax = 64;
inline constexpr std::size_t kTransitIssuerIdBytes = 8;   // SFI 15 offset 0
inline constexpr std::size_t kTransitSerialBytes = 10;    // SFI 15 offset 10, 20 BCD digits
inline constexpr std::uint32_t kTransitBalanceCapFenDefault = 100000;  // 1000 CNY

struct TransitCardProfile {
  std::string card_id;              // wallet id of this card instance; also the wrap "token id"
  Bytes issuer_id;                  // 8 bytes (SFI 15)
  Bytes serial;                     // 10 bytes application serial number (BCD, 20 digits)
  std::uint32_t start_date = 0;     // YYYYMMDD as a decimal number, e.g. 20261122
  std::uint32_t expiry_date = 0;    // YYYYMMDD
  std::uint16_t province_code = 0;  // 4 BCD digits as a number, e.g. 0x1100
  std::uint16_t city_code = 0;      // 4 BCD digits as a number, e.g. 0x1000 (Beijing)
  std::uint8_t card_type = 0;
  crypto::PurseAlgorithm algorithm = crypto::PurseAlgorithm::kTdes;
  std::uint8_t key_version = 1;
  crypto::SecretBytes purchase_key, load_key, tac_key, maintenance_key;  // diversified, 16 bytes each
  std::uint32_t balance_fen = 0;                                // opening balance (card migration)
  std::uint32_t balance_cap_fen = kTransitBalanceCapFenDefault;  // a load above it gets 6985
};

// Checks every field: card id 1-64 printable ASCII; issuer id 8 bytes; serial 10 bytes of BCD
// digits; start and expiry real calendar dates YYYYMMDD with start <= expiry; province and city
// codes 4 BCD digits; algorithm kTdes or kSm4; four 16-byte keys; balance_cap_fen > 0 and
// balance_fen <= balance_cap_fen. Errors (kInvalidArgument) name the field.
Status CheckTransitCardProfile(const TransitCardProfile& profile);

// A deliberate copy (the keys are SecretBytes, which do not copy implicitly).
TransitCardProfile CloneTransitCardProfile(const TransitCardProfile& profile);

// Encodes the fields as they are, without checking them (the operator checks with
// CheckTransitCardProfile first; the device's DecodeTransitCardProfile refuses a bad profile).
// Returns an empty buffer only when a field is too large for a TLV length (far above any limit).
crypto::SecretBytes EncodeTransitCardProfile(const TransitCardProfile& profile);

// Decodes and checks. Errors (kInvalidArgument): malformed TLV, an unknown, repeated or missing
// tag, a field of the wrong size (naming the field and the size expected), an unknown algorithm
// id, and CheckTransitCardProfile failures. Key bytes go straight into SecretBytes.
Result<TransitCardProfile> DecodeTransitCardProfile(ByteView plaintext);

// The BCD form of a YYYYMMDD number (4 bytes, e.g. 20261122 -> 20 26 11 22) and back. The decode
// fails (kInvalidArgument) on a non-BCD nibble.
Bytes TransitDateBcd(std::uint32_t yyyymmdd);
Result<std::uint32_t> TransitDateFromBcd(ByteView bcd);

}  // namespace tapstack::device
