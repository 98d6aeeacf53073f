// EMVCo consumer-presented mode (CPM) QR payloads: base64 text of BER-TLV data objects.
//
// Format (EMV QRCPS Consumer-Presented Mode v1.0, July 2017, §3 and §5): 85 Payload Format
// Indicator "CPV01" first; one or more 61 Application Templates (4F ADF name, 50 label, 57 track 2
// equivalent or 5A PAN, 5F20, 5F2D, 9F08, 9F19, 9F24, 9F25, 63 application specific transparent
// template with 9F26/9F27/9F36/9F10/9F37/82 ...); an optional 62 Common Data Template (same tags,
// 64 common data transparent template); other objects after these are kept and ignored.
// The TLV subset is in qr/ber_tlv.h; base64 in qr/base64.h.
//
// Decoding never throws and keeps what it could parse next to the errors. Pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "qr/issue.h"

namespace tapstack::qr {

// Decoded TLV bytes accepted (readers must handle at least 512 bytes, CPM v1.0 §3.1).
inline constexpr std::size_t kCpmPayloadBytesMax = 2048;
// Constructed objects nest at most this deep (61 -> 63 -> primitive needs 2).
inline constexpr std::size_t kCpmNestingMax = 4;
// "hQVDUFY": the base64 text of 85 05 "CPV", which every CPM payload starts with (§5.1).
inline constexpr std::string_view kCpmBase64Prefix = "hQVDUFY";

struct CpmTagSpec {
  std::string_view name;
  std::size_t min_bytes;  // inclusive bounds of the value length
  std::size_t max_bytes;
  bool text;  // an/ans value: shown as text as well as hex
};

// The spec of the tags CPM v1.0 Table 3/4 and EMV Book 3 define for these templates; nullopt
// for tags tapstack does not know (kept and ignored).
std::optional<CpmTagSpec> CpmTagSpecFor(std::uint32_t tag);

struct CpmObject {
  std::uint32_t tag = 0;  // encoded tag bytes read big-endian: 0x9F26, 0x61
  std::string_view name;  // from CpmTagSpecFor; empty for unknown tags and hand-built objects
  Bytes value;            // primitive: the value; decoded constructed: its children's encoding
  std::vector<CpmObject> children;  // parsed children of a constructed object
  std::size_t offset = 0;           // decoded objects: byte offset of the tag in the TLV payload

  bool constructed() const;
  std::string tag_hex() const;
  const CpmObject* Find(std::uint32_t child_tag) const;

  static CpmObject Primitive(std::uint32_t tag, Bytes value);
  static CpmObject Text(std::uint32_t tag, std::string_view text);
  static CpmObject Template(std::uint32_t tag, std::vector<CpmObject> children);
};

struct CpmDecoded {
  std::vector<CpmObject> objects;  // top-level objects as far as they could be parsed
  std::vector<QrIssue> errors;     // empty exactly when the payload is valid

  bool valid() const { return errors.empty(); }
  Status status() const { return IssuesToStatus(errors, "tag"); }
  const CpmObject* Find(std::uint32_t tag) const;
};

// Decodes base64 text (strict, see Base64Decode) and then the TLV bytes.
CpmDecoded DecodeCpm(std::string_view base64);

// Decodes and validates TLV bytes. Rules: structure per ReadBerHeader at every level; 85 first
// and equal to "CPV01"; at least one 61; no 61 after 62; 85 and 62 at most once; inside 61 and
// 62 each tag at most once; every 61 has 4F; every 61 has 57 or 5A unless 62 has one; value
// lengths of known tags within CpmTagSpecFor's bounds.
CpmDecoded DecodeCpmBytes(ByteView tlv);

struct CpmEncodeOptions {
  bool validate = true;  // decode the result and fail with its first error when invalid
};

// Encodes objects in the given order with minimal lengths. A constructed object with children is
// encoded from them; otherwise from `value`. Errors (kInvalidArgument): a malformed tag, nesting
// deeper than kCpmNestingMax, a total above kCpmPayloadBytesMax, and with validate, the first
// validation error. Decoding a valid payload and encoding its objects gives it back byte for byte.
Result<Bytes> EncodeCpmBytes(std::span<const CpmObject> objects,
                             const CpmEncodeOptions& options = {});
// The same, as base64 text.
Result<std::string> EncodeCpm(std::span<const CpmObject> objects,
                              const CpmEncodeOptions& options = {});

}  // namespace tapstack::qr
