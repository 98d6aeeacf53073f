#include "emv/apdu_chaining.h"

#include <algorithm>
#include <string>

namespace tapstack::emv {

namespace {

// 61xx: xx is the number of bytes still available, 00 when 256 or more (ISO/IEC 7816-4 table 5).
StatusWord MoreBytes(std::size_t remaining) {
  return StatusWord(0x61, static_cast<std::uint8_t>(remaining >= 256 ? 0 : remaining));
}

ResponseApdu Sw(StatusWord sw) { return ResponseApdu{{}, sw}; }

}  // namespace

Result<std::vector<CommandApdu>> SplitForChaining(const CommandApdu& command) {
  if ((command.cla & kClaChainingBit) != 0 || command.cla == 0xFF) {
    return InvalidArgument("command chaining: CLA " + std::to_string(command.cla) +
                           " already has bit b5 set or is invalid");
  }
  if (command.data.size() > kChainedCommandBytesMax) {
    return OutOfRange("command chaining: " + std::to_string(command.data.size()) +
                      " data bytes, at most " + std::to_string(kChainedCommandBytesMax));
  }
  std::vector<CommandApdu> links;
  if (command.data.size() <= kShortLcMax) {
    links.push_back(command);
    return links;
  }
  for (std::size_t at = 0; at < command.data.size(); at += kShortLcMax) {
    const std::size_t take = std::min(kShortLcMax, command.data.size() - at);
    const bool last = at + take == command.data.size();
    CommandApdu link;
    link.cla = last ? command.cla : static_cast<std::uint8_t>(command.cla | kClaChainingBit);
    link.ins = command.ins;
    link.p1 = command.p1;
    link.p2 = command.p2;
    link.data.assign(command.data.begin() + static_cast<std::ptrdiff_t>(at),
                     command.data.begin() + static_cast<std::ptrdiff_t>(at + take));
    if (last) link.le = command.le;
    links.push_back(std::move(link));
  }
  return links;
}

Result<ResponseApdu> TransmitChained(const std::function<Bytes(ByteView)>& transmit,
                                     const CommandApdu& command) {
  TS_ASSIGN_OR_RETURN(const std::vector<CommandApdu> links, SplitForChaining(command));
  ResponseApdu response;
  for (std::size_t i = 0; i < links.size(); ++i) {
    TS_ASSIGN_OR_RETURN(const Bytes encoded, EncodeCommandApdu(links[i]));
    TS_ASSIGN_OR_RETURN(response, ParseResponseApdu(transmit(encoded)));
    if (i + 1 < links.size() && response.sw != kSwSuccess) return response;
  }
  Bytes data = std::move(response.data);
  while (response.sw.sw1() == 0x61) {
    CommandApdu get_response{0x00, kInsGetResponse, 0x00, 0x00, {}, std::uint16_t{256}};
    if (response.sw.sw2() != 0) get_response.le = response.sw.sw2();
    TS_ASSIGN_OR_RETURN(const Bytes encoded, EncodeCommandApdu(get_response));
    TS_ASSIGN_OR_RETURN(response, ParseResponseApdu(transmit(encoded)));
    if (data.size() + response.data.size() > kChainedResponseBytesMax) {
      return OutOfRange("response continuation: more than " +
                        std::to_string(kChainedResponseBytesMax) + " bytes");
    }
    data.insert(data.end(), response.data.begin(), response.data.end());
  }
  return ResponseApdu{std::move(data), response.sw};
}

ChainAssembler::ChainAssembler(std::size_t data_bytes_max)
    : data_bytes_max_(std::min(data_bytes_max, kChainedCommandBytesMax)) {}

ChainAssembler::Outcome ChainAssembler::Accept(const CommandApdu& command) {
  const bool more = (command.cla & kClaChainingBit) != 0;
  const std::uint8_t cla = static_cast<std::uint8_t>(command.cla & ~kClaChainingBit);
  if (open_.has_value()) {
    if (cla != open_->cla || command.ins != open_->ins || command.p1 != open_->p1 ||
        command.p2 != open_->p2) {
      Reset();
      return {std::nullopt, kSwLastCommandOfChainExpected};
    }
  }
  const std::size_t so_far = open_.has_value() ? open_->data.size() : 0;
  if (so_far + command.data.size() > data_bytes_max_) {
    Reset();
    return {std::nullopt, kSwWrongLength};
  }
  if (!open_.has_value()) {
    if (!more) return {command, kSwSuccess};
    open_ = command;
    open_->cla = cla;
    open_->le.reset();
    return {std::nullopt, kSwSuccess};
  }
  open_->data.insert(open_->data.end(), command.data.begin(), command.data.end());
  if (more) return {std::nullopt, kSwSuccess};
  CommandApdu whole = std::move(*open_);
  whole.le = command.le;
  open_.reset();
  return {std::move(whole), kSwSuccess};
}

void ChainAssembler::Reset() { open_.reset(); }

ResponseApdu ResponseSpooler::Start(Bytes data, StatusWord sw) {
  Reset();
  if (data.size() > kChainedResponseBytesMax) return Sw(kSwNoPreciseDiagnosis);
  if (data.size() <= kResponseDataBytesMax) return ResponseApdu{std::move(data), sw};
  data_ = std::move(data);
  final_sw_ = sw;
  return Piece(kResponseDataBytesMax);
}

ResponseApdu ResponseSpooler::Next(const CommandApdu& get_response) {
  if (get_response.p1 != 0x00 || get_response.p2 != 0x00) return Sw(kSwIncorrectP1P2);
  if (!pending()) return Sw(kSwConditionsNotSatisfied);
  return Piece(get_response.le.value_or(kShortLeMax));
}

bool ResponseSpooler::IsGetResponse(const CommandApdu& command) {
  return command.cla == 0x00 && command.ins == kInsGetResponse;
}

void ResponseSpooler::Reset() {
  data_.clear();
  offset_ = 0;
  final_sw_ = kSwSuccess;
}

ResponseApdu ResponseSpooler::Piece(std::size_t want) {
  const std::size_t take = std::min({want, kResponseDataBytesMax, data_.size() - offset_});
  ResponseApdu piece;
  piece.data.assign(data_.begin() + static_cast<std::ptrdiff_t>(offset_),
                    data_.begin() + static_cast<std::ptrdiff_t>(offset_ + take));
  offset_ += take;
  if (pending()) {
    piece.sw = MoreBytes(data_.size() - offset_);
  } else {
    piece.sw = final_sw_;
    Reset();
  }
  return piece;
}

}  // namespace tapstack::emv
