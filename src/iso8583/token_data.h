// tapstack's private field for payment-token data: DE48 (ans..999 LLLVAR) as a list of
// sub-elements `tag (2 characters A-Z0-9) · length (3 digits) · value (printable ASCII)`.
//
// ISO leaves DE48 to networks; this layout is tapstack's own (docs/ISO8583.md). Defined tags:
//   TR  token requestor id (11 digits)          TK  payment token (switch → issuer, after
//   TA  token assurance method (2 digits)           de-tokenisation, so the issuer sees both)
//   PR  payment account reference (29 chars)    TE  token expiry YYMM
//   WI  wallet account id                       CV  cryptogram validation by the TSP:
//   DI  device id                                   V valid, F failed, N not verified
//   C2  card security code (CVV2, 3 digits)     PV  token-provisioning ID&V request: "1"
//   IV  ID&V result (issuer → TSP, in the 0110 of a PV request): G green (approve), Y yellow
//       (step-up required), R red (declined)
// Unknown tags are kept, in order, and forwarded unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace tapstack::iso8583 {

inline constexpr int kTokenDataField = 48;

namespace token_tag {
inline constexpr std::string_view kRequestorId = "TR";
inline constexpr std::string_view kAssuranceMethod = "TA";
inline constexpr std::string_view kPar = "PR";
inline constexpr std::string_view kWalletId = "WI";
inline constexpr std::string_view kDeviceId = "DI";
inline constexpr std::string_view kToken = "TK";
inline constexpr std::string_view kTokenExpiry = "TE";
inline constexpr std::string_view kCryptogramResult = "CV";
// The card security code (CVV2/CVN2) of a card-not-present purchase: 3 digits, checked by the
// issuer and never stored by any role.
inline constexpr std::string_view kCardSecurityCode = "C2";
// Marks an 0100 as the TSP's token-provisioning ID&V request (account verification, DE4 zero):
// the issuer checks the card and answers with IV; the network never stands in for it
// (docs/ISO8583.md "Token provisioning ID&V").
inline constexpr std::string_view kProvisioningIdv = "PV";
// The issuer's ID&V decision in the 0110 (values in idv_result below).
inline constexpr std::string_view kIdvResult = "IV";
}  // namespace token_tag

// The one defined value of PV.
inline constexpr std::string_view kProvisioningIdvRequested = "1";

// Values of IV: the EMVCo tokenisation framework's green / yellow / red paths (issuer decision
// APPROVED / REQUIRE_ADDITIONAL_AUTHENTICATION / DECLINED).
namespace idv_result {
inline constexpr std::string_view kGreen = "G";   // approve without step-up
inline constexpr std::string_view kYellow = "Y";  // step-up required (the TSP sends an OTP)
inline constexpr std::string_view kRed = "R";     // declined (DE39 says why)
}  // namespace idv_result

class TokenData {
 public:
  // Errors (field DE48, offset named): truncated sub-element, bad tag characters, non-digit
  // length, value overrunning the field, non-printable value, duplicate tag.
  static Result<TokenData> Parse(std::string_view de48);

  // The field value. Errors: bad tag, non-printable value, total above 999 characters.
  Result<std::string> ToField() const;

  std::optional<std::string_view> Get(std::string_view tag) const;
  // Replaces the value of `tag` or appends it.
  void Set(std::string_view tag, std::string_view value);
  const std::vector<std::pair<std::string, std::string>>& elements() const { return elements_; }

 private:
  std::vector<std::pair<std::string, std::string>> elements_;
};

// The value of `tag` in `de48` as a view into it (nothing is copied: use it for the CVV2), or
// nullopt when absent. Errors: those of TokenData::Parse, for any sub-element of the field.
Result<std::optional<std::string_view>> FindSubElement(std::string_view de48, std::string_view tag);

// True when `de48` is well-formed token data carrying PV, whatever its value: a request that
// says it is a provisioning ID&V must never be approved in the issuer's stead, even when its PV
// value is not one the issuer accepts (fail closed).
bool IsProvisioningIdv(std::string_view de48);

}  // namespace tapstack::iso8583
