#include "device/secure_element.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tapstack::device
