// The platform's core: Open (schema, fixed ledger accounts, prefunding), the helpers every area
// shares (ids, ledger, limits, the idempotent operation runner) and the audit. The public calls of
// each area live in platform_<area>.cc.
#include "qrpay/platform.h"

#include <algorithm>
#include <map>
#include <set>

#include "crypto/hash.h"
#include "qrpay/platform_impl.h"
#include "store/sqlite_store.h"

namespace tapstack::qrpay {

namespace internal {

using nlohmann::json;

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

bool IsRefusal(ErrorCode code) {
  return code != ErrorCode::kUnavailable && code != ErrorCode::kIoError &&
         code != ErrorCode::kInternal && code != ErrorCode::kCorruption;
}

}  // namespace internal

namespace {

constexpr int kSqliteCacheKib = 64 * 1024;

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

}  // namespace

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using store::Row;
using store::Rows;
using store::Store;

// ---- Impl: time, ids, randomness ----

std::int64_t Platform::Impl::LocalDay(std::int64_t unix_ms) const {
  const std::int64_t local = unix_ms + info->utc_offset_minutes * kMillisPerMinute;
  std::int64_t days = local / kMillisPerDay;
  if (local % kMillisPerDay < 0) --days;
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(days, y, m, d);
  return y * 10000 + m * 100 + d;
}

Result<ledger::Id128> Platform::Impl::LedgerId(std::string_view label) const {
  return DerivedId({"tapstack qrpay account", id, label});
}

Result<std::string> Platform::Impl::OpId(std::string_view kind, std::string_view actor,
                                         std::string_view key) const {
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"tapstack qrpay operation", id, kind, actor, key}));
  return LowerHex(ByteView(digest).first(16));
}

Result<std::string> Platform::Impl::RandomHex(std::size_t bytes) {
  Bytes out(bytes);
  std::lock_guard lock(random_mu);
  TS_RETURN_IF_ERROR(random->Fill(out));
  return LowerHex(out);
}

// ---- Impl: checks shared by the areas ----

Result<const MerchantProfile*> Platform::Impl::OwnMerchant(std::string_view merchant_id) const {
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, config->Merchant(merchant_id));
  if (m->platform_id != id) {
    return NotFound("merchant_id: \"" + std::string(merchant_id) + "\" is acquired by " +
                    m->platform_id + ", not " + id);
  }
  return m;
}

const LevelLimits& Platform::Impl::Limits(int level) const {
  return info->levels[static_cast<std::size_t>(std::clamp(level, kLevelLowest, kLevelHighest) - 1)];
}

Status Platform::Impl::NeedRail() const {
  if (rail == nullptr) return FailedPrecondition("card_rail: this platform has no card rail");
  return Status::Ok();
}

Status Platform::Impl::CheckHomeAmount(const Amount& amount) const {
  if (amount.currency() != home() || amount.minor_units() <= 0) {
    return InvalidArgument("amount: expected > 0 in " + std::string(home().alpha));
  }
  return Status::Ok();
}

// ---- Impl: ledger ----

Result<ledger::Transfer> Platform::Impl::MakeTransfer(std::string_view op_id, std::string_view leg,
                                                      std::string_view debit_label,
                                                      std::string_view credit_label,
                                                      const Amount& amount, std::uint16_t code,
                                                      std::uint16_t flags) {
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

Status Platform::Impl::ApplyTransfers(Store& tx, const std::vector<ledger::Transfer>& transfers) {
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

Status Platform::Impl::SettleHold(Store& tx, std::string_view op_id, const ledger::Transfer& hold,
                                  bool post) {
  ledger::Transfer settle = hold;
  TS_ASSIGN_OR_RETURN(settle.id,
                      DerivedId({"tapstack qrpay transfer", id, op_id, post ? "post" : "void"}));
  settle.flags = post ? ledger::transfer_flags::kPostPendingTransfer
                      : ledger::transfer_flags::kVoidPendingTransfer;
  settle.pending_id = hold.id;
  return ApplyTransfers(tx, {settle});
}

Status Platform::Impl::CreateLedgerAccount(Store& tx, std::string_view label,
                                           const Currency& currency, std::uint16_t code,
                                           bool must_not_overdraw) {
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

Status Platform::Impl::Prefund(Store& tx, std::string_view funded_id, std::string_view label,
                               std::int64_t minor) {
  if (minor <= 0) return Status::Ok();
  TS_ASSIGN_OR_RETURN(ledger::Transfer t,
                      MakeTransfer("prefund:" + std::string(funded_id), "prefund",
                                   "operator-funding:" + std::string(home().alpha), label,
                                   Amount(minor, home()), kTransferPrefund));
  std::vector<ledger::CreateTransferResult> results(1);
  TS_RETURN_IF_ERROR(
      ledger->CreateTransfersInTransaction(tx, std::vector<ledger::Transfer>{t}, results));
  if (results[0] != ledger::CreateTransferResult::kOk &&
      results[0] != ledger::CreateTransferResult::kExists) {
    return Internal("qrpay: prefunding " + std::string(funded_id) + ": " +
                    std::string(ledger::CreateTransferResultName(results[0])));
  }
  return Status::Ok();
}

Result<Platform::Impl::Balances> Platform::Impl::LedgerBalance(std::string_view label) {
  TS_ASSIGN_OR_RETURN(const ledger::Id128 lid, LedgerId(label));
  TS_ASSIGN_OR_RETURN(std::optional<ledger::Account> account, ledger->LookupAccount(lid));
  if (!account.has_value()) return NotFound("ledger account " + std::string(label));
  Balances b;
  b.posted = static_cast<std::int64_t>(account->credits_posted - account->debits_posted);
  b.available = b.posted - static_cast<std::int64_t>(account->debits_pending);
  return b;
}

Status Platform::Impl::Post(Store& tx, std::string_view op_id, std::string_view label,
                            std::string_view kind, std::string_view counterparty,
                            std::int64_t signed_minor, std::int64_t now_ms) {
  TS_ASSIGN_OR_RETURN(const Balances after, LedgerBalance(label));
  return InsertPosting(tx, op_id, label, now_ms, LocalDay(now_ms), kind, counterparty, signed_minor,
                       after.posted);
}

// ---- Impl: limits ----

Result<Spent> Platform::Impl::SpentBy(Store& s, std::string_view account_id, std::int64_t now_ms) {
  return internal::SpentBy(s, account_id, LocalDay(now_ms));
}

Status Platform::Impl::CheckOutgoing(Store& s, const AccountRow& a, std::int64_t minor,
                                     std::int64_t now_ms) {
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

Status Platform::Impl::CheckFunds(std::string_view label, std::string_view field,
                                  std::int64_t minor) {
  TS_ASSIGN_OR_RETURN(const Balances b, LedgerBalance(label));
  if (b.available < minor) {
    return FailedPrecondition(std::string(field) + ": " + std::to_string(b.available) +
                              " available, " + std::to_string(minor) + " requested");
  }
  return Status::Ok();
}

Status Platform::Impl::CheckBalanceCap(const AccountRow& a, std::int64_t credit_minor) {
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

Status Platform::Impl::RecordSpending(Store& tx, std::string_view op_id,
                                      std::string_view account_id, std::int64_t minor,
                                      std::int64_t now_ms) {
  return InsertSpending(tx, op_id, account_id, LocalDay(now_ms), minor);
}

Status Platform::Impl::RecordPayment(Store& tx, const Receipt& r, std::string_view refund_of,
                                     std::int64_t sign) {
  return InsertPayment(tx, r, refund_of, sign, LocalDay(r.created_unix_ms));
}

Receipt Platform::Impl::NewReceipt(std::string_view op_id, std::string_view kind,
                                   std::string_view account_id, const Amount& amount,
                                   const Amount& payer_amount, std::int64_t now_ms) {
  Receipt r;
  r.receipt_id = std::string(op_id);
  r.kind = std::string(kind);
  r.account_id = std::string(account_id);
  r.amount = amount;
  r.payer_amount = payer_amount;
  r.fee = Amount(payer_amount.currency());
  r.created_unix_ms = now_ms;
  return r;
}

// ---- Impl: the operation runner ----

Status Platform::Impl::CheckRefusal(Store& tx, const Status& error) {
  if (!IsRefusal(error.code())) return error;
  // A failed statement aborts the transaction (store/store.h) with codes that look like refusals
  // (kAlreadyExists for a unique violation, kFailedPrecondition for other constraints): only a
  // transaction that still runs statements shows the error came from the body's own checks.
  if (!tx.Query("SELECT 1").ok()) {
    return Internal("qrpay: a store error inside the operation, not a refusal: " +
                    error.ToString());
  }
  return Status::Ok();
}

Platform::Impl::OpState Platform::Impl::FromOpRow(const OpRow& op) {
  OpState state;
  if (op.status == kOpRefused) {
    state.result = ErrorFromRow(op.error_code, op.message);
    return state;
  }
  Result<Receipt> receipt = ReceiptFromText(op.receipt);
  if (receipt.ok()) receipt->replayed = true;
  state.result = std::move(receipt);
  state.in_flight = op.status == kOpInFlight;
  return state;
}

std::optional<Result<Receipt>> Platform::Impl::FinishedOp(Store& s, std::string_view kind,
                                                          std::string_view actor,
                                                          std::string_view key) {
  Result<std::string> op_id = OpId(kind, actor, key);
  if (!op_id.ok()) return Result<Receipt>(op_id.status());
  Result<std::optional<OpRow>> row = LoadOpRow(s, *op_id);
  if (!row.ok()) return Result<Receipt>(row.status());
  if (!row->has_value()) return std::nullopt;
  return FromOpRow(**row).result;
}

Platform::Impl::OpState Platform::Impl::RunOp(std::string_view kind, std::string_view actor,
                                              std::string_view key, const std::string& digest,
                                              const OpBody& body) {
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
    TS_ASSIGN_OR_RETURN(std::optional<OpRow> existing, LoadOpRow(tx, op_id));
    if (existing.has_value()) {
      if (existing->digest != digest) {
        state.result = AlreadyExists(std::string(kKeyReusedMessage));
      } else {
        state = FromOpRow(*existing);
      }
      return Status::Ok();
    }
    bool in_flight = false;
    Result<Receipt> result = body(tx, op_id, in_flight);
    if (!result.ok()) TS_RETURN_IF_ERROR(CheckRefusal(tx, result.status()));
    const std::string_view status = result.ok() ? (in_flight ? kOpInFlight : kOpDone) : kOpRefused;
    TS_RETURN_IF_ERROR(InsertOpRow(tx, op_id, kind, actor, digest, status, result, NowMs()));
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

Result<Receipt> Platform::Impl::FinishOp(const std::string& op_id, const FinishBody& finish) {
  Result<Receipt> out = Internal("qrpay: finish not run");
  const Status committed = committer->Run([&](Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(std::optional<OpRow> existing, LoadOpRow(tx, op_id));
    if (!existing.has_value()) return Internal("qrpay: op " + op_id + " vanished");
    if (existing->status != kOpInFlight) {
      out = FromOpRow(*existing).result;
      return Status::Ok();
    }
    Result<Receipt> result = finish(tx);
    if (!result.ok()) TS_RETURN_IF_ERROR(CheckRefusal(tx, result.status()));
    TS_RETURN_IF_ERROR(UpdateOpRow(tx, op_id, result, existing->receipt));
    out = std::move(result);
    return Status::Ok();
  });
  if (!committed.ok()) return committed;
  return out;
}

// ---- Platform ----

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
    // SQLite's default page cache (2 MiB) sends most look-ups of a busy platform to pread();
    // the working set (accounts, today's journal, the ledger's rows) fits in this.
    TS_RETURN_IF_ERROR(impl->store->ExecuteScript("PRAGMA cache_size=" +
                                                  std::to_string(-kSqliteCacheKib)));
  }
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*impl->store, PlatformMigrations()));
  ledger::StoreLedgerOptions ledger_options;
  ledger_options.clock = impl->clock;
  ledger_options.apply_migrations = false;  // part of PlatformMigrations()
  TS_ASSIGN_OR_RETURN(impl->ledger, ledger::StoreLedger::Open(*impl->store, ledger_options));
  impl->committer = std::make_unique<store::GroupCommitter>(*impl->store, impl->store_mu);

  // The fixed accounts, the merchants' and the refund operators' and agents' (with their
  // prefunding).
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
      TS_RETURN_IF_ERROR(p.Prefund(tx, op.id, label, op.prefund_minor));
    }
    for (const AgentInfo& agent : p.config->agents) {
      if (agent.platform_id != p.id) continue;
      const std::string label = "agent:" + agent.id;
      TS_RETURN_IF_ERROR(p.CreateLedgerAccount(tx, label, p.home(), kCodeAgent, true));
      // "agent:" keeps the prefund's transfer id apart from an operator's of the same id.
      TS_RETURN_IF_ERROR(p.Prefund(tx, label, label, agent.prefund_minor));
    }
    return Status::Ok();
  });
  TS_RETURN_IF_ERROR(seeded);
  return std::unique_ptr<Platform>(new Platform(std::move(impl)));
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
