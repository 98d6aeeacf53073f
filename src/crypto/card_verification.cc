#include "crypto/card_verification.h"

#include <array>

#include "core/hex.h"
#include "crypto/block_cipher.h"
#include "crypto/internal/openssl.h"
#include "crypto/mac.h"

namespace tapstack::crypto {

namespace {

// PAN (≤ 19) + expiry (4) + service code (3) ≤ 26 digits always fit the 32-digit input.
constexpr std::size_t kInputDigits = 2 * 2 * kDesBlockBytes;

Status CheckDigits(std::string_view value, std::size_t min, std::size_t max, const char* what) {
  if (value.size() < min || value.size() > max || !IsAllDigits(value)) {
    std::string expected =
        min == max ? std::to_string(min) : std::to_string(min) + "-" + std::to_string(max);
    // The value is not echoed: it may be a PAN.
    return InvalidArgument(std::string("card verification: ") + what + " must be " + expected +
                           " digits; got " + std::to_string(value.size()) + " characters");
  }
  return Status::Ok();
}

}  // namespace

std::string DecimaliseVisa(ByteView block) {
  std::string digits;
  std::string letters;
  digits.reserve(2 * block.size());
  for (std::uint8_t byte : block) {
    for (std::uint8_t nibble :
         {static_cast<std::uint8_t>(byte >> 4), static_cast<std::uint8_t>(byte & 0x0F)}) {
      if (nibble < 10) {
        digits += static_cast<char>('0' + nibble);
      } else {
        letters += static_cast<char>('0' + nibble - 10);
      }
    }
  }
  digits += letters;
  SecureWipe(letters.data(), letters.size());
  return digits;
}

Result<std::string> GenerateCardVerificationValue(const SecretBytes& cvk, std::string_view pan,
                                                  std::string_view expiry,
                                                  std::string_view service_code) {
  if (cvk.size() != kCardVerificationKeyBytes) {
    return InvalidArgument("card verification: the CVK must be " +
                           std::to_string(kCardVerificationKeyBytes) +
                           " bytes (key A ‖ key B); got " + std::to_string(cvk.size()));
  }
  TS_RETURN_IF_ERROR(
      CheckDigits(pan, kCardVerificationPanDigitsMin, kCardVerificationPanDigitsMax, "the PAN"));
  TS_RETURN_IF_ERROR(CheckDigits(expiry, 4, 4, "the expiry date"));
  TS_RETURN_IF_ERROR(CheckDigits(service_code, 3, 3, "the service code"));

  // The input digits as packed BCD (each decimal digit is one hex nibble), zero-padded on the
  // right: blocks B1 (bytes 0-7) and B2 (bytes 8-15).
  internal::WipedArray<kInputDigits / 2> input;
  std::size_t at = 0;
  for (std::string_view part : {pan, expiry, service_code}) {
    for (char c : part) {
      const auto nibble = static_cast<std::uint8_t>(c - '0');
      input[at / 2] =
          static_cast<std::uint8_t>(input[at / 2] | (at % 2 == 0 ? nibble << 4 : nibble));
      ++at;
    }
  }

  const SecretBytes key_a(cvk.reveal().first(kDesKeyBytes));
  internal::WipedArray<kDesBlockBytes> block;
  TS_RETURN_IF_ERROR(EncryptInto(BlockCipher::kDes, CipherMode::kEcb, key_a,
                                 input.view(kDesBlockBytes), {}, block.span()));
  for (std::size_t i = 0; i < kDesBlockBytes; ++i) block[i] ^= input[kDesBlockBytes + i];
  // A two-key TDES handle is K1 K2 with K3 = K1: exactly the A, B, A of the algorithm.
  TS_RETURN_IF_ERROR(
      EncryptInto(BlockCipher::kTdes, CipherMode::kEcb, cvk, block.view(), {}, block.span()));

  std::string decimal = DecimaliseVisa(block.view());
  std::string value = decimal.substr(0, kCardVerificationValueDigits);
  SecureWipe(decimal.data(), decimal.size());
  return value;
}

Status VerifyCardVerificationValue(const SecretBytes& cvk, std::string_view pan,
                                   std::string_view expiry, std::string_view service_code,
                                   std::string_view presented) {
  TS_ASSIGN_OR_RETURN(std::string expected,
                      GenerateCardVerificationValue(cvk, pan, expiry, service_code));
  const bool equal = ConstantTimeEquals(AsBytes(expected), AsBytes(presented));
  SecureWipe(expected.data(), expected.size());
  if (!equal) return CryptoFailure("card verification value does not match");
  return Status::Ok();
}

}  // namespace tapstack::crypto
