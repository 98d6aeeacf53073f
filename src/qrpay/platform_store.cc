#include "qrpay/platform_store.h"

#include <nlohmann/json.hpp>

#include "ledger/store_ledger.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay::internal {

using nlohmann::json;
using store::Row;
using store::Rows;
using store::Store;

const std::vector<store::Migration>& PlatformMigrations() {
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
    // A card payment order claims its dynamic code and its visitor USD before the card is
    // charged ("charging"), like a top-up order (qrpay_topups.status).
    list.push_back(store::Migration{
        1003, "card payment order status",
        "ALTER TABLE qrpay_card_orders ADD COLUMN status TEXT NOT NULL DEFAULT 'started';", "",
        ""});
    // The limit check read every spending row of the account's year (one per payment) on each
    // payment: a cost that grew all year. Running totals per account and period make it two
    // primary-key reads; the per-payment rows stay (a failed payment's row is taken back).
    list.push_back(store::Migration{
        1004, "spending totals per account and day or year",
        "CREATE TABLE qrpay_spending_totals (account_id TEXT NOT NULL, period BIGINT NOT NULL,"
        " amount_minor BIGINT NOT NULL, PRIMARY KEY (account_id, period));"
        "INSERT INTO qrpay_spending_totals (account_id, period, amount_minor)"
        " SELECT account_id, local_day, SUM(amount_minor) FROM qrpay_spending"
        " GROUP BY account_id, local_day;"
        "INSERT INTO qrpay_spending_totals (account_id, period, amount_minor)"
        " SELECT account_id, local_day / 10000, SUM(amount_minor) FROM qrpay_spending"
        " GROUP BY account_id, local_day / 10000;"
        "DROP INDEX qrpay_spending_by_account;",
        "", ""});
    return list;
  }();
  return migrations;
}

Result<AccountRow> LoadAccountRow(Store& s, std::string_view account_id) {
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

Result<std::optional<OpRow>> LoadOpRow(Store& s, std::string_view op_id) {
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

Status InsertOpRow(Store& tx, std::string_view op_id, std::string_view kind, std::string_view actor,
                   std::string_view digest, std::string_view status, const Result<Receipt>& outcome,
                   std::int64_t created_ms) {
  return tx
      .Execute(
          "INSERT INTO qrpay_ops (op_id, kind, actor, digest, status, error_code, message,"
          " receipt, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {std::string(op_id), std::string(kind), std::string(actor), std::string(digest),
           std::string(status), static_cast<std::int64_t>(outcome.status().code()),
           outcome.status().message(), outcome.ok() ? ReceiptText(*outcome) : std::string("{}"),
           created_ms})
      .status();
}

Status UpdateOpRow(Store& tx, std::string_view op_id, const Result<Receipt>& outcome,
                   std::string_view pending_receipt) {
  return tx
      .Execute(
          "UPDATE qrpay_ops SET status = ?, error_code = ?, message = ?, receipt = ?"
          " WHERE op_id = ?",
          {std::string(outcome.ok() ? kOpDone : kOpRefused),
           static_cast<std::int64_t>(outcome.status().code()), outcome.status().message(),
           outcome.ok() ? ReceiptText(*outcome) : std::string(pending_receipt), std::string(op_id)})
      .status();
}

std::string ReceiptText(const Receipt& r) {
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
              {"created_unix_ms", r.created_unix_ms}}
      .dump();
}

Result<Receipt> ReceiptFromText(const std::string& text) {
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

Status ErrorFromRow(std::int64_t code, std::string message) {
  if (code <= 0 || code > static_cast<std::int64_t>(ErrorCode::kInternal)) {
    return Corruption("qrpay_ops.error_code out of range");
  }
  return Status(static_cast<ErrorCode>(code), std::move(message));
}

Status InsertPosting(Store& tx, std::string_view op_id, std::string_view label,
                     std::int64_t created_ms, std::int64_t local_day, std::string_view kind,
                     std::string_view counterparty, std::int64_t signed_minor,
                     std::int64_t balance_after) {
  TS_ASSIGN_OR_RETURN(Row row, tx.QueryRow("SELECT COALESCE(MAX(seq), 0) AS seq FROM"
                                           " qrpay_postings WHERE account = ?",
                                           {std::string(label)}));
  TS_ASSIGN_OR_RETURN(const std::int64_t seq, row.GetInt64("seq"));
  return tx
      .Execute(
          "INSERT INTO qrpay_postings (op_id, account, seq, created_ms, local_day, kind,"
          " counterparty, amount_minor, balance_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {std::string(op_id), std::string(label), seq + 1, created_ms, local_day,
           std::string(kind), std::string(counterparty), signed_minor, balance_after})
      .status();
}

namespace {

// Adds `minor` (negative: takes it back) to the account's totals of `local_day` and its year.
Status AddSpendingTotals(Store& tx, const std::string& account_id, std::int64_t local_day,
                         std::int64_t minor) {
  for (const std::int64_t period : {local_day, local_day / kDaysPeriodDivisor}) {
    TS_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO qrpay_spending_totals (account_id, period, amount_minor)"
                   " VALUES (?, ?, ?) ON CONFLICT (account_id, period) DO UPDATE SET"
                   " amount_minor = qrpay_spending_totals.amount_minor + excluded.amount_minor",
                   {account_id, period, minor})
            .status());
  }
  return Status::Ok();
}

}  // namespace

Status InsertSpending(Store& tx, std::string_view op_id, std::string_view account_id,
                      std::int64_t local_day, std::int64_t minor) {
  TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_spending (op_id, account_id, local_day,"
                                " amount_minor) VALUES (?, ?, ?, ?)",
                                {std::string(op_id), std::string(account_id), local_day, minor})
                         .status());
  return AddSpendingTotals(tx, std::string(account_id), local_day, minor);
}

Status DeleteSpending(Store& tx, std::string_view op_id) {
  TS_ASSIGN_OR_RETURN(const Rows rows,
                      tx.Query("SELECT account_id, local_day, amount_minor FROM qrpay_spending"
                               " WHERE op_id = ?",
                               {std::string(op_id)}));
  if (rows.empty()) return Status::Ok();
  TS_ASSIGN_OR_RETURN(const std::string account_id, rows[0].GetText(0));
  TS_ASSIGN_OR_RETURN(const std::int64_t local_day, rows[0].GetInt64(1));
  TS_ASSIGN_OR_RETURN(const std::int64_t minor, rows[0].GetInt64(2));
  TS_RETURN_IF_ERROR(
      tx.Execute("DELETE FROM qrpay_spending WHERE op_id = ?", {std::string(op_id)}).status());
  return AddSpendingTotals(tx, account_id, local_day, -minor);
}

Result<Spent> SpentBy(Store& s, std::string_view account_id, std::int64_t local_day) {
  const std::int64_t year = local_day / kDaysPeriodDivisor;
  TS_ASSIGN_OR_RETURN(const Rows rows,
                      s.Query("SELECT period, amount_minor FROM qrpay_spending_totals"
                              " WHERE account_id = ? AND period IN (?, ?)",
                              {std::string(account_id), local_day, year}));
  Spent spent;
  for (const Row& row : rows) {
    TS_ASSIGN_OR_RETURN(const std::int64_t period, row.GetInt64(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t minor, row.GetInt64(1));
    (period == year ? spent.year : spent.today) = minor;
  }
  return spent;
}

Status InsertPayment(Store& tx, const Receipt& r, std::string_view refund_of, std::int64_t sign,
                     std::int64_t local_day) {
  return tx
      .Execute(
          "INSERT INTO qrpay_payments (payment_id, kind, account_id, merchant_id,"
          " refund_of, amount_minor, currency, payer_amount_minor, payer_currency, rate,"
          " markup_bps, refunded_minor, payer_refunded_minor, local_day, created_ms)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
          {r.receipt_id, r.kind, r.account_id, r.merchant_id, std::string(refund_of),
           sign * r.amount.minor_units(), std::int64_t{r.amount.currency().numeric},
           sign * r.payer_amount.minor_units(), std::int64_t{r.payer_amount.currency().numeric},
           r.rate, r.markup_bps, local_day, r.created_unix_ms})
      .status();
}

Result<std::optional<std::string>> OrderPaidBy(Store& s, std::string_view merchant_id,
                                               std::string_view order_id) {
  TS_ASSIGN_OR_RETURN(Rows used, s.Query("SELECT op_id FROM qrpay_orders_used WHERE"
                                         " merchant_id = ? AND order_id = ?",
                                         {std::string(merchant_id), std::string(order_id)}));
  if (used.empty()) return std::optional<std::string>();
  TS_ASSIGN_OR_RETURN(std::string op_id, used[0].GetText(0));
  return std::optional<std::string>(std::move(op_id));
}

Status InsertOrderPaid(Store& tx, std::string_view merchant_id, std::string_view order_id,
                       std::string_view op_id) {
  return tx
      .Execute(
          "INSERT INTO qrpay_orders_used (merchant_id, order_id, op_id) VALUES (?, ?, ?)"
          " ON CONFLICT (merchant_id, order_id) DO NOTHING",
          {std::string(merchant_id), std::string(order_id), std::string(op_id)})
      .status();
}

Status ReleaseOrderPaid(Store& tx, std::string_view merchant_id, std::string_view order_id,
                        std::string_view op_id) {
  return tx
      .Execute("DELETE FROM qrpay_orders_used WHERE merchant_id = ? AND order_id = ? AND op_id = ?",
               {std::string(merchant_id), std::string(order_id), std::string(op_id)})
      .status();
}

}  // namespace tapstack::qrpay::internal
