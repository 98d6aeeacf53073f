#include "crypto/emv_key_derivation.h"

#include <bit>
#include <cstring>
#include <string>

#include "core/hex.h"
#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace {

constexpr std::size_t kMkdDigits = 16;  // Y is 16 digits = 8 BCD bytes

Status CheckPanAndPsn(std::string_view pan, std::string_view psn) {
  if (!IsAllDigits(pan) || pan.size() < kMkdPanDigitsMin || pan.size() > kMkdPanDigitsMax) {
    return InvalidArgument("PAN must be " + std::to_string(kMkdPanDigitsMin) + "-" +
                           std::to_string(kMkdPanDigitsMax) + " digits");
  }
  if (!psn.empty() && (psn.size() != kPsnDigits || !IsAllDigits(psn))) {
    return InvalidArgument("PSN must be two digits (or empty for 00)");
  }
  return Status::Ok();
}

Status CheckTwoKeyTdes(const SecretBytes& key, std::string_view what) {
  if (key.size() != kTdes2KeyBytes) {
    return InvalidArgument(std::string(what) + " must be a 16-byte two-key TDES key; got " +
                           std::to_string(key.size()) + " bytes");
  }
  return Status::Ok();
}

// MK = parity(DES3(IMK)[Y] || DES3(IMK)[~Y]) with Y the BCD of `digits` (exactly 16 digits).
Result<SecretBytes> MasterKeyFromDigits(const SecretBytes& imk, std::string_view digits) {
  TS_ASSIGN_OR_RETURN(Bytes y, BcdEncode(digits));
  internal::WipedArray<2 * kDesBlockBytes> input;
  for (std::size_t i = 0; i < kDesBlockBytes; ++i) {
    input[i] = y[i];
    input[kDesBlockBytes + i] = static_cast<std::uint8_t>(~y[i]);
  }
  SecureWipe(y.data(), y.size());
  SecretBytes mk = SecretBytes::Zeroed(kIccMasterKeyBytes);
  TS_RETURN_IF_ERROR(
      EncryptInto(BlockCipher::kTdes, CipherMode::kEcb, imk, input.view(), {}, mk.mutable_bytes()));
  SetOddParity(mk.mutable_bytes());
  return mk;
}

std::string PanPsnDigits(std::string_view pan, std::string_view psn) {
  std::string x(pan);
  x += psn.empty() ? std::string_view("00") : psn;
  return x;
}

}  // namespace

void SetOddParity(std::span<std::uint8_t> key) {
  for (std::uint8_t& b : key) {
    const std::uint8_t high = b & 0xFE;
    b = static_cast<std::uint8_t>(high | (std::popcount(high) % 2 == 0 ? 1 : 0));
  }
}

bool HasOddParity(ByteView key) {
  for (std::uint8_t b : key) {
    if (std::popcount(b) % 2 == 0) return false;
  }
  return true;
}

Result<SecretBytes> DeriveIccMasterKeyOptionA(const SecretBytes& imk, std::string_view pan,
                                              std::string_view psn) {
  TS_RETURN_IF_ERROR(CheckKeyLength(BlockCipher::kTdes, imk.size()));
  TS_RETURN_IF_ERROR(CheckPanAndPsn(pan, psn));
  std::string x = PanPsnDigits(pan, psn);
  if (x.size() < kMkdDigits) {
    x.insert(0, kMkdDigits - x.size(), '0');
  } else {
    x.erase(0, x.size() - kMkdDigits);
  }
  Result<SecretBytes> mk = MasterKeyFromDigits(imk, x);
  SecureWipe(x.data(), x.size());
  return mk;
}

Result<SecretBytes> DeriveIccMasterKeyOptionB(const SecretBytes& imk, std::string_view pan,
                                              std::string_view psn) {
  if (pan.size() < kOptionBPanDigitsMin) return DeriveIccMasterKeyOptionA(imk, pan, psn);
  TS_RETURN_IF_ERROR(CheckKeyLength(BlockCipher::kTdes, imk.size()));
  TS_RETURN_IF_ERROR(CheckPanAndPsn(pan, psn));
  std::string x = PanPsnDigits(pan, psn);
  if (x.size() % 2 != 0) x.insert(0, 1, '0');
  TS_ASSIGN_OR_RETURN(Bytes packed, BcdEncode(x));
  SecureWipe(x.data(), x.size());
  internal::WipedArray<20> sha1;
  Status digest = internal::RunDigest(internal::DigestId::kSha1, packed, sha1.span());
  SecureWipe(packed.data(), packed.size());
  TS_RETURN_IF_ERROR(digest);

  // H as 40 hex digits, then Y: decimal digits of H in order, topped up with its letters a..f
  // mapped to 0..5 in order of appearance.
  const std::string h = HexEncode(sha1.view());
  std::string y;
  for (char c : h) {
    if (y.size() < kMkdDigits && c >= '0' && c <= '9') y += c;
  }
  for (char c : h) {
    if (y.size() < kMkdDigits && c >= 'A' && c <= 'F') y += static_cast<char>('0' + (c - 'A'));
  }
  Result<SecretBytes> mk = MasterKeyFromDigits(imk, y);
  SecureWipe(y.data(), y.size());
  return mk;
}

Bytes AtcDiversifier(std::uint16_t atc, std::size_t block_bytes) {
  Bytes r(block_bytes, 0);
  r[0] = static_cast<std::uint8_t>(atc >> 8);
  r[1] = static_cast<std::uint8_t>(atc & 0xFF);
  return r;
}

Result<SecretBytes> DeriveCommonSessionKey(BlockCipher cipher, const SecretBytes& mk, ByteView r) {
  if (cipher == BlockCipher::kDes) {
    return InvalidArgument("session keys are derived for TDES, AES or SM4, not single DES");
  }
  TS_RETURN_IF_ERROR(CheckKeyLength(cipher, mk.size()));
  if (cipher == BlockCipher::kTdes) TS_RETURN_IF_ERROR(CheckTwoKeyTdes(mk, "TDES master key"));
  const std::size_t block = BlockBytes(cipher);
  if (r.size() != block) {
    return InvalidArgument("diversification value R must be " + std::to_string(block) +
                           " bytes for " + std::string(BlockCipherName(cipher)) + "; got " +
                           std::to_string(r.size()));
  }
  if (mk.size() == block) {
    // AES-128 and SM4: SK = ALG(MK)[R]  [uncertain; design notes section 10.2]
    SecretBytes sk = SecretBytes::Zeroed(block);
    TS_RETURN_IF_ERROR(EncryptInto(cipher, CipherMode::kEcb, mk, r, {}, sk.mutable_bytes()));
    return sk;
  }
  internal::WipedArray<2 * kBlockBytesMax> f;
  std::memcpy(f.data(), r.data(), block);
  std::memcpy(f.data() + block, r.data(), block);
  f[2] = 0xF0;
  f[block + 2] = 0x0F;
  internal::WipedArray<2 * kBlockBytesMax> encrypted;
  TS_RETURN_IF_ERROR(
      EncryptInto(cipher, CipherMode::kEcb, mk, f.view(2 * block), {}, encrypted.span(2 * block)));
  SecretBytes sk(encrypted.view(mk.size()));
  if (cipher == BlockCipher::kTdes) SetOddParity(sk.mutable_bytes());
  return sk;
}

Result<SecretBytes> DeriveCommonSessionKeyFromAtc(BlockCipher cipher, const SecretBytes& mk,
                                                  std::uint16_t atc) {
  return DeriveCommonSessionKey(cipher, mk, AtcDiversifier(atc, BlockBytes(cipher)));
}

Result<SecretBytes> DeriveMastercardSessionKey(const SecretBytes& mk, std::uint16_t atc,
                                               ByteView unpredictable_number) {
  TS_RETURN_IF_ERROR(CheckTwoKeyTdes(mk, "Mastercard master key"));
  if (unpredictable_number.size() != kUnpredictableNumberBytes) {
    return InvalidArgument("unpredictable number must be 4 bytes; got " +
                           std::to_string(unpredictable_number.size()));
  }
  Bytes r = AtcDiversifier(atc, kDesBlockBytes);
  std::memcpy(r.data() + 4, unpredictable_number.data(), kUnpredictableNumberBytes);
  return DeriveCommonSessionKey(BlockCipher::kTdes, mk, r);
}

Result<SecretBytes> DeriveVisaSecureMessagingKey(const SecretBytes& mk, std::uint16_t atc) {
  TS_RETURN_IF_ERROR(CheckTwoKeyTdes(mk, "Visa master key"));
  SecretBytes sk = mk.Clone();
  std::span<std::uint8_t> k = sk.mutable_bytes();
  const auto atc_hi = static_cast<std::uint8_t>(atc >> 8);
  const auto atc_lo = static_cast<std::uint8_t>(atc & 0xFF);
  k[6] ^= atc_hi;
  k[7] ^= atc_lo;
  k[14] ^= static_cast<std::uint8_t>(~atc_hi);
  k[15] ^= static_cast<std::uint8_t>(~atc_lo);
  SetOddParity(k);
  return sk;
}

}  // namespace tapstack::crypto
