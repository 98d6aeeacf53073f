// ISO/IEC 7816-4 command and response APDUs, short form only (section 5.1; case rules of
// ISO/IEC 7816-3 12.1.3), which is all EMV contact and contactless use.
//
//   case 1: CLA INS P1 P2
//   case 2: CLA INS P1 P2 Le                 Le 01-FF, 00 meaning 256
//   case 3: CLA INS P1 P2 Lc data            Lc 01-FF
//   case 4: CLA INS P1 P2 Lc data Le
//
// Extended-length APDUs (a body starting with 00 and more bytes following) are refused.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "emv/status_word.h"

namespace tapstack::emv {

inline constexpr std::size_t kApduHeaderBytes = 4;
inline constexpr std::size_t kShortLcMax = 255;  // command data bytes
inline constexpr std::size_t kShortLeMax = 256;  // expected response bytes (encoded 00)
inline constexpr std::size_t kResponseDataBytesMax = 256;

enum class ApduCase : std::uint8_t { kCase1 = 1, kCase2 = 2, kCase3 = 3, kCase4 = 4 };

struct CommandApdu {
  std::uint8_t cla = 0;
  std::uint8_t ins = 0;
  std::uint8_t p1 = 0;
  std::uint8_t p2 = 0;
  Bytes data;                       // Lc = data.size(); empty means no Lc field
  std::optional<std::uint16_t> le;  // 1-256; nullopt means no Le field

  ApduCase Case() const;
  friend bool operator==(const CommandApdu&, const CommandApdu&) = default;
};

struct ResponseApdu {
  Bytes data;
  StatusWord sw;

  friend bool operator==(const ResponseApdu&, const ResponseApdu&) = default;
};

// Errors (kInvalidArgument) say what was wrong: fewer than 4 bytes, Lc disagreeing with the
// length (e.g. "Lc 07 announces 7 data bytes but 5 follow"), an extended-length body.
Result<CommandApdu> ParseCommandApdu(ByteView apdu);

// Errors (kInvalidArgument): more than kShortLcMax data bytes, Le of 0 or above kShortLeMax.
Result<Bytes> EncodeCommandApdu(const CommandApdu& command);

// Errors (kInvalidArgument): fewer than 2 bytes, more than kResponseDataBytesMax data bytes.
Result<ResponseApdu> ParseResponseApdu(ByteView apdu);

// Errors (kInvalidArgument): more than kResponseDataBytesMax data bytes.
Result<Bytes> EncodeResponseApdu(const ResponseApdu& response);

// The name of an instruction byte in the EMV command set ("SELECT", "READ RECORD", "GET
// PROCESSING OPTIONS", "GENERATE AC", "GET DATA", ...), or "" when not one of them.
std::string_view InstructionName(std::uint8_t ins);

}  // namespace tapstack::emv
