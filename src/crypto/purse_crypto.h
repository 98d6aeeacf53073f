// PBOC electronic-purse cryptography (JR/T 0025 style, as described in
// shared/design/domain/transit-purse.md sections 3 and 5): card key diversification, purchase and
// load session keys, MAC1/MAC2, TAC and the secure-messaging MAC of APPLICATION BLOCK.
//
// Two algorithm families, chosen per card and per key set (a configuration option of each city):
//  - kTdes (the published one): card keys are 16-byte two-key TDES keys; session keys are 8-byte
//    single-DES keys DES3(DK)[input]; MACs are the leftmost 4 bytes of a single-DES CBC-MAC (ISO/IEC
//    9797-1 algorithm 1, ICV 0, padding method 2). Reproduces tests/vectors/pboc_purse.json.
//  - kSm4 [uncertain: no public known answer]: card keys are 16-byte SM4 keys; a session key is
//    SM4(DK)[input padded with method 2 to 16 bytes]; MACs are the leftmost 4 bytes of an SM4
//    CBC-MAC with padding method 2.
//
// Every call is a pure function of its inputs; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

enum class PurseAlgorithm : std::uint8_t { kTdes = 0, kSm4 = 1 };

inline constexpr std::size_t kPurseKeyBytes = 16;  // master and card keys, both families
inline constexpr std::size_t kPurseDiversifierBytes = 8;  // last 8 bytes of the serial number
inline constexpr std::size_t kPurseSessionInputBytes = 8;
inline constexpr std::size_t kPurseMacBytes = 4;  // MAC1, MAC2, TAC
inline constexpr std::size_t kPurseChallengeBytes = 8;

using PurseMac = std::array<std::uint8_t, kPurseMacBytes>;

// The algorithm identifier byte a card reports in INITIALIZE FOR LOAD/PURCHASE: 00 for TDES and 04
// for SM4 [uncertain: the SM4 value follows common PBOC 3.0 practice, not a readable standard].
std::uint8_t PurseAlgorithmId(PurseAlgorithm algorithm);
// Errors: kInvalidArgument for an unknown identifier byte.
Result<PurseAlgorithm> PurseAlgorithmFromId(std::uint8_t id);

// A card key from a master key: TDES DK = DES3(MK)[D] || DES3(MK)[~D]; SM4 DK = SM4(MK)[D || ~D],
// with D the last 8 bytes of the application serial number. Errors (kInvalidArgument): key not 16
// bytes, diversifier not 8 bytes.
Result<SecretBytes> DiversifyPurseKey(PurseAlgorithm algorithm, const SecretBytes& master_key,
                                      ByteView diversifier);

// Purchase session key input: card random (4) || offline counter (2) || last 2 bytes of the
// terminal transaction sequence number.
std::array<std::uint8_t, kPurseSessionInputBytes> PurchaseSessionInput(ByteView card_random,
                                                                       std::uint16_t offline_counter,
                                                                       std::uint32_t terminal_seq);
// Load session key input: card random (4) || online counter (2) || 80 00.
std::array<std::uint8_t, kPurseSessionInputBytes> LoadSessionInput(ByteView card_random,
                                                                   std::uint16_t online_counter);

// The session key from a card key and an 8-byte input (above). Errors (kInvalidArgument): key not
// 16 bytes, input not 8 bytes.
Result<SecretBytes> DerivePurseSessionKey(PurseAlgorithm algorithm, const SecretBytes& card_key,
                                          ByteView input);

// MAC1 / MAC2: the leftmost 4 bytes of the CBC-MAC of `data` under the session key.
// Errors (kInvalidArgument): wrong session-key length (8 for kTdes, 16 for kSm4).
Result<PurseMac> PurseSessionMac(PurseAlgorithm algorithm, const SecretBytes& session_key,
                                 ByteView data);

// TAC: the same MAC under the TAC key, which for kTdes is DTK_left XOR DTK_right (8 bytes) and for
// kSm4 is DTK itself. Errors (kInvalidArgument): DTK not 16 bytes.
Result<PurseMac> PurseTac(PurseAlgorithm algorithm, const SecretBytes& card_tac_key, ByteView data);

// The secure-messaging MAC of a command such as APPLICATION BLOCK (84 1E 00 00 04): CBC-MAC with
// the ICV = the card's GET CHALLENGE value (8 bytes; the leftmost 8 as a 16-byte SM4 ICV followed
// by zeros), over `header` (CLA INS P1 P2 Lc, Lc counting the MAC) with padding method 2; for
// kTdes the MAC is ISO/IEC 9797-1 algorithm 3 (single DES then a final TDES step) under the
// 16-byte maintenance key. Returns the leftmost 4 bytes.
// Errors (kInvalidArgument): key not 16 bytes, challenge not 8 bytes.
Result<PurseMac> PurseSecureMessagingMac(PurseAlgorithm algorithm, const SecretBytes& maintenance_key,
                                         ByteView challenge, ByteView header);

}  // namespace tapstack::crypto
