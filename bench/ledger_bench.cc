// Durable ledger throughput: transfers per second, each request acknowledged only after its
// group is written and fdatasync'ed to a log in a temp dir on the local disk (TMPDIR).
//
//   Durable/<batch>/threads:<n>  n client threads, each submitting requests of <batch>
//                                debit/credit transfers between 10 000 accounts (uniform, random
//                                pairs, time-ordered ids); items/s = durable transfers/s.
//                                Counters: syncs per request (< 1 when group commit coalesces).
//   PendingPost/<batch>          a request of <batch> holds, then a request posting all of them;
//                                items/s counts both transfers of each pair.
//   StateMachineOnly/<batch>     the same transfers applied in memory only (no log, no sync): the
//                                CPU ceiling of the single writer.
//   LinkedPairs/<batch>          fee + principal chains of two linked transfers.
//   Replay/<batches>             Open() of a log holding <batches> full batches: replay + checks;
//                                items/s = transfers replayed per second.
//
// The ledger grows during a run (every transfer is kept for idempotency), so runs are bounded by
// a minimum time, not by memory: 1M transfers take about 150 MB of RAM and 128 MB of log.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "benchkit/ledger_scenario.h"
#include "ledger/ledger.h"
#include "ledger/state_machine.h"

namespace {

using namespace tapstack::ledger;

constexpr std::uint64_t kAccounts = 10'000;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tapstack-ledger-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<Account> Accounts() { return tapstack::benchkit::LedgerAccounts(kAccounts); }

// Time-ordered ids and random account pairs (shared with `tapstack bench ledger`).
class TransferFactory : public tapstack::benchkit::TransferFactory {
 public:
  explicit TransferFactory(std::uint64_t stream) : tapstack::benchkit::TransferFactory(stream, kAccounts) {}
};

// One ledger per benchmark run, shared by its threads.
struct Shared {
  std::unique_ptr<ScratchDir> dir;
  std::unique_ptr<Ledger> ledger;
  std::atomic<std::uint64_t> failures{0};
};
Shared shared;

void OpenShared(benchmark::State& state) {
  shared.dir = std::make_unique<ScratchDir>();
  LedgerOptions options;
  options.data_dir = shared.dir->path();
  options.transfers_max = 64'000'000;
  auto opened = Ledger::Open(options);
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  shared.ledger = std::move(*opened);
  auto accounts = Accounts();
  for (std::size_t at = 0; at < accounts.size(); at += kBatchEventsMax) {
    const std::size_t n = std::min<std::size_t>(kBatchEventsMax, accounts.size() - at);
    auto created = shared.ledger->CreateAccounts(std::span(accounts).subspan(at, n));
    if (!created.ok()) state.SkipWithError(created.status().ToString().c_str());
  }
  shared.failures = 0;
}

void CloseShared(benchmark::State& state, std::uint64_t requests) {
  const LedgerStats stats = shared.ledger->stats();
  state.counters["syncs_per_request"] =
      requests == 0 ? 0.0
                    : static_cast<double>(stats.groups_synced) / static_cast<double>(requests);
  state.counters["log_MB"] = static_cast<double>(stats.bytes_logged) / 1e6;
  if (shared.failures != 0) state.SkipWithError("some transfers failed");
  shared.ledger.reset();
  shared.dir.reset();
}

void Durable(benchmark::State& state) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  if (state.thread_index() == 0) OpenShared(state);
  TransferFactory factory(static_cast<std::uint64_t>(state.thread_index()) + 1);
  std::vector<Transfer> batch;
  std::vector<CreateTransferResult> results;
  std::uint64_t requests = 0;
  results.resize(batch_size);
  for (auto _ : state) {
    factory.Fill(batch, batch_size);  // ~1% of the time; timed, as a client would pay it
    const tapstack::Status status = shared.ledger->CreateTransfers(batch, results);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    ++requests;
  }
  for (CreateTransferResult r : results) {
    if (r != CreateTransferResult::kOk) ++shared.failures;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(requests * batch_size));
  if (state.thread_index() == 0) {
    CloseShared(state, requests * static_cast<std::uint64_t>(state.threads()));
  }
}
BENCHMARK(Durable)->Arg(8190)->Threads(1)->UseRealTime()->MinTime(3.0);
BENCHMARK(Durable)->Arg(8190)->Threads(2)->UseRealTime()->MinTime(3.0);
BENCHMARK(Durable)->Arg(1024)->Threads(4)->UseRealTime()->MinTime(2.0);
BENCHMARK(Durable)->Arg(1)->Threads(16)->UseRealTime()->MinTime(2.0);

void PendingPost(benchmark::State& state) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  OpenShared(state);
  TransferFactory factory(1);
  std::vector<Transfer> holds;
  std::vector<Transfer> posts(batch_size);
  std::vector<CreateTransferResult> results(batch_size);
  std::uint64_t requests = 0;
  std::uint64_t next_post_id = 0;
  for (auto _ : state) {
    factory.Fill(holds, batch_size, transfer_flags::kPending);
    for (std::size_t i = 0; i < batch_size; ++i) {
      posts[i] = Transfer{};
      posts[i].id = Id128{++next_post_id, 1000};
      posts[i].pending_id = holds[i].id;
      posts[i].amount = kPostFullPendingAmount;
      posts[i].flags = transfer_flags::kPostPendingTransfer;
    }
    if (!shared.ledger->CreateTransfers(holds, results).ok() ||
        !shared.ledger->CreateTransfers(posts, results).ok()) {
      state.SkipWithError("request failed");
      break;
    }
    requests += 2;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(requests * batch_size));
  CloseShared(state, requests);
}
BENCHMARK(PendingPost)->Arg(8190)->UseRealTime()->MinTime(3.0);

void LinkedPairs(benchmark::State& state) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  OpenShared(state);
  TransferFactory factory(1);
  std::vector<Transfer> batch;
  std::vector<CreateTransferResult> results(batch_size);
  std::uint64_t requests = 0;
  for (auto _ : state) {
    factory.Fill(batch, batch_size);
    for (std::size_t i = 0; i + 1 < batch_size; i += 2) batch[i].flags = transfer_flags::kLinked;
    if (!shared.ledger->CreateTransfers(batch, results).ok()) {
      state.SkipWithError("request failed");
      break;
    }
    ++requests;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(requests * batch_size));
  CloseShared(state, requests);
}
BENCHMARK(LinkedPairs)->Arg(8190)->UseRealTime()->MinTime(2.0);

// Opening a ledger replays its whole log (there are no snapshots): this is the recovery time per
// transfer. The log is written once, then each iteration opens (replays + verifies) and closes it.
void Replay(benchmark::State& state) {
  const auto batches = static_cast<std::size_t>(state.range(0));
  OpenShared(state);
  TransferFactory factory(1);
  std::vector<Transfer> batch;
  std::vector<CreateTransferResult> results(kBatchEventsMax);
  for (std::size_t i = 0; i < batches; ++i) {
    factory.Fill(batch, kBatchEventsMax);
    if (!shared.ledger->CreateTransfers(batch, results).ok()) {
      state.SkipWithError("request failed");
      return;
    }
  }
  LedgerOptions options;
  options.data_dir = shared.dir->path();
  options.transfers_max = 64'000'000;
  shared.ledger.reset();
  for (auto _ : state) {
    auto opened = Ledger::Open(options);
    if (!opened.ok()) {
      state.SkipWithError(opened.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(batches * kBatchEventsMax));
  shared.dir.reset();
}
BENCHMARK(Replay)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void StateMachineOnly(benchmark::State& state) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  StateMachine machine;
  std::vector<CreateAccountResult> account_results(kAccounts);
  auto accounts = Accounts();
  for (std::size_t at = 0; at < accounts.size(); at += kBatchEventsMax) {
    const std::size_t n = std::min<std::size_t>(kBatchEventsMax, accounts.size() - at);
    machine.CreateAccounts(std::span(accounts).subspan(at, n), machine.last_timestamp() + 1,
                           std::span(account_results).subspan(0, n));
  }
  TransferFactory factory(1);
  std::vector<Transfer> batch;
  std::vector<CreateTransferResult> results(batch_size);
  std::uint64_t requests = 0;
  for (auto _ : state) {
    state.PauseTiming();
    factory.Fill(batch, batch_size);
    state.ResumeTiming();
    machine.CreateTransfers(batch, machine.last_timestamp() + 1, results);
    ++requests;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(requests * batch_size));
}
BENCHMARK(StateMachineOnly)->Arg(8190)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
