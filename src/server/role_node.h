// RoleNode: one running `tapstack serve` process, whatever its role (all, network, issuer,
// acquirer). StartRoleNode builds the node the configuration names; the CLI prints its summary,
// waits for SIGINT/SIGTERM and stops it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "demo/demo_network.h"
#include "server/serve_config.h"

namespace tapstack::server {

class RoleNode {
 public:
  virtual ~RoleNode() = default;
  // What runs where, as (label, value) lines for the start-up banner, e.g. {"HTTP API", url}.
  virtual std::vector<std::pair<std::string, std::string>> Summary() const = 0;
  // Stops accepting work, closes links and stores. Idempotent.
  virtual void Stop() = 0;
  // Not OK once the node can no longer serve until it is restarted: an issuer whose ledger failed
  // a write (issuer::IssuerHost::ledger_failed), a switch whose store failed a commit
  // (network::Switch::Health). `tapstack serve` then stops and exits non-zero, for its supervisor
  // to restart it. Thread-safe.
  virtual Status Health() const { return Status::Ok(); }
};

// Loads the demo seed (config.seed_file or the shipped one) and starts the node for config.role.
// Errors: the configuration's (ValidateServeConfig), the seed's, the stores' and kUnavailable
// when a listener cannot be bound.
Result<std::unique_ptr<RoleNode>> StartRoleNode(const ServeConfig& config);

// The seed the configuration names, or the shipped one.
Result<demo::DemoNetwork> LoadConfiguredSeed(const ServeConfig& config);

}  // namespace tapstack::server
