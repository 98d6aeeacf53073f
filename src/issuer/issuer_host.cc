#include "issuer/issuer_host.h"

#include <ctime>

#include <spdlog/spdlog.h>

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "iso8583/mti.h"
#include "iso8583/original_data_elements.h"
#include "iso8583/response.h"
#include "ledger/limits.h"
#include "store/migration.h"
#include "store/sqlite_store.h"

namespace tapstack::issuer {

namespace {

using ledger::Id128;
namespace rc = response_code;

// Chart of accounts (ledger account codes) and transfer codes.
constexpr std::uint16_t kSettlementAccountCode = 1;   // the bank's position toward the network
constexpr std::uint16_t kFundingAccountCode = 2;      // source of opening deposits / credit lines
constexpr std::uint16_t kStandInLossAccountCode = 3;  // pays stand-in approvals cards cannot cover
constexpr std::uint16_t kDebitCardAccountCode = 10;
constexpr std::uint16_t kCreditCardAccountCode = 11;
constexpr std::uint16_t kTransferPurchase = 1;
constexpr std::uint16_t kTransferOpening = 2;
constexpr std::uint16_t kTransferRefund = 3;
constexpr std::uint16_t kTransferStandIn = 4;

const store::Migration kMigrations[] = {
    {.version = 1,
     .description = "cards",
     .sql = "CREATE TABLE cards (fingerprint TEXT PRIMARY KEY, institution_id TEXT NOT NULL, "
            "masked_pan TEXT NOT NULL, expiry TEXT NOT NULL, status TEXT NOT NULL, card_type TEXT NOT NULL, "
            "account_low BIGINT NOT NULL, account_high BIGINT NOT NULL, per_transaction_limit_minor BIGINT NOT NULL, "
            "daily_limit_minor BIGINT NOT NULL, daily_transactions_max BIGINT NOT NULL, blocked_mccs TEXT NOT NULL)",
     .sqlite_sql = "",
     .postgres_sql = ""},
};

// A 128-bit ledger id from a name: the first 16 bytes of SHA-256(name). Deterministic, so
// retries and re-seeding produce the same ids.
Id128 IdFor(std::string_view name) {
  auto digest = crypto::Sha256(AsBytes(name));
  Id128 id;
  if (!digest.ok()) return id;
  for (int i = 0; i < 8; ++i) id.low = (id.low << 8) | (*digest)[static_cast<std::size_t>(i)];
  for (int i = 8; i < 16; ++i) id.high = (id.high << 8) | (*digest)[static_cast<std::size_t>(i)];
  return id;
}

std::string RequestKey(std::string_view bank, std::string_view acquirer, std::string_view terminal,
                       std::string_view stan, std::string_view time) {
  std::string key(bank);
  for (std::string_view part : {acquirer, terminal, stan, time}) {
    key += '|';
    key += part;
  }
  return key;
}

std::int64_t ParseMinor(std::string_view digits) {
  std::int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// The issuer's business date in UTC as YYMMDD.
std::string TodayYymmdd(const Clock& clock) {
  std::time_t seconds = clock.NowUnixMillis() / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02d%02d%02d", tm.tm_year % 100, (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
  return buf;
}

// The approval code (DE38): 6 characters of the hold's id, so a dispute finds the transfer.
std::string ApprovalCode(const Id128& id) { return id.ToHex().substr(0, 6); }

}  // namespace

struct IssuerHost::Bank {
  IssuerBankConfig config;
  Id128 settlement_account;
  Id128 funding_account;
  Id128 stand_in_loss_account;
};

Result<std::unique_ptr<IssuerHost>> IssuerHost::Open(IssuerOptions options,
                                                     std::vector<IssuerBankConfig> banks) {
  std::unique_ptr<IssuerHost> host(new IssuerHost());
  host->clock_ = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  host->options_ = std::move(options);
  TS_ASSIGN_OR_RETURN(host->cards_store_, store::OpenSqlite(host->options_.data_dir, host->options_.name));
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*host->cards_store_, kMigrations));
  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = host->options_.data_dir;
  ledger_options.name = host->options_.name + "_ledger";
  ledger_options.clock = host->clock_;
  TS_ASSIGN_OR_RETURN(host->ledger_, ledger::Ledger::Open(ledger_options));

  // Each bank's own accounts, created idempotently.
  std::vector<ledger::Account> accounts;
  for (IssuerBankConfig& config : banks) {
    if (config.currency == nullptr || config.pan_fingerprint_key.size() < 16) {
      return InvalidArgument("bank " + config.institution_id + ": currency and a 16+ byte PAN key are required");
    }
    auto bank = std::make_unique<Bank>();
    const std::string& id = config.institution_id;
    bank->settlement_account = IdFor("settlement|" + id);
    bank->funding_account = IdFor("funding|" + id);
    bank->stand_in_loss_account = IdFor("stand-in-loss|" + id);
    for (auto [account_id, code] : {std::pair{bank->settlement_account, kSettlementAccountCode},
                                    std::pair{bank->funding_account, kFundingAccountCode},
                                    std::pair{bank->stand_in_loss_account, kStandInLossAccountCode}}) {
      ledger::Account a;
      a.id = account_id;
      a.ledger = config.currency->numeric;
      a.code = code;
      accounts.push_back(a);
    }
    bank->config = std::move(config);
    host->banks_[bank->config.institution_id] = std::move(bank);
  }
  TS_ASSIGN_OR_RETURN(auto results, host->ledger_->CreateAccounts(accounts));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i] != ledger::CreateAccountResult::kOk && results[i] != ledger::CreateAccountResult::kExists) {
      return Internal("bank account " + accounts[i].id.ToHex() + ": " +
                      std::string(ledger::CreateAccountResultName(results[i])));
    }
  }

  // Cards.
  TS_ASSIGN_OR_RETURN(store::Rows rows, host->cards_store_->Query("SELECT * FROM cards"));
  for (const store::Row& row : rows) {
    CardRecord card;
    TS_ASSIGN_OR_RETURN(card.fingerprint, row.GetText("fingerprint"));
    TS_ASSIGN_OR_RETURN(card.institution_id, row.GetText("institution_id"));
    TS_ASSIGN_OR_RETURN(card.masked_pan, row.GetText("masked_pan"));
    TS_ASSIGN_OR_RETURN(card.expiry, row.GetText("expiry"));
    TS_ASSIGN_OR_RETURN(std::string status, row.GetText("status"));
    TS_ASSIGN_OR_RETURN(card.status, ParseCardStatus(status));
    TS_ASSIGN_OR_RETURN(std::string type, row.GetText("card_type"));
    card.type = type == "credit" ? CardType::kCredit : CardType::kDebit;
    TS_ASSIGN_OR_RETURN(std::int64_t low, row.GetInt64("account_low"));
    TS_ASSIGN_OR_RETURN(std::int64_t high, row.GetInt64("account_high"));
    card.account_id = Id128{static_cast<std::uint64_t>(low), static_cast<std::uint64_t>(high)};
    TS_ASSIGN_OR_RETURN(card.per_transaction_limit_minor, row.GetInt64("per_transaction_limit_minor"));
    TS_ASSIGN_OR_RETURN(card.daily_limit_minor, row.GetInt64("daily_limit_minor"));
    TS_ASSIGN_OR_RETURN(std::int64_t velocity, row.GetInt64("daily_transactions_max"));
    card.daily_transactions_max = static_cast<int>(velocity);
    TS_ASSIGN_OR_RETURN(std::string mccs, row.GetText("blocked_mccs"));
    for (std::size_t i = 0; i + 4 <= mccs.size(); i += 5) card.blocked_mccs.insert(mccs.substr(i, 4));
    host->cards_.emplace(card.fingerprint, std::move(card));
  }
  host->worker_ = std::thread([h = host.get()] { h->Worker(); });
  return host;
}

IssuerHost::~IssuerHost() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

const IssuerHost::Bank* IssuerHost::BankForPan(std::string_view pan) const {
  if (pan.size() < 8) return nullptr;
  std::string_view prefix = pan.substr(0, 8);
  for (const auto& [id, bank] : banks_) {
    for (const auto& [low, high] : bank->config.bin_ranges) {
      if (prefix >= low && prefix <= high) return bank.get();
    }
  }
  return nullptr;
}

std::string IssuerHost::Fingerprint(const Bank& bank, std::string_view pan) const {
  auto mac = crypto::HmacSha256(bank.config.pan_fingerprint_key, AsBytes(pan));
  return mac.ok() ? HexEncode(*mac) : std::string();
}

Status IssuerHost::IssueCards(std::span<const NewCard> requests) {
  std::vector<CardRecord> cards;
  std::vector<ledger::Account> accounts;
  std::vector<ledger::Transfer> openings;
  for (const NewCard& request : requests) {
    TS_ASSIGN_OR_RETURN(Pan pan, Pan::Parse(request.pan));
    auto it = banks_.find(request.institution_id);
    if (it == banks_.end()) return NotFound("bank " + request.institution_id + " is not hosted here");
    const Bank& bank = *it->second;
    if (BankForPan(pan.reveal()) != &bank) {
      return InvalidArgument("card " + pan.Masked() + " is outside the BIN ranges of " + request.institution_id);
    }
    if (request.expiry.size() != 4 || !IsAllDigits(request.expiry)) {
      return InvalidArgument("expiry '" + request.expiry + "': expected YYMM");
    }
    CardRecord card;
    card.fingerprint = Fingerprint(bank, pan.reveal());
    card.institution_id = request.institution_id;
    card.masked_pan = pan.Masked();
    card.expiry = request.expiry;
    card.type = request.type;
    card.account_id = IdFor("card|" + card.fingerprint);
    card.per_transaction_limit_minor = request.per_transaction_limit_minor;
    card.daily_limit_minor = request.daily_limit_minor;
    card.daily_transactions_max = request.daily_transactions_max;
    card.blocked_mccs = request.blocked_mccs;

    ledger::Account account;
    account.id = card.account_id;
    account.ledger = bank.config.currency->numeric;
    account.code = request.type == CardType::kCredit ? kCreditCardAccountCode : kDebitCardAccountCode;
    account.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    if (request.type == CardType::kCredit) {
      account.credit_limit = static_cast<std::uint64_t>(request.opening_balance_minor);
    }
    accounts.push_back(account);
    if (request.type == CardType::kDebit && request.opening_balance_minor > 0) {
      ledger::Transfer opening;
      opening.id = IdFor("opening|" + card.fingerprint);
      opening.debit_account_id = bank.funding_account;
      opening.credit_account_id = card.account_id;
      opening.amount = static_cast<std::uint64_t>(request.opening_balance_minor);
      opening.ledger = bank.config.currency->numeric;
      opening.code = kTransferOpening;
      openings.push_back(opening);
    }
    cards.push_back(std::move(card));
  }
  // Ledger first (idempotent by id), then the card records: a crash between the two leaves
  // accounts without cards, which issuing again completes.
  for (std::size_t at = 0; at < accounts.size(); at += ledger::kBatchEventsMax) {
    std::span<const ledger::Account> chunk(accounts.data() + at, std::min(ledger::kBatchEventsMax, accounts.size() - at));
    TS_ASSIGN_OR_RETURN(auto results, ledger_->CreateAccounts(chunk));
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i] != ledger::CreateAccountResult::kOk && results[i] != ledger::CreateAccountResult::kExists) {
        return FailedPrecondition("card account " + chunk[i].id.ToHex() + ": " +
                                  std::string(ledger::CreateAccountResultName(results[i])));
      }
    }
  }
  for (std::size_t at = 0; at < openings.size(); at += ledger::kBatchEventsMax) {
    std::span<const ledger::Transfer> chunk(openings.data() + at, std::min(ledger::kBatchEventsMax, openings.size() - at));
    TS_ASSIGN_OR_RETURN(auto results, ledger_->CreateTransfers(chunk));
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i] != ledger::CreateTransferResult::kOk && results[i] != ledger::CreateTransferResult::kExists) {
        return FailedPrecondition("opening deposit " + chunk[i].id.ToHex() + ": " +
                                  std::string(ledger::CreateTransferResultName(results[i])));
      }
    }
  }
  std::lock_guard lock(cards_mu_);
  TS_RETURN_IF_ERROR(cards_store_->RunInTransaction([&cards](store::Store& s) -> Status {
    for (const CardRecord& card : cards) {
      std::string mccs;
      for (const std::string& m : card.blocked_mccs) mccs += m + ",";
      TS_RETURN_IF_ERROR(
          s.Execute("INSERT INTO cards (fingerprint, institution_id, masked_pan, expiry, status, card_type, "
                    "account_low, account_high, per_transaction_limit_minor, daily_limit_minor, "
                    "daily_transactions_max, blocked_mccs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (fingerprint) DO NOTHING",
                    {store::Value::Text(card.fingerprint), store::Value::Text(card.institution_id),
                     store::Value::Text(card.masked_pan), store::Value::Text(card.expiry),
                     store::Value::Text(std::string(CardStatusName(card.status))),
                     store::Value::Text(card.type == CardType::kCredit ? "credit" : "debit"),
                     store::Value::Int64(static_cast<std::int64_t>(card.account_id.low)),
                     store::Value::Int64(static_cast<std::int64_t>(card.account_id.high)),
                     store::Value::Int64(card.per_transaction_limit_minor),
                     store::Value::Int64(card.daily_limit_minor),
                     store::Value::Int64(card.daily_transactions_max), store::Value::Text(mccs)})
              .status());
    }
    return Status::Ok();
  }));
  for (CardRecord& card : cards) cards_.emplace(card.fingerprint, std::move(card));
  return Status::Ok();
}

Status IssuerHost::SetCardStatus(std::string_view institution_id, std::string_view pan, CardStatus status) {
  auto it = banks_.find(std::string(institution_id));
  if (it == banks_.end()) return NotFound("bank " + std::string(institution_id) + " is not hosted here");
  const std::string fp = Fingerprint(*it->second, pan);
  std::lock_guard lock(cards_mu_);
  auto card = cards_.find(fp);
  if (card == cards_.end()) return NotFound("no such card");
  TS_RETURN_IF_ERROR(cards_store_
                         ->Execute("UPDATE cards SET status = ? WHERE fingerprint = ?",
                                   {store::Value::Text(std::string(CardStatusName(status))),
                                    store::Value::Text(fp)})
                         .status());
  card->second.status = status;
  return Status::Ok();
}

Result<std::int64_t> IssuerHost::AvailableMinor(std::string_view institution_id, std::string_view pan) {
  auto it = banks_.find(std::string(institution_id));
  if (it == banks_.end()) return NotFound("bank " + std::string(institution_id) + " is not hosted here");
  Id128 account_id;
  {
    std::lock_guard lock(cards_mu_);
    auto card = cards_.find(Fingerprint(*it->second, pan));
    if (card == cards_.end()) return NotFound("no such card");
    account_id = card->second.account_id;
  }
  TS_ASSIGN_OR_RETURN(auto account, ledger_->LookupAccount(account_id));
  if (!account) return NotFound("card account missing from the ledger");
  return static_cast<std::int64_t>(account->credits_posted + account->credit_limit) -
         static_cast<std::int64_t>(account->debits_posted + account->debits_pending);
}

std::size_t IssuerHost::card_count() const {
  std::lock_guard lock(cards_mu_);
  return cards_.size();
}

void IssuerHost::OnRequest(iso8583::Message request, link::Reply reply) {
  stats_.requests++;
  if (request.mti() == "0800") {
    iso8583::Message response = iso8583::ResponseTo(request, rc::kApproved);
    if (auto code = request.Get(70)) response.Set(70, *code);
    return reply(std::move(response));
  }
  {
    std::lock_guard lock(queue_mu_);
    if (queue_.size() < options_.queue_max) {
      queue_.push_back({std::move(request), std::move(reply)});
      queue_cv_.notify_one();
      return;
    }
  }
  stats_.declined++;
  reply(iso8583::ResponseTo(request, "91"));  // overloaded: the network may stand in
}

void IssuerHost::Worker() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) return;
      // Each request may need two ledger events (e.g. none today, but keep room), hence / 2.
      while (!queue_.empty() && batch.size() < ledger::kBatchEventsMax / 2) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    ProcessBatch(batch);
    stats_.batches++;
  }
}

void IssuerHost::ProcessBatch(std::vector<Pending>& batch) {
  const std::string today = TodayYymmdd(*clock_);
  const std::string today_yymm = today.substr(0, 4);

  // What each request turned into: a response code decided without the ledger, or an index into
  // `transfers` whose result decides.
  struct Plan {
    std::string code;            // set when decided without the ledger
    int transfer = -1;
    bool void_or_refund = false; // reversals: acknowledged whatever the ledger says
    bool stand_in = false;       // advices: never declined
    std::string fingerprint;
    std::int64_t amount = 0;
    const Bank* bank = nullptr;
    Id128 card_account;
  };
  std::vector<Plan> plans(batch.size());
  std::vector<ledger::Transfer> transfers;
  transfers.reserve(batch.size());
  std::unordered_map<std::string, DailyActivity> tentative;  // this batch's additions per card

  for (std::size_t i = 0; i < batch.size(); ++i) {
    const iso8583::Message& m = batch[i].request;
    Plan& plan = plans[i];
    const std::string_view mti = m.mti();
    const bool auth = iso8583::IsAuthorizationRequest(mti);
    const bool financial = iso8583::IsFinancialRequest(mti);
    const bool reversal = iso8583::IsReversal(mti);
    const bool advice = iso8583::IsAuthorizationOrFinancialAdvice(mti);
    if (!auth && !financial && !reversal && !advice) {
      plan.code = rc::kInvalidTransaction;
      continue;
    }
    if (!m.Has(2) || !m.Has(4) || !m.Has(11) || !m.Has(41)) {
      plan.code = rc::kFormatError;
      continue;
    }
    const std::string pan(*m.Get(2));
    plan.bank = BankForPan(pan);
    if (plan.bank == nullptr) {
      plan.code = rc::kInvalidCardNumber;
      continue;
    }
    plan.fingerprint = Fingerprint(*plan.bank, pan);
    CardRecord card;
    {
      std::lock_guard lock(cards_mu_);
      auto it = cards_.find(plan.fingerprint);
      if (it == cards_.end()) {
        plan.code = reversal || advice ? std::string(rc::kApproved) : std::string(rc::kInvalidCardNumber);
        continue;
      }
      card = it->second;
    }
    plan.card_account = card.account_id;
    // The card is billed in the bank's currency: DE6 when the network converted, else DE4.
    plan.amount = ParseMinor(m.Has(6) ? *m.Get(6) : *m.Get(4));
    const std::string bank_id = plan.bank->config.institution_id;
    const std::uint32_t currency = plan.bank->config.currency->numeric;

    ledger::Transfer t;
    t.ledger = currency;
    t.amount = static_cast<std::uint64_t>(plan.amount);
    if (reversal) {
      // The original: DE90 when present, else this message's own STAN and time.
      std::string orig_mti = "0100";
      std::string stan(*m.Get(11));
      std::string time(m.Get(7).value_or(""));
      if (auto de90 = m.Get(90)) {
        if (auto o = iso8583::OriginalDataElements::Parse(*de90); o.ok()) {
          orig_mti = o->mti;
          stan = o->stan;
          time = o->transmission_time;
        }
      }
      const std::string key = RequestKey(bank_id, m.Get(32).value_or(""), *m.Get(41), stan, time);
      plan.void_or_refund = true;
      if (orig_mti == "0200") {
        t.id = IdFor("refund|" + key);
        t.debit_account_id = plan.bank->settlement_account;
        t.credit_account_id = card.account_id;
        t.code = kTransferRefund;
      } else {
        t.id = IdFor("void|" + key);
        t.pending_id = IdFor("hold|" + key);
        t.flags = ledger::transfer_flags::kVoidPendingTransfer;
        t.amount = 0;  // a void releases whatever the hold still reserves
      }
      plan.transfer = static_cast<int>(transfers.size());
      transfers.push_back(t);
      continue;
    }
    const std::string key =
        RequestKey(bank_id, m.Get(32).value_or(""), *m.Get(41), *m.Get(11), m.Get(7).value_or(""));
    if (advice) {
      plan.stand_in = true;
      t.id = IdFor("advice|" + key);
    } else {
      // Rules, counting what this batch already approved for the same card.
      DayActivity& day = activity_[plan.fingerprint];
      if (day.day != today) day = DayActivity{today, {}};
      DailyActivity seen = day.today;
      seen.amount_minor += tentative[plan.fingerprint].amount_minor;
      seen.transactions += tentative[plan.fingerprint].transactions;
      RequestFacts facts{plan.amount, m.Get(14).value_or(""), m.Get(18).value_or(""), today_yymm};
      std::string_view code = CheckAuthorizationRules(card, facts, seen);
      if (code != rc::kApproved) {
        plan.code = code;
        continue;
      }
      tentative[plan.fingerprint].amount_minor += plan.amount;
      tentative[plan.fingerprint].transactions += 1;
      t.id = IdFor("hold|" + key);
    }
    t.debit_account_id = card.account_id;
    t.credit_account_id = plan.bank->settlement_account;
    t.code = advice ? kTransferStandIn : kTransferPurchase;
    if (auth || mti == "0120" || mti == "0121") {
      t.flags = ledger::transfer_flags::kPending;
      t.timeout = options_.hold_timeout_s;
    }
    plan.transfer = static_cast<int>(transfers.size());
    transfers.push_back(t);
  }

  // One group commit for the whole batch: nothing is answered before it is durable.
  std::vector<ledger::CreateTransferResult> results(transfers.size(), ledger::CreateTransferResult::kOk);
  Status ledger_status = Status::Ok();
  if (!transfers.empty()) ledger_status = ledger_->CreateTransfers(transfers, results);

  // Stand-in advices the card could not cover are paid by the bank's stand-in loss account.
  std::vector<ledger::Transfer> fallbacks;
  std::vector<std::size_t> fallback_plans;
  for (std::size_t i = 0; i < plans.size() && ledger_status.ok(); ++i) {
    const Plan& plan = plans[i];
    if (!plan.stand_in || plan.transfer < 0) continue;
    auto r = results[static_cast<std::size_t>(plan.transfer)];
    if (r == ledger::CreateTransferResult::kOk || r == ledger::CreateTransferResult::kExists) continue;
    ledger::Transfer t = transfers[static_cast<std::size_t>(plan.transfer)];
    t.id = IdFor("advice-loss|" + t.id.ToHex());
    t.debit_account_id = plan.bank->stand_in_loss_account;
    t.flags = 0;
    t.timeout = 0;
    fallbacks.push_back(t);
    fallback_plans.push_back(i);
  }
  if (!fallbacks.empty()) {
    auto fallback_results = ledger_->CreateTransfers(fallbacks);
    if (!fallback_results.ok()) ledger_status = fallback_results.status();
  }

  for (std::size_t i = 0; i < batch.size(); ++i) {
    Plan& plan = plans[i];
    iso8583::Message& request = batch[i].request;
    std::string code = plan.code;
    std::string approval;
    if (code.empty()) {
      if (!ledger_status.ok()) {
        code = rc::kSystemMalfunction;
      } else {
        const auto r = results[static_cast<std::size_t>(plan.transfer)];
        using R = ledger::CreateTransferResult;
        const bool created = r == R::kOk || r == R::kExists;
        if (plan.void_or_refund || plan.stand_in) {
          code = rc::kApproved;  // acknowledged: the original may be unknown, voided or expired
        } else if (created) {
          code = rc::kApproved;
          approval = ApprovalCode(transfers[static_cast<std::size_t>(plan.transfer)].id);
          if (r == R::kOk) {
            DayActivity& day = activity_[plan.fingerprint];
            day.today.amount_minor += plan.amount;
            day.today.transactions += 1;
          }
        } else if (r == R::kExceedsCredits || r == R::kIdAlreadyFailed) {
          code = rc::kInsufficientFunds;
        } else {
          spdlog::warn("issuer: ledger refused a transfer: {}", ledger::CreateTransferResultName(r));
          code = rc::kSystemMalfunction;
        }
      }
    }
    iso8583::Message response = iso8583::ResponseTo(request, code);
    if (!approval.empty()) response.Set(38, approval);
    if (code == rc::kApproved) {
      stats_.approved++;
    } else {
      stats_.declined++;
    }
    batch[i].reply(std::move(response));
  }
}

}  // namespace tapstack::issuer
