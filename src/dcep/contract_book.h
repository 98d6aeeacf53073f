// ContractBook: conditional (smart-contract) payments that one operator enforces
// (docs/dcep.md, "Conditional payments"; terms and release arithmetic in dcep/contract_terms.h).
//
// Value under a contract sits in its own escrow account on the operator's ledger
// (account_code::kEscrow, DebitsMustNotExceedCredits: it can never pay out more than was locked),
// and every state change is one journalled ledger transfer (kinds in the operator's journal):
//   create                  payer wallet → escrow        contract_lock    (payer's limits apply)
//   deliver (prepaid)       escrow → merchant wallet     contract_release (pro-rata share)
//   confirm (escrow)        escrow → payee wallet        contract_release (all that is locked)
//   spend   (subsidy)       escrow → merchant wallet     contract_release (MCC allowed)
//   cancel, expire          escrow → payer wallet        contract_refund  (all that is locked)
//
// Who may act (refused with kFailedPrecondition naming the rule):
//   prepaid_service  deliver: the merchant's wallet; cancel: the payer
//   escrow           confirm: the payer; cancel: the payee (it declines the deal)
//   subsidy          spend: the beneficiary; nobody cancels (the rest returns at expiry)
// After expiry (operator clock) no action but the automatic refund runs; a closed contract
// (nothing locked) refuses everything.
//
// Parties: every wallet and merchant of a contract is kept by this operator (a contract never
// crosses to another operator: kFailedPrecondition naming the member).
//
// Idempotency: each action has an event id derived from (contract, action, key); the event row
// (dcep_contract_events) remembers the request digest and the outcome, refusals included. The
// same key + same request answers the first outcome (replayed = true), another request
// kAlreadyExists (kKeyReusedMessage). A contract id is derived from (payer wallet, key) of its
// create call, so a retried create finds the same contract.
//
// Atomicity: the event row, the contract row's new progress and the operator's journal row commit
// in one store transaction, then the ledger transfer follows (the operator's journal-then-ledger
// pattern; Operator::Open re-submits the last batch). The contract's progress is a function of
// its posted journal rows: Reconcile (run at open) recomputes it and repairs a row that a
// ledger refusal left ahead.
//
// Thread-safety: every method runs under the operator's lock (ContractHost::Run); any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dcep/contract_terms.h"
#include "dcep/operator.h"
#include "dcep/tiers.h"
#include "ledger/types.h"
#include "store/store.h"

namespace tapstack::dcep {

// Contract ids: "ct-" + operator id + "-" + 16 lowercase hex.
inline constexpr std::size_t kContractIdHexChars = 16;
// Contracts refunded per lock acquisition by ExpireContracts (keeps other calls moving).
inline constexpr std::size_t kExpireBatchMax = 256;
// Events returned by Get (the newest ones).
inline constexpr std::size_t kContractEventsMax = 200;

// The operator a contract id belongs to. Errors: kInvalidArgument ("contract_id: expected ...").
Result<std::string> ContractOperatorId(std::string_view contract_id);

struct ContractEvent {
  std::string event_id;  // 32 hex; equal to entry_id when the event moved value
  std::int64_t seq = 0;  // 1, 2, ... per contract
  std::string action;    // create deliver confirm cancel spend expire
  std::string actor_wallet;  // empty for expire
  std::string merchant_id;   // spend, deliver
  std::int64_t units = 0;    // deliver
  std::int64_t amount_fen = 0;
  std::string status;  // posted refused failed
  std::string error_code;
  std::string reason;
  std::string entry_id;  // the journal entry (empty for refusals before any movement)
  std::int64_t created_unix_ms = 0;
};

struct Contract {
  std::string contract_id;
  std::string operator_id;
  ContractTerms terms;
  std::string terms_json;  // canonical
  ContractProgress progress;
  std::string state;  // active closed
  std::int64_t locked_fen = 0;
  std::int64_t created_unix_ms = 0;
  std::int64_t updated_unix_ms = 0;
  std::vector<ContractEvent> events;  // oldest first; filled by Get only
};

// What an action answers: the contract as it is now and the ledger movement of this call (on a
// replay: the first movement of the key).
struct ContractOutcome {
  Contract contract;
  Entry entry;
  bool replayed = false;
};

// One value movement of a contract, as ContractBook asks its operator to journal it.
struct ContractMovement {
  enum class Kind { kLock, kRelease, kRefund };
  Kind kind = Kind::kLock;
  std::string contract_id;
  ledger::Id128 entry_id;   // derived by the book (the event id)
  ledger::Id128 digest;     // of the request
  ledger::Id128 escrow_account;
  std::string wallet_id;    // lock: the payer; release/refund: the receiving wallet
  std::string merchant_id;  // release to a merchant
  std::int64_t amount_fen = 0;
};

// What a ContractBook needs from its operator; implemented by Operator (operator.cc). Every
// method but Run, OperatorId and Config must be called inside Run (the operator's lock held).
class ContractHost {
 public:
  virtual ~ContractHost() = default;
  // Runs `fn` under the operator's lock. Errors: the operator's sticky failure (reopen), or fn's.
  virtual Status Run(const std::function<Status()>& fn) = 0;
  virtual const std::string& OperatorId() const = 0;
  virtual const DcepConfig& Config() const = 0;

  virtual store::Store& Store() = 0;
  virtual std::int64_t NowUnixMillis() const = 0;
  virtual Result<ledger::Id128> DeriveId(std::string_view purpose, std::string_view part1,
                                         std::string_view part2) const = 0;
  virtual bool IsWallet(std::string_view wallet_id) const = 0;
  // Creates (or finds) the escrow account of `contract_id` in the ledger.
  virtual Result<ledger::Id128> OpenEscrowAccount(std::string_view contract_id) = 0;
  // The posted credit balance of an escrow account. Errors: kInternal (missing).
  virtual Result<std::int64_t> EscrowBalance(ledger::Id128 account) = 0;
  // Journals and posts `movement` like a payment (limits and balances checked; a refusal is a
  // journal row too). `also(store, outcome)` runs inside the journal's store transaction with the
  // movement's check outcome; `after_failure(store)` runs if the ledger then refuses the transfer
  // (the journal row becomes failed). Returns the entry, or the refusal.
  virtual Result<Entry> Move(const ContractMovement& movement,
                             const std::function<Status(store::Store&, const Status&)>& also,
                             const std::function<Status(store::Store&)>& after_failure) = 0;
  // The journal entry `entry_id` (for replays). Errors: kNotFound.
  virtual Result<Entry> LookupEntry(ledger::Id128 entry_id) = 0;
};

class ContractBook {
 public:
  // `host` must outlive the book.
  explicit ContractBook(ContractHost& host) : host_(host) {}

  // Validates `terms_json` (ParseContractTerms), checks the parties are kept by this operator,
  // opens the escrow account and locks amount_fen from the payer's wallet (the payer is the
  // caller). Errors: kInvalidArgument (terms, key), kNotFound (a wallet), kFailedPrecondition
  // (balance, a party of another operator), kOutOfRange (payment_max_fen, daily_max_fen),
  // kAlreadyExists (key reused), kIoError.
  Result<ContractOutcome> Create(std::string_view terms_json, std::string_view idempotency_key);

  // The contract with its newest events. Errors: kInvalidArgument, kNotFound.
  Result<Contract> Get(std::string_view contract_id);

  // prepaid_service, by the merchant: releases PrepaidReleaseFen(units) to the merchant.
  // Errors: kFailedPrecondition (actor, template, closed, expired), kOutOfRange (more units than
  // remain), kInvalidArgument, kNotFound, kAlreadyExists.
  Result<ContractOutcome> Deliver(std::string_view contract_id, std::string_view actor_wallet,
                                  std::int64_t units, std::string_view idempotency_key);
  // escrow, by the payer: releases everything to the payee. Errors: as Deliver, and kOutOfRange
  // (the payee's balance cap).
  Result<ContractOutcome> Confirm(std::string_view contract_id, std::string_view actor_wallet,
                                  std::string_view idempotency_key);
  // prepaid_service by the payer, escrow by the payee: refunds everything locked to the payer.
  Result<ContractOutcome> Cancel(std::string_view contract_id, std::string_view actor_wallet,
                                 std::string_view idempotency_key);
  // subsidy, by the beneficiary: pays `amount_fen` to a merchant of this operator whose MCC is
  // allowed. Errors: as Deliver; kFailedPrecondition (MCC, more than is left).
  Result<ContractOutcome> SpendSubsidy(std::string_view contract_id, std::string_view actor_wallet,
                                       std::string_view merchant_id, std::int64_t amount_fen,
                                       std::string_view idempotency_key);

  // Refunds every active contract whose expires_unix_ms ≤ the operator's clock; returns how many
  // it refunded. Idempotent (one refund per contract, whatever the number of calls); Operator::
  // Open runs it. Errors: kIoError, kInternal.
  Result<std::int64_t> ExpireContracts();

  // Recomputes every active contract's progress from its posted journal rows and repairs a row
  // that differs (after a ledger refusal at recovery). Returns the number repaired. Run by
  // Operator::Open.
  Result<std::int64_t> Reconcile();

  // Inside Run only (Operator::Audit): Σ locked_fen of active contracts, each checked against its
  // escrow account's balance (kInternal naming the contract when they differ).
  Result<std::int64_t> AuditEscrowsLocked();

 private:
  enum class Action { kDeliver, kConfirm, kCancel, kSpend, kExpire };
  struct Request {
    Action action = Action::kDeliver;
    std::string contract_id;
    std::string actor_wallet;
    std::string merchant_id;
    std::int64_t units = 0;
    std::int64_t amount_fen = 0;
    std::string key;
  };
  Result<ContractOutcome> Act(Request request);
  Result<ContractOutcome> ActLocked(const Request& request);

  ContractHost& host_;
};

}  // namespace tapstack::dcep
