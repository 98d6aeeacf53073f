// The durable Ledger: reopen gives the same state, expiry on the ledger's clock, concurrency and
// group commit, sticky failures, crash recovery on a simulated disk, limits and locking.
#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "ledger_test_util.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;
using AR = CreateAccountResult;
namespace af = account_flags;

std::unique_ptr<Ledger> MustOpen(const LedgerOptions& options) {
  auto opened = Ledger::Open(options);
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  return std::move(*opened);
}

void ExpectAudit(Ledger& ledger, bool verify_log = true) {
  const Status status = ledger.Audit(nullptr, verify_log);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

class LedgerTest : public ::testing::Test {
 protected:
  LedgerOptions Options() {
    LedgerOptions options;
    options.data_dir = dir_.path() / "data";
    options.clock = &clock_;
    options.log_preallocate_bytes = 1024 * 1024;
    options.expire_pending_interval_ms = 0;
    return options;
  }

  // Accounts 1..n; 1 is limited (no overdraft) and funded with 1000 from n.
  void CreateAndFund(Ledger& ledger, std::uint64_t n = 4) {
    std::vector<Account> accounts = {MakeAccount(1, kCny, af::kDebitsMustNotExceedCredits)};
    for (std::uint64_t i = 2; i <= n; ++i) accounts.push_back(MakeAccount(i));
    auto results = ledger.CreateAccounts(accounts);
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    ASSERT_EQ(*results, std::vector<AR>(n, AR::kOk));
    auto funded = ledger.CreateTransfers(std::vector<Transfer>{MakeTransfer(1000, n, 1, 1000)});
    ASSERT_TRUE(funded.ok());
    ASSERT_EQ(Names(*funded), "ok");
  }

  TempDir dir_;
  ManualClock clock_;
};

TEST_F(LedgerTest, ReopenRestoresTheSameState) {
  AuditReport before;
  {
    auto ledger = MustOpen(Options());
    EXPECT_TRUE(ledger->recovery().created);
    CreateAndFund(*ledger);
    auto results = ledger->CreateTransfers(std::vector<Transfer>{
        MakeTransfer(10, 1, 2, 100), MakePending(11, 1, 3, 200, 60), MakePending(12, 1, 2, 50),
        MakeTransfer(13, 1, 2, 5000) /* exceeds */, MakePost(14, 12, 20)});
    ASSERT_TRUE(results.ok());
    EXPECT_EQ(Names(*results), "ok,ok,ok,exceeds_credits,ok");
    ASSERT_TRUE(ledger->Audit(&before, true).ok());
    EXPECT_TRUE(ledger->Close().ok());
  }
  auto ledger = MustOpen(Options());
  EXPECT_FALSE(ledger->recovery().created);
  EXPECT_FALSE(ledger->recovery().torn_tail);
  EXPECT_EQ(ledger->recovery().batches, 3u);
  AuditReport after;
  ASSERT_TRUE(ledger->Audit(&after, true).ok());
  ASSERT_EQ(after.ledgers.size(), 1u);
  EXPECT_EQ(after.ledgers[0].debits_posted, before.ledgers[0].debits_posted);
  EXPECT_EQ(after.ledgers[0].debits_pending, before.ledgers[0].debits_pending);
  EXPECT_EQ(after.transfers, before.transfers);
  auto account = ledger->LookupAccount(Id(1));
  ASSERT_TRUE(account.ok() && account->has_value());
  EXPECT_EQ((*account)->debits_posted, 120u);
  EXPECT_EQ((*account)->debits_pending, 200u);
  auto hold = ledger->LookupTransfer(Id(12));
  ASSERT_TRUE(hold.ok() && hold->has_value());
  EXPECT_EQ((*hold)->pending_state, PendingState::kPosted);
  EXPECT_EQ(*ledger->LookupTransferFailure(Id(13)), TR::kExceedsCredits);
  EXPECT_FALSE(ledger->LookupTransfer(Id(13))->has_value());
  // Retries after the restart see the first outcome.
  auto retry = ledger->CreateTransfers(
      std::vector<Transfer>{MakeTransfer(10, 1, 2, 100), MakeTransfer(13, 1, 2, 5000)});
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(Names(*retry), "exists,id_already_failed");
  // The timestamps continue after the recovered ones.
  auto next = ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(15, 3, 2, 1)});
  ASSERT_TRUE(next.ok());
  EXPECT_GT(ledger->LookupTransfer(Id(15))->value().transfer.timestamp,
            ledger->LookupTransfer(Id(14))->value().transfer.timestamp);
}

TEST_F(LedgerTest, HoldsExpireOnTheLedgersClockAndStayExpiredAfterReopen) {
  {
    auto ledger = MustOpen(Options());
    CreateAndFund(*ledger);
    ASSERT_EQ(
        Names(*ledger->CreateTransfers(std::vector<Transfer>{MakePending(10, 1, 2, 300, 30)})),
        "ok");
    clock_.AdvanceMillis(29'999);
    EXPECT_EQ(*ledger->ExpirePending(), 0u);
    EXPECT_EQ(ledger->LookupAccount(Id(1))->value().debits_pending, 300u);
    // The hold was created a few nanoseconds after the millisecond tick, so it is due one tick
    // after +30 000 ms: never early.
    clock_.AdvanceMillis(1);
    EXPECT_EQ(*ledger->ExpirePending(), 0u);
    clock_.AdvanceMillis(1);
    EXPECT_EQ(*ledger->ExpirePending(), 1u);
    EXPECT_EQ(ledger->LookupTransfer(Id(10))->value().pending_state, PendingState::kExpired);
    EXPECT_EQ(ledger->LookupAccount(Id(1))->value().debits_pending, 0u);
    EXPECT_EQ(Names(*ledger->CreateTransfers(std::vector<Transfer>{MakePost(11, 10)})),
              "pending_transfer_expired");
    EXPECT_EQ(ledger->stats().holds_expired, 1u);
  }
  auto ledger = MustOpen(Options());
  EXPECT_EQ(ledger->LookupTransfer(Id(10))->value().pending_state, PendingState::kExpired);
  EXPECT_EQ(ledger->LookupAccount(Id(1))->value().debits_pending, 0u);
  ExpectAudit(*ledger);
}

TEST_F(LedgerTest, CommitterSweepsExpiredHoldsByItself) {
  LedgerOptions options = Options();
  options.expire_pending_interval_ms = 5;
  auto ledger = MustOpen(options);
  CreateAndFund(*ledger);
  ASSERT_EQ(Names(*ledger->CreateTransfers(std::vector<Transfer>{MakePending(10, 1, 2, 300, 1)})),
            "ok");
  clock_.AdvanceMillis(1001);
  PendingState state = PendingState::kPending;
  for (int i = 0; i < 400 && state == PendingState::kPending; ++i) {  // at most ~2 s
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    state = ledger->LookupTransfer(Id(10))->value().pending_state;
  }
  EXPECT_EQ(state, PendingState::kExpired);
  EXPECT_EQ(ledger->LookupAccount(Id(1))->value().debits_pending, 0u);
  ExpectAudit(*ledger);
}

TEST_F(LedgerTest, ConcurrentCallersConserveMoneyAndShareSyncs) {
  LedgerOptions options = Options();
  options.clock = nullptr;  // the system clock
  auto ledger = MustOpen(options);
  constexpr std::uint64_t kAccounts = 16;
  std::vector<Account> accounts;
  for (std::uint64_t i = 1; i <= kAccounts; ++i) {
    accounts.push_back(MakeAccount(i, kCny, i % 2 == 0 ? af::kDebitsMustNotExceedCredits : 0));
  }
  ASSERT_TRUE(ledger->CreateAccounts(accounts).ok());
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 60;
  std::atomic<int> ok{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(t + 1);
      for (int r = 0; r < kRequestsPerThread; ++r) {
        std::vector<Transfer> batch;
        for (int k = 0; k < 5; ++k) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          const std::uint64_t debit = 1 + x % kAccounts;
          const std::uint64_t credit = 1 + (debit + (x >> 8) % (kAccounts - 1)) % kAccounts;
          const std::uint64_t id =
              1'000'000 * static_cast<std::uint64_t>(t + 1) + static_cast<std::uint64_t>(r * 5 + k);
          batch.push_back(MakeTransfer(id, debit, credit, 1 + (x >> 20) % 50));
        }
        auto results = ledger->CreateTransfers(batch);
        if (!results.ok()) {
          ++errors;
          continue;
        }
        for (TR result : *results) {
          if (result == TR::kOk) ++ok;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(ok.load(), 0);
  AuditReport report;
  const Status audit = ledger->Audit(&report, true);
  ASSERT_TRUE(audit.ok()) << audit.ToString();
  EXPECT_EQ(report.ledgers[0].debits_posted, report.ledgers[0].credits_posted);
  EXPECT_EQ(report.transfers, static_cast<std::uint64_t>(ok.load()));
  const LedgerStats stats = ledger->stats();
  EXPECT_EQ(stats.requests, 1u + kThreads * kRequestsPerThread);  // + the accounts
  // Group commit: far fewer syncs than requests when callers overlap.
  EXPECT_LT(stats.groups_synced, static_cast<std::uint64_t>(kThreads * kRequestsPerThread));
  ASSERT_TRUE(ledger->Close().ok());
  auto reopened = MustOpen(options);
  ExpectAudit(*reopened);
}

TEST_F(LedgerTest, FailedSyncIsStickyAndAcknowledgedDataSurvives) {
  auto disk = std::make_shared<MemoryDisk>();
  {
    auto ledger = MustOpen(MemoryLedgerOptions(disk, &clock_));
    CreateAndFund(*ledger);
    disk->fail_sync_at = disk->syncs;  // the next sync fails
    auto failed = ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(10, 1, 2, 7)});
    EXPECT_EQ(failed.status().code(), ErrorCode::kIoError) << failed.status().ToString();
    // Everything fails from now on, reads included: the memory is ahead of the disk.
    EXPECT_EQ(
        ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(11, 1, 2, 7)}).status().code(),
        ErrorCode::kIoError);
    EXPECT_EQ(ledger->LookupAccount(Id(1)).status().code(), ErrorCode::kIoError);
    EXPECT_EQ(ledger->Audit().code(), ErrorCode::kIoError);
    EXPECT_EQ(ledger->Close().code(), ErrorCode::kIoError);
  }
  disk->Crash(7);  // the unsynced write of transfer 10 may survive, vanish or tear
  auto ledger = MustOpen(MemoryLedgerOptions(disk, &clock_));
  EXPECT_TRUE(ledger->LookupTransfer(Id(1000))->has_value());  // acknowledged: present
  ExpectAudit(*ledger);
  // The outcome of 10 was unknown; the same id resolves it either way.
  auto retry = ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(10, 1, 2, 7)});
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(Names(*retry) == "ok" || Names(*retry) == "exists") << Names(*retry);
  EXPECT_EQ(ledger->LookupAccount(Id(1))->value().debits_posted, 7u);
}

TEST_F(LedgerTest, FailedWriteIsStickyToo) {
  auto disk = std::make_shared<MemoryDisk>();
  auto ledger = MustOpen(MemoryLedgerOptions(disk, &clock_));
  CreateAndFund(*ledger);
  disk->fail_write_at = disk->writes;
  EXPECT_EQ(
      ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(10, 1, 2, 7)}).status().code(),
      ErrorCode::kIoError);
  EXPECT_EQ(ledger->ExpirePending().status().code(), ErrorCode::kIoError);
}

// Crash at many points: every acknowledged request survives, unacknowledged ones may or may not,
// and the recovered state always passes the audit.
TEST_F(LedgerTest, SimulatedCrashesKeepEveryAcknowledgedTransfer) {
  for (std::uint64_t seed = 0; seed < 24; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto disk = std::make_shared<MemoryDisk>();
    std::vector<std::uint64_t> acknowledged;
    std::uint64_t next_id = 10;
    {
      auto ledger = MustOpen(MemoryLedgerOptions(disk, &clock_));
      CreateAndFund(*ledger);
      // Requests succeed until the sync number `crash_at` fails; that request's group is in
      // flight when the power goes.
      disk->fail_sync_at = disk->syncs + static_cast<int>(seed % 6);
      for (int r = 0; r < 8; ++r) {
        std::vector<Transfer> batch;
        for (int k = 0; k < 3; ++k, ++next_id) {
          batch.push_back(next_id % 4 == 0 ? MakePending(next_id, 1, 2, 1)
                                           : MakeTransfer(next_id, 4, 3, 1 + next_id % 7));
        }
        auto results = ledger->CreateTransfers(batch);
        if (!results.ok()) break;
        for (const Transfer& t : batch) acknowledged.push_back(t.id.low);
      }
    }
    disk->Crash(seed);
    auto ledger = MustOpen(MemoryLedgerOptions(disk, &clock_));
    for (std::uint64_t id : acknowledged) {
      EXPECT_TRUE(ledger->LookupTransfer(Id(id))->has_value()) << id;
    }
    ExpectAudit(*ledger);
    // The log accepts new groups after recovery.
    ASSERT_EQ(Names(*ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(99'999, 4, 3, 1)})),
              "ok");
    ASSERT_TRUE(ledger->Close().ok());
    auto again = MustOpen(MemoryLedgerOptions(disk, &clock_));
    EXPECT_TRUE(again->LookupTransfer(Id(99'999))->has_value());
    ExpectAudit(*again);
  }
}

TEST_F(LedgerTest, TornTailOnDiskIsTruncatedAndMiddleDamageIsRefused) {
  std::uint64_t second_group = 0;
  {
    auto ledger = MustOpen(Options());
    CreateAndFund(*ledger);  // groups 1 (accounts) and 2 (funding)
    second_group = ledger->recovery().end_offset + kLogBlockBytes;
    ASSERT_EQ(Names(*ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(10, 1, 2, 5)})),
              "ok");
  }
  const std::filesystem::path path = LedgerLogPath(Options().data_dir, "ledger");
  std::vector<char> pristine(std::filesystem::file_size(path));
  {
    std::ifstream in(path, std::ios::binary);
    in.read(pristine.data(), static_cast<std::streamsize>(pristine.size()));
  }
  auto write_file = [&](const std::vector<char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  // A flipped byte in the middle group: refused, nothing touched.
  std::vector<char> damaged = pristine;
  damaged[second_group + kRecordBytes + 3] ^= 0x10;
  write_file(damaged);
  auto refused = Ledger::Open(Options());
  EXPECT_EQ(refused.status().code(), ErrorCode::kCorruption) << refused.status().ToString();
  // The last group cut in the middle of a record: the prefix is recovered.
  std::vector<char> cut(
      pristine.begin(),
      pristine.begin() + static_cast<std::ptrdiff_t>(second_group + kLogBlockBytes + 200));
  write_file(cut);
  auto ledger = MustOpen(Options());
  EXPECT_TRUE(ledger->recovery().torn_tail);
  EXPECT_TRUE(ledger->LookupTransfer(Id(1000))->has_value());
  EXPECT_FALSE(ledger->LookupTransfer(Id(10))->has_value());
  ExpectAudit(*ledger);
}

TEST_F(LedgerTest, ReplayThatDivergesFromTheLoggedResultsIsRefused) {
  auto disk = std::make_shared<MemoryDisk>();
  {
    auto ledger = MustOpen(MemoryLedgerOptions(disk, &clock_));
    CreateAndFund(*ledger);
  }
  // Append a well-formed group whose stored results digest does not match what replay computes.
  MemoryLogFile file(disk);
  RecoveryReport report;
  ASSERT_TRUE(RecoverLog(
                  file, RecoveryOptions{}, [](const BatchView&) { return Status::Ok(); }, &report)
                  .ok());
  GroupEncoder encoder(GroupEncoder::kGroupBytesMin);
  encoder.Begin(report.end_offset, report.last_sequence + 1, report.last_checksum);
  const Transfer t = MakeTransfer(50, 4, 3, 9);
  const std::vector<CreateTransferResult> claimed = {TR::kExceedsCredits};  // a lie
  encoder.AddBatch(BatchKind::kTransfers, clock_.NowUnixMillis() * 1'000'000 + 1'000'000'000, 0,
                   {reinterpret_cast<const std::uint8_t*>(&t), sizeof(t)}, 1,
                   ResultsDigest({reinterpret_cast<const std::uint8_t*>(claimed.data()), 4}));
  const auto bytes = encoder.Finish();
  ASSERT_TRUE(file.WriteAt(report.end_offset, bytes).ok());
  auto opened = Ledger::Open(MemoryLedgerOptions(disk, &clock_));
  EXPECT_EQ(opened.status().code(), ErrorCode::kInternal) << opened.status().ToString();
}

TEST_F(LedgerTest, SecondOpenOfTheSameLedgerIsRefused) {
  auto ledger = MustOpen(Options());
  auto second = Ledger::Open(Options());
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition) << second.status().ToString();
  LedgerOptions read_only = Options();
  read_only.read_only = true;
  EXPECT_EQ(Ledger::Open(read_only).status().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(LedgerTest, ReadOnlyOpenServesLookupsAndAuditOnly) {
  LedgerOptions read_only = Options();
  read_only.read_only = true;
  EXPECT_EQ(Ledger::Open(read_only).status().code(), ErrorCode::kNotFound);
  {
    auto ledger = MustOpen(Options());
    CreateAndFund(*ledger);
  }
  auto ledger = MustOpen(read_only);
  EXPECT_TRUE(ledger->LookupTransfer(Id(1000))->has_value());
  ExpectAudit(*ledger);
  EXPECT_EQ(
      ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(10, 1, 2, 1)}).status().code(),
      ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ledger->ExpirePending().status().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(LedgerTest, LimitsRefuseWholeRequests) {
  LedgerOptions options = Options();
  options.accounts_max = 4;
  options.transfers_max = 3;
  auto ledger = MustOpen(options);
  CreateAndFund(*ledger);  // 4 accounts, 1 transfer
  EXPECT_EQ(ledger->CreateAccounts(std::vector<Account>{MakeAccount(9)}).status().code(),
            ErrorCode::kOutOfRange);
  EXPECT_EQ(
      ledger
          ->CreateTransfers(std::vector<Transfer>{
              MakeTransfer(10, 4, 3, 1), MakeTransfer(11, 4, 3, 1), MakeTransfer(12, 4, 3, 1)})
          .status()
          .code(),
      ErrorCode::kOutOfRange);
  EXPECT_FALSE(ledger->LookupTransfer(Id(10))->has_value());  // nothing of it was applied
  std::vector<Transfer> too_many(kBatchEventsMax + 1, MakeTransfer(20, 4, 3, 1));
  EXPECT_EQ(ledger->CreateTransfers(too_many).status().code(), ErrorCode::kInvalidArgument);
  std::vector<CreateTransferResult> short_results(1);
  EXPECT_EQ(
      ledger->CreateTransfers(std::vector<Transfer>(2, MakeTransfer(21, 4, 3, 1)), short_results)
          .code(),
      ErrorCode::kInvalidArgument);
  ExpectAudit(*ledger);
}

TEST_F(LedgerTest, LogSizeLimitRefusesRequestsThatDoNotFit) {
  LedgerOptions options = Options();
  options.log_bytes_max = kLogFirstGroupOffset + 3 * kLogBlockBytes;
  auto ledger = MustOpen(options);
  CreateAndFund(*ledger);  // two one-block groups
  std::vector<Transfer> big;
  for (std::uint64_t i = 0; i < 100; ++i) big.push_back(MakeTransfer(100 + i, 4, 3, 1));
  EXPECT_EQ(ledger->CreateTransfers(big).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(Names(*ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(10, 4, 3, 1)})),
            "ok");
  ExpectAudit(*ledger);
}

TEST_F(LedgerTest, BadOptionsAreRefused) {
  LedgerOptions options = Options();
  options.name = "Bad-Name";
  EXPECT_EQ(Ledger::Open(options).status().code(), ErrorCode::kInvalidArgument);
  options.name = "";
  EXPECT_EQ(Ledger::Open(options).status().code(), ErrorCode::kInvalidArgument);
  options = Options();
  options.data_dir.clear();
  EXPECT_EQ(Ledger::Open(options).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LedgerTest, CallsAfterCloseFail) {
  auto ledger = MustOpen(Options());
  ASSERT_TRUE(ledger->Close().ok());
  EXPECT_TRUE(ledger->Close().ok());
  EXPECT_EQ(
      ledger->CreateTransfers(std::vector<Transfer>{MakeTransfer(10, 1, 2, 1)}).status().code(),
      ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ledger->LookupAccount(Id(1)).status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tapstack::ledger::testing
