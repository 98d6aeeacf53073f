#include "iso8583/framing.h"

#include "iso8583/codec.h"

namespace tapstack::iso8583 {

Result<FrameKind> FrameKindByName(std::string_view name) {
  if (name == "none") return FrameKind::kNone;
  if (name == "2byte") return FrameKind::k2ByteLength;
  if (name == "4ascii") return FrameKind::k4DigitAscii;
  return InvalidArgument("unknown frame '" + std::string(name) + "'; expected none, 2byte or 4ascii");
}

std::size_t FrameHeaderBytes(FrameKind kind) {
  switch (kind) {
    case FrameKind::kNone: return 0;
    case FrameKind::k2ByteLength: return 2;
    case FrameKind::k4DigitAscii: return 4;
  }
  return 0;
}

namespace {

void WriteLength(FrameKind kind, std::size_t length, char* dst) {
  if (kind == FrameKind::k2ByteLength) {
    dst[0] = static_cast<char>((length >> 8) & 0xFF);
    dst[1] = static_cast<char>(length & 0xFF);
  } else if (kind == FrameKind::k4DigitAscii) {
    for (int i = 3; i >= 0; --i) {
      dst[i] = static_cast<char>('0' + length % 10);
      length /= 10;
    }
  }
}

}  // namespace

Status AppendFrameHeader(FrameKind kind, std::size_t message_bytes, std::string& out) {
  if (message_bytes > kMessageBytesMax) {
    return InvalidArgument("frame: message of " + std::to_string(message_bytes) +
                           " bytes exceeds the limit of " + std::to_string(kMessageBytesMax));
  }
  const std::size_t at = out.size();
  out.append(FrameHeaderBytes(kind), '\0');
  WriteLength(kind, message_bytes, out.data() + at);
  return Status::Ok();
}

void PatchFrameHeader(FrameKind kind, std::size_t header_at, std::string& out) {
  WriteLength(kind, out.size() - header_at - FrameHeaderBytes(kind), out.data() + header_at);
}

Result<std::optional<Frame>> NextFrame(FrameKind kind, ByteView buffer) {
  if (kind == FrameKind::kNone) {
    if (buffer.size() > kMessageBytesMax) {
      return InvalidArgument("frame: message of " + std::to_string(buffer.size()) +
                             " bytes exceeds the limit of " + std::to_string(kMessageBytesMax));
    }
    return std::optional<Frame>(Frame{buffer, buffer.size()});
  }
  const std::size_t header = FrameHeaderBytes(kind);
  if (buffer.size() < header) return std::optional<Frame>();
  std::size_t length = 0;
  if (kind == FrameKind::k2ByteLength) {
    length = (static_cast<std::size_t>(buffer[0]) << 8) | buffer[1];
  } else {
    for (std::size_t i = 0; i < 4; ++i) {
      if (buffer[i] < '0' || buffer[i] > '9') {
        return InvalidArgument("frame: ASCII length header byte " + std::to_string(i) +
                               " is not a digit");
      }
      length = length * 10 + (buffer[i] - '0');
    }
  }
  if (length > kMessageBytesMax) {
    return InvalidArgument("frame: declared length " + std::to_string(length) +
                           " exceeds the limit of " + std::to_string(kMessageBytesMax));
  }
  if (buffer.size() < header + length) return std::optional<Frame>();
  return std::optional<Frame>(Frame{buffer.subspan(header, length), header + length});
}

Result<ByteView> UnframeExact(FrameKind kind, ByteView buffer) {
  TS_ASSIGN_OR_RETURN(std::optional<Frame> frame, NextFrame(kind, buffer));
  if (!frame) {
    return InvalidArgument("frame: truncated; " + std::to_string(buffer.size()) +
                           " bytes do not hold the header and the declared length");
  }
  if (frame->frame_bytes != buffer.size()) {
    return InvalidArgument("frame: " + std::to_string(buffer.size() - frame->frame_bytes) +
                           " bytes after the framed message");
  }
  return frame->message;
}

}  // namespace tapstack::iso8583
