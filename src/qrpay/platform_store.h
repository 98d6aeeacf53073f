// Internal to the platform (src/qrpay/platform*.cc): the platform's schema and the journal rows
// every operation writes — the op row that makes a call idempotent, the postings of a user or
// merchant account, spending counted against the limits, payments a merchant settles and refunds,
// and dynamic orders already paid. Each function is one statement (or a read) on the store it is
// given, normally inside the caller's transaction; none keeps state, so all are thread-compatible
// like store::Store itself. SQL is the portable subset of store/store.h (SQLite and PostgreSQL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "qrpay/platform.h"
#include "store/migration.h"
#include "store/store.h"

namespace tapstack::qrpay::internal {

// The ledger's migrations followed by the platform's (versions from 1001).
const std::vector<store::Migration>& PlatformMigrations();

// Operation states in qrpay_ops.status.
inline constexpr std::string_view kOpDone = "done";
inline constexpr std::string_view kOpRefused = "refused";
inline constexpr std::string_view kOpInFlight = "in_flight";

// Card order states in qrpay_topups.status and qrpay_card_orders.status. "charging" is written
// (with the order's claims) in its own transaction BEFORE the rail is asked to charge, so a crash
// or a lost answer leaves a row that a retry drives again and an operator can reconcile.
inline constexpr std::string_view kOrderStarted = "started";
inline constexpr std::string_view kOrderCharging = "charging";
inline constexpr std::string_view kOrderCompleted = "completed";

struct AccountRow {
  std::string account_id;
  std::string owner_id;
  std::string alias;
  int level = kLevelLowest;
  std::string label;  // "user:<account id>"
};

struct OpRow {
  std::string status;  // kOpDone, kOpRefused or kOpInFlight
  std::string digest;
  std::int64_t error_code = 0;
  std::string message;
  std::string receipt;  // ReceiptJson text; "{}" for a refusal
};

// Errors: kNotFound naming account_id; the store's.
Result<AccountRow> LoadAccountRow(store::Store& s, std::string_view account_id);

// nullopt when the op was never run.
Result<std::optional<OpRow>> LoadOpRow(store::Store& s, std::string_view op_id);
// Writes a new op row with `outcome` (a receipt, or the refusal's code and message).
Status InsertOpRow(store::Store& tx, std::string_view op_id, std::string_view kind,
                   std::string_view actor, std::string_view digest, std::string_view status,
                   const Result<Receipt>& outcome, std::int64_t created_ms);
// Overwrites an in-flight op row with its final outcome; a refusal keeps `pending_receipt`.
Status UpdateOpRow(store::Store& tx, std::string_view op_id, const Result<Receipt>& outcome,
                   std::string_view pending_receipt);

// A receipt as stored in qrpay_ops.receipt (without `replayed`), and back.
std::string ReceiptText(const Receipt& r);
Result<Receipt> ReceiptFromText(const std::string& text);
// The Status a refused op row holds. Errors: kCorruption (code out of range).
Status ErrorFromRow(std::int64_t code, std::string message);

// One journal line of a user or merchant ledger account, numbered after the account's last one;
// `balance_after` is the ledger's posted balance once the op's transfers are applied.
Status InsertPosting(store::Store& tx, std::string_view op_id, std::string_view label,
                     std::int64_t created_ms, std::int64_t local_day, std::string_view kind,
                     std::string_view counterparty, std::int64_t signed_minor,
                     std::int64_t balance_after);

// Outgoing payments (home currency) counted against the daily and yearly limits: a row per
// operation, and running totals per account for each local day (period YYYYMMDD) and year
// (period YYYY = day / kDaysPeriodDivisor).
inline constexpr std::int64_t kDaysPeriodDivisor = 10'000;
Status InsertSpending(store::Store& tx, std::string_view op_id, std::string_view account_id,
                      std::int64_t local_day, std::int64_t minor);
// Takes back what InsertSpending counted for `op_id` (a payment that failed); none: Ok.
Status DeleteSpending(store::Store& tx, std::string_view op_id);
struct Spent {
  std::int64_t today = 0;
  std::int64_t year = 0;
};
// Spent on `local_day` (YYYYMMDD) and in its calendar year.
Result<Spent> SpentBy(store::Store& s, std::string_view account_id, std::int64_t local_day);

// A payment (sign +1) or refund (sign −1) in qrpay_payments, for refunds and settlement.
Status InsertPayment(store::Store& tx, const Receipt& r, std::string_view refund_of,
                     std::int64_t sign, std::int64_t local_day);

// The receipt that paid a merchant's dynamic order, if any.
Result<std::optional<std::string>> OrderPaidBy(store::Store& s, std::string_view merchant_id,
                                               std::string_view order_id);
// Marks the order paid (or claimed, by a card payment being charged) by `op_id`; an order marked
// already stays with its first op (callers check OrderPaidBy first, in the same transaction).
Status InsertOrderPaid(store::Store& tx, std::string_view merchant_id, std::string_view order_id,
                       std::string_view op_id);
// Drops the claim of `op_id` on the order (its card charge definitely failed); another op's mark
// is left alone.
Status ReleaseOrderPaid(store::Store& tx, std::string_view merchant_id, std::string_view order_id,
                        std::string_view op_id);

}  // namespace tapstack::qrpay::internal
