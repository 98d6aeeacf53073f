#include "iso8583/pos_entry_mode.h"

#include "core/hex.h"

namespace tapstack::iso8583 {

std::string PosEntryMode::ToField() const {
  std::string out(3, '0');
  out[0] = static_cast<char>('0' + (pan_entry / 10) % 10);
  out[1] = static_cast<char>('0' + pan_entry % 10);
  out[2] = static_cast<char>('0' + pin_capability % 10);
  return out;
}

Result<PosEntryMode> PosEntryMode::Parse(std::string_view de22) {
  if (de22.size() != 3 || !IsAllDigits(de22)) {
    return InvalidArgument("DE22 '" + std::string(de22) + "': expected 3 digits (PAN entry mode, PIN capability)");
  }
  PosEntryMode m;
  m.pan_entry = static_cast<std::uint8_t>((de22[0] - '0') * 10 + (de22[1] - '0'));
  m.pin_capability = static_cast<std::uint8_t>(de22[2] - '0');
  return m;
}

}  // namespace tapstack::iso8583
