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

namespace {

// Appends `value` as a JSON string (RFC 8259 section 7): quote and backslash escaped, control
// characters and every byte from 0x7F up as \u00XX, so any field bytes give valid JSON (ISO 8583
// text fields are ASCII; anything else is shown byte for byte).
void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7F) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

// What the journal keeps of field `f` with value `v`.
std::string JournalValue(int f, std::string_view v) {
  switch (f) {
    case 2:
      return MaskCardNumber(v);
    case 35:
      return MaskCardNumber(v.substr(0, v.find('='))) + "=...";
    case 45:
    case 52:
      return "(not journaled)";
    case 55:
      return "(" + std::to_string(v.size()) + " bytes of ICC data)";
    case 48: {
      auto data = iso8583::TokenData::Parse(v);
      if (!data.ok()) return "(unparsable DE48, " + std::to_string(v.size()) + " characters)";
      if (auto token = data->Get(iso8583::token_tag::kToken)) {
        data->Set(iso8583::token_tag::kToken, MaskCardNumber(*token));
      }
      // The card security code is never stored, not even in the dispute journal.
      if (data->Get(iso8583::token_tag::kCardSecurityCode)) {
        data->Set(iso8583::token_tag::kCardSecurityCode, "***");
      }
      auto field = data->ToField();
      return field.ok() ? *field : std::string("(DE48)");
    }
    default:
      return iso8583::Field87(f).type == iso8583::FieldType::kBinary ? HexEncode(AsBytes(v)) : std::string(v);
  }
}

// Fields whose journal form is the value itself (the common case, no copy needed).
bool JournaledAsIs(int f) {
  return f != 2 && f != 35 && f != 45 && f != 48 && f != 52 && f != 55 &&
         iso8583::Field87(f).type != iso8583::FieldType::kBinary;
}

}  // namespace

std::string JournalJson(const iso8583::Message& message) {
  std::string out;
  out.reserve(512);
  out += "{\"mti\":";
  AppendJsonString(out, message.mti());
  out += ",\"fields\":{";
  bool first = true;
  for (int f = message.NextField(1); f != 0; f = message.NextField(f)) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += std::to_string(f);
    out += "\":";
    std::string_view v = *message.Get(f);
    if (JournaledAsIs(f)) {
      AppendJsonString(out, v);
    } else {
      AppendJsonString(out, JournalValue(f, v));
    }
  }
  out += "}}";
  return out;
}

}  // namespace tapstack::network
