// `ledger`: durable debit/credit transfers through the ledger (write-ahead log, group commit:
// one write + fdatasync per group of requests). One op = one request of --batch transfers between
// --accounts accounts, acknowledged only when durable. Peer: the same kind of requests through
// StoreLedger on PostgreSQL (one transaction per request, synchronous_commit as the server has
// it), when --pg-url or TAPSTACK_TEST_PG_URL names a server. TransferFactory and LedgerAccounts
// are shared with bench/ledger_bench.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchkit/scenario.h"
#include "core/status.h"
#include "ledger/ledger.h"

namespace tapstack::benchkit {

inline constexpr std::uint32_t kLedgerBenchCurrency = 156;  // CNY, ISO 4217 numeric
// Transfers the bench ledger may hold (every transfer is kept for idempotency: ~150 B each).
inline constexpr std::uint64_t kLedgerBenchTransfersMax = 64'000'000;

// Accounts 1..count of currency kLedgerBenchCurrency.
std::vector<ledger::Account> LedgerAccounts(std::uint64_t count);

// Time-ordered ids (sequence in the high half, `stream` low: streams never collide) and uniform
// random distinct account pairs among 1..accounts, amounts 1..10 000 minor units.
class TransferFactory {
 public:
  TransferFactory(std::uint64_t stream, std::uint64_t accounts)
      : stream_(stream), accounts_(accounts), rng_(stream * 7919 + 1) {}

  // Replaces `batch` with `n` new transfers carrying `flags`.
  void Fill(std::vector<ledger::Transfer>& batch, std::size_t n, std::uint16_t flags = 0);

 private:
  std::uint64_t stream_;
  std::uint64_t accounts_;
  std::uint64_t sequence_ = 0;
  std::mt19937_64 rng_;
};

class LedgerScenario : public Scenario {
 public:
  LedgerScenario();
  ~LedgerScenario() override;
  std::string_view name() const override { return "ledger"; }
  std::string_view description() const override {
    return "one durable request of --batch debit/credit transfers (group commit, fdatasync)";
  }
  std::vector<ScenarioOption> options() const override;
  std::int64_t items_per_op() const override { return static_cast<std::int64_t>(batch_); }
  std::string_view item_name() const override { return "transfers"; }
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  bool has_peer() const override { return true; }
  PeerFigure MeasurePeer(const RunLimits& limits) override;

 private:
  struct Worker;
  std::size_t batch_ = ledger::kBatchEventsMax;
  std::uint64_t accounts_ = 10'000;
  std::string pg_url_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace tapstack::benchkit
