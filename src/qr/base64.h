// Base64 (RFC 4648 §4, standard alphabet, with padding) for EMVCo consumer-presented QR payloads.
//
// Decoding is strict: OpenSSL's EVP_DecodeBlock alone accepts surrounding whitespace and ignores
// padding, so the text is checked first. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::qr {

// Longest input either direction accepts (bytes to encode / characters to decode); far above any
// QR symbol (a version 40 QR holds at most 2,953 bytes).
inline constexpr std::size_t kBase64TextCharsMax = 16384;

// Encodes with '=' padding. Errors: `data` longer than 3/4 of kBase64TextCharsMax (kOutOfRange).
Result<std::string> Base64Encode(ByteView data);

// Decodes canonical base64: length a multiple of 4, only A–Z a–z 0–9 + /, '=' only as the last
// one or two characters, unused bits of the last character zero, no whitespace. The empty string
// decodes to no bytes. Errors (kInvalidArgument) name the offending character's offset;
// kOutOfRange for text longer than `text_chars_max`.
Result<Bytes> Base64Decode(std::string_view text, std::size_t text_chars_max = kBase64TextCharsMax);

}  // namespace tapstack::qr
