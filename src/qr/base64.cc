#include "qr/base64.h"

#include <openssl/evp.h>

namespace tapstack::qr {
namespace {

// Value of a base64 alphabet character, or -1.
int AlphabetValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<std::string> Base64Encode(ByteView data) {
  if (data.size() > kBase64TextCharsMax / 4 * 3) {
    return OutOfRange("base64: " + std::to_string(data.size()) + " bytes to encode; at most " +
                      std::to_string(kBase64TextCharsMax / 4 * 3));
  }
  const std::size_t chars = (data.size() + 2) / 3 * 4;
  std::string out(chars + 1, '\0');  // EVP_EncodeBlock writes a terminating NUL
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                      static_cast<int>(data.size()));
  if (written < 0 || static_cast<std::size_t>(written) != chars) {
    return Internal("base64: EVP_EncodeBlock wrote an unexpected length");
  }
  out.resize(chars);
  return out;
}

Result<Bytes> Base64Decode(std::string_view text, std::size_t text_chars_max) {
  if (text.size() > text_chars_max) {
    return OutOfRange("base64: " + std::to_string(text.size()) + " characters; at most " +
                      std::to_string(text_chars_max));
  }
  if (text.size() % 4 != 0) {
    return InvalidArgument("base64: length " + std::to_string(text.size()) +
                           " is not a multiple of 4 (padding with '=' is required)");
  }
  if (text.empty()) return Bytes{};
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  const std::size_t data_chars = text.size() - padding;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i >= data_chars) continue;  // the padding found above
    if (c == '=') {
      return InvalidArgument("base64: '=' at offset " + std::to_string(i) +
                             "; padding is only allowed as the last one or two characters");
    }
    if (AlphabetValue(c) < 0) {
      return InvalidArgument("base64: character at offset " + std::to_string(i) +
                             " is not in the base64 alphabet (A-Z a-z 0-9 + /)");
    }
  }
  // Canonical form: the bits of the last data character that padding leaves unused are zero
  // (RFC 4648 §3.5), so each byte string has exactly one encoding and round trips are exact.
  const int last = AlphabetValue(text[data_chars - 1]);
  if ((padding == 2 && (last & 0x0F) != 0) || (padding == 1 && (last & 0x03) != 0)) {
    return InvalidArgument("base64: non-zero unused bits in the character at offset " +
                           std::to_string(data_chars - 1) + " (not canonical)");
  }
  Bytes out(text.size() / 4 * 3);
  const int decoded =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (decoded < 0 || static_cast<std::size_t>(decoded) != out.size()) {
    return InvalidArgument("base64: OpenSSL EVP_DecodeBlock rejected the text");
  }
  out.resize(out.size() - padding);
  return out;
}

}  // namespace tapstack::qr
