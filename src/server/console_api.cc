#include "server/console_api.h"

#include "server/network_node.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/bytes.h"
#include "core/currency.h"
#include "json_api/json_api.h"
#include "network/journal.h"
#include "server/console_journal.h"
#include "server/network_node.h"
#include "tsp/token_keys.h"
#include "tsp/token_state.h"

namespace tapstack::server {

namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

constexpr char kTokenIdPattern[] = "([A-Za-z0-9_.-]{1,64})";

void ReplyStatus(Response& res, const Status& status) {
  int http = 500;
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange: http = 400; break;
    case ErrorCode::kNotFound: http = 404; break;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: http = 409; break;
    case ErrorCode::kUnavailable: http = 503; break;
    default: break;
  }
  // A 500 says what failed without internals (no stack traces; the log has the details).
  if (http == 500) spdlog::error("console: {}", status.ToString());
  json_api::ReplyError(res, http, ErrorCodeName(status.code()), status.message(),
                       http == 500 ? "" : json_api::FieldOf(status.message()));
}

// The sign-in body holds the console password; httplib owns it, but nothing reads it after the
// handler, so it is overwritten in place (as the wallet's sign-in does).
void WipeRequestBody(const Request& req) {
  std::string& body = const_cast<std::string&>(req.body);
  SecureWipe(body.data(), body.size());
}

Result<json> ParseBody(const Request& req) {
  if (req.body.size() > kConsoleBodyBytesMax) {
    return OutOfRange("body: larger than " + std::to_string(kConsoleBodyBytesMax) + " bytes");
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return InvalidArgument("body: expected a JSON object");
  return body;
}

Result<std::string> StringField(const json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_string()) {
    return InvalidArgument(std::string(name) + ": expected a string");
  }
  return body[name].get<std::string>();
}

// A query parameter as an integer in [min, max], or `fallback` when absent.
Result<std::int64_t> IntParam(const Request& req, const char* name, std::int64_t fallback,
                              std::int64_t min, std::int64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return InvalidArgument(std::string(name) + ": expected an integer from " + std::to_string(min) +
                           " to " + std::to_string(max));
  }
  return value;
}

json SampleJson(const MetricsSample& s) {
  return {{"unix_ms", s.unix_ms},
          {"interval_seconds", s.interval_seconds},
          {"requests", s.requests},
          {"approved", s.approved},
          {"declined", s.declined},
          {"stand_in", s.stand_in},
          {"requests_per_second", s.requests_per_second},
          {"approved_per_second", s.approved_per_second},
          {"declined_per_second", s.declined_per_second},
          {"stand_in_per_second", s.stand_in_per_second},
          {"approval_rate", s.approval_rate ? json(*s.approval_rate) : json(nullptr)},
          {"answered", s.answered},
          {"latency_p50_micros", s.latency_p50_micros},
          {"latency_p90_micros", s.latency_p90_micros},
          {"latency_p99_micros", s.latency_p99_micros}};
}

json TotalsJson(const MetricsTotals& t) {
  const std::uint64_t answered = t.approved + t.declined;
  return {{"requests", t.requests},
          {"approved", t.approved},
          {"declined", t.declined},
          {"stand_in_approved", t.stand_in_approved},
          {"stand_in_declined", t.stand_in_declined},
          {"approval_rate", answered > 0 ? json(static_cast<double>(t.approved) / static_cast<double>(answered))
                                         : json(nullptr)},
          {"answered", t.answered},
          {"latency_p50_micros", t.latency_p50_micros},
          {"latency_p90_micros", t.latency_p90_micros},
          {"latency_p99_micros", t.latency_p99_micros},
          {"latency_max_micros", t.latency_max_micros}};
}

json TransactionJson(const JournalTransaction& t) {
  json messages = json::array();
  for (const network::JournalEntry& e : t.messages) {
    // The journal's JSON is masked already (network/journal.h); parsed so the answer nests it.
    json message = json::parse(e.message_json, nullptr, /*allow_exceptions=*/false);
    messages.push_back({{"entry_id", e.entry_id},
                        {"unix_ms", e.unix_ms},
                        {"direction", e.direction},
                        {"peer", e.peer},
                        {"mti", e.mti},
                        {"stan", e.stan},
                        {"masked_pan", e.masked_pan},
                        {"response_code", e.response_code},
                        {"message", message.is_discarded() ? json(nullptr) : message}});
  }
  json amount = nullptr;
  std::int64_t minor = 0;
  if (!t.amount_minor.empty() &&
      std::from_chars(t.amount_minor.data(), t.amount_minor.data() + t.amount_minor.size(), minor).ec ==
          std::errc()) {
    amount = minor;
  }
  json currency = nullptr;
  int numeric = 0;
  if (!t.currency.empty() &&
      std::from_chars(t.currency.data(), t.currency.data() + t.currency.size(), numeric).ec == std::errc()) {
    if (auto c = CurrencyByNumeric(static_cast<std::uint16_t>(numeric)); c.ok()) currency = (*c)->alpha;
  }
  return {{"stan", t.stan},
          {"transmission_time", t.transmission_time},
          {"terminal_id", t.terminal_id},
          {"masked_pan", t.masked_pan},
          {"mti", t.mti},
          {"response_code", t.response_code},
          {"approved", t.response_code == "00"},
          {"amount_minor", amount},
          {"currency", currency},
          {"first_unix_ms", t.first_unix_ms},
          {"last_unix_ms", t.last_unix_ms},
          {"messages", messages}};
}

json TokenJson(const tsp::TokenView& view) {
  const tsp::TokenRecord& r = view.record;
  return {{"token_id", r.token_id},
          // The token is not the card, but the console has no need of the whole number either.
          {"masked_token", network::MaskCardNumber(r.token_number)},
          {"token_expiry", r.token_expiry},
          {"masked_pan", r.masked_pan},
          {"par", r.par},
          {"requestor_id", r.requestor_id},
          {"device_id", r.device_id},
          {"state", std::string(tsp::TokenStateName(r.state))},
          {"suspended_by", r.suspended_by ? json(std::string(tsp::InitiatorKindName(*r.suspended_by)))
                                          : json(nullptr)},
          {"storage", std::string(tsp::KeyStorageName(view.storage))},
          {"created_unix_ms", r.created_unix_ms},
          {"updated_unix_ms", r.updated_unix_ms}};
}

// The bank names by institution id, for the settlement table.
std::map<std::string, std::string> BankNames(network::Switch& network) {
  std::map<std::string, std::string> names;
  for (const network::IssuerLinkState& l : network.IssuerLinks()) names[l.institution_id] = l.name;
  return names;
}

// A settlement report (SettlementReport::ToJson's shape) with each position's bank name.
json NamedReport(json report, const std::map<std::string, std::string>& names) {
  if (report.contains("positions") && report["positions"].is_array()) {
    for (json& p : report["positions"]) {
      const std::string id = p.value("institution_id", "");
      auto it = names.find(id);
      p["bank_name"] = it != names.end() ? json(it->second) : json(nullptr);
    }
  }
  return report;
}

// The highest cycle-N.json under <data_dir>/settlement, parsed; null when there is none.
Result<json> LastSettlementReport(const std::filesystem::path& data_dir) {
  const std::filesystem::path dir = data_dir / kSettlementSubdir;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return json(nullptr);
  std::int64_t best = 0;
  std::filesystem::path best_path;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("cycle-") || !name.ends_with(".json")) continue;
    const std::string digits = name.substr(6, name.size() - 6 - 5);
    std::int64_t cycle = 0;
    auto [end, parse_ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cycle);
    if (parse_ec != std::errc() || end != digits.data() + digits.size()) continue;
    if (cycle > best) {
      best = cycle;
      best_path = entry.path();
    }
  }
  if (ec) return IoError("cannot list " + dir.string() + ": " + ec.message());
  if (best == 0) return json(nullptr);
  std::ifstream in(best_path);
  std::stringstream text;
  text << in.rdbuf();
  json report = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) return Corruption(best_path.string() + ": not JSON");
  return report;
}

// The digital currency's supply and blocked devices (dcep/dcep_network.h AuditNetwork: issued =
// Σ operator positions at the central bank; each operator's position = what it holds).
Result<json> DcepOverview(dcep::DcepNetwork& dcep) {
  TS_ASSIGN_OR_RETURN(const dcep::NetworkAudit audit, dcep.AuditNetwork());
  const dcep::CentralBankAudit& bank = audit.central_bank;
  json positions = json::array();
  for (const dcep::OperatorPosition& p : bank.positions) {
    positions.push_back({{"operator_id", p.operator_id},
                         {"position_fen", p.position_fen},
                         {"reserve_fen", p.reserve_fen}});
  }
  std::map<std::string, std::string> names;
  for (const dcep::OperatorInfo& op : dcep.config().operators) names[op.id] = op.name;
  json operators = json::array();
  std::int64_t held_total = 0;
  for (const auto& [id, a] : audit.operators) {
    const std::int64_t held = a.float_fen + a.wallets_fen + a.purses_fen + a.escrows_fen + a.holds_fen;
    held_total += held;
    json revoked = json::array();
    std::uint32_t list_version = 0;
    if (auto wallets = dcep.hardware_wallets(id); wallets.ok()) {
      TS_ASSIGN_OR_RETURN(const dcep::RevocationList list, (*wallets)->authority().CurrentRevocationList());
      list_version = list.version;
      for (const dcep::RevocationEntry& e : list.entries) {
        revoked.push_back({{"device_id", e.device_id},
                           {"serial", e.serial},
                           {"reason", e.reason},
                           {"revoked_unix_ms", e.revoked_unix_ms}});
      }
    }
    operators.push_back({{"id", id},
                         {"name", names.contains(id) ? json(names[id]) : json(nullptr)},
                         {"position_fen", a.position_fen},
                         {"held_fen", held},
                         {"float_fen", a.float_fen},
                         {"wallets_fen", a.wallets_fen},
                         {"purses_fen", a.purses_fen},
                         {"escrows_fen", a.escrows_fen},
                         {"holds_fen", a.holds_fen},
                         {"wallets", a.wallets},
                         {"revocation_list_version", list_version},
                         {"revoked_devices", revoked}});
  }
  return json{{"central_bank",
               {{"issued_fen", bank.issued_fen},
                {"positions_sum_fen", bank.positions_sum_fen},
                {"reserves_sum_fen", bank.reserves_sum_fen},
                {"liability_fen", bank.liability_fen},
                {"positions", positions}}},
              {"held_fen", held_total},
              // What the audit just checked, stated for the page: every fen issued is held somewhere.
              {"balanced", bank.issued_fen == bank.positions_sum_fen && bank.issued_fen == held_total},
              {"operators", operators}};
}

}  // namespace

Result<std::unique_ptr<ConsoleApi>> ConsoleApi::Create(ConsoleOptions options) {
  if (options.user.empty()) return InvalidArgument("console user: required");
  if (options.password.empty()) return InvalidArgument("console password: required");
  if (options.network == nullptr) return InvalidArgument("network: required");
  std::unique_ptr<ConsoleApi> api(new ConsoleApi());
  api->options_ = std::move(options);
  const Clock& clock = api->options_.clock ? *api->options_.clock : SystemClock::Instance();
  RandomSource& random = api->options_.random ? *api->options_.random : api->csprng_;
  api->sessions_ = std::make_unique<ConsoleSessions>(api->options_.user, api->options_.password,
                                                     clock, random);
  api->metrics_ = std::make_unique<ConsoleMetrics>(api->options_.network->stats(),
                                                   api->options_.network->latency(), clock);
  return api;
}

ConsoleApi::~ConsoleApi() { Stop(); }

void ConsoleApi::InstallRoutes(httplib::Server& server) {
  ConsoleSessions* sessions = sessions_.get();
  ConsoleMetrics* metrics = metrics_.get();
  network::Switch* network = options_.network;
  tsp::TspService* tsp = options_.tsp;
  const std::vector<std::string> requestors = options_.token_requestor_ids;
  const std::filesystem::path data_dir = options_.data_dir;

  // Runs `handler` for a request with a live console session, else answers 401.
  auto authed = [sessions](auto handler) {
    return [sessions, handler](const Request& req, Response& res) {
      const std::string auth = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      Status session = NotFound("expected Authorization: Bearer <console session>");
      if (auth.starts_with(kBearer)) session = sessions->Check(std::string_view(auth).substr(kBearer.size()));
      if (!session.ok()) {
        res.set_header("WWW-Authenticate", "Bearer");
        return json_api::ReplyError(res, 401, "unauthenticated", session.message(), "Authorization");
      }
      handler(req, res);
    };
  };

  server.Post("/v1/console/sessions", [sessions](const Request& req, Response& res) {
    auto body = ParseBody(req);
    if (!body.ok()) return ReplyStatus(res, body.status());
    auto user = StringField(*body, "user");
    auto password = StringField(*body, "password");
    // The password's copies are wiped before anything can return.
    if (body->contains("password") && (*body)["password"].is_string()) {
      std::string& copy = (*body)["password"].get_ref<std::string&>();
      SecureWipe(copy.data(), copy.size());
    }
    WipeRequestBody(req);
    if (!user.ok()) return ReplyStatus(res, user.status());
    if (!password.ok()) return ReplyStatus(res, password.status());
    const SignInResult result = sessions->SignIn(*user, *password);
    SecureWipe(password->data(), password->size());
    switch (result.refusal) {
      case SignInRefusal::kNone:
        return json_api::ReplyJson(res, 201, {{"session", result.session.token},
                                {"expires_unix_ms", result.session.expires_unix_ms}});
      case SignInRefusal::kBadCredentials:
        return json_api::ReplyError(res, 401, "unauthenticated", result.message);
      case SignInRefusal::kRateLimited: {
        res.set_header("Retry-After", std::to_string(result.retry_after_seconds));
        return json_api::ReplyJson(res, 429, {{"error", "rate_limited"},
                                {"message", result.message},
                                {"retry_after_seconds", result.retry_after_seconds}});
      }
      case SignInRefusal::kBadInput:
        return json_api::ReplyError(res, 400, "invalid_argument", result.message, json_api::FieldOf(result.message));
      case SignInRefusal::kInternal:
        spdlog::error("console: {}", result.message);
        return json_api::ReplyError(res, 500, "internal", "cannot start a session");
    }
  });

  server.Delete("/v1/console/sessions/current", authed([sessions](const Request& req, Response& res) {
                  sessions->SignOut(std::string_view(req.get_header_value("Authorization")).substr(7));
                  res.status = 204;
                }));

  server.Get("/v1/console/metrics", authed([metrics](const Request& req, Response& res) {
               auto seconds = IntParam(req, "seconds", kConsoleMetricsSecondsDefault, 1, kMetricsSecondsMax);
               if (!seconds.ok()) return ReplyStatus(res, seconds.status());
               json samples = json::array();
               for (const MetricsSample& s : metrics->Recent(static_cast<int>(*seconds))) {
                 samples.push_back(SampleJson(s));
               }
               json_api::ReplyJson(res, 200, {{"interval_ms", kMetricsSampleIntervalMs},
                                {"samples", samples},
                                {"totals", TotalsJson(metrics->Totals())}});
             }));

  server.Get("/v1/console/links", authed([network](const Request&, Response& res) {
               json issuers = json::array();
               std::int64_t pending = 0;
               for (const network::IssuerLinkState& l : network->IssuerLinks()) {
                 pending += l.advices_pending;
                 issuers.push_back({{"institution_id", l.institution_id},
                                    {"name", l.name},
                                    {"ready", l.ready},
                                    {"advices_pending", l.advices_pending},
                                    {"stand_in_approved", l.stand_in_approved},
                                    {"stand_in_declined", l.stand_in_declined}});
               }
               json_api::ReplyJson(res, 200, {{"issuers", issuers}, {"advices_pending_total", pending}});
             }));

  server.Get("/v1/console/transactions", authed([network](const Request& req, Response& res) {
               JournalSearch search;
               search.masked_pan = req.get_param_value("masked_pan");
               search.last4 = req.get_param_value("last4");
               auto limit = IntParam(req, "limit", kConsoleTransactionsDefault, 1, kConsoleTransactionsMax);
               if (!limit.ok()) return ReplyStatus(res, limit.status());
               search.limit = static_cast<std::size_t>(*limit);
               auto found = SearchJournal(*network, search);
               if (!found.ok()) return ReplyStatus(res, found.status());
               json list = json::array();
               for (const JournalTransaction& t : *found) list.push_back(TransactionJson(t));
               json_api::ReplyJson(res, 200, {{"transactions", list}});
             }));

  const std::string token_path = std::string("/v1/console/tokens/") + kTokenIdPattern;
  server.Get(token_path, authed([tsp, requestors](const Request& req, Response& res) {
               if (tsp == nullptr) return json_api::ReplyError(res, 503, "unavailable", "no token service in this node");
               const std::string token_id = req.matches[1].str();
               for (const std::string& requestor : requestors) {
                 auto view = tsp->GetToken(requestor, token_id);
                 if (view.ok()) return json_api::ReplyJson(res, 200, {{"token", TokenJson(*view)}});
                 if (view.status().code() != ErrorCode::kNotFound) return ReplyStatus(res, view.status());
               }
               json_api::ReplyError(res, 404, "not_found", "token_id: no such token", "token_id");
             }));
  server.Post(token_path + "/(suspend|resume|delete)",
              authed([tsp, requestors](const Request& req, Response& res) {
                if (tsp == nullptr) return json_api::ReplyError(res, 503, "unavailable", "no token service in this node");
                const std::string token_id = req.matches[1].str();
                const std::string verb = req.matches[2].str();
                auto body = ParseBody(req);
                if (!body.ok()) return ReplyStatus(res, body.status());
                auto reason = StringField(*body, "reason");
                if (!reason.ok()) return ReplyStatus(res, reason.status());
                if (reason->empty()) {
                  return json_api::ReplyError(res, 400, "invalid_argument", "reason: required (for the audit log)", "reason");
                }
                const tsp::LifecycleAction action = verb == "suspend"  ? tsp::LifecycleAction::kSuspend
                                                    : verb == "resume" ? tsp::LifecycleAction::kResume
                                                                       : tsp::LifecycleAction::kDelete;
                auto changed = tsp->IssuerChange(token_id, action, kConsoleActorId, *reason);
                if (!changed.ok()) {
                  if (changed.status().code() == ErrorCode::kNotFound) {
                    return json_api::ReplyError(res, 404, "not_found", "token_id: no such token", "token_id");
                  }
                  return ReplyStatus(res, changed.status());
                }
                spdlog::info("console: token {} {} ({})", token_id, verb, *reason);
                // The answer as GET shows it (the storage comes from the requestor's view).
                auto view = tsp->GetToken(changed->requestor_id, token_id);
                tsp::TokenView shown{*changed};
                if (view.ok()) shown = *view;
                json_api::ReplyJson(res, 200, {{"token", TokenJson(shown)}});
              }));

  dcep::DcepNetwork* dcep = options_.dcep;
  server.Get("/v1/console/dcep", authed([dcep](const Request&, Response& res) {
               if (dcep == nullptr) {
                 return json_api::ReplyError(res, 503, "unavailable", "digital currency is not running in this node");
               }
               auto overview = DcepOverview(*dcep);
               // kFailedPrecondition: a payment between operators is in flight; the page retries.
               if (!overview.ok()) return ReplyStatus(res, overview.status());
               json_api::ReplyJson(res, 200, *overview);
             }));

  server.Get("/v1/console/settlement", authed([network, data_dir](const Request&, Response& res) {
               auto report = LastSettlementReport(data_dir);
               if (!report.ok()) return ReplyStatus(res, report.status());
               network::ClearingFilter open;
               auto records = network->ClearingRecords(open);
               if (!records.ok()) return ReplyStatus(res, records.status());
               const auto names = BankNames(*network);
               json_api::ReplyJson(res, 200, {{"report", report->is_null() ? json(nullptr) : NamedReport(*report, names)},
                                {"open_records", records->size()}});
             }));

  server.Post("/v1/console/settlement/cutoff", authed([network, data_dir](const Request&, Response& res) {
                // Written where POST /v1/settlement/cutoff writes, so the last report is found
                // whichever route closed the cycle.
                auto report = CutOffSettlement(*network, data_dir);
                if (!report.ok()) return ReplyStatus(res, report.status());
                const auto names = BankNames(*network);
                json_api::ReplyJson(res, 200, {{"report", NamedReport(json::parse(report->ToJson()), names)},
                                 {"open_records", 0}});
              }));
}

}  // namespace tapstack::server
