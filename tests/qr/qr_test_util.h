// Helpers shared by the qr tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qr/crc16.h"
#include "qr/issue.h"

namespace tapstack::qr::testing {

// `body` + "6304" + the correct CRC: a payload whose only defects are the ones in `body`.
inline std::string WithCrc(std::string_view body) {
  std::string payload(body);
  payload += "6304";
  payload += FormatCrc16(Crc16CcittFalse(payload));
  return payload;
}

// All issues as lines, for failure messages.
inline std::string Describe(const std::vector<QrIssue>& issues, std::string_view label) {
  std::string out;
  for (const QrIssue& issue : issues) out += "  " + issue.ToString(label) + "\n";
  return out.empty() ? "  (none)\n" : out;
}

// True when some issue's text contains every one of `needles`.
inline bool HasIssue(const std::vector<QrIssue>& issues, std::string_view label,
                     std::initializer_list<std::string_view> needles) {
  for (const QrIssue& issue : issues) {
    const std::string text = issue.ToString(label);
    bool all = true;
    for (std::string_view needle : needles) {
      if (text.find(needle) == std::string::npos) all = false;
    }
    if (all) return true;
  }
  return false;
}

}  // namespace tapstack::qr::testing
