#include "iso8583/original_data_elements.h"

#include "core/hex.h"

namespace tapstack::iso8583 {

namespace {

Status AppendPart(std::string_view name, std::string_view digits, std::size_t width, bool pad,
                  std::string& out) {
  if ((!digits.empty() && !IsAllDigits(digits)) || digits.size() > width ||
      (!pad && digits.size() != width)) {
    return InvalidArgument("DE90 " + std::string(name) + " '" + std::string(digits) + "': expected " +
                           (pad ? "up to " : "") + std::to_string(width) + " digits");
  }
  out.append(width - digits.size(), '0');
  out.append(digits);
  return Status::Ok();
}

std::string StripLeadingZeros(std::string_view s) {
  std::size_t i = s.find_first_not_of('0');
  return i == std::string_view::npos ? std::string() : std::string(s.substr(i));
}

}  // namespace

Result<std::string> OriginalDataElements::ToField() const {
  std::string out;
  out.reserve(42);
  TS_RETURN_IF_ERROR(AppendPart("original MTI", mti, 4, false, out));
  TS_RETURN_IF_ERROR(AppendPart("original STAN", stan, 6, false, out));
  TS_RETURN_IF_ERROR(AppendPart("original transmission time", transmission_time, 10, false, out));
  TS_RETURN_IF_ERROR(AppendPart("acquirer id", acquirer_id, 11, true, out));
  TS_RETURN_IF_ERROR(AppendPart("forwarding id", forwarding_id, 11, true, out));
  return out;
}

Result<OriginalDataElements> OriginalDataElements::Parse(std::string_view de90) {
  if (de90.size() != 42 || !IsAllDigits(de90)) {
    return InvalidArgument("DE90: expected 42 digits, got " + std::to_string(de90.size()) +
                           " characters");
  }
  OriginalDataElements o;
  o.mti = std::string(de90.substr(0, 4));
  o.stan = std::string(de90.substr(4, 6));
  o.transmission_time = std::string(de90.substr(10, 10));
  o.acquirer_id = StripLeadingZeros(de90.substr(20, 11));
  o.forwarding_id = StripLeadingZeros(de90.substr(31, 11));
  return o;
}

}  // namespace tapstack::iso8583
