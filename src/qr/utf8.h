// UTF-8 helpers for EMVCo merchant-presented payloads, whose lengths count characters (Unicode
// code points), not bytes (EMV QRCPS MPM v1.0 §4.4.1.1: a 4-character Chinese name has length 04
// although it is 12 bytes).
//
// Well-formed UTF-8 follows RFC 3629 / Unicode Table 3-7: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. Where a decoder must go on after bad input, each byte
// that does not start a well-formed sequence counts as one character, like a U+FFFD replacement.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tapstack::qr {

// Byte length of the well-formed sequence starting at text[pos], or 0 when the bytes there do not
// form one (pos must be < text.size()).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t pos);

// Byte offset of the first byte that does not start a well-formed sequence; nullopt when `text`
// is entirely well-formed UTF-8.
std::optional<std::size_t> FindInvalidUtf8(std::string_view text);

// Number of characters: well-formed sequences count one each, and so does each stray byte.
std::size_t Utf8CharCount(std::string_view text);

// Byte offset just past `chars` characters starting at byte `pos` (stray bytes count as one
// character each). Stops at the end of `text`; `advanced` receives the number of characters
// actually passed, which is below `chars` only when the text ran out.
std::size_t Utf8Advance(std::string_view text, std::size_t pos, std::size_t chars,
                        std::size_t& advanced);

// A copy in which every stray byte is replaced by U+FFFD, so it can be printed or put in JSON.
std::string SanitizeUtf8(std::string_view text);

// Input quoted for an error message: 'text', sanitised, cut after `bytes_max` bytes with "...".
std::string QuoteForMessage(std::string_view text, std::size_t bytes_max = 40);

}  // namespace tapstack::qr
