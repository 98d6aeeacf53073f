// OfflinePurses: what offline settlement (dcep/offline_settlement.h) needs from an operator's
// ledger to settle uploaded offline transfers. The operator (dcep/operator.h) implements it over
// its "offline purse of device D" accounts (account_code::kOfflinePurse); tests use an in-memory
// fake that enforces balances the same way.
//
// Every call that moves value takes an idempotency key chosen by the settlement (derived from the
// transfer's (payer device, counter), see docs/dcep-settlement.md). The same key with the same
// request must answer OK again without moving value twice (also after a restart); the same key
// with a different request is kAlreadyExists (kKeyReusedMessage). Settlement re-drives calls that
// failed transiently or for a state of now (kUnavailable, kIoError, kInternal,
// kFailedPrecondition), with the same key, until they succeed, so a failure must leave nothing
// moved. kNotFound, kInvalidArgument, kAlreadyExists and kOutOfRange are definite: a retry with
// that key cannot succeed, and settlement refuses the record (kept with the reason).
//
// Thread-safety: implementations must allow calls from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tapstack::dcep {

// The payee device id under which an operator receives unloads ("op-icbc"); device ids with this
// prefix are reserved (no customer device may be certified under one).
inline constexpr std::string_view kUnloadPayeePrefix = "op-";

// One MovePurseValue request, for MovePurseValues.
struct PurseMove {
  std::string payer_device_id;
  std::string payee_device_id;
  std::string payee_operator_id;
  std::int64_t amount_fen = 0;
  std::string idempotency_key;
};

class OfflinePurses {
 public:
  virtual ~OfflinePurses() = default;

  // Moves `amount_fen` from the offline purse of `payer_device_id` (kept by this operator) to the
  // offline purse of `payee_device_id` kept by `payee_operator_id` (this operator or another one:
  // then the inter-operator path of Operator::Pay, central_bank_position → peer: the amount is
  // held in the payer purse while in flight, the call answers kUnavailable until the peer has
  // credited, and the same key re-drives it).
  // Errors: kFailedPrecondition (the payer purse holds less than `amount_fen`: value the device
  // received offline may not be uploaded yet, so settlement retries later), kNotFound (no purse
  // for the payer; payee device unknown to its operator — across operators after the settlement
  // was reversed), kUnavailable (transient: retried), kAlreadyExists (key reused with a different
  // request), kInvalidArgument.
  virtual Status MovePurseValue(std::string_view payer_device_id, std::string_view payee_device_id,
                                std::string_view payee_operator_id, std::int64_t amount_fen,
                                std::string_view idempotency_key) = 0;

  // MovePurseValue for each of `moves`, in order (a move may spend what an earlier one of the
  // batch credited); one Status per move, each as the single call would answer it. An
  // implementation may commit them together (Operator: one journal commit and one ledger batch
  // for the moves within this operator), which is why offline settlement hands over a whole
  // upload at once. This default makes the calls one by one.
  virtual std::vector<Status> MovePurseValues(std::span<const PurseMove> moves) {
    std::vector<Status> out;
    out.reserve(moves.size());
    for (const PurseMove& m : moves) {
      out.push_back(MovePurseValue(m.payer_device_id, m.payee_device_id, m.payee_operator_id,
                                   m.amount_fen, m.idempotency_key));
    }
    return out;
  }

  // Unload (payee "op-<this operator>") and recovery of a frozen device: moves `amount_fen` from
  // the purse of `device_id` to the online wallet that owns the purse.
  // Errors: as MovePurseValue.
  virtual Status UnloadPurseValue(std::string_view device_id, std::int64_t amount_fen,
                                  std::string_view idempotency_key) = 0;

  // Loss policy of a double spend: pays `amount_fen` from the operator's own funds (Operator: its
  // e-CNY float, so no value is created) into the purse of `payee_device_id` at
  // `payee_operator_id`. Errors: as MovePurseValue; kFailedPrecondition when those funds are short
  // (settlement retries later).
  virtual Status CoverOfflineLoss(std::string_view payee_device_id,
                                  std::string_view payee_operator_id, std::int64_t amount_fen,
                                  std::string_view idempotency_key) = 0;

  // The balance of the purse of `device_id` that can be moved now (posted, minus moves to other
  // operators in flight); 0 for a device without a purse.
  // Errors: kInvalidArgument (device id), kIoError.
  virtual Result<std::int64_t> PurseBalance(std::string_view device_id) = 0;
};

}  // namespace tapstack::dcep
