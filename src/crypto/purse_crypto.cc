#include "crypto/purse_crypto.h"

#include <algorithm>
#include <string>

#include "crypto/block_cipher.h"
#include "crypto/internal/openssl.h"
#include "crypto/mac.h"

namespace tapstack::crypto {

namespace {

constexpr std::uint8_t kAlgorithmIdTdes = 0x00;
constexpr std::uint8_t kAlgorithmIdSm4 = 0x04;

Status CheckPurseKey(const SecretBytes& key, std::string_view what) {
  if (key.size() != kPurseKeyBytes) {
    return InvalidArgument(std::string(what) + " must be " + std::to_string(kPurseKeyBytes) +
                           " bytes; got " + std::to_string(key.size()));
  }
  return Status::Ok();
}

BlockCipher KeyCipher(PurseAlgorithm algorithm) {
  return algorithm == PurseAlgorithm::kSm4 ? BlockCipher::kSm4 : BlockCipher::kTdes;
}

Result<PurseMac> LeftmostMac(Result<Bytes> full) {
  TS_RETURN_IF_ERROR(full.status());
  PurseMac mac{};
  std::copy_n(full.value().begin(), kPurseMacBytes, mac.begin());
  return mac;
}

void PutBigEndian16(std::uint8_t* out, std::uint16_t value) {
  out[0] = static_cast<std::uint8_t>(value >> 8);
  out[1] = static_cast<std::uint8_t>(value);
}

}  // namespace

std::uint8_t PurseAlgorithmId(PurseAlgorithm algorithm) {
  return algorithm == PurseAlgorithm::kSm4 ? kAlgorithmIdSm4 : kAlgorithmIdTdes;
}

Result<PurseAlgorithm> PurseAlgorithmFromId(std::uint8_t id) {
  if (id == kAlgorithmIdTdes) return PurseAlgorithm::kTdes;
  if (id == kAlgorithmIdSm4) return PurseAlgorithm::kSm4;
  return InvalidArgument("purse algorithm id must be 00 (TDES) or 04 (SM4); got " +
                         std::to_string(id));
}

Result<SecretBytes> DiversifyPurseKey(PurseAlgorithm algorithm, const SecretBytes& master_key,
                                      ByteView diversifier) {
  TS_RETURN_IF_ERROR(CheckPurseKey(master_key, "purse master key"));
  if (diversifier.size() != kPurseDiversifierBytes) {
    return InvalidArgument("purse key diversifier must be 8 bytes (last 8 of the serial); got " +
                           std::to_string(diversifier.size()));
  }
  internal::WipedArray<2 * kPurseDiversifierBytes> input;
  for (std::size_t i = 0; i < kPurseDiversifierBytes; ++i) {
    input[i] = diversifier[i];
    input[kPurseDiversifierBytes + i] = static_cast<std::uint8_t>(~diversifier[i]);
  }
  // TDES enciphers D and ~D as two ECB blocks; SM4 enciphers D || ~D as one 16-byte block. Both
  // are one ECB call over the same 16 bytes.
  SecretBytes card_key = SecretBytes::Zeroed(kPurseKeyBytes);
  TS_RETURN_IF_ERROR(EncryptInto(KeyCipher(algorithm), CipherMode::kEcb, master_key, input.view(),
                                 {}, card_key.mutable_bytes()));
  return card_key;
}

std::array<std::uint8_t, kPurseSessionInputBytes> PurchaseSessionInput(ByteView card_random,
                                                                       std::uint16_t offline_counter,
                                                                       std::uint32_t terminal_seq) {
  std::array<std::uint8_t, kPurseSessionInputBytes> input{};
  std::copy_n(card_random.begin(), std::min<std::size_t>(card_random.size(), 4), input.begin());
  PutBigEndian16(&input[4], offline_counter);
  PutBigEndian16(&input[6], static_cast<std::uint16_t>(terminal_seq & 0xFFFF));
  return input;
}

std::array<std::uint8_t, kPurseSessionInputBytes> LoadSessionInput(ByteView card_random,
                                                                   std::uint16_t online_counter) {
  std::array<std::uint8_t, kPurseSessionInputBytes> input{};
  std::copy_n(card_random.begin(), std::min<std::size_t>(card_random.size(), 4), input.begin());
  PutBigEndian16(&input[4], online_counter);
  input[6] = 0x80;
  input[7] = 0x00;
  return input;
}

Result<SecretBytes> DerivePurseSessionKey(PurseAlgorithm algorithm, const SecretBytes& card_key,
                                          ByteView input) {
  TS_RETURN_IF_ERROR(CheckPurseKey(card_key, "purse card key"));
  if (input.size() != kPurseSessionInputBytes) {
    return InvalidArgument("purse session key input must be 8 bytes; got " +
                           std::to_string(input.size()));
  }
  if (algorithm == PurseAlgorithm::kTdes) {
    SecretBytes session_key = SecretBytes::Zeroed(kDesBlockBytes);
    TS_RETURN_IF_ERROR(EncryptInto(BlockCipher::kTdes, CipherMode::kEcb, card_key, input, {},
                                   session_key.mutable_bytes()));
    return session_key;
  }
  const Bytes padded = PadIso9797(input, MacPadding::kMethod2, kSm4BlockBytes);
  SecretBytes session_key = SecretBytes::Zeroed(kSm4BlockBytes);
  TS_RETURN_IF_ERROR(EncryptInto(BlockCipher::kSm4, CipherMode::kEcb, card_key, padded, {},
                                 session_key.mutable_bytes()));
  return session_key;
}

Result<PurseMac> PurseSessionMac(PurseAlgorithm algorithm, const SecretBytes& session_key,
                                 ByteView data) {
  const BlockCipher cipher = algorithm == PurseAlgorithm::kSm4 ? BlockCipher::kSm4 : BlockCipher::kDes;
  return LeftmostMac(Iso9797Alg1Mac(cipher, session_key, data, MacPadding::kMethod2));
}

Result<PurseMac> PurseTac(PurseAlgorithm algorithm, const SecretBytes& card_tac_key, ByteView data) {
  TS_RETURN_IF_ERROR(CheckPurseKey(card_tac_key, "purse TAC key (DTK)"));
  if (algorithm == PurseAlgorithm::kSm4) return PurseSessionMac(algorithm, card_tac_key, data);
  SecretBytes tac_key = SecretBytes::Zeroed(kDesKeyBytes);
  const ByteView dtk = card_tac_key.reveal();
  for (std::size_t i = 0; i < kDesKeyBytes; ++i) {
    tac_key.mutable_bytes()[i] = dtk[i] ^ dtk[kDesKeyBytes + i];
  }
  return PurseSessionMac(algorithm, tac_key, data);
}

Result<PurseMac> PurseSecureMessagingMac(PurseAlgorithm algorithm,
                                         const SecretBytes& maintenance_key, ByteView challenge,
                                         ByteView header) {
  TS_RETURN_IF_ERROR(CheckPurseKey(maintenance_key, "purse maintenance key"));
  if (challenge.size() != kPurseChallengeBytes) {
    return InvalidArgument("secure-messaging challenge must be 8 bytes; got " +
                           std::to_string(challenge.size()));
  }
  const std::size_t block = algorithm == PurseAlgorithm::kSm4 ? kSm4BlockBytes : kDesBlockBytes;
  // A CBC-MAC with ICV = challenge equals a zero-ICV CBC-MAC over the padded data whose first block
  // is XORed with the ICV; the padded data is aligned, so padding method 1 then adds nothing.
  Bytes padded = PadIso9797(header, MacPadding::kMethod2, block);
  for (std::size_t i = 0; i < challenge.size(); ++i) padded[i] ^= challenge[i];
  if (algorithm == PurseAlgorithm::kSm4) {
    return LeftmostMac(Iso9797Alg1Mac(BlockCipher::kSm4, maintenance_key, padded, MacPadding::kMethod1));
  }
  return LeftmostMac(Iso9797Alg3Mac(maintenance_key, padded, MacPadding::kMethod1));
}

}  // namespace tapstack::crypto
