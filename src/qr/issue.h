// QrIssue: one reason a QR payload is invalid (or, as a warning, questionable), naming where.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tapstack::qr {

struct QrIssue {
  // Where: the data object's id path for merchant-presented payloads ("54", "62.09"), the tag
  // path for consumer-presented ones ("61.4F"), or empty for the payload as a whole.
  std::string where;
  // Offset of the object (or of the offending byte) from the start of the payload: characters
  // for merchant-presented text, bytes of the decoded TLV for consumer-presented payloads.
  std::size_t offset = 0;
  std::string reason;  // what was found and what was expected

  // "id 54 at offset 87: amount '23,72' ..." / "tag 61.4F at offset 9: ..." / "offset 0: ...".
  // `label` is "id" or "tag".
  std::string ToString(std::string_view label) const;

  friend bool operator==(const QrIssue&, const QrIssue&) = default;
};

// OK when `errors` is empty; otherwise kInvalidArgument naming the first error and how many
// others there are.
Status IssuesToStatus(std::span<const QrIssue> errors, std::string_view label);

}  // namespace tapstack::qr
