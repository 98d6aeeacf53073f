// Long commands and long responses over short APDUs (ISO/IEC 7816-4:2020):
//
//  * Command chaining (section 5.1.1.1): a command whose data exceeds 255 bytes travels as a chain
//    of short commands with the same INS P1 P2; every one but the last has CLA bit b5 (0x10) set
//    and carries no Le. The card answers 9000 to each link and the real answer to the last.
//    While a chain is open, a command that does not continue it is refused with 6883 "last command
//    of the chain expected" (table 6), and the chain is dropped.
//  * Response continuation (section 5.3.4 / 5.1.3): an answer longer than 256 bytes is served
//    in pieces; SW 61xx says more bytes wait (xx = how many, 00 meaning 256 or more) and
//    GET RESPONSE (00 C0 00 00 Le) fetches the next piece.
//
// Host side: SplitForChaining and TransmitChained. Card side: ChainAssembler and ResponseSpooler,
// one of each per applet session. Not thread-safe; pure except for their own state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "emv/apdu.h"
#include "emv/status_word.h"

namespace tapstack::emv {

inline constexpr std::uint8_t kClaChainingBit = 0x10;  // CLA b5: "not the last command of a chain"
inline constexpr std::uint8_t kInsGetResponse = 0xC0;
inline constexpr StatusWord kSwLastCommandOfChainExpected{0x6883};
inline constexpr StatusWord kSwChainingNotSupported{0x6884};
// Largest command data a host splits or a card-side assembler may be configured to accept.
inline constexpr std::size_t kChainedCommandBytesMax = 64 * 1024;
// Largest response TransmitChained gathers and a spooler serves.
inline constexpr std::size_t kChainedResponseBytesMax = 64 * 1024;

// Splits `command` (data of any length up to kChainedCommandBytesMax) into short APDUs of at most
// kShortLcMax data bytes. A command that fits is returned alone and unchanged. Errors
// (kInvalidArgument): CLA already has the chaining bit, or CLA FF (invalid, ISO/IEC 7816-4
// 5.4.1); kOutOfRange above kChainedCommandBytesMax.
Result<std::vector<CommandApdu>> SplitForChaining(const CommandApdu& command);

// Sends `command` through `transmit` (C-APDU bytes in, R-APDU bytes out), chaining it when long,
// and gathers a long answer with GET RESPONSE. Returns the final response: its data may exceed
// 256 bytes. A link of the chain answered with anything but 9000 ends the exchange with that
// answer. Errors: kInvalidArgument (SplitForChaining, or an R-APDU that does not parse);
// kOutOfRange (a response above kChainedResponseBytesMax).
Result<ResponseApdu> TransmitChained(const std::function<Bytes(ByteView)>& transmit,
                                     const CommandApdu& command);

// Card side: accumulates a chain of commands into one.
class ChainAssembler {
 public:
  // `data_bytes_max`: the longest assembled data accepted (clamped to kChainedCommandBytesMax).
  explicit ChainAssembler(std::size_t data_bytes_max);

  struct Outcome {
    // Set when `command` completed a command (a lone command, or the last link of a chain): the
    // whole command, chaining bit cleared, data concatenated, Le of the last link.
    std::optional<CommandApdu> complete;
    // When `complete` is empty: 9000 (link stored, send the next), 6883 (a chain was open and
    // this command does not continue it; the chain is dropped) or 6700 (the data would exceed
    // the limit; the chain is dropped).
    StatusWord sw = kSwSuccess;
  };

  Outcome Accept(const CommandApdu& command);
  // Drops any open chain (SELECT, deselect, channel change).
  void Reset();
  bool in_chain() const { return open_.has_value(); }

 private:
  std::size_t data_bytes_max_;
  std::optional<CommandApdu> open_;
};

// Card side: serves a long answer in 256-byte pieces.
class ResponseSpooler {
 public:
  // The first piece of `data` with final status `sw`: all of it with `sw` when it fits in 256
  // bytes, else 256 bytes with 61xx. Data beyond kChainedResponseBytesMax is dropped and the
  // answer is 6F00 (a bug in the caller).
  ResponseApdu Start(Bytes data, StatusWord sw);
  // Answers GET RESPONSE: the next min(Le, remaining) bytes (Le absent or 00 = 256), with 61xx
  // while more remain and the final status with the last piece. 6985 when nothing is pending;
  // 6A86 for P1 P2 other than 00 00.
  ResponseApdu Next(const CommandApdu& get_response);
  // True when `command` is a GET RESPONSE (CLA 00, INS C0).
  static bool IsGetResponse(const CommandApdu& command);
  void Reset();
  bool pending() const { return offset_ < data_.size(); }

 private:
  ResponseApdu Piece(std::size_t want);

  Bytes data_;
  std::size_t offset_ = 0;
  StatusWord final_sw_ = kSwSuccess;
};

}  // namespace tapstack::emv
