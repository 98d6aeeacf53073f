#include "dcep/dcep_network.h"

namespace tapstack::dcep {

DcepNetwork::~DcepNetwork() { (void)Close(); }

Status DcepNetwork::Close() {
  Status status;
  offline_.clear();  // settlement uses the operators as purses: close it first
  for (auto& [id, op] : operators_) {
    directory_.Remove(id);
    const Status closed = op->Close();
    if (status.ok()) status = closed;
  }
  operators_.clear();
  if (bank_) {
    const Status closed = bank_->Close();
    if (status.ok()) status = closed;
  }
  return status;
}

Result<std::unique_ptr<DcepNetwork>> DcepNetwork::Open(DcepNetworkOptions options) {
  std::unique_ptr<DcepNetwork> network(new DcepNetwork());
  network->options_ = std::move(options);
  CentralBankOptions bank_options;
  bank_options.data_dir = network->options_.data_dir;
  bank_options.clock = network->options_.clock;
  bank_options.ledger_preallocate_bytes = network->options_.ledger_preallocate_bytes;
  bank_options.open_ledger_file = network->options_.open_ledger_file;
  TS_ASSIGN_OR_RETURN(network->bank_, CentralBank::Open(std::move(bank_options)));
  network->in_process_ = std::make_unique<InProcessCentralBankClient>(*network->bank_);
  network->client_ = network->options_.central_bank_client != nullptr
                         ? network->options_.central_bank_client
                         : network->in_process_.get();
  std::vector<std::string> ids = network->options_.operator_ids;
  if (ids.empty()) {
    for (const OperatorInfo& op : network->options_.config.operators) ids.push_back(op.id);
  }
  for (const std::string& id : ids) {
    TS_RETURN_IF_ERROR(network->options_.config.Operator(id).status());
    TS_RETURN_IF_ERROR(
        network->bank_->RegisterOperator(id, network->options_.config.reserve_seed_fen));
  }
  // Every operator is reachable before any recovers (recovery may credit another).
  for (const std::string& id : ids) {
    TS_ASSIGN_OR_RETURN(auto op, network->OpenOperator(id, nullptr));
    network->directory_.Add(id, op.get());
    network->operators_.emplace(id, std::move(op));
  }
  for (auto& [id, op] : network->operators_) TS_RETURN_IF_ERROR(op->RecoverInterbank().status());
  AuthorityOptions root;
  root.subject_id = std::string(kRootAuthorityId);
  root.data_dir = network->options_.data_dir;
  root.postgres_url = network->options_.postgres_url;
  root.clock = network->options_.clock;
  TS_ASSIGN_OR_RETURN(network->root_, RootAuthority::Open(std::move(root)));
  for (const std::string& id : ids) TS_RETURN_IF_ERROR(network->OpenOffline(id));
  return network;
}

Result<std::unique_ptr<Operator>> DcepNetwork::OpenOperator(const std::string& id,
                                                            CentralBankClient* client) {
  OperatorOptions options;
  options.operator_id = id;
  options.data_dir = options_.data_dir;
  options.postgres_url = options_.postgres_url;
  options.config = &options_.config;
  options.central_bank = client != nullptr ? client : client_;
  options.peers = options_.peers != nullptr ? options_.peers : &directory_;
  options.clock = options_.clock;
  options.random = options_.random;
  options.recover_at_open = false;
  options.ledger_preallocate_bytes = options_.ledger_preallocate_bytes;
  options.open_ledger_file = options_.open_ledger_file;
  return Operator::Open(std::move(options));
}

Status DcepNetwork::OpenOffline(const std::string& id) {
  TS_ASSIGN_OR_RETURN(Operator * op, operator_of(id));
  offline_.erase(id);
  Offline parts;
  OperatorAuthorityOptions authority;
  authority.authority.subject_id = id;
  authority.authority.data_dir = options_.data_dir;
  authority.authority.postgres_url = options_.postgres_url;
  authority.authority.clock = options_.clock;
  authority.root_certificate = root_->certificate().encoded;
  authority.registry = root_.get();  // the merged revocation list
  TS_ASSIGN_OR_RETURN(parts.authority, OperatorAuthority::Open(std::move(authority)));
  if (!parts.authority->OperatorCertificate().ok()) {
    TS_ASSIGN_OR_RETURN(const Bytes cert, root_->IssueOperatorCertificate(
                                              id, parts.authority->scheme(),
                                              parts.authority->public_key_raw()));
    TS_RETURN_IF_ERROR(parts.authority->InstallCertificate(cert));
  }
  OfflineSettlementOptions settlement;
  settlement.operator_id = id;
  settlement.data_dir = options_.data_dir;
  settlement.postgres_url = options_.postgres_url;
  settlement.authority = parts.authority.get();
  settlement.purses = op;
  settlement.clock = options_.clock;
  // Across operators in process: which operator certified a payee device, and forwarding a
  // payee's record to the payer's operator (looked up at call time: an operator being reopened
  // is unreachable, so the record stays pending and is retried).
  // Device ids are unique per operator only, and a transfer names its payee by id alone: an id
  // that two operators certified is ambiguous, so the record waits for the payee's own upload.
  settlement.operator_of_device = [this](std::string_view device_id) -> std::string {
    std::string found;
    for (const auto& [other, offline] : offline_) {
      if (!offline.authority->DeviceCertificate(device_id).ok()) continue;
      if (!found.empty()) return {};
      found = other;
    }
    return found;
  };
  settlement.forward_to_operator = [this, id](std::string_view payer_operator,
                                              ByteView record) -> Result<UploadedRecord> {
    const auto it = offline_.find(payer_operator);
    if (it == offline_.end()) {
      return Unavailable("operator \"" + std::string(payer_operator) + "\" is not reachable");
    }
    return it->second.settlement->SettleForwarded(id, record);
  };
  TS_ASSIGN_OR_RETURN(parts.settlement, OfflineSettlement::Open(std::move(settlement)));
  parts.wallets = std::make_unique<HardwareWallets>(*op, *parts.authority, *parts.settlement);
  offline_.emplace(id, std::move(parts));
  return Status::Ok();
}

Result<HardwareWallets*> DcepNetwork::hardware_wallets(std::string_view operator_id) {
  const auto it = offline_.find(operator_id);
  if (it == offline_.end()) {
    return NotFound("operator \"" + std::string(operator_id) + "\" is not in this network");
  }
  return it->second.wallets.get();
}

Result<Operator*> DcepNetwork::operator_of(std::string_view operator_id) {
  const auto it = operators_.find(operator_id);
  if (it == operators_.end()) {
    return NotFound("operator \"" + std::string(operator_id) + "\" is not in this network");
  }
  return it->second.get();
}

std::vector<std::string> DcepNetwork::operator_ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, op] : operators_) ids.push_back(id);
  return ids;
}

Status DcepNetwork::ReopenOperator(std::string_view operator_id, CentralBankClient* client) {
  const auto it = operators_.find(operator_id);
  if (it == operators_.end()) {
    return NotFound("operator \"" + std::string(operator_id) + "\" is not in this network");
  }
  const std::string id = it->first;
  directory_.Remove(id);
  offline_.erase(id);  // its settlement uses the operator as purses
  it->second.reset();  // the destructor closes ledger and store; nothing in flight is finished
  TS_ASSIGN_OR_RETURN(auto op, OpenOperator(id, client));
  directory_.Add(id, op.get());
  it->second = std::move(op);
  TS_RETURN_IF_ERROR(it->second->RecoverInterbank().status());
  return OpenOffline(id);
}

Result<NetworkAudit> DcepNetwork::AuditNetwork() {
  NetworkAudit audit;
  TS_ASSIGN_OR_RETURN(audit.central_bank, bank_->Audit());
  std::int64_t in_flight = 0;
  for (auto& [id, op] : operators_) {
    TS_ASSIGN_OR_RETURN(OperatorAudit a, op->Audit());
    in_flight += a.in_flight;
    audit.operators.emplace(id, a);
  }
  if (in_flight != 0) {
    return FailedPrecondition(std::to_string(in_flight) +
                              " outbox entries in flight; run RecoverInterbank first");
  }
  for (const auto& [id, a] : audit.operators) {
    TS_ASSIGN_OR_RETURN(const OperatorPosition position, bank_->Position(id));
    if (position.position_fen != a.position_fen) {
      return Internal("network audit: operator " + id + " holds " +
                      std::to_string(position.position_fen) +
                      " fen at the central bank but its central_bank_position is " +
                      std::to_string(a.position_fen) + " fen");
    }
  }
  return audit;
}

}  // namespace tapstack::dcep
