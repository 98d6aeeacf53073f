#include "benchkit/dcep_online_scenario.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <span>

#include "benchkit/scenario_options.h"

namespace tapstack::benchkit {

DcepOnlineScenario::DcepOnlineScenario() = default;
DcepOnlineScenario::~DcepOnlineScenario() = default;

std::vector<ScenarioOption> DcepOnlineScenario::options() const {
  return {
      {"--wallets", "Tier-1 wallets at the operator, funded before the clock starts", "1000"},
      {"--batch",
       "Payments per op (1..." + std::to_string(dcep::kPayBatchMax) + "; 1: Pay, else PayBatch)",
       std::to_string(dcep::kPayBatchMax)}};
}

Status DcepOnlineScenario::Setup(const ScenarioConfig& config) {
  TS_ASSIGN_OR_RETURN(const std::int64_t wallets,
                      IntOption(config, "--wallets", 2, kDcepWalletsMax));
  TS_ASSIGN_OR_RETURN(
      batch_, IntOption(config, "--batch", 1, static_cast<std::int64_t>(dcep::kPayBatchMax)));
  wallets_ = static_cast<int>(wallets);
  spdlog::set_level(spdlog::level::warn);
  std::fprintf(stderr, "dcep-online: opening and funding %d wallets…\n", wallets_);
  TS_ASSIGN_OR_RETURN(network_, DcepWalletNetwork::Open(config.scratch_dir / "dcep", wallets_));
  return Status::Ok();
}

Status DcepOnlineScenario::RunOnce(int /*thread*/) {
  return FailedPrecondition("dcep-online runs through Drive");
}

void DcepOnlineScenario::Drive(int thread, OperationSink& sink) {
  PaymentOrderFactory factory(network_->wallets(), static_cast<std::uint64_t>(thread) + 1);
  std::vector<dcep::PaymentOrder> orders;
  dcep::Operator& icbc = network_->payer_operator();
  while (sink.Claim()) {
    factory.Fill(orders, static_cast<std::size_t>(batch_));
    const auto start = std::chrono::steady_clock::now();
    Status status;
    std::int64_t paid = 0;
    if (batch_ == 1) {
      const Result<dcep::Entry> entry = icbc.Pay(orders[0]);
      status = entry.status();
      paid = entry.ok() ? 1 : 0;
    } else {
      const Result<std::vector<Result<dcep::Entry>>> results = icbc.PayBatch(orders);
      if (!results.ok()) {
        status = results.status();
      } else {
        for (const Result<dcep::Entry>& r : *results) {
          if (r.ok()) {
            ++paid;
          } else if (status.ok()) {
            status = r.status().WithContext("payment " + std::to_string(&r - results->data()));
          }
        }
      }
    }
    const std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count();
    paid_.fetch_add(paid, std::memory_order_relaxed);
    refused_.fetch_add(batch_ - paid, std::memory_order_relaxed);
    sink.Complete(ns, status);
  }
}

std::vector<std::pair<std::string, std::string>> DcepOnlineScenario::details() const {
  const Result<dcep::NetworkAudit> audit = network_->network().AuditNetwork();
  std::string audit_text = audit.status().ToString();
  if (audit.ok())
    audit_text =
        "ok (issued " + std::to_string(audit->central_bank.issued_fen) + " fen = Σ positions)";
  return {{"load", std::to_string(wallets_) + " wallets at icbc, " + std::to_string(batch_) +
                       " payments per op"},
          {"transfers", std::to_string(paid_.load()) + " durable, " +
                            std::to_string(refused_.load()) + " refused"},
          {"audit", audit_text}};
}

}  // namespace tapstack::benchkit
