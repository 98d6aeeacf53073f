// The same debit/credit transfers through the durable Ledger (write-ahead log, group commit,
// fdatasync per batch) and through StoreLedger on PostgreSQL (one serialisable transaction per
// batch, synchronous_commit on, fsync on): same accounts, same transfer ids and amounts, same
// batch size, one client, each batch acknowledged only when durable. Prints both rates and the
// ratio.
//
//   scripts/pg-test-server start /tmp/pg 54329     # prints the URL
//   export TAPSTACK_TEST_PG_URL=postgresql://postgres@127.0.0.1:54329/tapstack_test
//   build/bench/ledger_vs_postgres [--batches N] [--batch-size N] [--accounts N]
//
// Exit codes: 0 done; 1 a run failed or a transfer was refused; 2 bad arguments or no URL.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/store_ledger.h"
#include "store/postgres_store.h"

namespace {

using namespace tapstack;
using namespace tapstack::ledger;

struct Config {
  std::size_t batches = 20;
  std::size_t batch_size = kBatchEventsMax;
  std::uint64_t accounts = 10'000;
};

std::vector<Account> MakeAccounts(std::uint64_t count) {
  std::vector<Account> accounts;
  for (std::uint64_t i = 1; i <= count; ++i) {
    Account a;
    a.id = Id128::FromU64(i);
    a.ledger = 156;
    a.code = 1;
    accounts.push_back(a);
  }
  return accounts;
}

std::vector<std::vector<Transfer>> MakeBatches(const Config& config) {
  std::mt19937_64 rng(20260101);
  std::vector<std::vector<Transfer>> batches(config.batches);
  std::uint64_t next_id = 0;
  for (auto& batch : batches) {
    batch.resize(config.batch_size);
    for (Transfer& t : batch) {
      t.id = Id128{++next_id, 1};
      const std::uint64_t debit = 1 + rng() % config.accounts;
      std::uint64_t credit = 1 + rng() % (config.accounts - 1);
      if (credit >= debit) ++credit;
      t.debit_account_id = Id128::FromU64(debit);
      t.credit_account_id = Id128::FromU64(credit);
      t.amount = 1 + rng() % 10'000;
      t.ledger = 156;
      t.code = 1;
    }
  }
  return batches;
}

// Creates the accounts, then times the batches. Returns transfers per second.
template <typename LedgerT>
double Run(const char* name, LedgerT& ledger, const Config& config,
           const std::vector<std::vector<Transfer>>& batches) {
  const auto accounts = MakeAccounts(config.accounts);
  for (std::size_t at = 0; at < accounts.size(); at += kBatchEventsMax) {
    const std::size_t n = std::min<std::size_t>(kBatchEventsMax, accounts.size() - at);
    auto created = ledger.CreateAccounts(std::span(accounts).subspan(at, n));
    if (!created.ok())
      throw std::runtime_error(std::string(name) + ": " + created.status().ToString());
  }
  std::vector<double> batch_ms;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& batch : batches) {
    const auto t0 = std::chrono::steady_clock::now();
    auto results = ledger.CreateTransfers(batch);
    batch_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!results.ok())
      throw std::runtime_error(std::string(name) + ": " + results.status().ToString());
    for (CreateTransferResult r : *results) {
      if (r != CreateTransferResult::kOk) {
        throw std::runtime_error(std::string(name) + ": a transfer was refused: " +
                                 std::string(CreateTransferResultName(r)));
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(batch_ms.begin(), batch_ms.end());
  const double rate = static_cast<double>(config.batches * config.batch_size) / seconds;
  std::printf(
      "%-10s %8zu transfers in %7.3f s = %12.0f transfers/s   batch latency ms p50 %.1f "
      "p99 %.1f max %.1f\n",
      name, config.batches * config.batch_size, seconds, rate, batch_ms[batch_ms.size() / 2],
      batch_ms[batch_ms.size() * 99 / 100], batch_ms.back());
  const Status audit = ledger.Audit();
  if (!audit.ok()) throw std::runtime_error(std::string(name) + ": " + audit.ToString());
  return rate;
}

bool ParseSize(const char* text, std::size_t* out) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value == 0) return false;
  *out = static_cast<std::size_t>(value);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::size_t value = 0;
    if (i + 1 >= argc || !ParseSize(argv[i + 1], &value)) {
      std::fprintf(stderr, "usage: %s [--batches N] [--batch-size N<=%zu] [--accounts N>=2]\n",
                   argv[0], kBatchEventsMax);
      return 2;
    }
    ++i;
    if (arg == "--batches") {
      config.batches = value;
    } else if (arg == "--batch-size" && value <= kBatchEventsMax) {
      config.batch_size = value;
    } else if (arg == "--accounts" && value >= 2) {
      config.accounts = value;
    } else {
      std::fprintf(stderr, "ledger_vs_postgres: bad option %s\n", arg.c_str());
      return 2;
    }
  }
  const char* url = std::getenv("TAPSTACK_TEST_PG_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr,
                 "ledger_vs_postgres: set TAPSTACK_TEST_PG_URL (start a server with "
                 "scripts/pg-test-server start <dir>)\n");
    return 2;
  }
  const auto batches = MakeBatches(config);
  std::printf(
      "%zu batches x %zu debit/credit transfers, %llu accounts, one client, durable per "
      "batch\n",
      config.batches, config.batch_size, static_cast<unsigned long long>(config.accounts));
  try {
    double ledger_rate = 0;
    {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "tapstack-ledger-vs-pg-XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
      LedgerOptions options;
      options.data_dir = pattern;
      auto opened = Ledger::Open(options);
      if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
      std::printf("ledger:    log %s (fdatasync per group)\n", (*opened)->path().c_str());
      ledger_rate = Run("ledger", **opened, config, batches);
      (*opened).reset();
      std::filesystem::remove_all(pattern);
    }
    const std::string role = "ledger_bench_" + std::to_string(getpid());
    auto store = store::OpenPostgres(url, role);
    if (!store.ok()) throw std::runtime_error(store.status().ToString());
    for (const char* setting : {"synchronous_commit", "fsync", "full_page_writes"}) {
      auto row = (*store)->QueryRow(std::string("SHOW ") + setting);
      std::printf("postgres:  %s = %s\n", setting,
                  row.ok() ? row->GetText(0).value().c_str() : row.status().ToString().c_str());
    }
    StoreLedgerOptions store_options;  // 256 rows per multi-row statement
    double pg_rate = 0;
    {
      auto ledger = StoreLedger::Open(**store, store_options);
      if (!ledger.ok()) throw std::runtime_error(ledger.status().ToString());
      pg_rate = Run("postgres", **ledger, config, batches);
    }
    (void)(*store)->ExecuteScript("DROP SCHEMA IF EXISTS " + role + " CASCADE");
    std::printf("ratio:     ledger / postgres = %.1fx\n", ledger_rate / pg_rate);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ledger_vs_postgres: %s\n", e.what());
    return 1;
  }
  return 0;
}
