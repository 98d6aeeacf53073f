// `dcep-online`: durable online e-CNY transfers between tier-1 wallets of one operator
// (dcep::Operator). One op = one PayBatch of --batch payments (one journal commit in SQLite with
// synchronous=FULL and one ledger batch with its fdatasync), or one Pay with --batch 1; items =
// transfers. Every transfer is durable when its op returns. The orders are made before each op's
// clock starts. After the run the cross-ledger audit (DcepNetwork::AuditNetwork) must pass.
// DcepWalletNetwork and PaymentOrderFactory are shared with bench/dcep_bench.cc. No peer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "benchkit/dcep_online_workload.h"
#include "benchkit/scenario.h"

namespace tapstack::benchkit {

class DcepOnlineScenario : public Scenario {
 public:
  DcepOnlineScenario();
  ~DcepOnlineScenario() override;
  std::string_view name() const override { return "dcep-online"; }
  std::string_view description() const override {
    return "durable online e-CNY transfers between wallets of one operator (journal + ledger "
           "commit)";
  }
  std::vector<ScenarioOption> options() const override;
  std::int64_t items_per_op() const override { return batch_; }
  std::string_view item_name() const override { return "transfers"; }
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  // Makes each op's orders, then times the payment call alone.
  void Drive(int thread, OperationSink& sink) override;
  std::vector<std::pair<std::string, std::string>> details() const override;

 private:
  std::int64_t batch_ = 0;
  int wallets_ = 0;
  std::unique_ptr<DcepWalletNetwork> network_;
  std::atomic<std::int64_t> paid_{0};
  std::atomic<std::int64_t> refused_{0};
};

}  // namespace tapstack::benchkit
