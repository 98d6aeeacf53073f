// EMV application cryptograms (ARQC / TC / AAC) and issuer authentication (ARPC), EMV 4.x Book 2
// sections 8.1-8.2 and Annex A1.2, as described in shared/design/domain/emv-and-tokenization.md
// sections 11-12.
//
// The caller selects the data (CDOL1 values, AIP, ATC, IAD part per CVN) and passes the session
// key (or MK-AC for CVNs without a session key). Verification compares in constant time.
// Thread-safe. Cryptogram generation and verification make no heap allocation in tapstack code
// (OpenSSL's CMAC re-key allocates internally; ARPC calls allocate).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/block_cipher.h"
#include "crypto/mac.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

inline constexpr std::size_t kApplicationCryptogramBytes = 8;
// CDOL1 data (at most 252 bytes in one GENERATE AC) plus AIP, ATC and a 32-byte IAD fits easily.
inline constexpr std::size_t kCryptogramDataBytesMax = 512;
inline constexpr std::size_t kArcBytes = 2;
inline constexpr std::size_t kCsuBytes = 4;
inline constexpr std::size_t kProprietaryAuthDataBytesMax = 8;
inline constexpr std::size_t kArpcMethod1Bytes = 8;
inline constexpr std::size_t kArpcMethod2Bytes = 4;

using ApplicationCryptogram = std::array<std::uint8_t, kApplicationCryptogramBytes>;

// How an SM4 cryptogram is computed. No public PBOC/UnionPay SM4 known-answer vector is
// available, so this is configurable [uncertain].
enum class Sm4CryptogramMac {
  kCbcMac,  // ISO/IEC 9797-1 MAC algorithm 1 (CBC-MAC, ICV 0) with the chosen padding (default)
  kCmac,    // CMAC-SM4 over the data padded with the chosen padding
};

struct CryptogramOptions {
  // ISO/IEC 9797-1 padding applied before the MAC. Method 2 for most CVNs (Visa 18/22, MC
  // 16-21, CCD); method 1 for Visa CVN 10. Default: method 2.
  MacPadding padding = MacPadding::kMethod2;
  // SM4 only; see Sm4CryptogramMac. Default: CBC-MAC.
  Sm4CryptogramMac sm4_mac = Sm4CryptogramMac::kCbcMac;
};

// The 8-byte application cryptogram of `data` under `session_key`:
//  - kTdes: ISO/IEC 9797-1 MAC algorithm 3 (retail MAC), 16-byte key, padding to 8-byte blocks;
//  - kAes: AES-CMAC truncated to the leftmost 8 bytes. The data is first padded with
//    options.padding to 16-byte blocks, so CMAC always sees whole blocks (subkey K1). Whether EMV
//    pre-pads before CMAC is [uncertain] (design notes 11.1);
//  - kSm4: per options.sm4_mac over the data padded to 16-byte blocks, leftmost 8 bytes
//    [uncertain].
// Errors (kInvalidArgument): kDes, key length (TDES 16 bytes; AES 16/24/32; SM4 16), data above
// kCryptogramDataBytesMax. kCryptoFailure if OpenSSL fails.
Result<ApplicationCryptogram> GenerateApplicationCryptogram(BlockCipher cipher,
                                                            const SecretBytes& session_key,
                                                            ByteView data,
                                                            const CryptogramOptions& options = {});

// OK when `cryptogram` equals the cryptogram of `data` (constant-time comparison); kCryptoFailure
// when it does not (including a wrong length); other errors as Generate.
Status VerifyApplicationCryptogram(BlockCipher cipher, const SecretBytes& session_key,
                                   ByteView data, ByteView cryptogram,
                                   const CryptogramOptions& options = {});

// ARPC method 1 (Book 2 8.2.1): ARPC = DES3(K)[ARQC XOR (ARC || 00 x 6)], 8 bytes.
// `key`: 16-byte TDES key (SK-AC or MK-AC per CVN); `arqc`: 8 bytes; `arc`: 2 bytes (tag 8A).
// TDES only: AES ARPC layouts are [uncertain] and not implemented.
// Errors (kInvalidArgument): lengths.
Result<Bytes> GenerateArpcMethod1(const SecretBytes& key, ByteView arqc, ByteView arc);

// ARPC method 2 (Book 2 8.2.2): the leftmost 4 bytes of ISO/IEC 9797-1 MAC algorithm 3 under `key`
// over ARQC(8) || CSU(4) || proprietary authentication data (0-8 bytes), padding method 2.
// Errors (kInvalidArgument): lengths.
Result<Bytes> GenerateArpcMethod2(const SecretBytes& key, ByteView arqc, ByteView csu,
                                  ByteView proprietary_auth_data);

// Constant-time checks of a received ARPC (the card's side). kCryptoFailure on mismatch.
Status VerifyArpcMethod1(const SecretBytes& key, ByteView arqc, ByteView arc, ByteView arpc);
Status VerifyArpcMethod2(const SecretBytes& key, ByteView arqc, ByteView csu,
                         ByteView proprietary_auth_data, ByteView arpc);

}  // namespace tapstack::crypto
