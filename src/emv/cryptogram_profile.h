// Cryptogram profiles: how one card application (one Cryptogram Version Number, CVN) computes its
// application cryptogram and its ARPC, as data rather than code paths (design notes
// shared/design/domain/emv-and-tokenization.md sections 10-12; knovichikhin/pyemv cvn.py and its
// published tests for the TDES CVNs).
//
// A profile says: the cipher; how the card master key (MK-AC) comes from the issuer master key;
// the session-key method; which data objects form the cryptogram input (a DOL, by default the
// Book 2 minimum set 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36) and which part of the Issuer
// Application Data (9F10) follows them; the ISO/IEC 9797-1 padding; the ARPC method and key; and
// how to recognise the profile from an IAD. ArqcEngine (arqc_engine.h) runs a profile.
//
// Profiles marked `uncertain` rest on a choice not confirmed against a primary source; `notes`
// says which. Immutable, thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/block_cipher.h"
#include "crypto/emv_cryptogram.h"
#include "crypto/mac.h"
#include "emv/dol.h"

namespace tapstack::emv {

enum class MasterKeyDerivation : std::uint8_t {
  kNone,        // the key handle given is already the card's MK-AC (e.g. a TSP's stored token key)
  kOptionA,     // Book 2 A1.4.1 (TDES)
  kOptionB,     // Book 2 A1.4.2 for PANs of 17-19 digits, Option A otherwise (TDES)
  kOptionCAes,  // [uncertain] AES: Y = PAN || PSN left-padded to 32 digits; AES(IMK)[Y] || [~Y]
  kSm4Pboc,     // [uncertain] SM4(IMK)[Y || ~Y] with Y as in Option A (PBOC 3.0 style)
};

enum class SessionKeyDerivation : std::uint8_t {
  kNone,           // the MK-AC is used directly (Visa CVN 10)
  kEmvCsk,         // EMV Common Session Key, R = ATC || 00.. (Book 2 A1.3.1)
  kMastercardSkd,  // M/Chip CVN 16/17: R = ATC || 00 00 || UN (TDES only)
};

enum class IadSelection : std::uint8_t {
  kNone,   // no IAD data in the cryptogram input
  kParts,  // the byte ranges in iad_parts, concatenated (CVR; CVR + counters)
  kFull,   // the whole 9F10 as received
};

struct IadPart {
  std::uint8_t offset = 0;
  std::uint8_t length = 0;  // 0 marks an unused slot
};

inline constexpr std::size_t kIadPartsMax = 2;

enum class ArpcMethod : std::uint8_t {
  kNone,     // not available for this profile (see notes)
  kMethod1,  // Book 2 8.2.1: DES3(K)[ARQC XOR (ARC || 00 x 6)]; tag 91 = ARPC(8) || ARC(2)
  kMethod2,  // Book 2 8.2.2: MAC over ARQC || CSU || prop. data; tag 91 = ARPC(4) || CSU || prop.
};

enum class ArpcKey : std::uint8_t { kMasterKey, kSessionKey };

// How to recognise a profile's IAD: IAD[cvn_offset] == cvn, the IAD length within
// [iad_bytes_min, iad_bytes_max], and IAD[0] == first_byte when first_byte >= 0.
struct IadSignature {
  bool enabled = false;
  std::int16_t first_byte = -1;
  std::uint8_t cvn_offset = 0;
  std::uint8_t cvn = 0;
  std::uint8_t iad_bytes_min = 0;
  std::uint8_t iad_bytes_max = 32;
};

struct CryptogramProfile {
  std::string_view name;         // "mc-cvn20"
  std::string_view description;  // one line
  bool uncertain = false;
  std::string_view notes;  // why uncertain, or the source
  crypto::BlockCipher cipher = crypto::BlockCipher::kTdes;
  MasterKeyDerivation master_key_derivation = MasterKeyDerivation::kOptionA;
  SessionKeyDerivation session_key_derivation = SessionKeyDerivation::kEmvCsk;
  std::span<const DolEntry> ac_data_dol;  // data objects before the IAD part
  IadSelection iad_selection = IadSelection::kFull;
  std::array<IadPart, kIadPartsMax> iad_parts{};
  crypto::MacPadding padding = crypto::MacPadding::kMethod2;
  crypto::Sm4CryptogramMac sm4_mac = crypto::Sm4CryptogramMac::kCbcMac;
  ArpcMethod arpc_method = ArpcMethod::kMethod1;
  ArpcKey arpc_key = ArpcKey::kSessionKey;
  IadSignature signature;
};

// The Book 2 minimum cryptogram data before the IAD part: 9F02 06, 9F03 06, 9F1A 02, 95 05,
// 5F2A 02, 9A 03, 9C 01, 9F37 04, 82 02, 9F36 02 (33 bytes).
std::span<const DolEntry> Book2AcDataDol();

// The built-in profiles, in detection order.
std::span<const CryptogramProfile> CryptogramProfiles();

// The built-in profile called `name` (e.g. "visa-cvn18"), or nullptr.
const CryptogramProfile* FindCryptogramProfile(std::string_view name);

// The first built-in profile whose IadSignature matches `iad`, or nullptr. Profiles without an
// enabled signature (SM4) are never detected: they must be configured.
const CryptogramProfile* DetectCryptogramProfile(ByteView iad);

// As DetectCryptogramProfile on hex (upper or lower case: pitfall 9 of the design notes).
// Errors: bad hex (kInvalidArgument), no profile matches (kNotFound).
Result<const CryptogramProfile*> DetectCryptogramProfileFromIadHex(std::string_view iad_hex);

// OK when a profile is internally consistent: key derivations match the cipher (Options A/B and
// Mastercard SKD are TDES only; Option C is AES; the SM4 method is SM4), IAD parts stay within
// 32 bytes, the cryptogram data DOL is not empty, ARPC methods are TDES only.
// Errors (kInvalidArgument) name the profile and the field.
Status ValidateCryptogramProfile(const CryptogramProfile& profile);

// Appends the profile's IAD part of `iad` to `out`. Errors (kInvalidArgument): IAD longer than
// 32 bytes, or too short for a part (the message names the offset and length needed).
Status AppendIadData(const CryptogramProfile& profile, ByteView iad, Bytes& out);

std::string_view MasterKeyDerivationName(MasterKeyDerivation method);
std::string_view SessionKeyDerivationName(SessionKeyDerivation method);
std::string_view ArpcMethodName(ArpcMethod method);

}  // namespace tapstack::emv
