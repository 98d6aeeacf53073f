#include "issuer/issuer_host.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "core/hex.h"
#include "crypto/card_verification.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "iso8583/mti.h"
#include "iso8583/original_data_elements.h"
#include "iso8583/processing_code.h"
#include "iso8583/response.h"
#include "iso8583/token_data.h"
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
// Pays the reversal of a credit the cardholder already spent: the network settles the reversal
// whatever the card holds, so the bank's settlement account must get the money back now; the
// bank recovers it from the cardholder outside the network.
constexpr std::uint16_t kCreditRecoveryAccountCode = 4;
constexpr std::uint16_t kDebitCardAccountCode = 10;
constexpr std::uint16_t kCreditCardAccountCode = 11;
constexpr std::uint16_t kTransferPurchase = 1;
constexpr std::uint16_t kTransferOpening = 2;
constexpr std::uint16_t kTransferRefund = 3;
constexpr std::uint16_t kTransferStandIn = 4;
constexpr std::uint16_t kTransferCredit = 5;          // a credit to the card 
constexpr std::uint16_t kTransferCreditReversal = 6;  // its reversal, from the card or recovery

// Why a hold was voided, kept in the void's user_data_32, so a stand-in advice arriving later can
// tell a sale the acquirer reversed from an approval the network gave in the bank's stead.
constexpr std::uint32_t kVoidReasonReversal = 0;         // the acquirer's reversal (and older voids)
constexpr std::uint32_t kVoidReasonLateResponse = 1;     // the network's reversal of a late approval
constexpr std::uint32_t kVoidReasonStandInTakeover = 2;  // the stand-in hold replaced this one
// DE39 of the network's reversal of an approval that arrived after it had answered the acquirer
// (network/switch.cc OnLateResponse; ISO 8583 "response received too late").
constexpr std::string_view kLateResponseCode = "68";

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

// Ledger ids of one authorisation, from its request key.
Id128 HoldId(const std::string& key) { return IdFor("hold|" + key); }
// The stand-in hold that replaces the bank's own (see issuer_host.h); also the id older versions
// gave every 0120 hold, which reversals and completions therefore still find.
Id128 StandInHoldId(const std::string& key) { return IdFor("advice|" + key); }
Id128 VoidId(const std::string& key) { return IdFor("void|" + key); }
Id128 StandInVoidId(const std::string& key) { return IdFor("void|advice|" + key); }
Id128 PostId(const std::string& key) { return IdFor("post|" + key); }
// The refund of a posted sale (0200): of the bank's own posting, and of the network's stand-in
// posting (0220 advice). Each posting is refunded at most once.
Id128 RefundId(const std::string& key) { return IdFor("refund|" + key); }
Id128 StandInRefundId(const std::string& key) { return IdFor("refund|advice|" + key); }
// The posted transfer from the stand-in loss account that pays for a stand-in hold the card could
// not cover.
Id128 StandInLossId(const Id128& hold) { return IdFor("advice-loss|" + hold.ToHex()); }
// A credit to the card (DE3 "20"), its reversal, and the credit recovery account's payment of a
// reversal the card could not cover.
Id128 CreditId(const std::string& key) { return IdFor("credit|" + key); }
Id128 CreditReversalId(const std::string& key) { return IdFor("credit-reversal|" + key); }
Id128 CreditRecoveryId(const std::string& key) { return IdFor("credit-recovery|" + key); }

using R = ledger::CreateTransferResult;

// ISO 8583:1987 DE39 "duplicate transmission": a credit whose key (DE32, DE41, DE11, DE7) an
// earlier, different credit already used.
constexpr std::string_view kDuplicateTransmission = "94";

// `exists` and every `exists_with_different_*`: the id was created before.
bool IsExists(R r) {
  return r == R::kExists || (r >= R::kExistsWithDifferentFlags && r <= R::kExistsWithDifferentCode);
}
bool IsCreated(R r) { return r == R::kOk || IsExists(r); }

bool IsDigits(std::string_view s, std::size_t n) { return s.size() == n && IsAllDigits(s); }

}  // namespace

struct IssuerHost::Bank {
  IssuerBankConfig config;
  Id128 settlement_account;
  Id128 funding_account;
  Id128 stand_in_loss_account;
  Id128 credit_recovery_account;
};

Result<std::unique_ptr<IssuerHost>> IssuerHost::Open(IssuerOptions options,
                                                     std::span<const IssuerBankConfig> banks) {
  for (const IssuerBankConfig& config : banks) {
    if (config.currency == nullptr || config.pan_fingerprint_key.size() < 16) {
      return InvalidArgument("bank " + config.institution_id + ": currency and a 16+ byte PAN key are required");
    }
    if (!config.card_verification_key.empty() &&
        config.card_verification_key.size() != crypto::kCardVerificationKeyBytes) {
      return InvalidArgument("bank " + config.institution_id + ": the card verification key must be " +
                             std::to_string(crypto::kCardVerificationKeyBytes) + " bytes (or empty)");
    }
  }
  std::unique_ptr<IssuerHost> host(new IssuerHost());
  host->clock_ = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  host->options_ = std::move(options);
  if (host->options_.cards_store != nullptr) {
    host->cards_store_ = std::move(host->options_.cards_store);
  } else {
    TS_ASSIGN_OR_RETURN(host->cards_store_, store::OpenSqlite(host->options_.data_dir, host->options_.name));
  }
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*host->cards_store_, kMigrations));
  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = host->options_.data_dir;
  ledger_options.name = host->options_.name + "_ledger";
  ledger_options.clock = host->clock_;
  ledger_options.log_preallocate_bytes = host->options_.ledger_preallocate_bytes;
  ledger_options.open_file = host->options_.open_ledger_file;
  TS_ASSIGN_OR_RETURN(host->ledger_, ledger::Ledger::Open(ledger_options));

  // Each bank's own accounts, created idempotently.
  std::vector<ledger::Account> accounts;
  for (const IssuerBankConfig& source : banks) {
    IssuerBankConfig config = source.Clone();
    auto bank = std::make_unique<Bank>();
    const std::string& id = config.institution_id;
    bank->settlement_account = IdFor("settlement|" + id);
    bank->funding_account = IdFor("funding|" + id);
    bank->stand_in_loss_account = IdFor("stand-in-loss|" + id);
    bank->credit_recovery_account = IdFor("credit-recovery|" + id);
    for (auto [account_id, code] :
         {std::pair{bank->settlement_account, kSettlementAccountCode},
          std::pair{bank->funding_account, kFundingAccountCode},
          std::pair{bank->stand_in_loss_account, kStandInLossAccountCode},
          std::pair{bank->credit_recovery_account, kCreditRecoveryAccountCode}}) {
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

IssuerBankConfig IssuerBankConfig::Clone() const {
  IssuerBankConfig copy;
  copy.institution_id = institution_id;
  copy.name = name;
  copy.currency = currency;
  copy.bin_ranges = bin_ranges;
  copy.pan_fingerprint_key = pan_fingerprint_key.Clone();
  copy.card_verification_key = card_verification_key.Clone();
  copy.cvv2_required_for_card_not_present = cvv2_required_for_card_not_present;
  copy.idv_decision = idv_decision;
  return copy;
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
  // Token-provisioning ID&V moves no money: answered here, never queued behind ledger batches.
  const std::string_view mti = request.mti();
  if ((iso8583::IsAuthorizationRequest(mti) || iso8583::IsFinancialRequest(mti)) &&
      iso8583::IsProvisioningIdv(request.Get(iso8583::kTokenDataField).value_or(""))) {
    iso8583::Message response = AnswerIdentityVerification(request);
    if (response.Get(39) == rc::kNoReasonToDecline) {
      stats_.approved++;
    } else {
      stats_.declined++;
    }
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
  if (iso8583::IsRepeat(request.mti())) {
    // An earlier copy of a repeat may be queued, or booked already: a "91" could be a lie (the
    // copy approved after it, with nobody left to reverse it once the network restarted). No
    // answer: the sender times out and reverses (link/message_handler.h).
    stats_.unanswered++;
    return;
  }
  stats_.declined++;
  reply(iso8583::ResponseTo(request, rc::kIssuerInoperative));  // overloaded: the network may stand in
}

iso8583::Message IssuerHost::AnswerIdentityVerification(const iso8583::Message& request) {
  stats_.identity_verifications++;
  if (Status format = CheckIdvRequestFormat(request); !format.ok()) {
    return IdvResponse(request, rc::kFormatError, iso8583::idv_result::kRed, format.message());
  }
  const std::string_view pan = *request.Get(2);
  const Bank* bank = BankForPan(pan);
  if (bank == nullptr) return IdvResponse(request, rc::kInvalidCardNumber, iso8583::idv_result::kRed);
  CardRecord card;
  {
    std::lock_guard lock(cards_mu_);
    auto it = cards_.find(Fingerprint(*bank, pan));
    if (it == cards_.end()) return IdvResponse(request, rc::kInvalidCardNumber, iso8583::idv_result::kRed);
    card = it->second;
  }
  RequestFacts facts;
  facts.expiry_on_request = *request.Get(14);  // CheckIdvRequestFormat: present, 4 digits
  facts.today_yymm = TodayYymmdd(*clock_).substr(0, 4);
  // Tokenisation creates a new credential: the CVV2 is required whatever the bank requires of
  // card-not-present purchases (identity_verification.h).
  facts.card_not_present = true;
  facts.cvv2_required_for_card_not_present = true;
  std::string expected_cvv2;  // wiped below
  if (!bank->config.card_verification_key.empty()) {
    // Well-formed: CheckIdvRequestFormat. A view into DE48, never copied.
    if (auto presented = Cvv2FromTokenData(*request.Get(iso8583::kTokenDataField)); presented.ok()) {
      facts.cvv2_presented = *presented;
    }
    // As for authorisations: service code 000 over the card's own expiry (the one printed on it).
    auto cvv2 = crypto::GenerateCardVerificationValue(bank->config.card_verification_key, pan, card.expiry,
                                                      crypto::cvv_service_code::kCvv2);
    if (!cvv2.ok()) {
      spdlog::warn("issuer: CVV2 of card {} not computable: {}", card.masked_pan, cvv2.status().ToString());
      return IdvResponse(request, rc::kSystemMalfunction, iso8583::idv_result::kRed);
    }
    expected_cvv2 = std::move(*cvv2);
    facts.cvv2_expected = expected_cvv2;
  }
  const IdvOutcome outcome = DecideIdv(card, facts, bank->config.idv_decision);
  SecureWipe(expected_cvv2.data(), expected_cvv2.size());
  spdlog::info("issuer: ID&V for card {}: {} {}", card.masked_pan, outcome.response_code, outcome.result);
  return IdvResponse(request, outcome.response_code, outcome.result);
}

void IssuerHost::Worker() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) return;
      // A request may need two ledger events in one follow-up request (a stand-in takeover:
      // void + hold), hence / 2.
      while (!queue_.empty() && batch.size() < ledger::kBatchEventsMax / 2) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      batch_running_ = true;
    }
    ProcessBatch(batch);
    stats_.batches++;
    {
      std::lock_guard lock(queue_mu_);
      batch_running_ = false;
    }
    idle_cv_.notify_all();
  }
}

void IssuerHost::WaitIdle() {
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && !batch_running_; });
}

namespace {

// What a request of a batch turns into.
enum class Action : std::uint8_t {
  kDecided,      // answered with Plan::code, without the ledger
  kHold,         // 0100 hold or 0200 posted transfer, after the rules
  kVoid,         // reversal of an 0100: void of its hold
  kRefund,       // reversal of an 0200
  kStandInHold,  // 0120 stand-in advice: a hold the bank cannot refuse
  kStandInPost,  // 0220 stand-in financial advice: a posted transfer
  kCompletion,   // 0220 naming an 0100: post of its hold
  kCredit,          // 0200 with DE3 "20": a posted transfer to the card 
  kCreditReversal,  // reversal of a credit: a transfer back, or a remembered failure (see below)
};

struct Plan {
  Action action = Action::kDecided;
  std::string code;       // kDecided
  std::string approval;   // kDecided and approved from a booking already there: its DE38
  int transfer = -1;      // index into the batch's first ledger request
  int follow_up = -1;     // kStandInHold: index of the stand-in hold placed in the second request
  bool takeover = false;  // ... placed together with the void of the bank's own hold (one chain)
  std::string key;        // RequestKey of the authorisation the request acts on
  std::string masked_pan;
  std::string fingerprint;
  std::int64_t amount = 0;
  Id128 stand_in_loss_account;  // advices: the bank's account that pays what a card cannot
  // kCreditReversal of a posted credit: the bank's account that pays what the card no longer has.
  Id128 credit_recovery_account;
};

// The response to a completion from the result of its post.
std::string_view CompletionCode(R r) {
  if (IsCreated(r) || r == R::kPendingTransferAlreadyPosted) return rc::kApproved;
  if (r == R::kExceedsPendingTransferAmount) return rc::kInvalidAmount;
  if (r == R::kPendingTransferAlreadyVoided || r == R::kPendingTransferExpired || r == R::kPendingTransferNotFound ||
      r == R::kIdAlreadyFailed) {
    return rc::kUnableToLocateOriginal;
  }
  return rc::kSystemMalfunction;
}

}  // namespace

void IssuerHost::ProcessBatch(std::vector<Pending>& batch) {
  if (ledger_failed_.load() || !ledger_->failure().ok()) {
    // The ledger refuses every call until the host is reopened (ledger.h, sticky failure). Nothing
    // is answered meanwhile: a decline could reach the acquirer for a copy of a request whose hold
    // is on disk, and any answer to a reversal, completion or advice would acknowledge it. The
    // senders time out, stand in or repeat, as while the host is down.
    ledger_failed_ = true;
    stats_.unanswered += batch.size();
    return;
  }
  const std::string today = TodayYymmdd(*clock_);
  const std::string today_yymm = today.substr(0, 4);

  std::vector<Plan> plans(batch.size());
  std::vector<ledger::Transfer> transfers;
  transfers.reserve(batch.size());
  std::unordered_map<std::string, DailyActivity> tentative;  // this batch's additions per card
  // Holds planned by earlier requests of this batch: the ledger applies the batch in order, so a
  // completion later in the same batch finds them.
  std::set<Id128> planned_holds;
  // Credits planned by earlier requests of this batch (by request key, with their amounts) and
  // credit reversals planned so far: a reversal later in the batch finds the credit, a credit later
  // in the batch finds its reversal.
  std::map<std::string, std::int64_t> planned_credits;
  std::set<std::string> planned_credit_reversals;
  // Sales posted (0200 approvals and stand-in posts) by earlier requests of this batch, by transfer
  // id with their amounts, and the keys acquirers' reversals of sales and authorisations named in
  // this batch: a reversal later in the batch finds the sale, a sale later finds its reversal.
  std::map<Id128, std::int64_t> planned_sales;
  std::set<std::string> planned_reversals;
  // The amount a sale posting `id` moved, if it exists (planned in this batch, or in the ledger and
  // not pending). Errors: the ledger look-up.
  auto posted_sale = [&](const Id128& id) -> Result<std::optional<std::int64_t>> {
    if (auto it = planned_sales.find(id); it != planned_sales.end()) return std::optional(it->second);
    TS_ASSIGN_OR_RETURN(auto found, ledger_->LookupTransfer(id));
    if (!found.has_value() || (found->transfer.flags & ledger::transfer_flags::kPending) != 0) {
      return std::optional<std::int64_t>();
    }
    return std::optional(static_cast<std::int64_t>(found->transfer.amount));
  };

  auto decide = [](Plan& plan, std::string_view code) {
    plan.action = Action::kDecided;
    plan.code = code;
  };
  // A void of `pending` under `id` in `ledger`, with no plan of its own: when `pending` does not
  // exist it fails and the ledger remembers that failure under `id`, which a later request looks up
  // (LookupTransferFailure) to see that a reversal came first.
  auto remember_reversal = [&transfers](std::uint32_t ledger_id, const Id128& id, const Id128& pending) {
    ledger::Transfer marker;
    marker.ledger = ledger_id;
    marker.id = id;
    marker.pending_id = pending;
    marker.flags = ledger::transfer_flags::kVoidPendingTransfer;
    transfers.push_back(marker);
  };
  auto add = [&transfers](Plan& plan, Action action, const ledger::Transfer& t) {
    plan.action = action;
    plan.transfer = static_cast<int>(transfers.size());
    transfers.push_back(t);
  };

  for (std::size_t i = 0; i < batch.size(); ++i) {
    const iso8583::Message& m = batch[i].request;
    Plan& plan = plans[i];
    const std::string_view mti = m.mti();
    const bool auth = iso8583::IsAuthorizationRequest(mti);
    const bool financial = iso8583::IsFinancialRequest(mti);
    const bool reversal = iso8583::IsReversal(mti);
    const bool advice = iso8583::IsAuthorizationOrFinancialAdvice(mti);
    if (!auth && !financial && !reversal && !advice) {
      decide(plan, rc::kInvalidTransaction);
      continue;
    }
    if (!m.Has(2) || !m.Has(4) || !m.Has(11) || !m.Has(41)) {
      decide(plan, rc::kFormatError);
      continue;
    }
    const std::string_view pan = *m.Get(2);
    const Bank* bank = BankForPan(pan);
    if (bank == nullptr) {
      decide(plan, rc::kInvalidCardNumber);
      continue;
    }
    plan.fingerprint = Fingerprint(*bank, pan);
    CardRecord card;
    {
      std::lock_guard lock(cards_mu_);
      auto it = cards_.find(plan.fingerprint);
      if (it == cards_.end()) {
        // Reversals and advices are acknowledged; a completion says its original cannot be found.
        const bool completion = iso8583::OriginalOfRepeat(mti) == "0220" && m.Has(90);
        if (completion) {
          decide(plan, rc::kUnableToLocateOriginal);
        } else {
          decide(plan, reversal || advice ? rc::kApproved : rc::kInvalidCardNumber);
        }
        continue;
      }
      card = it->second;
    }
    plan.masked_pan = card.masked_pan;
    // The card is billed in the bank's currency: DE6 when the network converted, else DE4.
    plan.amount = ParseMinor(m.Has(6) ? *m.Get(6) : *m.Get(4));
    const std::string& bank_id = bank->config.institution_id;
    const std::uint32_t currency = bank->config.currency->numeric;
    const std::string acquirer(m.Get(32).value_or(""));
    const std::string terminal(*m.Get(41));

    ledger::Transfer t;
    t.ledger = currency;
    t.amount = static_cast<std::uint64_t>(plan.amount);
    const bool credit = iso8583::IsCreditProcessingCode(m.Get(3));

    if (reversal) {
      // The original: DE90 when present, else this message's own STAN and time.
      std::string orig_mti = "0100";
      std::string stan(*m.Get(11));
      std::string time(m.Get(7).value_or(""));
      if (auto de90 = m.Get(90)) {
        if (auto o = iso8583::OriginalDataElements::Parse(*de90); o.ok()) {
          orig_mti = iso8583::OriginalOfRepeat(o->mti);
          stan = o->stan;
          time = o->transmission_time;
        }
      }
      plan.key = RequestKey(bank_id, acquirer, terminal, stan, time);
      // What a credit to the card under this key posted (0: none, or not yet).
      std::int64_t credited = 0;
      if (credit || orig_mti == "0200") {
        if (auto planned = planned_credits.find(plan.key); planned != planned_credits.end()) {
          credited = planned->second;
        } else {
          auto posted = ledger_->LookupTransfer(CreditId(plan.key));
          if (!posted.ok()) {
            spdlog::warn("issuer: ledger look-up failed: {}", posted.status().ToString());
            decide(plan, rc::kSystemMalfunction);
            continue;
          }
          if (posted->has_value()) credited = static_cast<std::int64_t>((*posted)->transfer.amount);
        }
      }
      // A reversal that lost its original's DE3 still undoes a credit it names: refunding it as a
      // sale would credit the card twice.
      if (credit || credited > 0) {
        // A credit is undone by a transfer back of what it posted (not of DE4: a reversal of a
        // credit never posted must not take money from the card). One not posted (not yet, or
        // never) gets a void of a transfer that does not exist under the reversal's id instead:
        // the ledger remembers that failure, and a credit arriving after its reversal finds it
        // and is refused.
        t.id = CreditReversalId(plan.key);
        if (credited > 0) {
          t.debit_account_id = card.account_id;
          t.credit_account_id = bank->settlement_account;
          t.amount = static_cast<std::uint64_t>(credited);
          t.code = kTransferCreditReversal;
          plan.amount = credited;
          plan.credit_recovery_account = bank->credit_recovery_account;
        } else {
          t.pending_id = CreditId(plan.key);
          t.flags = ledger::transfer_flags::kVoidPendingTransfer;
          t.amount = 0;
        }
        planned_credit_reversals.insert(plan.key);
        add(plan, Action::kCreditReversal, t);
        continue;
      }
      const bool late = m.Get(39) == kLateResponseCode;
      if (!late) planned_reversals.insert(plan.key);
      if (orig_mti == "0200") {
        // An acquirer's reversal refunds what the cardholder was charged: the network's stand-in
        // posting when there is one, else the bank's own; the network's reversal of a late
        // approval refunds the bank's own only. The refund is what that posting moved (not DE4,
        // which may be in another currency than the card's), once. A sale never posted gets a
        // remembered failure under the refund's id instead (a void of a transfer that does not
        // exist), so a sale or stand-in advice arriving after its reversal is not posted.
        Id128 target = HoldId(plan.key);
        t.id = RefundId(plan.key);
        Result<std::optional<std::int64_t>> posted = std::optional<std::int64_t>();
        if (!late) {
          posted = posted_sale(StandInHoldId(plan.key));
          if (posted.ok() && posted->has_value()) {
            target = StandInHoldId(plan.key);
            t.id = StandInRefundId(plan.key);
          }
        }
        if (posted.ok() && !posted->has_value()) {
          if (!late) {
            // No stand-in posting yet: a refund of it is remembered as failed, so its advice,
            // arriving later, finds the acquirer's reversal even when the bank's own posting was
            // already refunded for lateness.
            remember_reversal(currency, StandInRefundId(plan.key), StandInHoldId(plan.key));
          }
          posted = posted_sale(target);
        }
        if (!posted.ok()) {
          spdlog::warn("issuer: ledger look-up failed: {}", posted.status().ToString());
          decide(plan, rc::kSystemMalfunction);
          continue;
        }
        if (posted->has_value()) {
          t.debit_account_id = bank->settlement_account;
          t.credit_account_id = card.account_id;
          t.amount = static_cast<std::uint64_t>(**posted);
          t.code = kTransferRefund;
          t.user_data_32 = late ? kVoidReasonLateResponse : kVoidReasonReversal;
        } else {
          t.pending_id = target;
          t.flags = ledger::transfer_flags::kVoidPendingTransfer;
          t.amount = 0;
        }
        add(plan, Action::kRefund, t);
        continue;
      }
      // The network's reversal of a late approval undoes the bank's own hold only; any other
      // reversal releases the authorisation's live hold, the stand-in one when there is one.
      if (late) {
        // The hold under the request's id is the network's when its stand-in advice overtook the
        // request (the request then found the hold and was "approved" late): that hold stays.
        auto own = ledger_->LookupTransfer(HoldId(plan.key));
        if (!own.ok()) {
          spdlog::warn("issuer: ledger look-up failed: {}", own.status().ToString());
          decide(plan, rc::kSystemMalfunction);
          continue;
        }
        if (own->has_value() && (*own)->transfer.code == kTransferStandIn) {
          decide(plan, rc::kApproved);
          continue;
        }
      }
      t.id = VoidId(plan.key);
      t.pending_id = HoldId(plan.key);
      if (!late) {
        auto stand_in = ledger_->LookupTransfer(StandInHoldId(plan.key));
        if (!stand_in.ok()) {
          spdlog::warn("issuer: ledger look-up failed: {}", stand_in.status().ToString());
          decide(plan, rc::kSystemMalfunction);
          continue;
        }
        if (stand_in->has_value() && ((*stand_in)->transfer.flags & ledger::transfer_flags::kPending) != 0) {
          t.id = StandInVoidId(plan.key);
          t.pending_id = StandInHoldId(plan.key);
        } else if (!stand_in->has_value()) {
          // No stand-in hold yet: a void of it is remembered as failed, so its advice, arriving
          // later, finds the acquirer's reversal even when the bank's own hold was already voided
          // for lateness (the void above then only finds its id taken).
          remember_reversal(currency, StandInVoidId(plan.key), StandInHoldId(plan.key));
        }
      }
      t.flags = ledger::transfer_flags::kVoidPendingTransfer;
      t.amount = 0;  // a void releases whatever the hold still reserves
      t.user_data_32 = late ? kVoidReasonLateResponse : kVoidReasonReversal;
      add(plan, Action::kVoid, t);
      continue;
    }

    if (credit) {
      // A credit to the card : no card status, expiry, CVV2 or limit rule.
      if (!financial) {
        spdlog::info("issuer: credit to card {} as {} refused: credits are single-message (0200)",
                     plan.masked_pan, mti);
        decide(plan, rc::kInvalidTransaction);
        continue;
      }
      if (plan.amount <= 0) {
        decide(plan, rc::kInvalidAmount);
        continue;
      }
      // Without DE6 the amount is in the transaction currency: it cannot be credited to an account
      // in another one.
      if (!m.Has(6) && m.Has(49) && ParseMinor(*m.Get(49)) != currency) {
        spdlog::warn("issuer: credit to card {} in currency {} without a billing amount (DE6)",
                     plan.masked_pan, *m.Get(49));
        decide(plan, rc::kFormatError);
        continue;
      }
      plan.key = RequestKey(bank_id, acquirer, terminal, *m.Get(11), m.Get(7).value_or(""));
      // Its reversal came first (and left a remembered failure) or already undid it: the acquirer
      // has given this credit up, so nothing moves.
      bool reversed = planned_credit_reversals.contains(plan.key);
      if (!reversed) {
        auto failure = ledger_->LookupTransferFailure(CreditReversalId(plan.key));
        auto undone = ledger_->LookupTransfer(CreditReversalId(plan.key));
        if (!failure.ok() || !undone.ok()) {
          spdlog::warn("issuer: ledger look-up failed: {}",
                       (!failure.ok() ? failure.status() : undone.status()).ToString());
          decide(plan, rc::kSystemMalfunction);
          continue;
        }
        reversed = failure->has_value() || undone->has_value();
      }
      if (reversed) {
        spdlog::info("issuer: credit to card {} (STAN {}) was reversed before it arrived; "
                     "not posted",
                     plan.masked_pan, *m.Get(11));
        decide(plan, rc::kInvalidTransaction);
        continue;
      }
      t.id = CreditId(plan.key);
      t.debit_account_id = bank->settlement_account;
      t.credit_account_id = card.account_id;
      t.code = kTransferCredit;
      planned_credits[plan.key] = plan.amount;
      add(plan, Action::kCredit, t);
      continue;
    }

    if (advice) {
      // A completion: an 0220 naming an authorisation (0100) in DE90.
      std::optional<iso8583::OriginalDataElements> original;
      if (iso8583::OriginalOfRepeat(mti) == "0220" && m.Has(90)) {
        auto o = iso8583::OriginalDataElements::Parse(*m.Get(90));
        if (!o.ok()) {
          decide(plan, rc::kFormatError);
          continue;
        }
        if (iso8583::OriginalOfRepeat(o->mti) == "0100") original = std::move(*o);
      }
      if (original) {
        if (plan.amount <= 0) {
          decide(plan, rc::kInvalidAmount);
          continue;
        }
        // Without DE6 the amount is in the transaction currency; it cannot be posted against a
        // hold in another currency.
        if (!m.Has(6) && m.Has(49) && ParseMinor(*m.Get(49)) != currency) {
          spdlog::warn("issuer: completion for card {} in currency {} without a billing amount (DE6)",
                       plan.masked_pan, *m.Get(49));
          decide(plan, rc::kFormatError);
          continue;
        }
        plan.key = RequestKey(bank_id, acquirer, terminal, original->stan, original->transmission_time);
        // The live hold: the stand-in one when there is one, else the authorisation's own. Looked
        // up first, so a completion without a hold does not spend its id on a remembered failure
        // (which would refuse the same completion once the hold exists).
        Id128 hold;
        Status lookup = Status::Ok();
        for (const Id128& candidate : {StandInHoldId(plan.key), HoldId(plan.key)}) {
          auto found = ledger_->LookupTransfer(candidate);
          if (!found.ok()) {
            lookup = found.status();
            break;
          }
          if ((found->has_value() && ((*found)->transfer.flags & ledger::transfer_flags::kPending) != 0) ||
              planned_holds.contains(candidate)) {
            hold = candidate;
            break;
          }
        }
        bool paid_by_stand_in_loss = false;
        for (const Id128& candidate : {StandInHoldId(plan.key), HoldId(plan.key)}) {
          if (!hold.is_zero() || !lookup.ok()) break;
          auto loss = ledger_->LookupTransfer(StandInLossId(candidate));
          if (!loss.ok()) lookup = loss.status();
          if (loss.ok() && loss->has_value()) paid_by_stand_in_loss = true;
        }
        if (!lookup.ok()) {
          spdlog::warn("issuer: ledger look-up failed: {}", lookup.ToString());
          decide(plan, rc::kSystemMalfunction);
          continue;
        }
        if (hold.is_zero()) {
          // A stand-in approval the card could not cover was settled from the stand-in loss
          // account at once: nothing is left to post.
          if (!paid_by_stand_in_loss) {
            spdlog::warn("issuer: completion for card {}: no hold for the original (STAN {})", plan.masked_pan,
                         original->stan);
          }
          decide(plan, paid_by_stand_in_loss ? rc::kApproved : rc::kUnableToLocateOriginal);
          continue;
        }
        t.id = PostId(plan.key);
        t.pending_id = hold;
        t.flags = ledger::transfer_flags::kPostPendingTransfer;
        add(plan, Action::kCompletion, t);  // accounts and code 0: as in the hold
        continue;
      }

      plan.key = RequestKey(bank_id, acquirer, terminal, *m.Get(11), m.Get(7).value_or(""));
      plan.stand_in_loss_account = bank->stand_in_loss_account;
      t.debit_account_id = card.account_id;
      t.credit_account_id = bank->settlement_account;
      t.code = kTransferStandIn;
      if (iso8583::OriginalOfRepeat(mti) == "0220") {
        // The acquirer reversed this sale before the bank heard of the network's approval (a
        // remembered failure, or a refund of the bank's own posting for that reason): not posted.
        auto refund_failure = ledger_->LookupTransferFailure(RefundId(plan.key));
        auto stand_in_refund_failure = ledger_->LookupTransferFailure(StandInRefundId(plan.key));
        auto refund = ledger_->LookupTransfer(RefundId(plan.key));
        auto own = posted_sale(HoldId(plan.key));
        if (!refund_failure.ok() || !stand_in_refund_failure.ok() || !refund.ok() || !own.ok()) {
          spdlog::warn("issuer: ledger look-up failed for a stand-in advice");
          decide(plan, rc::kSystemMalfunction);
          continue;
        }
        if (planned_reversals.contains(plan.key) || refund_failure->has_value() ||
            stand_in_refund_failure->has_value() ||
            (refund->has_value() && (*refund)->transfer.user_data_32 == kVoidReasonReversal)) {
          spdlog::info("issuer: stand-in advice for card {} names a sale already reversed; not posted",
                       plan.masked_pan);
          decide(plan, rc::kApproved);
          continue;
        }
        // The bank posted the sale itself (its answer reached the network too late) and the
        // network's reversal of it has not arrived: it is refunded now, under the id that reversal
        // uses (so only one of them refunds it), and the network's posting stands.
        if (own->has_value() && !refund->has_value()) {
          ledger::Transfer takeover = t;
          takeover.id = RefundId(plan.key);
          takeover.debit_account_id = bank->settlement_account;
          takeover.credit_account_id = card.account_id;
          takeover.amount = static_cast<std::uint64_t>(**own);
          takeover.code = kTransferRefund;
          takeover.user_data_32 = kVoidReasonStandInTakeover;
          transfers.push_back(takeover);
        }
        t.id = StandInHoldId(plan.key);  // posted: the stand-in financial (0200) approval
        planned_sales[t.id] = plan.amount;
        add(plan, Action::kStandInPost, t);
        continue;
      }
      // A reversal that found no hold (or no stand-in hold) left a remembered failure of its void:
      // the acquirer reversed this sale before the bank heard of the network's approval.
      auto reversed = ledger_->LookupTransferFailure(VoidId(plan.key));
      auto reversed_stand_in = ledger_->LookupTransferFailure(StandInVoidId(plan.key));
      if (!reversed.ok() || !reversed_stand_in.ok()) {
        spdlog::warn("issuer: ledger look-up failed for a stand-in advice");
        decide(plan, rc::kSystemMalfunction);
        continue;
      }
      if (reversed->has_value() || reversed_stand_in->has_value() ||
          planned_reversals.contains(plan.key)) {
        spdlog::info("issuer: stand-in advice for card {} names a sale already reversed; not held", plan.masked_pan);
        decide(plan, rc::kApproved);
        continue;
      }
      t.id = HoldId(plan.key);
      t.flags = ledger::transfer_flags::kPending;
      t.timeout = options_.hold_timeout_s;
      planned_holds.insert(t.id);
      add(plan, Action::kStandInHold, t);
      continue;
    }

    // 0100 / 0200: the rules, counting what this batch already approved for the same card.
    plan.key = RequestKey(bank_id, acquirer, terminal, *m.Get(11), m.Get(7).value_or(""));
    {
      // Its reversal arrived first (it left a remembered failure): the acquirer gave the request
      // up, so nothing is held or posted.
      auto reversed = ledger_->LookupTransferFailure(auth ? VoidId(plan.key) : RefundId(plan.key));
      if (!reversed.ok()) {
        spdlog::warn("issuer: ledger look-up failed: {}", reversed.status().ToString());
        decide(plan, rc::kSystemMalfunction);
        continue;
      }
      if (reversed->has_value() || planned_reversals.contains(plan.key)) {
        spdlog::info("issuer: request for card {} (STAN {}) was reversed before it arrived",
                     plan.masked_pan, *m.Get(11));
        decide(plan, rc::kInvalidTransaction);
        continue;
      }
    }
    {
      // The network's stand-in advice of this very request reached the bank first: the network
      // stood in, could not make its answer durable and left it unanswered, and the acquirer's
      // repeat came after the advice (found by the simulator's failing disk under the switch's
      // store). The request is booked once: the repeat is answered from that booking (0120: the
      // stand-in hold under the request's own id; 0220: the stand-in posting).
      const Id128 stand_in_id = auth ? HoldId(plan.key) : StandInHoldId(plan.key);
      bool booked = false;
      bool standing = false;  // not voided, expired or refunded since
      Status looked_up = Status::Ok();
      if (auth) {
        auto hold = ledger_->LookupTransfer(stand_in_id);
        looked_up = hold.status();
        if (hold.ok() && hold->has_value() && (*hold)->transfer.code == kTransferStandIn) {
          booked = true;
          standing = (*hold)->pending_state == ledger::PendingState::kPending ||
                     (*hold)->pending_state == ledger::PendingState::kPosted;
        }
      } else {
        auto posting = posted_sale(stand_in_id);
        auto refund = ledger_->LookupTransfer(StandInRefundId(plan.key));
        looked_up = !posting.ok() ? posting.status() : refund.status();
        if (posting.ok() && refund.ok()) {
          booked = posting->has_value();
          standing = !refund->has_value();
        }
      }
      if (!looked_up.ok()) {
        spdlog::warn("issuer: ledger look-up failed: {}", looked_up.ToString());
        decide(plan, rc::kSystemMalfunction);
        continue;
      }
      if (booked) {
        decide(plan, standing ? rc::kApproved : rc::kInvalidTransaction);
        if (standing) plan.approval = ApprovalCode(stand_in_id);
        continue;
      }
    }
    DayActivity& day = activity_[plan.fingerprint];
    if (day.day != today) day = DayActivity{today, {}};
    DailyActivity seen = day.today;
    seen.amount_minor += tentative[plan.fingerprint].amount_minor;
    seen.transactions += tentative[plan.fingerprint].transactions;
    RequestFacts facts;
    facts.amount_minor = plan.amount;
    facts.expiry_on_request = m.Get(14).value_or("");
    facts.mcc = m.Get(18).value_or("");
    facts.today_yymm = today_yymm;
    facts.card_not_present = IsCardNotPresent(m.Get(22));
    facts.cvv2_required_for_card_not_present = bank->config.cvv2_required_for_card_not_present;
    std::string expected_cvv2;  // wiped below
    if (!bank->config.card_verification_key.empty()) {
      bool cryptogram_validated = false;
      if (auto de48 = m.Get(48)) {
        auto presented = Cvv2FromTokenData(*de48);
        if (!presented.ok()) {
          decide(plan, rc::kFormatError);
          continue;
        }
        facts.cvv2_presented = *presented;
        // CV "V": the network's TSP verified the token's cryptogram (network/switch.cc sets it and
        // drops any the acquirer sent), which authenticates the card in place of a CVV2.
        auto cv = iso8583::FindSubElement(*de48, iso8583::token_tag::kCryptogramResult);
        cryptogram_validated = cv.ok() && cv->has_value() && **cv == "V";
      }
      if (!facts.cvv2_presented.empty() ||
          (facts.card_not_present && facts.cvv2_required_for_card_not_present && !cryptogram_validated)) {
        // CVV2 = the CVV algorithm with service code 000 over the card's own expiry (the one
        // printed on it).
        auto cvv2 = crypto::GenerateCardVerificationValue(bank->config.card_verification_key, pan, card.expiry,
                                                          crypto::cvv_service_code::kCvv2);
        if (!cvv2.ok()) {
          spdlog::warn("issuer: CVV2 of card {} not computable: {}", plan.masked_pan, cvv2.status().ToString());
          decide(plan, rc::kSystemMalfunction);
          continue;
        }
        expected_cvv2 = std::move(*cvv2);
        facts.cvv2_expected = expected_cvv2;
      }
    }
    const std::string_view code = CheckAuthorizationRules(card, facts, seen);
    SecureWipe(expected_cvv2.data(), expected_cvv2.size());
    if (code != rc::kApproved) {
      decide(plan, code);
      continue;
    }
    tentative[plan.fingerprint].amount_minor += plan.amount;
    tentative[plan.fingerprint].transactions += 1;
    t.id = HoldId(plan.key);
    t.debit_account_id = card.account_id;
    t.credit_account_id = bank->settlement_account;
    t.code = kTransferPurchase;
    if (auth) {
      t.flags = ledger::transfer_flags::kPending;
      t.timeout = options_.hold_timeout_s;
      planned_holds.insert(t.id);
    } else {
      planned_sales[t.id] = plan.amount;
    }
    add(plan, Action::kHold, t);
  }

  // One group commit for the whole batch: nothing is answered before it is durable.
  std::vector<R> results(transfers.size(), R::kOk);
  Status ledger_status = Status::Ok();
  if (!transfers.empty()) ledger_status = ledger_->CreateTransfers(transfers, results);

  // Stand-in holds whose id existed: the bank had approved the request itself (see issuer_host.h).
  std::vector<ledger::Transfer> follow_ups;
  for (std::size_t i = 0; i < plans.size() && ledger_status.ok(); ++i) {
    Plan& plan = plans[i];
    if (plan.action != Action::kStandInHold) continue;
    const auto at = static_cast<std::size_t>(plan.transfer);
    if (!IsExists(results[at])) continue;
    auto own = ledger_->LookupTransfer(HoldId(plan.key));
    if (!own.ok()) {
      ledger_status = own.status();
      break;
    }
    // Absent cannot happen after `exists`; a stand-in code means this advice already placed it.
    if (!own->has_value() || (*own)->transfer.code == kTransferStandIn) continue;
    ledger::Transfer stand_in = transfers[at];
    stand_in.id = StandInHoldId(plan.key);
    if ((*own)->pending_state == ledger::PendingState::kPending) {
      ledger::Transfer release;
      release.id = VoidId(plan.key);
      release.pending_id = HoldId(plan.key);
      release.ledger = stand_in.ledger;
      release.flags = ledger::transfer_flags::kVoidPendingTransfer | ledger::transfer_flags::kLinked;
      release.user_data_32 = kVoidReasonStandInTakeover;
      follow_ups.push_back(release);
      plan.takeover = true;
    } else if ((*own)->pending_state == ledger::PendingState::kVoided) {
      // Voided for lateness (or by an earlier takeover): the network's approval still stands.
      auto voided = ledger_->LookupTransfer(VoidId(plan.key));
      if (!voided.ok()) {
        ledger_status = voided.status();
        break;
      }
      if (!voided->has_value()) continue;
      const std::uint32_t reason = (*voided)->transfer.user_data_32;
      if (reason != kVoidReasonLateResponse && reason != kVoidReasonStandInTakeover) continue;  // reversed
    } else {
      continue;  // posted (completed) or expired: nothing left to hold
    }
    plan.follow_up = static_cast<int>(follow_ups.size());
    follow_ups.push_back(stand_in);
  }
  std::vector<R> follow_up_results(follow_ups.size(), R::kOk);
  if (!follow_ups.empty() && ledger_status.ok()) {
    ledger_status = ledger_->CreateTransfers(follow_ups, follow_up_results);
  }

  // Stand-in approvals the card could not cover are paid by the bank's stand-in loss account. A
  // takeover chain that failed left the bank's own hold in place, which covers the approval.
  std::vector<ledger::Transfer> fallbacks;
  for (std::size_t i = 0; i < plans.size() && ledger_status.ok(); ++i) {
    const Plan& plan = plans[i];
    if (plan.action != Action::kStandInHold && plan.action != Action::kStandInPost) continue;
    ledger::Transfer t = transfers[static_cast<std::size_t>(plan.transfer)];
    R r = results[static_cast<std::size_t>(plan.transfer)];
    if (plan.follow_up >= 0) {
      if (plan.takeover) continue;
      t = follow_ups[static_cast<std::size_t>(plan.follow_up)];
      r = follow_up_results[static_cast<std::size_t>(plan.follow_up)];
    }
    if (IsCreated(r)) continue;
    t.id = StandInLossId(t.id);
    t.debit_account_id = plan.stand_in_loss_account;
    t.flags = 0;
    t.timeout = 0;
    fallbacks.push_back(t);
  }
  // Reversals of posted credits the card can no longer cover (the cardholder spent the money):
  // the bank's credit recovery account pays, so the settlement account is made whole. Idempotent
  // by id; a retry of such a reversal finds its own id failed and lands here again.
  for (std::size_t i = 0; i < plans.size() && ledger_status.ok(); ++i) {
    const Plan& plan = plans[i];
    if (plan.action != Action::kCreditReversal || plan.credit_recovery_account.is_zero()) continue;
    const ledger::Transfer& reversal = transfers[static_cast<std::size_t>(plan.transfer)];
    const R r = results[static_cast<std::size_t>(plan.transfer)];
    if (IsCreated(r)) continue;
    spdlog::warn("issuer: reversal of a credit to card {}: the card cannot cover it ({}); "
                 "paid by the credit recovery account",
                 plan.masked_pan, ledger::CreateTransferResultName(r));
    ledger::Transfer recovery = reversal;
    recovery.id = CreditRecoveryId(plan.key);
    recovery.debit_account_id = plan.credit_recovery_account;
    fallbacks.push_back(recovery);
  }
  if (!fallbacks.empty()) {
    auto fallback_results = ledger_->CreateTransfers(fallbacks);
    if (!fallback_results.ok()) {
      ledger_status = fallback_results.status();
    } else {
      for (std::size_t i = 0; i < fallbacks.size(); ++i) {
        if (IsCreated((*fallback_results)[i])) continue;
        spdlog::error("issuer: bank account could not pay transfer {}: {}", fallbacks[i].id.ToHex(),
                      ledger::CreateTransferResultName((*fallback_results)[i]));
      }
    }
  }

  // A failed write or sync leaves the outcome unknown: the transfers may be on disk or not
  // (ledger.h). Declining would be a lie when they are (a hold nobody reverses), approving one when
  // they are not, so the requests that reached the ledger get no answer at all: their senders time
  // out and reverse or stand in, exactly as if the host had crashed before answering. Nothing after
  // is answered until the host is reopened and has recovered what is on disk (above).
  const bool outcome_unknown = ledger_status.code() == ErrorCode::kIoError;
  if (outcome_unknown && !ledger_failed_.exchange(true)) {
    spdlog::error("issuer: ledger failed, {} requests left unanswered; reopen the host: {}",
                  std::count_if(plans.begin(), plans.end(), [](const Plan& p) { return p.action != Action::kDecided; }),
                  ledger_status.ToString());
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Plan& plan = plans[i];
    if (outcome_unknown && plan.action != Action::kDecided) {
      stats_.unanswered++;
      continue;  // the Reply is dropped uncalled (link/message_handler.h)
    }
    iso8583::Message& request = batch[i].request;
    std::string code = plan.code;
    std::string approval = plan.approval;
    if (plan.action != Action::kDecided) {
      const R r = results[static_cast<std::size_t>(plan.transfer)];
      if (!ledger_status.ok()) {
        code = rc::kSystemMalfunction;
      } else if (plan.action == Action::kCredit) {
        if (r == R::kOk || r == R::kExists) {
          // Posted now, or a repeat of the very same credit: the first approval again.
          code = rc::kApproved;
          approval = ApprovalCode(transfers[static_cast<std::size_t>(plan.transfer)].id);
        } else if (IsExists(r)) {
          // Another credit under a key already used (a different amount or card): approving it
          // would tell the acquirer an amount was credited that never was.
          spdlog::warn("issuer: credit to card {} reuses the key of another credit ({}); "
                       "refused as a duplicate",
                       plan.masked_pan, ledger::CreateTransferResultName(r));
          code = kDuplicateTransmission;
        } else {
          spdlog::warn("issuer: ledger refused a credit to card {}: {}", plan.masked_pan,
                       ledger::CreateTransferResultName(r));
          code = rc::kSystemMalfunction;
        }
      } else if (plan.action == Action::kHold) {
        if (IsCreated(r)) {
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
      } else if (plan.action == Action::kCompletion) {
        code = CompletionCode(r);
        if (code == rc::kUnableToLocateOriginal || code == rc::kSystemMalfunction) {
          spdlog::warn("issuer: completion for card {} not posted: {}", plan.masked_pan,
                       ledger::CreateTransferResultName(r));
        } else if (code == rc::kInvalidAmount) {
          spdlog::warn("issuer: completion for card {} exceeds its hold", plan.masked_pan);
        }
      } else {
        code = rc::kApproved;  // reversals and advices are acknowledged whatever became of them
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

std::string_view AuthorizationStateName(AuthorizationState::State state) {
  switch (state) {
    case AuthorizationState::kNotFound: return "not_found";
    case AuthorizationState::kPending: return "pending";
    case AuthorizationState::kPosted: return "posted";
    case AuthorizationState::kVoided: return "voided";
    case AuthorizationState::kExpired: return "expired";
    case AuthorizationState::kRefunded: return "refunded";
  }
  return "unknown";
}

Result<AuthorizationState> IssuerHost::FindAuthorization(std::string_view institution_id,
                                                         std::string_view acquirer_id, std::string_view terminal_id,
                                                         std::string_view stan, std::string_view transmission_time) {
  if (!banks_.contains(std::string(institution_id))) {
    return NotFound("bank " + std::string(institution_id) + " is not hosted here");
  }
  if (!IsDigits(stan, 6)) return InvalidArgument("STAN '" + std::string(stan) + "': expected 6 digits (DE11)");
  if (!IsDigits(transmission_time, 10)) {
    return InvalidArgument("transmission time '" + std::string(transmission_time) + "': expected MMDDhhmmss (DE7)");
  }
  const std::string key = RequestKey(institution_id, acquirer_id, terminal_id, stan, transmission_time);
  AuthorizationState out;

  // The live hold: the stand-in one when there is one (see issuer_host.h), else the bank's own.
  std::optional<ledger::TransferRecord> record;
  TS_ASSIGN_OR_RETURN(auto stand_in, ledger_->LookupTransfer(StandInHoldId(key)));
  if (stand_in.has_value()) {
    record = std::move(stand_in);
    out.stand_in = true;
  } else {
    TS_ASSIGN_OR_RETURN(record, ledger_->LookupTransfer(HoldId(key)));
    out.stand_in = record.has_value() && record->transfer.code == kTransferStandIn;
  }
  if (!record.has_value()) {
    for (const Id128& hold : {StandInHoldId(key), HoldId(key)}) {
      TS_ASSIGN_OR_RETURN(auto loss, ledger_->LookupTransfer(StandInLossId(hold)));
      if (!loss.has_value()) continue;
      out.state = AuthorizationState::kPosted;
      out.stand_in = true;
      out.amount_minor = out.posted_minor = static_cast<std::int64_t>(loss->transfer.amount);
      return out;
    }
    return out;  // kNotFound
  }
  const ledger::Transfer& hold = record->transfer;
  out.amount_minor = static_cast<std::int64_t>(hold.amount);
  if ((hold.flags & ledger::transfer_flags::kPending) == 0) {  // an 0200 (or 0220): posted at once
    // Its reversal is a refund next to the posting (ProcessBatch, "orig_mti == 0200").
    TS_ASSIGN_OR_RETURN(auto refund, ledger_->LookupTransfer(out.stand_in ? StandInRefundId(key) : RefundId(key)));
    out.state = refund.has_value() ? AuthorizationState::kRefunded : AuthorizationState::kPosted;
    out.posted_minor = refund.has_value() ? 0 : out.amount_minor;
    return out;
  }
  switch (record->pending_state) {
    case ledger::PendingState::kPosted: {
      out.state = AuthorizationState::kPosted;
      TS_ASSIGN_OR_RETURN(auto post, ledger_->LookupTransfer(PostId(key)));
      out.posted_minor = post.has_value() ? static_cast<std::int64_t>(post->transfer.amount) : out.amount_minor;
      break;
    }
    case ledger::PendingState::kVoided:
      out.state = AuthorizationState::kVoided;
      break;
    case ledger::PendingState::kExpired:
      out.state = AuthorizationState::kExpired;
      break;
    case ledger::PendingState::kPending:
    case ledger::PendingState::kNone: {
      // Due but not yet swept: the ledger already refuses to post or void it.
      const std::int64_t now_ns = clock_->NowUnixMillis() * 1'000'000;
      const std::uint64_t due_ns = hold.timestamp + std::uint64_t{hold.timeout} * 1'000'000'000;
      const bool due = hold.timeout != 0 && now_ns >= 0 && static_cast<std::uint64_t>(now_ns) >= due_ns;
      out.state = due ? AuthorizationState::kExpired : AuthorizationState::kPending;
      break;
    }
  }
  return out;
}

}  // namespace tapstack::issuer
