#include "device/transit_applet.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "crypto/purse_crypto.h"
#include "device_test_util.h"
#include "store/sqlite_store.h"
#include "support/vectors.h"

namespace tapstack::device {
namespace {

using crypto::PurseAlgorithm;
using testing::FixedRandom;
using testing::Hex;
using testing::TempDir;
using testing::TransitProfile;

constexpr std::string_view kDeviceId = "dev-t";
constexpr std::string_view kTerminal = "001122334455";  // terminal id of the published examples

std::string H(ByteView bytes) { return HexEncode(bytes); }
std::string Sw(const emv::ResponseApdu& r) { return H(UintToBytes(r.sw.value(), 2)); }

std::string Amount(std::uint32_t fen) { return H(UintToBytes(fen, 4)); }

// The terminal (PSAM) side of a purchase, computed with crypto/purse_crypto.h.
std::string PurchaseMac1(PurseAlgorithm algorithm, ByteView card_random, std::uint16_t etc,
                         std::uint32_t seq, std::uint32_t amount, std::uint8_t type,
                         std::string_view date_time) {
  crypto::SecretBytes dpk(Hex(testing::kPurseVectorKey));
  auto sk = crypto::DerivePurseSessionKey(algorithm, dpk,
                                          crypto::PurchaseSessionInput(card_random, etc, seq));
  EXPECT_TRUE(sk.ok());
  const Bytes data = Concat({UintToBytes(amount, 4), ByteView(&type, 1), Hex(kTerminal),
                             Hex(date_time)});
  auto mac = crypto::PurseSessionMac(algorithm, *sk, data);
  EXPECT_TRUE(mac.ok());
  return H(*mac);
}

class TransitAppletTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(TransitProfile()); }

  void Open(TransitCardProfile profile) {
    applet_.reset();
    store_.reset();
    auto store = DeviceStore::Open(dir_.path(), kDeviceId);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    const std::string id = profile.card_id;
    ASSERT_TRUE(store_->InsertTransitCard(profile).ok());
    auto cards = store_->LoadTransitCards();
    ASSERT_TRUE(cards.ok());
    for (StoredTransitCard& card : *cards) {
      if (card.profile.card_id == id) Attach(std::move(card));
    }
    ASSERT_NE(applet_, nullptr);
    ASSERT_EQ(applet_->Select().sw, emv::kSwSuccess);
  }

  void Attach(StoredTransitCard card) {
    TransitAppletOptions options;
    options.random = &random_;
    auto applet = TransitPurseApplet::Create(std::move(card), *store_, options);
    ASSERT_TRUE(applet.ok()) << applet.status().ToString();
    applet_ = std::move(applet).value();
  }

  emv::ResponseApdu Run(std::string_view hex) {
    auto command = emv::ParseCommandApdu(Hex(hex));
    EXPECT_TRUE(command.ok()) << hex;
    return applet_->Process(*command);
  }

  // INITIALIZE FOR (CAPP) PURCHASE then DEBIT with a correct MAC1; returns the debit response.
  emv::ResponseApdu Purchase(std::uint32_t amount, bool capp = false, std::uint32_t seq = 1,
                             std::string_view date_time = "20120229135100",
                             std::string_view capp_record = "") {
    const auto init = Run(std::string(capp ? "80500302" : "80500102") + "0B01" + Amount(amount) +
                          std::string(kTerminal));
    EXPECT_EQ(init.sw, emv::kSwSuccess);
    if (init.sw != emv::kSwSuccess) return init;
    const auto etc = static_cast<std::uint16_t>(BytesToUint(ByteView(init.data).subspan(4, 2)));
    const ByteView random = ByteView(init.data).subspan(11, 4);
    if (!capp_record.empty()) {
      EXPECT_EQ(Run("80DC01D030" + std::string(capp_record)).sw, emv::kSwSuccess);
    }
    const std::string mac1 = PurchaseMac1(applet_profile_algorithm_, random, etc, seq, amount,
                                          capp ? 0x09 : 0x06, date_time);
    return Run("805401000F" + H(UintToBytes(seq, 4)) + std::string(date_time) + mac1);
  }

  TempDir dir_;
  FixedRandom random_;
  std::unique_ptr<DeviceStore> store_;
  std::unique_ptr<TransitPurseApplet> applet_;
  PurseAlgorithm applet_profile_algorithm_ = PurseAlgorithm::kTdes;
};

// LOAD-SK / LOAD-MAC1 / LOAD-MAC2 of pboc_purse.json, end to end through the APDUs. The published
// data carries type 01 and terminal 001122334455, so the load uses P2 01 (electronic deposit).
TEST_F(TransitAppletTest, LoadReproducesThePublishedVectors) {
  const auto doc = tapstack::testing::LoadVectors("pboc_purse.json");
  const auto mac1_vector = tapstack::testing::VectorById(doc, "LOAD-MAC1");
  const auto mac2_vector = tapstack::testing::VectorById(doc, "LOAD-MAC2");
  const auto sk_vector = tapstack::testing::VectorById(doc, "LOAD-SK");
  ASSERT_EQ(sk_vector.at("card_key_dlk").get<std::string>(), testing::kPurseVectorKey);
  ASSERT_EQ(mac1_vector.at("data").get<std::string>(), "00000000" "00001000" "01" "001122334455");

  const auto init = Run("805000010B01" "00001000" "001122334455");
  ASSERT_EQ(init.sw, emv::kSwSuccess);
  // balance 0 | online counter 0 | key version 01 | algorithm 00 (TDES) | random | MAC1
  EXPECT_EQ(H(init.data), "00000000" "0000" "01" "00" "11223344" +
                              mac1_vector.at("expected_mac").get<std::string>());
  EXPECT_EQ(mac1_vector.at("expected_mac").get<std::string>(), "2988AE5A");

  const std::string data = mac2_vector.at("data").get<std::string>();  // ... 20111221 214822
  const auto credit = Run("805200000B" + data.substr(22) + "3A845BF0");
  ASSERT_EQ(credit.sw, emv::kSwSuccess) << Sw(credit);
  // TAC = TAC(DTK, new balance | online counter before | amount | 01 | terminal | date | time).
  auto tac = crypto::PurseTac(PurseAlgorithm::kTdes, crypto::SecretBytes(Hex(testing::kPurseTacKey)),
                              Hex("00001000" "0000" "00001000" "01" "001122334455" "20111221214822"));
  ASSERT_TRUE(tac.ok());
  EXPECT_EQ(H(credit.data), H(*tac));
  EXPECT_EQ(applet_->state().balance_fen, 0x1000u);
  EXPECT_EQ(applet_->state().online_counter, 1);
  EXPECT_EQ(Sw(Run("805C000204")), "9000");
  EXPECT_EQ(H(Run("805C000204").data), "00001000");
}

// The EP load (P2 02, type 02): MAC1 and the accepted MAC2 check out with purse_crypto.h.
TEST_F(TransitAppletTest, EpLoadUsesType02) {
  const auto init = Run("805000020B01" "00000500" "112233445566");
  ASSERT_EQ(init.sw, emv::kSwSuccess);
  crypto::SecretBytes dlk(Hex(testing::kPurseVectorKey));
  auto sk = crypto::DerivePurseSessionKey(PurseAlgorithm::kTdes, dlk,
                                          crypto::LoadSessionInput(Hex("11223344"), 0));
  ASSERT_TRUE(sk.ok());
  EXPECT_EQ(H(sk->reveal()), "9B1D924E05595603");  // LOAD-SK
  auto mac1 = crypto::PurseSessionMac(PurseAlgorithm::kTdes, *sk,
                                      Hex("00000000" "00000500" "02" "112233445566"));
  EXPECT_EQ(H(ByteView(init.data).subspan(12)), H(*mac1));
  auto mac2 = crypto::PurseSessionMac(PurseAlgorithm::kTdes, *sk,
                                      Hex("00000500" "02" "112233445566" "20260301" "080000"));
  EXPECT_EQ(Sw(Run("805200000B" "20260301080000" + H(*mac2))), "9000");
  EXPECT_EQ(applet_->state().balance_fen, 0x500u);
  ASSERT_EQ(applet_->state().log.size(), 1u);
  EXPECT_EQ(H(applet_->state().log[0]),
            "0000" "000000" "00000500" "02" "112233445566" "20260301080000");
}

// PURCHASE-SK / MAC1 / MAC2 of pboc_purse.json: ETC 0, terminal seq ...0001, amount 00001000.
TEST_F(TransitAppletTest, PurchaseReproducesThePublishedVectorsAndProvesIt) {
  Open(TransitProfile("bj-2", PurseAlgorithm::kTdes, 0x1000));
  const auto init = Run("805001020B01" "00001000" "001122334455");
  ASSERT_EQ(init.sw, emv::kSwSuccess);
  // balance | ETC 0000 | overdraft 000000 | key version 01 | algorithm 00 | random 11223344
  EXPECT_EQ(H(init.data), "00001000" "0000" "000000" "01" "00" "11223344");
  const auto debit = Run("805401000F" "00000001" "20120229" "135100" "F15CAB75");
  ASSERT_EQ(debit.sw, emv::kSwSuccess) << Sw(debit);
  ASSERT_EQ(debit.data.size(), 8u);
  EXPECT_EQ(H(ByteView(debit.data).subspan(4)), "56988A13");  // PURCHASE-MAC2
  auto tac = crypto::PurseTac(PurseAlgorithm::kTdes, crypto::SecretBytes(Hex(testing::kPurseTacKey)),
                              Hex("00001000" "06" "001122334455" "00000001" "20120229135100"));
  ASSERT_TRUE(tac.ok());
  EXPECT_EQ(H(ByteView(debit.data).first(4)), H(*tac));
  EXPECT_EQ(applet_->state().balance_fen, 0u);
  EXPECT_EQ(applet_->state().offline_counter, 1);

  // Torn-transaction recovery: the same MAC2 and TAC, for that ETC and type only.
  const auto prove = Run("805A000602" "0000");
  ASSERT_EQ(prove.sw, emv::kSwSuccess);
  EXPECT_EQ(H(prove.data), "56988A13" + H(*tac));
  EXPECT_EQ(Sw(Run("805A000602" "0001")), "6A88");
  EXPECT_EQ(Sw(Run("805A000902" "0000")), "6A88");
  EXPECT_EQ(Sw(Run("805A000702" "0000")), "6A86");
  EXPECT_EQ(Sw(Run("805A00060100")), "6700");
}

TEST_F(TransitAppletTest, EveryRefusalLeavesBalanceAndCountersUnchanged) {
  Open(TransitProfile("bj-3", PurseAlgorithm::kTdes, 500));
  const TransitCardState before = applet_->state();
  // Insufficient balance.
  EXPECT_EQ(Sw(Run("805001020B01" "00000501" "001122334455")), "9401");
  // Bad MAC1, then the session is gone.
  ASSERT_EQ(Run("805001020B01" "00000100" "001122334455").sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("805401000F" "00000001" "20260301" "080000" "00000000")), "9302");
  EXPECT_EQ(Sw(Run("805401000F" "00000001" "20260301" "080000" "00000000")), "6985");
  // Debit without INITIALIZE, credit without INITIALIZE FOR LOAD.
  EXPECT_EQ(Sw(Run("805401000F" "00000001" "20260301" "080000" "00000000")), "6985");
  EXPECT_EQ(Sw(Run("805200000B" "20260301" "080000" "00000000")), "6985");
  // A date that is not BCD.
  ASSERT_EQ(Run("805001020B01" "00000100" "001122334455").sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("805401000F" "00000001" "2026AA01" "080000" "00000000")), "6A80");
  // Load above the cap (100000 fen), bad MAC2.
  EXPECT_EQ(Sw(Run("805000020B01" "000184AD" "001122334455")), "6985");  // 500 + 99501
  ASSERT_EQ(Run("805000020B01" "00000064" "001122334455").sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("805200000B" "20260301" "080000" "12345678")), "9302");
  // Key index, lengths, P1/P2, class, instruction.
  EXPECT_EQ(Sw(Run("805001020B02" "00000100" "001122334455")), "9403");
  EXPECT_EQ(Sw(Run("805001020A01" "00000100" "0011223344")), "6700");
  EXPECT_EQ(Sw(Run("805401000E" "00000001" "20260301" "080000" "000000")), "6700");
  EXPECT_EQ(Sw(Run("805C00020100")), "6700");
  EXPECT_EQ(Sw(Run("805002020B01" "00000100" "001122334455")), "6A86");
  EXPECT_EQ(Sw(Run("805003010B01" "00000100" "001122334455")), "6A86");  // CAPP is EP only
  EXPECT_EQ(Sw(Run("805C000304")), "6A86");
  EXPECT_EQ(Sw(Run("005C000204")), "6E00");
  EXPECT_EQ(Sw(Run("00B201C400")), "6A83");  // empty log
  EXPECT_EQ(Sw(Run("80B2011C00")), "6E00");
  EXPECT_EQ(Sw(Run("80CA9F3600")), "6D00");
  EXPECT_EQ(Sw(Run("8000000000")), "6D00");
  EXPECT_EQ(applet_->state(), before);
  DEVICE_ASSERT_OK_AND_ASSIGN(auto stored, store_->LoadTransitCards());
  EXPECT_EQ(stored.back().state, before);
}

TEST_F(TransitAppletTest, ACounterAtItsMaximumRefusesTheOperation) {
  DEVICE_ASSERT_OK_AND_ASSIGN(auto cards, store_->LoadTransitCards());
  cards[0].state.offline_counter = kTransitCounterMax;
  cards[0].state.online_counter = kTransitCounterMax;
  cards[0].state.balance_fen = 100;
  Attach(std::move(cards[0]));
  ASSERT_EQ(applet_->Select().sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("805001020B01" "00000001" "001122334455")), "6985");
  EXPECT_EQ(Sw(Run("805003020B01" "00000001" "001122334455")), "6985");
  EXPECT_EQ(Sw(Run("805000020B01" "00000001" "001122334455")), "6985");
}

TEST_F(TransitAppletTest, CappRecordCommitsOnlyWithTheDebit) {
  Open(TransitProfile("bj-4", PurseAlgorithm::kTdes, 1000));
  const std::string entry(96, 'A');
  const std::string exit(96, 'B');
  // UPDATE CAPP DATA CACHE needs INITIALIZE FOR CAPP PURCHASE.
  EXPECT_EQ(Sw(Run("80DC01D030" + entry)), "6985");
  ASSERT_EQ(Run("805001020B01" "00000000" "001122334455").sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("80DC01D030" + entry)), "6985");
  ASSERT_EQ(Run("805003020B01" "00000000" "001122334455").sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("80DC01D02F" + entry.substr(2))), "6700");
  EXPECT_EQ(Sw(Run("80DC01D830" + entry)), "6A86");

  // Entry: amount 0, record staged then committed with the debit.
  const auto debit = Purchase(0, true, 7, "20260301080000", entry);
  ASSERT_EQ(debit.sw, emv::kSwSuccess) << Sw(debit);
  EXPECT_EQ(H(Run("00B201D430").data), entry);
  EXPECT_EQ(Sw(Run("00B202D400")), "6A83");
  ASSERT_EQ(applet_->state().log.size(), 1u);
  EXPECT_EQ(applet_->state().log[0][9], kTransitTypeCappPurchase);
  EXPECT_EQ(Sw(Run("805A000902" "0000")), "9000");

  // Exit staged but the card leaves the field before the debit: the record stays the entry.
  ASSERT_EQ(Run("805003020B01" "00000190" "001122334455").sw, emv::kSwSuccess);
  ASSERT_EQ(Run("80DC01D030" + exit).sw, emv::kSwSuccess);
  ASSERT_EQ(applet_->Select().sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("805401000F" "00000008" "20260301" "083000" "00000000")), "6985");
  EXPECT_EQ(H(Run("00B201D430").data), entry);
  EXPECT_EQ(applet_->state().balance_fen, 1000u);

  // Exit with its debit.
  ASSERT_EQ(Purchase(400, true, 8, "20260301083000", exit).sw, emv::kSwSuccess);
  EXPECT_EQ(H(Run("00B201D430").data), exit);
  EXPECT_EQ(applet_->state().balance_fen, 600u);
  DEVICE_ASSERT_OK_AND_ASSIGN(auto stored, store_->LoadTransitCards());
  EXPECT_EQ(H(stored.back().state.capp_record), exit);
}

TEST_F(TransitAppletTest, LogIsCyclicNewestFirstAndDropsTheOldest) {
  Open(TransitProfile("bj-5", PurseAlgorithm::kTdes, 1000));
  for (std::uint32_t i = 0; i < 11; ++i) {
    ASSERT_EQ(Purchase(i + 1, false, 100 + i, "20260301080000").sw, emv::kSwSuccess) << i;
  }
  EXPECT_EQ(applet_->state().offline_counter, 11);
  EXPECT_EQ(applet_->state().balance_fen, 1000u - 66u);
  // Record 1: ETC 10 (the 11th purchase), 23 bytes in the documented layout.
  const auto newest = Run("00B201C417");
  ASSERT_EQ(newest.sw, emv::kSwSuccess);
  EXPECT_EQ(H(newest.data), "000A" "000000" "0000000B" "06" "001122334455" "20260301080000");
  // Record 10: ETC 1; ETC 0 was dropped; there is no record 11.
  EXPECT_EQ(H(ByteView(Run("00B20AC400").data).first(2)), "0001");
  EXPECT_EQ(Sw(Run("00B20BC400")), "6A83");
  EXPECT_EQ(Sw(Run("00B200C400")), "6A86");
  EXPECT_EQ(Sw(Run("00B201C000")), "6A86");  // P2 must say "record number in P1"
  EXPECT_EQ(Sw(Run("00B201BC00")), "6A82");   // SFI 17 is not a record file
}

TEST_F(TransitAppletTest, PublicAndManagementFilesHaveTheContractLayout) {
  const auto select = applet_->Select();
  ASSERT_EQ(select.sw, emv::kSwSuccess);
  const auto sfi15 = Run("00B0950000");
  ASSERT_EQ(sfi15.sw, emv::kSwSuccess);
  EXPECT_EQ(H(sfi15.data), "1000000000000001" "02" "01" "10000000000000012345" "20260101"
                           "20361231" "0000");
  // The FCI carries the same public data (9F0C).
  EXPECT_NE(H(select.data).find(H(sfi15.data)), std::string::npos);
  EXPECT_EQ(H(Run("00B095140A").data), "20260101" "20361231" "0000");  // offset 20
  const auto sfi17 = Run("00B0970000");
  ASSERT_EQ(sfi17.data.size(), kTransitManagementDataBytes);
  EXPECT_EQ(H(ByteView(sfi17.data).first(11)), "0156" "0000" "1100" "1000" "0001" "01");
  EXPECT_EQ(Sw(Run("00B0951E00")), "6A86");  // offset past the end
  EXPECT_EQ(Sw(Run("00B0960000")), "6A82");
  EXPECT_EQ(Sw(Run("00B0150000")), "6A86");  // P1 without the SFI flag
}

TEST_F(TransitAppletTest, ApplicationBlockNeedsAFreshChallengeAndTheMaintenanceMac) {
  Open(TransitProfile("bj-6", PurseAlgorithm::kTdes, 1000));
  EXPECT_EQ(Sw(Run("841E000004" "00000000")), "6985");  // no challenge
  const auto challenge = Run("0084000008");
  ASSERT_EQ(challenge.sw, emv::kSwSuccess);
  ASSERT_EQ(challenge.data.size(), 8u);
  EXPECT_EQ(Sw(Run("841E000004" "00000000")), "9302");
  const crypto::SecretBytes key(Hex(testing::kPurseMaintenanceKey));
  // A MAC over the old challenge is refused: each challenge serves one attempt.
  auto stale = crypto::PurseSecureMessagingMac(PurseAlgorithm::kTdes, key, challenge.data,
                                               Hex("841E000004"));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(Sw(Run("841E000004" + H(*stale))), "6985");
  EXPECT_FALSE(applet_->state().blocked);

  const auto fresh = Run("0084000008");
  auto mac = crypto::PurseSecureMessagingMac(PurseAlgorithm::kTdes, key, fresh.data,
                                             Hex("841E000004"));
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(Sw(Run("801E000004" + H(*mac))), "6E00");
  const auto again = Run("0084000008");
  mac = crypto::PurseSecureMessagingMac(PurseAlgorithm::kTdes, key, again.data,
                                        Hex("841E000004"));
  EXPECT_EQ(Sw(Run("841E000004" + H(*mac))), "9000");
  EXPECT_TRUE(applet_->state().blocked);
  EXPECT_EQ(applet_->Select().sw, emv::kSwSelectedFileInvalidated);
  EXPECT_EQ(Sw(Run("805001020B01" "00000001" "001122334455")), "9303");
  EXPECT_EQ(Sw(Run("805000020B01" "00000001" "001122334455")), "9303");
  EXPECT_EQ(Sw(Run("805A000602" "0000")), "9303");
  EXPECT_EQ(Sw(Run("00B0950000")), "9000");  // files stay readable
  DEVICE_ASSERT_OK_AND_ASSIGN(auto stored, store_->LoadTransitCards());
  EXPECT_TRUE(stored.back().state.blocked);
}

// The operator refunds or migrates a card after blocking it, so GET BALANCE answers the final
// balance on a blocked card; reading it changes nothing and every money command stays refused.
TEST_F(TransitAppletTest, GetBalanceAnswersOnABlockedCardAndChangesNothing) {
  Open(TransitProfile("bj-6b", PurseAlgorithm::kTdes, 1000));
  ASSERT_EQ(Purchase(250).sw, emv::kSwSuccess);
  const auto challenge = Run("0084000008");
  ASSERT_EQ(challenge.sw, emv::kSwSuccess);
  const crypto::SecretBytes key(Hex(testing::kPurseMaintenanceKey));
  auto mac = crypto::PurseSecureMessagingMac(PurseAlgorithm::kTdes, key, challenge.data,
                                             Hex("841E000004"));
  ASSERT_TRUE(mac.ok());
  ASSERT_EQ(Sw(Run("841E000004" + H(*mac))), "9000");
  const TransitCardState blocked = applet_->state();
  ASSERT_TRUE(blocked.blocked);

  const auto balance = Run("805C000204");
  EXPECT_EQ(Sw(balance), "9000");
  EXPECT_EQ(H(balance.data), Amount(750));
  EXPECT_EQ(Sw(Run("805C000104")), "9000");  // the ED view of the same balance
  EXPECT_EQ(Sw(Run("005C000204")), "6E00");  // still checks the class
  EXPECT_EQ(Sw(Run("805C010204")), "6A86");
  EXPECT_EQ(Sw(Run("805001020B01" "00000001" "001122334455")), "9303");
  EXPECT_EQ(Sw(Run("805000020B01" "00000001" "001122334455")), "9303");
  EXPECT_EQ(applet_->state().balance_fen, blocked.balance_fen);
  EXPECT_EQ(applet_->state().offline_counter, blocked.offline_counter);
  EXPECT_EQ(applet_->state().online_counter, blocked.online_counter);
  EXPECT_TRUE(applet_->state().blocked);
}

// Durable before answered: when the store refuses the write the card answers 6581 and keeps its
// old state; the next attempt, with the store healthy again, starts from that state.
TEST_F(TransitAppletTest, AFailedWriteAnswers6581AndChangesNothing) {
  Open(TransitProfile("bj-7", PurseAlgorithm::kTdes, 1000));
  const TransitCardState before = applet_->state();
  DEVICE_ASSERT_OK_AND_ASSIGN(auto other,
                              store::OpenSqlite(dir_.path() / std::string(kDeviceId),
                                                "secure_element"));
  DEVICE_ASSERT_OK(other->ExecuteScript(
      "CREATE TRIGGER fail_transit BEFORE UPDATE ON transit_cards"
      " BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;"));
  EXPECT_EQ(Sw(Purchase(100)), "6581");
  EXPECT_EQ(applet_->state(), before);
  EXPECT_EQ(Sw(Run("805A000602" "0000")), "6A88");
  DEVICE_ASSERT_OK(other->ExecuteScript("DROP TRIGGER fail_transit;"));
  EXPECT_EQ(applet_->state(), before);
  const auto debit = Purchase(100);
  ASSERT_EQ(debit.sw, emv::kSwSuccess);
  EXPECT_EQ(applet_->state().balance_fen, 900u);
  EXPECT_EQ(applet_->state().offline_counter, 1);
}

// SM4 keys: the same commands; the test computes the terminal and host side with purse_crypto.h.
TEST_F(TransitAppletTest, Sm4CardCompletesALoadAndAPurchase) {
  applet_profile_algorithm_ = PurseAlgorithm::kSm4;
  Open(TransitProfile("sz-1", PurseAlgorithm::kSm4, 0));
  const auto init = Run("805000020B01" "00002710" "112233445566");
  ASSERT_EQ(init.sw, emv::kSwSuccess);
  EXPECT_EQ(init.data[7], crypto::PurseAlgorithmId(PurseAlgorithm::kSm4));
  crypto::SecretBytes key(Hex(testing::kPurseVectorKey));
  auto sk = crypto::DerivePurseSessionKey(PurseAlgorithm::kSm4, key,
                                          crypto::LoadSessionInput(Hex("11223344"), 0));
  ASSERT_TRUE(sk.ok());
  auto mac1 = crypto::PurseSessionMac(PurseAlgorithm::kSm4, *sk,
                                      Hex("00000000" "00002710" "02" "112233445566"));
  ASSERT_TRUE(mac1.ok());
  EXPECT_EQ(H(ByteView(init.data).subspan(12)), H(*mac1));
  auto mac2 = crypto::PurseSessionMac(PurseAlgorithm::kSm4, *sk,
                                      Hex("00002710" "02" "112233445566" "20260301" "080000"));
  const auto credit = Run("805200000B" "20260301080000" + H(*mac2));
  ASSERT_EQ(credit.sw, emv::kSwSuccess);
  auto load_tac = crypto::PurseTac(PurseAlgorithm::kSm4,
                                   crypto::SecretBytes(Hex(testing::kPurseTacKey)),
                                   Hex("00002710" "0000" "00002710" "02" "112233445566"
                                       "20260301080000"));
  EXPECT_EQ(H(credit.data), H(*load_tac));

  const auto debit = Purchase(300, false, 0x00010002, "20260301090000");
  ASSERT_EQ(debit.sw, emv::kSwSuccess) << Sw(debit);
  auto psk = crypto::DerivePurseSessionKey(
      PurseAlgorithm::kSm4, key, crypto::PurchaseSessionInput(Hex("11223344"), 0, 0x00010002));
  auto expected_mac2 = crypto::PurseSessionMac(PurseAlgorithm::kSm4, *psk, Hex("0000012C"));
  EXPECT_EQ(H(ByteView(debit.data).subspan(4)), H(*expected_mac2));
  auto tac = crypto::PurseTac(PurseAlgorithm::kSm4,
                              crypto::SecretBytes(Hex(testing::kPurseTacKey)),
                              Hex("0000012C" "06" "001122334455" "00010002" "20260301090000"));
  EXPECT_EQ(H(ByteView(debit.data).first(4)), H(*tac));
  EXPECT_EQ(applet_->state().balance_fen, 10000u - 300u);
}

TEST_F(TransitAppletTest, SelectAndDeselectEndTheSession) {
  Open(TransitProfile("bj-8", PurseAlgorithm::kTdes, 1000));
  ASSERT_EQ(Run("805001020B01" "00000001" "001122334455").sw, emv::kSwSuccess);
  applet_->Deselect();
  EXPECT_EQ(Sw(Run("805401000F" "00000001" "20260301" "080000" "00000000")), "6985");
  ASSERT_EQ(Run("805000020B01" "00000001" "001122334455").sw, emv::kSwSuccess);
  EXPECT_EQ(Sw(Run("00B201C400")), "6A83");  // any error ends the session too
  EXPECT_EQ(Sw(Run("805200000B" "20260301" "080000" "00000000")), "6985");
}

}  // namespace
}  // namespace tapstack::device
