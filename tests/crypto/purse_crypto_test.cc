// crypto/purse_crypto.h beyond the published vectors (tests/crypto/pboc_purse_vectors_test.cc):
// diversification, the TAC key, the SM4 family, secure messaging and every input error.
#include "crypto/purse_crypto.h"

#include <gtest/gtest.h>

#include "crypto/block_cipher.h"
#include "crypto/mac.h"
#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::ToHex;

constexpr char kMasterKey[] = "11223344556677888877665544332211";
constexpr char kSerialTail[] = "0000000012345678";

TEST(PurseCrypto, TdesDiversificationIsDesOfDThenNotD) {
  ASSERT_OK_AND_ASSIGN(SecretBytes dk, DiversifyPurseKey(PurseAlgorithm::kTdes, Key(kMasterKey),
                                                         Hex(kSerialTail)));
  ASSERT_OK_AND_ASSIGN(Bytes left, Encrypt(BlockCipher::kTdes, CipherMode::kEcb, Key(kMasterKey),
                                           Hex(kSerialTail)));
  ASSERT_OK_AND_ASSIGN(Bytes right, Encrypt(BlockCipher::kTdes, CipherMode::kEcb, Key(kMasterKey),
                                            Hex("FFFFFFFFEDCBA987")));
  EXPECT_EQ(ToHex(dk.reveal()), ToHex(left) + ToHex(right));
}

TEST(PurseCrypto, DifferentSerialsGetDifferentKeys) {
  for (PurseAlgorithm algorithm : {PurseAlgorithm::kTdes, PurseAlgorithm::kSm4}) {
    ASSERT_OK_AND_ASSIGN(SecretBytes a,
                         DiversifyPurseKey(algorithm, Key(kMasterKey), Hex("0000000000000001")));
    ASSERT_OK_AND_ASSIGN(SecretBytes b,
                         DiversifyPurseKey(algorithm, Key(kMasterKey), Hex("0000000000000002")));
    EXPECT_EQ(a.size(), kPurseKeyBytes);
    EXPECT_NE(ToHex(a.reveal()), ToHex(b.reveal()));
  }
}

TEST(PurseCrypto, Sm4DiversificationIsOneBlockOfDAndNotD) {
  ASSERT_OK_AND_ASSIGN(SecretBytes dk, DiversifyPurseKey(PurseAlgorithm::kSm4, Key(kMasterKey),
                                                         Hex(kSerialTail)));
  ASSERT_OK_AND_ASSIGN(Bytes expected, Encrypt(BlockCipher::kSm4, CipherMode::kEcb, Key(kMasterKey),
                                               Hex("0000000012345678FFFFFFFFEDCBA987")));
  EXPECT_EQ(ToHex(dk.reveal()), ToHex(expected));
}

TEST(PurseCrypto, TdesTacUsesTheXorOfTheKeyHalves) {
  const Bytes data = Hex("00001000060011223344550000000120120229135100");
  ASSERT_OK_AND_ASSIGN(PurseMac tac, PurseTac(PurseAlgorithm::kTdes, Key(kMasterKey), data));
  // 1122334455667788 XOR 8877665544332211 = 9955551111555599.
  ASSERT_OK_AND_ASSIGN(PurseMac direct,
                       PurseSessionMac(PurseAlgorithm::kTdes, Key("9955551111555599"), data));
  EXPECT_EQ(ToHex(tac), ToHex(direct));
}

TEST(PurseCrypto, Sm4SessionKeyAndMacFollowTheBlockSize) {
  ASSERT_OK_AND_ASSIGN(SecretBytes sk,
                       DerivePurseSessionKey(PurseAlgorithm::kSm4, Key(kMasterKey),
                                             PurchaseSessionInput(Hex("11223344"), 1, 7)));
  EXPECT_EQ(sk.size(), kSm4BlockBytes);
  ASSERT_OK_AND_ASSIGN(Bytes full, Iso9797Alg1Mac(BlockCipher::kSm4, sk, Hex("00001000"),
                                                  MacPadding::kMethod2));
  ASSERT_OK_AND_ASSIGN(PurseMac mac, PurseSessionMac(PurseAlgorithm::kSm4, sk, Hex("00001000")));
  EXPECT_EQ(ToHex(mac), ToHex(ByteView(full).first(kPurseMacBytes)));
  // The SM4 family never agrees with the TDES one on the same inputs.
  ASSERT_OK_AND_ASSIGN(SecretBytes tdes_sk,
                       DerivePurseSessionKey(PurseAlgorithm::kTdes, Key(kMasterKey),
                                             PurchaseSessionInput(Hex("11223344"), 1, 7)));
  EXPECT_NE(ToHex(sk.reveal()).substr(0, 16), ToHex(tdes_sk.reveal()));
}

// The secure-messaging MAC equals a CBC encryption with the challenge as IV: for TDES, single-DES
// CBC under the left key half, then the final block decrypted under the right half and encrypted
// under the left (ISO/IEC 9797-1 algorithm 3).
TEST(PurseCrypto, SecureMessagingMacChainsFromTheChallenge) {
  const Bytes challenge = Hex("0102030405060708");
  const Bytes header = Hex("841E000004");
  ASSERT_OK_AND_ASSIGN(PurseMac mac, PurseSecureMessagingMac(PurseAlgorithm::kTdes, Key(kMasterKey),
                                                             challenge, header));
  const Bytes padded = PadIso9797(header, MacPadding::kMethod2, kDesBlockBytes);
  ASSERT_OK_AND_ASSIGN(Bytes cbc, Encrypt(BlockCipher::kDes, CipherMode::kCbc, Key("1122334455667788"),
                                          padded, challenge));
  ASSERT_OK_AND_ASSIGN(Bytes step, Decrypt(BlockCipher::kDes, CipherMode::kEcb, Key("8877665544332211"),
                                           cbc));
  ASSERT_OK_AND_ASSIGN(Bytes last, Encrypt(BlockCipher::kDes, CipherMode::kEcb, Key("1122334455667788"),
                                           step));
  EXPECT_EQ(ToHex(mac), ToHex(ByteView(last).first(kPurseMacBytes)));
  // Another challenge gives another MAC: a replayed block command does not verify.
  ASSERT_OK_AND_ASSIGN(PurseMac other, PurseSecureMessagingMac(PurseAlgorithm::kTdes, Key(kMasterKey),
                                                               Hex("0102030405060709"), header));
  EXPECT_NE(ToHex(mac), ToHex(other));
}

TEST(PurseCrypto, AlgorithmIdsRoundTrip) {
  for (PurseAlgorithm algorithm : {PurseAlgorithm::kTdes, PurseAlgorithm::kSm4}) {
    ASSERT_OK_AND_ASSIGN(PurseAlgorithm back, PurseAlgorithmFromId(PurseAlgorithmId(algorithm)));
    EXPECT_EQ(back, algorithm);
  }
  EXPECT_EQ(PurseAlgorithmFromId(0x02).status().code(), ErrorCode::kInvalidArgument);
}

TEST(PurseCrypto, RejectsBadLengths) {
  EXPECT_EQ(DiversifyPurseKey(PurseAlgorithm::kTdes, Key("1122334455667788"), Hex(kSerialTail))
                .status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DiversifyPurseKey(PurseAlgorithm::kTdes, Key(kMasterKey), Hex("0102")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DerivePurseSessionKey(PurseAlgorithm::kTdes, Key(kMasterKey), Hex("01")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(PurseSessionMac(PurseAlgorithm::kTdes, Key(kMasterKey), Hex("00")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(PurseTac(PurseAlgorithm::kTdes, Key("1122334455667788"), Hex("00")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(PurseSecureMessagingMac(PurseAlgorithm::kTdes, Key(kMasterKey), Hex("01"), Hex("841E"))
                .status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
