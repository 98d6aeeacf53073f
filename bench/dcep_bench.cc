// Digital currency (issue #7): durable online e-CNY transfers per second.
//
//  1. Same operator: --wallets tier-1 wallets at icbc, funded from issued float; then --batches
//     batches of --batch payments between random pairs through Operator::PayBatch. Every payment
//     is durable when its batch returns: its journal row is committed in SQLite
//     (synchronous=FULL) and its transfer fdatasynced in the operator's ledger (group commit).
//     Target: ≥ 100,000 transfers/s.
//     With --operators 2, ccb runs the same load on its own wallets at the same time (its own
//     journal and ledger): the figure for the network on this machine.
//  2. Inter-operator: --interbank payments icbc → ccb, each its own hold, central-bank
//     settlement, credit at ccb and post (four durable ledger writes and three journal commits
//     in three processes' worth of state), one at a time.
// The data lives in the temp directory (a real disk: the figures include the syncs). At the end
// the cross-ledger audit must pass.
//
//   dcep_bench [--wallets N] [--batches N] [--batch N] [--interbank N] [--operators 1|2]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench_util.h"
#include "benchkit/dcep_online_workload.h"
#include "dcep/dcep_network.h"

using namespace tapstack;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int wallets_n = bench::Flag(argc, argv, "--wallets", 1000);
  const int batches = bench::Flag(argc, argv, "--batches", 40);
  const int batch = bench::Flag(argc, argv, "--batch", 8190);
  const int interbank = bench::Flag(argc, argv, "--interbank", 500);
  const int operators = bench::Flag(argc, argv, "--operators", 1);
  if (operators != 1 && operators != 2) {
    return Fail("--operators", InvalidArgument("expected 1 or 2"));
  }
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tapstack-dcep-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  // The wallets and the orders are `tapstack bench dcep-online`'s (src/benchkit/dcep_online_workload.h).
  auto setup_start = std::chrono::steady_clock::now();
  auto opened = benchkit::DcepWalletNetwork::Open(dir, wallets_n, operators == 2);
  if (!opened.ok()) return Fail("open", opened.status());
  benchkit::DcepWalletNetwork& net = **opened;
  dcep::Operator& icbc = net.payer_operator();
  dcep::Operator& ccb = net.payee_operator();
  const std::vector<std::string>& wallets = net.wallets();
  auto payee = ccb.OpenWallet({"13900000000", "Payee", "ID", "", true}, "payee");
  if (!payee.ok()) return Fail("payee", payee.status());
  std::printf("setup: %d tier-1 wallets opened and funded in %.1f s\n", wallets_n,
              Seconds(setup_start));

  // 1. Same operator, batched: at icbc, and with --operators 2 at ccb at the same time (each
  //    operator has its own journal and ledger, as separate institutions do).
  struct Run {
    std::int64_t ok = 0;
    std::int64_t refused = 0;
    double busy = 0;  // seconds inside PayBatch
    Status failed;
  };
  auto run = [&](dcep::Operator& op, const std::vector<std::string>& payers, std::uint64_t stream,
                 Run& out) {
    benchkit::PaymentOrderFactory factory(payers, stream);
    std::vector<dcep::PaymentOrder> orders;
    for (int b = 0; b < batches; ++b) {
      factory.Fill(orders, static_cast<std::size_t>(batch));
      const auto start = std::chrono::steady_clock::now();
      auto results = op.PayBatch(orders);
      out.busy += Seconds(start);
      if (!results.ok()) {
        out.failed = results.status();
        return;
      }
      for (const auto& r : *results) (r.ok() ? out.ok : out.refused) += 1;
    }
  };
  std::vector<Run> runs(static_cast<std::size_t>(operators));
  const auto same_start = std::chrono::steady_clock::now();
  if (operators == 1) {
    run(icbc, wallets, 1, runs[0]);
  } else {
    std::thread at_ccb([&] { run(ccb, net.ccb_wallets(), 2, runs[1]); });
    run(icbc, wallets, 1, runs[0]);
    at_ccb.join();
  }
  const double same_s = Seconds(same_start);
  std::int64_t ok = 0;
  std::int64_t refused = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].failed.ok()) return Fail("pay batch", runs[i].failed);
    ok += runs[i].ok;
    refused += runs[i].refused;
    std::printf("same operator (%s): %lld durable transfers (%lld refused) in %d batches of %d: "
                "%.2f s in PayBatch, %.0f transfers/s\n",
                i == 0 ? "icbc" : "ccb", static_cast<long long>(runs[i].ok),
                static_cast<long long>(runs[i].refused), batches, batch, runs[i].busy,
                static_cast<double>(runs[i].ok) / runs[i].busy);
  }
  if (operators > 1) {
    std::printf("same operator, %d operators at once: %lld durable transfers (%lld refused) in "
                "%.2f s, %.0f transfers/s\n",
                operators, static_cast<long long>(ok), static_cast<long long>(refused), same_s,
                static_cast<double>(ok) / same_s);
  }

  // 2. Inter-operator, one at a time.
  const auto inter_start = std::chrono::steady_clock::now();
  std::int64_t inter_ok = 0;
  for (int i = 0; i < interbank; ++i) {
    dcep::PaymentOrder o;
    o.payer_wallet = wallets[static_cast<std::size_t>(i) % wallets.size()];
    o.payee_operator = "ccb";
    o.payee_wallet = payee->wallet_id;
    o.amount_fen = 100;
    o.idempotency_key = "x" + std::to_string(i);
    auto r = icbc.Pay(o);
    if (!r.ok()) return Fail("interbank", r.status());
    ++inter_ok;
  }
  const double inter_s = Seconds(inter_start);
  std::printf("inter-operator: %lld payments icbc -> ccb one at a time: %.2f s, %.0f payments/s, "
              "%.2f ms each\n",
              static_cast<long long>(inter_ok), inter_s, static_cast<double>(inter_ok) / inter_s,
              1000.0 * inter_s / static_cast<double>(inter_ok));

  auto audit = net.network().AuditNetwork();
  if (!audit.ok()) return Fail("audit", audit.status());
  std::printf("audit: issued %lld fen = sum of positions; cross-ledger invariant holds\n",
              static_cast<long long>(audit->central_bank.issued_fen));
  std::printf("command: dcep_bench --wallets %d --batches %d --batch %d --interbank %d "
              "--operators %d\n",
              wallets_n, batches, batch, interbank, operators);
  opened->reset();  // closes the network
  std::filesystem::remove_all(dir);
  return 0;
}
