#include "qr/mpm.h"

#include <utility>

#include "qr/crc16.h"
#include "qr/utf8.h"

namespace tapstack::qr {
namespace {

constexpr std::size_t kHeaderChars = 4;  // 2-digit id + 2-digit length
constexpr std::size_t kValueCharsMax = 99;
constexpr std::string_view kCrcId = "63";
constexpr std::size_t kCrcValueChars = 4;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int TwoDigits(std::string_view s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

std::string TwoDigitString(std::size_t n) {
  return {static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
}

std::string ChildPath(const std::string& parent, std::string_view id) {
  return parent.empty() ? std::string(id) : parent + "." + std::string(id);
}

// Where the root CRC object sits, for the check after parsing.
struct CrcLocation {
  bool found = false;
  std::size_t value_byte_offset = 0;  // bytes of the payload covered by the CRC
  std::size_t offset = 0;             // character offset of "63"
  std::size_t length = 0;             // its length digits
  std::string value;
};

class Parser {
 public:
  Parser(std::string_view payload, std::vector<QrIssue>& errors)
      : payload_(payload), errors_(errors) {}

  // Parses the objects in payload_[begin, end) at `scope`; `char_offset` is the character offset
  // of `begin` in the payload.
  void ParseLevel(std::size_t begin, std::size_t end, std::size_t char_offset, MpmScope scope,
                  const std::string& parent_path, std::vector<MpmObject>& out) {
    const std::string_view text = payload_.substr(0, end);
    std::size_t pos = begin;
    std::size_t chars = char_offset;
    while (pos < end) {
      const std::size_t left = end - pos;
      const std::string_view header = text.substr(pos, kHeaderChars);
      if (left < kHeaderChars) {
        Error(parent_path, chars,
              "truncated data object: expected a 2-digit id and a 2-digit length, found " +
                  QuoteForMessage(header));
        return;
      }
      const std::string_view id = header.substr(0, 2);
      if (!IsDigit(id[0]) || !IsDigit(id[1])) {
        Error(parent_path, chars, "expected a 2-digit id, found " + QuoteForMessage(id));
        return;
      }
      const std::string path = ChildPath(parent_path, id);
      const std::string_view length_digits = header.substr(2, 2);
      if (!IsDigit(length_digits[0]) || !IsDigit(length_digits[1])) {
        Error(path, chars,
              "expected a 2-digit length after the id, found " + QuoteForMessage(length_digits));
        return;
      }
      const auto length = static_cast<std::size_t>(TwoDigits(length_digits));
      if (length == 0) Error(path, chars, "length 00; expected 01-99");
      std::size_t got = 0;
      const std::size_t value_begin = pos + kHeaderChars;
      const std::size_t value_end = Utf8Advance(text, value_begin, length, got);
      if (got < length) {
        Error(path, chars,
              "value runs past the end: length " + std::string(length_digits) + " but only " +
                  std::to_string(got) + " character(s) left");
        return;
      }

      const int id_number = TwoDigits(id);
      const MpmFieldSpec spec = MpmFieldSpecFor(scope, id_number);
      MpmObject object;
      object.id = std::string(id);
      object.name = spec.name;
      object.value = std::string(text.substr(value_begin, value_end - value_begin));
      object.is_template = spec.format == MpmFormat::kTemplate;
      object.offset = chars;
      if (object.is_template) {
        ParseLevel(value_begin, value_end, chars + kHeaderChars, spec.child_scope, path,
                   object.children);
      }
      if (scope == MpmScope::kRoot && id == kCrcId && !crc_.found) {
        crc_ = {true, value_begin, chars, length, object.value};
      }
      out.push_back(std::move(object));
      pos = value_end;
      chars += kHeaderChars + length;
    }
  }

  const CrcLocation& crc() const { return crc_; }

 private:
  void Error(const std::string& where, std::size_t offset, std::string reason) {
    errors_.push_back({where, offset, std::move(reason)});
  }

  std::string_view payload_;
  std::vector<QrIssue>& errors_;
  CrcLocation crc_;
};

void CheckCrc(std::string_view payload, const CrcLocation& crc, MpmDecoded& result) {
  if (!crc.found) return;  // reported as a missing mandatory object by validation
  if (crc.length != kCrcValueChars) {
    result.errors.push_back({std::string(kCrcId), crc.offset,
                             "CRC object length " + TwoDigitString(crc.length) + "; expected 04"});
    return;
  }
  const std::uint16_t computed = Crc16CcittFalse(payload.substr(0, crc.value_byte_offset));
  result.crc_computed = computed;
  std::uint16_t found = 0;
  if (!ParseCrc16(crc.value, found)) {
    result.errors.push_back({std::string(kCrcId), crc.offset,
                             "CRC value " + QuoteForMessage(crc.value) +
                                 " is not 4 hex digits; computed " + FormatCrc16(computed)});
    return;
  }
  if (found != computed) {
    result.errors.push_back({std::string(kCrcId), crc.offset,
                             "CRC mismatch: payload says " + QuoteForMessage(crc.value) +
                                 ", computed " + FormatCrc16(computed) + " over the " +
                                 std::to_string(crc.value_byte_offset) +
                                 " UTF-8 bytes up to and including '6304'"});
  }
}

Status AppendObject(const MpmObject& object, const std::string& parent_path, std::size_t depth,
                    std::string& out) {
  const std::string path = ChildPath(parent_path, object.id);
  if (object.id.size() != 2 || !IsDigit(object.id[0]) || !IsDigit(object.id[1])) {
    return InvalidArgument("id " + QuoteForMessage(path) + ": expected two digits 00-99");
  }
  std::string built;
  const std::string* value = &object.value;
  if (!object.children.empty()) {
    if (depth >= kMpmNestingMax) {
      return InvalidArgument("id " + path + ": templates nest at most " +
                             std::to_string(kMpmNestingMax) + " levels");
    }
    for (const MpmObject& child : object.children) {
      TS_RETURN_IF_ERROR(AppendObject(child, path, depth + 1, built));
    }
    value = &built;
  }
  if (const auto bad = FindInvalidUtf8(*value)) {
    return InvalidArgument("id " + path + ": value is not valid UTF-8 (byte " +
                           std::to_string(*bad) + ")");
  }
  const std::size_t chars = Utf8CharCount(*value);
  if (chars == 0 || chars > kValueCharsMax) {
    return InvalidArgument("id " + path + ": value has " + std::to_string(chars) +
                           " characters; expected 1-99");
  }
  out += object.id;
  out += TwoDigitString(chars);
  out += *value;
  return Status::Ok();
}

}  // namespace

std::size_t MpmObject::length() const { return Utf8CharCount(value); }

const MpmObject* MpmObject::Find(std::string_view child_id) const {
  for (const MpmObject& child : children) {
    if (child.id == child_id) return &child;
  }
  return nullptr;
}

MpmObject MpmObject::Primitive(std::string id, std::string value) {
  MpmObject object;
  object.id = std::move(id);
  object.value = std::move(value);
  return object;
}

MpmObject MpmObject::Template(std::string id, std::vector<MpmObject> children) {
  MpmObject object;
  object.id = std::move(id);
  object.children = std::move(children);
  object.is_template = true;
  return object;
}

const MpmObject* MpmDecoded::Find(std::string_view id) const {
  for (const MpmObject& object : objects) {
    if (object.id == id) return &object;
  }
  return nullptr;
}

MpmDecoded DecodeMpm(std::string_view payload, const MpmValidationOptions& options) {
  MpmDecoded result;
  if (payload.size() > kMpmPayloadBytesMax) {
    result.errors.push_back({"", 0,
                             "payload is " + std::to_string(payload.size()) + " bytes; at most " +
                                 std::to_string(kMpmPayloadBytesMax) + " are decoded"});
    return result;
  }
  if (payload.empty()) {
    result.errors.push_back({"", 0, "payload is empty"});
    return result;
  }
  if (const auto bad = FindInvalidUtf8(payload)) {
    result.errors.push_back({"", Utf8CharCount(payload.substr(0, *bad)),
                             "invalid UTF-8 at byte offset " + std::to_string(*bad)});
  }
  const std::size_t chars = Utf8CharCount(payload);
  if (chars > options.payload_chars_max) {
    result.errors.push_back({"", 0,
                             "payload has " + std::to_string(chars) + " characters; at most " +
                                 std::to_string(options.payload_chars_max) + " allowed"});
  }
  Parser parser(payload, result.errors);
  parser.ParseLevel(0, payload.size(), 0, MpmScope::kRoot, "", result.objects);
  CheckCrc(payload, parser.crc(), result);
  ValidateMpmObjects(result.objects, options, result.errors, result.warnings);
  return result;
}

Result<std::string> EncodeMpm(std::span<const MpmObject> objects, const MpmEncodeOptions& options) {
  std::string payload;
  for (const MpmObject& object : objects) {
    if (object.id == kCrcId) continue;
    TS_RETURN_IF_ERROR(AppendObject(object, "", 0, payload));
  }
  payload += kCrcId;
  payload += TwoDigitString(kCrcValueChars);
  payload += FormatCrc16(Crc16CcittFalse(payload));
  if (options.validate) {
    const MpmDecoded check = DecodeMpm(payload, options.validation);
    if (!check.valid()) return check.status().WithContext("encoded payload is invalid");
  }
  return payload;
}

}  // namespace tapstack::qr
