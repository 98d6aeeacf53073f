// EMVCo merchant-presented mode (MPM) QR payloads: decode into a tree of data objects, validate,
// and encode back with the CRC computed.
//
// Format (EMV QRCPS Merchant-Presented Mode v1.0, July 2017): a sequence of data objects, each an
// id (2 digits), a length (2 digits, 01–99) counted in CHARACTERS of UTF-8 text (§4.4.1.1) and the
// value. Objects 26–51, 62, 64, 80–99 (and 50–99 inside 62) are templates whose value is again a
// sequence of objects. The payload ends with 63 "CRC": length 04 and the CRC-16/CCITT-FALSE of
// the payload's UTF-8 bytes up to and including "6304", as four uppercase hex digits (§4.7.3).
//
// Decoding never throws and keeps going where it can, so a caller can show both the objects and
// the errors of an invalid payload. Everything here is pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "qr/issue.h"
#include "qr/mpm_spec.h"
#include "qr/mpm_validation.h"

namespace tapstack::qr {

// Input bytes above this are rejected before parsing. The format itself cannot exceed
// 100 ids x 103 characters x 4 bytes; 512 characters is the spec's limit (kMpmPayloadCharsMax).
inline constexpr std::size_t kMpmPayloadBytesMax = 8192;
// Templates nest at most two levels (62 -> 50–99 -> objects); deeper trees are not encodable.
inline constexpr std::size_t kMpmNestingMax = 2;

struct MpmObject {
  std::string id;         // two digits, "00".."99"
  std::string_view name;  // from the field spec; empty on objects built by hand (encode ignores it)
  std::string value;      // the value text (UTF-8); for a decoded template, its children's text
  std::vector<MpmObject> children;  // the parsed children of a template; empty for primitives
  bool is_template = false;         // the field spec says template (set by the decoder)
  std::size_t offset = 0;           // decoded objects: character offset of the id in the payload

  // Value length in characters (what the two length digits say for a well-formed object).
  std::size_t length() const;
  // The first child with `id`, or nullptr.
  const MpmObject* Find(std::string_view child_id) const;

  static MpmObject Primitive(std::string id, std::string value);
  static MpmObject Template(std::string id, std::vector<MpmObject> children);
};

struct MpmDecoded {
  std::vector<MpmObject> objects;  // root objects in payload order, as far as they could be parsed
  std::vector<QrIssue> errors;     // empty exactly when the payload is valid
  std::vector<QrIssue> warnings;   // questionable but accepted (e.g. a currency core does not know)
  // CRC-16 of the payload up to and including "6304", when a CRC object of length 04 was found.
  std::optional<std::uint16_t> crc_computed;

  bool valid() const { return errors.empty(); }
  // OK, or kInvalidArgument naming the first error ("id 54 at offset 87: ...").
  Status status() const { return IssuesToStatus(errors, "id"); }
  // The first root object with `id`, or nullptr.
  const MpmObject* Find(std::string_view id) const;
};

// Decodes and validates `payload` (UTF-8 text as scanned; lower-case CRC digits are accepted).
// Structural errors (bad id or length digits, a value running past the end) stop parsing at that
// level; everything parsed before stays in `objects`. Invalid UTF-8 is reported and each stray
// byte counts as one character so parsing can continue.
MpmDecoded DecodeMpm(std::string_view payload, const MpmValidationOptions& options = {});

struct MpmEncodeOptions {
  // Decode the encoded payload and fail with its errors when it is not valid. Off only to build
  // deliberately invalid payloads (test fixtures).
  bool validate = true;
  MpmValidationOptions validation;
};

// Encodes root objects in the given order. A root object with id 63 is dropped wherever it is;
// "6304" and the computed CRC (uppercase) are appended last. An object with children is encoded
// from its children (its `value` is ignored); otherwise from `value`.
// Errors (kInvalidArgument, naming the object path): an id that is not two digits, a value that is
// empty, longer than 99 characters or not valid UTF-8, nesting deeper than kMpmNestingMax, and,
// with options.validate, the first validation error of the result.
// Decoding a valid payload and encoding its objects gives the payload back byte for byte (with
// the CRC in upper case).
Result<std::string> EncodeMpm(std::span<const MpmObject> objects,
                              const MpmEncodeOptions& options = {});

}  // namespace tapstack::qr
