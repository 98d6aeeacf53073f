// DE22 point-of-service entry mode (ISO 8583:1987, n3): digits 1-2 PAN entry mode, digit 3 PIN
// entry capability. A tap on a PIN-capable terminal is "071".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::iso8583 {

// PAN entry mode values in common use (network.ae / Galileo DE022 documentation).
enum class PanEntryMode : std::uint8_t {
  kUnknown = 0,
  kManual = 1,
  kMagneticStripe = 2,
  kContactChip = 5,
  kContactlessChip = 7,
  kEcommerce = 9,
  kCredentialOnFile = 10,
  kChipFallback = 80,
  kEcommerceAlt = 81,
  kFullMagneticStripe = 90,
  kContactlessMagStripe = 91,
  kChipUnreliable = 95,
};

enum class PinCapability : std::uint8_t { kUnknown = 0, kCanAcceptPin = 1, kCannotAcceptPin = 2 };

struct PosEntryMode {
  std::uint8_t pan_entry = 0;       // 00-99; compare with PanEntryMode values
  std::uint8_t pin_capability = 0;  // 0-9

  bool is_contactless() const {
    return pan_entry == static_cast<std::uint8_t>(PanEntryMode::kContactlessChip) ||
           pan_entry == static_cast<std::uint8_t>(PanEntryMode::kContactlessMagStripe);
  }
  // "071"
  std::string ToField() const;
  // Errors: not exactly 3 digits.
  static Result<PosEntryMode> Parse(std::string_view de22);
};

}  // namespace tapstack::iso8583
