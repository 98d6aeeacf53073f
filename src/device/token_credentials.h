// TokenCredentials: what the TSP provisions into one payment applet, and its byte encoding (the
// plaintext that crypto/device_key_wrap.h wraps for one secure element).
//
// Two key modes (design notes section 8):
//   kMasterKey   secure-element style: the token's ICC master key MK-AC (16-byte TDES), from
//                which the applet derives a session key per ATC (the profile's method);
//   kLimitedUse  HCE style: no master key; a batch of single-use AC session keys, each bound to
//                the ATC it must be used with. Replenishment sends another batch.
//
// Encoding: BER-TLV with private tags (Book 3 Annex B; context-specific class DFxx/FFxx):
//   DF01 token id (ans)        DF02 token number (n digits as ASCII)   DF03 expiry YYMM (ASCII)
//   DF04 PSN (2 ASCII digits)  DF05 profile name (ASCII)               DF06 key mode (01 | 02)
//   DF07 ICC MK-AC (16)        FF20 { DF21 ATC (2), DF22 session key (16) }, one per key
// A replenishment batch carries DF01, DF06 = 02 and FF20 entries only.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::device {

enum class KeyMode : std::uint8_t { kMasterKey = 1, kLimitedUse = 2 };

// Most single-use keys one batch may carry.
inline constexpr std::size_t kLimitedUseKeysPerBatchMax = 64;
inline constexpr std::size_t kTokenIdBytesMax = 64;
inline constexpr std::size_t kCardKeyBytes = 16;  // two-key TDES (the supported profile)

struct LimitedUseKey {
  std::uint16_t atc = 0;            // the ATC this key is bound to (> 0)
  crypto::SecretBytes session_key;  // the AC session key for that ATC
};

struct TokenCredentials {
  std::string token_id;      // TSP reference, 1-64 printable ASCII characters
  std::string token_number;  // the payment token, 13-19 digits (never a PAN)
  std::string expiry_yymm;   // token expiry
  std::string psn = "00";    // PAN sequence number (5F34)
  std::string profile_name;  // emv/cryptogram_profile.h name, e.g. "mc-cvn20"
  KeyMode mode = KeyMode::kMasterKey;
  crypto::SecretBytes icc_master_key;           // kMasterKey only
  std::vector<LimitedUseKey> limited_use_keys;  // kLimitedUse only
};

// Checks a full provisioning (all fields) or, with `replenishment`, a key batch (token id, mode
// kLimitedUse, 1..kLimitedUseKeysPerBatchMax keys with distinct ATCs > 0, each 16 bytes).
// Errors (kInvalidArgument) name the field.
Status CheckTokenCredentials(const TokenCredentials& credentials, bool replenishment = false);

// Encodes after CheckTokenCredentials(credentials, replenishment).
Result<crypto::SecretBytes> EncodeTokenCredentials(const TokenCredentials& credentials,
                                                   bool replenishment = false);

// Decodes and checks. Errors (kInvalidArgument): malformed TLV, unknown or repeated fields, and
// CheckTokenCredentials failures. Key bytes go straight into SecretBytes.
Result<TokenCredentials> DecodeTokenCredentials(ByteView encoded, bool replenishment = false);

}  // namespace tapstack::device
