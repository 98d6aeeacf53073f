#include "crypto/emv_cryptogram.h"

#include <cstring>
#include <string>

#include "crypto/internal/mac_internal.h"
#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace {

Status CheckLength(ByteView value, std::size_t expected, std::string_view what) {
  if (value.size() != expected) {
    return InvalidArgument(std::string(what) + " must be " + std::to_string(expected) +
                           " bytes; got " + std::to_string(value.size()));
  }
  return Status::Ok();
}

Status CheckCryptogramKey(BlockCipher cipher, const SecretBytes& key) {
  if (cipher == BlockCipher::kDes) {
    return InvalidArgument("application cryptograms use TDES, AES or SM4, not single DES");
  }
  TS_RETURN_IF_ERROR(CheckKeyLength(cipher, key.size()));
  if (cipher == BlockCipher::kTdes && key.size() != kRetailMacKeyBytes) {
    return InvalidArgument(
        "TDES cryptogram key must be 16 bytes (K || K' for MAC algorithm 3); "
        "got " +
        std::to_string(key.size()));
  }
  return Status::Ok();
}

internal::CmacId AesCmacId(std::size_t key_bytes) {
  if (key_bytes == 16) return internal::CmacId::kAes128;
  if (key_bytes == 24) return internal::CmacId::kAes192;
  return internal::CmacId::kAes256;
}

}  // namespace

Result<ApplicationCryptogram> GenerateApplicationCryptogram(BlockCipher cipher,
                                                            const SecretBytes& session_key,
                                                            ByteView data,
                                                            const CryptogramOptions& options) {
  TS_RETURN_IF_ERROR(CheckCryptogramKey(cipher, session_key));
  if (data.size() > kCryptogramDataBytesMax) {
    return InvalidArgument("cryptogram data of " + std::to_string(data.size()) + " bytes exceeds " +
                           std::to_string(kCryptogramDataBytesMax));
  }
  // Transaction data and MAC output are not secret; only the key needs wiping, and it is not
  // copied here.
  const std::size_t block = BlockBytes(cipher);
  std::array<std::uint8_t, kCryptogramDataBytesMax + kBlockBytesMax> padded;
  const std::size_t padded_bytes = internal::PadInto(data, options.padding, block, padded);
  const ByteView input(padded.data(), padded_bytes);
  std::array<std::uint8_t, kBlockBytesMax> mac{};
  const ByteView key = session_key.reveal();
  switch (cipher) {
    case BlockCipher::kTdes:
      TS_RETURN_IF_ERROR(internal::RetailMacInto(key, input, mac));
      break;
    case BlockCipher::kAes:
      TS_RETURN_IF_ERROR(
          internal::RunCmac(AesCmacId(key.size()), key, input, std::span(mac).first(block)));
      break;
    case BlockCipher::kSm4:
      if (options.sm4_mac == Sm4CryptogramMac::kCmac) {
        TS_RETURN_IF_ERROR(internal::RunCmac(internal::CmacId::kSm4, key, input, mac));
      } else {
        TS_RETURN_IF_ERROR(
            internal::CbcMacInto(internal::CipherId::kSm4Cbc, kSm4BlockBytes, key, input, mac));
      }
      break;
    case BlockCipher::kDes:
      return Internal("unreachable: single DES rejected above");
  }
  ApplicationCryptogram ac;
  std::memcpy(ac.data(), mac.data(), ac.size());
  return ac;
}

Status VerifyApplicationCryptogram(BlockCipher cipher, const SecretBytes& session_key,
                                   ByteView data, ByteView cryptogram,
                                   const CryptogramOptions& options) {
  TS_ASSIGN_OR_RETURN(ApplicationCryptogram expected,
                      GenerateApplicationCryptogram(cipher, session_key, data, options));
  if (!ConstantTimeEquals(expected, cryptogram)) {
    return CryptoFailure("application cryptogram does not match");
  }
  return Status::Ok();
}

Result<Bytes> GenerateArpcMethod1(const SecretBytes& key, ByteView arqc, ByteView arc) {
  TS_RETURN_IF_ERROR(CheckKeyLength(BlockCipher::kTdes, key.size()));
  TS_RETURN_IF_ERROR(CheckLength(arqc, kApplicationCryptogramBytes, "ARQC"));
  TS_RETURN_IF_ERROR(CheckLength(arc, kArcBytes, "ARC"));
  std::array<std::uint8_t, kDesBlockBytes> x{};
  std::memcpy(x.data(), arqc.data(), kDesBlockBytes);
  x[0] ^= arc[0];  // Y = ARC || 00 00 00 00 00 00
  x[1] ^= arc[1];
  return Encrypt(BlockCipher::kTdes, CipherMode::kEcb, key, x);
}

Result<Bytes> GenerateArpcMethod2(const SecretBytes& key, ByteView arqc, ByteView csu,
                                  ByteView proprietary_auth_data) {
  if (key.size() != kRetailMacKeyBytes) {
    return InvalidArgument("ARPC method 2 key must be 16 bytes; got " + std::to_string(key.size()));
  }
  TS_RETURN_IF_ERROR(CheckLength(arqc, kApplicationCryptogramBytes, "ARQC"));
  TS_RETURN_IF_ERROR(CheckLength(csu, kCsuBytes, "CSU"));
  if (proprietary_auth_data.size() > kProprietaryAuthDataBytesMax) {
    return InvalidArgument("proprietary authentication data must be 0-8 bytes; got " +
                           std::to_string(proprietary_auth_data.size()));
  }
  const Bytes input = Concat({arqc, csu, proprietary_auth_data});
  TS_ASSIGN_OR_RETURN(Bytes mac, Iso9797Alg3Mac(key, input, MacPadding::kMethod2));
  mac.resize(kArpcMethod2Bytes);
  return mac;
}

Status VerifyArpcMethod1(const SecretBytes& key, ByteView arqc, ByteView arc, ByteView arpc) {
  TS_ASSIGN_OR_RETURN(Bytes expected, GenerateArpcMethod1(key, arqc, arc));
  if (!ConstantTimeEquals(expected, arpc)) return CryptoFailure("ARPC does not match");
  return Status::Ok();
}

Status VerifyArpcMethod2(const SecretBytes& key, ByteView arqc, ByteView csu,
                         ByteView proprietary_auth_data, ByteView arpc) {
  TS_ASSIGN_OR_RETURN(Bytes expected, GenerateArpcMethod2(key, arqc, csu, proprietary_auth_data));
  if (!ConstantTimeEquals(expected, arpc)) return CryptoFailure("ARPC does not match");
  return Status::Ok();
}

}  // namespace tapstack::crypto
