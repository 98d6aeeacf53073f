// tapstack's private field for payment-token data: DE48 (ans..999 LLLVAR) as a list of
// sub-elements `tag (2 characters A-Z0-9) · length (3 digits) · value (printable ASCII)`.
//
// ISO leaves DE48 to networks; this layout is tapstack's own (docs/ISO8583.md). Defined tags:
//   TR  token requestor id (11 digits)          TK  payment token (switch → issuer, after
//   TA  token assurance method (2 digits)           de-tokenisation, so the issuer sees both)
//   PR  payment account reference (29 chars)    TE  token expiry YYMM
//   WI  wallet account id                       CV  cryptogram validation by the TSP:
//   DI  device id                                   V valid, F failed, N not verified
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
}  // namespace token_tag

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

}  // namespace tapstack::iso8583
