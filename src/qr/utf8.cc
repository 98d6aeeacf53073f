#include "qr/utf8.h"

#include <cstdint>

namespace tapstack::qr {
namespace {

bool IsContinuation(std::uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

std::size_t Utf8SequenceLength(std::string_view text, std::size_t pos) {
  const auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(text[pos + i]); };
  const std::size_t left = text.size() - pos;
  const std::uint8_t b0 = at(0);
  if (b0 < 0x80) return 1;
  // Unicode 15 Table 3-7: the second byte's range depends on the first byte.
  std::size_t length = 0;
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 == 0xE0) {
    length = 3;
    lo = 0xA0;  // no overlong 3-byte forms
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    length = 3;
  } else if (b0 == 0xED) {
    length = 3;
    hi = 0x9F;  // no surrogates
  } else if (b0 == 0xF0) {
    length = 4;
    lo = 0x90;  // no overlong 4-byte forms
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    length = 4;
  } else if (b0 == 0xF4) {
    length = 4;
    hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // 0x80..0xC1 and 0xF5..0xFF never start a sequence
  }
  if (left < length) return 0;
  if (at(1) < lo || at(1) > hi) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!IsContinuation(at(i))) return 0;
  }
  return length;
}

std::optional<std::size_t> FindInvalidUtf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t n = Utf8SequenceLength(text, pos);
    if (n == 0) return pos;
    pos += n;
  }
  return std::nullopt;
}

std::size_t Utf8CharCount(std::string_view text) {
  std::size_t chars = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t n = Utf8SequenceLength(text, pos);
    pos += n == 0 ? 1 : n;
    ++chars;
  }
  return chars;
}

std::size_t Utf8Advance(std::string_view text, std::size_t pos, std::size_t chars,
                        std::size_t& advanced) {
  advanced = 0;
  while (advanced < chars && pos < text.size()) {
    const std::size_t n = Utf8SequenceLength(text, pos);
    pos += n == 0 ? 1 : n;
    ++advanced;
  }
  return pos;
}

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t n = Utf8SequenceLength(text, pos);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++pos;
    } else {
      out.append(text.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

std::string QuoteForMessage(std::string_view text, std::size_t bytes_max) {
  std::string shown = SanitizeUtf8(text.substr(0, bytes_max));
  if (text.size() > bytes_max) shown += "...";
  return "'" + shown + "'";
}

}  // namespace tapstack::qr
