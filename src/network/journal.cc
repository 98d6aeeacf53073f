#include "network/journal.h"

#include "core/hex.h"
#include "iso8583/field_spec.h"
#include "iso8583/token_data.h"

namespace tapstack::network {

std::string MaskCardNumber(std::string_view digits) {
  if (digits.size() < 12) {
    return std::string(digits.size() > 4 ? digits.size() - 4 : 0, '*') +
           std::string(digits.substr(digits.size() > 4 ? digits.size() - 4 : 0));
  }
  std::string out(digits);
  for (std::size_t i = 6; i + 4 < out.size(); ++i) out[i] = '*';
  return out;
}

nlohmann::json JournalJson(const iso8583::Message& message) {
  nlohmann::json fields = nlohmann::json::object();
  for (int f = message.NextField(1); f != 0; f = message.NextField(f)) {
    std::string_view v = *message.Get(f);
    const std::string key = std::to_string(f);
    switch (f) {
      case 2:
        fields[key] = MaskCardNumber(v);
        break;
      case 35:
        fields[key] = MaskCardNumber(v.substr(0, v.find('='))) + "=…";
        break;
      case 45:
      case 52:
        fields[key] = "(not journaled)";
        break;
      case 55:
        fields[key] = "(" + std::to_string(v.size()) + " bytes of ICC data)";
        break;
      case 48: {
        auto data = iso8583::TokenData::Parse(v);
        if (!data.ok()) {
          fields[key] = "(unparsable DE48, " + std::to_string(v.size()) + " characters)";
          break;
        }
        if (auto token = data->Get(iso8583::token_tag::kToken)) {
          data->Set(iso8583::token_tag::kToken, MaskCardNumber(*token));
        }
        // The card security code is never stored, not even in the dispute journal.
        if (data->Get(iso8583::token_tag::kCardSecurityCode)) {
          data->Set(iso8583::token_tag::kCardSecurityCode, "***");
        }
        fields[key] = data->ToField().ok() ? *data->ToField() : std::string("(DE48)");
        break;
      }
      default:
        fields[key] = iso8583::Field87(f).type == iso8583::FieldType::kBinary
                          ? HexEncode(AsBytes(v))
                          : std::string(v);
    }
  }
  return {{"mti", std::string(message.mti())}, {"fields", fields}};
}

}  // namespace tapstack::network
