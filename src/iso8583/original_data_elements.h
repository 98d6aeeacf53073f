// DE90 original data elements (n42), carried by reversals and advices to name the original.
// Layout as generally used with ISO 8583:1987 (the ISO text is not public; zero-fill rules are
// tapstack's): original MTI (4) · original STAN, DE11 (6) · original transmission date and time,
// DE7 (10) · original acquiring institution id, DE32, right-justified zero-filled (11) · original
// forwarding institution id, DE33, zero-filled when absent (11).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::iso8583 {

struct OriginalDataElements {
  std::string mti;                  // 4 digits
  std::string stan;                 // 6 digits
  std::string transmission_time;    // 10 digits MMDDhhmmss
  std::string acquirer_id;          // up to 11 digits
  std::string forwarding_id;        // up to 11 digits, may be empty

  // The 42-digit field. Errors name the part that is not digits or too long.
  Result<std::string> ToField() const;
  // Errors: not 42 digits. Leading zeros of the institution ids are removed.
  static Result<OriginalDataElements> Parse(std::string_view de90);
};

}  // namespace tapstack::iso8583
