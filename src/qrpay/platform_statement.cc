// Platform, area 7: monthly statements of an account and daily settlement reports of a merchant.
#include <string_view>
#include <map>

#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using store::Row;
using store::Rows;
using store::Store;

namespace {

// True when `text` has the shape of `pattern`, where '9' stands for a decimal digit and any other
// character for itself ("9999-99" for YYYY-MM): then std::stoll of a digit run cannot throw.
bool Shaped(std::string_view text, std::string_view pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool ok = pattern[i] == '9' ? (text[i] >= '0' && text[i] <= '9') : text[i] == pattern[i];
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<Statement> Platform::MonthlyStatement(std::string_view account_id, std::string_view month) {
  Impl& p = *impl_;
  if (!Shaped(month, "9999-99")) return InvalidArgument("month: expected YYYY-MM");
  const std::int64_t year = std::stoll(std::string(month.substr(0, 4)));
  const std::int64_t mon = std::stoll(std::string(month.substr(5, 2)));
  if (mon < 1 || mon > 12) return InvalidArgument("month: expected a month 01-12");
  const std::int64_t first_day = year * 10000 + mon * 100 + 1;
  const std::int64_t after_last = year * 10000 + mon * 100 + 32;
  std::lock_guard lock(p.store_mu);
  TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(*p.store, account_id));
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

Result<SettlementReport> Platform::Settlement(std::string_view merchant_id,
                                              std::string_view business_date) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  if (!Shaped(business_date, "9999-99-99")) {
    return InvalidArgument("business_date: expected YYYY-MM-DD");
  }
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
}  // namespace tapstack::qrpay
