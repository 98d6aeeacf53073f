// DcepNetwork: a whole two-tier network in one process — the central bank, every operator of the
// config (reserves funded at seed), the in-process central-bank client and the operator
// directory — plus the cross-ledger audit. Used by the HTTP front, tests and the bench.
//
// Cross-ledger invariant (AuditNetwork): the central bank's own audit (issued = Σ positions =
// reserve liability), every operator's audit (central_bank_position = float + wallets + purses),
// and for every operator X: position of X at the central bank == X's central_bank_position.
// The last equality holds only when no outbox entry is in flight (a settled but not yet posted
// payment is value in transit): AuditNetwork refuses with kFailedPrecondition while any is.
//
// Offline value: the central bank's root certificate authority, and per operator its
// certificate authority (certified by the root at first open), its offline settlement (the
// operator's ledger holds the purses) and the HardwareWallets service over both. The
// settlements are linked in process (OfflineSettlementOptions::operator_of_device and
// forward_to_operator → the payer operator's SettleForwarded), so a transfer between devices of
// two operators settles whichever side uploads first.
//
// Thread-safety: the parts are thread-safe; Open/Close are not concurrent with other calls.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "dcep/central_bank.h"
#include "dcep/central_bank_client.h"
#include "dcep/certificate_authority.h"
#include "dcep/hardware_wallets.h"
#include "dcep/offline_settlement.h"
#include "dcep/interbank.h"
#include "dcep/operator.h"
#include "dcep/tiers.h"

namespace tapstack::dcep {

struct DcepNetworkOptions {
  // Ledgers (the central bank's and every operator's WAL) are always files here.
  std::filesystem::path data_dir;
  // When set, every store of the network is a PostgreSQL schema of this database instead of a
  // SQLite file under data_dir: per operator "dcep_<id>" (wallets, journal, contracts),
  // "dcep_ca_<id>" (its certificate authority) and "dcep_offline_<id>" (offline settlement),
  // plus "dcep_ca_pboc" (the root authority). One network per database: the schema names are
  // fixed, so two networks sharing a database would share their stores.
  std::string postgres_url;
  DcepConfig config;
  const Clock* clock = nullptr;
  RandomSource* random = nullptr;  // wallet ids; nullptr = crypto::Csprng
  // Operators to open; empty = all of the config.
  std::vector<std::string> operator_ids;
  // Test hook: the client operators use; nullptr = the in-process client. Not owned.
  CentralBankClient* central_bank_client = nullptr;
  // Test hook: how operators reach each other; nullptr = directory(). Not owned.
  InterbankPeers* peers = nullptr;
  // Every ledger's log grows in zero-filled chunks of this size (the simulator's small runs use
  // far less than the default).
  std::uint64_t ledger_preallocate_bytes = ledger::kLogPreallocateBytesDefault;
  // How every ledger's log file (the central bank's and each operator's) is opened; empty = the
  // POSIX file. The simulator fails their disk here.
  ledger::LogFileOpener open_ledger_file;
};

struct NetworkAudit {
  CentralBankAudit central_bank;
  std::map<std::string, OperatorAudit> operators;
};

class DcepNetwork {
 public:
  static Result<std::unique_ptr<DcepNetwork>> Open(DcepNetworkOptions options);
  ~DcepNetwork();
  Status Close();

  CentralBank& central_bank() { return *bank_; }
  CentralBankClient& central_bank_client() { return *client_; }
  OperatorDirectory& directory() { return directory_; }
  const DcepConfig& config() const { return options_.config; }
  // Errors: kNotFound naming the operator.
  Result<Operator*> operator_of(std::string_view operator_id);
  Result<HardwareWallets*> hardware_wallets(std::string_view operator_id);
  RootAuthority& root_authority() { return *root_; }
  std::vector<std::string> operator_ids() const;

  // Closes operator X (as a crash would leave it: no in-flight work is completed) and opens it
  // again, running recovery. Errors: as Operator::Open.
  Status ReopenOperator(std::string_view operator_id, CentralBankClient* client = nullptr);

  Result<NetworkAudit> AuditNetwork();

 private:
  DcepNetwork() = default;
  Result<std::unique_ptr<Operator>> OpenOperator(const std::string& id, CentralBankClient* client);
  // The operator's certificate authority (certified by the root when new), settlement and
  // hardware-wallet service, over the open operator `id`.
  Status OpenOffline(const std::string& id);

  struct Offline {
    std::unique_ptr<OperatorAuthority> authority;
    std::unique_ptr<OfflineSettlement> settlement;
    std::unique_ptr<HardwareWallets> wallets;
  };

  DcepNetworkOptions options_;
  std::unique_ptr<CentralBank> bank_;
  std::unique_ptr<InProcessCentralBankClient> in_process_;
  CentralBankClient* client_ = nullptr;
  OperatorDirectory directory_;
  std::map<std::string, std::unique_ptr<Operator>, std::less<>> operators_;
  std::unique_ptr<RootAuthority> root_;
  std::map<std::string, Offline, std::less<>> offline_;  // by operator id
};

}  // namespace tapstack::dcep
