#include "network/switch.h"

#include <algorithm>
#include <deque>

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/hex.h"
#include "iso8583/codec.h"
#include "iso8583/mti.h"
#include "iso8583/original_data_elements.h"
#include "iso8583/processing_code.h"
#include "iso8583/response.h"
#include "iso8583/token_data.h"
#include "network/journal.h"
#include "store/migration.h"

namespace tapstack::network {

using iso8583::ResponseTo;

namespace {

// A new clearing record: an approval, or the tombstone of a reversal whose original the switch
// never saw (so a late original is never settled). Same columns, different constant values.
const std::string kClearingColumns =
    "INSERT INTO clearing_records (record_id, match_key, issuer_id, acquirer_id, masked_pan, "
    "txn_currency, txn_amount_minor, billing_currency, billing_amount_minor, fx_rate, approval_code, "
    "stand_in, reversed, settled_cycle, created_unix_ms, terminal_id, original_mti, "
    "authorized_amount_minor, fx_mantissa, fx_scale, fx_markup_bps, completed, reconciled, "
    "credit) ";
const std::string kInsertApprovedSql =
    kClearingColumns +
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, 0, ?, ?, ?, ?, ?, ?, ?, FALSE, FALSE, "
    "?) ON CONFLICT (match_key) DO NOTHING";
const std::string kInsertReversedSql =
    kClearingColumns +
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', FALSE, TRUE, 0, ?, ?, ?, ?, 1, 0, 0, FALSE, "
    "FALSE, ?) ON CONFLICT (match_key) DO NOTHING";

// A credit to the card (a refund or a payment to it) moves money from the acquirer to the issuer.
bool IsCredit(const iso8583::Message& m) { return iso8583::IsCreditProcessingCode(m.Get(3)); }


// DE48 sub-element carrying the TSP's tag 91 value (hex) from the TSP step to Finish
// (token_service.h). tapstack-private, like the rest of DE48's layout.
constexpr std::string_view kIssuerAuthenticationTag = "IA";

// Removes DE48 tag C2 (the CVV2) from a message the switch is about to store.
void StripCardSecurityCode(iso8583::Message& m) {
  auto de48 = m.Get(48);
  if (!de48) return;
  auto data = iso8583::TokenData::Parse(*de48);
  if (!data.ok()) {
    m.Clear(48);  // unparsable: it cannot be shown to hold no CVV2
    return;
  }
  if (!data->Get(iso8583::token_tag::kCardSecurityCode)) return;
  iso8583::TokenData kept;
  for (const auto& [tag, value] : data->elements()) {
    if (tag != iso8583::token_tag::kCardSecurityCode) kept.Set(tag, value);
  }
  auto field = kept.ToField();
  if (field.ok() && !field->empty()) {
    m.Set(48, *field);
  } else {
    m.Clear(48);
  }
}

const store::Migration kMigrations[] = {
    {.version = 1,
     .description = "switch tables",
     .sql = R"(
CREATE TABLE saf_advices (
  advice_id BIGINT PRIMARY KEY,
  institution_id TEXT NOT NULL,
  message BYTEA NOT NULL,
  attempts BIGINT NOT NULL,
  delivered BOOLEAN NOT NULL,
  created_unix_ms BIGINT NOT NULL);
CREATE TABLE clearing_records (
  record_id BIGINT PRIMARY KEY,
  match_key TEXT NOT NULL UNIQUE,
  issuer_id TEXT NOT NULL,
  acquirer_id TEXT NOT NULL,
  masked_pan TEXT NOT NULL,
  txn_currency TEXT NOT NULL,
  txn_amount_minor BIGINT NOT NULL,
  billing_currency TEXT NOT NULL,
  billing_amount_minor BIGINT NOT NULL,
  fx_rate TEXT NOT NULL,
  approval_code TEXT NOT NULL,
  stand_in BOOLEAN NOT NULL,
  reversed BOOLEAN NOT NULL,
  settled_cycle BIGINT NOT NULL,
  created_unix_ms BIGINT NOT NULL);
CREATE TABLE settlement_cycles (
  cycle BIGINT PRIMARY KEY,
  closed_unix_ms BIGINT NOT NULL,
  report_json TEXT NOT NULL);
)",
     .sqlite_sql = "",
     .postgres_sql = ""},
    // Completions (the settled amount may fall below the authorised one, billed at the
    // authorisation's exact FX rate: mantissa, scale and markup as in fx.h; 0 = unknown, for
    // records written before this version) and terminal reconciliation (per DE41, closed when a
    // 0500 is in balance).
    {.version = 2,
     .description = "clearing records: terminal, completion, reconciliation",
     .sql = R"(
ALTER TABLE clearing_records ADD COLUMN terminal_id TEXT NOT NULL DEFAULT '';
ALTER TABLE clearing_records ADD COLUMN original_mti TEXT NOT NULL DEFAULT '';
ALTER TABLE clearing_records ADD COLUMN authorized_amount_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clearing_records ADD COLUMN fx_mantissa BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clearing_records ADD COLUMN fx_scale BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clearing_records ADD COLUMN fx_markup_bps BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clearing_records ADD COLUMN completed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clearing_records ADD COLUMN reconciled BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE clearing_records SET authorized_amount_minor = txn_amount_minor;
CREATE INDEX clearing_records_by_terminal ON clearing_records (acquirer_id, terminal_id, reconciled);
)",
     .sqlite_sql = "",
     .postgres_sql = ""},
    // Credits to cards (DE3 "20": refunds, payments to a card): they settle from the acquirer to
    // the issuer and count as credits at reconciliation (reconciliation_totals.h).
    {.version = 3,
     .description = "clearing records: credits",
     .sql = R"(
ALTER TABLE clearing_records ADD COLUMN credit BOOLEAN NOT NULL DEFAULT FALSE;
)",
     .sqlite_sql = "",
     .postgres_sql = ""},
    // The answers the switch gave in an issuer's stead (stand-in), by duplicate key
    // (DuplicateDetector::Key) and packed response: the issuer never saw their requests, so only
    // these rows stop a restarted switch from forwarding a late copy of one (Switch::Create).
    {.version = 4,
     .description = "stand-in answers",
     .sql = R"(
CREATE TABLE stand_in_answers (
  duplicate_key TEXT PRIMARY KEY,
  response BYTEA NOT NULL,
  answered_unix_ms BIGINT NOT NULL);
)",
     .sqlite_sql = "",
     .postgres_sql = ""},
};

const std::string kInsertStandInAnswerSql =
    "INSERT INTO stand_in_answers (duplicate_key, response, answered_unix_ms) VALUES (?, ?, ?) "
    "ON CONFLICT (duplicate_key) DO NOTHING";

const store::Migration kJournalMigrations[] = {
    {.version = 1,
     .description = "message journal",
     .sql = R"(
CREATE TABLE journal (
  entry_id BIGINT PRIMARY KEY,
  unix_ms BIGINT NOT NULL,
  direction TEXT NOT NULL,
  peer TEXT NOT NULL,
  mti TEXT NOT NULL,
  stan TEXT NOT NULL,
  masked_pan TEXT NOT NULL,
  response_code TEXT NOT NULL,
  message_json TEXT NOT NULL);
)",
     .sqlite_sql = "",
     .postgres_sql = ""},
};

constexpr int kMandatoryAuthFields[] = {2, 3, 4, 7, 11, 41, 49};

std::string ClearingKey(std::string_view acquirer, std::string_view terminal, std::string_view stan,
                        std::string_view transmission_time) {
  std::string key(acquirer);
  key += '|';
  key += terminal;
  key += '|';
  key += stan;
  key += '|';
  key += transmission_time;
  return key;
}

std::string Packed(const iso8583::Message& m) {
  std::string wire;
  (void)iso8583::Pack(m, iso8583::AsciiProfile(), wire);
  return wire;
}

__extension__ typedef __int128 Int128;

std::int64_t Bps(std::int64_t amount, std::int64_t bps) {
  return static_cast<std::int64_t>(static_cast<Int128>(amount) * bps / 10'000);
}

// An amount or count field: 1 to 18 digits (n12 amounts, n16 totals fit in int64).
bool ParseMinor(std::string_view digits, std::int64_t& out) {
  if (digits.empty() || digits.size() > 18) return false;
  std::int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// An ISO 4217 numeric currency field (DE49, DE50, DE51); nullptr when not 3 digits or unknown.
const Currency* CurrencyField(std::optional<std::string_view> field) {
  std::int64_t numeric = 0;
  if (!field || field->size() != 3 || !ParseMinor(*field, numeric)) return nullptr;
  auto currency = CurrencyByNumeric(static_cast<std::uint16_t>(numeric));
  return currency.ok() ? *currency : nullptr;
}

std::string Digits(std::int64_t value, std::size_t width) {
  std::string digits = std::to_string(value);
  return std::string(width - std::min(width, digits.size()), '0') + digits;
}

// A fixed-length text field without its right space padding.
std::string Unpadded(const iso8583::Message& m, int field) {
  std::string_view t = m.Get(field).value_or("");
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return std::string(t);
}

// DE41 is ans8, right-padded with spaces: records and reconciliation use it without the padding.
std::string TerminalId(const iso8583::Message& m) { return Unpadded(m, 41); }

// DE15 settlement date, n4 MMDD.
bool ValidMonthDay(std::string_view mmdd) {
  std::int64_t v = 0;
  if (mmdd.size() != 4 || !ParseMinor(mmdd, v)) return false;
  const std::int64_t month = v / 100;
  const std::int64_t day = v % 100;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// The switch's side of a terminal's open batch: its clearing records not yet in an in-balance
// reconciliation, in the acquirer's currency (reconciliation_totals.h for what counts as what).
Result<ReconciliationTotals> OpenBatchTotalsIn(store::Store& s, const std::string& acquirer_id,
                                               const std::string& terminal_id,
                                               std::string_view currency) {
  TS_ASSIGN_OR_RETURN(
      store::Row row,
      s.QueryRow(
          "SELECT "
          "COALESCE(SUM(CASE WHEN credit = FALSE THEN 1 ELSE 0 END), 0) AS debits, "
          "COALESCE(SUM(CASE WHEN credit = FALSE THEN txn_amount_minor ELSE 0 END), 0) "
          "AS debits_minor, "
          "COALESCE(SUM(CASE WHEN credit = FALSE AND reversed = TRUE THEN 1 ELSE 0 END), 0) "
          "AS debit_reversals, "
          "COALESCE(SUM(CASE WHEN credit = FALSE AND reversed = TRUE THEN txn_amount_minor "
          "ELSE 0 END), 0) AS debit_reversals_minor, "
          "COALESCE(SUM(CASE WHEN credit = TRUE THEN 1 ELSE 0 END), 0) AS credits, "
          "COALESCE(SUM(CASE WHEN credit = TRUE THEN txn_amount_minor ELSE 0 END), 0) "
          "AS credits_minor, "
          "COALESCE(SUM(CASE WHEN credit = TRUE AND reversed = TRUE THEN 1 ELSE 0 END), 0) "
          "AS credit_reversals, "
          "COALESCE(SUM(CASE WHEN credit = TRUE AND reversed = TRUE THEN txn_amount_minor "
          "ELSE 0 END), 0) AS credit_reversals_minor "
          "FROM clearing_records WHERE acquirer_id = ? AND terminal_id = ? AND txn_currency = ? "
          "AND reconciled = FALSE",
          {store::Value::Text(acquirer_id), store::Value::Text(terminal_id),
           store::Value::Text(std::string(currency))}));
  ReconciliationTotals t;
  TS_ASSIGN_OR_RETURN(t.debits, row.GetInt64("debits"));
  TS_ASSIGN_OR_RETURN(t.debits_minor, row.GetInt64("debits_minor"));
  TS_ASSIGN_OR_RETURN(t.debit_reversals, row.GetInt64("debit_reversals"));
  TS_ASSIGN_OR_RETURN(t.debit_reversals_minor, row.GetInt64("debit_reversals_minor"));
  TS_ASSIGN_OR_RETURN(t.credits, row.GetInt64("credits"));
  TS_ASSIGN_OR_RETURN(t.credits_minor, row.GetInt64("credits_minor"));
  TS_ASSIGN_OR_RETURN(t.credit_reversals, row.GetInt64("credit_reversals"));
  TS_ASSIGN_OR_RETURN(t.credit_reversals_minor, row.GetInt64("credit_reversals_minor"));
  return t;
}

}  // namespace

struct Switch::Advice {
  std::int64_t id = 0;
  iso8583::Message message;
  std::int64_t attempts = 0;
  bool in_flight = false;
};

struct Switch::Issuer {
  IssuerConfig config;
  std::mutex mu;
  std::deque<std::shared_ptr<Advice>> advices;
  // For the console (IssuerLinks); the totals are in SwitchStats.
  std::atomic<std::uint64_t> stand_in_approved{0};
  std::atomic<std::uint64_t> stand_in_declined{0};
};

Switch::Switch(SwitchOptions options, BinTable bins, FxTable fx, const Clock& clock)
    : options_(std::move(options)),
      bins_(std::move(bins)),
      fx_(std::move(fx)),
      clock_(clock),
      duplicates_(clock, options_.duplicates) {}

Switch::~Switch() {
  StopTokenStep();  // token-step work still running uses the writers and the issuer links
  // Stopped, not reset: the store writer's callbacks (an answer, then advice delivery) submit to
  // both writers while it drains, so both must still exist until it has stopped.
  writer_->Stop();
  journal_writer_->Stop();
}

Result<std::unique_ptr<Switch>> Switch::Create(SwitchOptions options, BinTable bins, FxTable fx,
                                               const Clock& clock,
                                               std::unique_ptr<store::Store> store,
                                               std::unique_ptr<store::Store> journal_store) {
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*store, kMigrations));
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*journal_store, kJournalMigrations));
  TS_ASSIGN_OR_RETURN(store::Row journal_max,
                      journal_store->QueryRow("SELECT COALESCE(MAX(entry_id), 0) AS j FROM journal"));
  TS_ASSIGN_OR_RETURN(std::int64_t last_journal_id, journal_max.GetInt64("j"));
  std::int64_t next_id = 1;
  std::int64_t cycle = 1;
  TS_ASSIGN_OR_RETURN(
      store::Row ids,
      store->QueryRow("SELECT COALESCE(MAX(advice_id), 0) AS a, "
                      "(SELECT COALESCE(MAX(record_id), 0) FROM clearing_records) AS c, "
                      "(SELECT COALESCE(MAX(cycle), 0) FROM settlement_cycles) AS s FROM saf_advices"));
  next_id = last_journal_id + 1;
  for (const char* col : {"a", "c"}) {
    TS_ASSIGN_OR_RETURN(std::int64_t v, ids.GetInt64(col));
    next_id = std::max(next_id, v + 1);
  }
  TS_ASSIGN_OR_RETURN(std::int64_t last_cycle, ids.GetInt64("s"));
  cycle = last_cycle + 1;
  TS_ASSIGN_OR_RETURN(store::Rows pending,
                      store->Query("SELECT advice_id, institution_id, message, attempts FROM saf_advices "
                                   "WHERE delivered = FALSE ORDER BY advice_id"));
  // Stand-in answers still inside the duplicate window go back into it; older ones are dropped.
  const std::int64_t window_start_ms = clock.NowUnixMillis() - options.duplicates.window_ms;
  TS_RETURN_IF_ERROR(store
                         ->Execute("DELETE FROM stand_in_answers WHERE answered_unix_ms < ?",
                                   {store::Value::Int64(window_start_ms)})
                         .status());
  TS_ASSIGN_OR_RETURN(store::Rows stand_in_answers,
                      store->Query("SELECT duplicate_key, response, answered_unix_ms FROM stand_in_answers "
                                   "ORDER BY answered_unix_ms"));
  if (options.token_step_threads < 0 || options.token_step_threads > kTokenStepThreadsMax) {
    return InvalidArgument("token_step_threads: expected 0-" + std::to_string(kTokenStepThreadsMax));
  }
  std::unique_ptr<Switch> sw(new Switch(std::move(options), std::move(bins), std::move(fx), clock));
  for (const store::Row& row : stand_in_answers) {
    TS_ASSIGN_OR_RETURN(std::string key, row.GetText("duplicate_key"));
    TS_ASSIGN_OR_RETURN(Bytes wire, row.GetBlob("response"));
    TS_ASSIGN_OR_RETURN(std::int64_t answered, row.GetInt64("answered_unix_ms"));
    iso8583::Message response;
    TS_RETURN_IF_ERROR(iso8583::Unpack(wire, iso8583::AsciiProfile(), response)
                           .WithContext("stored stand-in answer " + key));
    sw->duplicates_.Restore(key, response, answered);
  }
  sw->next_id_ = next_id;
  sw->cycle_ = cycle;
  sw->writer_ = std::make_unique<BatchWriter>(std::move(store));
  sw->journal_writer_ = std::make_unique<BatchWriter>(std::move(journal_store));
  if (sw->options_.token_step_threads > 0) {
    sw->token_pool_ =
        std::make_unique<asio::thread_pool>(static_cast<std::size_t>(sw->options_.token_step_threads));
  }
  // Stored advices wait for their issuer to be registered.
  for (const store::Row& row : pending) {
    TS_ASSIGN_OR_RETURN(std::int64_t id, row.GetInt64("advice_id"));
    TS_ASSIGN_OR_RETURN(std::string issuer, row.GetText("institution_id"));
    TS_ASSIGN_OR_RETURN(Bytes wire, row.GetBlob("message"));
    TS_ASSIGN_OR_RETURN(std::int64_t attempts, row.GetInt64("attempts"));
    auto advice = std::make_shared<Advice>();
    advice->id = id;
    advice->attempts = attempts;
    TS_RETURN_IF_ERROR(iso8583::Unpack(wire, iso8583::AsciiProfile(), advice->message)
                           .WithContext("stored advice " + std::to_string(id)));
    auto& slot = sw->issuers_[issuer];
    if (!slot) slot = std::make_shared<Issuer>();
    slot->advices.push_back(std::move(advice));
  }
  return sw;
}

Status Switch::AddIssuer(IssuerConfig issuer) {
  if (issuer.institution_id.empty() || issuer.link == nullptr || issuer.billing_currency == nullptr) {
    return InvalidArgument("issuer '" + issuer.institution_id + "': id, link and currency are required");
  }
  std::lock_guard lock(mu_);
  auto& slot = issuers_[issuer.institution_id];
  if (!slot) slot = std::make_shared<Issuer>();
  if (slot->config.link != nullptr) {
    return AlreadyExists("issuer '" + issuer.institution_id + "' is already registered");
  }
  slot->config = std::move(issuer);
  return Status::Ok();
}

std::shared_ptr<Switch::Issuer> Switch::IssuerFor(const std::string& pan, std::string* range_error) {
  auto range = bins_.Lookup(pan);
  if (!range.ok()) {
    *range_error = range.status().message();
    return nullptr;
  }
  if ((*range)->kind == RangeKind::kToken) {
    // Only the TSP step may turn a token into a card number an issuer knows.
    *range_error = "token range";
    return nullptr;
  }
  std::lock_guard lock(mu_);
  auto it = issuers_.find((*range)->institution_id);
  if (it == issuers_.end() || it->second->config.link == nullptr) {
    *range_error = "issuer " + (*range)->institution_id + " is not connected to the network";
    return nullptr;
  }
  return it->second;
}

std::shared_ptr<Switch::Issuer> Switch::IssuerById(const std::string& institution_id) {
  std::lock_guard lock(mu_);
  auto it = issuers_.find(institution_id);
  if (it == issuers_.end() || it->second->config.link == nullptr) return nullptr;
  return it->second;
}

std::string Switch::TokenStep(iso8583::Message& request, std::string* detail) {
  auto pan = request.Get(2);
  if (!pan) return {};
  auto range = bins_.Lookup(*pan);
  if (!range.ok() || (*range)->kind != RangeKind::kToken) return {};
  TokenService* tsp = token_service_.load();
  if (tsp == nullptr) {
    *detail = "no token service";
    return "15";
  }
  auto funding = tsp->Detokenize(request);
  if (!funding.ok()) {
    // Fixed texts: the service's own message may quote the token.
    spdlog::info("switch: token not resolved ({})", ErrorCodeName(funding.status().code()));
    switch (funding.status().code()) {
      case ErrorCode::kNotFound:
      case ErrorCode::kInvalidArgument:
      case ErrorCode::kFailedPrecondition:
        *detail = "token not resolved";
        return "14";
      case ErrorCode::kUnavailable:
        *detail = "token service unavailable";
        return "91";
      default:
        *detail = "token service failed";
        return "96";
    }
  }
  auto pan_range = bins_.Lookup(funding->pan);
  if (!pan_range.ok() || (*pan_range)->kind != RangeKind::kIssuer) {
    *detail = "token PAN not routable";
    return "14";
  }
  iso8583::TokenData data;
  if (auto de48 = request.Get(iso8583::kTokenDataField)) {
    auto parsed = iso8583::TokenData::Parse(*de48);
    if (!parsed.ok()) {
      *detail = "DE48 malformed";
      return "30";
    }
    data = std::move(*parsed);
  }
  // IA and CV are set here only: ones the acquirer sent are dropped (Finish trusts IA next to TK;
  // the issuer trusts CV in place of a CVV2).
  iso8583::TokenData kept;
  for (const auto& [tag, value] : data.elements()) {
    if (tag != kIssuerAuthenticationTag && tag != iso8583::token_tag::kCryptogramResult) kept.Set(tag, value);
  }
  data = std::move(kept);
  data.Set(iso8583::token_tag::kToken, *pan);
  if (!funding->issuer_authentication_data.empty()) {
    data.Set(kIssuerAuthenticationTag, HexEncode(AsBytes(funding->issuer_authentication_data)));
    // The TSP verified the token's ARQC for the issuer: the card itself took part, which is what
    // a CVV2 stands in for on a card-not-present payment (an in-app payment, say).
    data.Set(iso8583::token_tag::kCryptogramResult, "V");
  }
  auto de48 = data.ToField();
  if (!de48.ok()) {
    *detail = "DE48 too long";
    return "30";
  }
  request.Set(iso8583::kTokenDataField, *de48);
  request.Set(2, funding->pan);
  if (!funding->expiry.empty()) request.Set(14, funding->expiry);
  return {};
}

void Switch::FormatError(const iso8583::Message& request, const std::string& detail,
                         link::Reply reply) {
  stats_.format_errors++;
  iso8583::Message response = ResponseTo(request, "30");
  response.Set(44, detail.substr(0, 25));
  Journal("out", "acquirer", response);
  reply(std::move(response));
}

std::string Switch::NextApprovalCode() {
  // Stand-in approval codes start with 'S' so disputes can tell them apart.
  std::uint32_t n = ++approval_counter_ % 100'000;
  std::string digits = std::to_string(n);
  return "S" + std::string(5 - digits.size(), '0') + digits;
}

std::string Switch::NextStan() {
  std::uint32_t n = ++stan_counter_ % 999'999 + 1;
  std::string digits = std::to_string(n);
  return std::string(6 - digits.size(), '0') + digits;
}

void Switch::Journal(const char* direction, const std::string& peer, const iso8583::Message& m) {
  const std::int64_t id = next_id_++;
  const std::int64_t now = clock_.NowUnixMillis();
  std::string masked_pan = m.Has(2) ? MaskCardNumber(*m.Get(2)) : std::string();
  journal_writer_->Submit([=, mti = std::string(m.mti()), stan = std::string(m.Get(11).value_or("")),
                   code = std::string(m.Get(39).value_or("")), json = JournalJson(m),
                   direction = std::string(direction)](store::Store& s) -> Status {
    return s.Execute("INSERT INTO journal (entry_id, unix_ms, direction, peer, mti, stan, masked_pan, "
                     "response_code, message_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     {store::Value::Int64(id), store::Value::Int64(now), store::Value::Text(direction),
                      store::Value::Text(peer), store::Value::Text(mti), store::Value::Text(stan),
                      store::Value::Text(masked_pan), store::Value::Text(code),
                      store::Value::Text(json)})
        .status();
  });
}

void Switch::OnRequest(iso8583::Message request, link::Reply reply) {
  const std::string_view mti = request.mti();
  if (iso8583::IsAuthorizationRequest(mti) || iso8583::IsFinancialRequest(mti)) {
    return Authorize(std::move(request), std::move(reply));
  }
  if (iso8583::IsReversal(mti)) return Reverse(std::move(request), std::move(reply));
  if ((mti == "0220" || mti == "0221") && request.Has(90)) {
    return Complete(std::move(request), std::move(reply));  // a completion names its 0100
  }
  if (iso8583::IsAuthorizationOrFinancialAdvice(mti)) return Advise(std::move(request), std::move(reply));
  if (mti == "0500" || mti == "0501") return Reconcile(std::move(request), std::move(reply));
  if (mti == "0800") {
    iso8583::Message response = ResponseTo(request, "00");
    if (auto code = request.Get(70)) response.Set(70, *code);
    return reply(std::move(response));
  }
  Journal("in", "acquirer", request);
  auto response_mti = iso8583::ResponseMti(mti);
  if (!response_mti.ok()) return;  // a response nobody asked for: dropped (and journaled)
  iso8583::Message response = ResponseTo(request, "12");
  Journal("out", "acquirer", response);
  reply(std::move(response));
}

void Switch::Authorize(iso8583::Message request, link::Reply reply) {
  stats_.requests++;
  // Every answer to this request goes through `reply`: time it from here (receipt) to there.
  reply = [this, received_nanos = clock_.MonotonicNanos(),
           answer = std::move(reply)](iso8583::Message response) {
    latency_.Add((clock_.MonotonicNanos() - received_nanos) / 1'000);
    answer(std::move(response));
  };
  Journal("in", "acquirer", request);
  // DE48 TK is set by the switch's TSP step only (it maps DE2 back in the response).
  if (auto de48 = request.Get(iso8583::kTokenDataField)) {
    if (auto data = iso8583::TokenData::Parse(*de48);
        data.ok() && data->Get(iso8583::token_tag::kToken)) {
      iso8583::TokenData kept;
      for (const auto& [tag, value] : data->elements()) {
        if (tag != iso8583::token_tag::kToken) kept.Set(tag, value);
      }
      if (kept.elements().empty()) {
        request.Clear(iso8583::kTokenDataField);
      } else if (auto field = kept.ToField(); field.ok()) {
        request.Set(iso8583::kTokenDataField, *field);
      }
    }
  }
  for (int f : kMandatoryAuthFields) {
    if (!request.Has(f)) {
      stats_.format_errors++;
      iso8583::Message response = ResponseTo(request, "30");
      response.Set(44, "DE" + std::to_string(f) + " missing");
      return Finish(request, std::move(response), std::move(reply), "", nullptr);
    }
  }
  auto currency = CurrencyByNumeric(static_cast<std::uint16_t>(std::stoi(std::string(*request.Get(49)))));
  if (!currency.ok()) {
    stats_.format_errors++;
    iso8583::Message response = ResponseTo(request, "30");
    response.Set(44, "DE49 unknown");
    return Finish(request, std::move(response), std::move(reply), "", nullptr);
  }

  iso8583::Message stored;
  const std::string key = DuplicateDetector::Key(request);
  switch (duplicates_.Check(request, &stored, [reply](const iso8583::Message& r) { reply(r); })) {
    case DuplicateDetector::Verdict::kDuplicate: {
      // Not through Finish: the first transmission's answer was the one reported to the token
      // service (OnTokenUseAnswered).
      stats_.duplicates++;
      stats_.declined++;
      iso8583::Message response = ResponseTo(request, "94");
      Journal("out", "acquirer", response);
      return reply(std::move(response));
    }
    case DuplicateDetector::Verdict::kRepeatDone:
      Journal("out", "acquirer", stored);
      return reply(std::move(stored));
    case DuplicateDetector::Verdict::kRepeatWaiting:
      return;
    case DuplicateDetector::Verdict::kNew:
      break;
  }

  // The TSP step is synchronous and group-commits its decisions: run it on the token-step
  // threads, so that many uses wait together and share each commit, not on this request thread.
  if (token_pool_ && !token_pool_stopped_.load() && InTokenRange(*request.Get(2))) {
    asio::post(*token_pool_, [this, request = std::move(request), reply = std::move(reply), key,
                              currency = *currency]() mutable {
      Route(std::move(request), std::move(reply), key, *currency);
    });
    return;
  }
  Route(std::move(request), std::move(reply), key, **currency);
}

bool Switch::InTokenRange(std::string_view pan) const {
  auto range = bins_.Lookup(pan);
  return range.ok() && (*range)->kind == RangeKind::kToken;
}

void Switch::WaitIdle() {
  // The store writer's callbacks journal (journal writer); the journal writer feeds nothing back.
  writer_->WaitIdle();
  journal_writer_->WaitIdle();
}

void Switch::StopTokenStep() {
  if (!token_pool_ || token_pool_stopped_.exchange(true)) return;
  token_pool_->join();
}

void Switch::Route(iso8583::Message request, link::Reply reply, const std::string& key,
                   const Currency& currency) {
  std::string token_detail;
  if (std::string code = TokenStep(request, &token_detail); !code.empty()) {
    // A repeat may follow a copy the issuer approved (its answer lost, and the duplicate window
    // with it when the switch restarted): declined now, its hold would stay behind the refusal.
    if (iso8583::IsRepeat(request.mti()) && TokenServiceOutage(code)) {
      return LeaveUnansweredForTheTsp(request, key, token_detail);
    }
    stats_.token_declines++;
    iso8583::Message response = ResponseTo(request, code);
    response.Set(44, token_detail);
    return Finish(request, std::move(response), std::move(reply), key, nullptr);
  }

  std::string route_error;
  std::shared_ptr<Issuer> issuer = IssuerFor(std::string(*request.Get(2)), &route_error);
  if (!issuer) {
    iso8583::Message response = ResponseTo(request, "15");
    response.Set(44, route_error.substr(0, 25));
    return Finish(request, std::move(response), std::move(reply), key, nullptr);
  }

  // Cross-border: the cardholder is billed in the issuer's currency at the network's rate.
  const Amount amount(std::stoll(std::string(*request.Get(4))), currency);
  const Currency& billing = *issuer->config.billing_currency;
  if (!(billing == currency)) {
    auto conversion = fx_.Convert(amount, billing, options_.fx_markup_bps);
    if (!conversion.ok()) {
      iso8583::Message response = ResponseTo(request, "12");
      response.Set(44, "no FX rate");
      return Finish(request, std::move(response), std::move(reply), key, issuer.get());
    }
    std::string minor = std::to_string(conversion->billing.minor_units());
    request.Set(6, std::string(12 - std::min<std::size_t>(12, minor.size()), '0') + minor);
    request.Set(10, conversion->de10);
    std::string numeric = std::to_string(billing.numeric);
    request.Set(51, std::string(3 - numeric.size(), '0') + numeric);
  }
  request.Set(33, options_.network_institution_id);

  if (!issuer->config.link->ready()) {
    // A repeat (0101/0201) says an earlier copy may have reached the issuer, e.g. before this
    // switch restarted and forgot it: treated as unanswered, not as never sent.
    if (iso8583::IsRepeat(request.mti())) {
      return OnNoAnswer(issuer, std::move(request), std::move(reply), key, "issuer not signed on");
    }
    return StandIn(issuer, std::move(request), std::move(reply), key, "issuer not signed on");
  }
  iso8583::Message forward = request;
  Journal("out", issuer->config.institution_id, forward);
  issuer->config.link->Send(
      std::move(forward), [this, issuer, request = std::move(request), reply = std::move(reply),
                           key](Result<iso8583::Message> response) mutable {
        OnIssuerResponse(issuer, std::move(request), std::move(response), std::move(reply), key);
      });
}

void Switch::OnIssuerResponse(std::shared_ptr<Issuer> issuer, iso8583::Message request,
                              Result<iso8583::Message> response, link::Reply reply,
                              std::string duplicate_key) {
  if (!response.ok()) {
    return OnNoAnswer(std::move(issuer), std::move(request), std::move(reply), std::move(duplicate_key),
                      response.status().message());
  }
  Journal("in", issuer->config.institution_id, *response);
  iso8583::Message out = std::move(*response);
  // The acquirer's matching fields are echoed whatever the issuer returned.
  for (int f : {2, 7, 11, 32, 41}) {
    if (auto v = request.Get(f)) out.Set(f, *v);
  }
  Finish(request, std::move(out), std::move(reply), duplicate_key, issuer.get());
}

void Switch::OnNoAnswer(std::shared_ptr<Issuer> issuer, iso8583::Message request, link::Reply reply,
                        std::string duplicate_key, const std::string& why) {
  // The issuer may have booked what it never answered. A stand-in approval tells it so (its
  // advice); a refusal must undo it. An ID&V books nothing.
  if (!iso8583::IsProvisioningIdv(request.Get(iso8583::kTokenDataField).value_or("")) &&
      !StandInApproves(*issuer, request)) {
    return ReverseUnanswered(std::move(issuer), std::move(request), std::move(reply), std::move(duplicate_key), why);
  }
  StandIn(std::move(issuer), std::move(request), std::move(reply), std::move(duplicate_key), why);
}

void Switch::ReverseUnanswered(std::shared_ptr<Issuer> issuer, iso8583::Message request, link::Reply reply,
                               std::string duplicate_key, const std::string& why) {
  // The request left for the issuer and no answer came back (timeout, or the link failed after
  // sending): the issuer may have held or posted it (a credit, a hold, a sale). The acquirer is
  // about to hear "91", which it takes as a refusal, so the issuer must not keep it: a reversal
  // advice (0420, DE3 kept, DE90 naming the original) is made durable before the answer and then
  // repeated until acknowledged (store-and-forward, as for stand-in advices). A request that never
  // reached the issuer is harmless to reverse: the issuer records the reversal and refuses the
  // original if it arrives later (docs/ISO8583.md, "Timeouts and unknown outcomes").
  iso8583::Message advice("0420");
  for (int f : {2, 3, 4, 6, 7, 10, 11, 12, 13, 32, 33, 41, 42, 48, 49, 51}) {
    if (auto v = request.Get(f)) advice.Set(f, *v);
  }
  StripCardSecurityCode(advice);  // stored until delivered: no CVV2 in it
  advice.Set(39, "68");           // ISO 8583:1987: response received too late (or not at all)
  iso8583::OriginalDataElements original{iso8583::OriginalOfRepeat(request.mti()),
                                         std::string(request.Get(11).value_or("000000")),
                                         std::string(request.Get(7).value_or("0000000000")),
                                         std::string(request.Get(32).value_or("")), ""};
  if (auto de90 = original.ToField(); de90.ok()) advice.Set(90, *de90);
  spdlog::warn("switch: {} to issuer {} unanswered ({}); reversing it", request.mti(),
               issuer->config.institution_id, why);
  const std::string issuer_id = issuer->config.institution_id;
  StoreAdvice(issuer_id, std::move(advice),
              [this, issuer, request, reply = std::move(reply), duplicate_key,
               why](const Status& s) mutable {
                if (!s.ok()) return LeaveUnanswered(request, "reversal advice", s);
                StandIn(issuer, request, std::move(reply), duplicate_key, why);  // "91"
                if (issuer->config.link->ready()) OnIssuerReady(issuer->config.institution_id);
              });
}

void Switch::StandIn(std::shared_ptr<Issuer> issuer, iso8583::Message request, link::Reply reply,
                     std::string duplicate_key, const std::string& why) {
  // A token-provisioning ID&V (DE48 PV) is the card's bank deciding whether the card may be
  // tokenised: an answer in its stead would let a card be tokenised without its bank. So 91, and
  // no advice (there is nothing the bank would have to book).
  if (iso8583::IsProvisioningIdv(request.Get(iso8583::kTokenDataField).value_or(""))) {
    stats_.stand_in_declined++;
    issuer->stand_in_declined.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("switch: no stand-in for an ID&V request to issuer {} ({})", issuer->config.institution_id, why);
    iso8583::Message response = ResponseTo(request, "91");
    response.Set(44, "no stand-in for ID&V");
    return FinishStandInDecline(std::move(issuer), request, std::move(response), std::move(reply), duplicate_key);
  }
  // A credit to a card (DE3 "20") is the issuer's to accept: approved in its stead, the acquirer
  // would pay out money the issuer never booked to any account. 91, and no advice.
  if (IsCredit(request)) {
    stats_.stand_in_declined++;
    issuer->stand_in_declined.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("switch: no stand-in for a credit to a card of issuer {} ({})",
                 issuer->config.institution_id, why);
    iso8583::Message response = ResponseTo(request, "91");
    response.Set(44, "no stand-in for credits");
    return FinishStandInDecline(std::move(issuer), request, std::move(response), std::move(reply), duplicate_key);
  }
  if (!StandInApproves(*issuer, request)) {
    stats_.stand_in_declined++;
    issuer->stand_in_declined.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("switch: stand-in decline for issuer {} ({})", issuer->config.institution_id, why);
    return FinishStandInDecline(std::move(issuer), request, ResponseTo(request, "91"), std::move(reply),
                                duplicate_key);
  }
  stats_.stand_in_approved++;
  issuer->stand_in_approved.fetch_add(1, std::memory_order_relaxed);
  iso8583::Message response = ResponseTo(request, "00");
  response.Set(38, NextApprovalCode());
  // The advice tells the issuer what was approved on its behalf: 0120 for 0100, 0220 for 0200.
  iso8583::Message advice = request;
  advice.set_mti(request.mti()[1] == '1' ? "0120" : "0220");
  StripCardSecurityCode(advice);  // the advice is stored until delivered: no CVV2 in it
  advice.Set(38, *response.Get(38));
  advice.Set(39, "00");
  StoreAdvice(issuer->config.institution_id, std::move(advice),
              [this, issuer, request, response, reply = std::move(reply),
               duplicate_key](const Status& s) mutable {
                if (!s.ok()) return LeaveUnanswered(request, "stand-in advice", s);
                Finish(request, std::move(response), std::move(reply), duplicate_key, issuer.get());
              });
}

void Switch::FinishStandInDecline(std::shared_ptr<Issuer> issuer, const iso8583::Message& request,
                                  iso8583::Message response, link::Reply reply,
                                  const std::string& duplicate_key) {
  // The issuer never saw this request, so nothing but this switch knows it was refused. Were the
  // refusal forgotten in a restart, a late copy of the request (a link can deliver one twice)
  // would be forwarded and could be approved and held while the terminal was told "91". So the
  // answer is durable before it is given, and Create puts it back in the duplicate window.
  if (duplicate_key.empty()) return Finish(request, std::move(response), std::move(reply), duplicate_key, issuer.get());
  const std::string wire = Packed(response);
  const std::int64_t now = clock_.NowUnixMillis();
  writer_->Submit(
      [duplicate_key, wire, now](store::Store& s) -> Status {
        return s
            .Execute(kInsertStandInAnswerSql,
                     {store::Value::Text(duplicate_key), store::Value::Blob(Bytes(wire.begin(), wire.end())),
                      store::Value::Int64(now)})
            .status();
      },
      [this, issuer = std::move(issuer), request, response = std::move(response), reply = std::move(reply),
       duplicate_key](const Status& s) mutable {
        if (!s.ok()) return LeaveUnanswered(request, "stand-in decline", s);
        Finish(request, std::move(response), std::move(reply), duplicate_key, issuer.get());
      });
}

bool Switch::StandInApproves(const Issuer& issuer, const iso8583::Message& request) {
  if (IsCredit(request) || iso8583::IsProvisioningIdv(request.Get(iso8583::kTokenDataField).value_or(""))) {
    return false;
  }
  const StandInParameters& stip = issuer.config.stand_in;
  const std::string_view billing_field = request.Has(6) ? *request.Get(6) : *request.Get(4);
  return stip.approve_within_limits && std::stoll(std::string(billing_field)) <= stip.per_transaction_limit_minor;
}

bool Switch::AnsweredAsRepeat(const iso8583::Message& request, const link::Reply& reply) {
  iso8583::Message stored;
  switch (duplicates_.Check(request, &stored, [reply](const iso8583::Message& r) { reply(r); })) {
    case DuplicateDetector::Verdict::kDuplicate: {
      stats_.duplicates++;
      iso8583::Message response = ResponseTo(request, "94");
      Journal("out", "acquirer", response);
      reply(std::move(response));
      return true;
    }
    case DuplicateDetector::Verdict::kRepeatDone:
      Journal("out", "acquirer", stored);
      reply(std::move(stored));
      return true;
    case DuplicateDetector::Verdict::kRepeatWaiting:
      return true;
    case DuplicateDetector::Verdict::kNew:
      break;
  }
  return false;
}

void Switch::Finish(const iso8583::Message& request, iso8583::Message response, link::Reply reply,
                    const std::string& duplicate_key, const Issuer* issuer) {
  // After the TSP step the acquirer gets its token back in DE2, never the funding PAN; with an
  // approval, the TSP's ARPC for the card in DE55 tag 91 (token_service.h).
  if (auto de48 = request.Get(iso8583::kTokenDataField)) {
    if (auto data = iso8583::TokenData::Parse(*de48); data.ok()) {
      if (auto token = data->Get(iso8583::token_tag::kToken)) {
        response.Set(2, *token);
        auto arpc = data->Get(kIssuerAuthenticationTag);
        if (arpc && response.Get(39) == std::string_view("00")) {
          if (auto bytes = HexDecode(*arpc); bytes.ok() && bytes->size() < 0x80) {
            // BER-TLV, one-byte length (Book 3 Annex B2): 91 L value.
            std::string de55{static_cast<char>(0x91), static_cast<char>(bytes->size())};
            de55.append(bytes->begin(), bytes->end());
            response.Set(55, de55);
          }
        }
      }
    }
  }
  const bool approved = response.Get(39) == std::string_view("00");
  if (!approved || issuer == nullptr) {
    stats_.declined++;
    duplicates_.Complete(duplicate_key, response);
    Journal("out", "acquirer", response);
    ReportTokenUse(request, response);
    return reply(std::move(response));
  }
  stats_.approved++;
  // Durable before answered: the clearing record is committed before the acquirer hears "00".
  const std::int64_t id = next_id_++;
  const std::int64_t now = clock_.NowUnixMillis();
  const std::string key = ClearingKey(request.Get(32).value_or(""), *request.Get(41), *request.Get(11),
                                      *request.Get(7));
  auto txn_currency = CurrencyByNumeric(static_cast<std::uint16_t>(std::stoi(std::string(*request.Get(49)))));
  const std::string txn_alpha(txn_currency.ok() ? (*txn_currency)->alpha : "XXX");
  const std::int64_t txn_minor = std::stoll(std::string(*request.Get(4)));
  const std::int64_t billing_minor = request.Has(6) ? std::stoll(std::string(*request.Get(6))) : txn_minor;
  const std::string billing_alpha(issuer->config.billing_currency->alpha);
  // The exact rate DE6 was computed at (DE10 keeps only 7 digits), for completions.
  FxRate rate{1, 0, "identity", ""};
  std::int64_t markup_bps = 0;
  if (txn_currency.ok() && !(**txn_currency == *issuer->config.billing_currency)) {
    auto conversion = fx_.Convert(Amount(txn_minor, **txn_currency),
                                  *issuer->config.billing_currency, options_.fx_markup_bps);
    rate = conversion.ok() ? conversion->rate : FxRate{0, 0, "unknown", ""};
    markup_bps = conversion.ok() ? conversion->markup_bps : 0;
  }
  const std::string terminal_id = TerminalId(request);
  const std::string original_mti = iso8583::OriginalOfRepeat(request.mti());
  const std::string issuer_id = issuer->config.institution_id;
  const std::string acquirer_id(request.Get(32).value_or("unknown"));
  const std::string masked = MaskCardNumber(*request.Get(2));
  const std::string fx_rate(request.Get(10).value_or(""));
  const std::string approval(response.Get(38).value_or(""));
  const bool stand_in = !approval.empty() && approval[0] == 'S';
  const bool credit = IsCredit(request);
  // A stand-in approval is remembered with its clearing record, as FinishStandInDecline
  // remembers a refusal: a late copy after a restart must not reach the issuer as new.
  const std::string stand_in_wire = stand_in ? Packed(response) : std::string();
  writer_->Submit(
      [=](store::Store& s) -> Status {
        if (stand_in && !duplicate_key.empty()) {
          TS_RETURN_IF_ERROR(s.Execute(kInsertStandInAnswerSql,
                                       {store::Value::Text(duplicate_key),
                                        store::Value::Blob(Bytes(stand_in_wire.begin(), stand_in_wire.end())),
                                        store::Value::Int64(now)})
                                 .status());
        }
        return s
            .Execute(
                kInsertApprovedSql,
                {store::Value::Int64(id), store::Value::Text(key), store::Value::Text(issuer_id),
                 store::Value::Text(acquirer_id), store::Value::Text(masked),
                 store::Value::Text(txn_alpha), store::Value::Int64(txn_minor),
                 store::Value::Text(billing_alpha), store::Value::Int64(billing_minor),
                 store::Value::Text(fx_rate), store::Value::Text(approval),
                 store::Value::Bool(stand_in), store::Value::Int64(now),
                 store::Value::Text(terminal_id), store::Value::Text(original_mti),
                 store::Value::Int64(txn_minor), store::Value::Int64(rate.mantissa),
                 store::Value::Int64(rate.scale), store::Value::Int64(markup_bps),
                 store::Value::Bool(credit)})
            .status();
      },
      [this, response = std::move(response), reply = std::move(reply), duplicate_key,
       request](const Status& s) mutable {
        if (!s.ok()) return LeaveUnanswered(request, "clearing record", s);
        duplicates_.Complete(duplicate_key, response);
        Journal("out", "acquirer", response);
        ReportTokenUse(request, response);
        reply(std::move(response));
      });
}

void Switch::LeaveUnanswered(const iso8583::Message& request, const char* what, const Status& s) {
  // A failed commit is not a clean "not written": after a failed fsync the write may still reach
  // the disk, and the store refuses everything until it is reopened (sqlite_store.h). Whether the
  // record exists is known only after a restart, so an answer either way could be a lie: "96"
  // to an approval (a refusal) would leave the issuer's hold, and a settled clearing record,
  // behind a transaction the acquirer dropped; "96" to a reversal whose record did reach the disk
  // would leave the issuer's hold behind a record that settles nothing. With no answer the
  // acquirer times out: it reverses an original and repeats a reversal, a completion or an advice
  // until acknowledged, and the restarted switch applies each once more, idempotently
  // (docs/ISO8583.md, "When the switch's store fails"). A repeat of the request waits, unanswered,
  // for the same reason.
  stats_.unanswered_store_failures++;
  spdlog::error("switch: {} of {} stan {} not durable ({}); left unanswered (the acquirer reverses or repeats it)",
                what, request.mti(), request.Get(11).value_or("?"), s.ToString());
}

void Switch::LeaveUnansweredForTheTsp(const iso8583::Message& request, const std::string& key,
                                     const std::string& detail) {
  stats_.unanswered_token_outages++;
  duplicates_.Abandon(key);
  spdlog::warn("switch: {} stan {} left unanswered: {} (the acquirer repeats it)", request.mti(),
               request.Get(11).value_or("?"), detail);
}

Status Switch::Health() const {
  if (const std::uint64_t n = stats_.unanswered_store_failures.load(); n > 0) {
    return IoError("the switch's store failed a commit; " + std::to_string(n) +
                   " request(s) left unanswered; restart to reopen it");
  }
  // The message journal (for disputes) is written after the answers, so a failed commit answers
  // nobody wrongly; but its store then refuses every write, and every later message would go
  // unjournaled until a restart.
  if (const std::uint64_t n = journal_writer_->batches_failed(); n > 0) {
    return IoError("the switch's message journal failed a commit (" + std::to_string(n) +
                   " batch(es) of messages not journaled); restart to reopen it");
  }
  return Status::Ok();
}

void Switch::ReportTokenUse(const iso8583::Message& request, const iso8583::Message& response) {
  TokenService* tsp = token_service_.load();
  if (tsp == nullptr) return;
  // The token: DE48 TK after the TSP step (Authorize drops a TK the acquirer sent), else DE2 when
  // it is still the token (the step declined it, or the request never reached the step).
  std::string token;
  if (auto de48 = request.Get(iso8583::kTokenDataField)) {
    if (auto tk = iso8583::FindSubElement(*de48, iso8583::token_tag::kToken); tk.ok() && tk->has_value()) {
      token = std::string(**tk);
    }
  }
  if (token.empty()) {
    auto pan = request.Get(2);
    if (!pan) return;
    auto range = bins_.Lookup(*pan);
    if (!range.ok() || (*range)->kind != RangeKind::kToken) return;
    token = std::string(*pan);
  }
  TokenUseOutcome outcome;
  outcome.token_number = std::move(token);
  outcome.mti = std::string(request.mti());
  (void)ParseMinor(request.Get(4).value_or(""), outcome.amount_minor);
  std::int64_t currency = 0;
  if (auto de49 = request.Get(49); de49 && de49->size() == 3 && ParseMinor(*de49, currency)) {
    outcome.currency_numeric = static_cast<std::uint16_t>(currency);
  }
  outcome.merchant = Unpadded(request, 43);  // ans40
  outcome.mcc = std::string(request.Get(18).value_or(""));
  outcome.pos_entry_mode = std::string(request.Get(22).value_or(""));
  outcome.response_code = std::string(response.Get(39).value_or(""));
  outcome.approval_code = std::string(response.Get(38).value_or(""));
  outcome.stan = std::string(request.Get(11).value_or(""));
  outcome.terminal_id = TerminalId(request);
  outcome.time_unix_ms = clock_.NowUnixMillis();
  tsp->OnTokenUseAnswered(outcome);
}

void Switch::StoreAdvice(const std::string& issuer_id, iso8583::Message advice,
                         std::function<void(const Status&)> done) {
  auto record = std::make_shared<Advice>();
  record->id = next_id_++;
  record->message = std::move(advice);
  const std::string wire = Packed(record->message);
  const std::int64_t now = clock_.NowUnixMillis();
  writer_->Submit(
      [record, issuer_id, wire, now](store::Store& s) -> Status {
        return s.Execute("INSERT INTO saf_advices (advice_id, institution_id, message, attempts, delivered, "
                         "created_unix_ms) VALUES (?, ?, ?, 0, FALSE, ?)",
                         {store::Value::Int64(record->id), store::Value::Text(issuer_id),
                          store::Value::Blob(Bytes(wire.begin(), wire.end())), store::Value::Int64(now)})
            .status();
      },
      [this, record, issuer_id, done = std::move(done)](const Status& s) {
        if (s.ok()) {
          std::shared_ptr<Issuer> target;
          {
            std::lock_guard lock(mu_);
            auto& slot = issuers_[issuer_id];
            if (!slot) slot = std::make_shared<Issuer>();  // registered later: waits for it
            target = slot;
          }
          std::lock_guard lock(target->mu);
          target->advices.push_back(record);
        }
        done(s);
      });
}

void Switch::OnIssuerReady(const std::string& institution_id) {
  std::shared_ptr<Issuer> issuer;
  {
    std::lock_guard lock(mu_);
    auto it = issuers_.find(institution_id);
    if (it == issuers_.end() || it->second->config.link == nullptr)
      return;  // advices wait for AddIssuer
    issuer = it->second;
  }
  // One advice in flight per issuer, oldest first: they reach the issuer in the order they were
  // stored, so a completion or reversal never overtakes the stand-in advice of its original
  // (found by the deterministic simulation, src/sim). Each acknowledgement sends the next.
  std::shared_ptr<Advice> next;
  {
    std::lock_guard lock(issuer->mu);
    for (auto& a : issuer->advices) {
      if (a->in_flight) return;
      if (a->attempts < options_.saf_attempts_before_manual) {
        next = a;
        break;
      }
    }
    if (!next) return;
    next->in_flight = true;
  }
  SendAdvice(issuer, next);
}

bool Switch::MustQueueFollowUp(Issuer& issuer) {
  if (!issuer.config.link->ready()) return true;
  std::lock_guard lock(issuer.mu);
  return !issuer.advices.empty();
}

void Switch::DeliverStoredAdvices() {
  std::vector<std::string> ready;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, issuer] : issuers_) {
      if (issuer->config.link != nullptr && issuer->config.link->ready()) ready.push_back(id);
    }
  }
  for (const auto& id : ready) OnIssuerReady(id);
}

void Switch::SendAdvice(std::shared_ptr<Issuer> issuer, std::shared_ptr<Advice> advice) {
  iso8583::Message m = advice->message;
  if (advice->attempts > 0) m.set_mti(std::string(m.mti().substr(0, 3)) + "1");  // repeat: 0121/0221/0421
  advice->attempts++;
  const std::int64_t attempts = advice->attempts;
  writer_->Submit([id = advice->id, attempts](store::Store& s) -> Status {
    return s.Execute("UPDATE saf_advices SET attempts = ? WHERE advice_id = ?",
                     {store::Value::Int64(attempts), store::Value::Int64(id)})
        .status();
  });
  Journal("out", issuer->config.institution_id, m);
  issuer->config.link->Send(std::move(m), [this, issuer, advice](Result<iso8583::Message> r) {
    if (!r.ok()) {
      std::lock_guard lock(issuer->mu);
      advice->in_flight = false;  // retried by DeliverStoredAdvices
      return;
    }
    Journal("in", issuer->config.institution_id, *r);
    stats_.advices_delivered++;
    writer_->Submit([id = advice->id](store::Store& s) -> Status {
      return s.Execute("UPDATE saf_advices SET delivered = TRUE WHERE advice_id = ?", {store::Value::Int64(id)})
          .status();
    });
    {
      std::lock_guard lock(issuer->mu);
      issuer->advices.erase(std::remove(issuer->advices.begin(), issuer->advices.end(), advice),
                            issuer->advices.end());
    }
    if (issuer->config.link->ready()) OnIssuerReady(issuer->config.institution_id);
  });
}

void Switch::OnLateResponse(const std::string& institution_id, iso8583::Message response) {
  std::shared_ptr<Issuer> issuer;
  {
    std::lock_guard lock(mu_);
    auto it = issuers_.find(institution_id);
    if (it == issuers_.end()) return;
    issuer = it->second;
  }
  Journal("in-late", institution_id, response);
  const std::string_view mti = response.mti();
  if ((mti != "0110" && mti != "0210") || response.Get(39) != std::string_view("00")) return;
  // The acquirer was already answered (stand-in or decline): undo the issuer's approval.
  stats_.late_reversals++;
  iso8583::Message reversal("0400");
  for (int f : {2, 3, 4, 6, 7, 10, 11, 32, 33, 41, 42, 49, 51}) {
    if (auto v = response.Get(f)) reversal.Set(f, *v);
  }
  reversal.Set(39, "68");  // response received too late
  iso8583::OriginalDataElements original{std::string(mti[2] == '1' && mti[1] == '1' ? "0100" : "0200"),
                                         std::string(response.Get(11).value_or("000000")),
                                         std::string(response.Get(7).value_or("0000000000")),
                                         std::string(response.Get(32).value_or("")), ""};
  if (auto de90 = original.ToField(); de90.ok()) reversal.Set(90, *de90);
  Journal("out", institution_id, reversal);
  issuer->config.link->Send(reversal, [this, issuer, reversal](Result<iso8583::Message> r) {
    if (r.ok()) return;
    iso8583::Message advice = reversal;
    advice.set_mti("0420");
    StoreAdvice(issuer->config.institution_id, std::move(advice), [](const Status&) {});
  });
}

void Switch::Reverse(iso8583::Message request, link::Reply reply) {
  stats_.requests++;
  Journal("in", "acquirer", request);
  for (int f : {2, 4, 11, 41}) {
    if (!request.Has(f))
      return FormatError(request, "DE" + std::to_string(f) + " missing", std::move(reply));
  }
  iso8583::Message stored;
  const std::string key = DuplicateDetector::Key(request);
  switch (duplicates_.Check(request, &stored, [reply](const iso8583::Message& r) { reply(r); })) {
    case DuplicateDetector::Verdict::kRepeatDone:
      return reply(std::move(stored));
    case DuplicateDetector::Verdict::kRepeatWaiting:
      return;
    case DuplicateDetector::Verdict::kDuplicate:  // a reversal sent twice is still just acknowledged
    case DuplicateDetector::Verdict::kNew:
      break;
  }
  // The issuer sees the funding PAN; a token the switch cannot resolve is not forwarded.
  iso8583::Message forward = request;
  std::string token_detail;
  std::string route_error;
  std::shared_ptr<Issuer> issuer;
  const std::string token_code = TokenStep(forward, &token_detail);
  if (TokenServiceOutage(token_code)) return LeaveUnansweredForTheTsp(request, key, token_detail);
  if (token_code.empty()) issuer = IssuerFor(std::string(*forward.Get(2)), &route_error);
  // The original: from DE90 when present, else the reversal's own STAN and time.
  std::string orig_stan(request.Get(11).value_or(""));
  std::string orig_time(request.Get(7).value_or(""));
  std::string orig_mti;
  if (auto de90 = request.Get(90)) {
    if (auto original = iso8583::OriginalDataElements::Parse(*de90); original.ok()) {
      orig_stan = original->stan;
      orig_time = original->transmission_time;
      orig_mti = iso8583::OriginalOfRepeat(original->mti);
    }
  }
  const std::string clearing_key =
      ClearingKey(request.Get(32).value_or(""), *request.Get(41), orig_stan, orig_time);
  // An original never seen is recorded as reversed (it may have overtaken it): a late original
  // then finds its record reversed and is not settled, and reconciliation counts it on both sides.
  const std::int64_t tombstone_id = next_id_++;
  const Currency* currency = CurrencyField(request.Get(49));
  const std::string currency_alpha(currency != nullptr ? currency->alpha : "XXX");
  std::int64_t amount_minor = 0;
  (void)ParseMinor(*request.Get(4), amount_minor);
  const std::string issuer_id = issuer ? issuer->config.institution_id : std::string();
  const std::string acquirer_id(request.Get(32).value_or("unknown"));
  const std::string terminal_id = TerminalId(request);
  const std::string masked = MaskCardNumber(*request.Get(2));
  const std::int64_t now = clock_.NowUnixMillis();
  const bool credit = IsCredit(request);  // the reversal repeats its original's DE3
  // A reversal is acknowledged even when its original was never seen.
  auto acknowledge = [this, request, reply, key](std::string_view code) {
    iso8583::Message response = ResponseTo(request, code);
    duplicates_.Complete(key, response);
    Journal("out", "acquirer", response);
    reply(std::move(response));
  };
  writer_->Submit(
      [=](store::Store& s) -> Status {
        TS_ASSIGN_OR_RETURN(
            std::int64_t updated,
            s.Execute("UPDATE clearing_records SET reversed = TRUE WHERE match_key = ?",
                      {store::Value::Text(clearing_key)}));
        if (updated > 0) return Status::Ok();
        return s
            .Execute(
                kInsertReversedSql,
                {store::Value::Int64(tombstone_id), store::Value::Text(clearing_key),
                 store::Value::Text(issuer_id), store::Value::Text(acquirer_id),
                 store::Value::Text(masked), store::Value::Text(currency_alpha),
                 store::Value::Int64(amount_minor), store::Value::Text(currency_alpha),
                 store::Value::Int64(amount_minor), store::Value::Int64(now),
                 store::Value::Text(terminal_id), store::Value::Text(orig_mti),
                 store::Value::Int64(amount_minor), store::Value::Bool(credit)})
            .status();
      },
      [this, issuer, forward, acknowledge, request](const Status& s) mutable {
        if (!s.ok()) return LeaveUnanswered(request, "reversed clearing record", s);
        if (!issuer) return acknowledge("00");
        forward.Set(33, options_.network_institution_id);
        auto store_for_later = [this, issuer, forward, acknowledge, request]() {
          iso8583::Message advice = forward;
          advice.set_mti("0420");
          StoreAdvice(issuer->config.institution_id, std::move(advice),
                      [this, issuer, acknowledge, request](const Status& st) {
                        if (!st.ok()) return LeaveUnanswered(request, "reversal advice", st);
                        // Delivery starts first (on an in-memory link it completes at once).
                        if (issuer->config.link->ready()) OnIssuerReady(issuer->config.institution_id);
                        acknowledge("00");
                      });
        };
        if (MustQueueFollowUp(*issuer)) return store_for_later();
        Journal("out", issuer->config.institution_id, forward);
        issuer->config.link->Send(forward, [this, issuer, acknowledge, store_for_later](Result<iso8583::Message> r) {
          if (!r.ok()) return store_for_later();
          Journal("in", issuer->config.institution_id, *r);
          acknowledge("00");
        });
      });
}

void Switch::Advise(iso8583::Message request, link::Reply reply) {
  Journal("in", "acquirer", request);
  iso8583::Message advice = request;
  std::string route_error;
  std::shared_ptr<Issuer> issuer;
  if (request.Has(2)) {
    const std::string token_code = TokenStep(advice, &route_error);
    if (TokenServiceOutage(token_code)) return LeaveUnansweredForTheTsp(request, "", route_error);
    if (token_code.empty()) issuer = IssuerFor(std::string(*advice.Get(2)), &route_error);
  }
  auto acknowledge = [this, request, reply](std::string_view code) {
    iso8583::Message response = ResponseTo(request, code);
    Journal("out", "acquirer", response);
    reply(std::move(response));
  };
  if (!issuer) return acknowledge("15");
  advice.set_mti(iso8583::OriginalOfRepeat(request.mti()));
  StoreAdvice(issuer->config.institution_id, std::move(advice),
              [this, issuer, acknowledge, request](const Status& s) {
                if (!s.ok()) return LeaveUnanswered(request, "advice", s);
                acknowledge("00");
                if (issuer->config.link->ready()) OnIssuerReady(issuer->config.institution_id);
              });
}

namespace {

// What the completion's store step found and decided (written on the writer thread, read by its
// callback after the commit).
struct CompletionOutcome {
  std::string code;    // DE39 for the acquirer
  std::string detail;  // DE44 when not approved
  std::string issuer_id;
  const Currency* billing_currency = nullptr;
  std::int64_t billing_minor = 0;
  std::string de10;
  bool cross_border = false;
};

}  // namespace

void Switch::Complete(iso8583::Message request, link::Reply reply) {
  stats_.requests++;
  Journal("in", "acquirer", request);
  for (int f : {2, 4, 7, 11, 32, 41, 49, 90}) {
    if (!request.Has(f))
      return FormatError(request, "DE" + std::to_string(f) + " missing", std::move(reply));
  }
  auto original = iso8583::OriginalDataElements::Parse(*request.Get(90));
  if (!original.ok()) return FormatError(request, "DE90: expected n42", std::move(reply));
  if (iso8583::OriginalOfRepeat(original->mti) != "0100") {
    return FormatError(request, "DE90: original not 0100", std::move(reply));
  }
  std::int64_t final_minor = 0;
  if (!ParseMinor(*request.Get(4), final_minor))
    return FormatError(request, "DE4: expected n12", std::move(reply));
  const Currency* currency = CurrencyField(request.Get(49));
  if (currency == nullptr) return FormatError(request, "DE49 unknown", std::move(reply));

  const std::string key = DuplicateDetector::Key(request);
  auto answer = [this, request, reply, key](std::string_view code, const std::string& detail) {
    iso8583::Message response = ResponseTo(request, code);
    if (!detail.empty()) response.Set(44, detail.substr(0, 25));
    duplicates_.Complete(key, response);
    Journal("out", "acquirer", response);
    reply(std::move(response));
  };
  if (AnsweredAsRepeat(request, reply)) return;
  if (final_minor == 0) return answer("13", "DE4 zero: reverse instead");
  iso8583::Message forward = request;
  std::string token_detail;
  if (std::string code = TokenStep(forward, &token_detail); !code.empty()) {
    if (TokenServiceOutage(code)) return LeaveUnansweredForTheTsp(request, key, token_detail);
    return answer(code, token_detail);
  }

  const std::string clearing_key = ClearingKey(request.Get(32).value_or(""), *request.Get(41),
                                               original->stan, original->transmission_time);
  auto outcome = std::make_shared<CompletionOutcome>();
  writer_->Submit(
      [outcome, clearing_key, final_minor, currency](store::Store& s) -> Status {
        *outcome = CompletionOutcome{};  // the batch may run again after a conflict
        auto row = s.QueryRow(
            "SELECT record_id, issuer_id, original_mti, txn_currency, authorized_amount_minor, "
            "billing_currency, billing_amount_minor, fx_mantissa, fx_scale, fx_markup_bps, "
            "reversed, "
            "settled_cycle FROM clearing_records WHERE match_key = ?",
            {store::Value::Text(clearing_key)});
        if (!row.ok() && row.status().code() == ErrorCode::kNotFound) {
          outcome->code = "25";
          outcome->detail = "original not found";
          return Status::Ok();
        }
        TS_RETURN_IF_ERROR(row.status());
        TS_ASSIGN_OR_RETURN(std::int64_t record_id, row->GetInt64("record_id"));
        TS_ASSIGN_OR_RETURN(outcome->issuer_id, row->GetText("issuer_id"));
        TS_ASSIGN_OR_RETURN(std::string original_mti, row->GetText("original_mti"));
        TS_ASSIGN_OR_RETURN(std::string txn_currency, row->GetText("txn_currency"));
        TS_ASSIGN_OR_RETURN(std::int64_t authorized_minor,
                            row->GetInt64("authorized_amount_minor"));
        TS_ASSIGN_OR_RETURN(std::string billing_alpha, row->GetText("billing_currency"));
        TS_ASSIGN_OR_RETURN(std::int64_t billing_authorized_minor,
                            row->GetInt64("billing_amount_minor"));
        FxRate rate;
        TS_ASSIGN_OR_RETURN(rate.mantissa, row->GetInt64("fx_mantissa"));
        TS_ASSIGN_OR_RETURN(std::int64_t scale, row->GetInt64("fx_scale"));
        rate.scale = static_cast<int>(scale);
        TS_ASSIGN_OR_RETURN(std::int64_t markup_bps, row->GetInt64("fx_markup_bps"));
        TS_ASSIGN_OR_RETURN(bool reversed, row->GetBool("reversed"));
        TS_ASSIGN_OR_RETURN(std::int64_t settled_cycle, row->GetInt64("settled_cycle"));
        if (reversed) {
          outcome->code = "12";
          outcome->detail = "original reversed";
        } else if (original_mti != "0100") {
          outcome->code = "12";
          outcome->detail = "original not 0100";
        } else if (settled_cycle != 0) {
          outcome->code = "12";
          outcome->detail = "original already settled";
        } else if (txn_currency != currency->alpha) {
          outcome->code = "30";
          outcome->detail = "DE49 not the original's";
        } else if (final_minor > authorized_minor) {
          outcome->code = "13";
          outcome->detail = "DE4 above authorised";
        }
        if (!outcome->code.empty()) return Status::Ok();
        auto billing = CurrencyByAlpha(billing_alpha);
        if (!billing.ok())
          return billing.status().WithContext("clearing record " + std::to_string(record_id));
        outcome->billing_currency = *billing;
        outcome->cross_border = !(**billing == *currency);
        if (!outcome->cross_border) {
          outcome->billing_minor = final_minor;
        } else if (rate.mantissa > 0) {
          TS_ASSIGN_OR_RETURN(Conversion c, FxTable::ConvertAt(Amount(final_minor, *currency),
                                                               **billing, rate, markup_bps));
          outcome->billing_minor = c.billing.minor_units();
          outcome->de10 = c.de10;
        } else {
          // A record from before the rate was kept: the billed amount scales with the captured one.
          const Int128 scaled = static_cast<Int128>(billing_authorized_minor) * final_minor;
          outcome->billing_minor = authorized_minor == 0
                                       ? 0
                                       : static_cast<std::int64_t>((scaled * 2 + authorized_minor) /
                                                                   (2 * authorized_minor));
        }
        TS_RETURN_IF_ERROR(
            s.Execute("UPDATE clearing_records SET txn_amount_minor = ?, billing_amount_minor = ?, "
                      "completed = TRUE WHERE record_id = ?",
                      {store::Value::Int64(final_minor),
                       store::Value::Int64(outcome->billing_minor), store::Value::Int64(record_id)})
                .status());
        outcome->code = "00";
        return Status::Ok();
      },
      [this, outcome, forward, answer, request](const Status& s) mutable {
        if (!s.ok()) return LeaveUnanswered(request, "completion", s);
        if (outcome->code != "00") return answer(outcome->code, outcome->detail);
        stats_.completions++;
        // The settled amount is durable; now the issuer must hear of it (or it waits in the SAF).
        forward.set_mti(iso8583::OriginalOfRepeat(forward.mti()));
        forward.Set(33, options_.network_institution_id);
        if (outcome->cross_border) {
          forward.Set(6, Digits(outcome->billing_minor, 12));
          if (!outcome->de10.empty()) forward.Set(10, outcome->de10);
          forward.Set(51, Digits(outcome->billing_currency->numeric, 3));
        }
        const std::string issuer_id = outcome->issuer_id;
        auto store_for_later = [this, issuer_id, forward, answer, request]() {
          StoreAdvice(issuer_id, forward, [this, answer, request](const Status& st) {
            if (!st.ok()) return LeaveUnanswered(request, "completion advice", st);
            DeliverStoredAdvices();  // first: on an in-memory link it completes at once
            answer("00", "");
          });
        };
        std::shared_ptr<Issuer> issuer = IssuerById(issuer_id);
        if (!issuer || MustQueueFollowUp(*issuer)) return store_for_later();
        Journal("out", issuer_id, forward);
        issuer->config.link->Send(
            forward, [this, issuer_id, answer, store_for_later](Result<iso8583::Message> r) {
              if (!r.ok()) return store_for_later();
              Journal("in", issuer_id, *r);
              if (r->Get(39) != std::string_view("00")) {
                spdlog::warn("switch: issuer {} answered a completion advice with {}", issuer_id,
                             r->Get(39).value_or("no DE39"));
              }
              answer("00", "");
            });
      });
}

namespace {

// What the reconciliation's store step found (see CompletionOutcome).
struct ReconciliationOutcome {
  ReconciliationTotals network;
  bool in_balance = false;
};

}  // namespace

void Switch::Reconcile(iso8583::Message request, link::Reply reply) {
  stats_.requests++;
  Journal("in", "acquirer", request);
  for (int f : {7, 11, 32, 41, 50}) {
    if (!request.Has(f))
      return FormatError(request, "DE" + std::to_string(f) + " missing", std::move(reply));
  }
  const Currency* currency = CurrencyField(request.Get(50));
  if (currency == nullptr) return FormatError(request, "DE50 unknown", std::move(reply));
  if (auto date = request.Get(15); date && !ValidMonthDay(*date)) {
    return FormatError(request, "DE15: expected MMDD", std::move(reply));
  }
  auto terminal = ReconciliationTotals::ReadFrom(request);
  if (!terminal.ok()) return FormatError(request, terminal.status().message(), std::move(reply));

  const std::string key = DuplicateDetector::Key(request);
  if (AnsweredAsRepeat(request, reply)) return;
  const std::string acquirer_id(*request.Get(32));
  const std::string terminal_id = TerminalId(request);
  const std::string currency_alpha(currency->alpha);
  auto outcome = std::make_shared<ReconciliationOutcome>();
  writer_->Submit(
      [outcome, acquirer_id, terminal_id, currency_alpha,
       theirs = *terminal](store::Store& s) -> Status {
        TS_ASSIGN_OR_RETURN(outcome->network,
                            OpenBatchTotalsIn(s, acquirer_id, terminal_id, currency_alpha));
        outcome->in_balance = outcome->network == theirs;
        if (!outcome->in_balance) return Status::Ok();
        // In balance: the terminal's batch is closed on both sides, in this same transaction.
        return s
            .Execute(
                "UPDATE clearing_records SET reconciled = TRUE WHERE acquirer_id = ? AND "
                "terminal_id = ? AND txn_currency = ? AND reconciled = FALSE",
                {store::Value::Text(acquirer_id), store::Value::Text(terminal_id),
                 store::Value::Text(currency_alpha)})
            .status();
      },
      [this, outcome, request, reply, key, acquirer_id, terminal_id, currency_alpha,
       theirs = *terminal](const Status& s) {
        iso8583::Message response = ResponseTo(request, "00");
        Status written = s;
        if (written.ok()) {
          if (auto date = request.Get(15)) response.Set(15, *date);
          response.Set(50, *request.Get(50));
          response.Set(66,
                       outcome->in_balance ? "1" : "2");  // settlement code: 1 in balance, 2 out
          written = outcome->network.WriteTo(response);
        }
        if (!written.ok()) {
          spdlog::error("switch: reconciliation of terminal {} failed ({}); answering 96",
                        terminal_id, written.ToString());
          response = ResponseTo(request, "96");
        } else {
          stats_.reconciliations++;
          if (!outcome->in_balance) {
            stats_.reconciliations_out_of_balance++;
            spdlog::warn(
                "switch: terminal {} of acquirer {} out of balance in {}: terminal says {}; "
                "network has {}",
                terminal_id, acquirer_id, currency_alpha, theirs.ToString(),
                outcome->network.ToString());
          }
        }
        duplicates_.Complete(key, response);
        Journal("out", "acquirer", response);
        reply(std::move(response));
      });
}

std::map<std::string, std::int64_t> Switch::PendingAdvices() {
  std::map<std::string, std::int64_t> out;
  std::lock_guard lock(mu_);
  for (auto& [id, issuer] : issuers_) {
    std::lock_guard issuer_lock(issuer->mu);
    out[id] = static_cast<std::int64_t>(issuer->advices.size());
  }
  return out;
}

std::vector<IssuerLinkState> Switch::IssuerLinks() {
  std::vector<IssuerLinkState> out;
  std::lock_guard lock(mu_);
  for (auto& [id, issuer] : issuers_) {
    IssuerLinkState state;
    state.institution_id = id;
    state.name = issuer->config.name;
    state.ready = issuer->config.link->ready();
    {
      std::lock_guard issuer_lock(issuer->mu);
      state.advices_pending = static_cast<std::int64_t>(issuer->advices.size());
    }
    state.stand_in_approved = issuer->stand_in_approved.load(std::memory_order_relaxed);
    state.stand_in_declined = issuer->stand_in_declined.load(std::memory_order_relaxed);
    out.push_back(std::move(state));
  }
  return out;
}

Result<std::vector<JournalEntry>> Switch::JournalEntries(const JournalQuery& query) {
  if (query.rows_max == 0 || query.rows_max > kJournalQueryRowsMax) {
    return InvalidArgument("rows_max: expected 1 to " + std::to_string(kJournalQueryRowsMax));
  }
  if (query.stans.size() > kJournalQueryStansMax) {
    return InvalidArgument("stans: at most " + std::to_string(kJournalQueryStansMax));
  }
  std::string sql =
      "SELECT entry_id, unix_ms, direction, peer, mti, stan, masked_pan, response_code, "
      "message_json FROM journal WHERE 1 = 1";
  std::vector<store::Value> params;
  if (!query.masked_pan.empty()) {
    sql += " AND masked_pan = ?";
    params.push_back(store::Value::Text(query.masked_pan));
  }
  if (!query.pan_last4.empty()) {
    // Digits only: the pattern can hold no LIKE wildcard.
    const bool digits = query.pan_last4.size() == 4 &&
                        std::all_of(query.pan_last4.begin(), query.pan_last4.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return InvalidArgument("pan_last4: expected 4 digits");
    sql += " AND masked_pan LIKE ?";
    params.push_back(store::Value::Text("%" + query.pan_last4));
  }
  if (!query.stans.empty()) {
    sql += " AND stan IN (";
    for (std::size_t i = 0; i < query.stans.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      params.push_back(store::Value::Text(query.stans[i]));
    }
    sql += ")";
  }
  sql += " ORDER BY entry_id DESC LIMIT " + std::to_string(query.rows_max);
  std::vector<JournalEntry> out;
  TS_RETURN_IF_ERROR(journal_writer_->RunExclusive([&](store::Store& s) -> Status {
    out.clear();
    TS_ASSIGN_OR_RETURN(store::Rows rows, s.Query(sql, params));
    for (const store::Row& row : rows) {
      JournalEntry e;
      TS_ASSIGN_OR_RETURN(e.entry_id, row.GetInt64("entry_id"));
      TS_ASSIGN_OR_RETURN(e.unix_ms, row.GetInt64("unix_ms"));
      TS_ASSIGN_OR_RETURN(e.direction, row.GetText("direction"));
      TS_ASSIGN_OR_RETURN(e.peer, row.GetText("peer"));
      TS_ASSIGN_OR_RETURN(e.mti, row.GetText("mti"));
      TS_ASSIGN_OR_RETURN(e.stan, row.GetText("stan"));
      TS_ASSIGN_OR_RETURN(e.masked_pan, row.GetText("masked_pan"));
      TS_ASSIGN_OR_RETURN(e.response_code, row.GetText("response_code"));
      TS_ASSIGN_OR_RETURN(e.message_json, row.GetText("message_json"));
      out.push_back(std::move(e));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ClearingRecord>> Switch::ClearingRecords(const ClearingFilter& filter) {
  std::string sql =
      "SELECT record_id, issuer_id, acquirer_id, terminal_id, masked_pan, original_mti, "
      "txn_currency, "
      "txn_amount_minor, authorized_amount_minor, billing_currency, billing_amount_minor, "
      "approval_code, "
      "stand_in, reversed, completed, reconciled, settled_cycle, credit FROM clearing_records "
      "WHERE 1 = 1";
  std::vector<store::Value> params;
  if (!filter.acquirer_id.empty()) {
    sql += " AND acquirer_id = ?";
    params.push_back(store::Value::Text(filter.acquirer_id));
  }
  if (!filter.terminal_id.empty()) {
    sql += " AND terminal_id = ?";
    params.push_back(store::Value::Text(filter.terminal_id));
  }
  if (filter.current_cycle_only) sql += " AND settled_cycle = 0";
  sql += " ORDER BY record_id";
  std::vector<ClearingRecord> out;
  TS_RETURN_IF_ERROR(writer_->RunExclusive([&](store::Store& s) -> Status {
    out.clear();
    TS_ASSIGN_OR_RETURN(store::Rows rows, s.Query(sql, params));
    for (const store::Row& row : rows) {
      ClearingRecord r;
      TS_ASSIGN_OR_RETURN(r.record_id, row.GetInt64("record_id"));
      TS_ASSIGN_OR_RETURN(r.issuer_id, row.GetText("issuer_id"));
      TS_ASSIGN_OR_RETURN(r.acquirer_id, row.GetText("acquirer_id"));
      TS_ASSIGN_OR_RETURN(r.terminal_id, row.GetText("terminal_id"));
      TS_ASSIGN_OR_RETURN(r.masked_pan, row.GetText("masked_pan"));
      TS_ASSIGN_OR_RETURN(r.original_mti, row.GetText("original_mti"));
      TS_ASSIGN_OR_RETURN(r.txn_currency, row.GetText("txn_currency"));
      TS_ASSIGN_OR_RETURN(r.txn_amount_minor, row.GetInt64("txn_amount_minor"));
      TS_ASSIGN_OR_RETURN(r.authorized_amount_minor, row.GetInt64("authorized_amount_minor"));
      TS_ASSIGN_OR_RETURN(r.billing_currency, row.GetText("billing_currency"));
      TS_ASSIGN_OR_RETURN(r.billing_amount_minor, row.GetInt64("billing_amount_minor"));
      TS_ASSIGN_OR_RETURN(r.approval_code, row.GetText("approval_code"));
      TS_ASSIGN_OR_RETURN(r.stand_in, row.GetBool("stand_in"));
      TS_ASSIGN_OR_RETURN(r.reversed, row.GetBool("reversed"));
      TS_ASSIGN_OR_RETURN(r.completed, row.GetBool("completed"));
      TS_ASSIGN_OR_RETURN(r.reconciled, row.GetBool("reconciled"));
      TS_ASSIGN_OR_RETURN(r.settled_cycle, row.GetInt64("settled_cycle"));
      TS_ASSIGN_OR_RETURN(r.credit, row.GetBool("credit"));
      out.push_back(std::move(r));
    }
    return Status::Ok();
  }));
  return out;
}

Result<ReconciliationTotals> Switch::OpenBatchTotals(const std::string& acquirer_id,
                                                     const std::string& terminal_id,
                                                     const Currency& currency) {
  ReconciliationTotals totals;
  TS_RETURN_IF_ERROR(writer_->RunExclusive([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(totals, OpenBatchTotalsIn(s, acquirer_id, terminal_id, currency.alpha));
    return Status::Ok();
  }));
  return totals;
}

Result<SettlementReport> Switch::CutOff() {
  SettlementReport report;
  const std::int64_t now = clock_.NowUnixMillis();
  std::map<std::pair<std::string, std::string>, SettlementPosition> positions;  // (currency, bank)
  auto at = [&](const std::string& bank, const std::string& currency) -> SettlementPosition& {
    SettlementPosition& p = positions[{currency, bank}];
    p.institution_id = bank;
    p.currency = currency;
    return p;
  };
  const std::string network = options_.network_institution_id;
  Status status = writer_->RunExclusive([&](store::Store& s) -> Status {
    report.cycle = cycle_;
    TS_ASSIGN_OR_RETURN(store::Rows rows,
                        s.Query("SELECT issuer_id, acquirer_id, txn_currency, txn_amount_minor, "
                                "billing_currency, billing_amount_minor, credit "
                                "FROM clearing_records "
                                "WHERE settled_cycle = 0 AND reversed = FALSE"));
    for (const store::Row& row : rows) {
      TS_ASSIGN_OR_RETURN(std::string issuer, row.GetText("issuer_id"));
      TS_ASSIGN_OR_RETURN(std::string acquirer, row.GetText("acquirer_id"));
      TS_ASSIGN_OR_RETURN(std::string t, row.GetText("txn_currency"));
      TS_ASSIGN_OR_RETURN(std::int64_t at_minor, row.GetInt64("txn_amount_minor"));
      TS_ASSIGN_OR_RETURN(std::string b, row.GetText("billing_currency"));
      TS_ASSIGN_OR_RETURN(std::int64_t ab_minor, row.GetInt64("billing_amount_minor"));
      TS_ASSIGN_OR_RETURN(bool credit, row.GetBool("credit"));
      // A credit to a card (a refund) flows the other way: the acquirer pays and the issuer is
      // paid, and the interchange goes back from the issuer to the acquirer. Scheme fees are
      // charged on every transaction either way.
      const std::int64_t sign = credit ? -1 : 1;
      const std::int64_t interchange_t = Bps(at_minor, options_.interchange_bps);
      const std::int64_t scheme_acq = Bps(at_minor, options_.scheme_fee_bps);
      const std::int64_t interchange_b = Bps(ab_minor, options_.interchange_bps);
      const std::int64_t scheme_iss = Bps(ab_minor, options_.scheme_fee_bps);
      SettlementPosition& acq = at(acquirer, t);
      acq.as_acquirer_minor += sign * at_minor;
      acq.fees_minor -= sign * interchange_t + scheme_acq;
      acq.transactions++;
      SettlementPosition& iss = at(issuer, b);
      iss.as_issuer_minor -= sign * ab_minor;
      iss.fees_minor += sign * interchange_b - scheme_iss;
      iss.transactions++;
      // The network earns the scheme fees; across currencies it also carries the FX legs, passing
      // interchange from the acquirer's currency to the issuer's.
      at(network, t).fees_minor += scheme_acq;
      at(network, b).fees_minor += scheme_iss;
      if (t == b) {
        at(network, t).fees_minor += sign * (interchange_t - interchange_b);  // zero: same base
      } else {
        at(network, t).as_issuer_minor += sign * (-at_minor + interchange_t);
        at(network, b).as_acquirer_minor += sign * (ab_minor - interchange_b);
      }
      report.records++;
    }
    TS_RETURN_IF_ERROR(s.Execute("UPDATE clearing_records SET settled_cycle = ? WHERE settled_cycle = 0",
                                 {store::Value::Int64(cycle_)})
                           .status());
    for (auto& [k, p] : positions) {
      p.net_minor = p.as_issuer_minor + p.as_acquirer_minor + p.fees_minor;
      report.positions.push_back(p);
    }
    return s.Execute("INSERT INTO settlement_cycles (cycle, closed_unix_ms, report_json) VALUES (?, ?, ?)",
                     {store::Value::Int64(cycle_), store::Value::Int64(now), store::Value::Text(report.ToJson())})
        .status();
  });
  TS_RETURN_IF_ERROR(status);
  ++cycle_;
  return report;
}

std::string SettlementReport::ToCsv() const {
  std::string out = "cycle,institution_id,currency,transactions,as_issuer_minor,as_acquirer_minor,fees_minor,net_minor\n";
  for (const auto& p : positions) {
    out += std::to_string(cycle) + "," + p.institution_id + "," + p.currency + "," +
           std::to_string(p.transactions) + "," + std::to_string(p.as_issuer_minor) + "," +
           std::to_string(p.as_acquirer_minor) + "," + std::to_string(p.fees_minor) + "," +
           std::to_string(p.net_minor) + "\n";
  }
  return out;
}

std::string SettlementReport::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : positions) {
    list.push_back({{"institution_id", p.institution_id}, {"currency", p.currency},
                    {"transactions", p.transactions}, {"as_issuer_minor", p.as_issuer_minor},
                    {"as_acquirer_minor", p.as_acquirer_minor}, {"fees_minor", p.fees_minor},
                    {"net_minor", p.net_minor}});
  }
  return nlohmann::json{{"cycle", cycle}, {"records", records}, {"positions", list}}.dump();
}

}  // namespace tapstack::network
