#include "emv/apdu.h"

#include <string>

#include "core/hex.h"

namespace tapstack::emv {

namespace {

std::string ByteHex(std::uint8_t b) { return HexEncode(ByteView(&b, 1)); }

}  // namespace

ApduCase CommandApdu::Case() const {
  if (data.empty()) return le ? ApduCase::kCase2 : ApduCase::kCase1;
  return le ? ApduCase::kCase4 : ApduCase::kCase3;
}

Result<CommandApdu> ParseCommandApdu(ByteView apdu) {
  if (apdu.size() < kApduHeaderBytes) {
    return InvalidArgument("c-apdu: " + std::to_string(apdu.size()) +
                           " bytes; the header alone is 4 (CLA INS P1 P2)");
  }
  CommandApdu command;
  command.cla = apdu[0];
  command.ins = apdu[1];
  command.p1 = apdu[2];
  command.p2 = apdu[3];
  const ByteView body = apdu.subspan(kApduHeaderBytes);
  if (body.empty()) return command;  // case 1
  if (body.size() == 1) {            // case 2: Le only
    command.le = body[0] == 0 ? kShortLeMax : body[0];
    return command;
  }
  const std::size_t lc = body[0];
  if (lc == 0) {
    return InvalidArgument("c-apdu offset 4: a body starting with 00 followed by " +
                           std::to_string(body.size() - 1) +
                           " more bytes is extended length, which is not supported");
  }
  const std::size_t after_lc = body.size() - 1;
  if (after_lc == lc) {  // case 3
    command.data.assign(body.begin() + 1, body.end());
    return command;
  }
  if (after_lc == lc + 1) {  // case 4
    command.data.assign(body.begin() + 1, body.end() - 1);
    command.le = body.back() == 0 ? kShortLeMax : body.back();
    return command;
  }
  return InvalidArgument("c-apdu offset 4: Lc " + ByteHex(body[0]) + " announces " +
                         std::to_string(lc) + " data bytes but " + std::to_string(after_lc) +
                         " bytes follow (expected " + std::to_string(lc) + ", or " +
                         std::to_string(lc + 1) + " with Le)");
}

Result<Bytes> EncodeCommandApdu(const CommandApdu& command) {
  if (command.data.size() > kShortLcMax) {
    return InvalidArgument("c-apdu: " + std::to_string(command.data.size()) +
                           " data bytes exceed the short-APDU limit of " +
                           std::to_string(kShortLcMax));
  }
  if (command.le && (*command.le == 0 || *command.le > kShortLeMax)) {
    return InvalidArgument("c-apdu: Le " + std::to_string(*command.le) + " outside 1-" +
                           std::to_string(kShortLeMax));
  }
  Bytes out;
  out.reserve(kApduHeaderBytes + 2 + command.data.size());
  out.push_back(command.cla);
  out.push_back(command.ins);
  out.push_back(command.p1);
  out.push_back(command.p2);
  if (!command.data.empty()) {
    out.push_back(static_cast<std::uint8_t>(command.data.size()));
    out.insert(out.end(), command.data.begin(), command.data.end());
  }
  if (command.le) out.push_back(static_cast<std::uint8_t>(*command.le & 0xFF));  // 256 -> 00
  return out;
}

Result<ResponseApdu> ParseResponseApdu(ByteView apdu) {
  if (apdu.size() < 2) {
    return InvalidArgument("r-apdu: " + std::to_string(apdu.size()) +
                           " bytes; a response ends with the 2-byte status word");
  }
  if (apdu.size() - 2 > kResponseDataBytesMax) {
    return InvalidArgument("r-apdu: " + std::to_string(apdu.size() - 2) +
                           " data bytes exceed the short-APDU limit of " +
                           std::to_string(kResponseDataBytesMax));
  }
  ResponseApdu response;
  response.data.assign(apdu.begin(), apdu.end() - 2);
  response.sw = StatusWord(apdu[apdu.size() - 2], apdu[apdu.size() - 1]);
  return response;
}

Result<Bytes> EncodeResponseApdu(const ResponseApdu& response) {
  if (response.data.size() > kResponseDataBytesMax) {
    return InvalidArgument("r-apdu: " + std::to_string(response.data.size()) +
                           " data bytes exceed the short-APDU limit of " +
                           std::to_string(kResponseDataBytesMax));
  }
  Bytes out;
  out.reserve(response.data.size() + 2);
  out.insert(out.end(), response.data.begin(), response.data.end());
  out.push_back(response.sw.sw1());
  out.push_back(response.sw.sw2());
  return out;
}

std::string_view InstructionName(std::uint8_t ins) {
  switch (ins) {
    case 0x16:
      return "CARD BLOCK";
    case 0x18:
      return "APPLICATION UNBLOCK";
    case 0x1E:
      return "APPLICATION BLOCK";
    case 0x20:
      return "VERIFY";
    case 0x24:
      return "PIN CHANGE/UNBLOCK";
    case 0x2A:
      return "COMPUTE CRYPTOGRAPHIC CHECKSUM";
    case 0x82:
      return "EXTERNAL AUTHENTICATE";
    case 0x84:
      return "GET CHALLENGE";
    case 0x88:
      return "INTERNAL AUTHENTICATE";
    case 0xA4:
      return "SELECT";
    case 0xA8:
      return "GET PROCESSING OPTIONS";
    case 0xAE:
      return "GENERATE AC";
    case 0xB2:
      return "READ RECORD";
    case 0xC0:
      return "GET RESPONSE";
    case 0xCA:
      return "GET DATA";
    case 0xDA:
      return "PUT DATA";
    case 0xDC:
      return "UPDATE RECORD";
    default:
      return {};
  }
}

}  // namespace tapstack::emv
