// `provisioning`: binding a card to a device through the TSP, "bind + OTP" as a wallet does it.
// Per card: TspService::Provision (ID&V 0100 through the switch to the issuer host over the
// in-memory ISO 8583 link, a token in the vault with its audit entry, the OTP challenge stored as
// an HMAC, the SMS in the outbox), the OTP read back from the outbox, VerifyOtp (token activated,
// audited, the card key derived and wrapped for the device: ECDH P-256 + HKDF + AES-GCM). Every
// step is committed before it answers. Cards of a bank whose ID&V policy is "approve" bind at once
// (green, no OTP). ProvisioningLoad is shared with bench/provisioning_bench.cc. No peer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchkit/scenario.h"
#include "core/bytes.h"
#include "core/status.h"
#include "demo/demo_network.h"
#include "server/payment_rail.h"

namespace tapstack::benchkit {

struct BindTimings {
  bool green = false;                          // bound without an OTP
  std::chrono::nanoseconds provision{0};       // Provision
  std::chrono::nanoseconds outbox{0};          // reading the OTP from the SMS outbox
  std::chrono::nanoseconds verify{0};          // VerifyOtp
};

class ProvisioningLoad {
 public:
  // Loads the demo network, starts the rail (in-memory links) under `data_dir`.
  static Result<std::unique_ptr<ProvisioningLoad>> Start(const std::filesystem::path& data_dir,
                                                         int cards_per_bank);
  ~ProvisioningLoad();

  // Binds card number `i` (bank i % banks, card (i / banks) % cards_per_bank) to device
  // "bench-device-<i>". Thread-safe (distinct `i` per call). Errors: the step that failed.
  Result<BindTimings> BindOne(std::int64_t i);

 private:
  ProvisioningLoad() = default;
  std::unique_ptr<demo::DemoNetwork> demo_;
  std::unique_ptr<server::PaymentRail> rail_;
  int cards_per_bank_ = 0;
  Bytes device_public_;
  std::string requestor_;
};

class ProvisioningScenario : public Scenario {
 public:
  std::string_view name() const override { return "provisioning"; }
  std::string_view description() const override {
    return "bind one card to a device through the TSP: ID&V, token, OTP by SMS, activation, key wrap";
  }
  std::vector<ScenarioOption> options() const override {
    return {{"--cards-per-bank", "Demo cards per bank (cards are reused round robin)", "50"}};
  }
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  std::vector<std::pair<std::string, std::string>> details() const override;

 private:
  std::unique_ptr<ProvisioningLoad> load_;
  std::atomic<std::int64_t> next_{0};
  std::atomic<std::int64_t> green_{0};
};

}  // namespace tapstack::benchkit
