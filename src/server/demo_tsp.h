// DemoTsp: the demo network's token service provider wired for one process: its stores
// (<data_dir>/tsp.db: vault, audit log, ATC windows, OTPs, history ...), the token BIN ranges, requestors and PAR prefix of the seed's
// "tsp" section, the demo key set (demo/demo_keys.h; never production secrets), ID&V requests to
// the switch over an in-memory ISO 8583 link, and the adapter the switch calls for token BINs.
//
// Ownership: owns everything it opens. `switch_handler` (where ID&V requests go) must outlive it.
// Thread-safety: as tsp::TspService (thread-safe).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/csprng.h"
#include "demo/demo_network.h"
#include "link/in_memory_link.h"
#include "network/bin_table.h"
#include "server/tsp_token_service.h"
#include "store/store.h"
#include "tsp/par.h"
#include "tsp/token_number.h"
#include "tsp/tsp_service.h"

namespace tapstack::server {

// The seed's token BIN ranges as switch BIN-table entries (RangeKind::kToken).
std::vector<network::BinRange> DemoTokenBinRanges(const demo::DemoNetwork& demo);

class DemoTsp {
 public:
  // `store_options` open <data_dir>/tsp.db (the simulator puts it on a failing disk).
  // Errors: a seed without a "tsp" section or token ranges (kFailedPrecondition); the stores'
  // and tsp::TspService::Open's.
  static Result<std::unique_ptr<DemoTsp>> Open(const demo::DemoNetwork& demo,
                                               const std::filesystem::path& data_dir,
                                               const Clock& clock,
                                               link::MessageHandler& switch_handler,
                                               const store::StoreOptions& store_options = {});
  ~DemoTsp();

  tsp::TspService& service() { return *service_; }
  // What the switch calls for token BINs (Switch::SetTokenService).
  TspTokenService& token_service() { return *adapter_; }

 private:
  DemoTsp() = default;

  crypto::Csprng random_;
  std::unique_ptr<store::Store> store_;
  std::optional<tsp::TokenNumberGenerator> token_numbers_;
  std::optional<tsp::ParGenerator> par_;
  std::unique_ptr<link::InMemoryLink> idv_link_;
  std::unique_ptr<tsp::TspService> service_;
  std::unique_ptr<TspTokenService> adapter_;
};

}  // namespace tapstack::server
