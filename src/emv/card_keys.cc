#include "emv/card_keys.h"

#include <algorithm>
#include <string>

#include "core/hex.h"
#include "crypto/block_cipher.h"
#include "crypto/emv_key_derivation.h"

namespace tapstack::emv {

namespace {

using crypto::BlockCipher;
using crypto::SecretBytes;

constexpr std::size_t kOptionCDigits = 32;  // 16 bytes of BCD
constexpr std::size_t kOptionADigits = 16;  // 8 bytes of BCD

// Wipes a buffer on scope exit (derivation inputs and outputs are key-related).
class WipeOnExit {
 public:
  explicit WipeOnExit(Bytes& bytes) : bytes_(bytes) {}
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit() { SecureWipe(bytes_.data(), bytes_.size()); }

 private:
  Bytes& bytes_;
};

Result<std::string> PanAndPsnDigits(std::string_view pan, std::string_view psn) {
  if (!IsAllDigits(pan) || pan.size() < crypto::kMkdPanDigitsMin ||
      pan.size() > crypto::kMkdPanDigitsMax) {
    return InvalidArgument("pan: expected " + std::to_string(crypto::kMkdPanDigitsMin) + "-" +
                           std::to_string(crypto::kMkdPanDigitsMax) + " digits");
  }
  if (!psn.empty() && (psn.size() != crypto::kPsnDigits || !IsAllDigits(psn))) {
    return InvalidArgument("psn: expected two digits");
  }
  std::string digits(pan);
  digits += psn.empty() ? std::string_view("00") : psn;
  return digits;
}

// The digits right-aligned in `width` digits: left-padded with 0, or only the rightmost kept.
std::string RightAligned(const std::string& digits, std::size_t width) {
  if (digits.size() >= width) return digits.substr(digits.size() - width);
  return std::string(width - digits.size(), '0') + digits;
}

// [uncertain] Option C as read by the design notes (10.1): Y = PAN || PSN left-padded with 0 to
// 32 digits; MK = leftmost k bits of AES(IMK)[Y] || AES(IMK)[~Y], k = the IMK's size; no parity.
Result<SecretBytes> DeriveOptionCAes(const SecretBytes& imk, std::string_view pan,
                                     std::string_view psn) {
  TS_RETURN_IF_ERROR(crypto::CheckKeyLength(BlockCipher::kAes, imk.size()));
  TS_ASSIGN_OR_RETURN(std::string digits, PanAndPsnDigits(pan, psn));
  Result<Bytes> y = BcdEncode(RightAligned(digits, kOptionCDigits));
  SecureWipe(digits.data(), digits.size());
  if (!y.ok()) return y.status();
  Bytes blocks(2 * crypto::kAesBlockBytes);
  WipeOnExit wipe_y(*y);
  WipeOnExit wipe_blocks(blocks);
  std::copy(y->begin(), y->end(), blocks.begin());
  for (std::size_t i = 0; i < crypto::kAesBlockBytes; ++i) {
    blocks[crypto::kAesBlockBytes + i] = static_cast<std::uint8_t>(~(*y)[i]);
  }
  // Only as many blocks as the key needs are encrypted.
  const std::size_t needed =
      imk.size() <= crypto::kAesBlockBytes ? crypto::kAesBlockBytes : 2 * crypto::kAesBlockBytes;
  const std::span<std::uint8_t> used(blocks.data(), needed);
  TS_RETURN_IF_ERROR(
      crypto::EncryptInto(BlockCipher::kAes, crypto::CipherMode::kEcb, imk, used, {}, used));
  return SecretBytes(ByteView(blocks.data(), imk.size()));
}

// [uncertain] PBOC-style SM4 master key: Y = the Option A value (rightmost 16 digits of
// PAN || PSN, 8 BCD bytes); MK = SM4(IMK)[Y || ~Y] (one 16-byte block).
Result<SecretBytes> DeriveSm4Pboc(const SecretBytes& imk, std::string_view pan,
                                  std::string_view psn) {
  TS_RETURN_IF_ERROR(crypto::CheckKeyLength(BlockCipher::kSm4, imk.size()));
  TS_ASSIGN_OR_RETURN(std::string digits, PanAndPsnDigits(pan, psn));
  Result<Bytes> y = BcdEncode(RightAligned(digits, kOptionADigits));
  SecureWipe(digits.data(), digits.size());
  if (!y.ok()) return y.status();
  Bytes block(crypto::kSm4BlockBytes);
  WipeOnExit wipe_y(*y);
  WipeOnExit wipe_block(block);
  for (std::size_t i = 0; i < y->size(); ++i) {
    block[i] = (*y)[i];
    block[y->size() + i] = static_cast<std::uint8_t>(~(*y)[i]);
  }
  TS_RETURN_IF_ERROR(
      crypto::EncryptInto(BlockCipher::kSm4, crypto::CipherMode::kEcb, imk, block, {}, block));
  return SecretBytes(ByteView(block));
}

}  // namespace

Result<SecretBytes> DeriveCardMasterKey(const CryptogramProfile& profile, const SecretBytes& imk,
                                        std::string_view pan, std::string_view psn) {
  switch (profile.master_key_derivation) {
    case MasterKeyDerivation::kNone:
      TS_RETURN_IF_ERROR(crypto::CheckKeyLength(profile.cipher, imk.size()));
      return imk.Clone();
    case MasterKeyDerivation::kOptionA:
      return crypto::DeriveIccMasterKeyOptionA(imk, pan, psn);
    case MasterKeyDerivation::kOptionB:
      return crypto::DeriveIccMasterKeyOptionB(imk, pan, psn);
    case MasterKeyDerivation::kOptionCAes:
      return DeriveOptionCAes(imk, pan, psn);
    case MasterKeyDerivation::kSm4Pboc:
      return DeriveSm4Pboc(imk, pan, psn);
  }
  return Internal("unknown master key derivation");
}

Result<SecretBytes> DeriveCardSessionKey(const CryptogramProfile& profile, const SecretBytes& mk,
                                         std::uint16_t atc, ByteView unpredictable_number) {
  switch (profile.session_key_derivation) {
    case SessionKeyDerivation::kNone:
      TS_RETURN_IF_ERROR(crypto::CheckKeyLength(profile.cipher, mk.size()));
      return mk.Clone();
    case SessionKeyDerivation::kEmvCsk:
      return crypto::DeriveCommonSessionKeyFromAtc(profile.cipher, mk, atc);
    case SessionKeyDerivation::kMastercardSkd:
      return crypto::DeriveMastercardSessionKey(mk, atc, unpredictable_number);
  }
  return Internal("unknown session key derivation");
}

}  // namespace tapstack::emv
