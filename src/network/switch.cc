#include "network/switch.h"

#include <algorithm>
#include <deque>

#include <spdlog/spdlog.h>

#include "core/hex.h"
#include "iso8583/codec.h"
#include "iso8583/mti.h"
#include "iso8583/original_data_elements.h"
#include "iso8583/response.h"
#include "network/journal.h"
#include "store/migration.h"

namespace tapstack::network {

using iso8583::ResponseTo;

namespace {

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
};

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
};

Switch::Switch(SwitchOptions options, BinTable bins, FxTable fx, const Clock& clock)
    : options_(std::move(options)),
      bins_(std::move(bins)),
      fx_(std::move(fx)),
      clock_(clock),
      duplicates_(clock, options_.duplicates) {}

Switch::~Switch() {
  writer_.reset();
  journal_writer_.reset();
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
  std::unique_ptr<Switch> sw(new Switch(std::move(options), std::move(bins), std::move(fx), clock));
  sw->next_id_ = next_id;
  sw->cycle_ = cycle;
  sw->writer_ = std::make_unique<BatchWriter>(std::move(store));
  sw->journal_writer_ = std::make_unique<BatchWriter>(std::move(journal_store));
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
  std::lock_guard lock(mu_);
  auto it = issuers_.find((*range)->institution_id);
  if (it == issuers_.end() || it->second->config.link == nullptr) {
    *range_error = "issuer " + (*range)->institution_id + " is not connected to the network";
    return nullptr;
  }
  return it->second;
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
                   code = std::string(m.Get(39).value_or("")), json = JournalJson(m).dump(),
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
  if (iso8583::IsAuthorizationOrFinancialAdvice(mti)) return Advise(std::move(request), std::move(reply));
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
  Journal("in", "acquirer", request);
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
    case DuplicateDetector::Verdict::kDuplicate:
      stats_.duplicates++;
      return Finish(request, ResponseTo(request, "94"), std::move(reply), "", nullptr);
    case DuplicateDetector::Verdict::kRepeatDone:
      Journal("out", "acquirer", stored);
      return reply(std::move(stored));
    case DuplicateDetector::Verdict::kRepeatWaiting:
      return;
    case DuplicateDetector::Verdict::kNew:
      break;
  }

  std::string route_error;
  std::shared_ptr<Issuer> issuer = IssuerFor(std::string(*request.Get(2)), &route_error);
  if (!issuer) {
    iso8583::Message response = ResponseTo(request, "15");
    response.Set(44, route_error.substr(0, 25));
    return Finish(request, std::move(response), std::move(reply), key, nullptr);
  }

  // Cross-border: the cardholder is billed in the issuer's currency at the network's rate.
  const Amount amount(std::stoll(std::string(*request.Get(4))), **currency);
  const Currency& billing = *issuer->config.billing_currency;
  if (!(billing == **currency)) {
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
    return StandIn(std::move(issuer), std::move(request), std::move(reply), std::move(duplicate_key),
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

void Switch::StandIn(std::shared_ptr<Issuer> issuer, iso8583::Message request, link::Reply reply,
                     std::string duplicate_key, const std::string& why) {
  const StandInParameters& stip = issuer->config.stand_in;
  const std::string_view billing_field = request.Has(6) ? *request.Get(6) : *request.Get(4);
  const std::int64_t billing_minor = std::stoll(std::string(billing_field));
  if (!stip.approve_within_limits || billing_minor > stip.per_transaction_limit_minor) {
    stats_.stand_in_declined++;
    spdlog::info("switch: stand-in decline for issuer {} ({})", issuer->config.institution_id, why);
    return Finish(request, ResponseTo(request, "91"), std::move(reply), duplicate_key, issuer.get());
  }
  stats_.stand_in_approved++;
  iso8583::Message response = ResponseTo(request, "00");
  response.Set(38, NextApprovalCode());
  // The advice tells the issuer what was approved on its behalf: 0120 for 0100, 0220 for 0200.
  iso8583::Message advice = request;
  advice.set_mti(request.mti()[1] == '1' ? "0120" : "0220");
  advice.Set(38, *response.Get(38));
  advice.Set(39, "00");
  StoreAdvice(*issuer, std::move(advice),
              [this, issuer, request, response, reply = std::move(reply), duplicate_key](const Status& s) mutable {
                if (!s.ok()) {
                  // Nothing durable records the approval: do not give it.
                  return Finish(request, ResponseTo(request, "96"), std::move(reply), duplicate_key, nullptr);
                }
                Finish(request, std::move(response), std::move(reply), duplicate_key, issuer.get());
              });
}

void Switch::Finish(const iso8583::Message& request, iso8583::Message response, link::Reply reply,
                    const std::string& duplicate_key, const Issuer* issuer) {
  const bool approved = response.Get(39) == std::string_view("00");
  if (!approved || issuer == nullptr) {
    stats_.declined++;
    duplicates_.Complete(duplicate_key, response);
    Journal("out", "acquirer", response);
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
  const std::string issuer_id = issuer->config.institution_id;
  const std::string acquirer_id(request.Get(32).value_or("unknown"));
  const std::string masked = MaskCardNumber(*request.Get(2));
  const std::string fx_rate(request.Get(10).value_or(""));
  const std::string approval(response.Get(38).value_or(""));
  const bool stand_in = !approval.empty() && approval[0] == 'S';
  writer_->Submit(
      [=](store::Store& s) -> Status {
        return s.Execute(
                    "INSERT INTO clearing_records (record_id, match_key, issuer_id, acquirer_id, masked_pan, "
                    "txn_currency, txn_amount_minor, billing_currency, billing_amount_minor, fx_rate, "
                    "approval_code, stand_in, reversed, settled_cycle, created_unix_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, 0, ?) ON CONFLICT (match_key) DO NOTHING",
                    {store::Value::Int64(id), store::Value::Text(key), store::Value::Text(issuer_id),
                     store::Value::Text(acquirer_id), store::Value::Text(masked), store::Value::Text(txn_alpha),
                     store::Value::Int64(txn_minor), store::Value::Text(billing_alpha),
                     store::Value::Int64(billing_minor), store::Value::Text(fx_rate),
                     store::Value::Text(approval), store::Value::Bool(stand_in), store::Value::Int64(now)})
            .status();
      },
      [this, response = std::move(response), reply = std::move(reply), duplicate_key,
       request](const Status& s) mutable {
        if (!s.ok()) {
          spdlog::error("switch: clearing record not durable ({}); answering 96", s.ToString());
          response = ResponseTo(request, "96");
        }
        duplicates_.Complete(duplicate_key, response);
        Journal("out", "acquirer", response);
        reply(std::move(response));
      });
}

void Switch::StoreAdvice(const Issuer& issuer, iso8583::Message advice,
                         std::function<void(const Status&)> done) {
  auto record = std::make_shared<Advice>();
  record->id = next_id_++;
  record->message = std::move(advice);
  const std::string issuer_id = issuer.config.institution_id;
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
            target = issuers_[issuer_id];
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
    if (it == issuers_.end()) return;
    issuer = it->second;
  }
  std::vector<std::shared_ptr<Advice>> to_send;
  {
    std::lock_guard lock(issuer->mu);
    for (auto& a : issuer->advices) {
      if (!a->in_flight && a->attempts < options_.saf_attempts_before_manual) {
        a->in_flight = true;
        to_send.push_back(a);
      }
    }
  }
  for (auto& a : to_send) SendAdvice(issuer, a);
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
    std::lock_guard lock(issuer->mu);
    issuer->advices.erase(std::remove(issuer->advices.begin(), issuer->advices.end(), advice),
                          issuer->advices.end());
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
    StoreAdvice(*issuer, std::move(advice), [](const Status&) {});
  });
}

void Switch::Reverse(iso8583::Message request, link::Reply reply) {
  stats_.requests++;
  Journal("in", "acquirer", request);
  for (int f : {2, 4, 11, 41}) {
    if (!request.Has(f)) {
      stats_.format_errors++;
      iso8583::Message response = ResponseTo(request, "30");
      response.Set(44, "DE" + std::to_string(f) + " missing");
      Journal("out", "acquirer", response);
      return reply(std::move(response));
    }
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
  std::string route_error;
  std::shared_ptr<Issuer> issuer = IssuerFor(std::string(*request.Get(2)), &route_error);
  // The original: from DE90 when present, else the reversal's own STAN and time.
  std::string orig_stan(request.Get(11).value_or(""));
  std::string orig_time(request.Get(7).value_or(""));
  if (auto de90 = request.Get(90)) {
    if (auto original = iso8583::OriginalDataElements::Parse(*de90); original.ok()) {
      orig_stan = original->stan;
      orig_time = original->transmission_time;
    }
  }
  const std::string clearing_key =
      ClearingKey(request.Get(32).value_or(""), *request.Get(41), orig_stan, orig_time);
  // A reversal is acknowledged even when its original was never seen (it may have overtaken it).
  auto acknowledge = [this, request, reply, key](std::string_view code) {
    iso8583::Message response = ResponseTo(request, code);
    duplicates_.Complete(key, response);
    Journal("out", "acquirer", response);
    reply(std::move(response));
  };
  writer_->Submit(
      [clearing_key](store::Store& s) -> Status {
        return s.Execute("UPDATE clearing_records SET reversed = TRUE WHERE match_key = ?",
                         {store::Value::Text(clearing_key)})
            .status();
      },
      [this, issuer, request, acknowledge](const Status& s) mutable {
        if (!s.ok()) return acknowledge("96");
        if (!issuer) return acknowledge("00");
        iso8583::Message forward = request;
        forward.Set(33, options_.network_institution_id);
        auto store_for_later = [this, issuer, forward, acknowledge]() {
          iso8583::Message advice = forward;
          advice.set_mti("0420");
          StoreAdvice(*issuer, std::move(advice),
                      [acknowledge](const Status& st) { acknowledge(st.ok() ? "00" : "96"); });
        };
        if (!issuer->config.link->ready()) return store_for_later();
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
  std::string route_error;
  std::shared_ptr<Issuer> issuer =
      request.Has(2) ? IssuerFor(std::string(*request.Get(2)), &route_error) : nullptr;
  auto acknowledge = [this, request, reply](std::string_view code) {
    iso8583::Message response = ResponseTo(request, code);
    Journal("out", "acquirer", response);
    reply(std::move(response));
  };
  if (!issuer) return acknowledge("15");
  iso8583::Message advice = request;
  advice.set_mti(iso8583::OriginalOfRepeat(request.mti()));
  StoreAdvice(*issuer, std::move(advice), [this, issuer, acknowledge](const Status& s) {
    acknowledge(s.ok() ? "00" : "96");
    if (s.ok() && issuer->config.link->ready()) OnIssuerReady(issuer->config.institution_id);
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
                                "billing_currency, billing_amount_minor FROM clearing_records "
                                "WHERE settled_cycle = 0 AND reversed = FALSE"));
    for (const store::Row& row : rows) {
      TS_ASSIGN_OR_RETURN(std::string issuer, row.GetText("issuer_id"));
      TS_ASSIGN_OR_RETURN(std::string acquirer, row.GetText("acquirer_id"));
      TS_ASSIGN_OR_RETURN(std::string t, row.GetText("txn_currency"));
      TS_ASSIGN_OR_RETURN(std::int64_t at_minor, row.GetInt64("txn_amount_minor"));
      TS_ASSIGN_OR_RETURN(std::string b, row.GetText("billing_currency"));
      TS_ASSIGN_OR_RETURN(std::int64_t ab_minor, row.GetInt64("billing_amount_minor"));
      const std::int64_t interchange_t = Bps(at_minor, options_.interchange_bps);
      const std::int64_t scheme_acq = Bps(at_minor, options_.scheme_fee_bps);
      const std::int64_t interchange_b = Bps(ab_minor, options_.interchange_bps);
      const std::int64_t scheme_iss = Bps(ab_minor, options_.scheme_fee_bps);
      SettlementPosition& acq = at(acquirer, t);
      acq.as_acquirer_minor += at_minor;
      acq.fees_minor -= interchange_t + scheme_acq;
      acq.transactions++;
      SettlementPosition& iss = at(issuer, b);
      iss.as_issuer_minor -= ab_minor;
      iss.fees_minor += interchange_b - scheme_iss;
      iss.transactions++;
      // The network earns the scheme fees; across currencies it also carries the FX legs, passing
      // interchange from the acquirer's currency to the issuer's.
      at(network, t).fees_minor += scheme_acq;
      at(network, b).fees_minor += scheme_iss;
      if (t == b) {
        at(network, t).fees_minor += interchange_t - interchange_b;  // zero: same base amount
      } else {
        at(network, t).as_issuer_minor += -at_minor + interchange_t;
        at(network, b).as_acquirer_minor += ab_minor - interchange_b;
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
