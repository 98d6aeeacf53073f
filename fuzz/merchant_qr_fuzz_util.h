// Helpers shared by the merchant-QR fuzz targets (qrpay_fuzz.cc, dcep_qr_fuzz.cc): the property
// check, the fixed test key codes are re-made under, and recomputing the CRC of a fuzzed payload
// so the fuzzer reaches the objects behind the CRC check (EMV QRCPS MPM §4.7: 63 04 + CRC last).
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "crypto/secret_bytes.h"
#include "qr/crc16.h"

namespace tapstack::fuzz {

inline void Check(bool condition) {
  if (!condition) std::abort();
}

inline const crypto::SecretBytes& Key() {
  static const crypto::SecretBytes key(Bytes(32, 0x5A));
  return key;
}

inline std::string WithFixedCrc(std::string_view text) {
  std::string out(text);
  if (out.size() >= 8 && out.compare(out.size() - 8, 4, "6304") == 0) {
    out.replace(out.size() - 4, 4,
                qr::FormatCrc16(qr::Crc16CcittFalse(std::string_view(out).substr(0, out.size() - 4))));
  }
  return out;
}

}  // namespace tapstack::fuzz
