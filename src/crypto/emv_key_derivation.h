// EMV key derivation (EMV 4.x Book 2 Annex A1.3-A1.4, as described in
// shared/design/domain/emv-and-tokenization.md section 10):
//   - ICC master key from an issuer master key: Option A and Option B (TDES);
//   - EMV Common Session Key (CSK) for TDES and AES (and SM4 by analogy);
//   - Mastercard session key (M/Chip CVN 16/17 SKD);
//   - Visa secure-messaging session key.
//
// Notation: DES3(K)[X] = TDES-ECB of one block; ~Y = Y XOR all ones. Every derived TDES key has
// odd parity forced on each byte (published KCVs assume it). Derived keys are returned as
// SecretBytes. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/block_cipher.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

inline constexpr std::size_t kIccMasterKeyBytes = 16;  // a two-key TDES key
inline constexpr std::size_t kPsnDigits = 2;
inline constexpr std::size_t kMkdPanDigitsMin = 12;
inline constexpr std::size_t kMkdPanDigitsMax = 19;
// Option B applies only to PANs longer than 16 digits (Book 2 A1.4.2).
inline constexpr std::size_t kOptionBPanDigitsMin = 17;
inline constexpr std::size_t kUnpredictableNumberBytes = 4;

// Sets the low bit of every byte so that each byte has an odd number of one bits (DES parity).
void SetOddParity(std::span<std::uint8_t> key);
// True when every byte has odd parity.
bool HasOddParity(ByteView key);

// Option A (Book 2 A1.4.1): X = PAN digits || PSN digits; fewer than 16 digits are left-padded
// with 0, otherwise the rightmost 16 are kept; Y = X as 8 BCD bytes;
// MK = parity(DES3(IMK)[Y] || DES3(IMK)[~Y]). Works for any PAN length (it is the rule for PANs of
// up to 16 digits and an allowed choice for longer ones).
// `imk`: a TDES key (16 or 24 bytes). `pan`: 12-19 digits; the Luhn digit is not checked (test
// PANs often fail it). `psn`: two digits, or empty meaning "00" (PSN absent).
// Errors (kInvalidArgument): key length, non-digit or wrong-length PAN/PSN.
Result<SecretBytes> DeriveIccMasterKeyOptionA(const SecretBytes& imk, std::string_view pan,
                                              std::string_view psn);

// Option B (Book 2 A1.4.2) for PANs of 17-19 digits: X = PAN || PSN, left-padded with one 0 to an
// even digit count, packed BCD; H = SHA-1(X) as 40 hex digits; Y = the first 16 decimal digits of H
// in order, topped up if needed by scanning H again and mapping a..f to 0..5; then MK as Option A
// with Y in place of PAN || PSN. PANs of 16 digits or fewer use Option A, as the standard
// prescribes, so this call is correct for every PAN length. Errors as Option A.
Result<SecretBytes> DeriveIccMasterKeyOptionB(const SecretBytes& imk, std::string_view pan,
                                              std::string_view psn);

// The diversification value R = ATC || zeros of `block_bytes` bytes (8 for TDES, 16 for AES/SM4),
// used for application cryptogram session keys.
Bytes AtcDiversifier(std::uint16_t atc, std::size_t block_bytes);

// EMV Common Session Key (Book 2 A1.3.1) from `mk` and an explicit diversification value `r` of
// one block (8 bytes TDES, 16 AES/SM4):
//  - key longer than one block (TDES, AES-192/256): F1 = R with byte 2 replaced by F0, F2 = R with
//    byte 2 replaced by 0F, SK = leftmost key bits of ALG(MK)[F1] || ALG(MK)[F2]; TDES keys get
//    odd parity. TDES master keys must be two-key (16 bytes), as everywhere in EMV: two blocks
//    cannot make a three-key session key;
//  - key of one block (AES-128; SM4 by analogy): SK = ALG(MK)[R].
// AES and SM4 variants follow the design notes' reading and are [uncertain] against the licensed
// EMV text: no public AES known-answer vector exists.
// Errors (kInvalidArgument): kDes, wrong key length (TDES 16; AES 16/24/32; SM4 16), `r` not one
// block.
Result<SecretBytes> DeriveCommonSessionKey(BlockCipher cipher, const SecretBytes& mk, ByteView r);

// DeriveCommonSessionKey with R = AtcDiversifier(atc, block size).
Result<SecretBytes> DeriveCommonSessionKeyFromAtc(BlockCipher cipher, const SecretBytes& mk,
                                                  std::uint16_t atc);

// Mastercard M/Chip session key derivation (CVN 16/17; Interac CVN 133): R = ATC(2) || 00 00 ||
// UN(4), then the TDES CSK F0/0F construction with parity. `mk`: 16-byte TDES key;
// `unpredictable_number`: 4 bytes (tag 9F37). Errors (kInvalidArgument): key length, UN length.
Result<SecretBytes> DeriveMastercardSessionKey(const SecretBytes& mk, std::uint16_t atc,
                                               ByteView unpredictable_number);

// Visa secure-messaging session key: SK_L = MK_L XOR (00 x 6 || ATC), SK_R = MK_R XOR (00 x 6 ||
// ~ATC), with odd parity. `mk`: a 16-byte TDES key. Errors (kInvalidArgument): key length.
Result<SecretBytes> DeriveVisaSecureMessagingKey(const SecretBytes& mk, std::uint16_t atc);

}  // namespace tapstack::crypto
