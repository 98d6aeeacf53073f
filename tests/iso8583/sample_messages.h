// Typical messages shared by the ISO 8583 tests, benchmark and interop test.
#pragma once

#include <string>

#include "core/hex.h"
#include "iso8583/message.h"

namespace tapstack::iso8583::testing {

// DE55 of a contactless ARQC (tags 9F26 9F27 9F10 9F37 9F36 95 9A 9C 9F02 5F2A 82 9F1A 9F03
// 9F33 9F34 9F35 84 9F6E), 130 bytes. Values are synthetic.
inline std::string SampleIccData() {
  auto bytes = *HexDecode(
      "9F2608CD29615D6452E70E9F2701809F100706011203A000009F3704ABCDEF129F3602001C950500000000"
      "009A032611219C01009F02060000000099995F2A020156820219809F1A0201569F03060000000000009F33"
      "03E0F8C89F34031F03029F350122840AA00000033301010100019F6E0420700000");
  return {bytes.begin(), bytes.end()};
}

// A 0100 contactless token authorisation as an acquirer sends it (architecture §tap to pay).
inline Message ContactlessAuthorization() {
  Message m("0100");
  m.Set(2, "6250947000000014");                      // payment token (Luhn-valid)
  m.Set(3, "000000");
  m.Set(4, "000000009999");                          // 99.99 CNY
  m.Set(7, "1121093000");
  m.Set(11, "000001");
  m.Set(12, "173000");
  m.Set(13, "1121");
  m.Set(14, "2912");
  m.Set(18, "5411");
  m.Set(19, "156");
  m.Set(22, "071");
  m.Set(23, "001");
  m.Set(25, "00");
  m.Set(32, "48020000");
  m.Set(35, "6250947000000014=29122011000000000");
  m.Set(37, "632609000001");
  m.Set(41, "TERM0001");
  m.Set(42, "MERCHANT0000001");
  m.Set(43, "Best Transport Store     Beijing      CN");
  m.Set(48, "TR01140000000001DI008DEVICE01");
  m.Set(49, "156");
  m.Set(55, SampleIccData());
  return m;
}

}  // namespace tapstack::iso8583::testing
