#include "dcep/operator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "core/hex.h"
#include "crypto/csprng.h"
#include "crypto/hash.h"
#include "dcep/contract_book.h"
#include "dcep/operator_store.h"

namespace tapstack::dcep {

namespace {

using ledger::CreateTransferResult;
using ledger::Id128;

constexpr std::string_view kKindExchangeIn = "exchange_in";
constexpr std::string_view kKindExchangeOut = "exchange_out";
constexpr std::string_view kKindPayment = "payment";
constexpr std::string_view kKindInterbankOut = "interbank_out";
constexpr std::string_view kKindInterbankIn = "interbank_in";
constexpr std::string_view kKindPurseFund = "purse_fund";
constexpr std::string_view kKindPurseDefund = "purse_defund";
constexpr std::string_view kKindIssue = "issue";
constexpr std::string_view kKindRedeem = "redeem";
constexpr std::string_view kKindContractLock = "contract_lock";
constexpr std::string_view kKindContractRelease = "contract_release";
constexpr std::string_view kKindContractRefund = "contract_refund";
constexpr std::string_view kKindPurseMove = "purse_move";
constexpr std::string_view kKindPurseUnload = "purse_unload";
constexpr std::string_view kKindOfflineLossCover = "offline_loss_cover";
// Offline settlement across operators: the payer's operator holds the payer purse (or, for a loss
// cover, its float) like an interbank_out; the payee's operator credits the payee device's purse.
constexpr std::string_view kKindPurseMoveOut = "purse_move_out";
constexpr std::string_view kKindPurseMoveIn = "purse_move_in";
constexpr std::string_view kKindOfflineLossCoverOut = "offline_loss_cover_out";
constexpr std::string_view kKindOfflineLossCoverIn = "offline_loss_cover_in";

constexpr std::string_view kPosted = "posted";
constexpr std::string_view kRefused = "refused";
constexpr std::string_view kInFlight = "in_flight";
constexpr std::string_view kFailed = "failed";
constexpr std::string_view kStepAccepted = "accepted";
constexpr std::string_view kStepReversing = "reversing";

std::uint16_t TransferCode(std::string_view kind) {
  if (kind == kKindExchangeIn) return transfer_code::kExchangeIn;
  if (kind == kKindExchangeOut) return transfer_code::kExchangeOut;
  if (kind == kKindPayment) return transfer_code::kPayment;
  if (kind == kKindInterbankOut) return transfer_code::kInterbankOut;
  if (kind == kKindInterbankIn) return transfer_code::kInterbankIn;
  if (kind == kKindPurseFund) return transfer_code::kPurseFund;
  if (kind == kKindPurseDefund) return transfer_code::kPurseDefund;
  if (kind == kKindIssue) return transfer_code::kIssueReceived;
  if (kind == kKindContractLock) return transfer_code::kContractLock;
  if (kind == kKindContractRelease) return transfer_code::kContractRelease;
  if (kind == kKindContractRefund) return transfer_code::kContractRefund;
  if (kind == kKindPurseMove) return transfer_code::kPurseMove;
  if (kind == kKindPurseUnload) return transfer_code::kPurseDefund;
  if (kind == kKindOfflineLossCover) return transfer_code::kOfflineLossCover;
  if (kind == kKindPurseMoveOut || kind == kKindOfflineLossCoverOut) {
    return transfer_code::kInterbankOut;
  }
  if (kind == kKindPurseMoveIn || kind == kKindOfflineLossCoverIn) {
    return transfer_code::kInterbankIn;
  }
  return transfer_code::kRedeemSent;
}

// Offline settlement's moves to another operator's purse (outbox entries driven like
// interbank_out).
bool IsOfflineOutbox(std::string_view kind) {
  return kind == kKindPurseMoveOut || kind == kKindOfflineLossCoverOut;
}
// Kinds whose ledger transfer is a hold created at acceptance (outbox entries).
bool IsHeldOutbox(std::string_view kind) {
  return kind == kKindInterbankOut || kind == kKindRedeem || IsOfflineOutbox(kind);
}
// The payee's side of an offline move across operators (credited through CreditIncoming).
bool IsOfflineIncoming(std::string_view kind) {
  return kind == kKindPurseMoveIn || kind == kKindOfflineLossCoverIn;
}
bool IsOutbox(std::string_view kind) { return IsHeldOutbox(kind) || kind == kKindIssue; }
// Offline settlement's moves (OfflinePurses), retried by it with the same key.
bool IsRedrivenUntilSettled(std::string_view kind) {
  return kind == kKindPurseMove || kind == kKindOfflineLossCover || kind == kKindPurseUnload ||
         IsOfflineOutbox(kind);
}

std::string LowerHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) {
    return InvalidArgument("idempotency_key: expected 1-" +
                           std::to_string(kIdempotencyKeyBytesMax) + " bytes");
  }
  return Status::Ok();
}

Status CheckAmount(std::int64_t amount_fen) {
  if (amount_fen <= 0) return InvalidArgument("amount_fen: expected an integer > 0");
  return Status::Ok();
}

Status CheckPhone(std::string_view phone) {
  std::string_view digits = phone;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  if (digits.size() < kPhoneDigitsMin || digits.size() > kPhoneDigitsMax ||
      !IsAllDigits(digits)) {
    return InvalidArgument("phone: expected " + std::to_string(kPhoneDigitsMin) + "-" +
                           std::to_string(kPhoneDigitsMax) + " digits, optionally after '+'");
  }
  return Status::Ok();
}

std::string MaskPhone(std::string_view phone) {
  if (phone.size() < 7) return std::string(phone.size(), '*');
  return std::string(phone.substr(0, 3)) + std::string(phone.size() - 7, '*') +
         std::string(phone.substr(phone.size() - 4));
}

// The first character (a whole UTF-8 sequence) and "*".
std::string MaskName(std::string_view name) {
  if (name.empty()) return {};
  std::size_t first = 1;
  const auto lead = static_cast<std::uint8_t>(name[0]);
  if (lead >= 0xF0) first = 4;
  else if (lead >= 0xE0) first = 3;
  else if (lead >= 0xC0) first = 2;
  return std::string(name.substr(0, std::min(first, name.size()))) + "*";
}

store::RetryPolicy SingleAttempt() {
  store::RetryPolicy policy;
  policy.attempts_max = 1;  // the in-memory effects were applied once; no silent re-run
  return policy;
}

std::string Fen(std::int64_t v) { return std::to_string(v) + " fen"; }

// What the store keeps of a holder's evidence: the ID number only as its SHA-256, the bank account
// masked to its last 4 digits.
struct StoredEvidence {
  std::optional<Bytes> id_hash;
  std::optional<std::string> bank_masked;
};
Result<StoredEvidence> StoredEvidenceOf(const TierEvidence& evidence) {
  StoredEvidence stored;
  if (!evidence.id_number.empty()) {
    TS_ASSIGN_OR_RETURN(stored.id_hash, crypto::Sha256(AsBytes(evidence.id_number)));
  }
  if (!evidence.bank_account.empty()) {
    const std::string& b = evidence.bank_account;
    stored.bank_masked = "****" + b.substr(b.size() > 4 ? b.size() - 4 : 0);
  }
  return stored;
}

// Rows per query when Recover loads the journal's entry ids (under the store's query_rows_max).
constexpr std::size_t kJournalIdsPageRows = 50'000;

// Entry ids are derived with the operator's key (IdDeriver), so their bits are already uniform.
struct EntryIdHash {
  std::size_t operator()(Id128 id) const { return id.low ^ (id.high * 0x9E3779B97F4A7C15ULL); }
};

// One journal row (dcep_entries).
struct Row {
  Id128 id;
  std::int64_t seq = 0;
  std::string kind;
  Id128 digest;
  std::string debit_wallet;
  std::string credit_wallet;
  std::string device_id;
  std::string counter_operator;
  std::string counter_wallet;
  std::string counter_device;  // the other operator's device (offline moves across operators)
  std::string merchant_id;
  std::string merchant_order_id;  // the merchant's order this payment pays (paid-order register)
  std::int64_t amount_fen = 0;
  std::int64_t day = 0;
  std::string status;
  std::string step;
  std::string error_code;
  std::string reason;
  Id128 debit_account;
  Id128 credit_account;
  std::int64_t created_unix_ms = 0;
  std::string contract_id;
  // The previous row of debit_wallet and of credit_wallet (0: none): the wallets' history chains.
  std::int64_t debit_prev_seq = 0;
  std::int64_t credit_prev_seq = 0;
};

store::Value OptText(const std::string& s) {
  return s.empty() ? store::Value::Null() : store::Value(s);
}

constexpr std::string_view kRowColumns =
    "entry_id, seq, kind, request_digest, debit_wallet, credit_wallet, device_id, "
    "counter_operator, counter_wallet, merchant_id, amount_fen, day, status, step, error_code, "
    "reason, debit_account, credit_account, created_unix_ms, contract_id, counter_device, "
    "merchant_order_id, debit_prev_seq, credit_prev_seq";

Result<Row> RowFrom(const store::Row& r) {
  Row row;
  TS_ASSIGN_OR_RETURN(const Bytes id, r.GetBlob(0));
  TS_ASSIGN_OR_RETURN(row.id, IdFromBytes(id));
  TS_ASSIGN_OR_RETURN(row.seq, r.GetInt64(1));
  TS_ASSIGN_OR_RETURN(row.kind, r.GetText(2));
  TS_ASSIGN_OR_RETURN(const Bytes digest, r.GetBlob(3));
  TS_ASSIGN_OR_RETURN(row.digest, IdFromBytes(digest));
  std::string* texts[] = {&row.debit_wallet,     &row.credit_wallet, &row.device_id,
                          &row.counter_operator, &row.counter_wallet, &row.merchant_id};
  for (std::size_t i = 0; i < 6; ++i) {
    TS_ASSIGN_OR_RETURN(const auto text, r.GetOptionalText(4 + i));
    *texts[i] = text.value_or("");
  }
  TS_ASSIGN_OR_RETURN(row.amount_fen, r.GetInt64(10));
  TS_ASSIGN_OR_RETURN(row.day, r.GetInt64(11));
  TS_ASSIGN_OR_RETURN(row.status, r.GetText(12));
  std::string* more[] = {&row.step, &row.error_code, &row.reason};
  for (std::size_t i = 0; i < 3; ++i) {
    TS_ASSIGN_OR_RETURN(const auto text, r.GetOptionalText(13 + i));
    *more[i] = text.value_or("");
  }
  TS_ASSIGN_OR_RETURN(const Bytes debit, r.GetBlob(16));
  TS_ASSIGN_OR_RETURN(row.debit_account, IdFromBytes(debit));
  TS_ASSIGN_OR_RETURN(const Bytes credit, r.GetBlob(17));
  TS_ASSIGN_OR_RETURN(row.credit_account, IdFromBytes(credit));
  TS_ASSIGN_OR_RETURN(row.created_unix_ms, r.GetInt64(18));
  std::string* last[] = {&row.contract_id, &row.counter_device, &row.merchant_order_id};
  for (std::size_t i = 0; i < 3; ++i) {
    TS_ASSIGN_OR_RETURN(const auto text, r.GetOptionalText(19 + i));
    *last[i] = text.value_or("");
  }
  TS_ASSIGN_OR_RETURN(row.debit_prev_seq, r.GetInt64(22));
  TS_ASSIGN_OR_RETURN(row.credit_prev_seq, r.GetInt64(23));
  return row;
}

// kInvalidArgument unless 1-kMerchantOrderIdBytesMax of A-Z a-z 0-9 - (the MPM bill number).
Status CheckMerchantOrderId(std::string_view order_id) {
  const bool ok = !order_id.empty() && order_id.size() <= kMerchantOrderIdBytesMax &&
                  std::all_of(order_id.begin(), order_id.end(), [](char ch) {
                    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-';
                  });
  if (!ok) {
    return InvalidArgument("merchant_order_id: expected 1-" +
                           std::to_string(kMerchantOrderIdBytesMax) + " of A-Z a-z 0-9 -");
  }
  return Status::Ok();
}

// The order's part of a request digest: "" without one, so digests of journals written before
// orders existed still match.
std::string OrderPart(const std::string& order_id) {
  return order_id.empty() ? std::string() : "order=" + order_id + "|";
}

// Payments whose order goes in the register: at the merchant's operator every payment of its
// merchant's order (its own wallets' and the credits from other operators); at a payer's operator
// its wallets' payments to another operator's merchant, so that a repeat scan is answered there.
bool RegistersOrder(const Row& row) {
  return !row.merchant_order_id.empty() &&
         (row.kind == kKindPayment || row.kind == kKindInterbankOut ||
          row.kind == kKindInterbankIn);
}

Entry ToEntry(const Row& row, bool replayed) {
  Entry e;
  e.entry_id = row.id.ToHex();
  e.seq = row.seq;
  e.kind = row.kind;
  e.status = row.status;
  e.debit_wallet = row.debit_wallet;
  e.credit_wallet = row.credit_wallet;
  e.counter_operator = row.counter_operator;
  e.counter_wallet = row.counter_wallet;
  e.counter_device = row.counter_device;
  e.merchant_id = row.merchant_id;
  e.device_id = row.device_id;
  e.contract_id = row.contract_id;
  e.amount_fen = row.amount_fen;
  e.created_unix_ms = row.created_unix_ms;
  e.error_code = row.error_code;
  e.reason = row.reason;
  e.replayed = replayed;
  return e;
}

Status RowError(const Row& row) { return Status(ErrorCodeFromName(row.error_code), row.reason); }

ledger::Transfer TransferOf(const Row& row) {
  ledger::Transfer t;
  t.id = row.id;
  t.debit_account_id = row.debit_account;
  t.credit_account_id = row.credit_account;
  t.amount = static_cast<std::uint64_t>(row.amount_fen);
  t.ledger = kEcnyLedgerId;
  t.code = TransferCode(row.kind);
  t.user_data_128 = row.digest;
  if (IsHeldOutbox(row.kind)) t.flags = ledger::transfer_flags::kPending;
  return t;
}

bool IsOkOrExists(CreateTransferResult r) {
  return r == CreateTransferResult::kOk || r == CreateTransferResult::kExists;
}

}  // namespace

std::int64_t ChinaStandardDay(std::int64_t unix_millis) {
  std::int64_t local = unix_millis + kChinaStandardOffsetMillis;
  std::int64_t days = local / kMillisPerDay;
  if (local % kMillisPerDay < 0) --days;
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  return static_cast<std::int64_t>(static_cast<int>(ymd.year())) * 10000 +
         static_cast<std::int64_t>(static_cast<unsigned>(ymd.month())) * 100 +
         static_cast<std::int64_t>(static_cast<unsigned>(ymd.day()));
}

std::string MerchantWalletId(std::string_view operator_id, std::string_view merchant_id) {
  std::string text = "tapstack dcep merchant wallet";
  text.push_back('\0');
  text.append(operator_id).push_back('\0');
  text.append(merchant_id);
  Result<Bytes> digest = crypto::Sha256(AsBytes(text));
  if (!digest.ok()) return {};
  return "w" + LowerHex(ByteView(digest->data(), 8));
}

Status CheckWalletId(std::string_view field, std::string_view id) {
  const bool ok = id.size() == kWalletIdChars && id[0] == 'w' &&
                  std::all_of(id.begin() + 1, id.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                  });
  if (ok) return Status::Ok();
  return InvalidArgument(std::string(field) + ": expected \"w\" and 16 lowercase hex digits");
}

Status CheckDeviceId(std::string_view field, std::string_view id) {
  const bool ok = !id.empty() && id.size() <= kDeviceIdBytesMax &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_';
                  });
  if (ok) return Status::Ok();
  return InvalidArgument(std::string(field) + ": expected 1-" +
                         std::to_string(kDeviceIdBytesMax) + " of a-z 0-9 - _");
}

int TierOf(const TierEvidence& e) {
  const bool identified = !e.name.empty() && !e.id_number.empty();
  if (identified && e.in_person) return 1;
  if (identified && !e.bank_account.empty()) return 2;
  if (identified) return 3;
  return 4;
}

struct Operator::Impl : ContractHost {
  struct WalletState {
    Id128 account;
    int tier = kTierLowest;
    std::int64_t balance = 0;    // posted
    std::int64_t available = 0;  // posted − outgoing holds
    std::int64_t day = 0;
    std::int64_t spent = 0;      // payments on `day`
    std::string merchant_id;
  };
  struct PurseState {
    Id128 account;
    std::string wallet_id;
    std::int64_t balance = 0;  // posted
    std::int64_t held = 0;     // outgoing moves to other operators in flight
    bool hardware = false;     // bound to a certified device (RegisterDevice)
    std::int64_t available() const { return balance - held; }
  };
  // A candidate row with the error that refuses it before it is stored (bad input).
  struct Candidate {
    Row row;
    Status invalid;
    bool replay = false;
    bool duplicate_in_batch = false;
    std::size_t first_index = 0;
    // Conditional payments: run in the journal's store transaction with the check outcome, and
    // after a ledger refusal of a checked row (ContractHost::Move).
    std::function<Status(store::Store&, const Status&)> also;
    std::function<Status(store::Store&)> after_failure;
  };

  std::string id;
  const DcepConfig* config = nullptr;
  CentralBankClient* central_bank = nullptr;
  InterbankPeers* peers = nullptr;
  const Clock* clock = nullptr;
  std::unique_ptr<crypto::Csprng> owned_random;
  RandomSource* random = nullptr;
  std::optional<IdDeriver> ids;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<store::Store> store;

  std::mutex mu;
  Status broken;  // sticky: the in-memory state may be ahead of the disk; reopen
  Id128 cbp;      // central_bank_position
  Id128 float_account;
  std::int64_t float_available = 0;
  std::int64_t next_seq = 1;
  // Every entry id in dcep_entries → its seq (loaded by Recover, added at each commit). It is
  // what keeps entry ids unique (the table is keyed by seq: an index on random ids cost each
  // batch most of its leaf pages), and a new id, the common case, skips the journal.
  std::unordered_map<Id128, std::int64_t, EntryIdHash> journal_ids;
  // Each wallet's newest journal row (seq): the head of its history chain.
  std::unordered_map<std::string, std::int64_t> wallet_heads;
  std::unordered_map<std::string, WalletState> wallets;
  std::unordered_map<std::string, PurseState> purses;
  std::set<std::string> driving;

  std::int64_t Now() const { return clock->NowUnixMillis(); }
  std::int64_t Today() const { return ChinaStandardDay(Now()); }

  std::int64_t& SpentToday(WalletState& w) {
    const std::int64_t today = Today();
    if (w.day != today) {
      w.day = today;
      w.spent = 0;
    }
    return w.spent;
  }

  const TierLimits& LimitsOf(int tier) const {
    Result<const TierLimits*> limits = config->Tier(tier);
    static const TierLimits kUnlimited{1, "in person", 0, 0, 0};
    return limits.ok() ? **limits : kUnlimited;
  }

  Result<WalletState*> WalletOf(std::string_view field, const std::string& wallet_id) {
    const auto it = wallets.find(wallet_id);
    if (it == wallets.end()) {
      return NotFound(std::string(field) + ": wallet " + wallet_id + " is not a wallet of " + id);
    }
    return &it->second;
  }

  Status CapCheck(const WalletState& w, std::int64_t amount, bool own) const {
    const TierLimits& limits = LimitsOf(w.tier);
    if (limits.balance_max_fen == 0 || w.balance + amount <= limits.balance_max_fen) {
      return Status::Ok();
    }
    if (own) {
      return OutOfRange("balance_max_fen: tier " + std::to_string(w.tier) + " wallets hold at most " +
                        Fen(limits.balance_max_fen) + "; balance " + Fen(w.balance) + ", adding " +
                        Fen(amount));
    }
    // The payer learns the payee's cap, never the payee's balance.
    return OutOfRange("balance_max_fen: the payee's tier " + std::to_string(w.tier) +
                      " wallet (at most " + Fen(limits.balance_max_fen) + ") cannot receive " +
                      Fen(amount));
  }

  Status PayerChecks(WalletState& payer, std::int64_t amount) {
    const TierLimits& limits = LimitsOf(payer.tier);
    const std::string tier = "tier " + std::to_string(payer.tier);
    if (limits.payment_max_fen != 0 && amount > limits.payment_max_fen) {
      return OutOfRange("payment_max_fen: " + tier + " allows " + Fen(limits.payment_max_fen) +
                        " per payment; requested " + Fen(amount));
    }
    const std::int64_t spent = SpentToday(payer);
    if (limits.daily_max_fen != 0 && spent + amount > limits.daily_max_fen) {
      return OutOfRange("daily_max_fen: " + tier + " allows " + Fen(limits.daily_max_fen) +
                        " a day; " + Fen(spent) + " spent today, " + Fen(amount) + " requested");
    }
    if (payer.available < amount) {
      return FailedPrecondition("balance: " + Fen(payer.available) + " available, " +
                                Fen(amount) + " requested");
    }
    return Status::Ok();
  }

  // Checks a new row against limits and balances and applies its effects to the in-memory state
  // (mu held). Fills the ledger account ids. On error nothing changed.
  // The payer purse of an offline move, holding `amount` beyond the moves in flight.
  Result<PurseState*> PayerPurse(const std::string& device_id, std::int64_t amount) {
    const auto it = purses.find(device_id);
    if (it == purses.end()) {
      return NotFound("payer_device_id: no offline purse for device " + device_id);
    }
    if (it->second.available() < amount) {
      return FailedPrecondition("purse: " + Fen(it->second.available()) +
                                " available in the offline purse of " + device_id + ", " +
                                Fen(amount) + " to settle");
    }
    return &it->second;
  }

  // Loss covers are paid from the float, so covering a double spend never creates value.
  Status FloatCovers(std::int64_t amount) const {
    if (float_available >= amount) return Status::Ok();
    return FailedPrecondition("float: " + Fen(float_available) + " available to cover " +
                              Fen(amount) + "; request issuance from the central bank");
  }

  Status CheckAndApply(Row& row) {
    const std::int64_t amount = row.amount_fen;
    if (row.kind == kKindPayment || row.kind == kKindInterbankOut) {
      TS_ASSIGN_OR_RETURN(WalletState * payer, WalletOf("payer_wallet", row.debit_wallet));
      WalletState* payee = nullptr;
      if (row.kind == kKindPayment) {
        TS_ASSIGN_OR_RETURN(payee, WalletOf("payee_wallet", row.credit_wallet));
      }
      TS_RETURN_IF_ERROR(PayerChecks(*payer, amount));
      if (payee != nullptr) TS_RETURN_IF_ERROR(CapCheck(*payee, amount, false));
      row.debit_account = payer->account;
      row.credit_account = payee != nullptr ? payee->account : cbp;
      payer->available -= amount;
      SpentToday(*payer) += amount;
      if (payee != nullptr) {
        payer->balance -= amount;
        payee->balance += amount;
        payee->available += amount;
      }
      return Status::Ok();
    }
    if (row.kind == kKindInterbankIn) {
      TS_ASSIGN_OR_RETURN(WalletState * payee, WalletOf("payee_wallet", row.credit_wallet));
      TS_RETURN_IF_ERROR(CapCheck(*payee, amount, false));
      row.debit_account = cbp;
      row.credit_account = payee->account;
      payee->balance += amount;
      payee->available += amount;
      return Status::Ok();
    }
    if (row.kind == kKindExchangeIn) {
      TS_ASSIGN_OR_RETURN(WalletState * w, WalletOf("wallet_id", row.credit_wallet));
      TS_RETURN_IF_ERROR(CapCheck(*w, amount, true));
      if (float_available < amount) {
        return FailedPrecondition("float: the operator holds " + Fen(float_available) +
                                  " of e-CNY float, " + Fen(amount) +
                                  " requested; request issuance from the central bank");
      }
      row.debit_account = float_account;
      row.credit_account = w->account;
      float_available -= amount;
      w->balance += amount;
      w->available += amount;
      return Status::Ok();
    }
    if (row.kind == kKindExchangeOut || row.kind == kKindPurseFund) {
      TS_ASSIGN_OR_RETURN(WalletState * w, WalletOf("wallet_id", row.debit_wallet));
      if (w->available < amount) {
        return FailedPrecondition("balance: " + Fen(w->available) + " available, " + Fen(amount) +
                                  " requested");
      }
      PurseState* purse = nullptr;
      if (row.kind == kKindPurseFund) {
        const auto it = purses.find(row.device_id);
        if (it == purses.end()) return Internal("purse of " + row.device_id + " missing");
        purse = &it->second;
      }
      row.debit_account = w->account;
      row.credit_account = purse != nullptr ? purse->account : float_account;
      w->balance -= amount;
      w->available -= amount;
      if (purse != nullptr) {
        purse->balance += amount;
      } else {
        float_available += amount;
      }
      return Status::Ok();
    }
    if (row.kind == kKindPurseDefund || row.kind == kKindPurseUnload) {
      TS_ASSIGN_OR_RETURN(WalletState * w, WalletOf("wallet_id", row.credit_wallet));
      const auto it = purses.find(row.device_id);
      if (it == purses.end()) {
        return NotFound("device_id: no offline purse for device " + row.device_id);
      }
      if (row.kind == kKindPurseDefund && it->second.hardware) {
        // The purse backs value the device holds offline: taking it back online while the
        // device can still spend it would spend it twice.
        return FailedPrecondition("device_id: " + row.device_id +
                                  " is a hardware wallet; its value comes back only through a "
                                  "signed unload (RequestUnload)");
      }
      if (it->second.wallet_id != row.credit_wallet) {
        return FailedPrecondition("device_id: the offline purse of " + row.device_id +
                                  " belongs to another wallet");
      }
      if (it->second.available() < amount) {
        return FailedPrecondition("purse: " + Fen(it->second.available()) +
                                  " available in the offline purse, " + Fen(amount) +
                                  " requested");
      }
      row.debit_account = it->second.account;
      row.credit_account = w->account;
      it->second.balance -= amount;
      w->balance += amount;
      w->available += amount;
      return Status::Ok();
    }
    if (row.kind == kKindPurseMove || row.kind == kKindOfflineLossCover) {
      // device_id: the payer's purse (a move) ; the payee's purse is named by credit_account.
      PurseState* payee = PurseByAccount(row.credit_account);
      if (payee == nullptr) return NotFound("payee_device_id: no offline purse");
      if (row.kind == kKindPurseMove) {
        TS_ASSIGN_OR_RETURN(PurseState* const payer, PayerPurse(row.device_id, amount));
        row.debit_account = payer->account;
        payer->balance -= amount;
      } else {
        TS_RETURN_IF_ERROR(FloatCovers(amount));
        row.debit_account = float_account;
        float_available -= amount;
      }
      payee->balance += amount;
      return Status::Ok();
    }
    if (row.kind == kKindPurseMoveOut) {
      // A hold payer purse → central_bank_position until the payee's operator has credited.
      TS_ASSIGN_OR_RETURN(PurseState* const payer, PayerPurse(row.device_id, amount));
      row.debit_account = payer->account;
      row.credit_account = cbp;
      payer->held += amount;
      return Status::Ok();
    }
    if (row.kind == kKindOfflineLossCoverOut) {
      TS_RETURN_IF_ERROR(FloatCovers(amount));
      row.debit_account = float_account;
      row.credit_account = cbp;
      float_available -= amount;
      return Status::Ok();
    }
    if (IsOfflineIncoming(row.kind)) {
      // device_id: the payee's device, which must have a purse here (RegisterDevice at
      // certification); an unknown device is the payee operator's definite refusal.
      const auto it = purses.find(row.device_id);
      if (it == purses.end()) {
        return NotFound("payee_device: no offline purse for device " + row.device_id +
                        " at operator " + id);
      }
      row.credit_wallet = it->second.wallet_id;
      row.debit_account = cbp;
      row.credit_account = it->second.account;
      it->second.balance += amount;
      return Status::Ok();
    }
    if (row.kind == kKindIssue) {
      row.debit_account = cbp;
      row.credit_account = float_account;
      return Status::Ok();
    }
    if (row.kind == kKindContractLock) {
      // A lock spends like a payment: the payer's per-payment and daily limits apply. The escrow
      // (credit side) was set by Move.
      TS_ASSIGN_OR_RETURN(WalletState * payer, WalletOf("payer_wallet", row.debit_wallet));
      TS_RETURN_IF_ERROR(PayerChecks(*payer, amount));
      row.debit_account = payer->account;
      payer->balance -= amount;
      payer->available -= amount;
      SpentToday(*payer) += amount;
      return Status::Ok();
    }
    if (row.kind == kKindContractRelease || row.kind == kKindContractRefund) {
      // The escrow (debit side) was set by Move; the ledger refuses to overdraw it. A refund
      // returns the payer's own value and is not held to the balance cap (an expiry refund must
      // never be stuck).
      TS_ASSIGN_OR_RETURN(WalletState * w, WalletOf("wallet_id", row.credit_wallet));
      if (row.kind == kKindContractRelease) TS_RETURN_IF_ERROR(CapCheck(*w, amount, false));
      row.credit_account = w->account;
      w->balance += amount;
      w->available += amount;
      return Status::Ok();
    }
    if (row.kind == kKindRedeem) {
      if (float_available < amount) {
        return FailedPrecondition("float: " + Fen(float_available) + " available, " +
                                  Fen(amount) + " requested");
      }
      row.debit_account = float_account;
      row.credit_account = cbp;
      float_available -= amount;
      return Status::Ok();
    }
    return Internal("unknown entry kind " + row.kind);
  }

  PurseState* PurseByAccount(Id128 account) {
    for (auto& [device, purse] : purses) {
      if (purse.account == account) return &purse;
    }
    return nullptr;
  }

  // Creates `device_id`'s purse for `wallet_id` unless it exists; kAlreadyExists when it belongs
  // to another wallet. Requires mu.
  Status EnsurePurseLocked(std::string_view wallet_id, std::string_view device_id, bool hardware) {
    TS_RETURN_IF_ERROR(WalletOf("wallet_id", std::string(wallet_id)).status());
    if (device_id.starts_with(kUnloadPayeePrefix)) {
      return InvalidArgument("device_id: ids starting with \"" + std::string(kUnloadPayeePrefix) +
                             "\" are reserved for operators");
    }
    const auto it = purses.find(std::string(device_id));
    if (it != purses.end()) {
      if (it->second.wallet_id != wallet_id) {
        return AlreadyExists("device_id: the offline purse of " + std::string(device_id) +
                             " belongs to another wallet");
      }
      if (hardware && !it->second.hardware) {
        TS_RETURN_IF_ERROR(store
                               ->Execute("UPDATE dcep_purses SET hardware = 1 WHERE device_id = ?",
                                         {std::string(device_id)})
                               .status());
        it->second.hardware = true;
      }
      return Status::Ok();
    }
    PurseState purse;
    purse.wallet_id = std::string(wallet_id);
    purse.hardware = hardware;
    TS_ASSIGN_OR_RETURN(purse.account, ids->Derive("purse_account", device_id));
    ledger::Account a;
    a.id = purse.account;
    a.ledger = kEcnyLedgerId;
    a.code = account_code::kOfflinePurse;
    a.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    TS_ASSIGN_OR_RETURN(const auto r, ledger->CreateAccounts(std::span(&a, 1)));
    if (r[0] != ledger::CreateAccountResult::kOk && r[0] != ledger::CreateAccountResult::kExists) {
      return Internal("purse account: " + std::string(ledger::CreateAccountResultName(r[0])));
    }
    TS_RETURN_IF_ERROR(store
                           ->Execute("INSERT INTO dcep_purses (device_id, wallet_id, account_id, "
                                     "created_unix_ms, hardware) VALUES (?, ?, ?, ?, ?)",
                                     {std::string(device_id), std::string(wallet_id),
                                      IdToBytes(purse.account), Now(),
                                      std::int64_t{hardware ? 1 : 0}})
                           .status());
    purses.emplace(std::string(device_id), purse);
    return Status::Ok();
  }

  // Undoes CheckAndApply's effects (a store commit or ledger transfer that did not happen).
  void Revert(const Row& row) {
    const std::int64_t amount = row.amount_fen;
    auto wallet = [&](const std::string& wid) -> WalletState* {
      auto it = wallets.find(wid);
      return it == wallets.end() ? nullptr : &it->second;
    };
    if (row.kind == kKindPayment || row.kind == kKindInterbankOut) {
      if (WalletState* payer = wallet(row.debit_wallet)) {
        payer->available += amount;
        if (payer->day == row.day) payer->spent -= amount;
        if (row.kind == kKindPayment) payer->balance += amount;
      }
      if (row.kind == kKindPayment) {
        if (WalletState* payee = wallet(row.credit_wallet)) {
          payee->balance -= amount;
          payee->available -= amount;
        }
      }
    } else if (row.kind == kKindInterbankIn || row.kind == kKindExchangeIn ||
               row.kind == kKindPurseDefund || row.kind == kKindPurseUnload) {
      if (WalletState* w = wallet(row.credit_wallet)) {
        w->balance -= amount;
        w->available -= amount;
      }
      if (row.kind == kKindExchangeIn) float_available += amount;
      if (row.kind == kKindPurseDefund || row.kind == kKindPurseUnload) {
        purses[row.device_id].balance += amount;
      }
    } else if (row.kind == kKindExchangeOut || row.kind == kKindPurseFund) {
      if (WalletState* w = wallet(row.debit_wallet)) {
        w->balance += amount;
        w->available += amount;
      }
      if (row.kind == kKindExchangeOut) float_available -= amount;
      if (row.kind == kKindPurseFund) purses[row.device_id].balance -= amount;
    } else if (row.kind == kKindPurseMove || row.kind == kKindOfflineLossCover) {
      if (PurseState* payee = PurseByAccount(row.credit_account)) payee->balance -= amount;
      if (row.kind == kKindPurseMove) {
        purses[row.device_id].balance += amount;
      } else {
        float_available += amount;
      }
    } else if (row.kind == kKindRedeem || row.kind == kKindOfflineLossCoverOut) {
      float_available += amount;
    } else if (row.kind == kKindPurseMoveOut) {
      if (auto it = purses.find(row.device_id); it != purses.end()) it->second.held -= amount;
    } else if (IsOfflineIncoming(row.kind)) {
      if (auto it = purses.find(row.device_id); it != purses.end()) it->second.balance -= amount;
    } else if (row.kind == kKindContractLock) {
      if (WalletState* payer = wallet(row.debit_wallet)) {
        payer->balance += amount;
        payer->available += amount;
        if (payer->day == row.day) payer->spent -= amount;
      }
    } else if (row.kind == kKindContractRelease || row.kind == kKindContractRefund) {
      if (WalletState* w = wallet(row.credit_wallet)) {
        w->balance -= amount;
        w->available -= amount;
      }
    }
  }

  // The entry that paid (posted or in flight) the merchant's order, if any.
  Result<std::optional<Row>> PaidOrder(const std::string& merchant_id, const std::string& order_id) {
    TS_ASSIGN_OR_RETURN(const store::Rows rows,
                        store->Query("SELECT entry_id FROM dcep_merchant_orders "
                                     "WHERE merchant_id = ? AND order_id = ?",
                                     {merchant_id, order_id}));
    if (rows.empty()) return std::optional<Row>();
    TS_ASSIGN_OR_RETURN(const Bytes entry_bytes, rows[0].GetBlob(0));
    TS_ASSIGN_OR_RETURN(const Id128 entry_id, IdFromBytes(entry_bytes));
    TS_ASSIGN_OR_RETURN(std::optional<Row> row, LookupRow(entry_id));
    if (row && (row->status == kPosted || row->status == kInFlight)) return row;
    return std::optional<Row>();
  }

  Result<std::optional<Row>> LookupRow(Id128 entry_id) {
    const auto it = journal_ids.find(entry_id);
    if (it == journal_ids.end()) return std::optional<Row>();
    return RowAt(it->second);
  }

  // The journal row at `seq`; nullopt when there is none.
  Result<std::optional<Row>> RowAt(std::int64_t seq) {
    static const std::string sql =
        "SELECT " + std::string(kRowColumns) + " FROM dcep_entries WHERE seq = ?";
    TS_ASSIGN_OR_RETURN(const store::Rows rows, store->Query(sql, {seq}));
    if (rows.empty()) return std::optional<Row>();
    TS_ASSIGN_OR_RETURN(Row row, RowFrom(rows[0]));
    return std::optional<Row>(std::move(row));
  }

  // Links `row` into its wallets' history chains (sets its *_prev_seq, moves the heads) and
  // records the old heads in `undo` so that a failed commit can put them back (UnlinkWallets).
  void LinkWallets(Row& row, std::vector<std::pair<std::string, std::int64_t>>& undo) {
    auto link = [&](const std::string& wallet) -> std::int64_t {
      if (wallet.empty()) return 0;
      std::int64_t& head = wallet_heads[wallet];
      if (head == row.seq) return undo.back().second;  // debit and credit are one wallet
      undo.emplace_back(wallet, head);
      return std::exchange(head, row.seq);
    };
    row.debit_prev_seq = link(row.debit_wallet);
    row.credit_prev_seq = link(row.credit_wallet);
  }

  void UnlinkWallets(std::vector<std::pair<std::string, std::int64_t>>& undo) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) wallet_heads[it->first] = it->second;
    undo.clear();
  }

  Status InsertRow(const Row& row) {
    static const std::string sql = "INSERT INTO dcep_entries (" + std::string(kRowColumns) +
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                   "?, ?, ?, ?)";
    const std::array<store::Value, 24> params = {
        IdToBytes(row.id),         row.seq,
        row.kind,                  IdToBytes(row.digest),
        OptText(row.debit_wallet), OptText(row.credit_wallet),
        OptText(row.device_id),    OptText(row.counter_operator),
        OptText(row.counter_wallet), OptText(row.merchant_id),
        row.amount_fen,            row.day,
        row.status,                OptText(row.step),
        OptText(row.error_code),   OptText(row.reason),
        IdToBytes(row.debit_account), IdToBytes(row.credit_account),
        row.created_unix_ms,       OptText(row.contract_id),
        OptText(row.counter_device), OptText(row.merchant_order_id),
        row.debit_prev_seq,        row.credit_prev_seq};
    return store->Execute(sql, params).status();
  }

  // (merchant, order) → this entry; replaces an entry that was refused or failed.
  Status RegisterOrder(const Row& row) {
    return store
        ->Execute("INSERT INTO dcep_merchant_orders (merchant_id, order_id, entry_id) "
                  "VALUES (?, ?, ?) ON CONFLICT (merchant_id, order_id) "
                  "DO UPDATE SET entry_id = excluded.entry_id",
                  {row.merchant_id, row.merchant_order_id, IdToBytes(row.id)})
        .status();
  }

  Status UpdateRow(const Row& row) {
    return store
        ->Execute(
            "UPDATE dcep_entries SET status = ?, step = ?, error_code = ?, reason = ? "
            "WHERE seq = ?",
            {row.status, OptText(row.step), OptText(row.error_code), OptText(row.reason),
             row.seq})
        .status();
  }

  // A ledger transfer that must end ok or exists; otherwise the operator is broken (in-memory
  // and disk may disagree): later calls fail until reopened. Returns whether it was created now;
  // false when it existed: an earlier incarnation created it and crashed (or its store failed)
  // before its journal row said so, and Recover read its effect into the balances already.
  Result<bool> CreateTransfer(const ledger::Transfer& transfer, std::string_view what) {
    Result<std::vector<CreateTransferResult>> results =
        ledger->CreateTransfers(std::span<const ledger::Transfer>(&transfer, 1));
    if (!results.ok()) {
      broken = results.status();
      return broken;
    }
    if (!IsOkOrExists((*results)[0])) {
      return Internal(std::string(what) + ": ledger refused " + transfer.id.ToHex() + ": " +
                      std::string(ledger::CreateTransferResultName((*results)[0])));
    }
    return (*results)[0] == CreateTransferResult::kOk;
  }

  Result<ledger::Transfer> Resolution(const Row& row, bool post) {
    ledger::Transfer t;
    TS_ASSIGN_OR_RETURN(t.id, ids->Derive(post ? "post" : "void", row.id.ToHex()));
    t.pending_id = row.id;
    t.debit_account_id = row.debit_account;
    t.credit_account_id = row.credit_account;
    t.amount = static_cast<std::uint64_t>(row.amount_fen);
    t.ledger = kEcnyLedgerId;
    t.code = TransferCode(row.kind);
    t.flags = post ? ledger::transfer_flags::kPostPendingTransfer
                   : ledger::transfer_flags::kVoidPendingTransfer;
    return t;
  }

  // Accepts candidates (mu held): replays answer their first outcome; new rows are checked,
  // applied, journaled in one store transaction, then created in one ledger batch. `drive`
  // receives the indexes of in-flight outbox rows to drive after mu is released.
  Status AcceptLocked(std::vector<Candidate>& cands, std::vector<Result<Entry>>& out,
                      std::vector<Row>& drive) {
    if (!broken.ok()) return broken;
    std::vector<std::size_t> fresh;
    std::unordered_map<std::string, std::size_t> in_batch;
    std::unordered_set<std::string> orders_in_batch;  // "merchant|order" accepted in this batch
    const std::int64_t now = Now();
    const std::int64_t today = ChinaStandardDay(now);
    for (std::size_t i = 0; i < cands.size(); ++i) {
      Candidate& c = cands[i];
      if (!c.invalid.ok()) {
        out[i] = c.invalid;
        continue;
      }
      const std::string key = c.row.id.ToHex();
      if (auto it = in_batch.find(key); it != in_batch.end()) {
        c.duplicate_in_batch = true;
        c.first_index = it->second;
        continue;
      }
      in_batch.emplace(key, i);
      std::optional<Row> existing;
      if (journal_ids.contains(c.row.id)) {
        TS_ASSIGN_OR_RETURN(existing, LookupRow(c.row.id));
      }
      if (existing) {
        c.replay = true;
        if (existing->digest != c.row.digest) {
          out[i] = AlreadyExists(std::string(kKeyReusedMessage));
        } else if (existing->status == kRefused || existing->status == kFailed) {
          out[i] = RowError(*existing);
        } else {
          if (existing->status == kInFlight) drive.push_back(*existing);
          out[i] = ToEntry(*existing, true);
        }
        continue;
      }
      Row& row = c.row;
      const std::string order = row.merchant_id + "|" + row.merchant_order_id;
      if (RegistersOrder(row)) {
        TS_ASSIGN_OR_RETURN(std::optional<Row> paid,
                            PaidOrder(row.merchant_id, row.merchant_order_id));
        if (paid && paid->kind == row.kind && row.kind != kKindInterbankIn &&
            paid->debit_wallet == row.debit_wallet && paid->amount_fen == row.amount_fen) {
          c.replay = true;  // the same payer scanning the same order again: its first payment
          out[i] = ToEntry(*paid, true);
          continue;
        }
        if (paid || orders_in_batch.contains(order)) {
          out[i] = AlreadyExists("merchant_order_id: order " + row.merchant_order_id +
                                 " of merchant " + row.merchant_id + " is already paid");
          continue;
        }
      }
      row.seq = next_seq++;
      row.day = today;
      row.created_unix_ms = now;
      const Status check = CheckAndApply(row);
      if (!check.ok() && IsRedrivenUntilSettled(row.kind)) {
        // Offline settlement re-drives these under the same key until they can move: a short
        // purse or float is a state of now, not an answer to remember. Nothing is journalled.
        --next_seq;
        out[i] = check;
        continue;
      }
      if (!check.ok()) {
        row.status = std::string(kRefused);
        row.error_code = std::string(ErrorCodeName(check.code()));
        row.reason = check.message();
        out[i] = check;
      } else {
        row.status = std::string(IsOutbox(row.kind) ? kInFlight : kPosted);
        if (IsOutbox(row.kind)) row.step = std::string(kStepAccepted);
        if (RegistersOrder(row)) orders_in_batch.insert(order);
        out[i] = ToEntry(row, false);
      }
      fresh.push_back(i);
    }
    auto revert_all = [&] {
      for (std::size_t i : fresh) {
        if (cands[i].row.status != kRefused) Revert(cands[i].row);
      }
    };
    if (!fresh.empty()) {
      std::vector<std::pair<std::string, std::int64_t>> heads_undo;
      const Status stored = store->RunInTransaction(
          [&](store::Store&) -> Status {
            for (std::size_t i : fresh) {
              LinkWallets(cands[i].row, heads_undo);
              TS_RETURN_IF_ERROR(InsertRow(cands[i].row));
              if (RegistersOrder(cands[i].row) && cands[i].row.status != kRefused) {
                TS_RETURN_IF_ERROR(RegisterOrder(cands[i].row));
              }
              if (cands[i].also) TS_RETURN_IF_ERROR(cands[i].also(*store, out[i].status()));
            }
            return Status::Ok();
          },
          SingleAttempt());
      if (!stored.ok()) {
        revert_all();
        UnlinkWallets(heads_undo);
        // A failed commit may still reach the disk (a failed fsync): the journal may hold rows
        // the in-memory state just dropped. Reopening (Recover) settles which.
        if (stored.code() == ErrorCode::kIoError) broken = stored;
        return stored;
      }
      for (std::size_t i : fresh) journal_ids.emplace(cands[i].row.id, cands[i].row.seq);
      std::vector<ledger::Transfer> transfers;
      std::vector<std::size_t> owners;
      for (std::size_t i : fresh) {
        const Row& row = cands[i].row;
        if (row.status == kRefused || row.kind == kKindIssue) continue;
        transfers.push_back(TransferOf(row));
        owners.push_back(i);
      }
      if (!transfers.empty()) {
        Result<std::vector<CreateTransferResult>> results = ledger->CreateTransfers(transfers);
        if (!results.ok()) {
          // Outcome unknown: the journal says accepted; reopening re-submits the batch.
          broken = results.status();
          return broken;
        }
        for (std::size_t k = 0; k < owners.size(); ++k) {
          if (IsOkOrExists((*results)[k])) continue;
          // The second path disagreed with the in-memory check: the row fails, nothing moved.
          Row& row = cands[owners[k]].row;
          Revert(row);
          row.status = std::string(kFailed);
          row.step.clear();
          row.error_code = std::string(ErrorCodeName(ErrorCode::kInternal));
          row.reason = "ledger refused: " +
                       std::string(ledger::CreateTransferResultName((*results)[k]));
          TS_RETURN_IF_ERROR(UpdateRow(row));
          if (cands[owners[k]].after_failure) {
            TS_RETURN_IF_ERROR(cands[owners[k]].after_failure(*store));
          }
          out[owners[k]] = Internal(row.reason);
        }
      }
      for (std::size_t i : fresh) {
        if (cands[i].row.status == kInFlight) drive.push_back(cands[i].row);
      }
    }
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (!cands[i].duplicate_in_batch) continue;
      const Result<Entry>& first = out[cands[i].first_index];
      if (cands[i].row.digest != cands[cands[i].first_index].row.digest) {
        out[i] = AlreadyExists(std::string(kKeyReusedMessage));
      } else if (first.ok()) {
        Entry e = *first;
        e.replayed = true;
        out[i] = e;
      } else {
        out[i] = first.status();
      }
    }
    return Status::Ok();
  }

  // AcceptLocked under mu, then drives (mu not held) what it left in flight: the inter-operator
  // steps. One Result per candidate; the call fails only when the journal cannot be written.
  Result<std::vector<Result<Entry>>> AcceptAll(std::vector<Candidate>& cands) {
    std::vector<Result<Entry>> out(cands.size(), Internal("not run"));
    std::vector<Row> drive;
    {
      std::lock_guard lock(mu);
      TS_RETURN_IF_ERROR(AcceptLocked(cands, out, drive));
    }
    for (Row& row : drive) {
      for (std::size_t i = 0; i < cands.size(); ++i) {
        if (cands[i].row.id == row.id && !cands[i].duplicate_in_batch) {
          out[i] = Drive(row);
          break;
        }
      }
    }
    return out;
  }

  // The journal row of one purse move (MovePurseValues), or why it is refused.
  Result<Row> PurseMoveRow(const PurseMove& move) {
    TS_RETURN_IF_ERROR(CheckDeviceId("payer_device_id", move.payer_device_id));
    TS_RETURN_IF_ERROR(CheckDeviceId("payee_device_id", move.payee_device_id));
    TS_RETURN_IF_ERROR(CheckAmount(move.amount_fen));
    TS_RETURN_IF_ERROR(CheckKey(move.idempotency_key));
    const bool across = move.payee_operator_id != id;
    if (across) TS_RETURN_IF_ERROR(CheckPeerOperator(move.payee_operator_id));
    Row row;
    row.kind = std::string(across ? kKindPurseMoveOut : kKindPurseMove);
    row.device_id = move.payer_device_id;
    row.amount_fen = move.amount_fen;
    {
      std::lock_guard lock(mu);
      const auto payer = purses.find(move.payer_device_id);
      if (payer == purses.end()) {
        return NotFound("payer_device_id: no offline purse for device " + move.payer_device_id);
      }
      row.debit_wallet = payer->second.wallet_id;
      if (across) {
        // The payee device's purse is kept by its operator; the row names the device there.
        row.counter_operator = move.payee_operator_id;
        row.counter_device = move.payee_device_id;
      } else {
        const auto payee = purses.find(move.payee_device_id);
        if (payee == purses.end()) {
          return NotFound("payee_device_id: no offline purse for device " + move.payee_device_id);
        }
        row.credit_wallet = payee->second.wallet_id;
        row.credit_account = payee->second.account;
      }
    }
    // One id for both paths: a key first used for one payee operator cannot move value to another
    // (the digests differ: kAlreadyExists).
    TS_ASSIGN_OR_RETURN(row.id,
                        ids->Derive(kKindPurseMove, move.payer_device_id, move.idempotency_key));
    std::string request = row.kind + "|" + move.payer_device_id + "|" + move.payee_device_id + "|";
    if (across) request += move.payee_operator_id + "|";
    TS_ASSIGN_OR_RETURN(row.digest, RequestDigest(request + std::to_string(move.amount_fen)));
    return row;
  }

  // The journal row of one payment order (PayBatch, FindPayment), or why it is refused.
  Result<Row> PaymentRow(const PaymentOrder& o) {
    TS_RETURN_IF_ERROR(CheckWalletId("payer_wallet", o.payer_wallet));
    TS_RETURN_IF_ERROR(CheckAmount(o.amount_fen));
    TS_RETURN_IF_ERROR(CheckKey(o.idempotency_key));
    Row row;
    std::string payee_operator = o.payee_operator.empty() ? id : o.payee_operator;
    std::string payee_wallet = o.payee_wallet;
    if (!o.merchant_id.empty()) {
      if (!o.payee_wallet.empty() || !o.payee_operator.empty()) {
        return InvalidArgument("merchant_id: give either a merchant or a payee wallet");
      }
      Result<const MerchantInfo*> merchant = config->Merchant(o.merchant_id);
      if (!merchant.ok()) return merchant.status().WithContext("merchant_id");
      payee_operator = (*merchant)->operator_id;
      payee_wallet = MerchantWalletId(payee_operator, o.merchant_id);
      row.merchant_id = o.merchant_id;
      if (!o.merchant_order_id.empty()) {
        TS_RETURN_IF_ERROR(CheckMerchantOrderId(o.merchant_order_id));
        row.merchant_order_id = o.merchant_order_id;
      }
    } else {
      if (!o.merchant_order_id.empty()) {
        return InvalidArgument("merchant_order_id: only with a merchant_id");
      }
      TS_RETURN_IF_ERROR(CheckWalletId("payee_wallet", payee_wallet));
      TS_RETURN_IF_ERROR(config->Operator(payee_operator).status().WithContext("payee_operator"));
    }
    if (payee_operator == id && payee_wallet == o.payer_wallet) {
      return InvalidArgument("payee_wallet: expected a wallet other than the payer's");
    }
    if (payee_operator != id && peers == nullptr) {
      return FailedPrecondition("payee_operator: inter-operator payments are not configured");
    }
    row.debit_wallet = o.payer_wallet;
    if (payee_operator == id) {
      row.kind = std::string(kKindPayment);
      row.credit_wallet = payee_wallet;
    } else {
      row.kind = std::string(kKindInterbankOut);
      row.counter_operator = payee_operator;
      row.counter_wallet = payee_wallet;
    }
    row.amount_fen = o.amount_fen;
    TS_ASSIGN_OR_RETURN(row.id, ids->Derive("pay", o.payer_wallet, o.idempotency_key));
    TS_ASSIGN_OR_RETURN(row.digest,
                        RequestDigest("pay|" + o.payer_wallet + "|" + payee_operator + "|" +
                                      payee_wallet + "|" + o.merchant_id + "|" +
                                      OrderPart(o.merchant_order_id) +
                                      std::to_string(o.amount_fen)));
    return row;
  }

  // In the config and reachable through peers (a payee operator other than this one).
  Status CheckPeerOperator(std::string_view payee_operator_id) {
    TS_RETURN_IF_ERROR(config->Operator(payee_operator_id).status().WithContext("payee_operator"));
    if (peers == nullptr) {
      return FailedPrecondition("payee_operator: inter-operator payments are not configured");
    }
    return Status::Ok();
  }

  Result<Entry> AcceptOne(Row row) {
    std::vector<Candidate> cands(1);
    cands[0].row = std::move(row);
    TS_ASSIGN_OR_RETURN(std::vector<Result<Entry>> out, AcceptAll(cands));
    return std::move(out[0]);
  }

  // Finishes an outbox row (mu held): resolves its hold, updates memory and the journal.
  Status FinishLocked(Row& row, bool success, const Status& failure) {
    // Whether the in-memory balances still lack the resolution's effect: not when the ledger
    // already had the transfer (the simulator's failing disk found the purse debited twice: the
    // post reached the ledger, the journal update did not, and the row was driven again).
    bool apply = true;
    if (IsHeldOutbox(row.kind)) {
      TS_ASSIGN_OR_RETURN(const ledger::Transfer t, Resolution(row, success));
      TS_ASSIGN_OR_RETURN(apply, CreateTransfer(t, success ? "post" : "void"));
    } else if (row.kind == kKindIssue && success) {
      TS_ASSIGN_OR_RETURN(apply, CreateTransfer(TransferOf(row), "issue received"));
    }
    if (success && apply) {
      if (row.kind == kKindInterbankOut) {
        if (auto it = wallets.find(row.debit_wallet); it != wallets.end()) {
          it->second.balance -= row.amount_fen;
        }
      } else if (row.kind == kKindPurseMoveOut) {
        if (auto it = purses.find(row.device_id); it != purses.end()) {
          it->second.balance -= row.amount_fen;
          it->second.held -= row.amount_fen;
        }
      } else if (row.kind == kKindIssue) {
        float_available += row.amount_fen;
      }
    }
    if (success) {
      row.status = std::string(kPosted);
    } else {
      if (IsHeldOutbox(row.kind) && apply) Revert(row);
      row.status = std::string(kFailed);
      row.error_code = std::string(ErrorCodeName(failure.code()));
      row.reason = failure.message();
    }
    row.step.clear();
    // The ledger and the in-memory balances have moved; a journal that did not follow makes the
    // operator broken until reopened, so the row is not driven (and applied) again meanwhile.
    if (Status updated = UpdateRow(row); !updated.ok()) {
      broken = updated;
      return broken;
    }
    return Status::Ok();
  }

  Result<Entry> Finish(Row& row, bool success, const Status& failure) {
    std::lock_guard lock(mu);
    TS_RETURN_IF_ERROR(FinishLocked(row, success, failure));
    if (!success) return failure;
    return ToEntry(row, false);
  }

  // Drives an in-flight outbox row as far as it goes (mu NOT held).
  Result<Entry> Drive(Row row) {
    {
      std::lock_guard lock(mu);
      if (!broken.ok()) return broken;
      if (!driving.insert(row.id.ToHex()).second) {
        return Unavailable("payment " + row.id.ToHex() + " is being completed; retry");
      }
    }
    Result<Entry> result = DriveSteps(row);
    std::lock_guard lock(mu);
    driving.erase(row.id.ToHex());
    return result;
  }

  Result<Entry> DriveSteps(Row& row) {
    const std::string key = row.id.ToHex();
    if (row.kind == kKindIssue || row.kind == kKindRedeem) {
      const IssueRequest request{id, row.amount_fen, key};
      Result<Movement> moved = row.kind == kKindIssue ? central_bank->Issue(request)
                                                      : central_bank->Redeem(request);
      if (!moved.ok() && IsTransient(moved.status())) {
        return Unavailable("central bank: " + moved.status().message() +
                           " (in flight; retry or RecoverInterbank)");
      }
      return Finish(row, moved.ok(), moved.status());
    }
    // interbank_out, purse_move_out, offline_loss_cover_out
    const SettleRequest settle{id, row.counter_operator, row.amount_fen, key};
    if (row.step == kStepAccepted) {
      Result<Movement> settled = central_bank->Settle(settle);
      if (!settled.ok()) {
        if (IsTransient(settled.status())) {
          return Unavailable("central bank: " + settled.status().message() +
                             " (in flight; retry or RecoverInterbank)");
        }
        return Finish(row, false, settled.status());
      }
      IncomingCredit credit;
      credit.from_operator = id;
      credit.to_operator = row.counter_operator;
      credit.payment_id = key;
      credit.amount_fen = row.amount_fen;
      if (IsOfflineOutbox(row.kind)) {
        credit.payee_device = row.counter_device;
        if (row.kind == kKindPurseMoveOut) credit.payer_device = row.device_id;
      } else {
        credit.payer_wallet = row.debit_wallet;
        credit.payee_wallet = row.counter_wallet;
        credit.merchant_id = row.merchant_id;
        credit.merchant_order_id = row.merchant_order_id;
      }
      Result<CreditResult> credited =
          peers != nullptr ? peers->CreditIncoming(credit)
                           : Result<CreditResult>(Unavailable("no interbank peers"));
      if (credited.ok()) return Finish(row, true, Status::Ok());
      if (IsTransient(credited.status())) {
        return Unavailable("payee operator " + row.counter_operator + ": " +
                           credited.status().message() + " (in flight; retry or RecoverInterbank)");
      }
      std::lock_guard lock(mu);
      row.step = std::string(kStepReversing);
      row.error_code = std::string(ErrorCodeName(credited.status().code()));
      row.reason = credited.status().message();
      if (IsOfflineOutbox(row.kind)) {
        // Offline settlement keeps the payee operator's code (kNotFound: unknown device) to tell
        // a definite refusal from "retry later"; the message says who refused.
        row.reason = "payee operator " + row.counter_operator + " refused: " + row.reason;
      }
      TS_RETURN_IF_ERROR(UpdateRow(row));
    }
    Result<Movement> reversed = central_bank->ReverseSettlement(settle);
    if (!reversed.ok()) {
      return Unavailable("central bank reversal: " + reversed.status().message() +
                         " (in flight; retry or RecoverInterbank)");
    }
    return Finish(row, false, RowError(row));
  }

  Status Recover();
  Status LoadJournalIds();

  // ---- ContractHost: what the contract book (conditional payments) needs ----
  std::unique_ptr<ContractBook> contracts;

  Status Run(const std::function<Status()>& fn) override {
    std::lock_guard lock(mu);
    if (!broken.ok()) return broken;
    return fn();
  }
  const std::string& OperatorId() const override { return id; }
  const DcepConfig& Config() const override { return *config; }
  store::Store& Store() override { return *store; }
  std::int64_t NowUnixMillis() const override { return Now(); }
  Result<Id128> DeriveId(std::string_view purpose, std::string_view part1,
                         std::string_view part2) const override {
    return ids->Derive(purpose, part1, part2);
  }
  bool IsWallet(std::string_view wallet_id) const override {
    return wallets.count(std::string(wallet_id)) != 0;
  }

  Result<Id128> OpenEscrowAccount(std::string_view contract_id) override {
    ledger::Account a;
    TS_ASSIGN_OR_RETURN(a.id, ids->Derive("escrow_account", contract_id));
    a.ledger = kEcnyLedgerId;
    a.code = account_code::kEscrow;
    a.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    TS_ASSIGN_OR_RETURN(const auto r, ledger->CreateAccounts(std::span(&a, 1)));
    if (r[0] != ledger::CreateAccountResult::kOk && r[0] != ledger::CreateAccountResult::kExists) {
      return Internal("escrow account: " + std::string(ledger::CreateAccountResultName(r[0])));
    }
    return a.id;
  }

  Result<std::int64_t> EscrowBalance(Id128 account) override {
    TS_ASSIGN_OR_RETURN(const auto a, ledger->LookupAccount(account));
    if (!a) return Internal("escrow account " + account.ToHex() + " missing");
    return CreditBalance(*a);
  }

  Result<Entry> Move(const ContractMovement& m,
                     const std::function<Status(store::Store&, const Status&)>& also,
                     const std::function<Status(store::Store&)>& after_failure) override {
    std::vector<Candidate> cands(1);
    Row& row = cands[0].row;
    row.id = m.entry_id;
    row.digest = m.digest;
    row.contract_id = m.contract_id;
    row.merchant_id = m.merchant_id;
    row.amount_fen = m.amount_fen;
    switch (m.kind) {
      case ContractMovement::Kind::kLock:
        row.kind = std::string(kKindContractLock);
        row.debit_wallet = m.wallet_id;
        row.credit_account = m.escrow_account;
        break;
      case ContractMovement::Kind::kRelease:
      case ContractMovement::Kind::kRefund:
        row.kind = std::string(m.kind == ContractMovement::Kind::kRelease ? kKindContractRelease
                                                                         : kKindContractRefund);
        row.credit_wallet = m.wallet_id;
        row.debit_account = m.escrow_account;
        break;
    }
    cands[0].also = also;
    cands[0].after_failure = after_failure;
    std::vector<Result<Entry>> out(1, Internal("not run"));
    std::vector<Row> drive;  // stays empty: contract kinds are not outbox entries
    TS_RETURN_IF_ERROR(AcceptLocked(cands, out, drive));
    return out[0];
  }

  Result<Entry> LookupEntry(Id128 entry_id) override {
    TS_ASSIGN_OR_RETURN(const std::optional<Row> row, LookupRow(entry_id));
    if (!row) return NotFound("entry " + entry_id.ToHex() + " is not in the journal");
    return ToEntry(*row, false);
  }
};

Operator::Operator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { id_ = impl_->id; }

Operator::~Operator() { (void)Close(); }

Status Operator::Close() {
  if (!impl_) return Status::Ok();
  Status status;
  if (impl_->ledger) status = impl_->ledger->Close();
  if (impl_->store) {
    const Status closed = impl_->store->Close();
    if (status.ok()) status = closed;
  }
  return status;
}

Result<std::unique_ptr<Operator>> Operator::Open(OperatorOptions options) {
  TS_RETURN_IF_ERROR(CheckOperatorId("operator_id", options.operator_id));
  if (options.config == nullptr) return InvalidArgument("config: required");
  if (options.central_bank == nullptr) return InvalidArgument("central_bank: required");
  TS_RETURN_IF_ERROR(options.config->Operator(options.operator_id).status());
  auto impl = std::make_unique<Impl>();
  impl->id = options.operator_id;
  impl->config = options.config;
  impl->central_bank = options.central_bank;
  impl->peers = options.peers;
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  if (options.random == nullptr) {
    impl->owned_random = std::make_unique<crypto::Csprng>();
    impl->random = impl->owned_random.get();
  } else {
    impl->random = options.random;
  }
  const std::string role = "operator_" + options.operator_id;
  crypto::SecretBytes key =
      options.id_key.empty() ? DemoDcepIdKey(role) : std::move(options.id_key);
  TS_ASSIGN_OR_RETURN(IdDeriver ids, IdDeriver::Create(std::move(key)));
  impl->ids.emplace(std::move(ids));

  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = options.data_dir;
  ledger_options.name = role;
  ledger_options.clock = options.clock;
  ledger_options.log_preallocate_bytes = options.ledger_preallocate_bytes;
  ledger_options.open_file = options.open_ledger_file;
  TS_ASSIGN_OR_RETURN(impl->ledger, ledger::Ledger::Open(ledger_options));
  TS_ASSIGN_OR_RETURN(impl->store, OpenOperatorStore(options.operator_id, options.data_dir,
                                                     options.postgres_url));
  TS_ASSIGN_OR_RETURN(impl->cbp, impl->ids->Derive("account", "central_bank_position"));
  TS_ASSIGN_OR_RETURN(impl->float_account, impl->ids->Derive("account", "float"));
  std::array<ledger::Account, 2> fixed{};
  fixed[0].id = impl->cbp;
  fixed[0].ledger = kEcnyLedgerId;
  fixed[0].code = account_code::kCentralBankPosition;
  fixed[1].id = impl->float_account;
  fixed[1].ledger = kEcnyLedgerId;
  fixed[1].code = account_code::kFloat;
  fixed[1].flags = ledger::account_flags::kDebitsMustNotExceedCredits;
  TS_ASSIGN_OR_RETURN(const auto created, impl->ledger->CreateAccounts(fixed));
  for (auto r : created) {
    if (r != ledger::CreateAccountResult::kOk && r != ledger::CreateAccountResult::kExists) {
      return Internal("operator accounts: " + std::string(ledger::CreateAccountResultName(r)));
    }
  }
  std::unique_ptr<Operator> op(new Operator(std::move(impl)));
  TS_RETURN_IF_ERROR(op->impl_->Recover());
  // Merchants of this operator get their wallets (tier 1, no phone).
  for (const MerchantInfo& merchant : options.config->merchants) {
    if (merchant.operator_id != op->id_) continue;
    const std::string wallet_id = MerchantWalletId(op->id_, merchant.id);
    if (op->impl_->wallets.count(wallet_id) != 0) continue;
    TS_ASSIGN_OR_RETURN(const Id128 account, op->impl_->ids->Derive("wallet_account", wallet_id));
    ledger::Account a;
    a.id = account;
    a.ledger = kEcnyLedgerId;
    a.code = account_code::kWallet;
    a.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    TS_ASSIGN_OR_RETURN(const auto r, op->impl_->ledger->CreateAccounts(std::span(&a, 1)));
    if (r[0] != ledger::CreateAccountResult::kOk && r[0] != ledger::CreateAccountResult::kExists) {
      return Internal("merchant wallet: " + std::string(ledger::CreateAccountResultName(r[0])));
    }
    const std::int64_t now = op->impl_->Now();
    TS_RETURN_IF_ERROR(op->impl_->store
                           ->Execute("INSERT INTO dcep_wallets (wallet_id, tier, name, "
                                     "merchant_id, account_id, created_unix_ms, updated_unix_ms) "
                                     "VALUES (?, 1, ?, ?, ?, ?, ?)",
                                     {wallet_id, merchant.name, merchant.id, IdToBytes(account),
                                      now, now})
                           .status());
    Impl::WalletState state;
    state.account = account;
    state.tier = 1;
    state.merchant_id = merchant.id;
    op->impl_->wallets.emplace(wallet_id, state);
  }
  if (options.recover_at_open) TS_RETURN_IF_ERROR(op->RecoverInterbank().status());
  // Conditional payments: progress from the journal (repairs what recovery failed), then the
  // refunds that fell due while the operator was down.
  op->impl_->contracts = std::make_unique<ContractBook>(*op->impl_);
  TS_RETURN_IF_ERROR(op->impl_->contracts->Reconcile().status());
  TS_RETURN_IF_ERROR(op->impl_->contracts->ExpireContracts().status());
  return op;
}

Status Operator::Impl::LoadJournalIds() {
  journal_ids.clear();
  wallet_heads.clear();
  for (std::int64_t after = 0;;) {
    TS_ASSIGN_OR_RETURN(const store::Rows page,
                        store->Query("SELECT entry_id, seq, debit_wallet, credit_wallet FROM "
                                     "dcep_entries WHERE seq > ? ORDER BY seq LIMIT " +
                                         std::to_string(kJournalIdsPageRows),
                                     {after}));
    for (const store::Row& r : page) {
      TS_ASSIGN_OR_RETURN(const Bytes id_bytes, r.GetBlob(0));
      TS_ASSIGN_OR_RETURN(const Id128 entry_id, IdFromBytes(id_bytes));
      TS_ASSIGN_OR_RETURN(after, r.GetInt64(1));
      journal_ids.emplace(entry_id, after);
      for (int side = 2; side <= 3; ++side) {
        TS_ASSIGN_OR_RETURN(const std::optional<std::string> wallet, r.GetOptionalText(side));
        if (wallet) wallet_heads[*wallet] = after;
      }
    }
    if (page.size() < kJournalIdsPageRows) return Status::Ok();
  }
}

Status Operator::Impl::Recover() {
  // 1. The last batch of journal rows may lack its ledger transfers: re-submit them (ids are
  //    fixed, so those already there answer "exists").
  TS_ASSIGN_OR_RETURN(const store::Row max_row,
                      store->QueryRow("SELECT COALESCE(MAX(seq), 0) AS m FROM dcep_entries"));
  TS_ASSIGN_OR_RETURN(const std::int64_t max_seq, max_row.GetInt64(0));
  next_seq = max_seq + 1;
  TS_RETURN_IF_ERROR(LoadJournalIds());
  const std::int64_t from = max_seq - static_cast<std::int64_t>(kPayBatchMax);
  TS_ASSIGN_OR_RETURN(const store::Rows tail,
                      store->Query("SELECT " + std::string(kRowColumns) +
                                       " FROM dcep_entries WHERE seq > ? AND status IN "
                                       "('posted', 'in_flight') ORDER BY seq",
                                       {from}));
  std::vector<Row> rows;
  std::vector<ledger::Transfer> transfers;
  for (const store::Row& r : tail) {
    TS_ASSIGN_OR_RETURN(Row row, RowFrom(r));
    if (row.kind == kKindIssue) continue;  // created only once the central bank answered
    if (row.status == kPosted && IsHeldOutbox(row.kind)) continue;  // resolved before marked
    transfers.push_back(TransferOf(row));
    rows.push_back(std::move(row));
  }
  for (std::size_t start = 0; start < transfers.size(); start += ledger::kBatchEventsMax) {
    const std::size_t n = std::min(ledger::kBatchEventsMax, transfers.size() - start);
    TS_ASSIGN_OR_RETURN(const auto results,
                        ledger->CreateTransfers(std::span(transfers).subspan(start, n)));
    for (std::size_t k = 0; k < n; ++k) {
      if (IsOkOrExists(results[k])) continue;
      Row& row = rows[start + k];
      row.status = std::string(kFailed);
      row.step.clear();
      row.error_code = std::string(ErrorCodeName(ErrorCode::kInternal));
      row.reason = "ledger refused at recovery: " +
                   std::string(ledger::CreateTransferResultName(results[k]));
      TS_RETURN_IF_ERROR(UpdateRow(row));
    }
  }
  // 2. Balances from the ledger, today's spending from the journal.
  TS_ASSIGN_OR_RETURN(const store::Rows wallet_rows,
                      store->Query("SELECT wallet_id, tier, account_id, merchant_id FROM "
                                   "dcep_wallets"));
  for (const store::Row& r : wallet_rows) {
    WalletState state;
    TS_ASSIGN_OR_RETURN(const std::string wallet_id, r.GetText(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t tier, r.GetInt64(1));
    state.tier = static_cast<int>(tier);
    TS_ASSIGN_OR_RETURN(const Bytes account, r.GetBlob(2));
    TS_ASSIGN_OR_RETURN(state.account, IdFromBytes(account));
    TS_ASSIGN_OR_RETURN(const auto merchant, r.GetOptionalText(3));
    state.merchant_id = merchant.value_or("");
    TS_ASSIGN_OR_RETURN(const auto a, ledger->LookupAccount(state.account));
    if (!a) return Internal("wallet " + wallet_id + ": ledger account missing");
    state.balance = CreditBalance(*a);
    state.available = state.balance - static_cast<std::int64_t>(a->debits_pending);
    state.day = Today();
    wallets.emplace(wallet_id, state);
  }
  TS_ASSIGN_OR_RETURN(const store::Rows spent,
                      store->Query("SELECT debit_wallet, SUM(amount_fen) AS s FROM dcep_entries "
                                   "WHERE day = ? AND status IN ('posted', 'in_flight') AND kind "
                                   "IN ('payment', 'interbank_out', 'contract_lock') GROUP BY "
                                   "debit_wallet",
                                   {Today()}));
  for (const store::Row& r : spent) {
    TS_ASSIGN_OR_RETURN(const std::string wallet_id, r.GetText(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t sum, r.GetInt64(1));
    if (auto it = wallets.find(wallet_id); it != wallets.end()) it->second.spent = sum;
  }
  TS_ASSIGN_OR_RETURN(const store::Rows purse_rows,
                      store->Query("SELECT device_id, wallet_id, account_id, hardware FROM "
                                   "dcep_purses"));
  for (const store::Row& r : purse_rows) {
    PurseState state;
    TS_ASSIGN_OR_RETURN(const std::string device, r.GetText(0));
    TS_ASSIGN_OR_RETURN(state.wallet_id, r.GetText(1));
    TS_ASSIGN_OR_RETURN(const Bytes account, r.GetBlob(2));
    TS_ASSIGN_OR_RETURN(state.account, IdFromBytes(account));
    TS_ASSIGN_OR_RETURN(const std::int64_t hardware, r.GetInt64(3));
    state.hardware = hardware != 0;
    TS_ASSIGN_OR_RETURN(const auto a, ledger->LookupAccount(state.account));
    if (!a) return Internal("purse " + device + ": ledger account missing");
    state.balance = CreditBalance(*a);
    state.held = static_cast<std::int64_t>(a->debits_pending);
    purses.emplace(device, state);
  }
  TS_ASSIGN_OR_RETURN(const auto f, ledger->LookupAccount(float_account));
  if (!f) return Internal("float account missing");
  float_available = CreditBalance(*f) - static_cast<std::int64_t>(f->debits_pending);
  return Status::Ok();
}

Result<std::int64_t> Operator::RecoverInterbank() {
  std::vector<Row> rows;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->broken.ok()) return impl_->broken;
    TS_ASSIGN_OR_RETURN(const store::Rows found,
                        impl_->store->Query("SELECT " + std::string(kRowColumns) +
                                            " FROM dcep_entries WHERE status = 'in_flight' "
                                            "ORDER BY seq"));
    for (const store::Row& r : found) {
      TS_ASSIGN_OR_RETURN(Row row, RowFrom(r));
      rows.push_back(std::move(row));
    }
  }
  std::int64_t left = 0;
  for (Row& row : rows) {
    Result<Entry> driven = impl_->Drive(row);
    if (!driven.ok() && driven.status().code() == ErrorCode::kUnavailable) ++left;
    if (!driven.ok() && driven.status().code() == ErrorCode::kIoError) return driven.status();
  }
  return left;
}

Result<WalletInfo> Operator::OpenWallet(const TierEvidence& evidence, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckPhone(evidence.phone));
  TS_RETURN_IF_ERROR(CheckKey(key));
  if (evidence.name.size() > kDisplayNameBytesMax) {
    return InvalidArgument("name: at most " + std::to_string(kDisplayNameBytesMax) + " bytes");
  }
  const int tier = TierOf(evidence);
  TS_ASSIGN_OR_RETURN(const Id128 request_id, impl_->ids->Derive("open_wallet", key));
  TS_ASSIGN_OR_RETURN(const Id128 digest,
                      RequestDigest("open|" + evidence.phone + "|" + evidence.name + "|" +
                                    evidence.id_number + "|" + evidence.bank_account + "|" +
                                    (evidence.in_person ? "1" : "0")));
  std::string wallet_id;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->broken.ok()) return impl_->broken;
    TS_ASSIGN_OR_RETURN(const store::Rows seen,
                        impl_->store->Query("SELECT request_digest, outcome FROM dcep_requests "
                                            "WHERE request_id = ?",
                                            {IdToBytes(request_id)}));
    if (!seen.empty()) {
      TS_ASSIGN_OR_RETURN(const Bytes seen_digest, seen[0].GetBlob(0));
      if (seen_digest != IdToBytes(digest)) return AlreadyExists(std::string(kKeyReusedMessage));
      TS_ASSIGN_OR_RETURN(wallet_id, seen[0].GetText(1));
    } else {
      TS_ASSIGN_OR_RETURN(const store::Rows phone,
                          impl_->store->Query("SELECT wallet_id FROM dcep_wallets WHERE phone = ?",
                                              {evidence.phone}));
      if (!phone.empty()) {
        return AlreadyExists("phone: a wallet is already open for this phone number at " + id_);
      }
      std::array<std::uint8_t, 8> random{};
      do {
        TS_RETURN_IF_ERROR(impl_->random->Fill(random));
        wallet_id = "w" + LowerHex(random);
      } while (impl_->wallets.count(wallet_id) != 0);
      TS_ASSIGN_OR_RETURN(const Id128 account, impl_->ids->Derive("wallet_account", wallet_id));
      ledger::Account a;
      a.id = account;
      a.ledger = kEcnyLedgerId;
      a.code = account_code::kWallet;
      a.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
      TS_ASSIGN_OR_RETURN(const auto r, impl_->ledger->CreateAccounts(std::span(&a, 1)));
      if (r[0] != ledger::CreateAccountResult::kOk) {
        return Internal("wallet account: " + std::string(ledger::CreateAccountResultName(r[0])));
      }
      TS_ASSIGN_OR_RETURN(const StoredEvidence kept, StoredEvidenceOf(evidence));
      const std::optional<Bytes>& id_hash = kept.id_hash;
      const std::optional<std::string>& bank = kept.bank_masked;
      const std::int64_t now = impl_->Now();
      TS_RETURN_IF_ERROR(impl_->store->RunInTransaction([&](store::Store& s) -> Status {
        TS_RETURN_IF_ERROR(
            s.Execute("INSERT INTO dcep_wallets (wallet_id, tier, phone, name, id_number_sha256, "
                      "bank_account_masked, account_id, created_unix_ms, updated_unix_ms) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      {wallet_id, tier, evidence.phone, OptText(evidence.name), id_hash, bank,
                       IdToBytes(account), now, now})
                .status());
        return s
            .Execute("INSERT INTO dcep_requests (request_id, request_digest, outcome, "
                     "created_unix_ms) VALUES (?, ?, ?, ?)",
                     {IdToBytes(request_id), IdToBytes(digest), wallet_id, now})
            .status();
      }));
      Impl::WalletState state;
      state.account = account;
      state.tier = tier;
      state.day = impl_->Today();
      impl_->wallets.emplace(wallet_id, state);
    }
  }
  return Wallet(wallet_id);
}

Result<WalletInfo> Operator::UpgradeTier(std::string_view wallet_id, const TierEvidence& evidence,
                                         std::string_view key) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  TS_RETURN_IF_ERROR(CheckPhone(evidence.phone));
  TS_RETURN_IF_ERROR(CheckKey(key));
  const int tier = TierOf(evidence);
  TS_ASSIGN_OR_RETURN(const Id128 request_id, impl_->ids->Derive("upgrade_tier", wallet_id, key));
  TS_ASSIGN_OR_RETURN(const Id128 digest,
                      RequestDigest("upgrade|" + std::string(wallet_id) + "|" + evidence.phone +
                                    "|" + evidence.name + "|" + evidence.id_number + "|" +
                                    evidence.bank_account + "|" +
                                    (evidence.in_person ? "1" : "0")));
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->broken.ok()) return impl_->broken;
    TS_ASSIGN_OR_RETURN(Impl::WalletState * w,
                        impl_->WalletOf("wallet_id", std::string(wallet_id)));
    TS_ASSIGN_OR_RETURN(const store::Rows seen,
                        impl_->store->Query("SELECT request_digest FROM dcep_requests "
                                            "WHERE request_id = ?",
                                            {IdToBytes(request_id)}));
    if (!seen.empty()) {
      TS_ASSIGN_OR_RETURN(const Bytes seen_digest, seen[0].GetBlob(0));
      if (seen_digest != IdToBytes(digest)) return AlreadyExists(std::string(kKeyReusedMessage));
    } else {
      TS_ASSIGN_OR_RETURN(const store::Row stored,
                          impl_->store->QueryRow("SELECT phone FROM dcep_wallets WHERE "
                                                 "wallet_id = ?",
                                                 {std::string(wallet_id)}));
      TS_ASSIGN_OR_RETURN(const auto phone, stored.GetOptionalText(0));
      if (phone.value_or("") != evidence.phone) {
        return InvalidArgument("phone: does not match the wallet's phone number");
      }
      const TierLimits& limits = impl_->LimitsOf(tier);
      if (limits.balance_max_fen != 0 && w->balance > limits.balance_max_fen) {
        return OutOfRange("balance_max_fen: tier " + std::to_string(tier) + " wallets hold at most " +
                          Fen(limits.balance_max_fen) + "; balance " + Fen(w->balance));
      }
      TS_ASSIGN_OR_RETURN(const StoredEvidence kept, StoredEvidenceOf(evidence));
      const std::optional<Bytes>& id_hash = kept.id_hash;
      const std::optional<std::string>& bank = kept.bank_masked;
      const std::int64_t now = impl_->Now();
      TS_RETURN_IF_ERROR(impl_->store->RunInTransaction([&](store::Store& s) -> Status {
        TS_RETURN_IF_ERROR(
            s.Execute("UPDATE dcep_wallets SET tier = ?, name = ?, id_number_sha256 = ?, "
                      "bank_account_masked = ?, updated_unix_ms = ? WHERE wallet_id = ?",
                      {tier, OptText(evidence.name), id_hash, bank, now, std::string(wallet_id)})
                .status());
        return s
            .Execute("INSERT INTO dcep_requests (request_id, request_digest, outcome, "
                     "created_unix_ms) VALUES (?, ?, ?, ?)",
                     {IdToBytes(request_id), IdToBytes(digest), std::string(wallet_id), now})
            .status();
      }));
      w->tier = tier;
    }
  }
  return Wallet(wallet_id);
}

Result<WalletInfo> Operator::Wallet(std::string_view wallet_id) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(Impl::WalletState * w, impl_->WalletOf("wallet_id", std::string(wallet_id)));
  WalletInfo info;
  info.wallet_id = std::string(wallet_id);
  info.operator_id = id_;
  info.tier = w->tier;
  info.balance_fen = w->balance;
  info.available_fen = w->available;
  info.spent_today_fen = impl_->SpentToday(*w);
  info.merchant_id = w->merchant_id;
  info.limits = impl_->LimitsOf(w->tier);
  return info;
}

Result<CounterpartyView> Operator::ViewForCounterparty(std::string_view wallet_id) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const store::Rows rows,
                      impl_->store->Query("SELECT tier, phone, name, merchant_id FROM "
                                          "dcep_wallets WHERE wallet_id = ?",
                                          {std::string(wallet_id)}));
  if (rows.empty()) {
    return NotFound("wallet_id: wallet " + std::string(wallet_id) + " is not a wallet of " + id_);
  }
  CounterpartyView view;
  view.wallet_id = std::string(wallet_id);
  view.operator_id = id_;
  TS_ASSIGN_OR_RETURN(const std::int64_t tier, rows[0].GetInt64(0));
  view.tier = static_cast<int>(tier);
  TS_ASSIGN_OR_RETURN(const auto phone, rows[0].GetOptionalText(1));
  TS_ASSIGN_OR_RETURN(const auto name, rows[0].GetOptionalText(2));
  TS_ASSIGN_OR_RETURN(const auto merchant, rows[0].GetOptionalText(3));
  if (merchant) {
    view.merchant_id = merchant;
    view.name = name;
  } else if (view.tier == 1) {
    view.name = name;
    if (phone) view.phone = MaskPhone(*phone);
  } else if (view.tier <= 3) {
    if (name) view.name = MaskName(*name);
    if (phone) view.phone = MaskPhone(*phone);
  }
  return view;
}

Result<Entry> Operator::Exchange(std::string_view wallet_id, std::int64_t amount_fen,
                                 bool to_deposit, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  Row row;
  row.kind = std::string(to_deposit ? kKindExchangeOut : kKindExchangeIn);
  (to_deposit ? row.debit_wallet : row.credit_wallet) = std::string(wallet_id);
  row.amount_fen = amount_fen;
  TS_ASSIGN_OR_RETURN(row.id, impl_->ids->Derive(row.kind, wallet_id, key));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest(row.kind + "|" + std::string(wallet_id) + "|" +
                                                std::to_string(amount_fen)));
  return impl_->AcceptOne(std::move(row));
}

Result<std::vector<Result<Entry>>> Operator::PayBatch(std::span<const PaymentOrder> orders) {
  if (orders.size() > kPayBatchMax) {
    return InvalidArgument("orders: at most " + std::to_string(kPayBatchMax) + " per batch");
  }
  std::vector<Impl::Candidate> cands(orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) {
    Result<Row> row = impl_->PaymentRow(orders[i]);
    if (row.ok()) {
      cands[i].row = std::move(*row);
    } else {
      cands[i].invalid = row.status();
    }
  }
  return impl_->AcceptAll(cands);
}

Result<std::optional<Entry>> Operator::FindPayment(const PaymentOrder& order) {
  TS_ASSIGN_OR_RETURN(const Row row, impl_->PaymentRow(order));
  std::lock_guard lock(impl_->mu);
  if (!impl_->journal_ids.contains(row.id)) return std::optional<Entry>();
  TS_ASSIGN_OR_RETURN(const std::optional<Row> existing, impl_->LookupRow(row.id));
  if (!existing || existing->digest != row.digest) return std::optional<Entry>();
  if (existing->status == kRefused || existing->status == kFailed) return RowError(*existing);
  return std::optional<Entry>(ToEntry(*existing, true));
}

Result<Entry> Operator::Pay(const PaymentOrder& order) {
  TS_ASSIGN_OR_RETURN(std::vector<Result<Entry>> out, PayBatch(std::span(&order, 1)));
  return std::move(out[0]);
}

Result<CreditResult> Operator::CreditIncoming(const IncomingCredit& credit) {
  if (credit.to_operator != id_) {
    return InvalidArgument("to_operator: this is operator " + id_);
  }
  TS_RETURN_IF_ERROR(CheckOperatorId("from_operator", credit.from_operator));
  TS_RETURN_IF_ERROR(CheckAmount(credit.amount_fen));
  if (credit.payment_id.empty() || credit.payment_id.size() > kIdempotencyKeyBytesMax) {
    return InvalidArgument("payment_id: expected 1-128 bytes");
  }
  if (!credit.payee_device.empty()) return CreditIncomingToPurse(credit);
  TS_RETURN_IF_ERROR(CheckWalletId("payee_wallet", credit.payee_wallet));
  if (!credit.payer_device.empty()) {
    return InvalidArgument("payer_device: only with a payee_device (an offline transfer)");
  }
  Row row;
  row.kind = std::string(kKindInterbankIn);
  row.credit_wallet = credit.payee_wallet;
  row.counter_operator = credit.from_operator;
  row.counter_wallet = credit.payer_wallet;
  row.merchant_id = credit.merchant_id;
  if (!credit.merchant_order_id.empty()) {
    if (credit.merchant_id.empty()) {
      return InvalidArgument("merchant_order_id: only with a merchant_id");
    }
    TS_RETURN_IF_ERROR(CheckMerchantOrderId(credit.merchant_order_id));
    row.merchant_order_id = credit.merchant_order_id;
  }
  row.amount_fen = credit.amount_fen;
  TS_ASSIGN_OR_RETURN(row.id,
                      impl_->ids->Derive("interbank_in", credit.from_operator, credit.payment_id));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest("credit|" + credit.from_operator + "|" +
                                                credit.payer_wallet + "|" + credit.payee_wallet +
                                                "|" + OrderPart(credit.merchant_order_id) +
                                                std::to_string(credit.amount_fen)));
  TS_ASSIGN_OR_RETURN(const Entry entry, impl_->AcceptOne(std::move(row)));
  return CreditResult{entry.entry_id, entry.replayed};
}

Result<CreditResult> Operator::CreditIncomingToPurse(const IncomingCredit& credit) {
  TS_RETURN_IF_ERROR(CheckDeviceId("payee_device", credit.payee_device));
  if (!credit.payee_wallet.empty() || !credit.merchant_id.empty() ||
      !credit.payer_wallet.empty()) {
    return InvalidArgument(
        "payee_device: an offline credit names devices only (payer_wallet, payee_wallet and "
        "merchant_id must be empty)");
  }
  if (!credit.payer_device.empty()) {
    TS_RETURN_IF_ERROR(CheckDeviceId("payer_device", credit.payer_device));
  }
  Row row;
  row.kind = std::string(credit.payer_device.empty() ? kKindOfflineLossCoverIn : kKindPurseMoveIn);
  row.device_id = credit.payee_device;
  row.counter_operator = credit.from_operator;
  row.counter_device = credit.payer_device;
  row.amount_fen = credit.amount_fen;
  // Same id space as wallet credits: a payment id is unique at the payer's operator.
  TS_ASSIGN_OR_RETURN(row.id,
                      impl_->ids->Derive("interbank_in", credit.from_operator, credit.payment_id));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest("credit_device|" + credit.from_operator + "|" +
                                                credit.payer_device + "|" + credit.payee_device +
                                                "|" + std::to_string(credit.amount_fen)));
  TS_ASSIGN_OR_RETURN(const Entry entry, impl_->AcceptOne(std::move(row)));
  return CreditResult{entry.entry_id, entry.replayed};
}

Result<Entry> Operator::FundOfflinePurse(std::string_view wallet_id, std::string_view device_id,
                                         std::int64_t amount_fen, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  {
    // The purse account exists (and belongs to this wallet) before any funding row.
    std::lock_guard lock(impl_->mu);
    if (!impl_->broken.ok()) return impl_->broken;
    Status purse = impl_->EnsurePurseLocked(wallet_id, device_id, /*hardware=*/false);
    if (purse.code() == ErrorCode::kAlreadyExists) {
      return FailedPrecondition(purse.message());
    }
    TS_RETURN_IF_ERROR(purse);
  }
  Row row;
  row.kind = std::string(kKindPurseFund);
  row.debit_wallet = std::string(wallet_id);
  row.device_id = std::string(device_id);
  row.amount_fen = amount_fen;
  TS_ASSIGN_OR_RETURN(row.id, impl_->ids->Derive(row.kind, wallet_id, key));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest(row.kind + "|" + std::string(wallet_id) + "|" +
                                                std::string(device_id) + "|" +
                                                std::to_string(amount_fen)));
  return impl_->AcceptOne(std::move(row));
}

Result<Entry> Operator::DefundOfflinePurse(std::string_view wallet_id, std::string_view device_id,
                                           std::int64_t amount_fen, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  Row row;
  row.kind = std::string(kKindPurseDefund);
  row.credit_wallet = std::string(wallet_id);
  row.device_id = std::string(device_id);
  row.amount_fen = amount_fen;
  TS_ASSIGN_OR_RETURN(row.id, impl_->ids->Derive(row.kind, wallet_id, key));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest(row.kind + "|" + std::string(wallet_id) + "|" +
                                                std::string(device_id) + "|" +
                                                std::to_string(amount_fen)));
  return impl_->AcceptOne(std::move(row));
}

Result<std::int64_t> Operator::OfflinePurseBalance(std::string_view device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  std::lock_guard lock(impl_->mu);
  const auto it = impl_->purses.find(std::string(device_id));
  if (it == impl_->purses.end()) {
    return NotFound("device_id: no offline purse for device " + std::string(device_id));
  }
  return it->second.balance;
}

Status Operator::RegisterDevice(std::string_view wallet_id, std::string_view device_id) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  std::lock_guard lock(impl_->mu);
  if (!impl_->broken.ok()) return impl_->broken;
  return impl_->EnsurePurseLocked(wallet_id, device_id, /*hardware=*/true);
}

Status Operator::MovePurseValue(std::string_view payer_device_id, std::string_view payee_device_id,
                                std::string_view payee_operator_id, std::int64_t amount_fen,
                                std::string_view key) {
  const PurseMove move{std::string(payer_device_id), std::string(payee_device_id),
                       std::string(payee_operator_id), amount_fen, std::string(key)};
  return std::move(MovePurseValues(std::span(&move, 1))[0]);
}

std::vector<Status> Operator::MovePurseValues(std::span<const PurseMove> moves) {
  if (moves.size() > kPayBatchMax) {
    return std::vector<Status>(moves.size(), InvalidArgument("moves: at most " +
                                                             std::to_string(kPayBatchMax) +
                                                             " per batch"));
  }
  std::vector<Impl::Candidate> cands(moves.size());
  for (std::size_t i = 0; i < moves.size(); ++i) {
    Result<Row> row = impl_->PurseMoveRow(moves[i]);
    if (row.ok()) {
      cands[i].row = std::move(*row);
    } else {
      cands[i].invalid = row.status();
    }
  }
  Result<std::vector<Result<Entry>>> entries = impl_->AcceptAll(cands);
  if (!entries.ok()) return std::vector<Status>(moves.size(), entries.status());
  std::vector<Status> out;
  out.reserve(moves.size());
  for (const Result<Entry>& e : *entries) out.push_back(e.status());
  return out;
}

Status Operator::UnloadPurseValue(std::string_view device_id, std::int64_t amount_fen,
                                  std::string_view key) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  std::string owner;
  {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->purses.find(std::string(device_id));
    if (it == impl_->purses.end()) {
      return NotFound("device_id: no offline purse for device " + std::string(device_id));
    }
    owner = it->second.wallet_id;
  }
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  Row row;
  row.kind = std::string(kKindPurseUnload);
  row.credit_wallet = owner;
  row.device_id = std::string(device_id);
  row.amount_fen = amount_fen;
  // Settlement's keys live apart from the wallet's own defund keys.
  TS_ASSIGN_OR_RETURN(row.id, impl_->ids->Derive(row.kind, device_id, key));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest(row.kind + "|" + std::string(device_id) + "|" +
                                                std::to_string(amount_fen)));
  return impl_->AcceptOne(std::move(row)).status();
}

Status Operator::CoverOfflineLoss(std::string_view payee_device_id,
                                  std::string_view payee_operator_id, std::int64_t amount_fen,
                                  std::string_view key) {
  TS_RETURN_IF_ERROR(CheckDeviceId("payee_device_id", payee_device_id));
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  const bool across = payee_operator_id != id_;
  if (across) TS_RETURN_IF_ERROR(impl_->CheckPeerOperator(payee_operator_id));
  Row row;
  row.kind = std::string(across ? kKindOfflineLossCoverOut : kKindOfflineLossCover);
  row.amount_fen = amount_fen;
  if (across) {
    row.counter_operator = std::string(payee_operator_id);
    row.counter_device = std::string(payee_device_id);
  } else {
    std::lock_guard lock(impl_->mu);
    const auto payee = impl_->purses.find(std::string(payee_device_id));
    if (payee == impl_->purses.end()) {
      return NotFound("payee_device_id: no offline purse for device " + std::string(payee_device_id));
    }
    row.credit_wallet = payee->second.wallet_id;
    row.credit_account = payee->second.account;
  }
  TS_ASSIGN_OR_RETURN(row.id, impl_->ids->Derive(kKindOfflineLossCover, payee_device_id, key));
  std::string request = row.kind + "|" + std::string(payee_device_id) + "|";
  if (across) request += std::string(payee_operator_id) + "|";
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest(request + std::to_string(amount_fen)));
  return impl_->AcceptOne(std::move(row)).status();
}

Result<std::int64_t> Operator::PurseBalance(std::string_view device_id) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
  std::lock_guard lock(impl_->mu);
  const auto it = impl_->purses.find(std::string(device_id));
  return it == impl_->purses.end() ? 0 : it->second.available();
}

Result<Entry> Operator::RequestIssuance(std::int64_t amount_fen, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  Row row;
  row.kind = std::string(kKindIssue);
  row.counter_operator = "central_bank";
  row.amount_fen = amount_fen;
  TS_ASSIGN_OR_RETURN(row.id, impl_->ids->Derive(row.kind, "", key));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest("issue|" + std::to_string(amount_fen)));
  return impl_->AcceptOne(std::move(row));
}

Result<Entry> Operator::RedeemToCentralBank(std::int64_t amount_fen, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  Row row;
  row.kind = std::string(kKindRedeem);
  row.counter_operator = "central_bank";
  row.amount_fen = amount_fen;
  TS_ASSIGN_OR_RETURN(row.id, impl_->ids->Derive(row.kind, "", key));
  TS_ASSIGN_OR_RETURN(row.digest, RequestDigest("redeem|" + std::to_string(amount_fen)));
  return impl_->AcceptOne(std::move(row));
}

Result<HistoryPage> Operator::History(std::string_view wallet_id, std::int64_t before_seq,
                                      std::size_t limit) {
  TS_RETURN_IF_ERROR(CheckWalletId("wallet_id", wallet_id));
  if (limit == 0 || limit > kHistoryPageMax) {
    return InvalidArgument("limit: expected 1-" + std::to_string(kHistoryPageMax));
  }
  if (before_seq < 0) return InvalidArgument("before: expected an integer >= 0");
  const std::string wallet(wallet_id);
  std::lock_guard lock(impl_->mu);
  TS_RETURN_IF_ERROR(impl_->WalletOf("wallet_id", wallet).status());
  // The wallet's rows form a chain newest → oldest (each row's *_prev_seq on the wallet's side).
  // A cursor from an earlier page is a row of this wallet: the walk resumes at its predecessor.
  // Any other value is walked to from the head.
  const auto prev_of = [&](const Row& row) {
    return row.debit_wallet == wallet ? row.debit_prev_seq : row.credit_prev_seq;
  };
  const auto head = impl_->wallet_heads.find(wallet);
  std::int64_t seq = head == impl_->wallet_heads.end() ? 0 : head->second;
  if (before_seq > 0 && seq >= before_seq) {
    TS_ASSIGN_OR_RETURN(const std::optional<Row> cursor, impl_->RowAt(before_seq));
    if (cursor && (cursor->debit_wallet == wallet || cursor->credit_wallet == wallet)) {
      seq = prev_of(*cursor);
    }
  }
  HistoryPage page;
  while (seq > 0) {
    TS_ASSIGN_OR_RETURN(const std::optional<Row> row, impl_->RowAt(seq));
    const std::int64_t prev = row ? prev_of(*row) : 0;
    if (!row || prev >= seq) {  // a missing row or a link forward: never loop on a bad chain
      return Internal("wallet " + wallet + ": history chain broken at seq " + std::to_string(seq));
    }
    seq = prev;
    if (before_seq > 0 && row->seq >= before_seq) continue;
    if (page.entries.size() == limit) {
      page.next_before = page.entries.back().seq;
      break;
    }
    page.entries.push_back(ToEntry(*row, false));
  }
  return page;
}

ContractBook& Operator::contracts() { return *impl_->contracts; }

Result<OperatorAudit> Operator::Audit() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->broken.ok()) return impl_->broken;
  TS_RETURN_IF_ERROR(impl_->ledger->Audit());
  OperatorAudit audit;
  TS_ASSIGN_OR_RETURN(const auto cbp, impl_->ledger->LookupAccount(impl_->cbp));
  TS_ASSIGN_OR_RETURN(const auto fl, impl_->ledger->LookupAccount(impl_->float_account));
  if (!cbp || !fl) return Internal("operator " + id_ + ": fixed accounts missing");
  audit.position_fen = DebitBalance(*cbp);
  audit.holds_fen = static_cast<std::int64_t>(cbp->credits_pending);
  audit.float_fen = CreditBalance(*fl);
  if (CreditBalance(*fl) - static_cast<std::int64_t>(fl->debits_pending) !=
      impl_->float_available) {
    return Internal("operator " + id_ + " audit: float available differs from the ledger");
  }
  for (const auto& [wallet_id, w] : impl_->wallets) {
    TS_ASSIGN_OR_RETURN(const auto a, impl_->ledger->LookupAccount(w.account));
    if (!a) return Internal("wallet " + wallet_id + ": account missing");
    // Second path: the in-memory balances the limit checks used.
    if (CreditBalance(*a) != w.balance ||
        CreditBalance(*a) - static_cast<std::int64_t>(a->debits_pending) != w.available) {
      return Internal("operator " + id_ + " audit: wallet " + wallet_id +
                      " balance differs from the ledger");
    }
    audit.wallets_fen += CreditBalance(*a);
    ++audit.wallets;
  }
  for (const auto& [device, p] : impl_->purses) {
    TS_ASSIGN_OR_RETURN(const auto a, impl_->ledger->LookupAccount(p.account));
    if (!a || CreditBalance(*a) != p.balance ||
        CreditBalance(*a) - static_cast<std::int64_t>(a->debits_pending) != p.available()) {
      return Internal("operator " + id_ + " audit: purse " + device + " differs from the ledger");
    }
    audit.purses_fen += CreditBalance(*a);
  }
  // Each active contract's escrow == its LockedFen (the book checks), summed.
  TS_ASSIGN_OR_RETURN(audit.escrows_fen, impl_->contracts->AuditEscrowsLocked());
  const std::int64_t held =
      audit.float_fen + audit.wallets_fen + audit.purses_fen + audit.escrows_fen;
  if (audit.position_fen != held) {
    return Internal("operator " + id_ + " audit: central_bank_position " +
                    Fen(audit.position_fen) + " but float + wallets + purses + escrows = " +
                    Fen(held));
  }
  TS_ASSIGN_OR_RETURN(const store::Row in_flight,
                      impl_->store->QueryRow("SELECT COUNT(*) AS n FROM dcep_entries WHERE "
                                             "status = 'in_flight'"));
  TS_ASSIGN_OR_RETURN(audit.in_flight, in_flight.GetInt64(0));
  return audit;
}

}  // namespace tapstack::dcep
