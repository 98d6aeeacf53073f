#include "transit/transit_http.h"

#include <httplib.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/hex.h"
#include "transit/bcd_time.h"
#include "transit/transit_operator.h"

namespace tapstack::transit {

namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

// Path segments are matched loosely and checked in the handler, so a malformed id gets a 400
// naming it instead of httplib's bare 404.
constexpr char kCityPath[] = "/v1/transit/([^/]+)";
constexpr char kSegment[] = "/([^/]+)";
constexpr std::size_t kIdBytesMax = 64;            // kRegistryIdBytesMax, kLoadOrderIdBytesMax
constexpr std::size_t kDevicePublicKeyBytes = 65;  // uncompressed P-256: 04 | X | Y
constexpr std::size_t kBatchIdBytesMax = 128;      // Clearing::IngestUpload's limit

// The request field an error of a domain call is about, per outcome.
struct Blame {
  std::string_view invalid = {};    // 400 (unless the message names a field of the contract)
  std::string_view not_found = {};  // 404
  std::string_view conflict = {};   // 409 failed_precondition
  std::string_view exists = {};     // 409 already_exists
};

void ReplyJson(Response& res, int http, const json& body) {
  res.status = http;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(Response& res, int http, std::string_view code, std::string_view message,
                std::string_view field) {
  json body = {{"error", code}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  ReplyJson(res, http, body);
}

// The contract's field a Status message starts with ("order_id: expected ..."), if any.
std::string_view FieldOf(std::string_view message) {
  static constexpr std::string_view kFields[] = {
      "card_id",    "account_id",        "device_id",   "device_public_key", "payment_data",
      "challenge",  "final_balance_fen", "balance_fen", "order_id",          "card_serial",
      "amount_fen", "init_for_load",     "tac",         "online_counter",    "log"};
  const std::size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return {};
  const std::string_view head = message.substr(0, colon);
  for (std::string_view field : kFields) {
    if (head == field) return field;
  }
  return {};
}

void ReplyStatus(Response& res, const Status& s, const Blame& blame) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kCryptoFailure: {
      const std::string_view named = FieldOf(s.message());
      return ReplyError(res, 400, "invalid_argument", s.message(),
                        named.empty() ? blame.invalid : named);
    }
    case ErrorCode::kNotFound:
      return ReplyError(res, 404, "not_found", s.message(), blame.not_found);
    case ErrorCode::kFailedPrecondition:
      return ReplyError(res, 409, "failed_precondition", s.message(), blame.conflict);
    case ErrorCode::kAlreadyExists:
      return ReplyError(res, 409, "already_exists", s.message(), blame.exists);
    case ErrorCode::kUnavailable:
      return ReplyError(res, 503, "unavailable", s.message(), {});
    default:
      // Store and crypto internals stay in the server; the caller learns the code only.
      return ReplyError(res, 500, "internal", ErrorCodeName(s.code()), {});
  }
}

// A 400 naming `field`.
void ReplyInvalid(Response& res, const Status& s, std::string_view field) {
  ReplyError(res, 400, "invalid_argument", s.message(), field);
}

#define TRANSIT_OR_REPLY(lhs, expr, blame)                              \
  auto TS_CONCAT_(transit_r_, __LINE__) = (expr);                       \
  if (!TS_CONCAT_(transit_r_, __LINE__).ok()) {                         \
    ReplyStatus(res, TS_CONCAT_(transit_r_, __LINE__).status(), blame); \
    return;                                                             \
  }                                                                     \
  lhs = std::move(TS_CONCAT_(transit_r_, __LINE__)).value()

// ---- Input checks: each error message starts with the field it names. ----

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

Status CheckId(std::string_view field, std::string_view id) {
  if (!id.empty() && id.size() <= kIdBytesMax && std::all_of(id.begin(), id.end(), IsIdChar)) {
    return Status::Ok();
  }
  return InvalidArgument(std::string(field) + ": expected 1-" + std::to_string(kIdBytesMax) +
                         " characters of A-Z a-z 0-9 . _ : -");
}

Status CheckSerial(std::string_view field, std::string_view serial) {
  if (serial.size() == kCardSerialDigits && IsAllDigits(serial)) return Status::Ok();
  return InvalidArgument(std::string(field) + ": expected " + std::to_string(kCardSerialDigits) +
                         " digits");
}

// The body as a JSON object with only `allowed` members; an empty body is {} when `empty_ok`.
Result<json> ParseBody(const Request& req, std::initializer_list<std::string_view> allowed,
                       bool empty_ok = false, std::size_t bytes_max = kTransitRequestBodyBytesMax) {
  if (req.body.size() > bytes_max) {
    return OutOfRange("body: larger than " + std::to_string(bytes_max) + " bytes");
  }
  if (empty_ok && req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("body: expected a JSON object");
  }
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string expected;
      for (std::string_view a : allowed)
        expected += (expected.empty() ? "" : ", ") + std::string(a);
      return InvalidArgument(key + ": unknown field; expected " +
                             (expected.empty() ? std::string("no members") : "one of " + expected));
    }
  }
  return body;
}

// The field name of a body error: "<field>: ..." or "body".
std::string BodyField(const Status& s) {
  const std::size_t colon = s.message().find(": ");
  return colon == std::string::npos ? "body" : s.message().substr(0, colon);
}

Result<std::string> StringMember(const json& body, std::string_view path, std::string_view name) {
  const auto it = body.find(name);
  if (it == body.end()) return InvalidArgument(std::string(path) + ": required");
  if (!it->is_string()) return InvalidArgument(std::string(path) + ": expected a string");
  return it->get<std::string>();
}

Result<std::string> IdMember(const json& body, std::string_view name) {
  TS_ASSIGN_OR_RETURN(std::string id, StringMember(body, name, name));
  TS_RETURN_IF_ERROR(CheckId(name, id));
  return id;
}

// Exactly `bytes` bytes as hex (either case).
Result<Bytes> HexMember(const json& body, std::string_view path, std::string_view name,
                        std::size_t bytes) {
  TS_ASSIGN_OR_RETURN(const std::string hex, StringMember(body, path, name));
  Result<Bytes> decoded = HexDecode(hex);
  if (hex.size() != 2 * bytes || !decoded.ok()) {
    return InvalidArgument(std::string(path) + ": expected " + std::to_string(2 * bytes) +
                           " hex digits (" + std::to_string(bytes) + " bytes)");
  }
  return decoded;
}

// A whole number 0..max; `required` false: nullopt when absent.
Result<std::optional<std::uint64_t>> UintMember(const json& body, std::string_view path,
                                                std::string_view name, std::uint64_t max,
                                                bool required = true) {
  const auto it = body.find(name);
  if (it == body.end()) {
    if (required) return InvalidArgument(std::string(path) + ": required");
    return std::optional<std::uint64_t>();
  }
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() > max) {
    return InvalidArgument(std::string(path) + ": expected an integer 0-" + std::to_string(max));
  }
  return std::optional<std::uint64_t>(it->get<std::uint64_t>());
}

Result<Bytes> DevicePublicKey(const json& body) {
  TS_ASSIGN_OR_RETURN(
      Bytes key, HexMember(body, "device_public_key", "device_public_key", kDevicePublicKeyBytes));
  if (key[0] != 0x04) {
    return InvalidArgument("device_public_key: expected an uncompressed P-256 point (04 | X | Y)");
  }
  return key;
}

// payment_data: an object of at most kPaymentDataBytesMax as JSON; absent: null (optional only).
Result<json> PaymentData(const json& body, bool required) {
  const auto it = body.find("payment_data");
  if (it == body.end()) {
    if (required) return InvalidArgument("payment_data: required");
    return json();
  }
  if (!it->is_object()) return InvalidArgument("payment_data: expected an object");
  if (it->dump().size() > kPaymentDataBytesMax) {
    return InvalidArgument("payment_data: larger than " + std::to_string(kPaymentDataBytesMax) +
                           " bytes");
  }
  return *it;
}

// ---- JSON shapes ----

std::string_view AlgorithmName(crypto::PurseAlgorithm algorithm) {
  return algorithm == crypto::PurseAlgorithm::kSm4 ? "sm4" : "tdes";
}

// The contract's city entry, plus "load_terminal_id": the terminal id the wallet must put in
// INITIALIZE FOR LOAD before it asks /orders/{id}/load for the MAC2 (MAC1 covers it).
json CityJson(const TransitOperator& op) {
  const CityNetwork& city = op.city();
  const CardRules& rules = city.card_rules();
  json out = {{"city_code", city.city_code()},
              {"name", city.name()},
              {"purse_algorithm", AlgorithmName(city.purse_algorithm())},
              {"card_rules",
               {{"opening_fee_fen", rules.opening_fee_fen},
                {"deposit_fen", rules.deposit_fen},
                {"balance_cap_fen", rules.balance_cap_fen},
                {"top_up_min_fen", rules.top_up_min_fen},
                {"top_up_max_fen", rules.top_up_max_fen},
                {"migrations_per_year", rules.migrations_per_year},
                {"refund_on_delete", rules.refund_on_delete}}},
              {"load_terminal_id", HexEncode(op.load_server().terminal_id())},
              {"metro", nullptr},
              {"bus", nullptr}};
  if (const auto& metro = city.metro()) {
    json lines = json::array();
    for (const MetroLine& line : metro->lines) {
      json stations = json::array();
      for (const LineStop& stop : line.stops) {
        const auto station = metro->stations.find(stop.station_id);
        stations.push_back(
            {{"id", stop.station_id},
             {"name", station != metro->stations.end() ? station->second.name : std::string()}});
      }
      lines.push_back({{"id", line.id}, {"name", line.name}, {"stations", stations}});
    }
    out["metro"] = {{"lines", lines}};
  }
  if (const auto& bus = city.bus()) {
    json lines = json::array();
    for (const BusLine& line : bus->lines) {
      lines.push_back({{"id", line.id}, {"name", line.name}, {"fare_fen", line.fare_fen}});
    }
    out["bus"] = {
        {"default_fare_fen", bus->default_fare_fen ? json(*bus->default_fare_fen) : json(nullptr)},
        {"lines", lines}};
  }
  return out;
}

json CardJson(const TransitCardInfo& card) {
  json out = {{"serial", card.serial},
              {"card_id", card.card_id},
              {"account_id", card.account_id},
              {"device_id", card.device_id},
              {"status", CardStatusName(card.status)},
              {"issued_date", card.issued_date},
              {"expiry_date", card.expiry_date},
              {"deposit_fen", card.deposit_fen}};
  if (card.replaces) out["replaces"] = *card.replaces;
  if (card.replaced_by) out["replaced_by"] = *card.replaced_by;
  if (card.final_balance_fen) out["final_balance_fen"] = *card.final_balance_fen;
  return out;
}

json OrderJson(const LoadOrder& order) {
  json out = {{"order_id", order.order_id},
              {"card_serial", order.card_serial},
              {"amount_fen", order.amount_fen},
              {"state", LoadOrderStateName(order.state)}};
  if (order.state == LoadOrderState::kLoaded) out["captured"] = order.captured;
  if (order.online_counter) out["online_counter"] = *order.online_counter;
  return out;
}

// Input checks before a domain call: the error message starts with the field it names.
#define TRANSIT_INPUT(lhs, expr)                                                  \
  auto TS_CONCAT_(transit_in_, __LINE__) = (expr);                                \
  if (!TS_CONCAT_(transit_in_, __LINE__).ok()) {                                  \
    const Status& transit_in_status = TS_CONCAT_(transit_in_, __LINE__).status(); \
    ReplyInvalid(res, transit_in_status, BodyField(transit_in_status));           \
    return;                                                                       \
  }                                                                               \
  lhs = std::move(TS_CONCAT_(transit_in_, __LINE__)).value()

// ---- Handlers ----

// The city's operator from path match 1, or a 400/404 reply.
TransitOperator* OperatorOf(TransitNetwork& network, const Request& req, Response& res) {
  const std::string code = req.matches[1].str();
  if (code.size() != 4 || !IsAllDigits(code)) {
    ReplyError(res, 400, "invalid_argument", "city: expected a 4-digit city code", "city");
    return nullptr;
  }
  Result<TransitOperator*> op = network.Operator(code);
  if (!op.ok()) {
    ReplyStatus(res, op.status(), {.not_found = "city"});
    return nullptr;
  }
  return *op;
}

// Path match `index` checked by `check`, or a 400 naming `field`.
std::optional<std::string> PathId(const Request& req, Response& res, std::size_t index,
                                  std::string_view field,
                                  Status (*check)(std::string_view, std::string_view)) {
  std::string id = req.matches[index].str();
  const Status s = check(field, id);
  if (!s.ok()) {
    ReplyInvalid(res, s, field);
    return std::nullopt;
  }
  return id;
}

void Cities(TransitNetwork& network, Response& res) {
  json cities = json::array();
  for (const std::string& code : network.city_codes()) {
    Result<TransitOperator*> op = network.Operator(code);
    if (!op.ok()) return ReplyStatus(res, op.status(), {});
    cities.push_back(CityJson(**op));
  }
  ReplyJson(res, 200, {{"cities", cities}});
}

// Issue and migrate answer the same shape.
void ReplyIssued(TransitOperator& op, Response& res, const IssuedCard& issued) {
  Result<TransitCardInfo> card = op.registry().Card(issued.serial);
  if (!card.ok()) return ReplyStatus(res, card.status(), {});
  ReplyJson(res, 201,
            {{"card", CardJson(*card)},
             {"wrapped_profile", HexEncode(issued.wrapped_profile)},
             {"fee_fen", issued.fee_fen},
             {"deposit_fen", issued.deposit_fen}});
}

void IssueCard(TransitOperator& op, const Request& req, Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"card_id", "account_id", "device_id",
                                                 "device_public_key", "payment_data"}));
  CardRequest request;
  TRANSIT_INPUT(request.card_id, IdMember(body, "card_id"));
  TRANSIT_INPUT(request.account_id, IdMember(body, "account_id"));
  TRANSIT_INPUT(request.device_id, IdMember(body, "device_id"));
  TRANSIT_INPUT(request.device_public_key, DevicePublicKey(body));
  TRANSIT_INPUT(request.payment_data, PaymentData(body, false));
  TRANSIT_OR_REPLY(const IssuedCard issued, op.registry().IssueCard(request),
                   (Blame{.invalid = "device_public_key",
                          .not_found = "card_id",
                          .conflict = "card_id",
                          .exists = "card_id"}));
  ReplyIssued(op, res, issued);
}

void GetCard(TransitOperator& op, const std::string& serial, Response& res) {
  TRANSIT_OR_REPLY(const TransitCardInfo card, op.registry().Card(serial),
                   (Blame{.invalid = "serial", .not_found = "serial"}));
  ReplyJson(res, 200, {{"card", CardJson(card)}});
}

void AccountCards(TransitOperator& op, const std::string& account_id, Response& res) {
  TRANSIT_OR_REPLY(const std::vector<TransitCardInfo> cards,
                   op.registry().CardsOfAccount(account_id), (Blame{.invalid = "account_id"}));
  json list = json::array();
  for (const TransitCardInfo& card : cards) list.push_back(CardJson(card));
  ReplyJson(res, 200, {{"cards", list}});
}

void BlockMac(TransitOperator& op, const std::string& serial, const Request& req, Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"challenge"}));
  TRANSIT_INPUT(const Bytes challenge,
                HexMember(body, "challenge", "challenge", crypto::kPurseChallengeBytes));
  TRANSIT_OR_REPLY(const crypto::PurseMac mac, op.registry().BlockMac(serial, challenge),
                   (Blame{.invalid = "challenge", .not_found = "serial"}));
  ReplyJson(res, 200, {{"mac", HexEncode(mac)}});
}

// A refund as the wallet and the operator see it: never the card on file itself (a token).
json RefundJson(const Refund& refund) {
  json out = {{"refund_id", refund.refund_id},
              {"card_serial", refund.card_serial},
              {"amount_fen", refund.amount_fen},
              {"reason", refund.reason},
              {"state", RefundStateName(refund.state)},
              {"card_on_file", refund.has_card_on_file}};
  if (!refund.credit_ref.empty()) out["credit_ref"] = refund.credit_ref;
  if (!refund.last_error.empty()) out["last_error"] = refund.last_error;
  return out;
}

void CloseCard(TransitOperator& op, const std::string& serial, const Request& req, Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"final_balance_fen"}));
  TRANSIT_INPUT(const std::optional<std::uint64_t> balance,
                UintMember(body, "final_balance_fen", "final_balance_fen",
                           std::numeric_limits<std::uint32_t>::max()));
  TRANSIT_OR_REPLY(
      const ClosedCard closed,
      op.registry().CloseCard(serial, static_cast<std::uint32_t>(*balance)),
      (Blame{.invalid = "final_balance_fen", .not_found = "serial", .conflict = "serial"}));
  json answer = {{"refund_fen", closed.refund_fen}, {"refund_id", closed.refund_id}};
  if (!closed.refund_id.empty()) {
    // Paid back at once when it can be; a refund that cannot is still recorded as due (a failed
    // credit, or no card on file: the operator pays it by hand), so the close itself succeeded.
    Result<Refund> refund = op.registry().PayRefund(closed.refund_id);
    if (!refund.ok()) refund = op.registry().RefundById(closed.refund_id);
    if (refund.ok()) answer["refund"] = RefundJson(*refund);
  }
  ReplyJson(res, 200, answer);
}

void AccountRefunds(TransitOperator& op, const std::string& account_id, Response& res) {
  TRANSIT_OR_REPLY(const std::vector<Refund> refunds, op.registry().RefundsOfAccount(account_id),
                   (Blame{.invalid = "account_id"}));
  json list = json::array();
  for (const Refund& refund : refunds) list.push_back(RefundJson(refund));
  ReplyJson(res, 200, {{"refunds", list}});
}

void PayRefund(TransitOperator& op, const std::string& refund_id, const Request& req,
               Response& res) {
  TRANSIT_INPUT([[maybe_unused]] const json body, ParseBody(req, {}, /*empty_ok=*/true));
  TRANSIT_OR_REPLY(const Refund refund, op.registry().PayRefund(refund_id),
                   (Blame{.not_found = "refund_id", .conflict = "refund_id"}));
  ReplyJson(res, 200, {{"refund", RefundJson(refund)}});
}

void ReportLost(TransitOperator& op, const std::string& serial, const Request& req, Response& res) {
  TRANSIT_INPUT([[maybe_unused]] const json body, ParseBody(req, {}, /*empty_ok=*/true));
  const Blame blame{.invalid = "serial", .not_found = "serial", .conflict = "serial"};
  if (Status lost = op.registry().ReportLost(serial); !lost.ok()) {
    return ReplyStatus(res, lost, blame);
  }
  GetCard(op, serial, res);
}

void MigrateCard(TransitOperator& op, const std::string& serial, const Request& req,
                 Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"card_id", "account_id", "device_id",
                                                 "device_public_key", "balance_fen"}));
  MigrationRequest request;
  TRANSIT_INPUT(request.card_id, IdMember(body, "card_id"));
  TRANSIT_INPUT(request.account_id, IdMember(body, "account_id"));
  TRANSIT_INPUT(request.device_id, IdMember(body, "device_id"));
  TRANSIT_INPUT(request.device_public_key, DevicePublicKey(body));
  TRANSIT_INPUT(const std::optional<std::uint64_t> balance,
                UintMember(body, "balance_fen", "balance_fen",
                           std::numeric_limits<std::uint32_t>::max(), /*required=*/false));
  std::optional<std::uint32_t> balance_fen;
  if (balance) balance_fen = static_cast<std::uint32_t>(*balance);
  TRANSIT_OR_REPLY(const IssuedCard issued, op.MigrateCard(serial, request, balance_fen),
                   (Blame{.invalid = balance_fen ? "balance_fen" : "device_public_key",
                          .not_found = "serial",
                          .conflict = "serial",
                          .exists = "card_id"}));
  ReplyIssued(op, res, issued);
}

Result<std::vector<PurseLogRecord>> ParseLog(const json& body) {
  const auto it = body.find("log");
  if (it == body.end()) return InvalidArgument("log: required");
  if (!it->is_array() || it->size() > kLogRecordsMax) {
    return InvalidArgument("log: expected an array of at most " + std::to_string(kLogRecordsMax) +
                           " records (SFI 18)");
  }
  std::vector<PurseLogRecord> log;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string at = "log[" + std::to_string(i) + "]";
    const json& entry = (*it)[i];
    if (!entry.is_object()) return InvalidArgument(at + ": expected an object");
    for (const auto& [key, value] : entry.items()) {
      if (key != "counter" && key != "amount_fen" && key != "type" && key != "terminal_id" &&
          key != "date_time") {
        return InvalidArgument(at + "." + key +
                               ": unknown field; expected one of counter, amount_fen, type, "
                               "terminal_id, date_time");
      }
    }
    PurseLogRecord record;
    TS_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> counter,
                        UintMember(entry, at + ".counter", "counter", 0xFFFF));
    record.counter = static_cast<std::uint16_t>(*counter);
    TS_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> amount,
                        UintMember(entry, at + ".amount_fen", "amount_fen", 0xFFFFFFFFu));
    record.amount_fen = static_cast<std::uint32_t>(*amount);
    TS_ASSIGN_OR_RETURN(const Bytes type, HexMember(entry, at + ".type", "type", 1));
    record.type = type[0];
    TS_ASSIGN_OR_RETURN(const Bytes terminal,
                        HexMember(entry, at + ".terminal_id", "terminal_id", kTerminalIdBytes));
    std::copy(terminal.begin(), terminal.end(), record.terminal_id.begin());
    TS_ASSIGN_OR_RETURN(const std::string date_time,
                        StringMember(entry, at + ".date_time", "date_time"));
    Result<Bytes> bcd = BcdEncode(date_time);
    if (date_time.size() != 2 * kBcdDateTimeBytes || !IsAllDigits(date_time) || !bcd.ok() ||
        !FromBcdDateTime(*bcd).ok()) {
      return InvalidArgument(at + ".date_time: expected YYYYMMDDhhmmss");
    }
    record.date_time = std::move(*bcd);
    log.push_back(std::move(record));
  }
  return log;
}

void Reconcile(TransitOperator& op, const std::string& serial, const Request& req, Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"log"}));
  Result<std::vector<PurseLogRecord>> log = ParseLog(body);
  if (!log.ok()) return ReplyInvalid(res, log.status(), BodyField(log.status()));
  TRANSIT_OR_REPLY(const TransitCardInfo card, op.registry().Card(serial),
                   (Blame{.invalid = "serial", .not_found = "serial"}));
  TRANSIT_OR_REPLY(const ReconcileReport report,
                   op.load_server().ReconcileFromCardLog(card.serial, *log),
                   (Blame{.invalid = "log", .not_found = "serial", .conflict = "serial"}));
  ReplyJson(res, 200,
            {{"loaded", report.loaded},
             {"needs_review", report.needs_review},
             {"anomalies", report.anomalies}});
}

void CreateOrder(TransitOperator& op, const Request& req, Response& res) {
  TRANSIT_INPUT(const json body,
                ParseBody(req, {"order_id", "card_serial", "amount_fen", "payment_data"}));
  TRANSIT_INPUT(const std::string order_id, IdMember(body, "order_id"));
  TRANSIT_INPUT(const std::string serial, StringMember(body, "card_serial", "card_serial"));
  if (Status s = CheckSerial("card_serial", serial); !s.ok()) {
    return ReplyInvalid(res, s, "card_serial");
  }
  TRANSIT_INPUT(
      const std::optional<std::uint64_t> amount,
      UintMember(body, "amount_fen", "amount_fen", std::numeric_limits<std::uint32_t>::max()));
  TRANSIT_INPUT(const json payment_data, PaymentData(body, true));
  Result<LoadOrder> order = op.load_server().CreateOrder(
      order_id, serial, static_cast<std::uint32_t>(*amount), payment_data);
  if (!order.ok()) {
    // A refusal about the card (not active) blames card_serial; a declined payment the order.
    const bool about_card = order.status().message().rfind("card ", 0) == 0;
    return ReplyStatus(res, order.status(),
                       {.invalid = "amount_fen",
                        .not_found = "card_serial",
                        .conflict = about_card ? "card_serial" : "payment_data",
                        .exists = "order_id"});
  }
  ReplyJson(res, 201, {{"order", OrderJson(*order)}});
}

// What the wallet needs to pay an order in-app (TopUpPayment::PaymentRequest): for a top-up the
// order's own id, for an opening fee "open-<card_id>".
void PaymentRequest(TransitOperator& op, const Request& req, Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"order_id", "amount_fen"}));
  TRANSIT_INPUT(const std::string order_id, IdMember(body, "order_id"));
  TRANSIT_INPUT(
      const std::optional<std::uint64_t> amount,
      UintMember(body, "amount_fen", "amount_fen", std::numeric_limits<std::uint32_t>::max()));
  TRANSIT_OR_REPLY(const json request, op.payment().PaymentRequest(order_id, static_cast<std::uint32_t>(*amount)),
                   (Blame{.invalid = "order_id"}));
  ReplyJson(res, 200, request);
}

void GetOrder(TransitOperator& op, const std::string& order_id, Response& res) {
  TRANSIT_OR_REPLY(const LoadOrder order, op.load_server().Order(order_id),
                   (Blame{.invalid = "order_id", .not_found = "order_id"}));
  ReplyJson(res, 200, {{"order", OrderJson(order)}});
}

void AuthorizeLoad(TransitOperator& op, const std::string& order_id, const Request& req,
                   Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"init_for_load"}));
  TRANSIT_INPUT(const Bytes answer,
                HexMember(body, "init_for_load", "init_for_load", kLoadInitAnswerBytes));
  TRANSIT_OR_REPLY(
      const LoadAuthorization auth, op.load_server().AuthorizeLoad(order_id, answer),
      (Blame{.invalid = "init_for_load", .not_found = "order_id", .conflict = "order_id"}));
  ReplyJson(res, 200,
            {{"date", HexEncode(auth.date)},
             {"time", HexEncode(auth.time)},
             {"mac2", HexEncode(auth.mac2)},
             {"terminal_id", HexEncode(auth.terminal_id)}});
}

void ConfirmLoad(TransitOperator& op, const std::string& order_id, const Request& req,
                 Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"tac"}));
  TRANSIT_INPUT(const Bytes tac, HexMember(body, "tac", "tac", crypto::kPurseMacBytes));
  TRANSIT_OR_REPLY(const LoadOrder order, op.load_server().ConfirmLoad(order_id, tac),
                   (Blame{.invalid = "tac", .not_found = "order_id", .conflict = "order_id"}));
  ReplyJson(res, 200, {{"order", OrderJson(order)}});
}

void CancelOrder(TransitOperator& op, const std::string& order_id, const Request& req,
                 Response& res) {
  TRANSIT_INPUT(const json body, ParseBody(req, {"online_counter"}));
  TRANSIT_INPUT(const std::optional<std::uint64_t> counter,
                UintMember(body, "online_counter", "online_counter", 0xFFFF));
  TRANSIT_OR_REPLY(
      const LoadOrder order,
      op.load_server().CancelOrder(order_id, static_cast<std::uint16_t>(*counter)),
      (Blame{.invalid = "online_counter", .not_found = "order_id", .conflict = "order_id"}));
  ReplyJson(res, 200, {{"order", OrderJson(order)}});
}

// The field a Clearing::IngestUpload error names: `upload: "batch_id" must ...` -> batch_id;
// `upload: records[3]: record field "type" must ...` -> records[3].type.
std::string UploadField(std::string_view message) {
  constexpr std::string_view kPrefix = "upload: ";
  if (message.rfind(kPrefix, 0) == 0) message.remove_prefix(kPrefix.size());
  if (!message.empty() && message[0] == '"') {
    const std::size_t end = message.find('"', 1);
    if (end != std::string_view::npos) return std::string(message.substr(1, end - 1));
  }
  if (message.rfind("records[", 0) != 0) return "records";
  const std::size_t close = message.find(']');
  if (close == std::string_view::npos) return "records";
  std::string field(message.substr(0, close + 1));
  std::string_view rest = message.substr(close + 1);
  if (rest.rfind(": ", 0) == 0) rest.remove_prefix(2);
  constexpr std::string_view kRecordField = "record field \"";
  if (rest.rfind(kRecordField, 0) == 0) {
    rest.remove_prefix(kRecordField.size());
    const std::size_t end = rest.find('"');
    if (end != std::string_view::npos) return field + "." + std::string(rest.substr(0, end));
  }
  // "psam_number must be ...", "local_time must be ...": a member name with an underscore.
  const std::size_t space = rest.find(' ');
  const std::string_view word = rest.substr(0, space);
  if (word.find('_') != std::string_view::npos && std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || c == '_';
      })) {
    return field + "." + std::string(word);
  }
  return field;
}

void Upload(TransitNetwork& network, TransitOperator& op, const Request& req, Response& res) {
  TRANSIT_INPUT(const json body,
                ParseBody(req, {"batch_id", "validator_id", "records", "blocked_cards"},
                          /*empty_ok=*/false, kTransitUploadBodyBytesMax));
  TRANSIT_INPUT(const std::string batch_id, StringMember(body, "batch_id", "batch_id"));
  if (batch_id.empty() || batch_id.size() > kBatchIdBytesMax) {
    return ReplyError(res, 400, "invalid_argument",
                      "batch_id: expected 1-" + std::to_string(kBatchIdBytesMax) + " characters",
                      "batch_id");
  }
  TRANSIT_INPUT(const std::string validator_id, StringMember(body, "validator_id", "validator_id"));
  if (Status s = CheckId("validator_id", validator_id); !s.ok()) {
    return ReplyInvalid(res, s, "validator_id");
  }
  if (!body.contains("records")) {
    return ReplyError(res, 400, "invalid_argument", "records: required", "records");
  }
  Result<UploadResult> result = network.IngestUpload(op.city().city_code(), body);
  if (!result.ok()) {
    if (result.status().code() == ErrorCode::kInvalidArgument) {
      return ReplyInvalid(res, result.status(), UploadField(result.status().message()));
    }
    return ReplyStatus(res, result.status(), {});
  }
  ReplyJson(res, 200, UploadResultToJson(*result));
}

void Reference(TransitNetwork& network, TransitOperator& op, Response& res) {
  TRANSIT_OR_REPLY(const BlacklistSnapshot blacklist, op.registry().Blacklist(), Blame{});
  TRANSIT_OR_REPLY(const json* seed, network.CitySeed(op.city().city_code()),
                   (Blame{.not_found = "city"}));
  json entries = json::array();
  for (const BlacklistEntry& e : blacklist.entries) {
    entries.push_back({{"card_serial", e.card_serial}, {"algorithm", AlgorithmName(e.algorithm)}});
  }
  ReplyJson(res, 200,
            {{"blacklist_version", blacklist.version}, {"blacklist", entries}, {"city", *seed}});
}

void Settlement(TransitOperator& op, Response& res) {
  TRANSIT_OR_REPLY(const std::vector<SettlementPosition> positions, op.clearing().Positions(),
                   Blame{});
  json list = json::array();
  for (const SettlementPosition& p : positions) {
    list.push_back({{"counterparty_city", p.counterparty_city},
                    {"owed_to_us_fen", p.owed_to_us_fen},
                    {"owed_by_us_fen", p.owed_by_us_fen},
                    {"records", p.records}});
  }
  ReplyJson(res, 200, {{"positions", list}});
}

void Anomalies(TransitOperator& op, Response& res) {
  TRANSIT_OR_REPLY(const std::vector<Anomaly> anomalies, op.clearing().Anomalies(), Blame{});
  json list = json::array();
  for (const Anomaly& a : anomalies) {
    list.push_back({{"id", a.id},
                    {"card_serial", a.card_serial},
                    {"kind", a.kind},
                    {"detail", a.detail},
                    {"dedup_key", a.dedup_key}});
  }
  ReplyJson(res, 200, {{"anomalies", list}});
}

}  // namespace

void InstallTransitRoutes(httplib::Server& server, TransitNetwork& network) {
  TransitNetwork* n = &network;
  const std::string city = kCityPath;
  const std::string card = city + "/cards" + kSegment;
  const std::string order = city + "/orders" + kSegment;

  server.Get("/v1/transit/cities", [n](const Request&, Response& res) { Cities(*n, res); });
  server.Post(city + "/cards", [n](const Request& req, Response& res) {
    if (TransitOperator* op = OperatorOf(*n, req, res)) IssueCard(*op, req, res);
  });
  server.Get(card, [n](const Request& req, Response& res) {
    TransitOperator* op = OperatorOf(*n, req, res);
    if (op == nullptr) return;
    if (auto serial = PathId(req, res, 2, "serial", CheckSerial)) GetCard(*op, *serial, res);
  });
  server.Get(city + "/accounts" + kSegment + "/cards", [n](const Request& req, Response& res) {
    TransitOperator* op = OperatorOf(*n, req, res);
    if (op == nullptr) return;
    if (auto account = PathId(req, res, 2, "account_id", CheckId)) {
      AccountCards(*op, *account, res);
    }
  });
  server.Get(city + "/accounts" + kSegment + "/refunds", [n](const Request& req, Response& res) {
    TransitOperator* op = OperatorOf(*n, req, res);
    if (op == nullptr) return;
    if (auto account = PathId(req, res, 2, "account_id", CheckId)) {
      AccountRefunds(*op, *account, res);
    }
  });
  server.Post(city + "/refunds" + kSegment + "/pay", [n](const Request& req, Response& res) {
    TransitOperator* op = OperatorOf(*n, req, res);
    if (op == nullptr) return;
    if (auto id = PathId(req, res, 2, "refund_id", CheckId)) PayRefund(*op, *id, req, res);
  });
  server.Post(
      card + "/(block-mac|close|lost|migrate|reconcile)", [n](const Request& req, Response& res) {
        TransitOperator* op = OperatorOf(*n, req, res);
        if (op == nullptr) return;
        const std::optional<std::string> serial = PathId(req, res, 2, "serial", CheckSerial);
        if (!serial) return;
        const std::string action = req.matches[3].str();
        if (action == "block-mac") return BlockMac(*op, *serial, req, res);
        if (action == "close") return CloseCard(*op, *serial, req, res);
        if (action == "lost") return ReportLost(*op, *serial, req, res);
        if (action == "migrate") return MigrateCard(*op, *serial, req, res);
        Reconcile(*op, *serial, req, res);
      });
  server.Post(city + "/payment-requests", [n](const Request& req, Response& res) {
    if (TransitOperator* op = OperatorOf(*n, req, res)) PaymentRequest(*op, req, res);
  });
  server.Post(city + "/orders", [n](const Request& req, Response& res) {
    if (TransitOperator* op = OperatorOf(*n, req, res)) CreateOrder(*op, req, res);
  });
  server.Get(order, [n](const Request& req, Response& res) {
    TransitOperator* op = OperatorOf(*n, req, res);
    if (op == nullptr) return;
    if (auto id = PathId(req, res, 2, "order_id", CheckId)) GetOrder(*op, *id, res);
  });
  server.Post(order + "/(load|confirm|cancel)", [n](const Request& req, Response& res) {
    TransitOperator* op = OperatorOf(*n, req, res);
    if (op == nullptr) return;
    const std::optional<std::string> id = PathId(req, res, 2, "order_id", CheckId);
    if (!id) return;
    const std::string action = req.matches[3].str();
    if (action == "load") return AuthorizeLoad(*op, *id, req, res);
    if (action == "confirm") return ConfirmLoad(*op, *id, req, res);
    CancelOrder(*op, *id, req, res);
  });
  server.Post(city + "/uploads", [n](const Request& req, Response& res) {
    if (TransitOperator* op = OperatorOf(*n, req, res)) Upload(*n, *op, req, res);
  });
  server.Get(city + "/(reference|settlement|anomalies)", [n](const Request& req, Response& res) {
    TransitOperator* op = OperatorOf(*n, req, res);
    if (op == nullptr) return;
    const std::string what = req.matches[2].str();
    if (what == "reference") return Reference(*n, *op, res);
    if (what == "settlement") return Settlement(*op, res);
    Anomalies(*op, res);
  });
}

}  // namespace tapstack::transit
