#include "transit/transit_record.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "core/hex.h"

namespace tapstack::transit {

namespace {

bool IsHexDigits(std::string_view s, std::size_t digits) {
  if (s.size() != digits) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsDecimalDigits(std::string_view s, std::size_t digits) {
  return s.size() == digits && IsAllDigits(s);
}

Result<std::string> StringField(const nlohmann::json& json, std::string_view field,
                                std::string_view expected, bool (*valid)(std::string_view)) {
  const auto it = json.find(field);
  if (it == json.end() || !it->is_string() || !valid(it->get_ref<const std::string&>())) {
    return InvalidArgument("record field \"" + std::string(field) + "\" must be " +
                           std::string(expected));
  }
  return it->get<std::string>();
}

Result<std::uint64_t> UintField(const nlohmann::json& json, std::string_view field,
                                std::uint64_t max, bool optional = false) {
  const auto it = json.find(field);
  if (it == json.end() && optional) return std::uint64_t{0};
  if (it == json.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > max) {
    return InvalidArgument("record field \"" + std::string(field) +
                           "\" must be an unsigned integer up to " + std::to_string(max));
  }
  return it->get<std::uint64_t>();
}

}  // namespace

std::string TransitRecord::DedupKey() const {
  return card_serial + "/" + std::to_string(offline_counter) + "/" + psam_number + "/" +
         std::to_string(psam_sequence);
}

Result<Bytes> TransitRecord::TacInput() const {
  TS_ASSIGN_OR_RETURN(Bytes psam, HexDecode(psam_number));
  if (psam.size() != 6) return InvalidArgument("psam_number must be 12 hex digits");
  if (!IsDecimalDigits(local_time, 14)) return InvalidArgument("local_time must be YYYYMMDDhhmmss");
  TS_ASSIGN_OR_RETURN(Bytes date_time, HexDecode(local_time));  // BCD digits read as hex nibbles
  Bytes input;
  input.reserve(22);
  for (int shift = 24; shift >= 0; shift -= 8) input.push_back(static_cast<std::uint8_t>(amount_fen >> shift));
  input.push_back(type);
  input.insert(input.end(), psam.begin(), psam.end());
  for (int shift = 24; shift >= 0; shift -= 8) {
    input.push_back(static_cast<std::uint8_t>(psam_sequence >> shift));
  }
  input.insert(input.end(), date_time.begin(), date_time.end());
  return input;
}

nlohmann::json TransitRecordToJson(const TransitRecord& r) {
  return nlohmann::json{{"card_serial", r.card_serial},
                        {"card_city", r.card_city},
                        {"offline_counter", r.offline_counter},
                        {"psam_number", r.psam_number},
                        {"psam_sequence", r.psam_sequence},
                        {"amount_fen", r.amount_fen},
                        {"balance_before_fen", r.balance_before_fen},
                        {"type", HexEncode(Bytes{r.type})},
                        {"local_time", r.local_time},
                        {"tac", r.tac},
                        {"kind", r.kind},
                        {"city", r.city},
                        {"line", r.line},
                        {"station", r.station},
                        {"validator_id", r.validator_id},
                        {"penalty_fen", r.penalty_fen},
                        {"recovered", r.recovered}};
}

Result<TransitRecord> TransitRecordFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return InvalidArgument("a record must be a JSON object");
  TransitRecord r;
  TS_ASSIGN_OR_RETURN(r.card_serial,
                      StringField(json, "card_serial", "20 hex digits",
                                  [](std::string_view s) { return IsHexDigits(s, 20); }));
  TS_ASSIGN_OR_RETURN(r.card_city, StringField(json, "card_city", "a 4-digit city code",
                                               [](std::string_view s) { return IsDecimalDigits(s, 4); }));
  TS_ASSIGN_OR_RETURN(std::uint64_t counter, UintField(json, "offline_counter", 0xFFFF));
  r.offline_counter = static_cast<std::uint16_t>(counter);
  TS_ASSIGN_OR_RETURN(r.psam_number,
                      StringField(json, "psam_number", "12 hex digits",
                                  [](std::string_view s) { return IsHexDigits(s, 12); }));
  TS_ASSIGN_OR_RETURN(std::uint64_t sequence, UintField(json, "psam_sequence", 0xFFFFFFFF));
  r.psam_sequence = static_cast<std::uint32_t>(sequence);
  TS_ASSIGN_OR_RETURN(std::uint64_t amount, UintField(json, "amount_fen", 0xFFFFFFFF));
  r.amount_fen = static_cast<std::uint32_t>(amount);
  TS_ASSIGN_OR_RETURN(std::uint64_t before, UintField(json, "balance_before_fen", 0xFFFFFFFF));
  r.balance_before_fen = static_cast<std::uint32_t>(before);
  if (r.amount_fen > r.balance_before_fen) {
    return InvalidArgument("record field \"amount_fen\" exceeds \"balance_before_fen\"");
  }
  TS_ASSIGN_OR_RETURN(std::string type,
                      StringField(json, "type", "\"06\" or \"09\"",
                                  [](std::string_view s) { return s == "06" || s == "09"; }));
  r.type = type == "06" ? 0x06 : 0x09;
  TS_ASSIGN_OR_RETURN(r.local_time, StringField(json, "local_time", "YYYYMMDDhhmmss", [](std::string_view s) {
                        return IsDecimalDigits(s, 14);
                      }));
  TS_ASSIGN_OR_RETURN(r.tac, StringField(json, "tac", "8 hex digits",
                                         [](std::string_view s) { return IsHexDigits(s, 8); }));
  TS_ASSIGN_OR_RETURN(r.kind, StringField(json, "kind", "metro_entry, metro_exit or bus",
                                          [](std::string_view s) {
                                            return s == "metro_entry" || s == "metro_exit" || s == "bus";
                                          }));
  TS_ASSIGN_OR_RETURN(r.city, StringField(json, "city", "a 4-digit city code",
                                          [](std::string_view s) { return IsDecimalDigits(s, 4); }));
  TS_ASSIGN_OR_RETURN(std::uint64_t line, UintField(json, "line", 0xFFFF));
  r.line = static_cast<std::uint16_t>(line);
  TS_ASSIGN_OR_RETURN(std::uint64_t station, UintField(json, "station", 0xFFFF));
  r.station = static_cast<std::uint16_t>(station);
  TS_ASSIGN_OR_RETURN(r.validator_id,
                      StringField(json, "validator_id", "1-64 characters",
                                  [](std::string_view s) { return !s.empty() && s.size() <= 64; }));
  TS_ASSIGN_OR_RETURN(std::uint64_t penalty, UintField(json, "penalty_fen", r.amount_fen, true));
  r.penalty_fen = static_cast<std::uint32_t>(penalty);
  if (const auto it = json.find("recovered"); it != json.end()) {
    if (!it->is_boolean()) return InvalidArgument("record field \"recovered\" must be a boolean");
    r.recovered = it->get<bool>();
  }
  return r;
}

}  // namespace tapstack::transit
