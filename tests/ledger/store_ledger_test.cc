// StoreLedger on SQLite (always) and PostgreSQL (when TAPSTACK_TEST_PG_URL is set): the same
// rules as the in-memory state machine, checked by running identical random requests through
// both, plus the two-phase, idempotency and audit paths through SQL.
#include "ledger/store_ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <random>
#include <thread>

#include "core/clock.h"
#include "core/random_source.h"
#include "ledger/state_machine.h"
#include "ledger_test_util.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;
using AR = CreateAccountResult;
namespace af = account_flags;
namespace tf = transfer_flags;
using store::Dialect;

std::string UniqueRole() {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  return "ledger_t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(salt);
}

class StoreLedgerTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    role_ = UniqueRole();
    if (GetParam() == Dialect::kPostgres) {
      TS_LEDGER_REQUIRE_POSTGRES(url_);
      auto opened = store::OpenPostgres(url_, role_);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      store_ = std::move(*opened);
    } else {
      dir_ = std::make_unique<TempDir>();
      auto opened = store::OpenSqlite(dir_->path(), role_);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      store_ = std::move(*opened);
    }
    StoreLedgerOptions options;
    options.clock = &clock_;
    options.rows_per_statement_max = 8;  // exercise chunking with small requests
    auto ledger = StoreLedger::Open(*store_, options);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(*ledger);
  }

  void TearDown() override {
    ledger_.reset();
    if (store_ && GetParam() == Dialect::kPostgres) {
      (void)store_->ExecuteScript("DROP SCHEMA IF EXISTS \"" + role_ + "\" CASCADE");
    }
    store_.reset();
  }

  void CreateAndFund() {
    auto results = ledger_->CreateAccounts(
        std::vector<Account>{MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits, 10),
                             MakeAccount(2), MakeAccount(3), MakeAccount(4, kUsd)});
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    ASSERT_EQ(*results, std::vector<AR>(4, AR::kOk));
    auto funded = ledger_->CreateTransfers(std::vector<Transfer>{MakeTransfer(100, 3, 1, 100)});
    ASSERT_TRUE(funded.ok()) << funded.status().ToString();
    ASSERT_EQ(Names(*funded), "ok");
  }

  std::string Run(const std::vector<Transfer>& transfers) {
    auto results = ledger_->CreateTransfers(transfers);
    if (!results.ok()) return results.status().ToString();
    return Names(*results);
  }

  Account Get(std::uint64_t id) { return ledger_->LookupAccount(Id(id))->value(); }

  void ExpectAuditOk() {
    const Status status = ledger_->Audit();
    EXPECT_TRUE(status.ok()) << status.ToString();
  }

  std::string role_;
  std::string url_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<StoreLedger> ledger_;
  ManualClock clock_;
};

TEST_P(StoreLedgerTest, TransfersLimitsAndIdempotencyThroughSql) {
  CreateAndFund();
  EXPECT_EQ(Run({MakeTransfer(10, 1, 2, 60), MakeTransfer(11, 1, 2, 51), MakeTransfer(12, 1, 4, 1),
                 MakeTransfer(13, 1, 9, 1)}),
            "ok,exceeds_credits,accounts_must_have_the_same_ledger,credit_account_not_found");
  EXPECT_EQ(Get(1).debits_posted, 60u);
  EXPECT_EQ(Get(2).credits_posted, 60u);
  EXPECT_EQ(Run({MakeTransfer(14, 1, 2, 50)}), "ok");  // down to −10: the whole credit line
  EXPECT_EQ(Run({MakeTransfer(10, 1, 2, 60), MakeTransfer(10, 1, 2, 61), MakeTransfer(11, 1, 2, 1),
                 MakeTransfer(13, 1, 2, 1)}),
            "exists,exists_with_different_amount,id_already_failed,id_already_failed");
  EXPECT_EQ(*ledger_->LookupTransferFailure(Id(11)), TR::kExceedsCredits);
  EXPECT_FALSE(ledger_->LookupTransferFailure(Id(10))->has_value());
  EXPECT_EQ(Get(1).debits_posted, 110u);
  ExpectAuditOk();
}

TEST_P(StoreLedgerTest, TwoPhaseAndExpiryThroughSql) {
  CreateAndFund();
  EXPECT_EQ(
      Run({MakePending(20, 1, 2, 40), MakePending(21, 1, 2, 30, 10), MakePending(22, 3, 2, 5, 10)}),
      "ok,ok,ok");
  EXPECT_EQ(Get(1).debits_pending, 70u);
  EXPECT_EQ(Run({MakePost(23, 20, 15), MakePost(24, 20), MakeVoid(25, 22)}),
            "ok,pending_transfer_already_posted,ok");
  EXPECT_EQ(Get(1).debits_pending, 30u);
  EXPECT_EQ(Get(1).debits_posted, 15u);
  EXPECT_EQ(ledger_->LookupTransfer(Id(20))->value().pending_state, PendingState::kPosted);
  EXPECT_EQ(ledger_->LookupTransfer(Id(23))->value().transfer.amount, 15u);
  clock_.AdvanceMillis(9'000);
  EXPECT_EQ(*ledger_->ExpirePending(), 0u);
  clock_.AdvanceMillis(1'000);
  EXPECT_EQ(*ledger_->ExpirePending(), 0u);  // created a few ns after the tick: due just after
  clock_.AdvanceMillis(1);
  EXPECT_EQ(*ledger_->ExpirePending(), 1u);  // 21; 22 was voided
  EXPECT_EQ(ledger_->LookupTransfer(Id(21))->value().pending_state, PendingState::kExpired);
  EXPECT_EQ(Get(1).debits_pending, 0u);
  EXPECT_EQ(Run({MakePost(26, 21)}), "pending_transfer_expired");
  EXPECT_EQ(Run({MakePost(23, 20, 15)}), "exists");
  ExpectAuditOk();
}

TEST_P(StoreLedgerTest, LinkedChainsRollBackInsideTheTransaction) {
  CreateAndFund();
  Transfer a = MakeTransfer(30, 3, 2, 5, tf::kLinked);
  Transfer b = MakePending(31, 1, 2, 20);
  b.flags |= tf::kLinked;
  EXPECT_EQ(Run({a, b, MakeTransfer(32, 1, 2, 1000), MakeTransfer(33, 3, 2, 1)}),
            "linked_event_failed,linked_event_failed,exceeds_credits,ok");
  EXPECT_FALSE(ledger_->LookupTransfer(Id(30))->has_value());
  EXPECT_FALSE(ledger_->LookupTransfer(Id(31))->has_value());
  EXPECT_EQ(Get(1).debits_pending, 0u);
  EXPECT_EQ(Get(2).credits_posted, 1u);
  EXPECT_EQ(Run({a, MakeTransfer(34, 3, 2, 1)}), "ok,ok");
  ExpectAuditOk();
}

TEST_P(StoreLedgerTest, AuditCatchesARowEditedBehindTheLedgersBack) {
  CreateAndFund();
  ASSERT_EQ(Run({MakeTransfer(10, 3, 2, 7)}), "ok");
  ExpectAuditOk();
  ASSERT_TRUE(
      store_->Execute("UPDATE ledger_accounts SET credits_posted = credits_posted + 1").ok());
  const Status status = ledger_->Audit();
  EXPECT_EQ(status.code(), ErrorCode::kInternal) << status.ToString();
}

// The same random requests through StoreLedger and an in-memory StateMachine at the same
// timestamps give the same results and the same final state.
TEST_P(StoreLedgerTest, MatchesTheInMemoryStateMachine) {
  CreateAndFund();
  StateMachine reference;
  // Mirror CreateAndFund() at the timestamps StoreLedger used.
  for (std::uint64_t id = 1; id <= 4; ++id) reference.LoadAccount(Get(id));
  const Transfer funding = ledger_->LookupTransfer(Id(100))->value().transfer;
  reference.LoadTransfer(funding, PendingState::kNone);
  reference.SetLastTimestamp(funding.timestamp);
  ASSERT_EQ(reference.FindAccount(Id(1))->credits_posted, 100u);

  SeededRandom random(42);
  auto below = [&random](std::uint64_t bound) { return *random.Uniform(bound); };
  for (int step = 0; step < 40; ++step) {
    std::vector<Transfer> batch;
    const std::uint64_t n = 1 + below(12);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t id = 1000 + below(60);
      const std::uint64_t kind = below(4);
      Transfer t;
      if (kind == 0) {
        t = MakePending(id, 1 + below(3), 1 + below(3), 1 + below(30),
                        static_cast<std::uint32_t>(below(2)));
      } else if (kind == 1) {
        t = below(2) == 0
                ? MakePost(id, 1000 + below(60), below(2) ? kPostFullPendingAmount : 1 + below(20))
                : MakeVoid(id, 1000 + below(60));
      } else {
        t = MakeTransfer(id, 1 + below(4), 1 + below(4), 1 + below(40));
      }
      if (below(5) == 0) t.flags |= tf::kLinked;
      batch.push_back(t);
    }
    if (below(6) == 0) clock_.AdvanceMillis(700);
    auto results = ledger_->CreateTransfers(batch);
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    const std::uint64_t now = static_cast<std::uint64_t>(clock_.NowUnixMillis()) * 1'000'000;
    const std::uint64_t ts = std::max(now, reference.last_timestamp() + 1);
    std::vector<CreateTransferResult> expected(batch.size());
    const std::uint64_t before = reference.last_timestamp();
    // StoreLedger commits nothing, not even its clock, for a request that changed nothing.
    if (!reference.CreateTransfers(batch, ts, expected)) reference.SetLastTimestamp(before);
    ASSERT_EQ(Names(*results), Names(expected)) << "step " << step;
  }
  for (std::uint64_t id = 1; id <= 4; ++id) {
    EXPECT_EQ(Get(id), *reference.FindAccount(Id(id))) << id;
  }
  for (std::uint64_t id = 1000; id < 1060; ++id) {
    auto stored = ledger_->LookupTransfer(Id(id));
    ASSERT_TRUE(stored.ok());
    const auto expected = reference.FindTransfer(Id(id));
    ASSERT_EQ(stored->has_value(), expected.has_value()) << id;
    if (expected.has_value()) {
      EXPECT_EQ((*stored)->transfer, expected->transfer) << id;
      EXPECT_EQ((*stored)->pending_state, expected->pending_state) << id;
    }
    EXPECT_EQ(*ledger_->LookupTransferFailure(Id(id)), reference.FindFailure(Id(id))) << id;
  }
  ExpectAuditOk();
}

TEST_P(StoreLedgerTest, ConcurrentLedgersOnOneDatabaseSerialise) {
  CreateAndFund();
  auto other_store = GetParam() == Dialect::kPostgres ? store::OpenPostgres(url_, role_)
                                                      : store::OpenSqlite(dir_->path(), role_);
  ASSERT_TRUE(other_store.ok()) << other_store.status().ToString();
  StoreLedgerOptions options;
  options.clock = &clock_;
  auto other = StoreLedger::Open(**other_store, options);
  ASSERT_TRUE(other.ok());
  constexpr int kRequests = 15;
  constexpr int kPerRequest = 5;
  std::atomic<int> ok{0};
  std::atomic<int> errors{0};
  auto client = [&](StoreLedger& ledger, std::uint64_t first_id) {
    for (int r = 0; r < kRequests; ++r) {
      std::vector<Transfer> batch;
      for (int k = 0; k < kPerRequest; ++k) {
        batch.push_back(
            MakeTransfer(first_id + static_cast<std::uint64_t>(r * kPerRequest + k), 3, 2, 1));
      }
      auto results = ledger.CreateTransfers(batch);
      if (!results.ok()) {
        ++errors;
        ADD_FAILURE() << results.status().ToString();
        continue;
      }
      for (TR result : *results) ok += result == TR::kOk ? 1 : 0;
    }
  };
  std::thread a(client, std::ref(*ledger_), 10'000);
  std::thread b(client, std::ref(**other), 20'000);
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(ok.load(), 2 * kRequests * kPerRequest);
  EXPECT_EQ(Get(2).credits_posted, static_cast<std::uint64_t>(2 * kRequests * kPerRequest));
  ExpectAuditOk();  // timestamps unique and increasing across both writers
  other->reset();
}

// The caller's transaction decides: its own row and the ledger's writes commit together, and a
// rollback leaves neither (no transfer, no balance change, no remembered failure).
TEST_P(StoreLedgerTest, TransfersInTheCallersTransactionCommitOrRollBackWithIt) {
  CreateAndFund();
  ASSERT_TRUE(store_->ExecuteScript("CREATE TABLE journal_t (id BIGINT PRIMARY KEY)").ok());
  std::vector<CreateTransferResult> results(3);
  const std::vector<Transfer> batch = {MakeTransfer(40, 1, 2, 25), MakeTransfer(41, 1, 2, 1000),
                                       MakeTransfer(42, 3, 2, 5)};
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Execute("INSERT INTO journal_t (id) VALUES (1)").ok());
  ASSERT_TRUE(ledger_->CreateTransfersInTransaction(*store_, batch, results).ok());
  EXPECT_EQ(Names(results), "ok,exceeds_credits,ok");
  ASSERT_TRUE(store_->Rollback().ok());
  EXPECT_FALSE(ledger_->LookupTransfer(Id(40))->has_value());
  EXPECT_FALSE(ledger_->LookupTransfer(Id(42))->has_value());
  EXPECT_FALSE(ledger_->LookupTransferFailure(Id(41))->has_value());
  EXPECT_EQ(Get(1).debits_posted, 0u);
  EXPECT_EQ(Get(2).credits_posted, 0u);
  EXPECT_TRUE(store_->Query("SELECT id FROM journal_t")->empty());
  ExpectAuditOk();

  // The same batch again, committed this time: both the journal row and the transfers exist.
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->Execute("INSERT INTO journal_t (id) VALUES (1)").ok());
  ASSERT_TRUE(ledger_->CreateTransfersInTransaction(*store_, batch, results).ok());
  // A second batch in the same transaction sees the first one's writes.
  std::vector<CreateTransferResult> again(1);
  ASSERT_TRUE(
      ledger_->CreateTransfersInTransaction(*store_, std::vector<Transfer>{batch[0]}, again).ok());
  EXPECT_EQ(Names(again), "exists");
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(Names(results), "ok,exceeds_credits,ok");
  EXPECT_EQ(Get(1).debits_posted, 25u);
  EXPECT_EQ(Get(2).credits_posted, 30u);
  EXPECT_EQ(*ledger_->LookupTransferFailure(Id(41)), TR::kExceedsCredits);
  EXPECT_EQ(store_->Query("SELECT id FROM journal_t")->size(), 1u);
  // The existing API still works after the shared-code refactor.
  EXPECT_EQ(Run({MakeTransfer(40, 1, 2, 25)}), "exists");
  ExpectAuditOk();
}

TEST_P(StoreLedgerTest, InTransactionCallsNeedAnOpenTransaction) {
  CreateAndFund();
  std::vector<CreateTransferResult> results(1);
  EXPECT_EQ(ledger_
                ->CreateTransfersInTransaction(
                    *store_, std::vector<Transfer>{MakeTransfer(50, 3, 2, 1)}, results)
                .code(),
            ErrorCode::kFailedPrecondition);
  std::vector<CreateAccountResult> account_results(1);
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(ledger_
                  ->CreateAccountsInTransaction(*store_, std::vector<Account>{MakeAccount(60)},
                                                account_results)
                  .ok());
  EXPECT_EQ(account_results[0], AR::kOk);
  ASSERT_TRUE(store_->Rollback().ok());
  EXPECT_FALSE(ledger_->LookupAccount(Id(60))->has_value());
  EXPECT_FALSE(ledger_->LookupTransfer(Id(50))->has_value());
}

TEST_P(StoreLedgerTest, RefusesOversizedRequests) {
  std::vector<Transfer> too_many(kBatchEventsMax + 1, MakeTransfer(1, 1, 2, 1));
  EXPECT_EQ(ledger_->CreateTransfers(too_many).status().code(), ErrorCode::kInvalidArgument);
}

std::string DialectName(const ::testing::TestParamInfo<Dialect>& info) {
  return info.param == Dialect::kSqlite ? "sqlite" : "postgres";
}

INSTANTIATE_TEST_SUITE_P(Databases, StoreLedgerTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres), DialectName);

}  // namespace
}  // namespace tapstack::ledger::testing
