#include "benchkit/ledger_scenario.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <span>

#include "benchkit/runner.h"
#include "ledger/store_ledger.h"
#include "store/postgres_store.h"

namespace tapstack::benchkit {

namespace {

Result<std::uint64_t> PositiveOption(const ScenarioConfig& config, const std::string& option,
                                     std::uint64_t max) {
  const std::string& text = config.options.at(option);
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value == 0 || value > max) {
    return InvalidArgument(option + ": expected 1.." + std::to_string(max) + ", got \"" + text + "\"");
  }
  return static_cast<std::uint64_t>(value);
}

// Creates the accounts in requests of at most kBatchEventsMax.
template <typename LedgerT>
Status CreateAccounts(LedgerT& ledger, std::uint64_t count) {
  const std::vector<ledger::Account> accounts = LedgerAccounts(count);
  for (std::size_t at = 0; at < accounts.size(); at += ledger::kBatchEventsMax) {
    const std::size_t n = std::min<std::size_t>(ledger::kBatchEventsMax, accounts.size() - at);
    TS_ASSIGN_OR_RETURN(std::vector<ledger::CreateAccountResult> results,
                        ledger.CreateAccounts(std::span(accounts).subspan(at, n)));
    for (ledger::CreateAccountResult r : results) {
      if (r != ledger::CreateAccountResult::kOk) return Internal("an account was refused");
    }
  }
  return Status::Ok();
}

Status AllOk(std::span<const ledger::CreateTransferResult> results) {
  for (ledger::CreateTransferResult r : results) {
    if (r != ledger::CreateTransferResult::kOk) {
      return FailedPrecondition("a transfer was refused: " + std::string(ledger::CreateTransferResultName(r)));
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<ledger::Account> LedgerAccounts(std::uint64_t count) {
  std::vector<ledger::Account> accounts;
  for (std::uint64_t i = 1; i <= count; ++i) {
    ledger::Account a;
    a.id = ledger::Id128::FromU64(i);
    a.ledger = kLedgerBenchCurrency;
    a.code = 1;
    accounts.push_back(a);
  }
  return accounts;
}

void TransferFactory::Fill(std::vector<ledger::Transfer>& batch, std::size_t n, std::uint16_t flags) {
  batch.resize(n);
  for (ledger::Transfer& t : batch) {
    t = ledger::Transfer{};
    t.id = ledger::Id128{++sequence_, stream_};
    const std::uint64_t debit = 1 + rng_() % accounts_;
    std::uint64_t credit = 1 + rng_() % (accounts_ - 1);
    if (credit >= debit) ++credit;
    t.debit_account_id = ledger::Id128::FromU64(debit);
    t.credit_account_id = ledger::Id128::FromU64(credit);
    t.amount = 1 + rng_() % 10'000;
    t.ledger = kLedgerBenchCurrency;
    t.code = 1;
    t.flags = flags;
  }
}

struct LedgerScenario::Worker {
  explicit Worker(std::uint64_t stream, std::uint64_t accounts) : factory(stream, accounts) {}
  TransferFactory factory;
  std::vector<ledger::Transfer> batch;
  std::vector<ledger::CreateTransferResult> results;
};

LedgerScenario::LedgerScenario() = default;
LedgerScenario::~LedgerScenario() = default;

std::vector<ScenarioOption> LedgerScenario::options() const {
  return {{"--batch", "Transfers per request (1..8190)", std::to_string(ledger::kBatchEventsMax)},
          {"--accounts", "Accounts the transfers move money between", "10000"},
          {"--pg-url", "PostgreSQL URL for the peer (default: $TAPSTACK_TEST_PG_URL)", ""}};
}

Status LedgerScenario::Setup(const ScenarioConfig& config) {
  TS_ASSIGN_OR_RETURN(batch_, PositiveOption(config, "--batch", ledger::kBatchEventsMax));
  TS_ASSIGN_OR_RETURN(accounts_, PositiveOption(config, "--accounts", ledger::kAccountsMaxDefault));
  if (accounts_ < 2) return InvalidArgument("--accounts: expected at least 2");
  pg_url_ = config.options.at("--pg-url");
  if (pg_url_.empty()) {
    const char* env = std::getenv("TAPSTACK_TEST_PG_URL");
    if (env != nullptr) pg_url_ = env;
  }
  ledger::LedgerOptions options;
  options.data_dir = config.scratch_dir / "ledger";
  options.transfers_max = kLedgerBenchTransfersMax;
  TS_ASSIGN_OR_RETURN(ledger_, ledger::Ledger::Open(options));
  TS_RETURN_IF_ERROR(CreateAccounts(*ledger_, accounts_));
  for (int t = 0; t < config.limits.threads; ++t) {
    workers_.push_back(std::make_unique<Worker>(static_cast<std::uint64_t>(t) + 1, accounts_));
    workers_.back()->results.resize(batch_);
  }
  return Status::Ok();
}

Status LedgerScenario::RunOnce(int thread) {
  Worker& w = *workers_[static_cast<std::size_t>(thread)];
  w.factory.Fill(w.batch, batch_);  // ~1% of the time; timed, as a client would pay it
  TS_RETURN_IF_ERROR(ledger_->CreateTransfers(w.batch, w.results));
  return AllOk(w.results);
}

PeerFigure LedgerScenario::MeasurePeer(const RunLimits& limits) {
  PeerFigure peer;
  peer.name = "PostgreSQL (StoreLedger, one transaction per request)";
  if (pg_url_.empty()) {
    peer.note = "no PostgreSQL: pass --pg-url or set TAPSTACK_TEST_PG_URL "
                "(scripts/pg-test-server start DIR PORT prints one)";
    return peer;
  }
  const std::string role = "tapstack_bench_" + std::to_string(getpid());
  Result<std::unique_ptr<store::Store>> pg = store::OpenPostgres(pg_url_, role);
  if (!pg.ok()) {
    peer.note = "cannot open PostgreSQL: " + pg.status().ToString();
    return peer;
  }
  {
    Result<std::unique_ptr<ledger::StoreLedger>> pg_ledger = ledger::StoreLedger::Open(**pg);
    Status ready = pg_ledger.ok() ? CreateAccounts(**pg_ledger, accounts_) : pg_ledger.status();
    if (!ready.ok()) {
      peer.note = "PostgreSQL set-up failed: " + ready.ToString();
    } else {
      // One connection: one client, whatever --threads says.
      RunLimits one = limits;
      one.threads = 1;
      Worker w(1000, accounts_);
      w.results.resize(batch_);
      Result<Measurement> m = Run(
          one,
          [&](int, OperationSink& sink) {
            while (sink.Claim()) {
              w.factory.Fill(w.batch, batch_);
              Status s = (*pg_ledger)->CreateTransfers(w.batch, w.results);
              if (s.ok()) s = AllOk(w.results);
              sink.Complete(0, s);
            }
          },
          nullptr);
      if (!m.ok() || m->errors > 0) {
        peer.note = m.ok() ? m->first_error : m.status().ToString();
      } else {
        peer.available = true;
        peer.ops_per_second = m->ops_per_second;
        peer.note = std::to_string(m->ops) + " requests of " + std::to_string(batch_) +
                    " transfers, one client";
        Result<store::Row> sync = (*pg)->QueryRow("SHOW synchronous_commit");
        Result<std::string> value = sync.ok() ? sync->GetText(0) : Result<std::string>(sync.status());
        if (value.ok()) peer.note += ", synchronous_commit=" + *value;
        if (limits.threads != 1) peer.note += "; ours used " + std::to_string(limits.threads) + " threads";
      }
    }
  }
  (void)(*pg)->ExecuteScript("DROP SCHEMA IF EXISTS " + role + " CASCADE");
  return peer;
}

}  // namespace tapstack::benchkit
