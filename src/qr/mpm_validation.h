// The semantic rules of EMVCo merchant-presented mode, applied to a decoded object tree.
//
// DecodeMpm() runs these after parsing and the CRC check. They read each object's `value` (also
// for templates), so they apply to trees as DecodeMpm() produces them; to check a tree built by
// hand, encode it (EncodeMpm validates by default).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "qr/issue.h"

namespace tapstack::qr {

struct MpmObject;

// Payload limit of MPM v1.0 §4.1 ("should not exceed 512 alphanumeric characters"), counted in
// characters of the whole payload.
inline constexpr std::size_t kMpmPayloadCharsMax = 512;

struct MpmValidationOptions {
  // A currency (53) or country (58) that is well-formed but missing from core's ISO 4217 / 3166
  // tables is an error when set, a warning otherwise. Default false: core's tables hold only the
  // currencies tapstack settles in, and rejecting codes a table does not know is a documented
  // pitfall of other decoders (domain note §4); real payloads use e.g. 608 PHP and KH.
  bool require_known_currency = false;
  bool require_known_country = false;
  // Free-text values (names, cities, labels, identifiers) longer than EMVCo's maximum are an
  // error when set, a warning otherwise. Default false: national profiles exceed them (a KHQR
  // payload with a 16-character city, vector M8). Lengths 01–99, numeric and coded fields
  // (amounts, codes, CRC) are always enforced.
  bool strict_text_lengths = false;
  // Longest payload accepted, in characters.
  std::size_t payload_chars_max = kMpmPayloadCharsMax;
};

// Checks the root objects (and their children) against MPM v1.0 §4 and the domain note §1.3:
//  * 00 first and equal to "01"; 63 last; 01 is "11" (static) or "12" (dynamic);
//  * mandatory 00, 52, 53, 58, 59, 60, 63 and at least one merchant account information 02–51;
//  * no duplicate id at any level; lengths and N (digits-only) formats per the field spec
//    (free-text maxima: see strict_text_lengths);
//  * templates 26–51, 80–99 and 62's 50–99 contain sub-id 00; 64 contains 00 and 01;
//  * 53 is 3 digits (and known to core, see options), 58 two letters A–Z (likewise);
//  * 54 and 56 amounts: digits with at most one '.', a digit first, non-zero, no more decimals
//    than the currency's ISO 4217 exponent (when the currency is known);
//  * 55 is 01, 02 or 03; 56 present exactly when 55 = 02, 57 exactly when 55 = 03;
//    57 is a percentage 00.01–99.99 with at most two decimals;
//  * 62.09 holds only the letters A, M, E, each at most once; 64.00 is two letters.
// The CRC (value and length of 63) is checked by DecodeMpm, which has the payload text.
// Appends to `errors` and `warnings`.
void ValidateMpmObjects(std::span<const MpmObject> root, const MpmValidationOptions& options,
                        std::vector<QrIssue>& errors, std::vector<QrIssue>& warnings);

}  // namespace tapstack::qr
