// How an operator talks to the central bank: typed request/response structs with a documented
// JSON form, an interface (CentralBankClient), the central bank's JSON handler and an in-process
// client that goes through that handler (so the in-process path exercises the same JSON an HTTP
// or message link would carry).
//
// JSON (method → request → response; amounts in fen, ids lowercase):
//   "issue"    {"operator_id","amount_fen","idempotency_key"}                 → movement
//   "redeem"   {"operator_id","amount_fen","idempotency_key"}                 → movement
//   "settle"   {"from_operator","to_operator","amount_fen","idempotency_key"} → movement
//   "reverse_settlement"  same request as settle                              → movement
//   "position" {"operator_id"} → {"operator_id","position_fen","reserve_fen"}
//   movement = {"transfer_id": 32 hex, "amount_fen", "position_fen", "replayed": bool}
//   error    = {"error": ErrorCodeName, "message": text}
// Unknown or missing members are refused (invalid_argument naming the member).
//
// Transient vs permanent: a client's kUnavailable, kIoError or kInternal means "outcome unknown,
// retry with the same key"; every other error is the central bank's definite answer.
//
// Thread-safety: InProcessCentralBankClient is thread-safe (CentralBank is).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "dcep/central_bank.h"

namespace tapstack::dcep {

struct IssueRequest {  // also redeem
  std::string operator_id;
  std::int64_t amount_fen = 0;
  std::string idempotency_key;
};

struct SettleRequest {  // also reverse_settlement
  std::string from_operator;
  std::string to_operator;
  std::int64_t amount_fen = 0;
  std::string idempotency_key;
};

nlohmann::json ToJson(const IssueRequest& request);
nlohmann::json ToJson(const SettleRequest& request);
nlohmann::json ToJson(const Movement& movement);
nlohmann::json ToJson(const OperatorPosition& position);
Result<IssueRequest> IssueRequestFromJson(const nlohmann::json& json);
Result<SettleRequest> SettleRequestFromJson(const nlohmann::json& json);
Result<Movement> MovementFromJson(const nlohmann::json& json);
Result<OperatorPosition> PositionFromJson(const nlohmann::json& json);

// True for the errors after which the outcome is unknown (retry with the same key).
bool IsTransient(const Status& status);

class CentralBankClient {
 public:
  virtual ~CentralBankClient() = default;
  virtual Result<Movement> Issue(const IssueRequest& request) = 0;
  virtual Result<Movement> Redeem(const IssueRequest& request) = 0;
  virtual Result<Movement> Settle(const SettleRequest& request) = 0;
  virtual Result<Movement> ReverseSettlement(const SettleRequest& request) = 0;
  virtual Result<OperatorPosition> Position(std::string_view operator_id) = 0;
};

// The central bank's JSON handler: runs `method` with the JSON text `body` and returns the JSON
// text of the answer (a result or an error object, see above). Never throws.
std::string HandleCentralBankJson(CentralBank& bank, std::string_view method,
                                  std::string_view body);

// A client calling HandleCentralBankJson in-process. `bank` must outlive it.
class InProcessCentralBankClient final : public CentralBankClient {
 public:
  explicit InProcessCentralBankClient(CentralBank& bank) : bank_(bank) {}
  Result<Movement> Issue(const IssueRequest& request) override;
  Result<Movement> Redeem(const IssueRequest& request) override;
  Result<Movement> Settle(const SettleRequest& request) override;
  Result<Movement> ReverseSettlement(const SettleRequest& request) override;
  Result<OperatorPosition> Position(std::string_view operator_id) override;

 private:
  Result<nlohmann::json> Call(std::string_view method, const nlohmann::json& request);
  CentralBank& bank_;
};

}  // namespace tapstack::dcep
