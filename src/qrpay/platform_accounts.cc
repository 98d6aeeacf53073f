// Platform, area 1: accounts (open, look up, merchant balances).

#include "crypto/mac.h"
#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using store::Rows;
using store::Store;

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
  TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(*p.store, account_id));
  TS_ASSIGN_OR_RETURN(const Impl::Balances b, p.LedgerBalance(a.label));
  TS_ASSIGN_OR_RETURN(const Spent spent, p.SpentBy(*p.store, a.account_id, p.NowMs()));
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
}  // namespace tapstack::qrpay
