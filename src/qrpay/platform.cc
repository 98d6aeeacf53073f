#include "qrpay/platform.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "crypto/csprng.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "ledger/store_ledger.h"
#include "qrpay/payment_code.h"
#include "store/group_commit.h"
#include "store/migration.h"
#include "store/sqlite_store.h"

namespace tapstack::qrpay {

namespace {

using nlohmann::json;
using store::Row;
using store::Rows;
using store::Store;
using store::Value;

__extension__ typedef __int128 Int128;  // products of two int64 amounts

constexpr std::int64_t kMillisPerSecond = 1000;
constexpr std::int64_t kMillisPerMinute = 60'000;
constexpr std::int64_t kMillisPerDay = 86'400'000;
constexpr int kPaymentCodeIssueAttemptsMax = 4;  // a collision of 53-bit codes is ~never

// Ledger account codes (the chart in platform.h).
constexpr std::uint16_t kCodeUser = 1;
constexpr std::uint16_t kCodeMerchant = 2;
constexpr std::uint16_t kCodeCardClearing = 3;
constexpr std::uint16_t kCodeFxPosition = 4;
constexpr std::uint16_t kCodeNetworkClearing = 5;
constexpr std::uint16_t kCodeRefundOperator = 6;
constexpr std::uint16_t kCodeOperatorFunding = 7;
constexpr std::uint16_t kCodeFees = 8;

// Transfer codes (the reason of a movement).
constexpr std::uint16_t kTransferPayment = 1;
constexpr std::uint16_t kTransferRefund = 2;
constexpr std::uint16_t kTransferTopUp = 3;
constexpr std::uint16_t kTransferWithdrawal = 4;
constexpr std::uint16_t kTransferTaxRefund = 5;
constexpr std::uint16_t kTransferClearing = 6;
constexpr std::uint16_t kTransferPrefund = 7;

// Operation states in qrpay_ops.
constexpr std::string_view kDone = "done";
constexpr std::string_view kRefused = "refused";
constexpr std::string_view kInFlight = "in_flight";

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> migrations = [] {
    std::vector<store::Migration> list(ledger::StoreLedgerMigrations().begin(),
                                       ledger::StoreLedgerMigrations().end());
    // Platform versions start at 1001 so the ledger's own list can grow below them.
    list.push_back(store::Migration{
        1001, "create qrpay tables",
        "CREATE TABLE qrpay_ledger_accounts (id BYTEA PRIMARY KEY, label TEXT NOT NULL UNIQUE,"
        " ledger BIGINT NOT NULL, code BIGINT NOT NULL);"
        "CREATE TABLE qrpay_accounts (account_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL UNIQUE,"
        " alias TEXT NOT NULL, level BIGINT NOT NULL, currency BIGINT NOT NULL,"
        " created_ms BIGINT NOT NULL);"
        "CREATE TABLE qrpay_ops (op_id TEXT PRIMARY KEY, kind TEXT NOT NULL, actor TEXT NOT NULL,"
        " digest TEXT NOT NULL, status TEXT NOT NULL, error_code BIGINT NOT NULL,"
        " message TEXT NOT NULL, receipt TEXT NOT NULL, created_ms BIGINT NOT NULL);"
        "CREATE TABLE qrpay_postings (op_id TEXT NOT NULL, account TEXT NOT NULL,"
        " seq BIGINT NOT NULL, created_ms BIGINT NOT NULL, local_day BIGINT NOT NULL,"
        " kind TEXT NOT NULL, counterparty TEXT NOT NULL, amount_minor BIGINT NOT NULL,"
        " balance_after BIGINT NOT NULL, PRIMARY KEY (op_id, account));"
        "CREATE UNIQUE INDEX qrpay_postings_by_account ON qrpay_postings (account, seq);"
        "CREATE TABLE qrpay_spending (op_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " local_day BIGINT NOT NULL, amount_minor BIGINT NOT NULL);"
        "CREATE INDEX qrpay_spending_by_account ON qrpay_spending (account_id, local_day);"
        "CREATE TABLE qrpay_payments (payment_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
        " account_id TEXT NOT NULL, merchant_id TEXT NOT NULL, refund_of TEXT NOT NULL,"
        " amount_minor BIGINT NOT NULL, currency BIGINT NOT NULL,"
        " payer_amount_minor BIGINT NOT NULL, payer_currency BIGINT NOT NULL, rate TEXT NOT NULL,"
        " markup_bps BIGINT NOT NULL, refunded_minor BIGINT NOT NULL,"
        " payer_refunded_minor BIGINT NOT NULL, local_day BIGINT NOT NULL,"
        " created_ms BIGINT NOT NULL);"
        "CREATE INDEX qrpay_payments_by_merchant ON qrpay_payments (merchant_id, local_day);"
        "CREATE TABLE qrpay_orders_used (merchant_id TEXT NOT NULL, order_id TEXT NOT NULL,"
        " op_id TEXT NOT NULL, PRIMARY KEY (merchant_id, order_id));"
        "CREATE TABLE qrpay_topups (order_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " amount_minor BIGINT NOT NULL, device_id TEXT NOT NULL, status TEXT NOT NULL,"
        " created_ms BIGINT NOT NULL);"
        "CREATE TABLE qrpay_funding_cards (card_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " token TEXT NOT NULL, token_expiry TEXT NOT NULL, token_last4 TEXT NOT NULL,"
        " created_ms BIGINT NOT NULL);"
        "CREATE TABLE qrpay_quotes (quote_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " payload TEXT NOT NULL, merchant_id TEXT NOT NULL, merchant_name TEXT NOT NULL,"
        " payee_platform TEXT NOT NULL, amount_minor BIGINT NOT NULL, currency BIGINT NOT NULL,"
        " payer_amount_minor BIGINT NOT NULL, rate TEXT NOT NULL, markup_bps BIGINT NOT NULL,"
        " source TEXT NOT NULL, business_date TEXT NOT NULL, expires_ms BIGINT NOT NULL,"
        " used_by TEXT);"
        "CREATE TABLE qrpay_payment_codes (code TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " device_id TEXT NOT NULL, expires_ms BIGINT NOT NULL, used_by TEXT);"
        "CREATE TABLE qrpay_tax_refunds (operator_id TEXT NOT NULL,"
        " receipt_reference TEXT NOT NULL, op_id TEXT NOT NULL,"
        " PRIMARY KEY (operator_id, receipt_reference));"
        "CREATE TABLE qrpay_clearing_in (clearing_id TEXT PRIMARY KEY, response TEXT NOT NULL,"
        " created_ms BIGINT NOT NULL);",
        "", ""});
    list.push_back(store::Migration{
        1002, "create qrpay card payment tables",
        "CREATE TABLE qrpay_card_orders (order_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " payload TEXT NOT NULL, merchant_id TEXT NOT NULL, code_order_id TEXT NOT NULL,"
        " amount_minor BIGINT NOT NULL, fee_minor BIGINT NOT NULL, usd_minor BIGINT NOT NULL,"
        " visitor BOOLEAN NOT NULL, device_id TEXT NOT NULL, created_ms BIGINT NOT NULL);"
        "CREATE TABLE qrpay_card_usage (op_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " local_day BIGINT NOT NULL, usd_minor BIGINT NOT NULL);"
        "CREATE INDEX qrpay_card_usage_by_account ON qrpay_card_usage (account_id, local_day);",
        "", ""});
    return list;
  }();
  return migrations;
}

std::string LowerHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

Bytes ToBytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

// SHA-256 over the parts joined by 0x1F (a separator no part contains).
Result<Bytes> Digest(std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (std::string_view part : parts) {
    joined.append(part);
    joined += '\x1F';
  }
  return crypto::Sha256(ToBytes(joined));
}

Result<ledger::Id128> DerivedId(std::initializer_list<std::string_view> parts) {
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest(parts));
  ledger::Id128 id;
  for (int i = 0; i < 8; ++i) {
    id.high = (id.high << 8) | digest[static_cast<std::size_t>(i)];
    id.low = (id.low << 8) | digest[static_cast<std::size_t>(8 + i)];
  }
  return id;
}

Bytes IdBytes(ledger::Id128 id) {
  Bytes out(16);
  for (int i = 0; i < 8; ++i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(id.high >> (56 - 8 * i));
    out[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(id.low >> (56 - 8 * i));
  }
  return out;
}

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax ||
      !std::all_of(key.begin(), key.end(), IsKeyChar)) {
    return InvalidArgument("idempotency_key: expected 1-" +
                           std::to_string(kIdempotencyKeyBytesMax) + " of [A-Za-z0-9._:-]");
  }
  return Status::Ok();
}

Status CheckText(std::string_view field, std::string_view value, std::size_t bytes_max) {
  if (value.empty() || value.size() > bytes_max ||
      !std::all_of(value.begin(), value.end(), IsKeyChar)) {
    return InvalidArgument(std::string(field) + ": expected 1-" + std::to_string(bytes_max) +
                           " of [A-Za-z0-9._:-]");
  }
  return Status::Ok();
}

json AmountJson(const Amount& amount) {
  return json{{"minor", amount.minor_units()}, {"currency", std::string(amount.currency().alpha)}};
}

Result<Amount> AmountFromJson(const json& value, std::string_view field) {
  if (!value.is_object() || !value.contains("minor") || !value.contains("currency") ||
      !value["minor"].is_number_integer() || !value["currency"].is_string()) {
    return InvalidArgument(std::string(field) +
                           ": expected {\"minor\": integer, \"currency\": ISO 4217 alpha}");
  }
  auto currency = CurrencyByAlpha(value["currency"].get<std::string>());
  if (!currency.ok()) return InvalidArgument(std::string(field) + ".currency: unknown currency");
  return Amount(value["minor"].get<std::int64_t>(), **currency);
}

Result<const Currency*> CurrencyFromNumeric(std::int64_t numeric) {
  if (numeric <= 0 || numeric > 999) return Corruption("qrpay: stored currency out of range");
  return CurrencyByNumeric(static_cast<std::uint16_t>(numeric));
}

std::string RateText(std::int64_t mantissa, int scale) {
  std::string digits = std::to_string(mantissa < 0 ? -mantissa : mantissa);
  if (scale <= 0) return digits;
  const auto s = static_cast<std::size_t>(scale);
  if (digits.size() <= s) digits.insert(0, s - digits.size() + 1, '0');
  digits.insert(digits.size() - s, ".");
  return digits;
}

json ReceiptJson(const Receipt& r) {
  return json{{"receipt_id", r.receipt_id},
              {"kind", r.kind},
              {"account_id", r.account_id},
              {"merchant_id", r.merchant_id},
              {"merchant_name", r.merchant_name},
              {"payee_platform", r.payee_platform},
              {"payment_id", r.payment_id},
              {"amount", AmountJson(r.amount)},
              {"payer_amount", AmountJson(r.payer_amount)},
              {"fee", AmountJson(r.fee)},
              {"rate", r.rate},
              {"markup_bps", r.markup_bps},
              {"reference", r.reference},
              {"created_unix_ms", r.created_unix_ms}};
}

Result<Receipt> ReceiptFromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corruption("qrpay_ops.receipt: not JSON");
  try {
    Receipt r;
    r.receipt_id = j.at("receipt_id").get<std::string>();
    r.kind = j.at("kind").get<std::string>();
    r.account_id = j.at("account_id").get<std::string>();
    r.merchant_id = j.at("merchant_id").get<std::string>();
    r.merchant_name = j.at("merchant_name").get<std::string>();
    r.payee_platform = j.at("payee_platform").get<std::string>();
    r.payment_id = j.at("payment_id").get<std::string>();
    TS_ASSIGN_OR_RETURN(r.amount, AmountFromJson(j.at("amount"), "amount"));
    TS_ASSIGN_OR_RETURN(r.payer_amount, AmountFromJson(j.at("payer_amount"), "payer_amount"));
    TS_ASSIGN_OR_RETURN(r.fee, AmountFromJson(j.at("fee"), "fee"));
    r.rate = j.at("rate").get<std::string>();
    r.markup_bps = j.at("markup_bps").get<std::int64_t>();
    r.reference = j.at("reference").get<std::string>();
    r.created_unix_ms = j.at("created_unix_ms").get<std::int64_t>();
    return r;
  } catch (const json::exception& e) {
    return Corruption(std::string("qrpay_ops.receipt: ") + e.what());
  }
}

// Days since 1970-01-01 → civil date (H. Hinnant's algorithm, proleptic Gregorian).
void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

// The errors a request's own content or the platform's state explains: remembered under the
// idempotency key and answered again. Failures of the machinery (store, rail) are not.
bool IsRefusal(ErrorCode code) {
  return code != ErrorCode::kUnavailable && code != ErrorCode::kIoError &&
         code != ErrorCode::kInternal && code != ErrorCode::kCorruption;
}

Status ErrorFromRow(std::int64_t code, std::string message) {
  if (code <= 0 || code > static_cast<std::int64_t>(ErrorCode::kInternal)) {
    return Corruption("qrpay_ops.error_code out of range");
  }
  return Status(static_cast<ErrorCode>(code), std::move(message));
}

struct AccountRow {
  std::string account_id;
  std::string owner_id;
  std::string alias;
  int level = kLevelLowest;
  std::string label;  // "user:<account id>"
};

struct OpRow {
  std::string status;
  std::string digest;
  std::int64_t error_code = 0;
  std::string message;
  std::string receipt;
};

}  // namespace

struct Platform::Impl {
  std::string id;
  const QrpayConfig* config = nullptr;
  const PlatformInfo* info = nullptr;
  std::unique_ptr<Store> store;
  std::mutex store_mu;
  std::unique_ptr<store::GroupCommitter> committer;
  std::unique_ptr<ledger::StoreLedger> ledger;
  crypto::SecretBytes qr_key;
  const Clock* clock = nullptr;
  std::unique_ptr<crypto::Csprng> own_random;
  RandomSource* random = nullptr;
  std::mutex random_mu;
  CardRail* rail = nullptr;
  const RateSource* rates = nullptr;
  ClearingLink* clearing = nullptr;

  const Currency& home() const { return *info->currency; }
  std::int64_t NowMs() const { return clock->NowUnixMillis(); }

  // YYYYMMDD of the platform's local day holding `unix_ms`.
  std::int64_t LocalDay(std::int64_t unix_ms) const {
    const std::int64_t local = unix_ms + info->utc_offset_minutes * kMillisPerMinute;
    std::int64_t days = local / kMillisPerDay;
    if (local % kMillisPerDay < 0) --days;
    std::int64_t y = 0;
    unsigned m = 0;
    unsigned d = 0;
    CivilFromDays(days, y, m, d);
    return y * 10000 + m * 100 + d;
  }

  static std::string DayText(std::int64_t day) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(day / 10000),
                  static_cast<long long>(day / 100 % 100), static_cast<long long>(day % 100));
    return buf;
  }

  Result<ledger::Id128> LedgerId(std::string_view label) const {
    return DerivedId({"tapstack qrpay account", id, label});
  }

  Result<std::string> OpId(std::string_view kind, std::string_view actor, std::string_view key) {
    TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"tapstack qrpay operation", id, kind, actor, key}));
    return LowerHex(ByteView(digest).first(16));
  }

  Result<ledger::Transfer> MakeTransfer(std::string_view op_id, std::string_view leg,
                                        std::string_view debit_label, std::string_view credit_label,
                                        const Amount& amount, std::uint16_t code,
                                        std::uint16_t flags = 0) {
    if (amount.minor_units() <= 0) return Internal("qrpay: transfer amount not positive");
    ledger::Transfer t;
    TS_ASSIGN_OR_RETURN(t.id, DerivedId({"tapstack qrpay transfer", id, op_id, leg}));
    TS_ASSIGN_OR_RETURN(t.debit_account_id, LedgerId(debit_label));
    TS_ASSIGN_OR_RETURN(t.credit_account_id, LedgerId(credit_label));
    t.amount = static_cast<std::uint64_t>(amount.minor_units());
    t.ledger = amount.currency().numeric;
    t.code = code;
    t.flags = flags;
    return t;
  }

  // Applies `transfers` in the open transaction; any refusal is a bug (balances were checked).
  Status ApplyTransfers(Store& tx, const std::vector<ledger::Transfer>& transfers) {
    std::vector<ledger::CreateTransferResult> results(transfers.size());
    TS_RETURN_IF_ERROR(ledger->CreateTransfersInTransaction(tx, transfers, results));
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i] != ledger::CreateTransferResult::kOk) {
        return Internal("qrpay: ledger refused transfer " + std::to_string(i) + ": " +
                        std::string(ledger::CreateTransferResultName(results[i])));
      }
    }
    return Status::Ok();
  }

  Status CreateLedgerAccount(Store& tx, std::string_view label, const Currency& currency,
                             std::uint16_t code, bool must_not_overdraw) {
    ledger::Account account;
    TS_ASSIGN_OR_RETURN(account.id, LedgerId(label));
    account.ledger = currency.numeric;
    account.code = code;
    if (must_not_overdraw) account.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    std::vector<ledger::CreateAccountResult> results(1);
    TS_RETURN_IF_ERROR(
        ledger->CreateAccountsInTransaction(tx, std::vector<ledger::Account>{account}, results));
    if (results[0] != ledger::CreateAccountResult::kOk &&
        results[0] != ledger::CreateAccountResult::kExists) {
      return Internal("qrpay: ledger account " + std::string(label) + ": " +
                      std::string(ledger::CreateAccountResultName(results[0])));
    }
    return tx
        .Execute(
            "INSERT INTO qrpay_ledger_accounts (id, label, ledger, code) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            {IdBytes(account.id), std::string(label), std::int64_t{currency.numeric},
             std::int64_t{code}})
        .status();
  }

  // Posted balance and available (posted − outgoing holds) of a ledger account.
  struct Balances {
    std::int64_t posted = 0;
    std::int64_t available = 0;
  };
  Result<Balances> LedgerBalance(std::string_view label) {
    TS_ASSIGN_OR_RETURN(const ledger::Id128 lid, LedgerId(label));
    TS_ASSIGN_OR_RETURN(std::optional<ledger::Account> account, ledger->LookupAccount(lid));
    if (!account.has_value()) return NotFound("ledger account " + std::string(label));
    Balances b;
    b.posted = static_cast<std::int64_t>(account->credits_posted - account->debits_posted);
    b.available = b.posted - static_cast<std::int64_t>(account->debits_pending);
    return b;
  }

  // One journal line of a user or merchant account, with the balance after it.
  Status Post(Store& tx, std::string_view op_id, std::string_view label, std::string_view kind,
              std::string_view counterparty, std::int64_t signed_minor, std::int64_t now_ms) {
    TS_ASSIGN_OR_RETURN(const Balances after, LedgerBalance(label));
    TS_ASSIGN_OR_RETURN(Row row, tx.QueryRow("SELECT COALESCE(MAX(seq), 0) AS seq FROM "
                                             "qrpay_postings WHERE account = ?",
                                             {std::string(label)}));
    TS_ASSIGN_OR_RETURN(const std::int64_t seq, row.GetInt64("seq"));
    return tx
        .Execute(
            "INSERT INTO qrpay_postings (op_id, account, seq, created_ms, local_day, kind,"
            " counterparty, amount_minor, balance_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {std::string(op_id), std::string(label), seq + 1, now_ms, LocalDay(now_ms),
             std::string(kind), std::string(counterparty), signed_minor, after.posted})
        .status();
  }

  Result<AccountRow> LoadAccount(Store& s, std::string_view account_id) {
    TS_ASSIGN_OR_RETURN(Rows rows, s.Query("SELECT account_id, owner_id, alias, level FROM "
                                           "qrpay_accounts WHERE account_id = ?",
                                           {std::string(account_id)}));
    if (rows.empty()) {
      return NotFound("account_id: \"" + std::string(account_id) + "\" is not an account here");
    }
    AccountRow a;
    TS_ASSIGN_OR_RETURN(a.account_id, rows[0].GetText(0));
    TS_ASSIGN_OR_RETURN(a.owner_id, rows[0].GetText(1));
    TS_ASSIGN_OR_RETURN(a.alias, rows[0].GetText(2));
    TS_ASSIGN_OR_RETURN(const std::int64_t level, rows[0].GetInt64(3));
    a.level = static_cast<int>(level);
    a.label = "user:" + a.account_id;
    return a;
  }

  Result<const MerchantProfile*> OwnMerchant(std::string_view merchant_id) const {
    TS_ASSIGN_OR_RETURN(const MerchantProfile* m, config->Merchant(merchant_id));
    if (m->platform_id != id) {
      return NotFound("merchant_id: \"" + std::string(merchant_id) + "\" is acquired by " +
                      m->platform_id + ", not " + id);
    }
    return m;
  }

  const LevelLimits& Limits(int level) const {
    return info
        ->levels[static_cast<std::size_t>(std::clamp(level, kLevelLowest, kLevelHighest) - 1)];
  }

  struct Spent {
    std::int64_t today = 0;
    std::int64_t year = 0;
  };
  Result<Spent> SpentBy(Store& s, std::string_view account_id, std::int64_t now_ms) {
    const std::int64_t day = LocalDay(now_ms);
    const std::int64_t year_start = day / 10000 * 10000;
    TS_ASSIGN_OR_RETURN(
        Row row, s.QueryRow("SELECT COALESCE(SUM(CASE WHEN local_day = ? THEN amount_minor ELSE 0"
                            " END), 0) AS today, COALESCE(SUM(amount_minor), 0) AS year"
                            " FROM qrpay_spending WHERE account_id = ? AND local_day > ?"
                            " AND local_day < ?",
                            {day, std::string(account_id), year_start, year_start + 10000}));
    Spent spent;
    TS_ASSIGN_OR_RETURN(spent.today, row.GetInt64("today"));
    TS_ASSIGN_OR_RETURN(spent.year, row.GetInt64("year"));
    return spent;
  }

  // The payer's limits and balance for an outgoing payment of `minor` (home currency).
  Status CheckOutgoing(Store& s, const AccountRow& a, std::int64_t minor, std::int64_t now_ms) {
    const LevelLimits& limits = Limits(a.level);
    TS_ASSIGN_OR_RETURN(const Spent spent, SpentBy(s, a.account_id, now_ms));
    const std::string level = "level " + std::to_string(a.level);
    if (limits.daily_max_minor > 0 && spent.today + minor > limits.daily_max_minor) {
      return OutOfRange("daily_max_minor: " + level + " allows " +
                        std::to_string(limits.daily_max_minor) + " a day; " +
                        std::to_string(spent.today) + " spent today, " + std::to_string(minor) +
                        " requested");
    }
    if (limits.yearly_max_minor > 0 && spent.year + minor > limits.yearly_max_minor) {
      return OutOfRange("yearly_max_minor: " + level + " allows " +
                        std::to_string(limits.yearly_max_minor) + " a year; " +
                        std::to_string(spent.year) + " spent this year, " + std::to_string(minor) +
                        " requested");
    }
    return CheckFunds(a.label, "balance", minor);
  }

  Status CheckFunds(std::string_view label, std::string_view field, std::int64_t minor) {
    TS_ASSIGN_OR_RETURN(const Balances b, LedgerBalance(label));
    if (b.available < minor) {
      return FailedPrecondition(std::string(field) + ": " + std::to_string(b.available) +
                                " available, " + std::to_string(minor) + " requested");
    }
    return Status::Ok();
  }

  Status CheckBalanceCap(const AccountRow& a, std::int64_t credit_minor) {
    const LevelLimits& limits = Limits(a.level);
    if (limits.balance_max_minor == 0) return Status::Ok();
    TS_ASSIGN_OR_RETURN(const Balances b, LedgerBalance(a.label));
    if (b.posted + credit_minor > limits.balance_max_minor) {
      return OutOfRange("balance_max_minor: level " + std::to_string(a.level) + " allows a " +
                        "balance of " + std::to_string(limits.balance_max_minor) + "; " +
                        std::to_string(b.posted) + " held, " + std::to_string(credit_minor) +
                        " requested");
    }
    return Status::Ok();
  }

  Status RecordSpending(Store& tx, std::string_view op_id, std::string_view account_id,
                        std::int64_t minor, std::int64_t now_ms) {
    return tx
        .Execute(
            "INSERT INTO qrpay_spending (op_id, account_id, local_day, amount_minor)"
            " VALUES (?, ?, ?, ?)",
            {std::string(op_id), std::string(account_id), LocalDay(now_ms), minor})
        .status();
  }

  Status RecordPayment(Store& tx, const Receipt& r, std::string_view refund_of, std::int64_t sign) {
    return tx
        .Execute(
            "INSERT INTO qrpay_payments (payment_id, kind, account_id, merchant_id,"
            " refund_of, amount_minor, currency, payer_amount_minor, payer_currency, rate,"
            " markup_bps, refunded_minor, payer_refunded_minor, local_day, created_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
            {r.receipt_id, r.kind, r.account_id, r.merchant_id, std::string(refund_of),
             sign * r.amount.minor_units(), std::int64_t{r.amount.currency().numeric},
             sign * r.payer_amount.minor_units(), std::int64_t{r.payer_amount.currency().numeric},
             r.rate, r.markup_bps, LocalDay(r.created_unix_ms), r.created_unix_ms})
        .status();
  }

  // ---- The operation runner ----
  struct OpState {
    Result<Receipt> result = Internal("qrpay: operation not run");
    bool in_flight = false;  // the first phase exists: drive the external step
  };
  using OpBody = std::function<Result<Receipt>(Store&, const std::string& op_id, bool& in_flight)>;

  Result<std::optional<OpRow>> LoadOp(Store& s, std::string_view op_id) {
    TS_ASSIGN_OR_RETURN(Rows rows, s.Query("SELECT status, digest, error_code, message, receipt"
                                           " FROM qrpay_ops WHERE op_id = ?",
                                           {std::string(op_id)}));
    if (rows.empty()) return std::optional<OpRow>();
    OpRow op;
    TS_ASSIGN_OR_RETURN(op.status, rows[0].GetText(0));
    TS_ASSIGN_OR_RETURN(op.digest, rows[0].GetText(1));
    TS_ASSIGN_OR_RETURN(op.error_code, rows[0].GetInt64(2));
    TS_ASSIGN_OR_RETURN(op.message, rows[0].GetText(3));
    TS_ASSIGN_OR_RETURN(op.receipt, rows[0].GetText(4));
    return std::optional<OpRow>(std::move(op));
  }

  static void FromOpRow(const OpRow& op, OpState& state) {
    if (op.status == kRefused) {
      state.result = ErrorFromRow(op.error_code, op.message);
      return;
    }
    Result<Receipt> receipt = ReceiptFromJson(op.receipt);
    if (receipt.ok()) receipt->replayed = true;
    state.result = std::move(receipt);
    state.in_flight = op.status == kInFlight;
  }

  // Runs `body` once per (kind, actor, key): in one group-committed transaction, writes the op
  // row with the body's outcome (done, refused, or in flight when the body set in_flight).
  // Errors of the machinery (store, bad key) come back as state.result.
  OpState RunOp(std::string_view kind, std::string_view actor, std::string_view key,
                const std::string& digest, const OpBody& body) {
    OpState state;
    if (Status key_ok = CheckKey(key); !key_ok.ok()) {
      state.result = key_ok;
      return state;
    }
    Result<std::string> op_id_or = OpId(kind, actor, key);
    if (!op_id_or.ok()) {
      state.result = op_id_or.status();
      return state;
    }
    const std::string op_id = *op_id_or;
    const Status committed = committer->Run([&](Store& tx) -> Status {
      state = OpState{};
      TS_ASSIGN_OR_RETURN(std::optional<OpRow> existing, LoadOp(tx, op_id));
      if (existing.has_value()) {
        if (existing->digest != digest) {
          state.result = AlreadyExists(std::string(kKeyReusedMessage));
        } else {
          FromOpRow(*existing, state);
        }
        return Status::Ok();
      }
      bool in_flight = false;
      Result<Receipt> result = body(tx, op_id, in_flight);
      if (!result.ok() && !IsRefusal(result.status().code())) return result.status();
      const std::string status(result.ok() ? (in_flight ? kInFlight : kDone) : kRefused);
      TS_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO qrpay_ops (op_id, kind, actor, digest, status, error_code,"
                     " message, receipt, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     {op_id, std::string(kind), std::string(actor), digest, status,
                      static_cast<std::int64_t>(result.status().code()), result.status().message(),
                      result.ok() ? ReceiptJson(*result).dump() : std::string("{}"), NowMs()})
              .status());
      state.result = std::move(result);
      state.in_flight = in_flight;
      return Status::Ok();
    });
    if (!committed.ok()) {
      state.result = committed;
      state.in_flight = false;
    }
    return state;
  }

  // The second phase of a two-phase op: `finish` runs only while the op is still in flight and
  // returns the final receipt (or a refusal), written over the op row.
  using FinishBody = std::function<Result<Receipt>(Store&)>;
  Result<Receipt> FinishOp(const std::string& op_id, const FinishBody& finish) {
    Result<Receipt> out = Internal("qrpay: finish not run");
    const Status committed = committer->Run([&](Store& tx) -> Status {
      TS_ASSIGN_OR_RETURN(std::optional<OpRow> existing, LoadOp(tx, op_id));
      if (!existing.has_value()) return Internal("qrpay: op " + op_id + " vanished");
      if (existing->status != kInFlight) {
        OpState state;
        FromOpRow(*existing, state);
        out = std::move(state.result);
        return Status::Ok();
      }
      Result<Receipt> result = finish(tx);
      if (!result.ok() && !IsRefusal(result.status().code())) return result.status();
      TS_RETURN_IF_ERROR(
          tx.Execute("UPDATE qrpay_ops SET status = ?, error_code = ?, message = ?, receipt = ?"
                     " WHERE op_id = ?",
                     {std::string(result.ok() ? kDone : kRefused),
                      static_cast<std::int64_t>(result.status().code()), result.status().message(),
                      result.ok() ? ReceiptJson(*result).dump() : existing->receipt, op_id})
              .status());
      out = std::move(result);
      return Status::Ok();
    });
    if (!committed.ok()) return committed;
    return out;
  }

  // ---- Paying an own merchant from the balance (QR, code, quote) ----
  struct OwnPayment {
    std::string kind;
    const MerchantProfile* merchant = nullptr;
    Amount merchant_amount{Cny()};
    Amount payer_amount{Cny()};
    std::string rate;
    std::int64_t markup_bps = 0;
    std::string order_id;  // dynamic codes: single use
  };

  Result<Receipt> PayOwnLocked(Store& tx, const std::string& op_id, const AccountRow& a,
                               const OwnPayment& p) {
    const std::int64_t now = NowMs();
    if (!p.order_id.empty()) {
      TS_ASSIGN_OR_RETURN(Rows used, tx.Query("SELECT op_id FROM qrpay_orders_used WHERE"
                                              " merchant_id = ? AND order_id = ?",
                                              {p.merchant->merchant_id, p.order_id}));
      if (!used.empty()) {
        TS_ASSIGN_OR_RETURN(const std::string first, used[0].GetText(0));
        return FailedPrecondition("order_id: order " + p.order_id + " of " +
                                  p.merchant->merchant_id + " was already paid (receipt " + first +
                                  ")");
      }
    }
    TS_RETURN_IF_ERROR(CheckOutgoing(tx, a, p.payer_amount.minor_units(), now));
    const std::string merchant_label = "merchant:" + p.merchant->merchant_id;
    std::vector<ledger::Transfer> transfers;
    if (p.merchant_amount.currency() == p.payer_amount.currency()) {
      TS_ASSIGN_OR_RETURN(ledger::Transfer t, MakeTransfer(op_id, "pay", a.label, merchant_label,
                                                           p.payer_amount, kTransferPayment));
      transfers.push_back(t);
    } else {
      // Two legs through the FX positions, linked: both or neither.
      TS_ASSIGN_OR_RETURN(
          ledger::Transfer payer_leg,
          MakeTransfer(op_id, "pay-payer", a.label,
                       "fx-position:" + std::string(p.payer_amount.currency().alpha),
                       p.payer_amount, kTransferPayment, ledger::transfer_flags::kLinked));
      TS_ASSIGN_OR_RETURN(
          ledger::Transfer merchant_leg,
          MakeTransfer(op_id, "pay-merchant",
                       "fx-position:" + std::string(p.merchant_amount.currency().alpha),
                       merchant_label, p.merchant_amount, kTransferPayment));
      transfers.push_back(payer_leg);
      transfers.push_back(merchant_leg);
    }
    TS_RETURN_IF_ERROR(ApplyTransfers(tx, transfers));
    TS_RETURN_IF_ERROR(
        Post(tx, op_id, a.label, p.kind, p.merchant->name, -p.payer_amount.minor_units(), now));
    TS_RETURN_IF_ERROR(
        Post(tx, op_id, merchant_label, p.kind, a.alias, p.merchant_amount.minor_units(), now));
    TS_RETURN_IF_ERROR(RecordSpending(tx, op_id, a.account_id, p.payer_amount.minor_units(), now));
    if (!p.order_id.empty()) {
      TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_orders_used (merchant_id, order_id, op_id)"
                                    " VALUES (?, ?, ?)",
                                    {p.merchant->merchant_id, p.order_id, op_id})
                             .status());
    }
    Receipt r;
    r.receipt_id = op_id;
    r.kind = p.kind;
    r.account_id = a.account_id;
    r.merchant_id = p.merchant->merchant_id;
    r.merchant_name = p.merchant->name;
    r.payee_platform = id;
    r.amount = p.merchant_amount;
    r.payer_amount = p.payer_amount;
    r.fee = Amount(p.payer_amount.currency());
    r.rate = p.rate;
    r.markup_bps = p.markup_bps;
    r.reference = p.order_id;
    r.created_unix_ms = now;
    TS_RETURN_IF_ERROR(RecordPayment(tx, r, "", 1));
    return r;
  }

  // ReadMerchantQr + the checks only the acquiring platform can make.
  Result<ScannedMerchantQr> VerifyOwnCode(std::string_view payload) {
    TS_ASSIGN_OR_RETURN(ScannedMerchantQr code, ReadMerchantQr(payload));
    if (code.merchant.platform_id != id) {
      return FailedPrecondition("payload: a code of platform " + code.merchant.platform_id +
                                ", not " + id);
    }
    TS_ASSIGN_OR_RETURN(const MerchantProfile* merchant, OwnMerchant(code.merchant.merchant_id));
    TS_RETURN_IF_ERROR(VerifyMerchantQr(code, qr_key, NowMs() / kMillisPerSecond));
    if (code.merchant.name != merchant->name || code.merchant.currency == nullptr ||
        *code.merchant.currency != *merchant->currency) {
      return FailedPrecondition("payload: the code does not match merchant " +
                                merchant->merchant_id + "'s registration");
    }
    return code;
  }

  // The amount a code asks for: the dynamic order's, or the payer's for a static code.
  static Result<Amount> CodeAmount(const ScannedMerchantQr& code,
                                   const std::optional<Amount>& amount) {
    const Currency& currency = *code.merchant.currency;
    if (code.dynamic) {
      if (!code.amount.has_value()) return InvalidArgument("payload: a dynamic code without 54");
      if (amount.has_value() && !(*amount == *code.amount)) {
        return InvalidArgument("amount: the order is for " + code.amount->ToString() + ", not " +
                               amount->ToString());
      }
      return *code.amount;
    }
    if (!amount.has_value()) {
      return InvalidArgument("amount: required for a static code (in " +
                             std::string(currency.alpha) + ")");
    }
    if (amount->currency() != currency) {
      return InvalidArgument("amount: the merchant is paid in " + std::string(currency.alpha) +
                             ", not " + std::string(amount->currency().alpha));
    }
    if (amount->minor_units() <= 0) return InvalidArgument("amount: expected > 0");
    return *amount;
  }

  // ---- Two-phase drivers ----
  Result<Receipt> DriveWithdrawal(const std::string& op_id, const Receipt& pending,
                                  const CardCredit& credit) {
    Result<std::string> answer = rail->Credit(credit);
    if (!answer.ok() && answer.status().code() == ErrorCode::kUnavailable) {
      return Unavailable("withdrawal " + op_id + " in flight: " + answer.status().message() +
                         "; retry with the same idempotency key");
    }
    return FinishOp(op_id, [&](Store& tx) -> Result<Receipt> {
      const std::string user = "user:" + pending.account_id;
      const std::int64_t now = NowMs();
      TS_ASSIGN_OR_RETURN(
          ledger::Transfer hold,
          MakeTransfer(op_id, "hold", user, "card-clearing:" + std::string(home().alpha),
                       pending.payer_amount, kTransferWithdrawal));
      if (!answer.ok()) {
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer void_t,
            MakeTransfer(op_id, "void", user, "card-clearing:" + std::string(home().alpha),
                         pending.payer_amount, kTransferWithdrawal,
                         ledger::transfer_flags::kVoidPendingTransfer));
        void_t.pending_id = hold.id;
        TS_RETURN_IF_ERROR(ApplyTransfers(tx, {void_t}));
        return FailedPrecondition("card: the credit was refused (" + answer.status().message() +
                                  "); the hold was released");
      }
      ledger::Transfer post = hold;
      TS_ASSIGN_OR_RETURN(post.id, DerivedId({"tapstack qrpay transfer", id, op_id, "post"}));
      post.flags = ledger::transfer_flags::kPostPendingTransfer;
      post.pending_id = hold.id;
      TS_RETURN_IF_ERROR(ApplyTransfers(tx, {post}));
      TS_RETURN_IF_ERROR(Post(tx, op_id, user, "withdrawal", "card " + pending.reference,
                              -pending.payer_amount.minor_units(), now));
      Receipt r = pending;
      r.reference = pending.reference + " " + *answer;
      r.created_unix_ms = now;
      return r;
    });
  }

  Result<Receipt> DrivePartner(const std::string& op_id, const Receipt& pending,
                               const json& request) {
    Result<json> answer = clearing->Send(request);
    if (!answer.ok()) {
      if (answer.status().code() == ErrorCode::kUnavailable) {
        return Unavailable("partner payment " + op_id + " in flight: " + answer.status().message() +
                           "; retry with the same idempotency key");
      }
      return answer.status();
    }
    const json& a = *answer;
    const std::string status = a.value("status", "");
    if (status != "approved" && status != "declined") {
      return Unavailable("partner payment " + op_id + ": the clearing answered without a status");
    }
    return FinishOp(op_id, [&](Store& tx) -> Result<Receipt> {
      const std::string user = "user:" + pending.account_id;
      const std::string clearing_label = "network-clearing:" + std::string(home().alpha);
      TS_ASSIGN_OR_RETURN(ledger::Transfer hold,
                          MakeTransfer(op_id, "hold", user, clearing_label, pending.payer_amount,
                                       kTransferPayment));
      const std::int64_t now = NowMs();
      if (status == "declined") {
        ledger::Transfer void_t = hold;
        TS_ASSIGN_OR_RETURN(void_t.id, DerivedId({"tapstack qrpay transfer", id, op_id, "void"}));
        void_t.flags = ledger::transfer_flags::kVoidPendingTransfer;
        void_t.pending_id = hold.id;
        TS_RETURN_IF_ERROR(ApplyTransfers(tx, {void_t}));
        TS_RETURN_IF_ERROR(
            tx.Execute("DELETE FROM qrpay_spending WHERE op_id = ?", {op_id}).status());
        return FailedPrecondition("declined by " + pending.payee_platform + ": " +
                                  a.value("reason", std::string("no reason given")));
      }
      ledger::Transfer post = hold;
      TS_ASSIGN_OR_RETURN(post.id, DerivedId({"tapstack qrpay transfer", id, op_id, "post"}));
      post.flags = ledger::transfer_flags::kPostPendingTransfer;
      post.pending_id = hold.id;
      TS_RETURN_IF_ERROR(ApplyTransfers(tx, {post}));
      TS_RETURN_IF_ERROR(Post(tx, op_id, user, "partner_payment", pending.merchant_name,
                              -pending.payer_amount.minor_units(), now));
      Receipt r = pending;
      r.reference = a.value("payee_payment_id", std::string());
      r.created_unix_ms = now;
      TS_RETURN_IF_ERROR(RecordPayment(tx, r, "", 1));
      return r;
    });
  }
};

Platform::Platform(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Platform::~Platform() = default;

const std::string& Platform::id() const { return impl_->id; }
const PlatformInfo& Platform::info() const { return *impl_->info; }

Result<std::unique_ptr<Platform>> Platform::Open(PlatformOptions options) {
  if (options.config == nullptr) return InvalidArgument("options.config: required");
  auto impl = std::make_unique<Impl>();
  impl->id = options.platform_id;
  impl->config = options.config;
  TS_ASSIGN_OR_RETURN(impl->info, options.config->Platform(options.platform_id));
  if (options.qr_key.size() < kMerchantQrKeyBytesMin) {
    return InvalidArgument("options.qr_key: expected at least " +
                           std::to_string(kMerchantQrKeyBytesMin) + " bytes");
  }
  impl->qr_key = std::move(options.qr_key);
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  if (options.random == nullptr) {
    impl->own_random = std::make_unique<crypto::Csprng>();
    impl->random = impl->own_random.get();
  } else {
    impl->random = options.random;
  }
  impl->rail = options.card_rail;
  impl->rates = options.rates;
  impl->clearing = options.clearing;
  if (options.store != nullptr) {
    impl->store = std::move(options.store);
  } else {
    std::string role = "qrpay_" + impl->id;
    std::replace(role.begin(), role.end(), '-', '_');
    TS_ASSIGN_OR_RETURN(impl->store, store::OpenSqlite(options.data_dir, role));
  }
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*impl->store, Migrations()));
  ledger::StoreLedgerOptions ledger_options;
  ledger_options.clock = impl->clock;
  ledger_options.apply_migrations = false;  // part of Migrations()
  TS_ASSIGN_OR_RETURN(impl->ledger, ledger::StoreLedger::Open(*impl->store, ledger_options));
  impl->committer = std::make_unique<store::GroupCommitter>(*impl->store, impl->store_mu);

  // The fixed accounts, the merchants' and the refund operators' (with their prefunding).
  Impl& p = *impl;
  const Status seeded = p.committer->Run([&](Store& tx) -> Status {
    std::set<const Currency*> currencies = {&p.home()};
    for (const MerchantProfile& m : p.config->merchants) {
      if (m.platform_id == p.id) currencies.insert(m.currency);
    }
    for (const PlatformInfo& other : p.config->platforms) currencies.insert(other.currency);
    for (const Currency* c : currencies) {
      const std::string alpha(c->alpha);
      TS_RETURN_IF_ERROR(
          p.CreateLedgerAccount(tx, "fx-position:" + alpha, *c, kCodeFxPosition, false));
      TS_RETURN_IF_ERROR(
          p.CreateLedgerAccount(tx, "network-clearing:" + alpha, *c, kCodeNetworkClearing, false));
    }
    const std::string home(p.home().alpha);
    TS_RETURN_IF_ERROR(
        p.CreateLedgerAccount(tx, "card-clearing:" + home, p.home(), kCodeCardClearing, false));
    TS_RETURN_IF_ERROR(p.CreateLedgerAccount(tx, "operator-funding:" + home, p.home(),
                                             kCodeOperatorFunding, false));
    TS_RETURN_IF_ERROR(p.CreateLedgerAccount(tx, "fees:" + home, p.home(), kCodeFees, false));
    for (const MerchantProfile& m : p.config->merchants) {
      if (m.platform_id != p.id) continue;
      TS_RETURN_IF_ERROR(
          p.CreateLedgerAccount(tx, "merchant:" + m.merchant_id, *m.currency, kCodeMerchant, true));
    }
    for (const RefundOperatorInfo& op : p.config->refund_operators) {
      if (op.platform_id != p.id) continue;
      const std::string label = "refund-operator:" + op.id;
      TS_RETURN_IF_ERROR(p.CreateLedgerAccount(tx, label, p.home(), kCodeRefundOperator, true));
      if (op.prefund_minor <= 0) continue;
      TS_ASSIGN_OR_RETURN(
          ledger::Transfer t,
          p.MakeTransfer("prefund:" + op.id, "prefund", "operator-funding:" + home, label,
                         Amount(op.prefund_minor, p.home()), kTransferPrefund));
      std::vector<ledger::CreateTransferResult> results(1);
      TS_RETURN_IF_ERROR(
          p.ledger->CreateTransfersInTransaction(tx, std::vector<ledger::Transfer>{t}, results));
      if (results[0] != ledger::CreateTransferResult::kOk &&
          results[0] != ledger::CreateTransferResult::kExists) {
        return Internal("qrpay: prefunding " + op.id + ": " +
                        std::string(ledger::CreateTransferResultName(results[0])));
      }
    }
    return Status::Ok();
  });
  TS_RETURN_IF_ERROR(seeded);
  return std::unique_ptr<Platform>(new Platform(std::move(impl)));
}

// ---- 1. Accounts ----

Result<AccountInfo> Platform::OpenAccount(std::string_view owner_id, const Currency& home_currency,
                                          int level) {
  Impl& p = *impl_;
  if (owner_id.empty() || owner_id.size() > kOwnerIdBytesMax) {
    return InvalidArgument("owner_id: expected 1-" + std::to_string(kOwnerIdBytesMax) + " bytes");
  }
  if (home_currency != p.home()) {
    return InvalidArgument("home_currency: " + p.id + " keeps balances in " +
                           std::string(p.home().alpha) + ", not " +
                           std::string(home_currency.alpha));
  }
  if (level < kLevelLowest || level > kLevelHighest) {
    return InvalidArgument("level: expected 1-3, got " + std::to_string(level));
  }
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"tapstack qrpay account id", p.id, owner_id}));
  const std::string account_id = "a" + LowerHex(ByteView(digest).first(8));
  // The alias is keyed, so a merchant cannot link it back to an owner id it happens to know.
  TS_ASSIGN_OR_RETURN(Bytes alias_mac,
                      crypto::HmacSha256(p.qr_key, ToBytes("tapstack qrpay alias:" + account_id)));
  const std::string alias = p.id + ":u" + LowerHex(ByteView(alias_mac).first(6));
  Status conflict;
  const Status committed = p.committer->Run([&](Store& tx) -> Status {
    conflict = Status::Ok();
    TS_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT level FROM qrpay_accounts WHERE"
                                            " account_id = ?",
                                            {account_id}));
    if (!rows.empty()) {
      TS_ASSIGN_OR_RETURN(const std::int64_t existing, rows[0].GetInt64(0));
      if (existing != level) {
        conflict = AlreadyExists("owner_id: already has account " + account_id + " at level " +
                                 std::to_string(existing));
      }
      return Status::Ok();
    }
    TS_RETURN_IF_ERROR(p.CreateLedgerAccount(tx, "user:" + account_id, p.home(), kCodeUser, true));
    return tx
        .Execute(
            "INSERT INTO qrpay_accounts (account_id, owner_id, alias, level, currency,"
            " created_ms) VALUES (?, ?, ?, ?, ?, ?)",
            {account_id, std::string(owner_id), alias, std::int64_t{level},
             std::int64_t{p.home().numeric}, p.NowMs()})
        .status();
  });
  TS_RETURN_IF_ERROR(committed);
  TS_RETURN_IF_ERROR(conflict);
  return Account(account_id);
}

Result<AccountInfo> Platform::Account(std::string_view account_id) {
  Impl& p = *impl_;
  std::lock_guard lock(p.store_mu);
  TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(*p.store, account_id));
  TS_ASSIGN_OR_RETURN(const Impl::Balances b, p.LedgerBalance(a.label));
  TS_ASSIGN_OR_RETURN(const Impl::Spent spent, p.SpentBy(*p.store, a.account_id, p.NowMs()));
  AccountInfo info;
  info.account_id = a.account_id;
  info.owner_id = a.owner_id;
  info.alias = a.alias;
  info.level = a.level;
  info.balance = Amount(b.posted, p.home());
  info.available = Amount(b.available, p.home());
  info.spent_today = Amount(spent.today, p.home());
  info.spent_this_year = Amount(spent.year, p.home());
  info.limits = p.Limits(a.level);
  return info;
}

Result<Amount> Platform::MerchantBalance(std::string_view merchant_id) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  std::lock_guard lock(p.store_mu);
  TS_ASSIGN_OR_RETURN(const Impl::Balances b, p.LedgerBalance("merchant:" + m->merchant_id));
  return Amount(b.posted, *m->currency);
}

// ---- 2. Merchant QR ----

Result<std::string> Platform::MerchantStaticQr(std::string_view merchant_id) {
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, impl_->OwnMerchant(merchant_id));
  return MakeStaticMerchantQr(*m, impl_->qr_key);
}

Result<std::string> Platform::MerchantDynamicQr(std::string_view merchant_id,
                                                std::string_view order_id, const Amount& amount,
                                                std::int64_t validity_seconds) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  if (validity_seconds < 1 || validity_seconds > kDynamicQrValiditySecondsMax) {
    return InvalidArgument("validity_seconds: expected 1-" +
                           std::to_string(kDynamicQrValiditySecondsMax));
  }
  DynamicOrder order;
  order.order_id = std::string(order_id);
  order.amount = amount;
  order.expires_unix_s = p.NowMs() / kMillisPerSecond + validity_seconds;
  return MakeDynamicMerchantQr(*m, order, p.qr_key);
}

Result<ScanResult> Platform::Scan(std::string_view payload) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, ReadMerchantQr(payload));
  ScanResult out;
  out.dynamic = code.dynamic;
  out.platform_id = code.merchant.platform_id;
  out.merchant_id = code.merchant.merchant_id;
  out.merchant_name = code.merchant.name;
  out.city = code.merchant.city;
  out.country = code.merchant.country;
  out.amount = code.amount;
  out.currency = code.merchant.currency;
  out.order_id = code.order_id;
  out.foreign = code.merchant.platform_id != p.id || *code.merchant.currency != p.home();
  if (out.foreign && code.amount.has_value() && p.rates != nullptr) {
    auto preview = p.rates->Convert(*code.amount, p.home(), p.config->markup_bps);
    if (preview.ok()) out.quote_preview = *preview;
  }
  return out;
}

Result<Receipt> Platform::PayMerchantQr(std::string_view account_id, std::string_view payload,
                                        std::optional<Amount> amount,
                                        std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(Bytes digest,
                      Digest({"qr_payment", account_id, payload,
                              amount.has_value() ? amount->ToString() : std::string("-")}));
  Impl::OpState state = p.RunOp(
      "qr_payment", account_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
        TS_ASSIGN_OR_RETURN(const ScannedMerchantQr scanned, ReadMerchantQr(payload));
        if (scanned.merchant.platform_id != p.id || *scanned.merchant.currency != p.home()) {
          return FailedPrecondition("payload: " + scanned.merchant.name + " is paid in " +
                                    std::string(scanned.merchant.currency->alpha) + " through " +
                                    scanned.merchant.platform_id +
                                    ": ask QuoteMerchantQr and pay with PayQuote");
        }
        TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
        TS_ASSIGN_OR_RETURN(const Amount to_pay, Impl::CodeAmount(code, amount));
        TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
        Impl::OwnPayment pay;
        pay.kind = "qr_payment";
        pay.merchant = m;
        pay.merchant_amount = to_pay;
        pay.payer_amount = to_pay;
        pay.order_id = code.dynamic ? code.order_id : std::string();
        return p.PayOwnLocked(tx, op_id, a, pay);
      });
  return std::move(state.result);
}

Result<Receipt> Platform::RefundPayment(std::string_view merchant_id, std::string_view payment_id,
                                        const Amount& amount, std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"refund", merchant_id, payment_id, amount.ToString()}));
  Impl::OpState state = p.RunOp(
      "refund", merchant_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(
            Rows rows, tx.Query("SELECT kind, account_id, amount_minor, payer_amount_minor,"
                                " payer_currency, rate, markup_bps, refunded_minor,"
                                " payer_refunded_minor FROM qrpay_payments WHERE payment_id = ?"
                                " AND merchant_id = ?",
                                {std::string(payment_id), m->merchant_id}));
        if (rows.empty()) {
          return NotFound("payment_id: \"" + std::string(payment_id) + "\" is not a payment of " +
                          m->merchant_id);
        }
        const Row& row = rows[0];
        TS_ASSIGN_OR_RETURN(const std::string kind, row.GetText(0));
        if (kind != "qr_payment" && kind != "code_payment" && kind != "cross_border_payment") {
          return FailedPrecondition("payment_id: a " + kind +
                                    " is not refundable through the platform");
        }
        TS_ASSIGN_OR_RETURN(const std::string account_id, row.GetText(1));
        TS_ASSIGN_OR_RETURN(const std::int64_t paid, row.GetInt64(2));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_paid, row.GetInt64(3));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_numeric, row.GetInt64(4));
        TS_ASSIGN_OR_RETURN(const std::string rate, row.GetText(5));
        TS_ASSIGN_OR_RETURN(const std::int64_t markup, row.GetInt64(6));
        TS_ASSIGN_OR_RETURN(const std::int64_t refunded, row.GetInt64(7));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_refunded, row.GetInt64(8));
        TS_ASSIGN_OR_RETURN(const Currency* payer_currency, CurrencyFromNumeric(payer_numeric));
        if (amount.currency() != *m->currency) {
          return InvalidArgument("amount: the payment was in " + std::string(m->currency->alpha) +
                                 ", not " + std::string(amount.currency().alpha));
        }
        if (amount.minor_units() <= 0) return InvalidArgument("amount: expected > 0");
        if (amount.minor_units() > paid - refunded) {
          return OutOfRange("amount: " + std::to_string(paid - refunded) + " left to refund of " +
                            std::to_string(paid) + " paid; " +
                            std::to_string(amount.minor_units()) + " requested");
        }
        // The payer gets back the same share of what it paid; cumulative rounding down
        // makes the refunds of the whole amount return exactly what was paid.
        const std::int64_t total_after = refunded + amount.minor_units();
        const auto payer_after =
            static_cast<std::int64_t>(static_cast<Int128>(payer_paid) * total_after / paid);
        const Amount payer_back(payer_after - payer_refunded, *payer_currency);
        const std::string merchant_label = "merchant:" + m->merchant_id;
        TS_RETURN_IF_ERROR(p.CheckFunds(merchant_label, "merchant balance", amount.minor_units()));
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
        std::vector<ledger::Transfer> transfers;
        if (*payer_currency == *m->currency) {
          TS_ASSIGN_OR_RETURN(ledger::Transfer t, p.MakeTransfer(op_id, "refund", merchant_label,
                                                                 a.label, amount, kTransferRefund));
          transfers.push_back(t);
        } else {
          TS_ASSIGN_OR_RETURN(
              ledger::Transfer merchant_leg,
              p.MakeTransfer(op_id, "refund-merchant", merchant_label,
                             "fx-position:" + std::string(m->currency->alpha), amount,
                             kTransferRefund, ledger::transfer_flags::kLinked));
          transfers.push_back(merchant_leg);
          if (payer_back.minor_units() > 0) {
            TS_ASSIGN_OR_RETURN(ledger::Transfer payer_leg,
                                p.MakeTransfer(op_id, "refund-payer",
                                               "fx-position:" + std::string(payer_currency->alpha),
                                               a.label, payer_back, kTransferRefund));
            transfers.push_back(payer_leg);
          } else {
            transfers.back().flags = 0;
          }
        }
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, transfers));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(
            p.Post(tx, op_id, merchant_label, "refund", a.alias, -amount.minor_units(), now));
        if (payer_back.minor_units() > 0) {
          TS_RETURN_IF_ERROR(
              p.Post(tx, op_id, a.label, "refund", m->name, payer_back.minor_units(), now));
        }
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_payments SET refunded_minor = ?,"
                                      " payer_refunded_minor = ? WHERE payment_id = ?",
                                      {total_after, payer_after, std::string(payment_id)})
                               .status());
        Receipt r;
        r.receipt_id = op_id;
        r.kind = "refund";
        r.account_id = a.account_id;
        r.merchant_id = m->merchant_id;
        r.merchant_name = m->name;
        r.payee_platform = p.id;
        r.payment_id = std::string(payment_id);
        r.amount = amount;
        r.payer_amount = payer_back;
        r.fee = Amount(*payer_currency);
        r.rate = rate;
        r.markup_bps = markup;
        r.created_unix_ms = now;
        TS_RETURN_IF_ERROR(p.RecordPayment(tx, r, payment_id, -1));
        return r;
      });
  return std::move(state.result);
}

// ---- 3. Cards ----

Result<CardPaymentRequest> Platform::StartTopUp(std::string_view account_id, const Amount& amount,
                                                std::string_view device_id) {
  Impl& p = *impl_;
  if (p.rail == nullptr) return FailedPrecondition("card_rail: this platform has no card rail");
  TS_RETURN_IF_ERROR(CheckText("device_id", device_id, kDeviceIdBytesMax));
  if (amount.currency() != p.home() || amount.minor_units() <= 0) {
    return InvalidArgument("amount: expected > 0 in " + std::string(p.home().alpha));
  }
  Bytes order_bytes(12);
  {
    std::lock_guard lock(p.random_mu);
    TS_RETURN_IF_ERROR(p.random->Fill(order_bytes));
  }
  const std::string order_id = "tu-" + LowerHex(order_bytes);
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
    TS_RETURN_IF_ERROR(p.CheckBalanceCap(a, amount.minor_units()));
    return tx
        .Execute(
            "INSERT INTO qrpay_topups (order_id, account_id, amount_minor, device_id, status,"
            " created_ms) VALUES (?, ?, ?, ?, 'started', ?)",
            {order_id, a.account_id, amount.minor_units(), std::string(device_id), p.NowMs()})
        .status();
  }));
  CardOrder order;
  order.order_id = order_id;
  order.merchant = CardMerchant{p.id, p.info->name.substr(0, 25), "Online", p.info->country,
                                "6540"};  // MCC 6540: stored-value card load (ISO 18245)
  order.amount = amount;
  order.device_id = std::string(device_id);
  return p.rail->PaymentRequest(order);
}

Result<Receipt> Platform::CompleteTopUp(std::string_view order_id,
                                        const nlohmann::json& payment_data) {
  Impl& p = *impl_;
  if (p.rail == nullptr) return FailedPrecondition("card_rail: this platform has no card rail");
  TS_RETURN_IF_ERROR(CheckText("order_id", order_id, 64));
  std::string account_id;
  std::string device_id;
  std::int64_t amount_minor = 0;
  {
    std::lock_guard lock(p.store_mu);
    TS_ASSIGN_OR_RETURN(Rows rows, p.store->Query("SELECT account_id, amount_minor, device_id FROM"
                                                  " qrpay_topups WHERE order_id = ?",
                                                  {std::string(order_id)}));
    if (rows.empty()) {
      return NotFound("order_id: \"" + std::string(order_id) + "\" is not a top-up order");
    }
    TS_ASSIGN_OR_RETURN(account_id, rows[0].GetText(0));
    TS_ASSIGN_OR_RETURN(amount_minor, rows[0].GetInt64(1));
    TS_ASSIGN_OR_RETURN(device_id, rows[0].GetText(2));
    // A completed order answers from the journal without asking the rail again.
    TS_ASSIGN_OR_RETURN(const std::string op_id, p.OpId("top_up", account_id, order_id));
    TS_ASSIGN_OR_RETURN(std::optional<OpRow> done, p.LoadOp(*p.store, op_id));
    if (done.has_value()) {
      Impl::OpState state;
      Impl::FromOpRow(*done, state);
      return std::move(state.result);
    }
  }
  const Amount amount(amount_minor, p.home());
  CardOrder order;
  order.order_id = std::string(order_id);
  order.merchant =
      CardMerchant{p.id, p.info->name.substr(0, 25), "Online", p.info->country, "6540"};
  order.amount = amount;
  order.device_id = device_id;
  TS_ASSIGN_OR_RETURN(const CardCharge charge, p.rail->Charge(order, payment_data));
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"top_up", order_id}));
  TS_ASSIGN_OR_RETURN(Bytes card_digest,
                      Digest({"tapstack qrpay funding card", p.id, account_id, charge.token}));
  const std::string card_id = "c" + LowerHex(ByteView(card_digest).first(8));
  Impl::OpState state = p.RunOp(
      "top_up", account_id, order_id, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
        // The card was charged: the money is the payer's whatever the balance cap says
        // now (it was checked when the order started).
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer t,
            p.MakeTransfer(op_id, "top-up", "card-clearing:" + std::string(p.home().alpha), a.label,
                           amount, kTransferTopUp));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {t}));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(p.Post(tx, op_id, a.label, "top_up", "card ..." + charge.token_last4,
                                  amount.minor_units(), now));
        TS_RETURN_IF_ERROR(
            tx.Execute("INSERT INTO qrpay_funding_cards (card_id, account_id, token,"
                       " token_expiry, token_last4, created_ms) VALUES (?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT (card_id) DO UPDATE SET token_expiry ="
                       " excluded.token_expiry",
                       {card_id, a.account_id, charge.token, charge.token_expiry,
                        charge.token_last4, now})
                .status());
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_topups SET status = 'completed'"
                                      " WHERE order_id = ?",
                                      {std::string(order_id)})
                               .status());
        Receipt r;
        r.receipt_id = op_id;
        r.kind = "top_up";
        r.account_id = a.account_id;
        r.amount = amount;
        r.payer_amount = amount;
        r.fee = Amount(p.home());
        r.reference = card_id + " " + charge.reference;
        r.created_unix_ms = now;
        return r;
      });
  return std::move(state.result);
}

Result<std::vector<FundingCard>> Platform::FundingCards(std::string_view account_id) {
  Impl& p = *impl_;
  std::lock_guard lock(p.store_mu);
  TS_RETURN_IF_ERROR(p.LoadAccount(*p.store, account_id).status());
  TS_ASSIGN_OR_RETURN(Rows rows,
                      p.store->Query("SELECT card_id, token_last4, token_expiry FROM"
                                     " qrpay_funding_cards WHERE account_id = ? ORDER BY card_id",
                                     {std::string(account_id)}));
  std::vector<FundingCard> out;
  for (const Row& row : rows) {
    FundingCard card;
    TS_ASSIGN_OR_RETURN(card.card_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(card.token_last4, row.GetText(1));
    TS_ASSIGN_OR_RETURN(card.token_expiry, row.GetText(2));
    out.push_back(std::move(card));
  }
  return out;
}

Result<Receipt> Platform::Withdraw(std::string_view account_id, std::string_view card_id,
                                   const Amount& amount, std::string_view idempotency_key) {
  Impl& p = *impl_;
  if (p.rail == nullptr) return FailedPrecondition("card_rail: this platform has no card rail");
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"withdrawal", account_id, card_id, amount.ToString()}));
  CardCredit credit;
  Impl::OpState state = p.RunOp(
      "withdrawal", account_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool& in_flight) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
        if (amount.currency() != p.home() || amount.minor_units() <= 0) {
          return InvalidArgument("amount: expected > 0 in " + std::string(p.home().alpha));
        }
        TS_ASSIGN_OR_RETURN(Rows cards, tx.Query("SELECT token_last4 FROM qrpay_funding_cards WHERE"
                                                 " card_id = ? AND account_id = ?",
                                                 {std::string(card_id), a.account_id}));
        if (cards.empty()) {
          return NotFound("card_id: \"" + std::string(card_id) + "\" is not a funding card of " +
                          a.account_id);
        }
        TS_ASSIGN_OR_RETURN(const std::string last4, cards[0].GetText(0));
        TS_RETURN_IF_ERROR(p.CheckFunds(a.label, "balance", amount.minor_units()));
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer hold,
            p.MakeTransfer(op_id, "hold", a.label, "card-clearing:" + std::string(p.home().alpha),
                           amount, kTransferWithdrawal, ledger::transfer_flags::kPending));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {hold}));
        in_flight = true;
        Receipt r;
        r.receipt_id = op_id;
        r.kind = "withdrawal";
        r.account_id = a.account_id;
        r.amount = amount;
        r.payer_amount = amount;
        r.fee = Amount(p.home());
        r.reference = std::string(card_id) + " ..." + last4;
        r.created_unix_ms = p.NowMs();
        return r;
      });
  if (!state.result.ok() || !state.in_flight) return std::move(state.result);
  const Receipt pending = *state.result;
  std::string token;
  std::string expiry;
  {
    std::lock_guard lock(p.store_mu);
    TS_ASSIGN_OR_RETURN(Row row, p.store->QueryRow("SELECT token, token_expiry FROM"
                                                   " qrpay_funding_cards WHERE card_id = ?",
                                                   {std::string(card_id)}));
    TS_ASSIGN_OR_RETURN(token, row.GetText(0));
    TS_ASSIGN_OR_RETURN(expiry, row.GetText(1));
  }
  credit.credit_id = "wd-" + pending.receipt_id;
  credit.token = token;
  credit.token_expiry = expiry;
  credit.amount = pending.amount;
  credit.merchant =
      CardMerchant{p.id, p.info->name.substr(0, 25), "Online", p.info->country, "6540"};
  return p.DriveWithdrawal(pending.receipt_id, pending, credit);
}

// ---- 4. Cross-border ----

Result<Quote> Platform::QuoteMerchantQr(std::string_view account_id, std::string_view payload,
                                        std::optional<Amount> amount) {
  Impl& p = *impl_;
  if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, ReadMerchantQr(payload));
  const bool own = code.merchant.platform_id == p.id;
  if (own && *code.merchant.currency == p.home()) {
    return FailedPrecondition("payload: " + code.merchant.name + " is paid in " +
                              std::string(p.home().alpha) + ": pay it with PayMerchantQr");
  }
  if (own) {
    // Our own code: refuse a tampered or expired one before quoting it.
    TS_RETURN_IF_ERROR(p.VerifyOwnCode(payload).status());
  } else {
    TS_RETURN_IF_ERROR(p.config->Platform(code.merchant.platform_id).status());
    if (p.clearing == nullptr) {
      return FailedPrecondition("payload: " + code.merchant.name + " is acquired by " +
                                code.merchant.platform_id + " and this platform has no clearing");
    }
  }
  TS_ASSIGN_OR_RETURN(const Amount merchant_amount, Impl::CodeAmount(code, amount));
  {
    std::lock_guard lock(p.store_mu);
    TS_RETURN_IF_ERROR(p.LoadAccount(*p.store, account_id).status());
  }
  TS_ASSIGN_OR_RETURN(const FxConversion fx,
                      p.rates->Convert(merchant_amount, p.home(), p.config->markup_bps));
  Bytes id_bytes(16);
  {
    std::lock_guard lock(p.random_mu);
    TS_RETURN_IF_ERROR(p.random->Fill(id_bytes));
  }
  Quote q;
  q.quote_id = "q" + LowerHex(id_bytes);
  q.account_id = std::string(account_id);
  q.merchant_id = code.merchant.merchant_id;
  q.merchant_name = code.merchant.name;
  q.payee_platform = code.merchant.platform_id;
  q.merchant_amount = merchant_amount;
  q.payer_amount = fx.to;
  q.rate = RateText(fx.rate_mantissa, fx.rate_scale);
  q.markup_bps = fx.markup_bps;
  q.rate_source = fx.source;
  q.business_date = fx.business_date;
  q.expires_unix_ms = p.NowMs() + p.config->quote_validity_seconds * kMillisPerSecond;
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    return tx
        .Execute(
            "INSERT INTO qrpay_quotes (quote_id, account_id, payload, merchant_id,"
            " merchant_name, payee_platform, amount_minor, currency, payer_amount_minor,"
            " rate, markup_bps, source, business_date, expires_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {q.quote_id, q.account_id, std::string(payload), q.merchant_id, q.merchant_name,
             q.payee_platform, merchant_amount.minor_units(),
             std::int64_t{merchant_amount.currency().numeric}, q.payer_amount.minor_units(), q.rate,
             q.markup_bps, q.rate_source, q.business_date, q.expires_unix_ms})
        .status();
  }));
  return q;
}

Result<Receipt> Platform::PayQuote(std::string_view account_id, std::string_view quote_id,
                                   std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"quote_payment", account_id, quote_id}));
  json clearing_request;
  Impl::OpState state = p.RunOp(
      "quote_payment", account_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool& in_flight) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
        TS_ASSIGN_OR_RETURN(
            Rows rows,
            tx.Query("SELECT account_id, payload, payee_platform, amount_minor, currency,"
                     " payer_amount_minor, rate, markup_bps, expires_ms, used_by"
                     " FROM qrpay_quotes WHERE quote_id = ?",
                     {std::string(quote_id)}));
        if (rows.empty()) {
          return NotFound("quote_id: \"" + std::string(quote_id) + "\" is not a quote");
        }
        const Row& row = rows[0];
        TS_ASSIGN_OR_RETURN(const std::string owner, row.GetText(0));
        TS_ASSIGN_OR_RETURN(const std::string payload, row.GetText(1));
        TS_ASSIGN_OR_RETURN(const std::string payee_platform, row.GetText(2));
        TS_ASSIGN_OR_RETURN(const std::int64_t merchant_minor, row.GetInt64(3));
        TS_ASSIGN_OR_RETURN(const std::int64_t numeric, row.GetInt64(4));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_minor, row.GetInt64(5));
        TS_ASSIGN_OR_RETURN(const std::string rate, row.GetText(6));
        TS_ASSIGN_OR_RETURN(const std::int64_t markup, row.GetInt64(7));
        TS_ASSIGN_OR_RETURN(const std::int64_t expires_ms, row.GetInt64(8));
        TS_ASSIGN_OR_RETURN(const std::optional<std::string> used_by, row.GetOptionalText(9));
        if (owner != a.account_id) {
          return FailedPrecondition("quote_id: the quote was made for another account");
        }
        if (used_by.has_value()) {
          return FailedPrecondition("quote_id: already paid (receipt " + *used_by + ")");
        }
        const std::int64_t now = p.NowMs();
        if (now >= expires_ms) {
          return FailedPrecondition("quote_id: the quote expired at " + std::to_string(expires_ms) +
                                    " ms, now " + std::to_string(now) + " ms: ask for a new quote");
        }
        TS_ASSIGN_OR_RETURN(const Currency* merchant_currency, CurrencyFromNumeric(numeric));
        const Amount merchant_amount(merchant_minor, *merchant_currency);
        const Amount payer_amount(payer_minor, p.home());
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_quotes SET used_by = ? WHERE"
                                      " quote_id = ?",
                                      {op_id, std::string(quote_id)})
                               .status());
        if (payee_platform == p.id) {
          TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
          TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
          Impl::OwnPayment pay;
          pay.kind = "cross_border_payment";
          pay.merchant = m;
          pay.merchant_amount = merchant_amount;
          pay.payer_amount = payer_amount;
          pay.rate = rate;
          pay.markup_bps = markup;
          pay.order_id = code.dynamic ? code.order_id : std::string();
          return p.PayOwnLocked(tx, op_id, a, pay);
        }
        // A partner platform's merchant: hold now, the payee decides.
        if (p.clearing == nullptr) {
          return FailedPrecondition("clearing: this platform has no clearing link");
        }
        TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, ReadMerchantQr(payload));
        TS_RETURN_IF_ERROR(p.CheckOutgoing(tx, a, payer_minor, now));
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer hold,
            p.MakeTransfer(op_id, "hold", a.label,
                           "network-clearing:" + std::string(p.home().alpha), payer_amount,
                           kTransferPayment, ledger::transfer_flags::kPending));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {hold}));
        TS_RETURN_IF_ERROR(p.RecordSpending(tx, op_id, a.account_id, payer_minor, now));
        in_flight = true;
        Receipt r;
        r.receipt_id = op_id;
        r.kind = "partner_payment";
        r.account_id = a.account_id;
        r.merchant_id = code.merchant.merchant_id;
        r.merchant_name = code.merchant.name;
        r.payee_platform = payee_platform;
        r.amount = merchant_amount;
        r.payer_amount = payer_amount;
        r.fee = Amount(p.home());
        r.rate = rate;
        r.markup_bps = markup;
        r.reference = payload;  // replaced by the payee's payment id once approved
        r.created_unix_ms = now;
        return r;
      });
  if (!state.result.ok() || !state.in_flight) return std::move(state.result);
  const Receipt pending = *state.result;
  std::string alias;
  {
    std::lock_guard lock(p.store_mu);
    TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(*p.store, pending.account_id));
    alias = a.alias;
  }
  clearing_request = json{{"type", "qr_payment"},
                          {"clearing_id", p.id + ":" + pending.receipt_id},
                          {"payer_platform", p.id},
                          {"payee_platform", pending.payee_platform},
                          {"payload", pending.reference},
                          {"amount", AmountJson(pending.amount)},
                          {"payer_amount", AmountJson(pending.payer_amount)},
                          {"rate", pending.rate},
                          {"markup_bps", pending.markup_bps},
                          {"payer_alias", alias}};
  return p.DrivePartner(pending.receipt_id, pending, clearing_request);
}

nlohmann::json Platform::HandleClearing(const nlohmann::json& request) {
  Impl& p = *impl_;
  const std::string clearing_id =
      request.is_object() && request.contains("clearing_id") && request["clearing_id"].is_string()
          ? request["clearing_id"].get<std::string>()
          : std::string();
  auto decline = [&](const std::string& reason) {
    return json{{"status", "declined"}, {"clearing_id", clearing_id}, {"reason", reason}};
  };
  if (clearing_id.empty() || clearing_id.size() > 2 * kIdempotencyKeyBytesMax) {
    return decline("clearing_id: expected a string of 1-256 bytes");
  }
  if (request.value("type", "") != "qr_payment") return decline("type: expected \"qr_payment\"");
  if (request.value("payee_platform", "") != p.id) {
    return decline("payee_platform: this is " + p.id);
  }
  if (!request.contains("payload") || !request["payload"].is_string()) {
    return decline("payload: expected the merchant's code");
  }
  const std::string payload = request["payload"].get<std::string>();
  Result<Amount> amount = AmountFromJson(request.value("amount", json()), "amount");
  if (!amount.ok()) return decline(amount.status().message());
  Result<Amount> payer_amount =
      AmountFromJson(request.value("payer_amount", json()), "payer_amount");
  if (!payer_amount.ok()) return decline(payer_amount.status().message());
  const std::string payer_alias = request.value("payer_alias", std::string("unknown payer"));
  const std::string payer_platform = request.value("payer_platform", std::string());
  const std::string rate = request.value("rate", std::string());
  const std::int64_t markup = request.value("markup_bps", std::int64_t{0});
  json answer;
  const Status committed = p.committer->Run([&](Store& tx) -> Status {
    answer = json();
    TS_ASSIGN_OR_RETURN(Rows seen, tx.Query("SELECT response FROM qrpay_clearing_in WHERE"
                                            " clearing_id = ?",
                                            {clearing_id}));
    if (!seen.empty()) {
      TS_ASSIGN_OR_RETURN(const std::string text, seen[0].GetText(0));
      answer = json::parse(text, nullptr, false);
      return Status::Ok();
    }
    TS_ASSIGN_OR_RETURN(const std::string op_id, p.OpId("clearing_in", "network", clearing_id));
    auto credit = [&]() -> Result<std::string> {
      TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
      TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
      if (amount->currency() != *m->currency || amount->minor_units() <= 0) {
        return InvalidArgument("amount: expected > 0 in " + std::string(m->currency->alpha));
      }
      if (code.dynamic && !(*code.amount == *amount)) {
        return InvalidArgument("amount: the order is for " + code.amount->ToString());
      }
      if (code.dynamic) {
        TS_ASSIGN_OR_RETURN(Rows used, tx.Query("SELECT op_id FROM qrpay_orders_used WHERE"
                                                " merchant_id = ? AND order_id = ?",
                                                {m->merchant_id, code.order_id}));
        if (!used.empty()) {
          return FailedPrecondition("order_id: order " + code.order_id + " of " + m->merchant_id +
                                    " was already paid");
        }
        TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_orders_used (merchant_id, order_id,"
                                      " op_id) VALUES (?, ?, ?)",
                                      {m->merchant_id, code.order_id, op_id})
                               .status());
      }
      const std::string merchant_label = "merchant:" + m->merchant_id;
      TS_ASSIGN_OR_RETURN(ledger::Transfer t,
                          p.MakeTransfer(op_id, "clearing-in",
                                         "network-clearing:" + std::string(m->currency->alpha),
                                         merchant_label, *amount, kTransferClearing));
      TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {t}));
      const std::int64_t now = p.NowMs();
      TS_RETURN_IF_ERROR(p.Post(tx, op_id, merchant_label, "partner_payment", payer_alias,
                                amount->minor_units(), now));
      Receipt r;
      r.receipt_id = op_id;
      r.kind = "partner_payment";
      r.account_id = payer_platform + ":" + payer_alias;
      r.merchant_id = m->merchant_id;
      r.amount = *amount;
      r.payer_amount = *payer_amount;
      r.rate = rate;
      r.markup_bps = markup;
      r.created_unix_ms = now;
      TS_RETURN_IF_ERROR(p.RecordPayment(tx, r, "", 1));
      return op_id;
    };
    Result<std::string> credited = credit();
    if (!credited.ok() && !IsRefusal(credited.status().code())) return credited.status();
    answer = credited.ok() ? json{{"status", "approved"},
                                  {"clearing_id", clearing_id},
                                  {"payee_payment_id", *credited}}
                           : decline(credited.status().message());
    return tx
        .Execute(
            "INSERT INTO qrpay_clearing_in (clearing_id, response, created_ms) VALUES"
            " (?, ?, ?)",
            {clearing_id, answer.dump(), p.NowMs()})
        .status();
  });
  if (!committed.ok()) {
    // Nothing was recorded: the network retries with the same clearing_id.
    return json{
        {"status", "error"}, {"clearing_id", clearing_id}, {"reason", committed.ToString()}};
  }
  return answer;
}

Result<SettlementReport> Platform::Settlement(std::string_view merchant_id,
                                              std::string_view business_date) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  const bool shaped = business_date.size() == 10 && business_date[4] == '-' &&
                      business_date[7] == '-' &&
                      std::all_of(business_date.begin(), business_date.end(),
                                  [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
  if (!shaped) return InvalidArgument("business_date: expected YYYY-MM-DD");
  const std::int64_t day = std::stoll(std::string(business_date.substr(0, 4))) * 10000 +
                           std::stoll(std::string(business_date.substr(5, 2))) * 100 +
                           std::stoll(std::string(business_date.substr(8, 2)));
  SettlementReport report;
  report.merchant_id = m->merchant_id;
  report.business_date = std::string(business_date);
  report.merchant_currency = m->currency;
  report.merchant_total = Amount(*m->currency);
  std::map<std::uint16_t, std::int64_t> payer_totals;
  std::lock_guard lock(p.store_mu);
  TS_ASSIGN_OR_RETURN(
      Rows rows,
      p.store->Query("SELECT payment_id, kind, amount_minor, payer_amount_minor, payer_currency,"
                     " rate, markup_bps FROM qrpay_payments WHERE merchant_id = ? AND"
                     " local_day = ? ORDER BY created_ms, payment_id",
                     {m->merchant_id, day}));
  for (const Row& row : rows) {
    SettlementLine line;
    line.merchant_id = m->merchant_id;
    line.business_date = report.business_date;
    TS_ASSIGN_OR_RETURN(line.receipt_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(line.kind, row.GetText(1));
    TS_ASSIGN_OR_RETURN(const std::int64_t minor, row.GetInt64(2));
    TS_ASSIGN_OR_RETURN(const std::int64_t payer_minor, row.GetInt64(3));
    TS_ASSIGN_OR_RETURN(const std::int64_t payer_numeric, row.GetInt64(4));
    TS_ASSIGN_OR_RETURN(line.rate, row.GetText(5));
    TS_ASSIGN_OR_RETURN(line.markup_bps, row.GetInt64(6));
    TS_ASSIGN_OR_RETURN(const Currency* payer_currency, CurrencyFromNumeric(payer_numeric));
    line.merchant_amount = Amount(minor, *m->currency);
    line.payer_amount = Amount(payer_minor, *payer_currency);
    TS_ASSIGN_OR_RETURN(report.merchant_total, report.merchant_total.Add(line.merchant_amount));
    payer_totals[payer_currency->numeric] += payer_minor;
    report.lines.push_back(std::move(line));
  }
  for (const auto& [numeric, total] : payer_totals) {
    TS_ASSIGN_OR_RETURN(const Currency* c, CurrencyByNumeric(numeric));
    report.payer_totals.emplace_back(total, *c);
  }
  return report;
}

// ---- 5. Payment codes ----

Result<PaymentCode> Platform::IssuePaymentCode(std::string_view account_id,
                                               std::string_view device_id) {
  Impl& p = *impl_;
  TS_RETURN_IF_ERROR(CheckText("device_id", device_id, kDeviceIdBytesMax));
  for (int attempt = 0; attempt < kPaymentCodeIssueAttemptsMax; ++attempt) {
    std::string code;
    {
      std::lock_guard lock(p.random_mu);
      TS_ASSIGN_OR_RETURN(code, NewPaymentCode(*p.random));
    }
    PaymentCode out{code, p.NowMs() + kPaymentCodeValiditySeconds * kMillisPerSecond};
    bool collided = false;
    TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
      collided = false;
      TS_RETURN_IF_ERROR(p.LoadAccount(tx, account_id).status());
      TS_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT code FROM qrpay_payment_codes WHERE"
                                              " code = ?",
                                              {code}));
      if (!rows.empty()) {
        collided = true;
        return Status::Ok();
      }
      return tx
          .Execute(
              "INSERT INTO qrpay_payment_codes (code, account_id, device_id, expires_ms)"
              " VALUES (?, ?, ?, ?)",
              {code, std::string(account_id), std::string(device_id), out.expires_unix_ms})
          .status();
    }));
    if (!collided) return out;
  }
  return Internal("payment code: " + std::to_string(kPaymentCodeIssueAttemptsMax) +
                  " collisions in a row: the random source is broken");
}

Result<Receipt> Platform::PayByPaymentCode(std::string_view merchant_id, std::string_view code,
                                           const Amount& amount, std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  TS_RETURN_IF_ERROR(CheckPaymentCode(code));
  if (amount.currency() != *m->currency) {
    return InvalidArgument("amount: " + m->merchant_id + " is paid in " +
                           std::string(m->currency->alpha) + ", not " +
                           std::string(amount.currency().alpha));
  }
  if (amount.minor_units() <= 0) return InvalidArgument("amount: expected > 0");
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"code_payment", merchant_id, code, amount.ToString()}));
  // A merchant abroad scans the code in its currency: the payer is charged in the home currency
  // at the network's rate plus the markup (shown on the receipt; the payer's app showed the code,
  // so there is no quote to confirm first, as with the wallets' "show to pay" abroad).
  std::optional<FxConversion> fx;
  if (*m->currency != p.home()) {
    if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
    TS_ASSIGN_OR_RETURN(fx, p.rates->Convert(amount, p.home(), p.config->markup_bps));
  }
  Impl::OpState state = p.RunOp(
      "code_payment", merchant_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT account_id, expires_ms, used_by FROM"
                                                " qrpay_payment_codes WHERE code = ?",
                                                {std::string(code)}));
        if (rows.empty()) return NotFound("code: not a payment code of " + p.id);
        TS_ASSIGN_OR_RETURN(const std::string account_id, rows[0].GetText(0));
        TS_ASSIGN_OR_RETURN(const std::int64_t expires_ms, rows[0].GetInt64(1));
        TS_ASSIGN_OR_RETURN(const std::optional<std::string> used_by, rows[0].GetOptionalText(2));
        if (used_by.has_value()) {
          return FailedPrecondition("code: already used (receipt " + *used_by + ")");
        }
        const std::int64_t now = p.NowMs();
        if (now >= expires_ms) {
          return FailedPrecondition("code: expired at " + std::to_string(expires_ms) + " ms, now " +
                                    std::to_string(now) + " ms");
        }
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
        Impl::OwnPayment pay;
        pay.kind = "code_payment";
        pay.merchant = m;
        pay.merchant_amount = amount;
        pay.payer_amount = fx.has_value() ? fx->to : amount;
        if (fx.has_value()) {
          pay.rate = RateText(fx->rate_mantissa, fx->rate_scale);
          pay.markup_bps = fx->markup_bps;
        }
        TS_ASSIGN_OR_RETURN(Receipt r, p.PayOwnLocked(tx, op_id, a, pay));
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_payment_codes SET used_by = ? WHERE"
                                      " code = ?",
                                      {op_id, std::string(code)})
                               .status());
        return r;
      });
  return std::move(state.result);
}

// ---- 6. Tax refund ----

Result<Receipt> Platform::TaxRefund(std::string_view operator_id, std::string_view account_id,
                                    std::string_view receipt_reference, const Amount& refund,
                                    std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const RefundOperatorInfo* op, p.config->RefundOperator(operator_id));
  if (op->platform_id != p.id) {
    return NotFound("operator_id: \"" + op->id + "\" refunds through " + op->platform_id);
  }
  TS_RETURN_IF_ERROR(CheckText("receipt_reference", receipt_reference, kReceiptReferenceBytesMax));
  if (refund.minor_units() <= 0) return InvalidArgument("refund: expected > 0");
  if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"tax_refund", operator_id, account_id,
                                            receipt_reference, refund.ToString()}));
  // The network's rate, no markup: the traveller gets the refund's full value.
  TS_ASSIGN_OR_RETURN(const FxConversion fx, p.rates->Convert(refund, p.home(), 0));
  Impl::OpState state = p.RunOp(
      "tax_refund", operator_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
        TS_ASSIGN_OR_RETURN(Rows seen, tx.Query("SELECT op_id FROM qrpay_tax_refunds WHERE"
                                                " operator_id = ? AND receipt_reference = ?",
                                                {op->id, std::string(receipt_reference)}));
        if (!seen.empty()) {
          TS_ASSIGN_OR_RETURN(const std::string first, seen[0].GetText(0));
          return AlreadyExists("receipt_reference: " + std::string(receipt_reference) +
                               " was already refunded (receipt " + first + ")");
        }
        if (fx.to.minor_units() <= 0) {
          return InvalidArgument("refund: converts to nothing in " + std::string(p.home().alpha));
        }
        const std::string operator_label = "refund-operator:" + op->id;
        TS_RETURN_IF_ERROR(p.CheckFunds(operator_label, "operator funds", fx.to.minor_units()));
        TS_RETURN_IF_ERROR(p.CheckBalanceCap(a, fx.to.minor_units()));
        TS_ASSIGN_OR_RETURN(ledger::Transfer t, p.MakeTransfer(op_id, "tax-refund", operator_label,
                                                               a.label, fx.to, kTransferTaxRefund));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {t}));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(
            p.Post(tx, op_id, a.label, "tax_refund", op->name, fx.to.minor_units(), now));
        TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_tax_refunds (operator_id,"
                                      " receipt_reference, op_id) VALUES (?, ?, ?)",
                                      {op->id, std::string(receipt_reference), op_id})
                               .status());
        Receipt r;
        r.receipt_id = op_id;
        r.kind = "tax_refund";
        r.account_id = a.account_id;
        r.merchant_id = op->id;
        r.merchant_name = op->name;
        r.amount = refund;
        r.payer_amount = fx.to;
        r.fee = Amount(p.home());
        r.rate = RateText(fx.rate_mantissa, fx.rate_scale);
        r.reference = std::string(receipt_reference);
        r.created_unix_ms = now;
        return r;
      });
  return std::move(state.result);
}

// ---- 8. Cards bound by visitors ----

namespace {

struct CardOrderRow {
  std::string account_id;
  std::string payload;
  std::string merchant_id;
  std::string code_order_id;
  std::int64_t amount_minor = 0;
  std::int64_t fee_minor = 0;
  std::int64_t usd_minor = 0;
  bool visitor = false;
  std::string device_id;
};

// The visitor's USD used this local year (completed card payments), from the journal.
Result<std::int64_t> VisitorUsdThisYear(Store& s, std::string_view account_id, std::int64_t today) {
  const std::int64_t year_start = today / 10000 * 10000;
  TS_ASSIGN_OR_RETURN(Row row,
                      s.QueryRow("SELECT COALESCE(SUM(usd_minor), 0) AS total FROM"
                                 " qrpay_card_usage WHERE account_id = ? AND"
                                 " local_day > ? AND local_day < ?",
                                 {std::string(account_id), year_start, year_start + 10000}));
  return row.GetInt64("total");
}

Status CheckVisitorYear(const VisitorCardRules& rules, std::int64_t used, std::int64_t usd_minor) {
  if (rules.yearly_max_usd_minor > 0 && used + usd_minor > rules.yearly_max_usd_minor) {
    return OutOfRange("yearly_max_usd_minor: a visitor's card may pay " +
                      std::to_string(rules.yearly_max_usd_minor) + " USD minor a year; " +
                      std::to_string(used) + " used this year, " + std::to_string(usd_minor) +
                      " requested");
  }
  return Status::Ok();
}

}  // namespace

Result<CardPaymentRequest> Platform::StartCardPayment(std::string_view account_id,
                                                      std::string_view payload,
                                                      std::optional<Amount> amount,
                                                      std::string_view card_issuer_country,
                                                      std::string_view device_id) {
  Impl& p = *impl_;
  if (p.rail == nullptr) return FailedPrecondition("card_rail: this platform has no card rail");
  TS_RETURN_IF_ERROR(CheckText("device_id", device_id, kDeviceIdBytesMax));
  if (!CountryByAlpha2(card_issuer_country).ok()) {
    return InvalidArgument("card_issuer_country: expected an ISO 3166-1 alpha-2 code");
  }
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr scanned, ReadMerchantQr(payload));
  if (scanned.merchant.platform_id != p.id || *scanned.merchant.currency != p.home()) {
    return FailedPrecondition("payload: card payments are for " + std::string(p.home().alpha) +
                              " merchants of " + p.id);
  }
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
  TS_ASSIGN_OR_RETURN(const Amount to_pay, Impl::CodeAmount(code, amount));
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
  const VisitorCardRules& rules = p.config->visitor_cards;
  const bool visitor = card_issuer_country != rules.home_country;
  std::int64_t fee = 0;
  std::int64_t usd = 0;
  if (visitor) {
    if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
    TS_ASSIGN_OR_RETURN(const FxConversion in_usd, p.rates->Convert(to_pay, Usd(), 0));
    usd = in_usd.to.minor_units();
    if (rules.per_transaction_max_usd_minor > 0 && usd > rules.per_transaction_max_usd_minor) {
      return OutOfRange("per_transaction_max_usd_minor: a visitor's card may pay " +
                        std::to_string(rules.per_transaction_max_usd_minor) +
                        " USD minor at once; " + std::to_string(usd) + " requested");
    }
    if (to_pay.minor_units() > rules.fee_free_up_to_minor) {
      // The fee applies to the whole payment once it is above the threshold; half up.
      fee = static_cast<std::int64_t>(
          (static_cast<Int128>(to_pay.minor_units()) * rules.fee_bps + kBasisPointsMax / 2) /
          kBasisPointsMax);
    }
  }
  Bytes order_bytes(12);
  {
    std::lock_guard lock(p.random_mu);
    TS_RETURN_IF_ERROR(p.random->Fill(order_bytes));
  }
  const std::string order_id = "cp-" + LowerHex(order_bytes);
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, account_id));
    if (visitor) {
      TS_ASSIGN_OR_RETURN(const std::int64_t used,
                          VisitorUsdThisYear(tx, a.account_id, p.LocalDay(p.NowMs())));
      TS_RETURN_IF_ERROR(CheckVisitorYear(rules, used, usd));
    }
    return tx
        .Execute(
            "INSERT INTO qrpay_card_orders (order_id, account_id, payload, merchant_id,"
            " code_order_id, amount_minor, fee_minor, usd_minor, visitor, device_id,"
            " created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {order_id, a.account_id, std::string(payload), m->merchant_id,
             code.dynamic ? code.order_id : std::string(), to_pay.minor_units(), fee, usd, visitor,
             std::string(device_id), p.NowMs()})
        .status();
  }));
  CardOrder order;
  order.order_id = order_id;
  order.merchant = CardMerchant{m->merchant_id, m->name, m->city, m->country, m->mcc};
  order.amount = Amount(to_pay.minor_units() + fee, p.home());
  order.device_id = std::string(device_id);
  return p.rail->PaymentRequest(order);
}

Result<Receipt> Platform::CompleteCardPayment(std::string_view order_id,
                                              const nlohmann::json& payment_data) {
  Impl& p = *impl_;
  if (p.rail == nullptr) return FailedPrecondition("card_rail: this platform has no card rail");
  TS_RETURN_IF_ERROR(CheckText("order_id", order_id, 64));
  CardOrderRow o;
  {
    std::lock_guard lock(p.store_mu);
    TS_ASSIGN_OR_RETURN(Rows rows,
                        p.store->Query("SELECT account_id, payload, merchant_id, code_order_id,"
                                       " amount_minor, fee_minor, usd_minor, visitor, device_id"
                                       " FROM qrpay_card_orders WHERE order_id = ?",
                                       {std::string(order_id)}));
    if (rows.empty()) {
      return NotFound("order_id: \"" + std::string(order_id) + "\" is not a card payment order");
    }
    const Row& row = rows[0];
    TS_ASSIGN_OR_RETURN(o.account_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(o.payload, row.GetText(1));
    TS_ASSIGN_OR_RETURN(o.merchant_id, row.GetText(2));
    TS_ASSIGN_OR_RETURN(o.code_order_id, row.GetText(3));
    TS_ASSIGN_OR_RETURN(o.amount_minor, row.GetInt64(4));
    TS_ASSIGN_OR_RETURN(o.fee_minor, row.GetInt64(5));
    TS_ASSIGN_OR_RETURN(o.usd_minor, row.GetInt64(6));
    TS_ASSIGN_OR_RETURN(o.visitor, row.GetBool(7));
    TS_ASSIGN_OR_RETURN(o.device_id, row.GetText(8));
    TS_ASSIGN_OR_RETURN(const std::string op_id, p.OpId("card_payment", o.account_id, order_id));
    TS_ASSIGN_OR_RETURN(std::optional<OpRow> done, p.LoadOp(*p.store, op_id));
    if (done.has_value()) {
      Impl::OpState state;
      Impl::FromOpRow(*done, state);
      return std::move(state.result);
    }
    // Other payments may have used the year since the order started: refuse before charging.
    if (o.visitor) {
      TS_ASSIGN_OR_RETURN(const std::int64_t used,
                          VisitorUsdThisYear(*p.store, o.account_id, p.LocalDay(p.NowMs())));
      TS_RETURN_IF_ERROR(CheckVisitorYear(p.config->visitor_cards, used, o.usd_minor));
    }
  }
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(o.merchant_id));
  // A dynamic order paid meanwhile (by balance or another card) must not be charged again.
  TS_RETURN_IF_ERROR(p.VerifyOwnCode(o.payload).status());
  if (!o.code_order_id.empty()) {
    std::lock_guard lock(p.store_mu);
    TS_ASSIGN_OR_RETURN(Rows used, p.store->Query("SELECT op_id FROM qrpay_orders_used WHERE"
                                                  " merchant_id = ? AND order_id = ?",
                                                  {m->merchant_id, o.code_order_id}));
    if (!used.empty()) {
      return FailedPrecondition("order_id: order " + o.code_order_id + " of " + m->merchant_id +
                                " was already paid");
    }
  }
  const Amount amount(o.amount_minor, p.home());
  const Amount fee(o.fee_minor, p.home());
  CardOrder order;
  order.order_id = std::string(order_id);
  order.merchant = CardMerchant{m->merchant_id, m->name, m->city, m->country, m->mcc};
  order.amount = Amount(o.amount_minor + o.fee_minor, p.home());
  order.device_id = o.device_id;
  TS_ASSIGN_OR_RETURN(const CardCharge charge, p.rail->Charge(order, payment_data));
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"card_payment", order_id}));
  Impl::OpState state = p.RunOp(
      "card_payment", o.account_id, order_id, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(tx, o.account_id));
        // The card was charged: the merchant is paid; a dynamic order is marked used (a
        // concurrent balance payment of it would have been refused above or loses here).
        if (!o.code_order_id.empty()) {
          TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_orders_used (merchant_id, order_id,"
                                        " op_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                        {m->merchant_id, o.code_order_id, op_id})
                                 .status());
        }
        const std::string clearing = "card-clearing:" + std::string(p.home().alpha);
        const std::string merchant_label = "merchant:" + m->merchant_id;
        std::vector<ledger::Transfer> transfers;
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer pay,
            p.MakeTransfer(op_id, "card-pay", clearing, merchant_label, amount, kTransferPayment));
        transfers.push_back(pay);
        if (fee.minor_units() > 0) {
          TS_ASSIGN_OR_RETURN(
              ledger::Transfer fee_t,
              p.MakeTransfer(op_id, "card-fee", clearing, "fees:" + std::string(p.home().alpha),
                             fee, kTransferPayment));
          transfers.push_back(fee_t);
        }
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, transfers));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(
            p.Post(tx, op_id, merchant_label, "card_payment", a.alias, amount.minor_units(), now));
        if (o.visitor) {
          TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_card_usage (op_id, account_id,"
                                        " local_day, usd_minor) VALUES (?, ?, ?, ?)",
                                        {op_id, a.account_id, p.LocalDay(now), o.usd_minor})
                                 .status());
        }
        Receipt r;
        r.receipt_id = op_id;
        r.kind = "card_payment";
        r.account_id = a.account_id;
        r.merchant_id = m->merchant_id;
        r.merchant_name = m->name;
        r.payee_platform = p.id;
        r.amount = amount;
        r.payer_amount = Amount(o.amount_minor + o.fee_minor, p.home());
        r.fee = fee;
        r.reference = "card ..." + charge.token_last4 + " " + charge.reference;
        r.created_unix_ms = now;
        TS_RETURN_IF_ERROR(p.RecordPayment(tx, r, "", 1));
        return r;
      });
  return std::move(state.result);
}

// ---- 7. Statement ----

Result<Statement> Platform::MonthlyStatement(std::string_view account_id, std::string_view month) {
  Impl& p = *impl_;
  const bool shaped = month.size() == 7 && month[4] == '-' &&
                      std::all_of(month.begin(), month.end(),
                                  [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
  if (!shaped) return InvalidArgument("month: expected YYYY-MM");
  const std::int64_t year = std::stoll(std::string(month.substr(0, 4)));
  const std::int64_t mon = std::stoll(std::string(month.substr(5, 2)));
  if (mon < 1 || mon > 12) return InvalidArgument("month: expected a month 01-12");
  const std::int64_t first_day = year * 10000 + mon * 100 + 1;
  const std::int64_t after_last = year * 10000 + mon * 100 + 32;
  std::lock_guard lock(p.store_mu);
  TS_ASSIGN_OR_RETURN(const AccountRow a, p.LoadAccount(*p.store, account_id));
  Statement st;
  st.account_id = a.account_id;
  st.month = std::string(month);
  TS_ASSIGN_OR_RETURN(Rows opening,
                      p.store->Query("SELECT balance_after FROM qrpay_postings WHERE account = ?"
                                     " AND local_day < ? ORDER BY seq DESC LIMIT 1",
                                     {a.label, first_day}));
  std::int64_t balance = 0;
  if (!opening.empty()) {
    TS_ASSIGN_OR_RETURN(balance, opening[0].GetInt64(0));
  }
  st.opening_balance = Amount(balance, p.home());
  TS_ASSIGN_OR_RETURN(
      Rows rows,
      p.store->Query(
          "SELECT created_ms, kind, counterparty, op_id, amount_minor, balance_after"
          " FROM qrpay_postings WHERE account = ? AND local_day >= ? AND"
          " local_day < ? ORDER BY seq LIMIT ?",
          {a.label, first_day, after_last, static_cast<std::int64_t>(kStatementEntriesMax)}));
  for (const Row& row : rows) {
    StatementEntry e;
    TS_ASSIGN_OR_RETURN(e.unix_ms, row.GetInt64(0));
    TS_ASSIGN_OR_RETURN(e.kind, row.GetText(1));
    TS_ASSIGN_OR_RETURN(e.counterparty, row.GetText(2));
    TS_ASSIGN_OR_RETURN(e.receipt_id, row.GetText(3));
    TS_ASSIGN_OR_RETURN(const std::int64_t minor, row.GetInt64(4));
    TS_ASSIGN_OR_RETURN(balance, row.GetInt64(5));
    e.amount = Amount(minor, p.home());
    e.balance_after = Amount(balance, p.home());
    st.entries.push_back(std::move(e));
  }
  st.closing_balance = Amount(balance, p.home());
  return st;
}

// ---- Audit ----

Result<PlatformAudit> Platform::Audit() {
  Impl& p = *impl_;
  std::lock_guard lock(p.store_mu);
  TS_RETURN_IF_ERROR(p.ledger->Audit());
  PlatformAudit audit;
  TS_ASSIGN_OR_RETURN(Rows accounts,
                      p.store->Query("SELECT label, ledger FROM qrpay_ledger_accounts"
                                     " ORDER BY label"));
  std::map<std::int64_t, std::int64_t> posted_sum;
  std::map<std::int64_t, std::int64_t> pending_sum;
  std::map<std::int64_t, std::int64_t> user_sum;
  for (const Row& row : accounts) {
    TS_ASSIGN_OR_RETURN(const std::string label, row.GetText(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t ledger_id, row.GetInt64(1));
    TS_ASSIGN_OR_RETURN(const ledger::Id128 lid, p.LedgerId(label));
    TS_ASSIGN_OR_RETURN(std::optional<ledger::Account> account, p.ledger->LookupAccount(lid));
    if (!account.has_value()) return Internal("audit: ledger account " + label + " is missing");
    const auto posted = static_cast<std::int64_t>(account->credits_posted - account->debits_posted);
    posted_sum[ledger_id] += posted;
    pending_sum[ledger_id] +=
        static_cast<std::int64_t>(account->credits_pending - account->debits_pending);
    ++audit.ledger_accounts;
    if (label.starts_with("user:")) user_sum[ledger_id] += posted;
    if (!label.starts_with("user:") && !label.starts_with("merchant:")) continue;
    TS_ASSIGN_OR_RETURN(Row journal,
                        p.store->QueryRow("SELECT COALESCE(SUM(amount_minor), 0) AS total,"
                                          " COUNT(*) AS n FROM qrpay_postings WHERE account = ?",
                                          {label}));
    TS_ASSIGN_OR_RETURN(const std::int64_t total, journal.GetInt64("total"));
    TS_ASSIGN_OR_RETURN(const std::int64_t n, journal.GetInt64("n"));
    audit.journal_entries += n;
    if (total != posted) {
      return Internal("audit: " + label + " journal sums to " + std::to_string(total) +
                      ", the ledger holds " + std::to_string(posted));
    }
    TS_ASSIGN_OR_RETURN(Rows last, p.store->Query("SELECT balance_after FROM qrpay_postings"
                                                  " WHERE account = ? ORDER BY seq DESC LIMIT 1",
                                                  {label}));
    if (!last.empty()) {
      TS_ASSIGN_OR_RETURN(const std::int64_t after, last[0].GetInt64(0));
      if (after != posted) {
        return Internal("audit: " + label + " last balance_after " + std::to_string(after) +
                        " differs from the ledger's " + std::to_string(posted));
      }
    }
  }
  for (const auto& [ledger_id, sum] : posted_sum) {
    if (sum != 0 || pending_sum[ledger_id] != 0) {
      return Internal("audit: ledger " + std::to_string(ledger_id) + " does not balance: posted " +
                      std::to_string(sum) + ", pending " + std::to_string(pending_sum[ledger_id]));
    }
  }
  for (const auto& [ledger_id, sum] : user_sum) {
    TS_ASSIGN_OR_RETURN(const Currency* c, CurrencyFromNumeric(ledger_id));
    audit.user_balances.emplace_back(sum, *c);
  }
  return audit;
}

}  // namespace tapstack::qrpay
