#include "tsp/token_history.h"

#include "tsp/schema.h"

namespace tapstack::tsp {

Result<std::unique_ptr<TokenHistory>> TokenHistory::Open(store::Store& store, TokenVault& vault) {
  TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  // seq = MAX(seq) + 1 in the same statement (the primary key's index makes MAX a lookup).
  TS_ASSIGN_OR_RETURN(
      store::Statement insert,
      store.Prepare("INSERT INTO tsp_token_history (seq, token_id, mti, amount_minor, "
                    "currency_numeric, merchant, mcc, pos_entry_mode, response_code, "
                    "approval_code, stan, terminal_id, time_unix_ms) "
                    "SELECT COALESCE(MAX(seq), 0) + 1, CAST(? AS TEXT), CAST(? AS TEXT), "
                    "CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), "
                    "CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), "
                    "CAST(? AS TEXT), CAST(? AS BIGINT) FROM tsp_token_history"));
  return std::unique_ptr<TokenHistory>(new TokenHistory(store, vault, std::move(insert)));
}

Status TokenHistory::RecordUse(const TokenUseRecord& use) {
  TS_ASSIGN_OR_RETURN(const TokenRecord record, vault_.FindByTokenNumber(use.token_number));
  std::string merchant = use.merchant.substr(0, kHistoryMerchantBytesMax);
  const store::Value params[] = {record.token_id,    use.mti,           use.amount_minor,
                                 use.currency_numeric, merchant,        use.mcc,
                                 use.pos_entry_mode, use.response_code, use.approval_code,
                                 use.stan,           use.terminal_id,   use.time_unix_ms};
  return insert_.Execute(params).status().WithContext("token history");
}

Result<std::vector<TokenHistoryEntry>> TokenHistory::List(std::string_view token_id,
                                                          std::size_t limit) {
  if (limit == 0 || limit > kHistoryListMax) {
    return InvalidArgument("limit: expected 1-" + std::to_string(kHistoryListMax));
  }
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_.Query("SELECT seq, token_id, mti, amount_minor, currency_numeric, merchant, mcc, "
                   "pos_entry_mode, response_code, approval_code, stan, terminal_id, "
                   "time_unix_ms FROM tsp_token_history WHERE token_id = ? "
                   "ORDER BY seq DESC LIMIT ?",
                   {token_id, static_cast<std::int64_t>(limit)}));
  std::vector<TokenHistoryEntry> out;
  out.reserve(rows.size());
  for (const store::Row& r : rows) {
    TokenHistoryEntry e;
    TS_ASSIGN_OR_RETURN(e.seq, r.GetInt64(0));
    TS_ASSIGN_OR_RETURN(e.token_id, r.GetText(1));
    TS_ASSIGN_OR_RETURN(e.mti, r.GetText(2));
    TS_ASSIGN_OR_RETURN(e.amount_minor, r.GetInt64(3));
    TS_ASSIGN_OR_RETURN(const std::int64_t currency, r.GetInt64(4));
    e.currency_numeric = static_cast<std::uint16_t>(currency);
    TS_ASSIGN_OR_RETURN(e.merchant, r.GetText(5));
    TS_ASSIGN_OR_RETURN(e.mcc, r.GetText(6));
    TS_ASSIGN_OR_RETURN(e.pos_entry_mode, r.GetText(7));
    TS_ASSIGN_OR_RETURN(e.response_code, r.GetText(8));
    TS_ASSIGN_OR_RETURN(e.approval_code, r.GetText(9));
    TS_ASSIGN_OR_RETURN(e.stan, r.GetText(10));
    TS_ASSIGN_OR_RETURN(e.terminal_id, r.GetText(11));
    TS_ASSIGN_OR_RETURN(e.time_unix_ms, r.GetInt64(12));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace tapstack::tsp
