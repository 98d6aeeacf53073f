// Card verification values by the Visa CVV algorithm, which Mastercard uses for its CVC as well.
// One algorithm, three values that differ only in the service code fed to it:
//   CVV1 / CVC1  magnetic stripe        the card's real service code (e.g. "101", "201")
//   CVV2 / CVC2  printed on the card    "000"
//   iCVV         chip track-2 equivalent "999"
//
// Algorithm (public: Visa's description as repeated by EFTlab and darkcoding.net, and implemented
// by jPOS JCESecurityModule.calculateCVV and knovichikhin/psec cvv.generate_cvv):
//   1. PAN ‖ expiry (4 digits) ‖ service code, right-padded with '0' to 32 hex digits, is two
//      8-byte blocks B1 and B2;
//   2. R = TDES-2key(A, B)[ DES(A)[B1] XOR B2 ] with the double-length CVK = A ‖ B;
//   3. decimalise R (DecimaliseVisa) and keep the first 3 digits.
//
// The value is a secret of the cardholder's: callers compare it (VerifyCardVerificationValue, in
// constant time) and never log or store it. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

// The CVK: two single-DES keys A ‖ B as one 16-byte handle. Parity bits are ignored.
inline constexpr std::size_t kCardVerificationKeyBytes = 16;
inline constexpr std::size_t kCardVerificationValueDigits = 3;
inline constexpr std::size_t kCardVerificationPanDigitsMin = 12;  // ISO/IEC 7812-1
inline constexpr std::size_t kCardVerificationPanDigitsMax = 19;

// Service codes that select which value the algorithm produces (see the table above).
namespace cvv_service_code {
inline constexpr std::string_view kCvv2 = "000";
inline constexpr std::string_view kIcvv = "999";
}  // namespace cvv_service_code

// The 3-digit value for `pan`, `expiry` and `service_code` under `cvk`.
// `expiry` is the 4 digits the issuer personalised (normally YYMM as in DE14 and track 2; some
// issuers use MMYY, so it is not checked as a date). The PAN's Luhn digit is not checked either:
// the algorithm does not depend on it, and published vectors use non-Luhn PANs.
// Errors (kInvalidArgument, never echoing the PAN): CVK not 16 bytes, PAN not 12-19 digits,
// expiry not 4 digits, service code not 3 digits. kCryptoFailure if OpenSSL fails.
Result<std::string> GenerateCardVerificationValue(const SecretBytes& cvk, std::string_view pan,
                                                  std::string_view expiry,
                                                  std::string_view service_code);

// OK when `presented` equals the value GenerateCardVerificationValue computes, compared in
// constant time (CRYPTO_memcmp); kCryptoFailure when it does not (including a wrong length).
// Other errors as GenerateCardVerificationValue. The computed value is wiped before returning.
Status VerifyCardVerificationValue(const SecretBytes& cvk, std::string_view pan,
                                   std::string_view expiry, std::string_view service_code,
                                   std::string_view presented);

// Visa decimalisation (also used for PVVs): the hex digits of `block` that are 0-9, left to right,
// followed by the digits A-F, left to right, each minus 10. Always 2 × block.size() digits.
std::string DecimaliseVisa(ByteView block);

}  // namespace tapstack::crypto
