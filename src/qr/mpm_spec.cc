#include "qr/mpm_spec.h"

namespace tapstack::qr {
namespace {

constexpr std::size_t kValueCharsMax = 99;
// "Globally Unique Identifier" (sub-id 00 of 26–51, 80–99 and 62's 50–99): ans, up to 32.
constexpr std::size_t kGuidCharsMax = 32;
// Additional data field (62) sub-ids 01–08: ans, up to 25 each.
constexpr std::size_t kAdditionalDataCharsMax = 25;

constexpr MpmFieldSpec Numeric(std::string_view name, std::size_t chars) {
  return {name, MpmFormat::kNumeric, chars, chars, MpmScope::kRoot, true, true};
}
// Free text: exceeding max_chars is a warning unless options ask for strict lengths.
constexpr MpmFieldSpec Text(std::string_view name, std::size_t min_chars, std::size_t max_chars) {
  return {name, MpmFormat::kText, min_chars, max_chars, MpmScope::kRoot, true, false};
}
// Text whose maximum is part of its format (amounts, codes).
constexpr MpmFieldSpec Coded(std::string_view name, std::size_t min_chars, std::size_t max_chars) {
  return {name, MpmFormat::kText, min_chars, max_chars, MpmScope::kRoot, true, true};
}
constexpr MpmFieldSpec Template(std::string_view name, MpmScope child_scope) {
  return {name, MpmFormat::kTemplate, 1, kValueCharsMax, child_scope, true, true};
}
constexpr MpmFieldSpec Rfu() {
  return {"RFU for EMVCo", MpmFormat::kText, 1, kValueCharsMax, MpmScope::kRoot, false, true};
}

// Primitive merchant account information 02–25, by the payment network the range is assigned to
// (MPM v1.0 Table 4.2).
std::string_view PrimitiveAccountName(int id) {
  if (id <= 3) return "Merchant Account Information (Visa)";
  if (id <= 5) return "Merchant Account Information (Mastercard)";
  if (id <= 8) return "Merchant Account Information (EMVCo)";
  if (id <= 10) return "Merchant Account Information (Discover)";
  if (id <= 12) return "Merchant Account Information (Amex)";
  if (id <= 14) return "Merchant Account Information (JCB)";
  if (id <= 16) return "Merchant Account Information (UnionPay)";
  return "Merchant Account Information (EMVCo)";
}

MpmFieldSpec RootSpec(int id) {
  switch (id) {
    case 0:
      return Numeric("Payload Format Indicator", 2);
    case 1:
      return Numeric("Point of Initiation Method", 2);
    case 52:
      return Numeric("Merchant Category Code", 4);
    case 53:
      return Numeric("Transaction Currency", 3);
    case 54:
      return Coded("Transaction Amount", 1, 13);
    case 55:
      return Numeric("Tip or Convenience Indicator", 2);
    case 56:
      return Coded("Value of Convenience Fee Fixed", 1, 13);
    case 57:
      return Coded("Value of Convenience Fee Percentage", 1, 5);
    case 58:
      return Coded("Country Code", 2, 2);
    case 59:
      return Text("Merchant Name", 1, 25);
    case 60:
      return Text("Merchant City", 1, 15);
    case 61:
      return Text("Postal Code", 1, 10);
    case 62:
      return Template("Additional Data Field Template", MpmScope::kAdditionalData);
    case 63:
      return Coded("CRC", 4, 4);
    case 64:
      return Template("Merchant Information - Language Template", MpmScope::kLanguage);
    default:
      break;
  }
  if (id >= 2 && id <= 25) return Text(PrimitiveAccountName(id), 1, kValueCharsMax);
  if (id >= 26 && id <= 51) {
    return Template("Merchant Account Information", MpmScope::kMerchantAccount);
  }
  if (id >= 80 && id <= 99) return Template("Unreserved Template", MpmScope::kUnreserved);
  return Rfu();  // 65–79
}

MpmFieldSpec AdditionalDataSpec(int id) {
  switch (id) {
    case 1:
      return Text("Bill Number", 1, kAdditionalDataCharsMax);
    case 2:
      return Text("Mobile Number", 1, kAdditionalDataCharsMax);
    case 3:
      return Text("Store Label", 1, kAdditionalDataCharsMax);
    case 4:
      return Text("Loyalty Number", 1, kAdditionalDataCharsMax);
    case 5:
      return Text("Reference Label", 1, kAdditionalDataCharsMax);
    case 6:
      return Text("Customer Label", 1, kAdditionalDataCharsMax);
    case 7:
      return Text("Terminal Label", 1, kAdditionalDataCharsMax);
    case 8:
      return Text("Purpose of Transaction", 1, kAdditionalDataCharsMax);
    case 9:
      return Coded("Additional Consumer Data Request", 1, 3);
    default:
      break;
  }
  if (id >= 50) return Template("Payment System Specific Template", MpmScope::kPaymentSystem);
  return Rfu();  // 00 and 10–49
}

MpmFieldSpec LanguageSpec(int id) {
  switch (id) {
    case 0:
      return Coded("Language Preference", 2, 2);
    case 1:
      return Text("Merchant Name - Alternate Language", 1, 25);
    case 2:
      return Text("Merchant City - Alternate Language", 1, 15);
    default:
      return Rfu();
  }
}

MpmFieldSpec GuidTemplateSpec(int id, std::string_view other_name) {
  if (id == 0) return Text("Globally Unique Identifier", 1, kGuidCharsMax);
  return Text(other_name, 1, kValueCharsMax);
}

}  // namespace

MpmFieldSpec MpmFieldSpecFor(MpmScope scope, int id) {
  switch (scope) {
    case MpmScope::kRoot:
      return RootSpec(id);
    case MpmScope::kAdditionalData:
      return AdditionalDataSpec(id);
    case MpmScope::kLanguage:
      return LanguageSpec(id);
    case MpmScope::kMerchantAccount:
      return GuidTemplateSpec(id, "Payment Network Specific");
    case MpmScope::kUnreserved:
      return GuidTemplateSpec(id, "Context Specific Data");
    case MpmScope::kPaymentSystem:
      return GuidTemplateSpec(id, "Payment System Specific");
  }
  return Rfu();
}

}  // namespace tapstack::qr
