#include "iso8583/message_json.h"

#include "core/hex.h"
#include "iso8583/field_spec.h"

namespace tapstack::iso8583 {

nlohmann::json MessageToJson(const Message& message) {
  nlohmann::json fields = nlohmann::json::object();
  for (int f = message.NextField(1); f != 0; f = message.NextField(f)) {
    std::string_view v = *message.Get(f);
    fields[std::to_string(f)] =
        Field87(f).type == FieldType::kBinary ? HexEncode(AsBytes(v)) : std::string(v);
  }
  return {{"mti", std::string(message.mti())}, {"fields", fields}};
}

Status MessageFromJson(const nlohmann::json& json, Message& out) {
  out.Reset();
  Status status = [&]() -> Status {
    if (!json.is_object()) return InvalidArgument("message JSON must be an object");
    if (!json.contains("mti") || !json["mti"].is_string()) {
      return InvalidArgument("\"mti\": expected a string of 4 digits");
    }
    const std::string& mti = json["mti"].get_ref<const std::string&>();
    if (mti.size() != 4 || !IsAllDigits(mti)) return InvalidArgument("\"mti\": expected 4 digits");
    out.set_mti(mti);
    if (!json.contains("fields")) return Status::Ok();
    if (!json["fields"].is_object()) return InvalidArgument("\"fields\": expected an object");
    for (const auto& [key, value] : json["fields"].items()) {
      const std::string where = "\"fields\".\"" + key + "\"";
      if (!IsAllDigits(key) || key.size() > 3) {
        return InvalidArgument(where + ": field numbers are decimal 2-128");
      }
      const int f = std::stoi(key);
      if (f < 2 || f > kFieldNumberMax) return InvalidArgument(where + ": field numbers are 2-128");
      if (!value.is_string()) return InvalidArgument(where + ": expected a string value");
      const std::string& text = value.get_ref<const std::string&>();
      if (Field87(f).type == FieldType::kBinary) {
        auto bytes = HexDecode(text);
        if (!bytes.ok()) return InvalidArgument(where + ": " + bytes.status().message());
        out.Set(f, std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
      } else {
        out.Set(f, text);
      }
    }
    return Status::Ok();
  }();
  if (!status.ok()) out.Reset();
  return status;
}

}  // namespace tapstack::iso8583
