#include "iso8583/token_data.h"

#include <algorithm>

namespace tapstack::iso8583 {

namespace {

constexpr std::size_t kFieldCharsMax = 999;
constexpr std::size_t kSubElementHeaderChars = 5;  // tag (2) + length (3)

bool IsTagChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsPrintable(std::string_view v) {
  for (char c : v) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// Walks the sub-elements of `de48` in order, calling `visit(tag, value)` with views into it,
// after checking each one (the errors of TokenData::Parse). Nothing is copied, so callers can
// look for secrets (C2) without leaving copies behind.
template <typename Visit>
Status ForEachSubElement(std::string_view de48, Visit visit) {
  std::vector<std::string_view> seen;
  std::size_t pos = 0;
  while (pos < de48.size()) {
    const std::string at = "DE48 token data at offset " + std::to_string(pos) + ": ";
    if (de48.size() - pos < kSubElementHeaderChars) {
      return InvalidArgument(at + "truncated sub-element header; expected tag(2) and length(3)");
    }
    std::string_view tag = de48.substr(pos, 2);
    if (!IsTagChar(tag[0]) || !IsTagChar(tag[1])) {
      return InvalidArgument(at + "tag '" + std::string(tag) + "' must be 2 characters A-Z or 0-9");
    }
    std::size_t length = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      char c = de48[pos + 2 + i];
      if (c < '0' || c > '9') return InvalidArgument(at + "length of " + std::string(tag) + " is not 3 digits");
      length = length * 10 + static_cast<std::size_t>(c - '0');
    }
    pos += kSubElementHeaderChars;
    if (length > de48.size() - pos) {
      return InvalidArgument(at + std::string(tag) + " declares " + std::to_string(length) +
                             " characters but " + std::to_string(de48.size() - pos) + " remain");
    }
    std::string_view value = de48.substr(pos, length);
    if (!IsPrintable(value)) return InvalidArgument(at + std::string(tag) + " has non-printable characters");
    if (std::find(seen.begin(), seen.end(), tag) != seen.end()) {
      return InvalidArgument(at + "duplicate tag " + std::string(tag));
    }
    seen.push_back(tag);
    visit(tag, value);
    pos += length;
  }
  return Status::Ok();
}

}  // namespace

Result<TokenData> TokenData::Parse(std::string_view de48) {
  TokenData data;
  TS_RETURN_IF_ERROR(ForEachSubElement(de48, [&data](std::string_view tag, std::string_view value) {
    data.elements_.emplace_back(std::string(tag), std::string(value));
  }));
  return data;
}

Result<std::string> TokenData::ToField() const {
  std::string out;
  for (const auto& [tag, value] : elements_) {
    if (tag.size() != 2 || !IsTagChar(tag[0]) || !IsTagChar(tag[1])) {
      return InvalidArgument("DE48 token data: tag '" + tag + "' must be 2 characters A-Z or 0-9");
    }
    if (!IsPrintable(value) || value.size() > kFieldCharsMax) {
      return InvalidArgument("DE48 token data: " + tag + " must be printable ASCII, at most 999 characters");
    }
    out += tag;
    std::string len = std::to_string(value.size());
    out.append(3 - len.size(), '0');
    out += len;
    out += value;
  }
  if (out.size() > kFieldCharsMax) {
    return InvalidArgument("DE48 token data: " + std::to_string(out.size()) +
                           " characters exceed the LLLVAR limit of 999");
  }
  return out;
}

std::optional<std::string_view> TokenData::Get(std::string_view tag) const {
  for (const auto& [t, v] : elements_) {
    if (t == tag) return std::string_view(v);
  }
  return std::nullopt;
}

void TokenData::Set(std::string_view tag, std::string_view value) {
  for (auto& [t, v] : elements_) {
    if (t == tag) {
      v = std::string(value);
      return;
    }
  }
  elements_.emplace_back(std::string(tag), std::string(value));
}

Result<std::optional<std::string_view>> FindSubElement(std::string_view de48, std::string_view tag) {
  std::optional<std::string_view> found;
  TS_RETURN_IF_ERROR(ForEachSubElement(de48, [&found, tag](std::string_view t, std::string_view value) {
    if (t == tag) found = value;
  }));
  return found;
}

bool IsProvisioningIdv(std::string_view de48) {
  auto pv = FindSubElement(de48, token_tag::kProvisioningIdv);
  return pv.ok() && pv->has_value();
}

}  // namespace tapstack::iso8583
