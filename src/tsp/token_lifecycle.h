// TokenLifecycle: the lifecycle calls the issuer, the wallet and the TSP make on a token
// (emv-and-tokenization.md §5): activate, suspend, resume, delete and PAN update. Rules of who may
// do what are in token_state.h; the vault persists each change atomically with its audit entry;
// this class then notifies the token requestor through a TokenEventListener.
//
// Notification happens after the commit, so a listener never hears of a change that rolled back;
// a crash between commit and notification loses that notification (a durable outbox is a later
// step). Thread-safety: as the vault (one thread at a time).
#pragma once

#include <string_view>

#include "core/pan.h"
#include "core/status.h"
#include "tsp/token_events.h"
#include "tsp/token_state.h"
#include "tsp/token_vault.h"

namespace tapstack::tsp {

class TokenLifecycle {
 public:
  // `vault`, `clock` and `listener` are not owned and must outlive this object.
  TokenLifecycle(TokenVault& vault, const Clock& clock, TokenEventListener& listener)
      : vault_(vault), clock_(clock), listener_(listener) {}

  // Each returns the token after the change. Errors: TokenVault::ChangeState's (kNotFound,
  // kInvalidArgument, kFailedPrecondition for a transition the state or initiator does not allow);
  // nothing changes and nobody is notified on error. `reason` is free text for the audit log
  // (printable ASCII, at most kReasonBytesMax; MDES delete reasons F/C/Z fit).
  Result<TokenRecord> Activate(std::string_view token_id, const Initiator& initiator,
                               std::string_view reason);
  Result<TokenRecord> Suspend(std::string_view token_id, const Initiator& initiator,
                              std::string_view reason);
  Result<TokenRecord> Resume(std::string_view token_id, const Initiator& initiator,
                             std::string_view reason);
  Result<TokenRecord> Delete(std::string_view token_id, const Initiator& initiator,
                             std::string_view reason);
  // PAN re-issue or new PAN expiry: the token, its number, PAR and state stay. Issuer only.
  Result<TokenRecord> UpdatePan(std::string_view token_id, const Initiator& initiator,
                                const Pan& new_pan, std::string_view new_pan_expiry,
                                std::string_view reason);

  // For a caller that commits the change together with other writes: the state change (any action
  // but kUpdatePan) joins the transaction the caller has open on the vault's store, and nobody is
  // notified. Returns the event to record or announce once the caller committed (the listener must
  // never hear of a change that rolled back). Errors: as ChangeState.
  Result<TokenEvent> ChangeInTransaction(std::string_view token_id, LifecycleAction action,
                                         const Initiator& initiator, std::string_view reason,
                                         TokenRecord* after);
  // Tells the listener about a change committed through ChangeInTransaction.
  void Announce(const TokenEvent& event) { listener_.OnTokenEvent(event); }

 private:
  TokenEvent EventOf(const TokenTransition& transition, LifecycleAction action,
                     const Initiator& initiator) const;
  Result<TokenRecord> Notify(Result<TokenTransition> transition, LifecycleAction action,
                             const Initiator& initiator);

  TokenVault& vault_;
  const Clock& clock_;
  TokenEventListener& listener_;
};

}  // namespace tapstack::tsp
