#include "qr/cpm.h"

#include <utility>

#include "core/hex.h"
#include "qr/base64.h"
#include "qr/ber_tlv.h"

namespace tapstack::qr {
namespace {

constexpr std::uint32_t kTagPayloadFormat = 0x85;
constexpr std::uint32_t kTagApplicationTemplate = 0x61;
constexpr std::uint32_t kTagCommonDataTemplate = 0x62;
constexpr std::uint32_t kTagAdfName = 0x4F;
constexpr std::uint32_t kTagTrack2 = 0x57;
constexpr std::uint32_t kTagPan = 0x5A;
constexpr std::string_view kPayloadFormatCpv01 = "CPV01";

std::string ChildPath(const std::string& parent, std::uint32_t tag) {
  return parent.empty() ? TagHex(tag) : parent + "." + TagHex(tag);
}

class TlvParser {
 public:
  TlvParser(ByteView data, std::vector<QrIssue>& errors) : data_(data), errors_(errors) {}

  void ParseLevel(std::size_t begin, std::size_t end, std::size_t depth,
                  const std::string& parent_path, std::vector<CpmObject>& out) {
    const ByteView level = data_.first(end);
    std::size_t pos = begin;
    while (pos < end) {
      auto header = ReadBerHeader(level, pos);
      if (!header.ok()) {
        // ReadBerHeader's message starts "offset N: "; the issue carries the offset itself.
        std::string reason = header.status().message();
        if (const auto colon = reason.find(": ");
            reason.rfind("offset ", 0) == 0 && colon != std::string::npos) {
          reason.erase(0, colon + 2);
        }
        errors_.push_back({parent_path, pos, std::move(reason)});
        return;
      }
      const std::size_t value_begin = pos + header->header_bytes;
      const std::size_t value_end = value_begin + header->length;
      CpmObject object;
      object.tag = header->tag;
      object.offset = pos;
      if (const auto spec = CpmTagSpecFor(object.tag)) object.name = spec->name;
      object.value.assign(level.begin() + static_cast<std::ptrdiff_t>(value_begin),
                          level.begin() + static_cast<std::ptrdiff_t>(value_end));
      const std::string path = ChildPath(parent_path, object.tag);
      if (object.constructed()) {
        if (depth + 1 > kCpmNestingMax) {
          errors_.push_back({path, pos,
                             "constructed objects nest deeper than " +
                                 std::to_string(kCpmNestingMax) + " levels"});
        } else {
          ParseLevel(value_begin, value_end, depth + 1, path, object.children);
        }
      }
      out.push_back(std::move(object));
      pos = value_end;
    }
  }

 private:
  ByteView data_;
  std::vector<QrIssue>& errors_;
};

class Validator {
 public:
  explicit Validator(std::vector<QrIssue>& errors) : errors_(errors) {}

  void ValidateTop(std::span<const CpmObject> top) {
    if (top.empty()) {
      Error("", 0, "no data objects");
      return;
    }
    const CpmObject& first = top.front();
    if (first.tag != kTagPayloadFormat) {
      Error(first.tag_hex(), first.offset,
            "the payload must start with tag 85 (Payload Format Indicator); found " +
                first.tag_hex());
    }
    const CpmObject* format = nullptr;
    const CpmObject* common = nullptr;
    std::size_t applications = 0;
    for (const CpmObject& object : top) {
      if (object.tag == kTagPayloadFormat) {
        if (format != nullptr) {
          Error("85", object.offset,
                "duplicate tag 85 (first at offset " + std::to_string(format->offset) + ")");
        } else {
          format = &object;
        }
      } else if (object.tag == kTagApplicationTemplate) {
        ++applications;
        if (common != nullptr) {
          Error("61", object.offset,
                "application template after the common data template (62 at offset " +
                    std::to_string(common->offset) + "); 61 comes first");
        }
      } else if (object.tag == kTagCommonDataTemplate) {
        if (common != nullptr) {
          Error("62", object.offset,
                "duplicate tag 62 (first at offset " + std::to_string(common->offset) + ")");
        } else {
          common = &object;
        }
      }
    }
    if (format != nullptr) {
      const std::string_view text(reinterpret_cast<const char*>(format->value.data()),
                                  format->value.size());
      if (text != kPayloadFormatCpv01) {
        Error("85", format->offset,
              "payload format indicator " + HexEncode(format->value) + "; expected \"CPV01\" (" +
                  HexEncode(AsBytes(kPayloadFormatCpv01)) + ")");
      }
    }
    if (applications == 0) {
      Error("", 0, "missing application template 61: at least one is mandatory");
    }
    const bool common_has_account = common != nullptr && HasAccount(*common);
    for (const CpmObject& object : top) {
      if (object.tag == kTagApplicationTemplate) {
        ValidateTemplate(object);
        if (object.Find(kTagAdfName) == nullptr) {
          Error("61", object.offset, "application template without 4F (ADF name)");
        }
        if (!HasAccount(object) && !common_has_account) {
          Error("61", object.offset,
                "neither 57 (track 2 equivalent) nor 5A (PAN) in this application template or "
                "in a common data template");
        }
      } else if (object.tag == kTagCommonDataTemplate) {
        ValidateTemplate(object);
      }
    }
    CheckLengths(top, "");
  }

 private:
  void Error(std::string where, std::size_t offset, std::string reason) {
    errors_.push_back({std::move(where), offset, std::move(reason)});
  }

  static bool HasAccount(const CpmObject& object) {
    return object.Find(kTagTrack2) != nullptr || object.Find(kTagPan) != nullptr;
  }

  // Each tag at most once inside 61/62 (CPM v1.0 §5.1: duplicate primitives are an error).
  void ValidateTemplate(const CpmObject& object) {
    const std::string path = object.tag_hex();
    for (std::size_t i = 0; i < object.children.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (object.children[j].tag == object.children[i].tag) {
          Error(ChildPath(path, object.children[i].tag), object.children[i].offset,
                "duplicate tag " + object.children[i].tag_hex() + " (first at offset " +
                    std::to_string(object.children[j].offset) + ")");
          break;
        }
      }
    }
  }

  void CheckLengths(std::span<const CpmObject> objects, const std::string& parent_path) {
    for (const CpmObject& object : objects) {
      const std::string path = ChildPath(parent_path, object.tag);
      if (const auto spec = CpmTagSpecFor(object.tag); spec && !object.constructed()) {
        const std::size_t n = object.value.size();
        if (n < spec->min_bytes || n > spec->max_bytes) {
          const std::string expected =
              spec->min_bytes == spec->max_bytes
                  ? std::to_string(spec->min_bytes)
                  : std::to_string(spec->min_bytes) + "-" + std::to_string(spec->max_bytes);
          Error(path, object.offset,
                std::string(spec->name) + ": " + std::to_string(n) + " byte(s); expected " +
                    expected);
        }
      }
      CheckLengths(object.children, path);
    }
  }

  std::vector<QrIssue>& errors_;
};

Status AppendObject(const CpmObject& object, const std::string& parent_path, std::size_t depth,
                    Bytes& out) {
  const std::string path = ChildPath(parent_path, object.tag);
  if (Status tag = CheckTag(object.tag); !tag.ok()) return tag.WithContext("tag " + path);
  const Bytes* value = &object.value;
  Bytes built;
  if (!object.children.empty()) {
    if (!object.constructed()) {
      return InvalidArgument("tag " + path +
                             ": has children but is a primitive tag (bit 6 of "
                             "its first byte is 0)");
    }
    if (depth + 1 > kCpmNestingMax) {
      return InvalidArgument("tag " + path + ": constructed objects nest deeper than " +
                             std::to_string(kCpmNestingMax) + " levels");
    }
    for (const CpmObject& child : object.children) {
      TS_RETURN_IF_ERROR(AppendObject(child, path, depth + 1, built));
    }
    value = &built;
  }
  TS_RETURN_IF_ERROR(AppendBerHeader(object.tag, value->size(), out));
  out.insert(out.end(), value->begin(), value->end());
  if (out.size() > kCpmPayloadBytesMax) {
    return InvalidArgument("tag " + path + ": payload exceeds " +
                           std::to_string(kCpmPayloadBytesMax) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

std::optional<CpmTagSpec> CpmTagSpecFor(std::uint32_t tag) {
  switch (tag) {
    case 0x85:
      return CpmTagSpec{"Payload Format Indicator", 5, 5, true};
    case 0x61:
      return CpmTagSpec{"Application Template", 0, kCpmPayloadBytesMax, false};
    case 0x62:
      return CpmTagSpec{"Common Data Template", 0, kCpmPayloadBytesMax, false};
    case 0x63:
      return CpmTagSpec{"Application Specific Transparent Template", 0, kCpmPayloadBytesMax, false};
    case 0x64:
      return CpmTagSpec{"Common Data Transparent Template", 0, kCpmPayloadBytesMax, false};
    case 0x4F:
      return CpmTagSpec{"Application Definition File (ADF) Name", 5, 16, false};
    case 0x50:
      return CpmTagSpec{"Application Label", 1, 16, true};
    case 0x57:
      return CpmTagSpec{"Track 2 Equivalent Data", 1, 19, false};
    case 0x5A:
      return CpmTagSpec{"Application PAN", 1, 10, false};
    case 0x5F20:
      return CpmTagSpec{"Cardholder Name", 2, 26, true};
    case 0x5F24:
      return CpmTagSpec{"Application Expiration Date", 3, 3, false};
    case 0x5F2D:
      return CpmTagSpec{"Language Preference", 2, 8, true};
    case 0x5F34:
      return CpmTagSpec{"Application PAN Sequence Number", 1, 1, false};
    case 0x5F50:
      return CpmTagSpec{"Issuer URL", 1, 255, true};
    case 0x82:
      return CpmTagSpec{"Application Interchange Profile", 2, 2, false};
    case 0x9F08:
      return CpmTagSpec{"Application Version Number", 2, 2, false};
    case 0x9F10:
      return CpmTagSpec{"Issuer Application Data", 1, 32, false};
    case 0x9F19:
      return CpmTagSpec{"Token Requestor ID", 1, 255, false};
    case 0x9F24:
      return CpmTagSpec{"Payment Account Reference", 1, 255, true};
    case 0x9F25:
      return CpmTagSpec{"Last 4 Digits of PAN", 2, 2, false};
    case 0x9F26:
      return CpmTagSpec{"Application Cryptogram", 8, 8, false};
    case 0x9F27:
      return CpmTagSpec{"Cryptogram Information Data", 1, 1, false};
    case 0x9F36:
      return CpmTagSpec{"Application Transaction Counter", 2, 2, false};
    case 0x9F37:
      return CpmTagSpec{"Unpredictable Number", 4, 4, false};
    default:
      return std::nullopt;
  }
}

bool CpmObject::constructed() const { return IsConstructedTag(tag); }

std::string CpmObject::tag_hex() const { return TagHex(tag); }

const CpmObject* CpmObject::Find(std::uint32_t child_tag) const {
  for (const CpmObject& child : children) {
    if (child.tag == child_tag) return &child;
  }
  return nullptr;
}

CpmObject CpmObject::Primitive(std::uint32_t tag, Bytes value) {
  CpmObject object;
  object.tag = tag;
  object.value = std::move(value);
  return object;
}

CpmObject CpmObject::Text(std::uint32_t tag, std::string_view text) {
  const ByteView bytes = AsBytes(text);
  return Primitive(tag, Bytes(bytes.begin(), bytes.end()));
}

CpmObject CpmObject::Template(std::uint32_t tag, std::vector<CpmObject> children) {
  CpmObject object;
  object.tag = tag;
  object.children = std::move(children);
  return object;
}

const CpmObject* CpmDecoded::Find(std::uint32_t tag) const {
  for (const CpmObject& object : objects) {
    if (object.tag == tag) return &object;
  }
  return nullptr;
}

CpmDecoded DecodeCpm(std::string_view base64) {
  auto tlv = Base64Decode(base64);
  if (!tlv.ok()) {
    CpmDecoded result;
    result.errors.push_back({"", 0, tlv.status().message()});
    return result;
  }
  return DecodeCpmBytes(*tlv);
}

CpmDecoded DecodeCpmBytes(ByteView tlv) {
  CpmDecoded result;
  if (tlv.size() > kCpmPayloadBytesMax) {
    result.errors.push_back({"", 0,
                             "payload is " + std::to_string(tlv.size()) + " bytes; at most " +
                                 std::to_string(kCpmPayloadBytesMax) + " are decoded"});
    return result;
  }
  TlvParser(tlv, result.errors).ParseLevel(0, tlv.size(), 0, "", result.objects);
  Validator(result.errors).ValidateTop(result.objects);
  return result;
}

Result<Bytes> EncodeCpmBytes(std::span<const CpmObject> objects, const CpmEncodeOptions& options) {
  Bytes out;
  for (const CpmObject& object : objects) {
    TS_RETURN_IF_ERROR(AppendObject(object, "", 0, out));
  }
  if (options.validate) {
    const CpmDecoded check = DecodeCpmBytes(out);
    if (!check.valid()) return check.status().WithContext("encoded payload is invalid");
  }
  return out;
}

Result<std::string> EncodeCpm(std::span<const CpmObject> objects, const CpmEncodeOptions& options) {
  TS_ASSIGN_OR_RETURN(Bytes tlv, EncodeCpmBytes(objects, options));
  return Base64Encode(tlv);
}

}  // namespace tapstack::qr
