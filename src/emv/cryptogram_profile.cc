#include "emv/cryptogram_profile.h"

#include <string>

#include "core/hex.h"
#include "emv/contactless_commands.h"

namespace tapstack::emv {

namespace {

using crypto::BlockCipher;
using crypto::MacPadding;

constexpr std::array kBook2AcData = {
    DolEntry{0x9F02, 6}, DolEntry{0x9F03, 6}, DolEntry{0x9F1A, 2}, DolEntry{0x95, 5},
    DolEntry{0x5F2A, 2}, DolEntry{0x9A, 3},   DolEntry{0x9C, 1},   DolEntry{0x9F37, 4},
    DolEntry{0x82, 2},   DolEntry{0x9F36, 2},
};

// Visa IAD formats 0/1/3: 06 (length) || DKI || CVN || CVR(4, starting with its length 03).
constexpr std::array<IadPart, kIadPartsMax> kVisaCvr = {IadPart{3, 4}, IadPart{}};
// Mastercard M/Chip IAD: KDI || CVN || CVR(6) || DAC/IDN(2) || counters(8) [|| ...].
constexpr std::array<IadPart, kIadPartsMax> kMastercardCvr = {IadPart{2, 6}, IadPart{}};
constexpr std::array<IadPart, kIadPartsMax> kMastercardCvrAndCounters = {IadPart{2, 6},
                                                                         IadPart{10, 8}};
constexpr std::array<IadPart, kIadPartsMax> kNoParts = {};

constexpr IadSignature Visa(std::uint8_t cvn) {
  return IadSignature{.enabled = true,
                      .first_byte = 0x06,
                      .cvn_offset = 2,
                      .cvn = cvn,
                      .iad_bytes_min = 7,
                      .iad_bytes_max = 32};
}

constexpr IadSignature Mastercard(std::uint8_t cvn, std::uint8_t iad_bytes_min) {
  return IadSignature{.enabled = true,
                      .first_byte = -1,
                      .cvn_offset = 1,
                      .cvn = cvn,
                      .iad_bytes_min = iad_bytes_min,
                      .iad_bytes_max = 32};
}

// Common Core Definitions IAD (Book 3 Annex C7): 0F || CCI || DKI || CVR(5) || ... 32 bytes.
constexpr IadSignature Ccd(std::uint8_t cci) {
  return IadSignature{.enabled = true,
                      .first_byte = 0x0F,
                      .cvn_offset = 1,
                      .cvn = cci,
                      .iad_bytes_min = 32,
                      .iad_bytes_max = 32};
}

// Detection order matters: Visa signatures require IAD[0] = 06 and CCD ones 0F, so they go before
// the Mastercard-style ones that look only at IAD[1].
constexpr std::array kProfiles = {
    CryptogramProfile{
        .name = "visa-cvn10",
        .description = "Visa CVN 10: Option A, no session key, CVR(4), padding 1, ARPC 1 with MK",
        .uncertain = false,
        .notes = "pyemv cvn.py VisaCVN10; published vector tests/test_cvn_hsm.py",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionA,
        .session_key_derivation = SessionKeyDerivation::kNone,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kParts,
        .iad_parts = kVisaCvr,
        .padding = MacPadding::kMethod1,
        .arpc_method = ArpcMethod::kMethod1,
        .arpc_key = ArpcKey::kMasterKey,
        .signature = Visa(0x0A),
    },
    CryptogramProfile{
        .name = "visa-cvn18",
        .description = "Visa CVN 18: Option B, EMV CSK, full IAD, padding 2, ARPC 2 with SK",
        .uncertain = false,
        .notes = "pyemv cvn.py VisaCVN18 (Option B = Option A for PANs of up to 16 digits); "
                 "published vector tests/test_cvn_hsm.py; design notes pitfall 1 (full 9F10)",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionB,
        .session_key_derivation = SessionKeyDerivation::kEmvCsk,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kFull,
        .iad_parts = kNoParts,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod2,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = Visa(0x12),
    },
    CryptogramProfile{
        .name = "visa-cvn22",
        .description = "Visa CVN 22-style: as CVN 18 (Option B, CSK, full IAD, padding 2, ARPC 2)",
        .uncertain = true,
        .notes = "[uncertain] computation taken as CVN 18 per the design notes' table; the IAD CVN "
                 "byte 16 (decimal 22) and the format-0/1/3 IAD layout are assumptions; Visa "
                 "IAD format 2 (32 bytes) is not recognised",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionB,
        .session_key_derivation = SessionKeyDerivation::kEmvCsk,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kFull,
        .iad_parts = kNoParts,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod2,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = Visa(0x16),
    },
    CryptogramProfile{
        .name = "emv-ccd",
        .description = "EMV Common Core Definitions (TDES): Option A, CSK, full IAD, padding 2, "
                       "ARPC 2 with SK",
        .uncertain = true,
        .notes = "computation per the design notes' CVN table (no published vector); [uncertain] "
                 "detection by Common Core Identifier A5 (format A, cryptogram version 5)",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionA,
        .session_key_derivation = SessionKeyDerivation::kEmvCsk,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kFull,
        .iad_parts = kNoParts,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod2,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = Ccd(0xA5),
    },
    CryptogramProfile{
        .name = "emv-ccd-aes",
        .description = "EMV Common Core Definitions (AES-128): Option C, AES CSK, full IAD, "
                       "padding 2 then CMAC; no ARPC",
        .uncertain = true,
        .notes = "[uncertain] Option C, AES-128 CSK = AES(MK)[R], padding before CMAC and the CCI "
                 "A6 used for detection follow the design notes' reading; no public AES "
                 "vector exists. ARPC: AES layouts are uncertain and crypto/ has no AES ARPC",
        .cipher = BlockCipher::kAes,
        .master_key_derivation = MasterKeyDerivation::kOptionCAes,
        .session_key_derivation = SessionKeyDerivation::kEmvCsk,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kFull,
        .iad_parts = kNoParts,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kNone,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = Ccd(0xA6),
    },
    CryptogramProfile{
        .name = "mc-cvn16",
        .description = "Mastercard CVN 16: Option A, Mastercard SKD, CVR(6), padding 2, ARPC 1 "
                       "with MK",
        .uncertain = false,
        .notes = "pyemv MasterCardCVN16; published vector tests/test_cvn_hsm.py",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionA,
        .session_key_derivation = SessionKeyDerivation::kMastercardSkd,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kParts,
        .iad_parts = kMastercardCvr,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod1,
        .arpc_key = ArpcKey::kMasterKey,
        .signature = Mastercard(0x10, 8),
    },
    CryptogramProfile{
        .name = "mc-cvn17",
        .description = "Mastercard CVN 17: Option A, Mastercard SKD, CVR(6) + counters(8), "
                       "padding 2, ARPC 1 with MK",
        .uncertain = false,
        .notes = "pyemv MasterCardCVN17; published vector tests/test_cvn_hsm.py (counters = IAD "
                 "bytes 11-18)",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionA,
        .session_key_derivation = SessionKeyDerivation::kMastercardSkd,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kParts,
        .iad_parts = kMastercardCvrAndCounters,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod1,
        .arpc_key = ArpcKey::kMasterKey,
        .signature = Mastercard(0x11, 18),
    },
    CryptogramProfile{
        .name = "mc-cvn20",
        .description = "Mastercard CVN 20: Option A, EMV CSK, CVR(6), padding 2, ARPC 1 with SK",
        .uncertain = false,
        .notes = "pyemv MasterCardCVN20; vector CVN-MC-20 in tests/vectors/emv_crypto.json",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionA,
        .session_key_derivation = SessionKeyDerivation::kEmvCsk,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kParts,
        .iad_parts = kMastercardCvr,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod1,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = Mastercard(0x14, 8),
    },
    CryptogramProfile{
        .name = "mc-cvn21",
        .description = "Mastercard CVN 21: Option A, EMV CSK, CVR(6) + counters(8), padding 2, "
                       "ARPC 1 with SK",
        .uncertain = false,
        .notes = "pyemv MasterCardCVN21; published vector tests/test_cvn_hsm.py",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionA,
        .session_key_derivation = SessionKeyDerivation::kEmvCsk,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kParts,
        .iad_parts = kMastercardCvrAndCounters,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod1,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = Mastercard(0x15, 18),
    },
    CryptogramProfile{
        .name = "interac-cvn133",
        .description = "Interac CVN 133: Option A, Mastercard SKD, full IAD, padding 2, ARPC 1 "
                       "with SK",
        .uncertain = false,
        .notes = "pyemv InteracCVN133; published vector tests/test_cvn_hsm.py; detection by "
                 "IAD[2] = 85 (133) as in that vector's IAD",
        .cipher = BlockCipher::kTdes,
        .master_key_derivation = MasterKeyDerivation::kOptionA,
        .session_key_derivation = SessionKeyDerivation::kMastercardSkd,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kFull,
        .iad_parts = kNoParts,
        .padding = MacPadding::kMethod2,
        .arpc_method = ArpcMethod::kMethod1,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = IadSignature{.enabled = true,
                                  .first_byte = -1,
                                  .cvn_offset = 2,
                                  .cvn = 0x85,
                                  .iad_bytes_min = 3,
                                  .iad_bytes_max = 32},
    },
    CryptogramProfile{
        .name = "pboc-sm4",
        .description = "PBOC/UnionPay SM4-style: SM4 MKD, SM4 CSK, CVR(4), padding 2, SM4 "
                       "CBC-MAC; no ARPC",
        .uncertain = true,
        .notes = "[uncertain] every choice: SM4(IMK)[Y || ~Y] master key, SM4 CSK = SM4(MK)[R], "
                 "Visa-like CVR at IAD offset 3, padding 2 and CBC-MAC; no public PBOC SM4 "
                 "vector. Not detected from the IAD: configure it. ARPC: crypto/ has no SM4 "
                 "ARPC",
        .cipher = BlockCipher::kSm4,
        .master_key_derivation = MasterKeyDerivation::kSm4Pboc,
        .session_key_derivation = SessionKeyDerivation::kEmvCsk,
        .ac_data_dol = kBook2AcData,
        .iad_selection = IadSelection::kParts,
        .iad_parts = kVisaCvr,
        .padding = MacPadding::kMethod2,
        .sm4_mac = crypto::Sm4CryptogramMac::kCbcMac,
        .arpc_method = ArpcMethod::kNone,
        .arpc_key = ArpcKey::kSessionKey,
        .signature = IadSignature{},
    },
};

bool Matches(const IadSignature& signature, ByteView iad) {
  if (!signature.enabled) return false;
  if (iad.size() < signature.iad_bytes_min || iad.size() > signature.iad_bytes_max) return false;
  if (signature.cvn_offset >= iad.size()) return false;
  if (signature.first_byte >= 0 && iad[0] != signature.first_byte) return false;
  return iad[signature.cvn_offset] == signature.cvn;
}

Status ProfileError(const CryptogramProfile& profile, const std::string& what) {
  return InvalidArgument("profile " + std::string(profile.name) + ": " + what);
}

}  // namespace

std::span<const DolEntry> Book2AcDataDol() { return kBook2AcData; }

std::span<const CryptogramProfile> CryptogramProfiles() { return kProfiles; }

const CryptogramProfile* FindCryptogramProfile(std::string_view name) {
  for (const CryptogramProfile& profile : kProfiles) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

const CryptogramProfile* DetectCryptogramProfile(ByteView iad) {
  for (const CryptogramProfile& profile : kProfiles) {
    if (Matches(profile.signature, iad)) return &profile;
  }
  return nullptr;
}

Result<const CryptogramProfile*> DetectCryptogramProfileFromIadHex(std::string_view iad_hex) {
  Result<Bytes> iad = HexDecode(iad_hex);
  if (!iad.ok()) return InvalidArgument("iad: " + iad.status().message());
  const CryptogramProfile* profile = DetectCryptogramProfile(*iad);
  if (profile == nullptr) {
    return NotFound("iad: no cryptogram profile recognises IAD " + HexEncode(*iad));
  }
  return profile;
}

Status ValidateCryptogramProfile(const CryptogramProfile& profile) {
  using crypto::BlockCipher;
  if (profile.name.empty()) return InvalidArgument("profile: empty name");
  if (profile.cipher == BlockCipher::kDes)
    return ProfileError(profile, "cipher DES is not an AC cipher");
  switch (profile.master_key_derivation) {
    case MasterKeyDerivation::kNone:
      break;
    case MasterKeyDerivation::kOptionA:
    case MasterKeyDerivation::kOptionB:
      if (profile.cipher != BlockCipher::kTdes) {
        return ProfileError(profile, "master key Options A and B are TDES only");
      }
      break;
    case MasterKeyDerivation::kOptionCAes:
      if (profile.cipher != BlockCipher::kAes) return ProfileError(profile, "Option C is AES only");
      break;
    case MasterKeyDerivation::kSm4Pboc:
      if (profile.cipher != BlockCipher::kSm4) {
        return ProfileError(profile, "the SM4 master key method is SM4 only");
      }
      break;
  }
  if (profile.session_key_derivation == SessionKeyDerivation::kMastercardSkd &&
      profile.cipher != BlockCipher::kTdes) {
    return ProfileError(profile, "Mastercard session keys are TDES only");
  }
  if (profile.ac_data_dol.empty()) return ProfileError(profile, "empty cryptogram data DOL");
  if (DolDataLength(profile.ac_data_dol) > kDolDataBytesMax) {
    return ProfileError(profile, "cryptogram data DOL asks for more than " +
                                     std::to_string(kDolDataBytesMax) + " bytes");
  }
  if (profile.iad_selection == IadSelection::kParts) {
    bool any = false;
    for (const IadPart& part : profile.iad_parts) {
      if (part.length == 0) continue;
      any = true;
      if (part.offset + part.length > kIssuerApplicationDataBytesMax) {
        return ProfileError(profile, "IAD part beyond 32 bytes");
      }
    }
    if (!any) return ProfileError(profile, "IAD selection 'parts' without parts");
  }
  if (profile.arpc_method != ArpcMethod::kNone && profile.cipher != BlockCipher::kTdes) {
    return ProfileError(profile, "ARPC methods are implemented for TDES only");
  }
  return Status::Ok();
}

Status AppendIadData(const CryptogramProfile& profile, ByteView iad, Bytes& out) {
  if (iad.size() > kIssuerApplicationDataBytesMax) {
    return InvalidArgument("iad: " + std::to_string(iad.size()) + " bytes exceed " +
                           std::to_string(kIssuerApplicationDataBytesMax));
  }
  switch (profile.iad_selection) {
    case IadSelection::kNone:
      return Status::Ok();
    case IadSelection::kFull:
      if (iad.empty()) {
        return InvalidArgument("iad: profile " + std::string(profile.name) +
                               " needs the whole IAD (9F10), which is missing");
      }
      out.insert(out.end(), iad.begin(), iad.end());
      return Status::Ok();
    case IadSelection::kParts:
      for (const IadPart& part : profile.iad_parts) {
        if (part.length == 0) continue;
        if (part.offset + part.length > iad.size()) {
          return InvalidArgument("iad: " + std::to_string(iad.size()) + " bytes; profile " +
                                 std::string(profile.name) + " reads " +
                                 std::to_string(part.length) + " bytes at offset " +
                                 std::to_string(part.offset));
        }
        out.insert(out.end(), iad.begin() + part.offset, iad.begin() + part.offset + part.length);
      }
      return Status::Ok();
  }
  return Internal("iad: unknown selection");
}

std::string_view MasterKeyDerivationName(MasterKeyDerivation method) {
  switch (method) {
    case MasterKeyDerivation::kNone:
      return "none";
    case MasterKeyDerivation::kOptionA:
      return "option-a";
    case MasterKeyDerivation::kOptionB:
      return "option-b";
    case MasterKeyDerivation::kOptionCAes:
      return "option-c-aes";
    case MasterKeyDerivation::kSm4Pboc:
      return "sm4-pboc";
  }
  return "none";
}

std::string_view SessionKeyDerivationName(SessionKeyDerivation method) {
  switch (method) {
    case SessionKeyDerivation::kNone:
      return "none";
    case SessionKeyDerivation::kEmvCsk:
      return "emv-csk";
    case SessionKeyDerivation::kMastercardSkd:
      return "mastercard-skd";
  }
  return "none";
}

std::string_view ArpcMethodName(ArpcMethod method) {
  switch (method) {
    case ArpcMethod::kNone:
      return "none";
    case ArpcMethod::kMethod1:
      return "method-1";
    case ArpcMethod::kMethod2:
      return "method-2";
  }
  return "none";
}

}  // namespace tapstack::emv
