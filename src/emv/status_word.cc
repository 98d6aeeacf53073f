#include "emv/status_word.h"

#include <array>
#include <cstdio>

namespace tapstack::emv {

namespace {

struct NamedStatusWord {
  std::uint16_t value;
  std::string_view name;
};

// ISO/IEC 7816-4 table 6 and following, as used by EMV.
constexpr std::array kNamed = {
    NamedStatusWord{0x9000, "success"},
    NamedStatusWord{0x6200, "warning, no information given"},
    NamedStatusWord{0x6281, "part of returned data may be corrupted"},
    NamedStatusWord{0x6282, "end of file or record reached before reading Le bytes"},
    NamedStatusWord{0x6283, "selected file invalidated"},
    NamedStatusWord{0x6284, "file control information not formatted"},
    NamedStatusWord{0x6300, "verification failed"},
    NamedStatusWord{0x6400, "execution error, state unchanged"},
    NamedStatusWord{0x6581, "memory failure"},
    NamedStatusWord{0x6700, "wrong length"},
    NamedStatusWord{0x6881, "logical channel not supported"},
    NamedStatusWord{0x6882, "secure messaging not supported"},
    NamedStatusWord{0x6981, "command incompatible with file structure"},
    NamedStatusWord{0x6982, "security status not satisfied"},
    NamedStatusWord{0x6983, "authentication method blocked"},
    NamedStatusWord{0x6984, "reference data not usable"},
    NamedStatusWord{0x6985, "conditions of use not satisfied"},
    NamedStatusWord{0x6986, "command not allowed, no current file"},
    NamedStatusWord{0x6987, "expected secure messaging data objects missing"},
    NamedStatusWord{0x6988, "incorrect secure messaging data objects"},
    NamedStatusWord{0x6A80, "incorrect parameters in the data field"},
    NamedStatusWord{0x6A81, "function not supported"},
    NamedStatusWord{0x6A82, "file or application not found"},
    NamedStatusWord{0x6A83, "record not found"},
    NamedStatusWord{0x6A84, "not enough memory space in the file"},
    NamedStatusWord{0x6A86, "incorrect parameters P1-P2"},
    NamedStatusWord{0x6A88, "referenced data not found"},
    NamedStatusWord{0x6B00, "wrong parameters P1-P2"},
    NamedStatusWord{0x6D00, "instruction code not supported or invalid"},
    NamedStatusWord{0x6E00, "class not supported"},
    NamedStatusWord{0x6F00, "no precise diagnosis"},
    // PBOC electronic purse (JR/T 0025; shared/design/domain/transit-purse.md section 4).
    NamedStatusWord{0x9302, "MAC error"},
    NamedStatusWord{0x9303, "application permanently locked"},
    NamedStatusWord{0x9401, "insufficient balance"},
    NamedStatusWord{0x9403, "key index not supported"},
};

std::string Hex4(std::uint16_t value) {
  char buffer[5];
  std::snprintf(buffer, sizeof buffer, "%04X", static_cast<unsigned>(value));
  return buffer;
}

}  // namespace

std::string_view StatusWordName(StatusWord sw) {
  for (const NamedStatusWord& named : kNamed) {
    if (named.value == sw.value()) return named.name;
  }
  if (sw.sw1() == 0x61) return "more response bytes available";
  if (sw.sw1() == 0x6C) return "wrong Le";
  if (sw.sw1() == 0x63 && (sw.sw2() & 0xF0) == 0xC0) return "verification failed, retries counted";
  return "unknown status";
}

std::string DescribeStatusWord(StatusWord sw) {
  std::string out = Hex4(sw.value()) + " ";
  if (sw.sw1() == 0x61) {
    // 6100 means 256 or more bytes are waiting.
    const unsigned available = sw.sw2() == 0 ? 256 : sw.sw2();
    return out + std::to_string(available) + " more response bytes available";
  }
  if (sw.sw1() == 0x6C) {
    const unsigned exact = sw.sw2() == 0 ? 256 : sw.sw2();
    return out + "wrong Le, exact length " + std::to_string(exact);
  }
  if (sw.sw1() == 0x63 && (sw.sw2() & 0xF0) == 0xC0) {
    const unsigned retries = sw.sw2() & 0x0F;
    return out + "verification failed, " + std::to_string(retries) +
           (retries == 1 ? " retry left" : " retries left");
  }
  return out + std::string(StatusWordName(sw));
}

}  // namespace tapstack::emv
