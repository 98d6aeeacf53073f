#include "device/secure_element.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "crypto/purse_crypto.h"
#include "device_test_util.h"
#include "emv/arqc_engine.h"
#include "emv/contactless_commands.h"
#include "support/vectors.h"

namespace tapstack::device {
namespace {

using testing::DataOf;
using testing::HceCredentials;
using testing::Hex;
using testing::MasterKeyCredentials;
using testing::OpenDevice;
using testing::Send;
using testing::SwOf;
using testing::TempDir;
using testing::WrapFor;

using testing::kCdolData;
using testing::kPdolData;

Bytes Run(SecureElement& se, const Result<emv::CommandApdu>& command) {
  EXPECT_TRUE(command.ok());
  Result<Bytes> bytes = emv::EncodeCommandApdu(*command);
  EXPECT_TRUE(bytes.ok());
  return se.Transmit(*bytes);
}

// SELECT AID, GPO, GENERATE AC (ARQC asked).
emv::GenerateAcResponse Tap(SecureElement& se, std::string_view token_id) {
  Result<Bytes> aid = se.TokenAid(token_id);
  EXPECT_TRUE(aid.ok());
  EXPECT_EQ(SwOf(Run(se, emv::SelectAid(*aid))), 0x9000);
  EXPECT_EQ(SwOf(Run(se, emv::GetProcessingOptions(Hex(kPdolData)))), 0x9000);
  const Bytes ac = Run(se, emv::GenerateAc(emv::CryptogramType::kArqc, false, Hex(kCdolData)));
  EXPECT_EQ(SwOf(ac), 0x9000);
  Result<emv::GenerateAcResponse> parsed = emv::ParseGenerateAcResponse(DataOf(ac));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : emv::GenerateAcResponse{};
}

TEST(SecureElementTest, TheTestImkIsThePublishedVectorsKey) {
  const auto v =
      tapstack::testing::VectorById(tapstack::testing::LoadVectors("emv_crypto.json"), "CVN-MC-20");
  EXPECT_EQ(v.at("imk_ac").get<std::string>(), testing::kTestImk);
}

TEST(SecureElementTest, KeyPairIsCreatedOnceAndKeptAcrossRestarts) {
  TempDir dir;
  ManualClock clock;
  Bytes first;
  {
    auto se = OpenDevice(dir.path(), "phone-1", &clock);
    ASSERT_NE(se, nullptr);
    first = se->public_key();
    EXPECT_EQ(first.size(), crypto::kEcdhP256PublicKeyBytes);
  }
  auto again = OpenDevice(dir.path(), "phone-1", &clock);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->public_key(), first);
  auto other = OpenDevice(dir.path(), "phone-2", &clock);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->public_key(), first);
  SecureElementOptions bad;
  bad.data_dir = dir.path();
  bad.device_id = "../phone";
  EXPECT_EQ(SecureElement::Open(bad).status().code(), ErrorCode::kInvalidArgument);
}

TEST(SecureElementTest, ABlobWrappedForDeviceAIsRefusedByDeviceB) {
  TempDir dir;
  ManualClock clock;
  auto a = OpenDevice(dir.path(), "phone-a", &clock);
  auto b = OpenDevice(dir.path(), "phone-b", &clock);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const Bytes for_a = WrapFor(*a, MasterKeyCredentials());
  EXPECT_EQ(b->InstallToken("tok-1", for_a).code(), ErrorCode::kCryptoFailure);
  EXPECT_TRUE(b->TokenIds().empty());

  Bytes tampered = for_a;
  tampered[tampered.size() / 2] ^= 0x40;
  EXPECT_EQ(a->InstallToken("tok-1", tampered).code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(a->InstallToken("tok-2", for_a).code(), ErrorCode::kCryptoFailure);  // other token
  EXPECT_TRUE(a->TokenIds().empty());

  DEVICE_ASSERT_OK(a->InstallToken("tok-1", for_a));
  EXPECT_EQ(a->InstallToken("tok-1", for_a).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(a->TokenIds(), std::vector<std::string>{"tok-1"});
}

TEST(SecureElementTest, UnsupportedProfilesAreRefused) {
  TempDir dir;
  ManualClock clock;
  auto se = OpenDevice(dir.path(), "phone-1", &clock);
  ASSERT_NE(se, nullptr);
  TokenCredentials c = MasterKeyCredentials();
  c.profile_name = "visa-cvn10";
  EXPECT_EQ(se->InstallToken("tok-1", WrapFor(*se, c)).code(), ErrorCode::kInvalidArgument);
}

TEST(SecureElementTest, AtcContinuesAfterARestartAndNeverRepeats) {
  TempDir dir;
  ManualClock clock;
  std::vector<std::uint16_t> seen;
  {
    auto se = OpenDevice(dir.path(), "phone-1", &clock);
    ASSERT_NE(se, nullptr);
    DEVICE_ASSERT_OK(se->InstallToken("tok-1", WrapFor(*se, MasterKeyCredentials())));
    for (int i = 0; i < 3; ++i) seen.push_back(Tap(*se, "tok-1").atc);
  }
  auto se = OpenDevice(dir.path(), "phone-1", &clock);
  ASSERT_NE(se, nullptr);
  DEVICE_ASSERT_OK_AND_ASSIGN(const std::uint16_t stored, se->Atc("tok-1"));
  EXPECT_EQ(stored, 3);
  se->BiometricVerified();
  const emv::GenerateAcResponse ac = Tap(*se, "tok-1");
  seen.push_back(ac.atc);
  EXPECT_EQ(seen, (std::vector<std::uint16_t>{1, 2, 3, 4}));
  EXPECT_EQ(ac.cid, kCidArqc);
}

TEST(SecureElementTest, TwoTokensGetTheirOwnAidsAndAtcs) {
  TempDir dir;
  ManualClock clock;
  auto se = OpenDevice(dir.path(), "phone-1", &clock);
  ASSERT_NE(se, nullptr);
  DEVICE_ASSERT_OK(se->InstallToken("tok-1", WrapFor(*se, MasterKeyCredentials())));
  DEVICE_ASSERT_OK(
      se->InstallToken("tok-2", WrapFor(*se, MasterKeyCredentials("tok-2", "5413330089600028"))));
  DEVICE_ASSERT_OK_AND_ASSIGN(const Bytes aid1, se->TokenAid("tok-1"));
  DEVICE_ASSERT_OK_AND_ASSIGN(const Bytes aid2, se->TokenAid("tok-2"));
  EXPECT_NE(aid1, aid2);
  EXPECT_EQ(Tap(*se, "tok-2").atc, 1);
  EXPECT_EQ(Tap(*se, "tok-2").atc, 2);
  EXPECT_EQ(Tap(*se, "tok-1").atc, 1);
}

TEST(SecureElementTest, HceKeysAreUsedOnceThenReplenishedThenExhausted) {
  TempDir dir;
  ManualClock clock;
  auto se = OpenDevice(dir.path(), "phone-1", &clock);
  ASSERT_NE(se, nullptr);
  DEVICE_ASSERT_OK(se->InstallToken("tok-h", WrapFor(*se, HceCredentials("tok-h", 4))));
  DEVICE_ASSERT_OK_AND_ASSIGN(std::size_t left, se->LimitedUseKeysRemaining("tok-h"));
  EXPECT_EQ(left, 4u);
  DEVICE_ASSERT_OK_AND_ASSIGN(bool replenish, se->ReplenishNeeded("tok-h"));
  EXPECT_FALSE(replenish);

  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer,
                              emv::ArqcEngine::Create(testing::Profile(), testing::TestImk()));
  emv::TagValues terminal;
  for (auto [tag, value] : {std::pair{"9F02", "000000001234"},
                            {"9F03", "000000000000"},
                            {"9F1A", "0156"},
                            {"95", "0000000000"},
                            {"5F2A", "0156"},
                            {"9A", "260101"},
                            {"9C", "00"},
                            {"9F37", "11223344"},
                            {"82", "1680"}}) {
    DEVICE_ASSERT_OK(terminal.SetHex(tag, value));
  }
  for (std::uint16_t expected_atc = 1; expected_atc <= 2; ++expected_atc) {
    se->BiometricVerified();
    const emv::GenerateAcResponse ac = Tap(*se, "tok-h");
    EXPECT_EQ(ac.cid, kCidArqc);
    EXPECT_EQ(ac.atc, expected_atc);
    // The single-use key was the issuer's session key for that ATC.
    emv::ArqcInput in{.pan = testing::kTokenNumber,
                      .psn = testing::kPsn,
                      .atc = ac.atc,
                      .unpredictable_number = {},
                      .iad = ac.iad,
                      .tags = emv::TagSources{&terminal},
                      .ac_data_dol = {}};
    ASSERT_TRUE(ac.ac.has_value());
    DEVICE_ASSERT_OK(issuer.VerifyArqc(in, *ac.ac));
  }
  DEVICE_ASSERT_OK_AND_ASSIGN(left, se->LimitedUseKeysRemaining("tok-h"));
  EXPECT_EQ(left, 2u);
  DEVICE_ASSERT_OK_AND_ASSIGN(replenish, se->ReplenishNeeded("tok-h"));
  EXPECT_TRUE(replenish);  // fewer than 3 left

  // A declined tap (no biometric) still burns a key: each key signs one cryptogram only.
  EXPECT_EQ(Tap(*se, "tok-h").cid, kCidAac);
  se->BiometricVerified();
  EXPECT_EQ(Tap(*se, "tok-h").atc, 4);
  DEVICE_ASSERT_OK_AND_ASSIGN(left, se->LimitedUseKeysRemaining("tok-h"));
  EXPECT_EQ(left, 0u);

  // Exhausted: AAC with CID 01, no new ATC, zero AC.
  se->BiometricVerified();
  emv::GenerateAcResponse ac = Tap(*se, "tok-h");
  EXPECT_EQ(ac.cid, kCidAacServiceNotAllowed);
  EXPECT_EQ(ac.atc, 4);
  ASSERT_TRUE(ac.ac.has_value());
  EXPECT_EQ(*ac.ac, crypto::ApplicationCryptogram{});

  // Replenish: a batch for another device is refused; the right one restores service.
  TokenCredentials batch;
  batch.token_id = "tok-h";
  batch.mode = KeyMode::kLimitedUse;
  batch.limited_use_keys = testing::LimitedUseKeys(5, 3);
  auto other = OpenDevice(dir.path(), "phone-2", &clock);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(se->ReplenishLimitedUseKeys("tok-h", WrapFor(*other, batch, true)).code(),
            ErrorCode::kCryptoFailure);
  DEVICE_ASSERT_OK(se->ReplenishLimitedUseKeys("tok-h", WrapFor(*se, batch, true)));
  DEVICE_ASSERT_OK_AND_ASSIGN(replenish, se->ReplenishNeeded("tok-h"));
  EXPECT_FALSE(replenish);
  se->BiometricVerified();
  ac = Tap(*se, "tok-h");
  EXPECT_EQ(ac.cid, kCidArqc);
  EXPECT_EQ(ac.atc, 5);
  emv::ArqcInput in{.pan = testing::kTokenNumber,
                    .psn = testing::kPsn,
                    .atc = ac.atc,
                    .unpredictable_number = {},
                    .iad = ac.iad,
                    .tags = emv::TagSources{&terminal},
                    .ac_data_dol = {}};
  DEVICE_ASSERT_OK(issuer.VerifyArqc(in, *ac.ac));

  // Keys that were used are gone after a restart too.
  se.reset();
  auto reopened = OpenDevice(dir.path(), "phone-1", &clock);
  ASSERT_NE(reopened, nullptr);
  DEVICE_ASSERT_OK_AND_ASSIGN(left, reopened->LimitedUseKeysRemaining("tok-h"));
  EXPECT_EQ(left, 2u);
  EXPECT_EQ(reopened->ReplenishLimitedUseKeys("tok-h", WrapFor(*reopened, batch, true)).code(),
            ErrorCode::kInvalidArgument);  // ATCs 5-7 are not above the ATC any more / held
}

TEST(SecureElementTest, ReplenishingAMasterKeyTokenIsRefused) {
  TempDir dir;
  ManualClock clock;
  auto se = OpenDevice(dir.path(), "phone-1", &clock);
  ASSERT_NE(se, nullptr);
  DEVICE_ASSERT_OK(se->InstallToken("tok-1", WrapFor(*se, MasterKeyCredentials())));
  TokenCredentials batch;
  batch.token_id = "tok-1";
  batch.mode = KeyMode::kLimitedUse;
  batch.limited_use_keys = testing::LimitedUseKeys(5, 1);
  EXPECT_EQ(se->ReplenishLimitedUseKeys("tok-1", WrapFor(*se, batch, true)).code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(se->ReplenishLimitedUseKeys("nope", WrapFor(*se, batch, true)).code(),
            ErrorCode::kNotFound);
  DEVICE_ASSERT_OK_AND_ASSIGN(const bool replenish, se->ReplenishNeeded("tok-1"));
  EXPECT_FALSE(replenish);
}

// ---- Transit cards ------------------------------------------------------------------------------

std::string HexOf(ByteView bytes) { return HexEncode(bytes); }
constexpr std::string_view kSelectTUnion = "00A4040008A000000632010105";

// A terminal purchase over `send` (Transmit or the wallet channel) with the MAC1 computed here.
template <typename SendFn>
Bytes TransitPurchase(SendFn send, std::uint32_t amount, std::uint32_t seq) {
  const Bytes init = send("805001020B01" + HexOf(UintToBytes(amount, 4)) + "001122334455");
  EXPECT_EQ(SwOf(init), 0x9000);
  if (SwOf(init) != 0x9000) return init;
  const ByteView data(init.data(), init.size() - 2);
  const auto etc = static_cast<std::uint16_t>(BytesToUint(data.subspan(4, 2)));
  crypto::SecretBytes dpk(Hex(testing::kPurseVectorKey));
  auto sk = crypto::DerivePurseSessionKey(
      crypto::PurseAlgorithm::kTdes, dpk,
      crypto::PurchaseSessionInput(data.subspan(11, 4), etc, seq));
  EXPECT_TRUE(sk.ok());
  auto mac1 = crypto::PurseSessionMac(
      crypto::PurseAlgorithm::kTdes, *sk,
      Concat({UintToBytes(amount, 4), Hex("06001122334455"), Hex("20260301080000")}));
  EXPECT_TRUE(mac1.ok());
  return send("805401000F" + HexOf(UintToBytes(seq, 4)) + "20260301080000" + HexOf(*mac1));
}

// A wallet top-up: INITIALIZE FOR LOAD, the host's MAC2 computed here, CREDIT FOR LOAD.
Bytes TransitLoad(SecureElement& se, std::string_view card_id, std::uint32_t amount) {
  const Bytes init = se.TransmitToTransitCard(
      card_id, Hex("805000020B01" + HexOf(UintToBytes(amount, 4)) + "112233445566"));
  EXPECT_EQ(SwOf(init), 0x9000);
  if (SwOf(init) != 0x9000) return init;
  const ByteView data(init.data(), init.size() - 2);
  const auto online = static_cast<std::uint16_t>(BytesToUint(data.subspan(4, 2)));
  crypto::SecretBytes dlk(Hex(testing::kPurseVectorKey));
  auto sk = crypto::DerivePurseSessionKey(crypto::PurseAlgorithm::kTdes, dlk,
                                          crypto::LoadSessionInput(data.subspan(8, 4), online));
  EXPECT_TRUE(sk.ok());
  auto mac2 = crypto::PurseSessionMac(
      crypto::PurseAlgorithm::kTdes, *sk,
      Concat({UintToBytes(amount, 4), Hex("02112233445566"), Hex("20260301070000")}));
  EXPECT_TRUE(mac2.ok());
  return se.TransmitToTransitCard(card_id, Hex("805200000B20260301070000" + HexOf(*mac2)));
}

std::uint32_t WalletBalance(SecureElement& se, std::string_view card_id) {
  const Bytes r = se.TransmitToTransitCard(card_id, Hex("805C000204"));
  EXPECT_EQ(SwOf(r), 0x9000);
  return static_cast<std::uint32_t>(BytesToUint(DataOf(r)));
}

TEST(SecureElementTest, TransitInstallRefusesForeignTamperedAndDuplicateProfiles) {
  TempDir dir;
  ManualClock clock;
  auto a = OpenDevice(dir.path(), "phone-a", &clock);
  auto b = OpenDevice(dir.path(), "phone-b", &clock);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const Bytes for_a = testing::WrapTransitFor(*a, testing::TransitProfile("bj-1"));
  EXPECT_EQ(b->InstallTransitCard("bj-1", for_a).code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(a->InstallTransitCard("bj-2", for_a).code(), ErrorCode::kCryptoFailure);
  TransitCardProfile bad = testing::TransitProfile("bj-1");
  bad.serial = Hex("01");
  EXPECT_EQ(a->InstallTransitCard("bj-1", testing::WrapTransitFor(*a, bad)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(a->TransitCardIds().empty());
  EXPECT_EQ(a->ExpressTransitCard().status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(SwOf(Send(*a, kSelectTUnion)), 0x6A82);  // no transit card yet

  DEVICE_ASSERT_OK(a->InstallTransitCard("bj-1", for_a));
  EXPECT_EQ(a->InstallTransitCard("bj-1", for_a).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(a->TransitCardIds(), std::vector<std::string>{"bj-1"});
  DEVICE_ASSERT_OK_AND_ASSIGN(const std::string express, a->ExpressTransitCard());
  EXPECT_EQ(express, "bj-1");
  EXPECT_EQ(a->RemoveTransitCard("nope").code(), ErrorCode::kNotFound);
  EXPECT_EQ(a->SetExpressTransitCard("nope").code(), ErrorCode::kNotFound);
  EXPECT_EQ(SwOf(a->TransmitToTransitCard("nope", Hex("805C000204"))), 0x6A82);
}

// Express mode: the gate's SELECT reaches the express card with no biometric; the wallet's
// channel reaches any card; the transit AID stays out of the PPSE.
TEST(SecureElementTest, ExpressCardAnswersTheGateWithoutBiometricAndWalletReachesAnyCard) {
  TempDir dir;
  ManualClock clock;
  testing::FixedRandom random;
  auto se = OpenDevice(dir.path(), "phone-1", &clock, &random);
  ASSERT_NE(se, nullptr);
  DEVICE_ASSERT_OK(se->InstallToken("tok-1", WrapFor(*se, MasterKeyCredentials())));
  DEVICE_ASSERT_OK(se->InstallTransitCard(
      "bj-1", testing::WrapTransitFor(*se, testing::TransitProfile("bj-1", {}, 1000))));
  DEVICE_ASSERT_OK(se->InstallTransitCard(
      "sh-1", testing::WrapTransitFor(*se, testing::TransitProfile("sh-1", {}, 0))));
  EXPECT_EQ(se->TransitCardIds(), (std::vector<std::string>{"bj-1", "sh-1"}));

  const Bytes ppse = Send(*se, "00A404000E325041592E5359532E444446303100");
  ASSERT_EQ(SwOf(ppse), 0x9000);
  EXPECT_EQ(HexOf(ppse).find("A000000632010105"), std::string::npos);

  // No BiometricVerified(): the purse still pays.
  ASSERT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x9000);
  auto gate = [&](const std::string& hex) { return se->Transmit(Hex(hex)); };
  EXPECT_EQ(SwOf(TransitPurchase(gate, 300, 1)), 0x9000);
  EXPECT_EQ(WalletBalance(*se, "bj-1"), 700u);

  // The wallet tops up the other card; the gate keeps reaching the express one.
  EXPECT_EQ(SwOf(TransitLoad(*se, "sh-1", 2000)), 0x9000);
  EXPECT_EQ(WalletBalance(*se, "sh-1"), 2000u);
  ASSERT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x9000);
  EXPECT_EQ(HexOf(DataOf(Send(*se, "805C000204"))), "000002BC");

  DEVICE_ASSERT_OK(se->SetExpressTransitCard("sh-1"));
  // The gate's session on the old express card ended with the switch.
  EXPECT_EQ(SwOf(Send(*se, "805C000204")), 0x6985);
  ASSERT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x9000);
  EXPECT_EQ(HexOf(DataOf(Send(*se, "805C000204"))), "000007D0");
  // Selecting a payment token ends the transit session.
  DEVICE_ASSERT_OK_AND_ASSIGN(const Bytes aid, se->TokenAid("tok-1"));
  ASSERT_EQ(SwOf(Send(*se, "00A4040009" + HexOf(aid) + "00")), 0x9000);
  EXPECT_EQ(SwOf(Send(*se, "805C000204")), 0x6D00);  // the payment applet does not know 5C
}

// One card, two channels: neither half-completes the other's transaction.
TEST(SecureElementTest, TerminalAndWalletSessionsOnOneCardNeverInterleave) {
  TempDir dir;
  ManualClock clock;
  testing::FixedRandom random;
  auto se = OpenDevice(dir.path(), "phone-1", &clock, &random);
  ASSERT_NE(se, nullptr);
  DEVICE_ASSERT_OK(se->InstallTransitCard(
      "bj-1", testing::WrapTransitFor(*se, testing::TransitProfile("bj-1", {}, 1000))));
  // The wallet starts a load; a gate selects the same card; the wallet's CREDIT is refused.
  ASSERT_EQ(SwOf(se->TransmitToTransitCard("bj-1", Hex("805000020B0100000064112233445566"))),
            0x9000);
  ASSERT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x9000);
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("bj-1", Hex("805200000B2026030107000000000000"))),
            0x6985);
  // The gate's INITIALIZE; the wallet addresses the card; the gate's DEBIT is refused.
  ASSERT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x9000);
  ASSERT_EQ(SwOf(Send(*se, "805001020B0100000064001122334455")), 0x9000);
  EXPECT_EQ(WalletBalance(*se, "bj-1"), 1000u);
  EXPECT_EQ(SwOf(Send(*se, "805401000F000000012026030108000000000000")), 0x6985);
  EXPECT_EQ(WalletBalance(*se, "bj-1"), 1000u);
  // An explicit SELECT on the wallet channel answers the FCI; another AID is not there.
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("bj-1", Hex(kSelectTUnion))), 0x9000);
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("bj-1", Hex("00A4040007A000000004101000"))), 0x6A82);
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("bj-1", Hex("00A4"))), 0x6700);
}

TEST(SecureElementTest, TransitCardsSurviveAReopenWithBalanceLogBlockAndExpress) {
  TempDir dir;
  ManualClock clock;
  testing::FixedRandom random;
  Bytes proof;
  {
    auto se = OpenDevice(dir.path(), "phone-1", &clock, &random);
    ASSERT_NE(se, nullptr);
    DEVICE_ASSERT_OK(se->InstallTransitCard(
        "bj-1", testing::WrapTransitFor(*se, testing::TransitProfile("bj-1", {}, 1000))));
    DEVICE_ASSERT_OK(se->InstallTransitCard(
        "sh-1", testing::WrapTransitFor(*se, testing::TransitProfile("sh-1", {}, 0))));
    DEVICE_ASSERT_OK(se->InstallTransitCard(
        "gz-1", testing::WrapTransitFor(*se, testing::TransitProfile("gz-1", {}, 50))));
    ASSERT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x9000);
    auto gate = [&](const std::string& hex) { return se->Transmit(Hex(hex)); };
    const Bytes debit = TransitPurchase(gate, 250, 9);
    ASSERT_EQ(SwOf(debit), 0x9000);
    proof = Concat({ByteView(debit).subspan(4, 4), ByteView(debit).first(4)});  // MAC2 | TAC
    ASSERT_EQ(SwOf(TransitLoad(*se, "sh-1", 500)), 0x9000);
    // Block gz-1 from the wallet before deletion.
    const Bytes challenge = se->TransmitToTransitCard("gz-1", Hex("0084000008"));
    auto mac = crypto::PurseSecureMessagingMac(
        crypto::PurseAlgorithm::kTdes, crypto::SecretBytes(Hex(testing::kPurseMaintenanceKey)),
        DataOf(challenge), Hex("841E000004"));
    ASSERT_TRUE(mac.ok());
    ASSERT_EQ(SwOf(se->TransmitToTransitCard("gz-1", Hex("841E000004" + HexOf(*mac)))), 0x9000);
    DEVICE_ASSERT_OK(se->SetExpressTransitCard("sh-1"));
  }
  auto se = OpenDevice(dir.path(), "phone-1", &clock, &random);
  ASSERT_NE(se, nullptr);
  EXPECT_EQ(se->TransitCardIds(), (std::vector<std::string>{"bj-1", "sh-1", "gz-1"}));
  DEVICE_ASSERT_OK_AND_ASSIGN(std::string express, se->ExpressTransitCard());
  EXPECT_EQ(express, "sh-1");
  EXPECT_EQ(WalletBalance(*se, "bj-1"), 750u);
  EXPECT_EQ(WalletBalance(*se, "sh-1"), 500u);
  // The purchase can still be proven, and its log record is there.
  const Bytes prove = se->TransmitToTransitCard("bj-1", Hex("805A0006020000"));
  ASSERT_EQ(SwOf(prove), 0x9000);
  EXPECT_EQ(DataOf(prove), proof);
  const Bytes log = se->TransmitToTransitCard("bj-1", Hex("00B201C400"));
  EXPECT_EQ(HexOf(DataOf(log)), "0000" "000000" "000000FA" "06" "001122334455" "20260301080000");
  // Counters continue: the next load uses online counter 1.
  const Bytes init = se->TransmitToTransitCard("sh-1", Hex("805000020B0100000001112233445566"));
  EXPECT_EQ(HexOf(ByteView(init).subspan(4, 2)), "0001");
  // The blocked card stays blocked: no purchase starts, but its balance can still be read (the
  // operator refunds or moves it after blocking).
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("gz-1", Hex("805001020B0100000001001122334455"))), 0x9303);
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("gz-1", Hex("805C000204"))), 0x9000);
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("gz-1", Hex(kSelectTUnion))), 0x6283);
  DEVICE_ASSERT_OK(se->SetExpressTransitCard("gz-1"));
  EXPECT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x6283);
  EXPECT_EQ(SwOf(Send(*se, "805001020B0100000001001122334455")), 0x9303);

  // Removing the express card makes the first remaining one express, also after a reopen.
  DEVICE_ASSERT_OK(se->RemoveTransitCard("gz-1"));
  DEVICE_ASSERT_OK_AND_ASSIGN(express, se->ExpressTransitCard());
  EXPECT_EQ(express, "bj-1");
  EXPECT_EQ(SwOf(se->TransmitToTransitCard("gz-1", Hex("805C000204"))), 0x6A82);
  se.reset();
  se = OpenDevice(dir.path(), "phone-1", &clock, &random);
  ASSERT_NE(se, nullptr);
  EXPECT_EQ(se->TransitCardIds(), (std::vector<std::string>{"bj-1", "sh-1"}));
  DEVICE_ASSERT_OK_AND_ASSIGN(express, se->ExpressTransitCard());
  EXPECT_EQ(express, "bj-1");
  DEVICE_ASSERT_OK(se->RemoveTransitCard("bj-1"));
  DEVICE_ASSERT_OK(se->RemoveTransitCard("sh-1"));
  EXPECT_EQ(se->ExpressTransitCard().status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(SwOf(Send(*se, kSelectTUnion)), 0x6A82);
}

}  // namespace
}  // namespace tapstack::device
