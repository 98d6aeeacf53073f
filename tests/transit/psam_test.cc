// transit/psam.h: the gate's PSAM, driven through APDUs as a validator drives it; every MAC is
// recomputed here from crypto/purse_crypto.h with the card's diversified key.
#include "transit/psam.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "crypto/purse_crypto.h"

namespace tapstack::transit {
namespace {

constexpr char kPurchaseMaster[] = "0123456789ABCDEFFEDCBA9876543210";
constexpr char kMaintenanceMaster[] = "00112233445566778899AABBCCDDEEFF";
constexpr char kSerialTail[] = "1000000000000042";

Bytes Hex(std::string_view hex) { return HexDecode(hex).value(); }

crypto::SecretBytes Key(std::string_view hex) { return crypto::SecretBytes(Hex(hex)); }

Psam MakePsam(std::uint32_t next_sequence = 1) {
  PsamOptions options;
  options.number = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
  options.purchase_master_key = Key(kPurchaseMaster);
  options.maintenance_master_key = Key(kMaintenanceMaster);
  options.next_sequence = next_sequence;
  Result<Psam> psam = Psam::Create(std::move(options));
  EXPECT_TRUE(psam.ok()) << psam.status().ToString();
  return std::move(psam).value();
}

// INIT SAM FOR PURCHASE for amount 2.00 CNY, ETC 5, card random 01020304 at 2026-11-22 08:30:00.
Bytes InitSam(std::uint8_t algorithm_id = 0x00, std::uint8_t key_version = 0x01) {
  return Hex("807000001C" "01020304" "0005" "000000C8" "09" "20261122083000" +
             HexEncode(Bytes{key_version, algorithm_id}) + kSerialTail);
}

crypto::SecretBytes SessionKey(crypto::PurseAlgorithm algorithm, std::uint32_t sequence) {
  crypto::SecretBytes card_key =
      crypto::DiversifyPurseKey(algorithm, Key(kPurchaseMaster), Hex(kSerialTail)).value();
  return crypto::DerivePurseSessionKey(algorithm, card_key,
                                       crypto::PurchaseSessionInput(Hex("01020304"), 5, sequence))
      .value();
}

std::string Sw(const Bytes& response) {
  return HexEncode(ByteView(response).last(2));
}

TEST(PsamTest, InitSamNumbersThePurchaseAndComputesMac1) {
  for (crypto::PurseAlgorithm algorithm : {crypto::PurseAlgorithm::kTdes, crypto::PurseAlgorithm::kSm4}) {
    Psam psam = MakePsam(0x00010001);
    const Bytes response = psam.Transmit(InitSam(crypto::PurseAlgorithmId(algorithm)));
    ASSERT_EQ(Sw(response), "9000");
    ASSERT_EQ(response.size(), 10u);
    EXPECT_EQ(HexEncode(ByteView(response).first(4)), "00010001");
    const crypto::PurseMac mac1 =
        crypto::PurseSessionMac(algorithm, SessionKey(algorithm, 0x00010001),
                                Hex("000000C8" "09" "112233445566" "20261122" "083000"))
            .value();
    EXPECT_EQ(HexEncode(ByteView(response).subspan(4, 4)), HexEncode(mac1));
    EXPECT_EQ(psam.next_sequence(), 0x00010002u);
  }
}

TEST(PsamTest, SequenceNeverRepeatsAndResumesWhereTheOwnerLeftIt) {
  Psam psam = MakePsam(7);
  ASSERT_EQ(Sw(psam.Transmit(InitSam())), "9000");
  const Bytes second = psam.Transmit(InitSam());
  EXPECT_EQ(HexEncode(ByteView(second).first(4)), "00000008");
  Psam reopened = MakePsam(psam.next_sequence());
  EXPECT_EQ(HexEncode(ByteView(reopened.Transmit(InitSam())).first(4)), "00000009");
}

TEST(PsamTest, CreditSamVerifiesTheCardsMac2) {
  Psam psam = MakePsam(3);
  ASSERT_EQ(Sw(psam.Transmit(InitSam())), "9000");
  const crypto::PurseMac mac2 =
      crypto::PurseSessionMac(crypto::PurseAlgorithm::kTdes,
                              SessionKey(crypto::PurseAlgorithm::kTdes, 3), Hex("000000C8"))
          .value();
  EXPECT_EQ(Sw(psam.Transmit(Hex("8072000004" + HexEncode(mac2)))), "9000");
  // The session stays for a torn purchase's later proof, and a wrong MAC2 is refused.
  EXPECT_EQ(Sw(psam.Transmit(Hex("8072000004" + HexEncode(mac2)))), "9000");
  EXPECT_EQ(Sw(psam.Transmit(Hex("807200000400000000"))), "9302");
}

TEST(PsamTest, MacForBlockIsTheCardsSecureMessagingMac) {
  Psam psam = MakePsam();
  const Bytes response = psam.Transmit(Hex("80FA050010" "0102030405060708" + std::string(kSerialTail)));
  ASSERT_EQ(Sw(response), "9000");
  const crypto::SecretBytes card_key =
      crypto::DiversifyPurseKey(crypto::PurseAlgorithm::kTdes, Key(kMaintenanceMaster),
                                Hex(kSerialTail))
          .value();
  const crypto::PurseMac mac = crypto::PurseSecureMessagingMac(crypto::PurseAlgorithm::kTdes, card_key,
                                                               Hex("0102030405060708"),
                                                               Hex("841E000004"))
                                   .value();
  EXPECT_EQ(HexEncode(ByteView(response).first(4)), HexEncode(mac));
}

TEST(PsamTest, ReadsItsNumber) {
  Psam psam = MakePsam();
  EXPECT_EQ(HexEncode(psam.Transmit(Hex("00B0960006"))), "1122334455669000");
}

TEST(PsamTest, BadCommandsGetPreciseStatusWords) {
  Psam psam = MakePsam();
  EXPECT_EQ(Sw(psam.Transmit(Hex("8072000004AABBCCDD"))), "6985");  // no session yet
  EXPECT_EQ(Sw(psam.Transmit(InitSam(0x00, 0x02))), "9403");        // key version not held
  EXPECT_EQ(Sw(psam.Transmit(InitSam(0x07))), "6A80");              // unknown algorithm
  EXPECT_EQ(Sw(psam.Transmit(Hex("807000000401020304"))), "6700");
  EXPECT_EQ(Sw(psam.Transmit(Hex("8070010000"))), "6A86");
  EXPECT_EQ(Sw(psam.Transmit(Hex("8099000000"))), "6D00");
  EXPECT_EQ(Sw(psam.Transmit(Hex("9070000000"))), "6E00");
  EXPECT_EQ(Sw(psam.Transmit(Hex("80"))), "6700");
  EXPECT_EQ(psam.next_sequence(), 1u);  // nothing refused spent a sequence number
}

TEST(PsamTest, RejectsBadKeys) {
  PsamOptions options;
  options.purchase_master_key = Key("0011");
  options.maintenance_master_key = Key(kMaintenanceMaster);
  EXPECT_EQ(Psam::Create(std::move(options)).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::transit
