// Monthly statements reconcile: opening + Σ entries = closing, each entry's balance_after
// follows from the previous one, and the next month opens where this one closed.
#include <gtest/gtest.h>

#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

using StatementTest = PlatformDbTest;

void ExpectReconciles(const Statement& st) {
  std::int64_t running = st.opening_balance.minor_units();
  for (const StatementEntry& e : st.entries) {
    running += e.amount.minor_units();
    EXPECT_EQ(e.balance_after.minor_units(), running) << e.kind << " " << e.receipt_id;
  }
  EXPECT_EQ(st.closing_balance.minor_units(), running);
}

TEST_P(StatementTest, StatementsReconcileAcrossMonths) {
  const std::string account = NewAccount("owner-statement", 2);
  auto noodles = cn_->MerchantStaticQr("BJNOODLES01");
  ASSERT_TRUE(noodles.ok());
  TopUp(account, 50000);
  auto paid = cn_->PayMerchantQr(account, *noodles, Minor(1200, "CNY"), "s-1");
  ASSERT_TRUE(paid.ok());
  ASSERT_TRUE(cn_->RefundPayment("BJNOODLES01", paid->receipt_id, Minor(200, "CNY"), "s-r").ok());
  clock_.AdvanceMillis(31LL * 24 * 3'600'000);  // into February
  ASSERT_TRUE(cn_->PayMerchantQr(account, *noodles, Minor(3300, "CNY"), "s-2").ok());
  ASSERT_TRUE(cn_->TaxRefund("globalrefund-demo", account, "DE-9", Minor(100, "EUR"), "s-3").ok());

  auto january = cn_->MonthlyStatement(account, "2026-01");
  ASSERT_TRUE(january.ok()) << january.status().ToString();
  EXPECT_EQ(january->opening_balance, Minor(0, "CNY"));
  ASSERT_EQ(january->entries.size(), 3u);
  EXPECT_EQ(january->entries[0].kind, "top_up");
  EXPECT_EQ(january->entries[1].kind, "qr_payment");
  EXPECT_EQ(january->entries[1].counterparty, "Old Beijing Noodles");
  EXPECT_EQ(january->entries[1].amount, Minor(-1200, "CNY"));
  EXPECT_EQ(january->entries[2].kind, "refund");
  EXPECT_EQ(january->closing_balance, Minor(49000, "CNY"));
  ExpectReconciles(*january);

  auto february = cn_->MonthlyStatement(account, "2026-02");
  ASSERT_TRUE(february.ok());
  EXPECT_EQ(february->opening_balance, january->closing_balance);
  ASSERT_EQ(february->entries.size(), 2u);
  EXPECT_EQ(february->closing_balance, Minor(49000 - 3300 + 780, "CNY"));
  ExpectReconciles(*february);
  EXPECT_EQ(february->closing_balance.minor_units(), Balance(account));

  auto march = cn_->MonthlyStatement(account, "2026-03");
  ASSERT_TRUE(march.ok());
  EXPECT_TRUE(march->entries.empty());
  EXPECT_EQ(march->opening_balance, february->closing_balance);
  EXPECT_EQ(march->closing_balance, february->closing_balance);

  EXPECT_EQ(cn_->MonthlyStatement(account, "2026-13").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cn_->MonthlyStatement(account, "Jan").status().code(), ErrorCode::kInvalidArgument);
  ExpectAuditOk(*cn_);
}

TEST_P(StatementTest, MalformedDatesAreRefusedNotThrown) {
  const std::string account = NewAccount("owner-dates", 2);
  for (const char* month : {"-----01", "2026-1x", "-------", "2026-001", "20260-1", "２０26-01"}) {
    auto st = cn_->MonthlyStatement(account, month);
    EXPECT_EQ(st.status().code(), ErrorCode::kInvalidArgument) << month;
    EXPECT_EQ(st.status().message(), "month: expected YYYY-MM") << month;
  }
  EXPECT_EQ(cn_->MonthlyStatement(account, "2026-13").status().code(),
            ErrorCode::kInvalidArgument);
  for (const char* date : {"----------", "2026-01-0x", "-----01-01", "2026--01-01", "2026-01-1"}) {
    auto report = cn_->Settlement("BJNOODLES01", date);
    EXPECT_EQ(report.status().code(), ErrorCode::kInvalidArgument) << date;
    EXPECT_EQ(report.status().message(), "business_date: expected YYYY-MM-DD") << date;
  }
  EXPECT_TRUE(cn_->MonthlyStatement(account, "2026-01").ok());
  EXPECT_TRUE(cn_->Settlement("BJNOODLES01", "2026-01-01").ok());
}

TEST_P(StatementTest, LocalMidnightSplitsTheMonth) {
  // 2026-01-31T16:30Z is 2026-02-01 00:30 in Beijing (UTC+8): a February entry.
  clock_.SetUnixMillis(1'769'877'000'000);
  const std::string account = NewAccount("owner-midnight", 2);
  TopUp(account, 1000);
  EXPECT_TRUE(cn_->MonthlyStatement(account, "2026-01")->entries.empty());
  EXPECT_EQ(cn_->MonthlyStatement(account, "2026-02")->entries.size(), 1u);
}

TEST_P(StatementTest, AuditCatchesAJournalThatDisagreesWithTheLedger) {
  const std::string account = NewAccount("owner-audit", 2);
  TopUp(account, 1000);
  ExpectAuditOk(*cn_);
  // Edit the journal behind the platform's back (a second connection to its database).
  auto store = OpenStore("tapstack-cn", cn_dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Execute("UPDATE qrpay_postings SET amount_minor = amount_minor + 1").ok());
  auto audit = cn_->Audit();
  EXPECT_EQ(audit.status().code(), ErrorCode::kInternal);
  EXPECT_NE(audit.status().message().find("journal sums to 1001"), std::string::npos)
      << audit.status().message();
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(StatementTest);

}  // namespace
}  // namespace tapstack::qrpay::testing
