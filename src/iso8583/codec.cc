#include "iso8583/codec.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/hex.h"

namespace tapstack::iso8583 {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

// Appends the uppercase hex of `bytes` (binary fields of the hex profile, hex bitmaps).
void AppendHex(std::string_view bytes, std::string& out) {
  const std::size_t at = out.size();
  out.resize(at + 2 * bytes.size());
  char* dst = out.data() + at;
  for (unsigned char b : bytes) {
    *dst++ = kHexDigits[b >> 4];
    *dst++ = kHexDigits[b & 0xF];
  }
}

std::string FieldLabel(int field) { return "DE" + std::to_string(field); }

Status FieldError(int field, std::size_t offset, const std::string& what) {
  return InvalidArgument(FieldLabel(field) + " at offset " + std::to_string(offset) + ": " + what);
}

std::string SpecText(const FieldSpec& spec) {
  std::string s(FieldTypeName(spec.type));
  if (spec.length_kind == LengthKind::kFixed) return s + std::to_string(spec.max_length);
  return s + ".." + std::to_string(spec.max_length) +
         (spec.length_kind == LengthKind::kLl ? " (LLVAR)" : " (LLLVAR)");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Character classes for field validation, one table look-up per character (the hot path of
// both pack and unpack).
enum CharClass : std::uint8_t {
  kDigit = 1, kLetter = 2, kSpace = 4, kPrintable = 8, kEquals = 16, kSign = 32,
};

constexpr std::array<std::uint8_t, 256> MakeCharClasses() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0x20; c <= 0x7E; ++c) t[static_cast<std::size_t>(c)] |= kPrintable;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] |= kDigit;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] |= kLetter;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] |= kLetter;
  t[' '] |= kSpace;
  t['='] |= kEquals;
  t['C'] |= kSign;
  t['D'] |= kSign;
  return t;
}
constexpr std::array<std::uint8_t, 256> kCharClasses = MakeCharClasses();

std::uint8_t AllowedClasses(FieldType type) {
  switch (type) {
    case FieldType::kNumeric: return kDigit;
    case FieldType::kAlpha: return kLetter | kSpace;
    case FieldType::kAlphaNumeric: return kLetter | kDigit | kSpace;
    case FieldType::kAlphaNumericSpecial: return kPrintable;
    case FieldType::kTrack: return kDigit | kEquals;
    case FieldType::kSignedAmount: return kDigit;  // after the sign, checked separately
    case FieldType::kBinary: return 0xFF;
  }
  return 0;
}

// Index of the first character of `v` not allowed by `type`, or npos.
std::size_t FirstBadChar(FieldType type, std::string_view v) {
  if (type == FieldType::kBinary) return std::string_view::npos;
  std::size_t i = 0;
  if (type == FieldType::kSignedAmount) {
    if (v.empty()) return std::string_view::npos;
    if ((kCharClasses[static_cast<unsigned char>(v[0])] & kSign) == 0) return 0;
    i = 1;
  }
  const std::uint8_t allowed = AllowedClasses(type);
  for (; i < v.size(); ++i) {
    if ((kCharClasses[static_cast<unsigned char>(v[i])] & allowed) == 0) return i;
  }
  return std::string_view::npos;
}

std::string Printable(char c) {
  if (c >= 0x20 && c <= 0x7E) return std::string("'") + c + "'";
  return "byte 0x" + std::string{kHexDigits[(c >> 4) & 0xF], kHexDigits[c & 0xF]};
}

// Number of digits in the logical value (x+n excludes the sign).
std::size_t DigitCount(const FieldSpec& spec, std::string_view v) {
  return spec.type == FieldType::kSignedAmount && !v.empty() ? v.size() - 1 : v.size();
}

bool PackedAsBcd(const Profile& p, FieldType type) {
  return p.bcd_numerics &&
         (type == FieldType::kNumeric || type == FieldType::kTrack || type == FieldType::kSignedAmount);
}

void AppendAsciiNumber(std::size_t value, int width, std::string& out) {
  char buf[3];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

// Packs digit characters as BCD; `left_pad` puts the pad nibble first (fixed numerics), else last.
// '=' packs as nibble D (track data); `pad` is the pad nibble value.
void AppendBcd(std::string_view digits, bool left_pad, int pad, std::string& out) {
  auto nibble = [](char c) { return c == '=' ? 0xD : c - '0'; };
  const std::size_t at = out.size();
  out.resize(at + (digits.size() + 1) / 2);
  char* dst = out.data() + at;
  std::size_t i = 0;
  if (digits.size() % 2 != 0 && left_pad) {
    *dst++ = static_cast<char>((pad << 4) | nibble(digits[0]));
    i = 1;
  }
  for (; i + 1 < digits.size(); i += 2) {
    *dst++ = static_cast<char>((nibble(digits[i]) << 4) | nibble(digits[i + 1]));
  }
  if (i < digits.size()) *dst = static_cast<char>((nibble(digits[i]) << 4) | pad);
}

// LL/LLL prefix: ASCII digits, or BCD (1 byte for LL, 2 bytes for LLL) in BCD profiles.
void AppendLengthPrefix(const Profile& p, LengthKind kind, std::size_t length, std::string& out) {
  const int digits = kind == LengthKind::kLl ? 2 : 3;
  if (!p.bcd_numerics) {
    AppendAsciiNumber(length, digits, out);
    return;
  }
  std::string text;
  AppendAsciiNumber(length, digits, text);
  AppendBcd(text, true, 0, out);
}

Status PackField(const Profile& p, int f, std::string_view value, std::string& out) {
  const FieldSpec& spec = p.field(f);
  if (!spec.defined()) {
    return InvalidArgument(FieldLabel(f) + ": not defined in the ISO 8583:1987 dictionary");
  }
  if (std::size_t bad = FirstBadChar(spec.type, value); bad != std::string_view::npos) {
    return InvalidArgument(FieldLabel(f) + ": " + Printable(value[bad]) + " at position " +
                           std::to_string(bad) + " is not allowed; expected " + SpecText(spec));
  }
  if (spec.type == FieldType::kSignedAmount && value.empty()) {
    return InvalidArgument(FieldLabel(f) + ": empty; expected 'C' or 'D' then digits (" +
                           SpecText(spec) + ")");
  }
  const std::size_t count = DigitCount(spec, value);
  if (count > spec.max_length) {
    return InvalidArgument(FieldLabel(f) + ": length " + std::to_string(count) + " exceeds " +
                           SpecText(spec));
  }

  if (spec.length_kind == LengthKind::kFixed) {
    std::size_t pad = spec.max_length - count;
    if (pad != 0 && spec.type == FieldType::kBinary) {
      return InvalidArgument(FieldLabel(f) + ": " + std::to_string(value.size()) +
                             " bytes; expected exactly " + std::to_string(spec.max_length));
    }
    if (PackedAsBcd(p, spec.type)) {
      std::string_view body = value;
      if (spec.type == FieldType::kSignedAmount) {
        out.push_back(value[0]);  // the sign stays an ASCII character (jPOS IFB_AMOUNT)
        body = value.substr(1);
      }
      std::array<char, 2 * 999> digits;  // fixed numerics are at most 42 digits
      std::fill_n(digits.begin(), pad, '0');
      std::copy(body.begin(), body.end(), digits.begin() + static_cast<std::ptrdiff_t>(pad));
      AppendBcd(std::string_view(digits.data(), pad + body.size()), true, 0, out);
      return Status::Ok();
    }
    switch (spec.type) {
      case FieldType::kNumeric:
        out.append(pad, '0');
        out.append(value);
        break;
      case FieldType::kSignedAmount:
        out.push_back(value[0]);
        out.append(pad, '0');
        out.append(value.substr(1));
        break;
      case FieldType::kBinary:
        if (p.hex_binary_fields) {
          AppendHex(value, out);
        } else {
          out.append(value);
        }
        break;
      default:
        out.append(value);
        out.append(pad, ' ');
        break;
    }
    return Status::Ok();
  }

  // Variable length: the prefix counts digits (BCD numerics), hex characters (hex binary fields)
  // or bytes/characters.
  const bool hex = spec.type == FieldType::kBinary && p.hex_binary_fields;
  const std::size_t wire_count = hex ? value.size() * 2 : count;
  const std::size_t prefix_max = spec.length_kind == LengthKind::kLl ? 99 : 999;
  if (wire_count > prefix_max) {
    return InvalidArgument(FieldLabel(f) + ": " + std::to_string(wire_count) +
                           " characters do not fit a " +
                           (spec.length_kind == LengthKind::kLl ? "LL" : "LLL") + " prefix");
  }
  AppendLengthPrefix(p, spec.length_kind, wire_count, out);
  if (PackedAsBcd(p, spec.type)) {
    if (spec.type == FieldType::kSignedAmount) {
      out.push_back(value[0]);
      AppendBcd(value.substr(1), false, 0, out);
    } else {
      AppendBcd(value, false, spec.type == FieldType::kTrack ? 0xF : 0, out);
    }
  } else if (hex) {
    AppendHex(value, out);
  } else {
    out.append(value);
  }
  return Status::Ok();
}

// ---- unpacking ----

class Reader {
 public:
  explicit Reader(ByteView wire) : wire_(wire) {}
  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return wire_.size() - pos_; }
  // A view of the next `n` bytes, or an error naming `what` when fewer remain.
  Result<std::string_view> Take(std::size_t n, int field, const char* what) {
    if (n > remaining()) {
      return FieldError(field, pos_,
                        std::string("truncated ") + what + ": needs " + std::to_string(n) +
                            " bytes, " + std::to_string(remaining()) + " remain");
    }
    std::string_view v(reinterpret_cast<const char*>(wire_.data()) + pos_, n);
    pos_ += n;
    return v;
  }

 private:
  ByteView wire_;
  std::size_t pos_ = 0;
};

// Unpacks `nibbles` BCD digits from `bytes` into `out`. The pad nibble (when the count is odd) is
// first when `left_pad`, else last, and must equal `pad`. Nibble D becomes '=' when `track`.
Status DecodeBcd(std::string_view bytes, std::size_t nibbles, bool left_pad, int pad, bool track,
                 int field, std::size_t offset, std::string& out) {
  const bool odd = nibbles % 2 != 0;
  const std::size_t total = bytes.size() * 2;
  for (std::size_t i = 0; i < total; ++i) {
    auto byte = static_cast<unsigned char>(bytes[i / 2]);
    int n = (i % 2 == 0) ? byte >> 4 : byte & 0xF;
    bool is_pad = odd && ((left_pad && i == 0) || (!left_pad && i == total - 1));
    if (is_pad) {
      if (n != pad) {
        return FieldError(field, offset + i / 2,
                          "BCD pad nibble is " + std::string(1, kHexDigits[n]) + "; expected " +
                              std::string(1, kHexDigits[pad]));
      }
      continue;
    }
    if (n <= 9) {
      out.push_back(static_cast<char>('0' + n));
    } else if (track && n == 0xD) {
      out.push_back('=');
    } else {
      return FieldError(field, offset + i / 2,
                        "BCD nibble " + std::string(1, kHexDigits[n]) + " is not a digit");
    }
  }
  return Status::Ok();
}

Result<std::size_t> ReadLengthPrefix(const Profile& p, const FieldSpec& spec, int field,
                                     Reader& r) {
  const std::size_t at = r.offset();
  const int digits = spec.length_kind == LengthKind::kLl ? 2 : 3;
  std::size_t value = 0;
  if (p.bcd_numerics) {
    TS_ASSIGN_OR_RETURN(std::string_view bytes, r.Take(digits == 2 ? 1 : 2, field, "length prefix"));
    std::string d;
    TS_RETURN_IF_ERROR(DecodeBcd(bytes, static_cast<std::size_t>(digits), true, 0, false, field, at, d));
    for (char c : d) value = value * 10 + static_cast<std::size_t>(c - '0');
  } else {
    TS_ASSIGN_OR_RETURN(std::string_view text,
                        r.Take(static_cast<std::size_t>(digits), field, "length prefix"));
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (!IsDigit(text[i])) {
        return FieldError(field, at + i,
                          "length prefix has " + Printable(text[i]) + "; expected digits");
      }
      value = value * 10 + static_cast<std::size_t>(text[i] - '0');
    }
  }
  return value;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status DecodeHexInto(std::string_view text, int field, std::size_t offset, std::string& out) {
  if (text.size() % 2 != 0) {
    return FieldError(field, offset, "odd number of hex characters (" + std::to_string(text.size()) + ")");
  }
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      std::size_t bad = hi < 0 ? i : i + 1;
      return FieldError(field, offset + bad, Printable(text[bad]) + " is not a hex digit");
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return Status::Ok();
}

Status UnpackField(const Profile& p, int f, Reader& r, std::string& scratch, Message& out) {
  const FieldSpec& spec = p.field(f);
  if (!spec.defined()) {
    return FieldError(f, r.offset(),
                      f == 65 ? "bit 65 (tertiary bitmap) is set; tapstack supports fields 2-128"
                              : "bit set for a field not defined in ISO 8583:1987");
  }
  const std::size_t field_start = r.offset();
  std::size_t count = spec.max_length;  // digits, characters or bytes of the logical value
  if (spec.length_kind != LengthKind::kFixed) {
    TS_ASSIGN_OR_RETURN(count, ReadLengthPrefix(p, spec, f, r));
    const bool hex = spec.type == FieldType::kBinary && p.hex_binary_fields;
    std::size_t limit = hex ? 2u * spec.max_length : spec.max_length;
    if (count > limit) {
      return FieldError(f, field_start,
                        "length " + std::to_string(count) + " exceeds " + SpecText(spec));
    }
  }
  const std::size_t value_start = r.offset();
  scratch.clear();

  if (PackedAsBcd(p, spec.type)) {
    const bool fixed = spec.length_kind == LengthKind::kFixed;
    if (spec.type == FieldType::kSignedAmount) {
      TS_ASSIGN_OR_RETURN(std::string_view sign, r.Take(1, f, "sign"));
      if (sign[0] != 'C' && sign[0] != 'D') {
        return FieldError(f, value_start, "sign is " + Printable(sign[0]) + "; expected 'C' or 'D'");
      }
      scratch.push_back(sign[0]);
    }
    TS_ASSIGN_OR_RETURN(std::string_view bytes, r.Take((count + 1) / 2, f, "value"));
    const bool track = spec.type == FieldType::kTrack;
    TS_RETURN_IF_ERROR(DecodeBcd(bytes, count, fixed, track ? 0xF : 0, track, f,
                                 r.offset() - bytes.size(), scratch));
    out.Set(f, scratch);
    return Status::Ok();
  }

  if (spec.type == FieldType::kBinary) {
    if (p.hex_binary_fields) {
      std::size_t chars = spec.length_kind == LengthKind::kFixed ? 2u * count : count;
      TS_ASSIGN_OR_RETURN(std::string_view text, r.Take(chars, f, "value"));
      TS_RETURN_IF_ERROR(DecodeHexInto(text, f, value_start, scratch));
      out.Set(f, scratch);
    } else {
      TS_ASSIGN_OR_RETURN(std::string_view bytes, r.Take(count, f, "value"));
      out.Set(f, bytes);
    }
    return Status::Ok();
  }

  const std::size_t chars = spec.type == FieldType::kSignedAmount ? count + 1 : count;
  TS_ASSIGN_OR_RETURN(std::string_view text, r.Take(chars, f, "value"));
  if (std::size_t bad = FirstBadChar(spec.type, text); bad != std::string_view::npos) {
    return FieldError(f, value_start + bad,
                      Printable(text[bad]) + " is not allowed; expected " + SpecText(spec));
  }
  out.Set(f, text);
  return Status::Ok();
}

}  // namespace

Status Pack(const Message& message, const Profile& profile, std::string& out) {
  const std::size_t start = out.size();
  std::string_view mti = message.mti();
  for (std::size_t i = 0; i < 4; ++i) {
    if (!IsDigit(mti[i])) return InvalidArgument("MTI '" + std::string(mti) + "': expected 4 digits");
  }
  if (profile.bcd_mti) {
    AppendBcd(mti, true, 0, out);
  } else {
    out.append(mti);
  }

  std::array<unsigned char, 16> bitmap{};
  const bool secondary = message.force_secondary_bitmap() || message.HasSecondaryFields();
  if (secondary) bitmap[0] |= 0x80;
  for (int f = message.NextField(1); f != 0; f = message.NextField(f)) {
    bitmap[static_cast<std::size_t>((f - 1) / 8)] |= static_cast<unsigned char>(0x80 >> ((f - 1) % 8));
  }
  const std::string_view bitmap_view(reinterpret_cast<const char*>(bitmap.data()), secondary ? 16 : 8);
  if (profile.hex_bitmap) {
    AppendHex(bitmap_view, out);
  } else {
    out.append(bitmap_view);
  }

  for (int f = message.NextField(1); f != 0; f = message.NextField(f)) {
    TS_RETURN_IF_ERROR(PackField(profile, f, *message.Get(f), out));
  }
  if (out.size() - start > kMessageBytesMax) {
    return InvalidArgument("packed message is " + std::to_string(out.size() - start) +
                           " bytes; the limit is " + std::to_string(kMessageBytesMax));
  }
  return Status::Ok();
}

Status Unpack(ByteView wire, const Profile& profile, Message& out) {
  out.Reset();
  if (wire.size() > kMessageBytesMax) {
    return InvalidArgument("message is " + std::to_string(wire.size()) + " bytes; the limit is " +
                           std::to_string(kMessageBytesMax));
  }
  out.Reserve(wire.size() * 2);
  Reader r(wire);
  thread_local std::string scratch;  // reused: no allocation per message once warm

  // MTI
  const std::size_t mti_bytes = profile.bcd_mti ? 2 : 4;
  if (r.remaining() < mti_bytes) {
    return InvalidArgument("MTI at offset 0: truncated; needs " + std::to_string(mti_bytes) +
                           " bytes, " + std::to_string(r.remaining()) + " remain");
  }
  if (profile.bcd_mti) {
    TS_ASSIGN_OR_RETURN(std::string_view bytes, r.Take(2, 0, "MTI"));
    std::string mti;
    if (!DecodeBcd(bytes, 4, true, 0, false, 0, 0, mti).ok()) {
      return InvalidArgument("MTI at offset 0: BCD nibble is not a digit");
    }
    out.set_mti(mti);
  } else {
    TS_ASSIGN_OR_RETURN(std::string_view mti, r.Take(4, 0, "MTI"));
    for (std::size_t i = 0; i < 4; ++i) {
      if (!IsDigit(mti[i])) {
        return InvalidArgument("MTI at offset " + std::to_string(i) + ": " + Printable(mti[i]) +
                               "; expected 4 digits");
      }
    }
    out.set_mti(mti);
  }

  // Bitmaps
  std::array<unsigned char, 16> bitmap{};
  auto read_bitmap = [&](std::size_t index, const char* which) -> Status {
    const std::size_t at = r.offset();
    if (profile.hex_bitmap) {
      auto text = r.Take(16, 1, which);
      if (!text.ok()) return InvalidArgument(std::string(which) + " at offset " + std::to_string(at) + ": truncated");
      for (std::size_t i = 0; i < 8; ++i) {
        int hi = HexValue((*text)[2 * i]);
        int lo = HexValue((*text)[2 * i + 1]);
        if (hi < 0 || lo < 0) {
          return InvalidArgument(std::string(which) + " at offset " + std::to_string(at + 2 * i) +
                                 ": expected 16 hex characters");
        }
        bitmap[index * 8 + i] = static_cast<unsigned char>((hi << 4) | lo);
      }
    } else {
      auto bytes = r.Take(8, 1, which);
      if (!bytes.ok()) return InvalidArgument(std::string(which) + " at offset " + std::to_string(at) + ": truncated");
      std::memcpy(bitmap.data() + index * 8, bytes->data(), 8);
    }
    return Status::Ok();
  };
  TS_RETURN_IF_ERROR(read_bitmap(0, "primary bitmap"));
  const bool secondary = (bitmap[0] & 0x80) != 0;
  if (secondary) {
    TS_RETURN_IF_ERROR(read_bitmap(1, "secondary bitmap"));
    out.set_force_secondary_bitmap(true);
  }

  const int last_field = secondary ? 128 : 64;
  for (int f = 2; f <= last_field; ++f) {
    if ((bitmap[static_cast<std::size_t>((f - 1) / 8)] & (0x80 >> ((f - 1) % 8))) == 0) continue;
    TS_RETURN_IF_ERROR(UnpackField(profile, f, r, scratch, out));
  }
  if (r.remaining() != 0) {
    return InvalidArgument(std::to_string(r.remaining()) + " trailing bytes at offset " +
                           std::to_string(r.offset()) + " after the last field in the bitmap");
  }
  return Status::Ok();
}

}  // namespace tapstack::iso8583
