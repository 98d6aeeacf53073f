#include "emv/tag_dictionary.h"

#include <algorithm>
#include <array>

namespace tapstack::emv {

namespace {

constexpr TagFormat N = TagFormat::kN;
constexpr TagFormat CN = TagFormat::kCn;
constexpr TagFormat B = TagFormat::kB;
constexpr TagFormat AN = TagFormat::kAn;
constexpr TagFormat ANS = TagFormat::kAns;
constexpr std::uint16_t kVar = 0xFFFF;    // no bound beyond the length field's
constexpr std::uint16_t kTemplate = 252;  // a record/response template fits one short R-APDU

// Book 3 Annex A unless noted. Sorted by tag value (checked below).
constexpr std::array kTags = {
    TagInfo{0x42, "Issuer Identification Number (IIN)", N, 3, 3},
    TagInfo{0x4F, "Application Dedicated File (ADF) Name", B, 5, 16},
    TagInfo{0x50, "Application Label", ANS, 1, 16},
    TagInfo{0x57, "Track 2 Equivalent Data", B, 0, 19},
    TagInfo{0x5A, "Application Primary Account Number (PAN)", CN, 0, 10},
    TagInfo{0x61, "Application Template", B, 0, kTemplate},
    TagInfo{0x6F, "File Control Information (FCI) Template", B, 0, kTemplate},
    TagInfo{0x70, "READ RECORD Response Message Template", B, 0, kTemplate},
    TagInfo{0x71, "Issuer Script Template 1", B, 0, kVar},
    TagInfo{0x72, "Issuer Script Template 2", B, 0, kVar},
    TagInfo{0x73, "Directory Discretionary Template", B, 0, kTemplate},
    TagInfo{0x77, "Response Message Template Format 2", B, 0, kTemplate},
    TagInfo{0x80, "Response Message Template Format 1", B, 0, kTemplate},
    TagInfo{0x81, "Amount, Authorised (Binary)", B, 4, 4},
    TagInfo{0x82, "Application Interchange Profile", B, 2, 2},
    TagInfo{0x83, "Command Template", B, 0, kTemplate},
    TagInfo{0x84, "Dedicated File (DF) Name", B, 5, 16},
    TagInfo{0x86, "Issuer Script Command", B, 0, 261},
    TagInfo{0x87, "Application Priority Indicator", B, 1, 1},
    TagInfo{0x88, "Short File Identifier (SFI)", B, 1, 1},
    TagInfo{0x89, "Authorisation Code", ANS, 6, 6},
    TagInfo{0x8A, "Authorisation Response Code", AN, 2, 2},
    TagInfo{0x8C, "Card Risk Management Data Object List 1 (CDOL1)", B, 0, kTemplate},
    TagInfo{0x8D, "Card Risk Management Data Object List 2 (CDOL2)", B, 0, kTemplate},
    TagInfo{0x8E, "Cardholder Verification Method (CVM) List", B, 10, kTemplate},
    TagInfo{0x8F, "Certification Authority Public Key Index", B, 1, 1},
    TagInfo{0x90, "Issuer Public Key Certificate", B, 0, kVar},
    TagInfo{0x91, "Issuer Authentication Data", B, 8, 16},
    TagInfo{0x92, "Issuer Public Key Remainder", B, 0, kVar},
    TagInfo{0x93, "Signed Static Application Data", B, 0, kVar},
    TagInfo{0x94, "Application File Locator (AFL)", B, 0, kTemplate},
    TagInfo{0x95, "Terminal Verification Results", B, 5, 5},
    TagInfo{0x97, "Transaction Certificate Data Object List (TDOL)", B, 0, kTemplate},
    TagInfo{0x98, "Transaction Certificate (TC) Hash Value", B, 20, 20},
    TagInfo{0x99, "Transaction Personal Identification Number (PIN) Data", B, 0, kVar},
    TagInfo{0x9A, "Transaction Date", N, 3, 3},
    TagInfo{0x9B, "Transaction Status Information", B, 2, 2},
    TagInfo{0x9C, "Transaction Type", N, 1, 1},
    TagInfo{0x9D, "Directory Definition File (DDF) Name", B, 5, 16},
    TagInfo{0xA5, "File Control Information (FCI) Proprietary Template", B, 0, kTemplate},
    TagInfo{0x5F20, "Cardholder Name", ANS, 2, 26},
    TagInfo{0x5F24, "Application Expiration Date", N, 3, 3},
    TagInfo{0x5F25, "Application Effective Date", N, 3, 3},
    TagInfo{0x5F28, "Issuer Country Code", N, 2, 2},
    TagInfo{0x5F2A, "Transaction Currency Code", N, 2, 2},
    TagInfo{0x5F2D, "Language Preference", AN, 2, 8},
    TagInfo{0x5F30, "Service Code", N, 2, 2},
    TagInfo{0x5F34, "Application PAN Sequence Number", N, 1, 1},
    TagInfo{0x5F36, "Transaction Currency Exponent", N, 1, 1},
    TagInfo{0x5F50, "Issuer URL", ANS, 0, kVar},
    TagInfo{0x9F01, "Acquirer Identifier", N, 6, 6},
    TagInfo{0x9F02, "Amount, Authorised (Numeric)", N, 6, 6},
    TagInfo{0x9F03, "Amount, Other (Numeric)", N, 6, 6},
    TagInfo{0x9F04, "Amount, Other (Binary)", B, 4, 4},
    TagInfo{0x9F05, "Application Discretionary Data", B, 1, 32},
    TagInfo{0x9F06, "Application Identifier (AID) - terminal", B, 5, 16},
    TagInfo{0x9F07, "Application Usage Control", B, 2, 2},
    TagInfo{0x9F08, "Application Version Number (card)", B, 2, 2},
    TagInfo{0x9F09, "Application Version Number (terminal)", B, 2, 2},
    TagInfo{0x9F0B, "Cardholder Name Extended", ANS, 27, 45},
    TagInfo{0x9F0D, "Issuer Action Code - Default", B, 5, 5},
    TagInfo{0x9F0E, "Issuer Action Code - Denial", B, 5, 5},
    TagInfo{0x9F0F, "Issuer Action Code - Online", B, 5, 5},
    TagInfo{0x9F10, "Issuer Application Data", B, 0, 32},
    TagInfo{0x9F11, "Issuer Code Table Index", N, 1, 1},
    TagInfo{0x9F12, "Application Preferred Name", ANS, 1, 16},
    TagInfo{0x9F13, "Last Online Application Transaction Counter (ATC) Register", B, 2, 2},
    TagInfo{0x9F14, "Lower Consecutive Offline Limit", B, 1, 1},
    TagInfo{0x9F15, "Merchant Category Code", N, 2, 2},
    TagInfo{0x9F16, "Merchant Identifier", ANS, 15, 15},
    TagInfo{0x9F17, "Personal Identification Number (PIN) Try Counter", B, 1, 1},
    TagInfo{0x9F18, "Issuer Script Identifier", B, 4, 4},
    // Tokenisation framework: n11 in 6 bytes.
    TagInfo{0x9F19, "Token Requestor ID", N, 6, 6},
    TagInfo{0x9F1A, "Terminal Country Code", N, 2, 2},
    TagInfo{0x9F1B, "Terminal Floor Limit", B, 4, 4},
    TagInfo{0x9F1C, "Terminal Identification", AN, 8, 8},
    TagInfo{0x9F1D, "Terminal Risk Management Data", B, 1, 8},
    TagInfo{0x9F1E, "Interface Device (IFD) Serial Number", AN, 8, 8},
    TagInfo{0x9F1F, "Track 1 Discretionary Data", ANS, 0, kVar},
    TagInfo{0x9F20, "Track 2 Discretionary Data", CN, 0, kVar},
    TagInfo{0x9F21, "Transaction Time", N, 3, 3},
    TagInfo{0x9F22, "Certification Authority Public Key Index (terminal)", B, 1, 1},
    TagInfo{0x9F23, "Upper Consecutive Offline Limit", B, 1, 1},
    // Tokenisation framework: an 29.
    TagInfo{0x9F24, "Payment Account Reference (PAR)", AN, 29, 29},
    TagInfo{0x9F25, "Last 4 Digits of PAN", N, 2, 2},
    TagInfo{0x9F26, "Application Cryptogram", B, 8, 8},
    TagInfo{0x9F27, "Cryptogram Information Data", B, 1, 1},
    // Book B (contactless entry point): kernel identifier in the PPSE directory entry.
    TagInfo{0x9F2A, "Kernel Identifier", B, 1, 8},
    TagInfo{0x9F2D, "ICC PIN Encipherment Public Key Certificate", B, 0, kVar},
    TagInfo{0x9F2E, "ICC PIN Encipherment Public Key Exponent", B, 1, 3},
    TagInfo{0x9F2F, "ICC PIN Encipherment Public Key Remainder", B, 0, kVar},
    TagInfo{0x9F32, "Issuer Public Key Exponent", B, 1, 3},
    TagInfo{0x9F33, "Terminal Capabilities", B, 3, 3},
    TagInfo{0x9F34, "Cardholder Verification Method (CVM) Results", B, 3, 3},
    TagInfo{0x9F35, "Terminal Type", N, 1, 1},
    TagInfo{0x9F36, "Application Transaction Counter (ATC)", B, 2, 2},
    TagInfo{0x9F37, "Unpredictable Number", B, 4, 4},
    TagInfo{0x9F38, "Processing Options Data Object List (PDOL)", B, 0, kTemplate},
    TagInfo{0x9F39, "Point-of-Service (POS) Entry Mode", N, 1, 1},
    TagInfo{0x9F3A, "Amount, Reference Currency", B, 4, 4},
    TagInfo{0x9F3B, "Application Reference Currency", N, 2, 8},
    TagInfo{0x9F3C, "Transaction Reference Currency Code", N, 2, 2},
    TagInfo{0x9F3D, "Transaction Reference Currency Exponent", N, 1, 1},
    TagInfo{0x9F40, "Additional Terminal Capabilities", B, 5, 5},
    TagInfo{0x9F41, "Transaction Sequence Counter", N, 2, 4},
    TagInfo{0x9F42, "Application Currency Code", N, 2, 2},
    TagInfo{0x9F43, "Application Reference Currency Exponent", N, 1, 4},
    TagInfo{0x9F44, "Application Currency Exponent", N, 1, 1},
    TagInfo{0x9F45, "Data Authentication Code", B, 2, 2},
    TagInfo{0x9F46, "ICC Public Key Certificate", B, 0, kVar},
    TagInfo{0x9F47, "ICC Public Key Exponent", B, 1, 3},
    TagInfo{0x9F48, "ICC Public Key Remainder", B, 0, kVar},
    TagInfo{0x9F49, "Dynamic Data Authentication Data Object List (DDOL)", B, 0, kTemplate},
    TagInfo{0x9F4A, "Static Data Authentication Tag List", B, 0, kVar},
    TagInfo{0x9F4B, "Signed Dynamic Application Data", B, 0, kVar},
    TagInfo{0x9F4C, "ICC Dynamic Number", B, 2, 8},
    TagInfo{0x9F4D, "Log Entry", B, 2, 2},
    TagInfo{0x9F4E, "Merchant Name and Location", ANS, 0, kVar},
    TagInfo{0x9F4F, "Log Format", B, 0, kVar},
    // Scheme-specific contactless tags (Book C-2 Mastercard, C-3 Visa).
    TagInfo{0x9F53, "Transaction Category Code (Mastercard)", AN, 1, 1},
    TagInfo{0x9F5D,
            "Available Offline Spending Amount (Visa) / Application Capabilities Information "
            "(Mastercard)",
            B, 3, 6},
    TagInfo{0x9F66, "Terminal Transaction Qualifiers (TTQ)", B, 4, 4},
    TagInfo{0x9F69, "Card Authentication Related Data (Visa) / UDOL (Mastercard)", B, 0, kVar},
    TagInfo{0x9F6A, "Unpredictable Number (Numeric) (Mastercard)", N, 4, 4},
    TagInfo{0x9F6B, "Track 2 Data (Mastercard)", B, 0, 19},
    TagInfo{0x9F6C,
            "Card Transaction Qualifiers (Visa) / Mag-stripe Application Version Number "
            "(Mastercard)",
            B, 2, 2},
    TagInfo{0x9F6E, "Form Factor Indicator (Visa) / Third Party Data (Mastercard)", B, 4, 32},
    TagInfo{0x9F7C, "Customer Exclusive Data", B, 0, 32},
    TagInfo{0xBF0C, "File Control Information (FCI) Issuer Discretionary Data", B, 0, 222},
};

constexpr bool SortedAndUnique() {
  for (std::size_t i = 1; i < kTags.size(); ++i) {
    if (kTags[i - 1].tag >= kTags[i].tag) return false;
  }
  return true;
}
static_assert(SortedAndUnique(), "kTags must be sorted by tag value without duplicates");

}  // namespace

std::span<const TagInfo> TagDictionary() { return kTags; }

const TagInfo* FindTagInfo(TlvTag tag) {
  const auto it = std::lower_bound(kTags.begin(), kTags.end(), tag,
                                   [](const TagInfo& info, TlvTag t) { return info.tag < t; });
  if (it == kTags.end() || it->tag != tag) return nullptr;
  return &*it;
}

std::string_view TagName(TlvTag tag) {
  const TagInfo* info = FindTagInfo(tag);
  return info == nullptr ? std::string_view() : info->name;
}

TagFormat TagFormatOf(TlvTag tag) {
  const TagInfo* info = FindTagInfo(tag);
  return info == nullptr ? TagFormat::kB : info->format;
}

std::string_view TagFormatName(TagFormat format) {
  switch (format) {
    case TagFormat::kN:
      return "n";
    case TagFormat::kCn:
      return "cn";
    case TagFormat::kB:
      return "b";
    case TagFormat::kAn:
      return "an";
    case TagFormat::kAns:
      return "ans";
  }
  return "b";
}

}  // namespace tapstack::emv
