#include "qr/qr_json.h"

#include <cstdint>

#include "core/hex.h"
#include "qr/ber_tlv.h"
#include "qr/crc16.h"
#include "qr/utf8.h"

namespace tapstack::qr {
namespace {

using nlohmann::json;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

json IssuesToJson(const std::vector<QrIssue>& issues, std::string_view label) {
  json out = json::array();
  for (const QrIssue& issue : issues) out.push_back(SanitizeUtf8(issue.ToString(label)));
  return out;
}

json MpmObjectToJson(const MpmObject& object) {
  json out = {{"id", SanitizeUtf8(object.id)}};
  if (!object.name.empty()) out["name"] = std::string(object.name);
  out["length"] = object.length();
  out["value"] = SanitizeUtf8(object.value);
  if (object.is_template) {
    json children = json::array();
    for (const MpmObject& child : object.children) children.push_back(MpmObjectToJson(child));
    out["children"] = std::move(children);
  }
  return out;
}

json CpmObjectToJson(const CpmObject& object) {
  json out = {{"tag", object.tag_hex()}};
  if (!object.name.empty()) out["name"] = std::string(object.name);
  out["length"] = object.value.size();
  out["value"] = HexEncode(object.value);
  if (const auto spec = CpmTagSpecFor(object.tag); spec && spec->text) {
    out["text"] = SanitizeUtf8(
        std::string_view(reinterpret_cast<const char*>(object.value.data()), object.value.size()));
  }
  if (object.constructed()) {
    json children = json::array();
    for (const CpmObject& child : object.children) children.push_back(CpmObjectToJson(child));
    out["children"] = std::move(children);
  }
  return out;
}

// Where a JSON input error is, e.g. "objects[3].children[0]".
std::string Path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

Result<const json*> Member(const json& object, const std::string& path, const char* key,
                           json::value_t type, bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (required) return InvalidArgument(path + ": missing \"" + key + "\"");
    return static_cast<const json*>(nullptr);
  }
  if (it->type() != type) {
    return InvalidArgument(path + "." + key + ": expected " +
                           (type == json::value_t::string ? "a string" : "an array"));
  }
  return &*it;
}

Result<std::vector<MpmObject>> MpmArray(const json& array, const std::string& path,
                                        std::size_t depth) {
  if (!array.is_array()) return InvalidArgument(path + ": expected an array of objects");
  if (depth > kMpmNestingMax) {
    return InvalidArgument(path + ": templates nest at most " + std::to_string(kMpmNestingMax) +
                           " levels");
  }
  std::vector<MpmObject> out;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& item = array[i];
    const std::string item_path = Path(path, i);
    if (!item.is_object()) return InvalidArgument(item_path + ": expected an object");
    TS_ASSIGN_OR_RETURN(const json* id, Member(item, item_path, "id", json::value_t::string,
                                               item.find("tag") == item.end()));
    if (id == nullptr) {
      TS_ASSIGN_OR_RETURN(id, Member(item, item_path, "tag", json::value_t::string, true));
    }
    TS_ASSIGN_OR_RETURN(const json* children,
                        Member(item, item_path, "children", json::value_t::array, false));
    MpmObject object;
    object.id = id->get<std::string>();
    if (children != nullptr && !children->empty()) {
      TS_ASSIGN_OR_RETURN(object.children, MpmArray(*children, item_path + ".children", depth + 1));
      object.is_template = true;
    } else {
      TS_ASSIGN_OR_RETURN(const json* value,
                          Member(item, item_path, "value", json::value_t::string, true));
      object.value = value->get<std::string>();
    }
    out.push_back(std::move(object));
  }
  return out;
}

Result<std::uint32_t> ParseTag(const std::string& hex, const std::string& path) {
  auto bytes = HexDecode(hex);
  if (!bytes.ok()) return InvalidArgument(path + ".tag: " + bytes.status().message());
  if (bytes->empty() || bytes->size() > kBerTagBytesMax) {
    return InvalidArgument(path + ".tag: expected 1 to " + std::to_string(kBerTagBytesMax) +
                           " bytes of hex");
  }
  const auto tag = static_cast<std::uint32_t>(BytesToUint(*bytes));
  if (Status s = CheckTag(tag); !s.ok()) return s.WithContext(path);
  return tag;
}

Result<std::vector<CpmObject>> CpmArray(const json& array, const std::string& path,
                                        std::size_t depth) {
  if (!array.is_array()) return InvalidArgument(path + ": expected an array of objects");
  if (depth > kCpmNestingMax) {
    return InvalidArgument(path + ": constructed objects nest at most " +
                           std::to_string(kCpmNestingMax) + " levels");
  }
  std::vector<CpmObject> out;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& item = array[i];
    const std::string item_path = Path(path, i);
    if (!item.is_object()) return InvalidArgument(item_path + ": expected an object");
    TS_ASSIGN_OR_RETURN(const json* tag_text,
                        Member(item, item_path, "tag", json::value_t::string, true));
    CpmObject object;
    TS_ASSIGN_OR_RETURN(object.tag, ParseTag(tag_text->get<std::string>(), item_path));
    TS_ASSIGN_OR_RETURN(const json* children,
                        Member(item, item_path, "children", json::value_t::array, false));
    TS_ASSIGN_OR_RETURN(const json* value,
                        Member(item, item_path, "value", json::value_t::string, false));
    TS_ASSIGN_OR_RETURN(const json* text,
                        Member(item, item_path, "text", json::value_t::string, false));
    if (children != nullptr && !children->empty()) {
      TS_ASSIGN_OR_RETURN(object.children, CpmArray(*children, item_path + ".children", depth + 1));
    } else if (value != nullptr) {
      auto bytes = HexDecode(value->get<std::string>());
      if (!bytes.ok()) return InvalidArgument(item_path + ".value: " + bytes.status().message());
      object.value = std::move(bytes).value();
    } else if (text != nullptr) {
      object = CpmObject::Text(object.tag, text->get<std::string>());
    } else if (children == nullptr) {
      return InvalidArgument(item_path + ": expected \"children\", \"value\" (hex) or \"text\"");
    }
    out.push_back(std::move(object));
  }
  return out;
}

}  // namespace

std::string_view QrModeName(QrMode mode) { return mode == QrMode::kMpm ? "mpm" : "cpm"; }

QrMode DetectQrMode(std::string_view payload) {
  const bool mpm = payload.size() >= 4 && payload[0] == '0' && payload[1] == '0' &&
                   IsDigit(payload[2]) && IsDigit(payload[3]);
  return mpm ? QrMode::kMpm : QrMode::kCpm;
}

json MpmToJson(const MpmDecoded& decoded) {
  json out = {{"mode", "mpm"},
              {"valid", decoded.valid()},
              {"errors", IssuesToJson(decoded.errors, "id")},
              {"warnings", IssuesToJson(decoded.warnings, "id")}};
  if (decoded.crc_computed) out["crc_computed"] = FormatCrc16(*decoded.crc_computed);
  json objects = json::array();
  for (const MpmObject& object : decoded.objects) objects.push_back(MpmObjectToJson(object));
  out["objects"] = std::move(objects);
  return out;
}

json CpmToJson(const CpmDecoded& decoded) {
  json out = {{"mode", "cpm"},
              {"valid", decoded.valid()},
              {"errors", IssuesToJson(decoded.errors, "tag")},
              {"warnings", json::array()}};
  json objects = json::array();
  for (const CpmObject& object : decoded.objects) objects.push_back(CpmObjectToJson(object));
  out["objects"] = std::move(objects);
  return out;
}

json DecodeToJson(std::string_view payload) {
  if (DetectQrMode(payload) == QrMode::kMpm) return MpmToJson(DecodeMpm(payload));
  return CpmToJson(DecodeCpm(payload));
}

Result<std::vector<MpmObject>> MpmObjectsFromJson(const json& objects) {
  try {
    return MpmArray(objects, "objects", 0);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("objects: ") + e.what());
  }
}

Result<std::vector<CpmObject>> CpmObjectsFromJson(const json& objects) {
  try {
    return CpmArray(objects, "objects", 0);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("objects: ") + e.what());
  }
}

Result<std::string> EncodeFromJson(const json& input, const QrEncodeOptions& options) {
  QrMode mode = QrMode::kMpm;
  const json* objects = &input;
  if (input.is_object()) {
    if (const auto it = input.find("mode"); it != input.end()) {
      if (*it == "cpm") {
        mode = QrMode::kCpm;
      } else if (*it != "mpm") {
        return InvalidArgument("mode: expected \"mpm\" or \"cpm\"");
      }
    }
    const auto it = input.find("objects");
    if (it == input.end()) return InvalidArgument("missing \"objects\"");
    objects = &*it;
  } else if (!input.is_array()) {
    return InvalidArgument("expected a JSON object with \"objects\", or an array of MPM objects");
  }
  if (mode == QrMode::kMpm) {
    TS_ASSIGN_OR_RETURN(const std::vector<MpmObject> mpm, MpmObjectsFromJson(*objects));
    MpmEncodeOptions encode;
    encode.validate = options.validate;
    return EncodeMpm(mpm, encode);
  }
  TS_ASSIGN_OR_RETURN(const std::vector<CpmObject> cpm, CpmObjectsFromJson(*objects));
  CpmEncodeOptions encode;
  encode.validate = options.validate;
  return EncodeCpm(cpm, encode);
}

}  // namespace tapstack::qr
