#include "qr/issue.h"

namespace tapstack::qr {

std::string QrIssue::ToString(std::string_view label) const {
  std::string out;
  if (!where.empty()) {
    out.append(label).append(" ").append(where).append(" at ");
  }
  out.append("offset ").append(std::to_string(offset)).append(": ").append(reason);
  return out;
}

Status IssuesToStatus(std::span<const QrIssue> errors, std::string_view label) {
  if (errors.empty()) return Status::Ok();
  std::string message = errors.front().ToString(label);
  if (errors.size() > 1) {
    message += " (and " + std::to_string(errors.size() - 1) + " more)";
  }
  return InvalidArgument(std::move(message));
}

}  // namespace tapstack::qr
