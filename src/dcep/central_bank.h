// CentralBank: issuance, redemption and interbank settlement of e-CNY over the central bank's own
// durable ledger (ledger::Ledger "central_bank"; chart of accounts in dcep/ledger_ids.h).
//
//   CNY reserves (kCnyReserveLedgerId)          e-CNY (kEcnyLedgerId)
//   reserve_funding ─seed─▶ reserve(X)          issuance ─Issue─▶ position(X) ─Settle─▶ position(Y)
//   reserve(X) ─Issue─▶ reserve_liability       position(X) ─Redeem─▶ issuance
//
// Issue to operator X of N fen is one linked pair (white paper §3.3: issued against reserves,
// "under the quota management of the PBOC"): reserve(X) → liability in CNY and issuance →
// position(X) in e-CNY; both happen or neither. Redeem is the reverse pair. The issuance account's
// debit balance is the e-CNY in circulation, and Audit proves it equals Σ positions.
//
// Idempotency: each call takes the caller's idempotency key; transfer ids are derived from
// (operation, operator, key) with IdDeriver, and the request's digest sits in user_data_128. A
// replay with the same body returns the first outcome (also a first refusal: the ledger remembers
// transient failures per id); the same key with a different body is kAlreadyExists
// (kKeyReusedMessage).
//
// Errors of Issue/Redeem/Settle/ReverseSettlement:
//   kInvalidArgument    amount ≤ 0, empty or over-long key, same operator twice
//   kNotFound           operator not registered
//   kFailedPrecondition reserve (Issue) or position (Redeem, Settle) too small; names amounts
//   kAlreadyExists      key reused with a different request
//   kIoError/kInternal  from the ledger (outcome unknown: retry with the same key)
//
// Thread-safety: every method may be called from any thread (the ledger is thread-safe, the
// operator table has its own mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "dcep/ledger_ids.h"
#include "ledger/ledger.h"

namespace tapstack::dcep {

inline constexpr std::size_t kIdempotencyKeyBytesMax = 128;
inline constexpr std::string_view kCentralBankLedgerName = "central_bank";

struct CentralBankOptions {
  std::filesystem::path data_dir;  // <data_dir>/central_bank.wal
  const Clock* clock = nullptr;    // nullptr = SystemClock; must outlive the bank
  // The ledger log grows in zero-filled chunks of this size (ledger::LedgerOptions).
  std::uint64_t ledger_preallocate_bytes = ledger::kLogPreallocateBytesDefault;
  // How the ledger's log file is opened (ledger::LedgerOptions::open_file); empty = the POSIX
  // file. The simulator fails its disk here.
  ledger::LogFileOpener open_ledger_file;
  // Key of the id derivation; empty = DemoDcepIdKey("central_bank").
  crypto::SecretBytes id_key;
};

// The outcome of an issuance, redemption or settlement.
struct Movement {
  std::string transfer_id;        // 32 hex digits, the e-CNY transfer
  std::int64_t amount_fen = 0;
  std::int64_t position_fen = 0;  // the (paying) operator's e-CNY position after the call
  bool replayed = false;          // the key had been seen: this is the first outcome
};

struct OperatorPosition {
  std::string operator_id;
  std::int64_t position_fen = 0;  // e-CNY the operator holds at the central bank
  std::int64_t reserve_fen = 0;   // CNY reserve left
};

struct CentralBankAudit {
  std::int64_t issued_fen = 0;          // issuance account's debit balance
  std::int64_t positions_sum_fen = 0;   // Σ positions
  std::int64_t reserves_sum_fen = 0;    // Σ CNY reserves
  std::int64_t liability_fen = 0;       // CNY held against issued e-CNY (= issued_fen)
  std::vector<OperatorPosition> positions;
};

class CentralBank {
 public:
  // Opens (creating) the ledger and its fixed accounts. Errors: as ledger::Ledger::Open,
  // IdDeriver::Create.
  static Result<std::unique_ptr<CentralBank>> Open(CentralBankOptions options);
  ~CentralBank();

  Status Close();

  // Creates operator X's position and reserve accounts and funds the reserve with `reserve_fen`
  // CNY (seed). Idempotent: registering again with the same amount is OK (also after reopen).
  // Errors: kInvalidArgument (id, amount), kAlreadyExists (same operator, other amount), ledger.
  Status RegisterOperator(std::string_view operator_id, std::int64_t reserve_fen);

  Result<Movement> Issue(std::string_view operator_id, std::int64_t amount_fen,
                         std::string_view idempotency_key);
  Result<Movement> Redeem(std::string_view operator_id, std::int64_t amount_fen,
                          std::string_view idempotency_key);
  // position(from) → position(to); the key is the paying operator's.
  Result<Movement> Settle(std::string_view from_operator, std::string_view to_operator,
                          std::int64_t amount_fen, std::string_view idempotency_key);
  // Moves a recorded settlement back (position(to) → position(from)), when the payee's operator
  // refused the credit. Errors: kNotFound when no settlement with these fields and key exists.
  Result<Movement> ReverseSettlement(std::string_view from_operator, std::string_view to_operator,
                                     std::int64_t amount_fen, std::string_view idempotency_key);

  // Errors: kNotFound (operator), ledger errors.
  Result<OperatorPosition> Position(std::string_view operator_id);
  std::vector<std::string> operator_ids() const;

  // The ledger's own audit, then issued == Σ positions and liability == issued.
  // Errors: kInternal naming the first difference; ledger errors.
  Result<CentralBankAudit> Audit();

 private:
  struct OperatorAccounts {
    ledger::Id128 position;
    ledger::Id128 reserve;
  };
  CentralBank(std::unique_ptr<ledger::Ledger> ledger, IdDeriver ids);
  Result<OperatorAccounts> AccountsOf(std::string_view operator_id) const;
  Result<std::int64_t> PositionOf(ledger::Id128 account);
  // Creates a linked chain and maps its results (see the errors above).
  Result<bool> Apply(std::vector<ledger::Transfer> chain, std::string_view what);

  std::unique_ptr<ledger::Ledger> ledger_;
  IdDeriver ids_;
  ledger::Id128 issuance_;
  ledger::Id128 liability_;
  ledger::Id128 funding_;
  mutable std::mutex mu_;
  std::map<std::string, OperatorAccounts, std::less<>> operators_;  // guarded by mu_
};

// A ledger::Account's balance as fen: credits − debits (posted) for credit-normal accounts.
std::int64_t CreditBalance(const ledger::Account& account);
std::int64_t DebitBalance(const ledger::Account& account);

// Maps ErrorCodeName() back to its code; kInternal for an unknown name.
ErrorCode ErrorCodeFromName(std::string_view name);

}  // namespace tapstack::dcep
