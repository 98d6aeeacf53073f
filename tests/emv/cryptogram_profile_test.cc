#include "emv/cryptogram_profile.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "emv_test_util.h"

namespace tapstack::emv {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(CryptogramProfileTest, TableHasTheRequiredProfiles) {
  for (std::string_view name :
       {"emv-ccd", "visa-cvn10", "visa-cvn18", "visa-cvn22", "mc-cvn16", "mc-cvn17", "mc-cvn20",
        "mc-cvn21", "emv-ccd-aes", "pboc-sm4", "interac-cvn133"}) {
    const CryptogramProfile* profile = FindCryptogramProfile(name);
    ASSERT_NE(profile, nullptr) << name;
    EMV_EXPECT_OK(ValidateCryptogramProfile(*profile));
    EXPECT_FALSE(profile->description.empty());
    EXPECT_FALSE(profile->notes.empty());
  }
  EXPECT_EQ(FindCryptogramProfile("visa-cvn99"), nullptr);
  std::set<std::string_view> names;
  for (const CryptogramProfile& profile : CryptogramProfiles()) {
    EXPECT_TRUE(names.insert(profile.name).second) << "duplicate " << profile.name;
    if (profile.uncertain) {
      EXPECT_NE(profile.notes.find("[uncertain]"), std::string_view::npos) << profile.name;
    }
  }
}

TEST(CryptogramProfileTest, ProfilesAreDataMatchingTheDesignTable) {
  const CryptogramProfile& cvn10 = *FindCryptogramProfile("visa-cvn10");
  EXPECT_EQ(cvn10.session_key_derivation, SessionKeyDerivation::kNone);
  EXPECT_EQ(cvn10.padding, crypto::MacPadding::kMethod1);
  EXPECT_EQ(cvn10.arpc_method, ArpcMethod::kMethod1);
  EXPECT_EQ(cvn10.arpc_key, ArpcKey::kMasterKey);
  const CryptogramProfile& cvn18 = *FindCryptogramProfile("visa-cvn18");
  EXPECT_EQ(cvn18.iad_selection, IadSelection::kFull);
  EXPECT_EQ(cvn18.arpc_method, ArpcMethod::kMethod2);
  EXPECT_EQ(cvn18.arpc_key, ArpcKey::kSessionKey);
  const CryptogramProfile& cvn16 = *FindCryptogramProfile("mc-cvn16");
  EXPECT_EQ(cvn16.session_key_derivation, SessionKeyDerivation::kMastercardSkd);
  EXPECT_EQ(cvn16.arpc_key, ArpcKey::kMasterKey);
  const CryptogramProfile& cvn21 = *FindCryptogramProfile("mc-cvn21");
  EXPECT_EQ(cvn21.session_key_derivation, SessionKeyDerivation::kEmvCsk);
  EXPECT_EQ(cvn21.iad_parts[1].offset, 10);
  EXPECT_EQ(cvn21.iad_parts[1].length, 8);
  EXPECT_EQ(FindCryptogramProfile("emv-ccd-aes")->cipher, crypto::BlockCipher::kAes);
  EXPECT_EQ(FindCryptogramProfile("pboc-sm4")->cipher, crypto::BlockCipher::kSm4);
  EXPECT_TRUE(FindCryptogramProfile("pboc-sm4")->uncertain);
  EXPECT_TRUE(FindCryptogramProfile("emv-ccd-aes")->uncertain);
}

TEST(CryptogramProfileTest, Book2DataDolIs33Bytes) {
  EXPECT_EQ(DolDataLength(Book2AcDataDol()), 33u);
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes encoded, EncodeDol(Book2AcDataDol()));
  EXPECT_EQ(ToHex(encoded), "9F02069F03069F1A0295055F2A029A039C019F370482029F3602");
}

TEST(CryptogramProfileTest, DetectionFromTheIad) {
  const auto detected = [](std::string_view hex) -> std::string_view {
    const Bytes iad = Hex(hex);
    const CryptogramProfile* profile = DetectCryptogramProfile(iad);
    return profile == nullptr ? "none" : profile->name;
  };
  EXPECT_EQ(detected("06010A03A06010"), "visa-cvn10");
  EXPECT_EQ(detected("06011203A0B800"), "visa-cvn18");
  EXPECT_EQ(detected("06011603A0B800"), "visa-cvn22");
  EXPECT_EQ(detected("0110A00003220000000000000000000000FF"), "mc-cvn16");
  EXPECT_EQ(detected("0111A00003220000000000000000000322FF"), "mc-cvn17");
  EXPECT_EQ(detected("0114A00003220000000000000000000000FF"), "mc-cvn20");
  EXPECT_EQ(detected("0115A00003220000000000000000000322FF"), "mc-cvn21");
  EXPECT_EQ(detected("1501850440B100000000B00000000000000000000000"), "interac-cvn133");
  Bytes ccd = Hex("0FA501");
  ccd.resize(32, 0x00);
  EXPECT_EQ(detected(ToHex(ccd)), "emv-ccd");
  ccd[1] = 0xA6;
  EXPECT_EQ(detected(ToHex(ccd)), "emv-ccd-aes");
  ccd.resize(31);
  EXPECT_EQ(detected(ToHex(ccd)), "none");        // CCD IADs are 32 bytes
  EXPECT_EQ(detected("0111A000032200"), "none");  // CVN 17 without its counters
  EXPECT_EQ(detected(""), "none");
  EXPECT_EQ(detected("07010403A0000001"), "none");  // SM4 is configured, never detected

  EXPECT_EQ(DetectCryptogramProfileFromIadHex("0601").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(DetectCryptogramProfileFromIadHex("06X1").status().code(), ErrorCode::kInvalidArgument);
}

TEST(CryptogramProfileTest, IadDataSelection) {
  const Bytes iad = Hex("0111A00003220000ABCD00000000000322FF");
  Bytes out;
  EMV_ASSERT_OK(AppendIadData(*FindCryptogramProfile("mc-cvn20"), iad, out));
  EXPECT_EQ(ToHex(out), "A00003220000");
  out.clear();
  EMV_ASSERT_OK(AppendIadData(*FindCryptogramProfile("mc-cvn21"), iad, out));
  EXPECT_EQ(ToHex(out), "A0000322000000000000000322FF");
  out.clear();
  EMV_ASSERT_OK(AppendIadData(*FindCryptogramProfile("visa-cvn18"), iad, out));
  EXPECT_EQ(ToHex(out), ToHex(iad));
  out.clear();
  const Bytes visa = Hex("06010A03A06010");
  EMV_ASSERT_OK(AppendIadData(*FindCryptogramProfile("visa-cvn10"), visa, out));
  EXPECT_EQ(ToHex(out), "03A06010");
  EXPECT_EQ(AppendIadData(*FindCryptogramProfile("visa-cvn18"), {}, out).message(),
            "iad: profile visa-cvn18 needs the whole IAD (9F10), which is missing");
}

TEST(CryptogramProfileTest, ValidationCatchesInconsistentProfiles) {
  CryptogramProfile profile = *FindCryptogramProfile("mc-cvn16");
  profile.cipher = crypto::BlockCipher::kAes;
  EXPECT_EQ(ValidateCryptogramProfile(profile).message(),
            "profile mc-cvn16: master key Options A and B are TDES only");
  profile.master_key_derivation = MasterKeyDerivation::kOptionCAes;
  EXPECT_EQ(ValidateCryptogramProfile(profile).message(),
            "profile mc-cvn16: Mastercard session keys are TDES only");
  profile.session_key_derivation = SessionKeyDerivation::kEmvCsk;
  EXPECT_EQ(ValidateCryptogramProfile(profile).message(),
            "profile mc-cvn16: ARPC methods are implemented for TDES only");
  profile.arpc_method = ArpcMethod::kNone;
  EMV_EXPECT_OK(ValidateCryptogramProfile(profile));
  profile.iad_parts = {IadPart{30, 4}, IadPart{}};
  EXPECT_EQ(ValidateCryptogramProfile(profile).message(),
            "profile mc-cvn16: IAD part beyond 32 bytes");
  profile.iad_parts = {};
  EXPECT_EQ(ValidateCryptogramProfile(profile).message(),
            "profile mc-cvn16: IAD selection 'parts' without parts");
  profile.ac_data_dol = {};
  EXPECT_EQ(ValidateCryptogramProfile(profile).message(),
            "profile mc-cvn16: empty cryptogram data DOL");
  profile.cipher = crypto::BlockCipher::kDes;
  EXPECT_EQ(ValidateCryptogramProfile(profile).message(),
            "profile mc-cvn16: cipher DES is not an AC cipher");
}

TEST(CryptogramProfileTest, MethodNames) {
  EXPECT_EQ(MasterKeyDerivationName(MasterKeyDerivation::kOptionB), "option-b");
  EXPECT_EQ(SessionKeyDerivationName(SessionKeyDerivation::kMastercardSkd), "mastercard-skd");
  EXPECT_EQ(ArpcMethodName(ArpcMethod::kMethod2), "method-2");
}

}  // namespace
}  // namespace tapstack::emv
