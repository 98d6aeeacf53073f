// Message framing on a byte stream, separate from the codec (jPOS channel conventions).
//
//   k2ByteLength   2-byte big-endian length of the message, excluding itself (jPOS PostChannel,
//                  moov Binary2Bytes, npm iso_8583 default). tapstack's default on TCP links.
//   k4DigitAscii   4 ASCII decimal digits of length (jPOS ASCIIChannel).
//   kNone          no header: the buffer is exactly one message.
// A zero-length frame is a keep-alive: NextFrame returns it as an empty message.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::iso8583 {

enum class FrameKind { kNone, k2ByteLength, k4DigitAscii };

// "none", "2byte", "4ascii". Errors: unknown name.
Result<FrameKind> FrameKindByName(std::string_view name);
std::size_t FrameHeaderBytes(FrameKind kind);

// Appends the frame header for `message_bytes` then nothing else (the caller appends the message),
// so a message can be packed straight after its header. Errors: longer than kMessageBytesMax.
Status AppendFrameHeader(FrameKind kind, std::size_t message_bytes, std::string& out);

// Rewrites the header at `out[header_at]` once the message length is known (pack in place).
void PatchFrameHeader(FrameKind kind, std::size_t header_at, std::string& out);

struct Frame {
  ByteView message;          // the message bytes (empty for a keep-alive)
  std::size_t frame_bytes;   // header + message: how much of the buffer to consume
};

// Finds the first complete frame at the start of `buffer` (stream reassembly). Returns nullopt
// when more bytes are needed. Errors: a length above kMessageBytesMax or a non-digit ASCII
// length, detected from the header alone, before any body is read or allocated. kNone frames
// the whole buffer.
Result<std::optional<Frame>> NextFrame(FrameKind kind, ByteView buffer);

// The one message framed in `buffer`. Errors: truncated, or bytes after the frame.
Result<ByteView> UnframeExact(FrameKind kind, ByteView buffer);

}  // namespace tapstack::iso8583
