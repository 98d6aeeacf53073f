// The field spec of EMVCo merchant-presented mode: what every data object id means at every level.
//
// Source: EMV QRCPS Merchant-Presented Mode v1.0 (July 2017) §4.5 tables 3.x and 4.x. One table
// drives decoding (which ids are templates), naming (CLI output) and validation (format, length).
#pragma once

#include <cstddef>
#include <string_view>

namespace tapstack::qr {

// The level a data object sits at; each level numbers its ids independently.
enum class MpmScope {
  kRoot,
  kMerchantAccount,  // inside 26–51: 00 globally unique identifier, 01–99 network specific
  kAdditionalData,  // inside 62: bill number, reference label, ..., 50–99 payment system templates
  kLanguage,        // inside 64: language preference, alternate name and city
  kUnreserved,      // inside 80–99: 00 globally unique identifier, 01–99 context specific
  kPaymentSystem,  // inside 62's 50–99: 00 globally unique identifier, 01–99 payment system data
};

enum class MpmFormat {
  kNumeric,   // "N": digits 0–9 only
  kText,      // "ans" (and RFU objects): any characters; the decoder does not restrict the set
  kTemplate,  // "S": the value is itself a list of id/length/value objects
};

struct MpmFieldSpec {
  std::string_view name;  // e.g. "Transaction Amount"
  MpmFormat format;
  std::size_t min_chars;  // inclusive bounds of the value length in characters
  std::size_t max_chars;
  MpmScope child_scope;  // for kTemplate: the scope of its children (kRoot otherwise)
  bool known;            // false for RFU ids, which are kept but not interpreted
  // True when a value longer than max_chars is an error on any profile: numeric fields, amounts,
  // country code, CRC, language code, consumer data request. False for free text (names, cities,
  // labels, identifiers), where national profiles exceed EMVCo's maxima (KHQR uses a 16-character
  // merchant city); see MpmValidationOptions::strict_text_lengths.
  bool max_strict;
};

// The spec of id `id` (0–99) in `scope`. Ids the standard reserves (RFU) come back as kText,
// 1–99 characters, known = false ("keep and ignore" rather than reject).
MpmFieldSpec MpmFieldSpecFor(MpmScope scope, int id);

// True for the merchant account information ids 02–51 (at least one is mandatory).
inline bool IsMerchantAccountId(int id) { return id >= 2 && id <= 51; }

// Data object ids that payload builders name (EMV QRCPS MPM v1.0 §4.5: root ids, and the ids
// inside templates 26–51, 62 and 80–99 that tapstack's merchant codes use).
namespace mpm_ids {
inline constexpr std::string_view kIdFormat = "00";             // payload format indicator
inline constexpr std::string_view kIdPointOfInitiation = "01";  // 11 static, 12 dynamic
inline constexpr std::string_view kIdMerchantAccount = "26";    // first of 26–51
inline constexpr std::string_view kIdMcc = "52";
inline constexpr std::string_view kIdCurrency = "53";  // ISO 4217 numeric
inline constexpr std::string_view kIdAmount = "54";
inline constexpr std::string_view kIdCountry = "58";  // ISO 3166-1 alpha-2
inline constexpr std::string_view kIdName = "59";
inline constexpr std::string_view kIdCity = "60";
inline constexpr std::string_view kIdAdditionalData = "62";
inline constexpr std::string_view kIdTapstackData = "80";  // first unreserved template
inline constexpr std::string_view kSubGui = "00";         // inside 26–51 and 80–99
inline constexpr std::string_view kSubBillNumber = "01";  // inside 62
inline constexpr std::string_view kStatic = "11";         // values of 01
inline constexpr std::string_view kDynamic = "12";
}  // namespace mpm_ids

}  // namespace tapstack::qr
