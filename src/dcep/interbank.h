// How the payer's operator reaches the payee's operator for the last leg of an inter-operator
// payment (after the central bank has moved the positions): InterbankPeers, and OperatorDirectory,
// the in-process implementation that finds registered dcep::Operator objects by id.
//
// JSON form of a credit (for a link between processes; the in-process path passes the struct):
//   {"from_operator","to_operator","payment_id": 32 hex (the payer's transfer id),
//    "payer_wallet","payee_wallet","amount_fen","merchant_id" (may be ""),
//    "payer_device","payee_device" (optional, absent = "")}
//   → {"credit_id": 32 hex, "replayed": bool} or {"error","message"}.
// Two kinds of credit:
//   - a wallet payment (Operator::Pay): payee_wallet set, payee_device "" ;
//   - an offline transfer settled across operators (dcep/offline_settlement.h): payee_device is
//     the payee hardware wallet, whose offline purse the payee's operator credits; payer_device
//     the payer's device ("" for a double-spend loss cover paid from the payer operator's float);
//     payer_wallet, payee_wallet and merchant_id are "".
// ToJson writes payer_device/payee_device only when set, so a wallet credit is byte-for-byte what
// peers that predate offline credits expect.
// A credit is idempotent per (from_operator, payment_id). Transient errors (IsTransient) mean
// "retry"; any other error is the payee operator's definite refusal (unknown wallet or device,
// balance cap), after which the payer's operator reverses the settlement and voids its hold.
//
// Thread-safety: OperatorDirectory is thread-safe; Add before use from other threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::dcep {

class Operator;

struct IncomingCredit {
  std::string from_operator;
  std::string to_operator;
  std::string payment_id;
  std::string payer_wallet;
  std::string payee_wallet;
  std::int64_t amount_fen = 0;
  std::string merchant_id;
  std::string payer_device;  // offline transfers only (see above)
  std::string payee_device;  // set: credit this device's offline purse instead of a wallet
  // A merchant order (a dynamic QR code's 62.01) this payment pays: the payee's operator refuses
  // (kAlreadyExists) an order another payment has paid (Operator's paid-order register).
  std::string merchant_order_id;
};

struct CreditResult {
  std::string credit_id;
  bool replayed = false;
};

nlohmann::json ToJson(const IncomingCredit& credit);
Result<IncomingCredit> IncomingCreditFromJson(const nlohmann::json& json);

class InterbankPeers {
 public:
  virtual ~InterbankPeers() = default;
  virtual Result<CreditResult> CreditIncoming(const IncomingCredit& credit) = 0;
};

class OperatorDirectory final : public InterbankPeers {
 public:
  // `op` is not owned and must outlive the directory's use; replaces an earlier entry.
  void Add(std::string operator_id, Operator* op);
  void Remove(std::string_view operator_id);
  // Errors: kUnavailable when the payee's operator is not reachable (not registered here).
  Result<CreditResult> CreditIncoming(const IncomingCredit& credit) override;

 private:
  std::mutex mu_;
  std::map<std::string, Operator*, std::less<>> operators_;
};

}  // namespace tapstack::dcep
