// A real kill -9: a child process creates transfers from several threads and reports each
// acknowledged outcome on a pipe only after CreateTransfers returned; the parent kills it at a
// random moment, reopens the ledger and checks that every acknowledged outcome is there and the
// audit passes. Three rounds on the same ledger, so recovery after a crash is itself recovered.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "ledger/ledger.h"
#include "ledger_test_util.h"

namespace tapstack::ledger::testing {
namespace {

using TR = CreateTransferResult;

struct Acknowledged {
  std::uint64_t id;
  std::uint64_t result;
};

constexpr std::uint64_t kAccounts = 8;
constexpr int kChildThreads = 3;
constexpr std::size_t kBatch = 20;

LedgerOptions CrashOptions(const std::filesystem::path& dir) {
  LedgerOptions options;
  options.data_dir = dir;
  options.log_preallocate_bytes = 1024 * 1024;
  options.expire_pending_interval_ms = 0;
  return options;
}

// Runs in the child; never returns.
[[noreturn]] void ChildMain(const std::filesystem::path& dir, int round, int pipe_fd) {
  auto opened = Ledger::Open(CrashOptions(dir));
  if (!opened.ok()) _exit(3);
  Ledger& ledger = **opened;
  std::vector<Account> accounts = {
      MakeAccount(1, kCny, account_flags::kDebitsMustNotExceedCredits)};
  for (std::uint64_t i = 2; i <= kAccounts; ++i) accounts.push_back(MakeAccount(i));
  if (!ledger.CreateAccounts(accounts).ok()) _exit(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&ledger, round, t, pipe_fd] {
      std::uint64_t next =
          (static_cast<std::uint64_t>(round) << 40) | (static_cast<std::uint64_t>(t) << 32);
      std::uint64_t x = next | 1;
      std::vector<std::uint64_t> my_pending;
      for (;;) {
        std::vector<Transfer> batch;
        for (std::size_t k = 0; k < kBatch; ++k) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          const std::uint64_t id = ++next;
          const std::uint64_t debit = 1 + x % kAccounts;
          const std::uint64_t credit = 1 + (debit + (x >> 9) % (kAccounts - 1)) % kAccounts;
          if (!my_pending.empty() && x % 5 == 0) {
            batch.push_back(x % 2 == 0 ? MakePost(id, my_pending.back(), 1 + x % 3)
                                       : MakeVoid(id, my_pending.back()));
            my_pending.pop_back();
          } else if (x % 4 == 0) {
            batch.push_back(MakePending(id, debit, credit, 1 + (x >> 20) % 9));
            my_pending.push_back(id);
          } else {
            batch.push_back(MakeTransfer(id, debit, credit, 1 + (x >> 20) % 9));
          }
        }
        auto results = ledger.CreateTransfers(batch);
        if (!results.ok()) _exit(5);
        // Acknowledged: only now is the outcome reported.
        std::vector<Acknowledged> acks;
        for (std::size_t k = 0; k < batch.size(); ++k) {
          acks.push_back({batch[k].id.low, static_cast<std::uint64_t>((*results)[k])});
        }
        const auto* data = reinterpret_cast<const char*>(acks.data());
        const std::size_t size = acks.size() * sizeof(Acknowledged);  // < PIPE_BUF: atomic
        if (write(pipe_fd, data, size) != static_cast<ssize_t>(size)) _exit(6);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  _exit(0);
}

TEST(LedgerCrashTest, KillNineLosesNoAcknowledgedTransfer) {
  TempDir dir;
  std::vector<Acknowledged> all;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      ChildMain(dir.path(), round + 1, fds[1]);
    }
    close(fds[1]);
    // Let it run until it has acknowledged a few hundred outcomes (more each round), then kill.
    const std::size_t want = 200 + 150 * static_cast<std::size_t>(round);
    std::vector<Acknowledged> acks;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::vector<char> buffer;
    char chunk[4096];
    while (acks.size() < want && std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = read(fds[0], chunk, sizeof(chunk));
      if (n <= 0) break;
      buffer.insert(buffer.end(), chunk, chunk + n);
      while (buffer.size() >= sizeof(Acknowledged)) {
        Acknowledged a;
        std::memcpy(&a, buffer.data(), sizeof(a));
        buffer.erase(buffer.begin(), buffer.begin() + sizeof(a));
        acks.push_back(a);
      }
    }
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
    // Outcomes written to the pipe before the kill are still in it.
    for (ssize_t n; (n = read(fds[0], chunk, sizeof(chunk))) > 0;) {
      buffer.insert(buffer.end(), chunk, chunk + n);
    }
    close(fds[0]);
    ASSERT_EQ(buffer.size() % sizeof(Acknowledged), 0u);
    for (std::size_t at = 0; at < buffer.size(); at += sizeof(Acknowledged)) {
      Acknowledged a;
      std::memcpy(&a, buffer.data() + at, sizeof(a));
      acks.push_back(a);
    }
    ASSERT_GE(acks.size(), want);
    all.insert(all.end(), acks.begin(), acks.end());

    auto ledger = Ledger::Open(CrashOptions(dir.path()));
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    std::size_t created = 0;
    for (const Acknowledged& a : all) {
      const auto result = static_cast<TR>(a.result);
      if (result == TR::kOk) {
        ++created;
        auto found = (*ledger)->LookupTransfer(Id(a.id));
        ASSERT_TRUE(found.ok() && found->has_value()) << "acknowledged transfer lost: " << a.id;
      } else if (IsTransientFailure(result)) {
        EXPECT_EQ((*ledger)->LookupTransferFailure(Id(a.id)).value(), result) << a.id;
      }
    }
    EXPECT_GT(created, 0u);
    AuditReport report;
    const Status audit = (*ledger)->Audit(&report, /*verify_log=*/true);
    ASSERT_TRUE(audit.ok()) << audit.ToString();
    EXPECT_GE(report.transfers, created);
  }
}

}  // namespace
}  // namespace tapstack::ledger::testing
