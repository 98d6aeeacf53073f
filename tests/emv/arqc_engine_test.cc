#include "emv/arqc_engine.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "crypto/emv_key_derivation.h"
#include "crypto/kcv.h"
#include "crypto/mac.h"
#include "emv/cryptogram_profile.h"
#include "emv_test_util.h"
#include "support/vectors.h"

namespace tapstack::emv {
namespace {

using nlohmann::json;
using testing::Hex;
using testing::ToHex;

constexpr std::string_view kImk = "0123456789ABCDEFFEDCBA9876543210";  // distinct halves
constexpr std::string_view kPan = "1234567890123456";
constexpr std::string_view kPsn = "00";

crypto::SecretBytes Key(std::string_view hex) {
  Result<crypto::SecretBytes> key = crypto::SecretBytes::FromHex(hex);
  EXPECT_TRUE(key.ok());
  return key.ok() ? std::move(key).value() : crypto::SecretBytes();
}

TagValues Tags(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  TagValues values;
  for (const auto& [tag, value] : pairs) {
    const Status status = values.SetHex(tag, value);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  return values;
}

ArqcEngine Engine(std::string_view profile_name, std::string_view imk_hex = kImk) {
  const CryptogramProfile* profile = FindCryptogramProfile(profile_name);
  if (profile == nullptr) throw std::runtime_error("no profile " + std::string(profile_name));
  Result<ArqcEngine> engine = ArqcEngine::Create(*profile, Key(imk_hex));
  if (!engine.ok()) throw std::runtime_error(engine.status().ToString());
  return std::move(engine).value();
}

std::uint16_t Atc(std::string_view hex) {
  const Bytes atc = Hex(hex);
  return static_cast<std::uint16_t>((atc.at(0) << 8) | atc.at(1));
}

Bytes Kcv8(std::string_view key_hex) {
  Result<Bytes> kcv = crypto::KeyCheckValue(crypto::BlockCipher::kTdes, Key(key_hex), 8);
  EXPECT_TRUE(kcv.ok());
  return kcv.ok() ? *kcv : Bytes();
}

// ---- CVN-MC-20 from tests/vectors/emv_crypto.json, end to end through the profile ------------

TEST(ArqcEngineVectorTest, MastercardCvn20EndToEnd) {
  const json v =
      tapstack::testing::VectorById(tapstack::testing::LoadVectors("emv_crypto.json"), "CVN-MC-20");
  TagValues tags;
  for (const auto& [tag, value] : v.at("tags").items()) {
    EMV_ASSERT_OK(tags.SetHex(tag, value.get<std::string>()));
  }
  // M/Chip IAD: KDI 01, CVN 14 (20), CVR A00003220000, DAC 0000, counters; the vector's
  // ac_data ends with this CVR.
  const Bytes iad = Hex("0114A00003220000000000000000000000FF");
  const Bytes un = Hex(v.at("tags").at("9F37").get<std::string>());
  const std::string pan = v.at("pan").get<std::string>();
  const std::string psn = v.at("psn").get<std::string>();

  EXPECT_EQ(DetectCryptogramProfile(iad), FindCryptogramProfile("mc-cvn20"));
  const ArqcEngine engine = Engine("mc-cvn20", v.at("imk_ac").get<std::string>());
  ArqcInput in;
  in.pan = pan;
  in.psn = psn;
  in.atc = Atc(v.at("tags").at("9F36").get<std::string>());
  in.unpredictable_number = un;
  in.iad = iad;
  in.tags = TagSources{&tags};

  // Expanded MK and SK, compared through 8-byte check values (the keys never leave the engine).
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes mk_kcv, engine.MasterKeyCheckValue(pan, psn, 8));
  EXPECT_EQ(mk_kcv, Kcv8(v.at("expanded_icc_mk_ac").get<std::string>()));
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes sk_kcv, engine.SessionKeyCheckValue(in, 8));
  EXPECT_EQ(sk_kcv, Kcv8(v.at("expanded_sk_ac").get<std::string>()));
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes sk_kcv2, engine.SessionKeyCheckValue(in, 2));
  EXPECT_EQ(ToHex(sk_kcv2), v.at("sk_kcv2").get<std::string>());

  EMV_ASSERT_OK_AND_ASSIGN(const Bytes ac_data, engine.BuildAcData(in));
  EXPECT_EQ(ToHex(ac_data), v.at("ac_data").get<std::string>());
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine.GenerateArqc(in));
  EXPECT_EQ(ToHex(arqc), v.at("expected_arqc").get<std::string>());
  EMV_EXPECT_OK(engine.VerifyArqc(in, arqc));

  for (const json& a : v.at("arpc")) {
    ASSERT_EQ(a.at("method"), 1);
    ASSERT_EQ(a.at("key"), "sk");
    EXPECT_EQ(FindCryptogramProfile("mc-cvn20")->arpc_key, ArpcKey::kSessionKey);
    const Bytes arc = Hex(a.at("arc").get<std::string>());
    ArpcInput response;
    response.arc = arc;
    EMV_ASSERT_OK_AND_ASSIGN(const ArpcResult arpc, engine.GenerateArpc(in, arqc, response));
    EXPECT_EQ(ToHex(arpc.arpc), a.at("expected_arpc").get<std::string>());
    EXPECT_EQ(ToHex(arpc.issuer_authentication_data),
              a.at("expected_arpc").get<std::string>() + a.at("arc").get<std::string>());
    EMV_EXPECT_OK(engine.VerifyArpc(in, arqc, arpc.issuer_authentication_data));
  }
}

// ---- Published CVN vectors: knovichikhin/pyemv tests/test_cvn_hsm.py -----------------------
// IMK-AC 0123456789ABCDEFFEDCBA9876543210, PAN 1234567890123456, PSN 00, ATC 001C; the ICC
// MK-AC check value is BAB0 for every CVN.

struct PublishedCvn {
  std::string_view profile;
  bool visa_tags;        // the Visa tests use different terminal data from the others
  std::string_view iad;  // as the test's CVR/IAD argument implies (see the test's comments)
  std::string_view arqc;
  std::string_view sk_kcv2;  // "" when the test gives none
  std::string_view arc;      // method 1
  std::string_view csu;      // method 2
  std::string_view arpc;
};

constexpr PublishedCvn kPublished[] = {
    {"visa-cvn10", true, "06010A03A06010", "29CCA15AE665FA2E", "BAB0", "3030", "",
     "28993816AFAE4AEB"},
    {"visa-cvn18", true, "06011203A0B800", "7A788EA6B8A3E733", "22C8", "", "00000000", "9AF514C1"},
    {"interac-cvn133", false, "1501850440B100000000B00000000000000000000000", "18932FECA2D84326",
     "2FD5", "0000", "", "4DF171A49396C363"},
    {"mc-cvn16", false, "0110A00003220000000000000000000000FF", "24CCF3DEE3158C70", "2FD5", "0010",
     "", "73F6BBF389A6586C"},
    {"mc-cvn17", false, "0111A00003220000000000000000000322FF", "EAE8A620A75648D8", "2FD5", "0010",
     "", "29CF11FBDB9CA650"},
    {"mc-cvn20", false, "0114A00003220000000000000000000000FF", "CD29615D6452E70E", "22C8", "0010",
     "", "DFD0956606B68D64"},
    {"mc-cvn21", false, "0115A00003220000000000000000000322FF", "C30E54BE496CF5E5", "22C8", "0010",
     "", "4F51F9CC63CE8B3C"},
};

TagValues VisaTerminalTags() {
  return Tags({{"9F02", "000000004000"},
               {"9F03", "000000000000"},
               {"9F1A", "0124"},
               {"95", "8000048000"},
               {"5F2A", "0124"},
               {"9A", "191105"},
               {"9C", "01"},
               {"9F37", "52BF4585"}});
}

TagValues OtherTerminalTags() {
  return Tags({{"9F02", "000000009999"},
               {"9F03", "000000000000"},
               {"9F1A", "0124"},
               {"95", "8000000000"},
               {"5F2A", "0124"},
               {"9A", "209906"},
               {"9C", "00"},
               {"9F37", "ABCDEF12"}});
}

TEST(ArqcEngineVectorTest, PublishedCvnVectors) {
  const TagValues card = Tags({{"82", "1800"}});
  for (const PublishedCvn& p : kPublished) {
    SCOPED_TRACE(std::string(p.profile));
    const TagValues terminal = p.visa_tags ? VisaTerminalTags() : OtherTerminalTags();
    const Bytes iad = Hex(p.iad);
    EXPECT_EQ(DetectCryptogramProfile(iad), FindCryptogramProfile(p.profile));
    const ArqcEngine engine = Engine(p.profile);
    ArqcInput in;
    in.pan = kPan;
    in.psn = kPsn;
    in.atc = 0x001C;
    in.iad = iad;
    in.tags = TagSources{&terminal, &card};  // UN from the terminal's 9F37
    EMV_ASSERT_OK_AND_ASSIGN(const Bytes mk_kcv, engine.MasterKeyCheckValue(kPan, kPsn, 2));
    EXPECT_EQ(ToHex(mk_kcv), "BAB0");
    EMV_ASSERT_OK_AND_ASSIGN(const Bytes sk_kcv, engine.SessionKeyCheckValue(in, 2));
    EXPECT_EQ(ToHex(sk_kcv), p.sk_kcv2);
    EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine.GenerateArqc(in));
    EXPECT_EQ(ToHex(arqc), p.arqc);
    EMV_EXPECT_OK(engine.VerifyArqc(in, arqc));
    const Bytes arc = Hex(p.arc);
    const Bytes csu = Hex(p.csu);
    ArpcInput response;
    response.arc = arc;
    response.csu = csu;
    EMV_ASSERT_OK_AND_ASSIGN(const ArpcResult arpc, engine.GenerateArpc(in, arqc, response));
    EXPECT_EQ(ToHex(arpc.arpc), p.arpc);
    EXPECT_EQ(ToHex(arpc.issuer_authentication_data),
              std::string(p.arpc) + std::string(p.arc) + std::string(p.csu));
    EMV_EXPECT_OK(engine.VerifyArpc(in, arqc, arpc.issuer_authentication_data));
  }
}

// ---- Round trip for every profile -----------------------------------------------------------

// An IAD each profile accepts (its signature where it has one).
Bytes IadFor(const CryptogramProfile& profile) {
  if (profile.name.rfind("visa", 0) == 0) return Hex("06011203A0B800");
  if (profile.name.rfind("emv-ccd", 0) == 0) {
    Bytes iad = Hex(profile.cipher == crypto::BlockCipher::kAes ? "0FA601" : "0FA501");
    iad.resize(32, 0x5A);
    return iad;
  }
  if (profile.name == "pboc-sm4") return Hex("07010403A0000001");
  return Hex("0114A00003220000000000000000000322FF");
}

std::string_view ImkFor(const CryptogramProfile& profile) {
  switch (profile.cipher) {
    case crypto::BlockCipher::kAes:
      return "2B7E151628AED2A6ABF7158809CF4F3C";
    case crypto::BlockCipher::kSm4:
      return "0123456789ABCDEFFEDCBA9876543210";
    default:
      return kImk;
  }
}

class ProfileRoundTripTest : public ::testing::TestWithParam<CryptogramProfile> {};

TEST_P(ProfileRoundTripTest, GenerateVerifyAndTamper) {
  const CryptogramProfile& profile = GetParam();
  EMV_ASSERT_OK(ValidateCryptogramProfile(profile));
  EMV_ASSERT_OK_AND_ASSIGN(const ArqcEngine engine,
                           ArqcEngine::Create(profile, Key(ImkFor(profile))));
  const TagValues terminal = OtherTerminalTags();
  const TagValues card = Tags({{"82", "1980"}});
  const Bytes iad = IadFor(profile);
  const Bytes un = Hex("ABCDEF12");
  ArqcInput in;
  in.pan = "5413330089020011";
  in.psn = "01";
  in.atc = 0x0042;
  in.unpredictable_number = un;
  in.iad = iad;
  in.tags = TagSources{&terminal, &card};

  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine.GenerateArqc(in));
  EMV_EXPECT_OK(engine.VerifyArqc(in, arqc));
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram again, engine.GenerateArqc(in));
  EXPECT_EQ(arqc, again);

  // A flipped bit in the cryptogram itself.
  crypto::ApplicationCryptogram flipped = arqc;
  flipped[7] ^= 0x01;
  EXPECT_EQ(engine.VerifyArqc(in, flipped).code(), ErrorCode::kCryptoFailure);

  // A flipped bit in the terminal data (amount).
  TagValues tampered = OtherTerminalTags();
  EMV_ASSERT_OK(tampered.SetHex("9F02", "000000009998"));
  ArqcInput changed_amount = in;
  changed_amount.tags = TagSources{&tampered, &card};
  EXPECT_EQ(engine.VerifyArqc(changed_amount, arqc).code(), ErrorCode::kCryptoFailure);

  // Another ATC (changes the data, and the session key where there is one).
  ArqcInput changed_atc = in;
  changed_atc.atc = 0x0043;
  EXPECT_EQ(engine.VerifyArqc(changed_atc, arqc).code(), ErrorCode::kCryptoFailure);

  // A flipped bit in the part of the IAD the profile uses.
  Bytes iad_flipped = iad;
  const std::size_t used =
      profile.iad_selection == IadSelection::kParts ? profile.iad_parts[0].offset : iad.size() - 1;
  iad_flipped[used] ^= 0x80;
  ArqcInput changed_iad = in;
  changed_iad.iad = iad_flipped;
  EXPECT_EQ(engine.VerifyArqc(changed_iad, arqc).code(), ErrorCode::kCryptoFailure);

  // Another card.
  ArqcInput other_card = in;
  other_card.psn = "02";
  EXPECT_EQ(engine.VerifyArqc(other_card, arqc).code(), ErrorCode::kCryptoFailure);

  if (profile.arpc_method == ArpcMethod::kNone) {
    EXPECT_EQ(engine.GenerateArpc(in, arqc, {}).status().code(), ErrorCode::kFailedPrecondition);
    return;
  }
  const Bytes arc = Hex("3030");
  const Bytes csu = Hex("00820000");
  const Bytes prop = Hex("0102");
  ArpcInput response;
  if (profile.arpc_method == ArpcMethod::kMethod1) {
    response.arc = arc;
  } else {
    response.csu = csu;
    response.proprietary_auth_data = prop;
  }
  EMV_ASSERT_OK_AND_ASSIGN(const ArpcResult arpc, engine.GenerateArpc(in, arqc, response));
  EXPECT_EQ(arpc.arpc.size(), profile.arpc_method == ArpcMethod::kMethod1 ? 8u : 4u);
  EMV_EXPECT_OK(engine.VerifyArpc(in, arqc, arpc.issuer_authentication_data));
  Bytes bad = arpc.issuer_authentication_data;
  bad[0] ^= 0x01;
  EXPECT_EQ(engine.VerifyArpc(in, arqc, bad).code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(engine.VerifyArpc(in, flipped, arpc.issuer_authentication_data).code(),
            ErrorCode::kCryptoFailure);
  bad.pop_back();
  if (profile.arpc_method == ArpcMethod::kMethod1) {
    EXPECT_EQ(engine.VerifyArpc(in, arqc, bad).code(), ErrorCode::kInvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryProfile, ProfileRoundTripTest,
                         ::testing::ValuesIn(CryptogramProfiles()),
                         [](const ::testing::TestParamInfo<CryptogramProfile>& param_info) {
                           std::string name;
                           for (char c : param_info.param.name) name += (c == '-') ? '_' : c;
                           return name;
                         });

// ---- Pitfalls of the design notes, section 14 --------------------------------------------------

TEST(ArqcPitfallTest, Method2PadsAlignedDataWithAWholeBlock) {
  // Visa CVN 18's published input is 40 bytes: already a multiple of 8.
  const TagValues terminal = VisaTerminalTags();
  const TagValues card = Tags({{"82", "1800"}});
  const Bytes iad = Hex("06011203A0B800");
  const ArqcEngine engine = Engine("visa-cvn18");
  ArqcInput in;
  in.pan = kPan;
  in.psn = kPsn;
  in.atc = 0x001C;
  in.iad = iad;
  in.tags = TagSources{&terminal, &card};
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes data, engine.BuildAcData(in));
  ASSERT_EQ(data.size() % 8, 0u);
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine.GenerateArqc(in));

  EMV_ASSERT_OK_AND_ASSIGN(const crypto::SecretBytes mk,
                           crypto::DeriveIccMasterKeyOptionB(Key(kImk), kPan, kPsn));
  EMV_ASSERT_OK_AND_ASSIGN(
      const crypto::SecretBytes sk,
      crypto::DeriveCommonSessionKeyFromAtc(crypto::BlockCipher::kTdes, mk, 0x001C));
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes padded_mac,
                           crypto::Iso9797Alg3Mac(sk, data, crypto::MacPadding::kMethod2));
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes unpadded_mac,
                           crypto::Iso9797Alg3Mac(sk, data, crypto::MacPadding::kMethod1));
  EXPECT_EQ(ToHex(arqc), ToHex(padded_mac));
  EXPECT_NE(ToHex(arqc), ToHex(unpadded_mac));  // skipping the 80 00.. block is wrong
  EXPECT_EQ(ToHex(arqc), "7A788EA6B8A3E733");
}

TEST(ArqcPitfallTest, VisaCvn18MacsTheWholeIad) {
  const TagValues terminal = VisaTerminalTags();
  const TagValues card = Tags({{"82", "1800"}});
  const Bytes published_iad = Hex("06011203A0B800");
  ArqcInput in;
  in.pan = kPan;
  in.psn = kPsn;
  in.atc = 0x001C;
  in.iad = published_iad;
  in.tags = TagSources{&terminal, &card};

  const ArqcEngine cvn18 = Engine("visa-cvn18");
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes data, cvn18.BuildAcData(in));
  EXPECT_EQ(ToHex(data).substr(ToHex(data).size() - 14), "06011203A0B800");
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram published, cvn18.GenerateArqc(in));
  EXPECT_EQ(ToHex(published), "7A788EA6B8A3E733");

  // Selecting only the CVR (CVN 10 style) is the bug pitfall 1 describes: it misses the
  // published ARQC ...
  CryptogramProfile cvr_only = *FindCryptogramProfile("visa-cvn18");
  cvr_only.name = "visa-cvn18-cvr-only";
  cvr_only.iad_selection = IadSelection::kParts;
  cvr_only.iad_parts = {IadPart{3, 4}, IadPart{}};
  EMV_ASSERT_OK_AND_ASSIGN(const ArqcEngine wrong, ArqcEngine::Create(cvr_only, Key(kImk)));
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram wrong_arqc, wrong.GenerateArqc(in));
  EXPECT_NE(ToHex(wrong_arqc), "7A788EA6B8A3E733");

  // ... and does not notice a change in the issuer discretionary data after the CVR, which the
  // full-IAD profile does.
  const Bytes with_idd =
      Hex("06011203A0B800"
          "0F"
          "000000000000000000000000000000");
  Bytes idd_changed = with_idd;
  idd_changed.back() ^= 0x01;
  ArqcInput a = in;
  a.iad = with_idd;
  ArqcInput b = in;
  b.iad = idd_changed;
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram full_a, cvn18.GenerateArqc(a));
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram full_b, cvn18.GenerateArqc(b));
  EXPECT_NE(full_a, full_b);
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram cvr_a, wrong.GenerateArqc(a));
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram cvr_b, wrong.GenerateArqc(b));
  EXPECT_EQ(cvr_a, cvr_b);
}

TEST(ArqcPitfallTest, LowerCaseIadHexIsAcceptedForCvnDetection) {
  EMV_ASSERT_OK_AND_ASSIGN(const CryptogramProfile* visa,
                           DetectCryptogramProfileFromIadHex("06011203a0b800"));
  EXPECT_EQ(visa->name, "visa-cvn18");
  EMV_ASSERT_OK_AND_ASSIGN(
      const CryptogramProfile* mc,
      DetectCryptogramProfileFromIadHex("0114a00003220000000000000000000000ff"));
  EXPECT_EQ(mc->name, "mc-cvn20");
  EMV_ASSERT_OK_AND_ASSIGN(const CryptogramProfile* visa10,
                           DetectCryptogramProfileFromIadHex("06010a03a06010"));
  EXPECT_EQ(visa10->name, "visa-cvn10");
}

TEST(ArqcPitfallTest, Method1AddsNothingToAlignedData) {
  // Visa CVN 10 (padding method 1): 33 + 4 = 37 bytes pad to 40; the published vector holds.
  const TagValues terminal = VisaTerminalTags();
  const TagValues card = Tags({{"82", "1800"}});
  const Bytes iad = Hex("06010A03A06010");
  const ArqcEngine engine = Engine("visa-cvn10");
  ArqcInput in;
  in.pan = kPan;
  in.psn = kPsn;
  in.atc = 0x001C;
  in.iad = iad;
  in.tags = TagSources{&terminal, &card};
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes data, engine.BuildAcData(in));
  EXPECT_EQ(data.size(), 37u);
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::SecretBytes mk,
                           crypto::DeriveIccMasterKeyOptionA(Key(kImk), kPan, kPsn));
  Bytes aligned = data;
  aligned.resize(40, 0x00);
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes mac,
                           crypto::Iso9797Alg3Mac(mk, aligned, crypto::MacPadding::kMethod1));
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine.GenerateArqc(in));
  EXPECT_EQ(ToHex(arqc), ToHex(mac));
}

// ---- Inputs and errors ------------------------------------------------------------------------

class ArqcEngineInputTest : public ::testing::Test {
 protected:
  ArqcEngineInputTest() : engine_(Engine("mc-cvn20")) {
    in_.pan = kPan;
    in_.psn = kPsn;
    in_.atc = 0x001C;
    in_.unpredictable_number = un_;
    in_.iad = iad_;
    in_.tags = TagSources{&terminal_, &card_};
  }

  ArqcEngine engine_;
  TagValues terminal_ = OtherTerminalTags();
  TagValues card_ = Tags({{"82", "1800"}});
  Bytes un_ = Hex("ABCDEF12");
  Bytes iad_ = Hex("0114A00003220000000000000000000000FF");
  ArqcInput in_;
};

TEST_F(ArqcEngineInputTest, MissingDataObjectIsAnErrorNotZeros) {
  TagValues no_country = Tags({{"9F02", "000000009999"},
                               {"9F03", "000000000000"},
                               {"95", "8000000000"},
                               {"5F2A", "0124"},
                               {"9A", "209906"},
                               {"9C", "00"}});
  in_.tags = TagSources{&no_country, &card_};
  const Result<crypto::ApplicationCryptogram> arqc = engine_.GenerateArqc(in_);
  ASSERT_FALSE(arqc.ok());
  EXPECT_EQ(arqc.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(arqc.status().message(), "ac data: tag 9F1A (Terminal Country Code) is missing");
}

TEST_F(ArqcEngineInputTest, MisSizedDataObjectIsAnError) {
  EMV_ASSERT_OK(terminal_.SetHex("9F02", "0000009999"));
  const Result<crypto::ApplicationCryptogram> arqc = engine_.GenerateArqc(in_);
  ASSERT_FALSE(arqc.ok());
  EXPECT_EQ(arqc.status().message(), "ac data: tag 9F02: expected 6 bytes, got 5");
}

TEST_F(ArqcEngineInputTest, ExplicitAtcAndUnWinOverTags) {
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram expected, engine_.GenerateArqc(in_));
  EMV_ASSERT_OK(card_.SetHex("9F36", "FFFF"));
  EMV_ASSERT_OK(terminal_.SetHex("9F37", "00000000"));
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine_.GenerateArqc(in_));
  EXPECT_EQ(arqc, expected);
  EXPECT_EQ(ToHex(arqc), "CD29615D6452E70E");
}

TEST_F(ArqcEngineInputTest, IadMayComeFromTheTags) {
  EMV_ASSERT_OK(card_.Set(0x9F10, iad_));
  in_.iad = {};
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine_.GenerateArqc(in_));
  EXPECT_EQ(ToHex(arqc), "CD29615D6452E70E");
}

TEST_F(ArqcEngineInputTest, BadIadAndUnAreRefused) {
  const Bytes short_iad = Hex("0114A000");
  in_.iad = short_iad;
  EXPECT_EQ(engine_.GenerateArqc(in_).status().message(),
            "iad: 4 bytes; profile mc-cvn20 reads 6 bytes at offset 2");
  const Bytes long_iad(33, 0x01);
  in_.iad = long_iad;
  EXPECT_EQ(engine_.GenerateArqc(in_).status().message(), "iad: 33 bytes exceed 32");
  in_.iad = iad_;
  const Bytes short_un = Hex("ABCDEF");
  in_.unpredictable_number = short_un;
  EXPECT_EQ(engine_.GenerateArqc(in_).status().message(),
            "unpredictable number (9F37): expected 4 bytes, got 3");
}

TEST_F(ArqcEngineInputTest, MastercardSkdNeedsTheUn) {
  const ArqcEngine cvn16 = Engine("mc-cvn16");
  TagValues no_un = Tags({{"9F02", "000000009999"}});
  in_.unpredictable_number = {};
  in_.tags = TagSources{&no_un, &card_};
  const Result<crypto::ApplicationCryptogram> arqc = cvn16.GenerateArqc(in_);
  ASSERT_FALSE(arqc.ok());
  EXPECT_EQ(arqc.status().message(),
            "unpredictable number (9F37): profile mc-cvn16 derives its session key from it, and "
            "it is missing");
}

TEST_F(ArqcEngineInputTest, BadPanOrPsnIsRefused) {
  in_.pan = "12345678901";
  EXPECT_EQ(engine_.GenerateArqc(in_).status().code(), ErrorCode::kInvalidArgument);
  in_.pan = kPan;
  in_.psn = "1";
  EXPECT_EQ(engine_.GenerateArqc(in_).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ArqcEngineInputTest, ArpcInputMustFitTheMethod) {
  const crypto::ApplicationCryptogram arqc{};
  const Bytes csu = Hex("00000000");
  ArpcInput method2_input;
  method2_input.csu = csu;
  EXPECT_EQ(engine_.GenerateArpc(in_, arqc, method2_input).status().message(),
            "arpc: profile mc-cvn20 uses method 1 (ARC), not a CSU");
  const Bytes long_arc = Hex("303030");
  ArpcInput bad_arc;
  bad_arc.arc = long_arc;
  EXPECT_EQ(engine_.GenerateArpc(in_, arqc, bad_arc).status().code(), ErrorCode::kInvalidArgument);

  const ArqcEngine cvn18 = Engine("visa-cvn18");
  const Bytes arc = Hex("3030");
  ArpcInput method1_input;
  method1_input.arc = arc;
  EXPECT_EQ(cvn18.GenerateArpc(in_, arqc, method1_input).status().message(),
            "arpc: profile visa-cvn18 uses method 2 (CSU), not an ARC");
  const Bytes prop(9, 0x00);
  ArpcInput long_prop;
  long_prop.csu = csu;
  long_prop.proprietary_auth_data = prop;
  EXPECT_EQ(cvn18.GenerateArpc(in_, arqc, long_prop).status().code(), ErrorCode::kInvalidArgument);
  const Bytes tag91_short = Hex("11223344556677");
  EXPECT_EQ(cvn18.VerifyArpc(in_, arqc, tag91_short).code(), ErrorCode::kInvalidArgument);
}

TEST_F(ArqcEngineInputTest, CdolBasedCryptogramData) {
  // A card whose cryptogram covers its whole CDOL1 data (here the Book 2 terminal part).
  const Bytes cdol1_bytes = Hex("9F02069F03069F1A0295055F2A029A039C019F3704");
  EMV_ASSERT_OK_AND_ASSIGN(const std::vector<DolEntry> cdol1, ParseDol(cdol1_bytes));
  EMV_ASSERT_OK_AND_ASSIGN(const std::vector<DolEntry> dol, AcDataDolFromCdol1(cdol1));
  EXPECT_EQ(dol.size(), 10u);
  in_.ac_data_dol = dol;
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine_.GenerateArqc(in_));
  EXPECT_EQ(ToHex(arqc), "CD29615D6452E70E");  // same data objects, same cryptogram

  const std::vector<DolEntry> with_terminal_type = {{0x9F35, 1}, {0x82, 2}, {0x9F36, 2}};
  in_.ac_data_dol = with_terminal_type;
  EXPECT_EQ(engine_.GenerateArqc(in_).status().code(), ErrorCode::kNotFound);  // 9F35 missing
}

TEST(ArqcEngineCreateTest, KeyLengthAndProfileAreChecked) {
  const Result<ArqcEngine> aes_key_for_tdes =
      ArqcEngine::Create(*FindCryptogramProfile("mc-cvn20"),
                         Key("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4"));
  ASSERT_FALSE(aes_key_for_tdes.ok());
  EXPECT_EQ(aes_key_for_tdes.status().message().rfind("imk: ", 0), 0u);
  CryptogramProfile inconsistent = *FindCryptogramProfile("mc-cvn20");
  inconsistent.master_key_derivation = MasterKeyDerivation::kOptionCAes;
  EXPECT_EQ(ArqcEngine::Create(inconsistent, Key(kImk)).status().message(),
            "profile mc-cvn20: Option C is AES only");
}

TEST(ArqcEngineCreateTest, ProfileWithoutMasterKeyDerivationTakesTheCardKey) {
  // A TSP that stores the token's MK-AC uses the same profile with MKD "none".
  CryptogramProfile stored_key = *FindCryptogramProfile("mc-cvn20");
  stored_key.name = "mc-cvn20-stored-mk";
  stored_key.master_key_derivation = MasterKeyDerivation::kNone;
  EMV_ASSERT_OK_AND_ASSIGN(const ArqcEngine engine,
                           ArqcEngine::Create(stored_key, Key("154F349D8585CB7F6B0798E9839B10C1")));
  const TagValues terminal = OtherTerminalTags();
  const TagValues card = Tags({{"82", "1800"}});
  const Bytes iad = Hex("0114A00003220000000000000000000000FF");
  ArqcInput in;
  in.pan = kPan;
  in.atc = 0x001C;
  in.iad = iad;
  in.tags = TagSources{&terminal, &card};
  EMV_ASSERT_OK_AND_ASSIGN(const crypto::ApplicationCryptogram arqc, engine.GenerateArqc(in));
  EXPECT_EQ(ToHex(arqc), "CD29615D6452E70E");
}

}  // namespace
}  // namespace tapstack::emv
