#include "tsp/token_lifecycle.h"

namespace tapstack::tsp {

TokenEvent TokenLifecycle::EventOf(const TokenTransition& transition, LifecycleAction action,
                                   const Initiator& initiator) const {
  const TokenRecord& r = transition.record;
  return TokenEvent{
      .token_id = r.token_id,
      .requestor_id = r.requestor_id,
      .device_id = r.device_id,
      .action = action,
      .from = transition.from,
      .to = r.state,
      .initiator = initiator,
      .time_unix_ms = clock_.NowUnixMillis(),
      .audit_seq = transition.audit_seq,
  };
}

Result<TokenRecord> TokenLifecycle::Notify(Result<TokenTransition> transition,
                                           LifecycleAction action, const Initiator& initiator) {
  if (!transition.ok()) return transition.status();
  listener_.OnTokenEvent(EventOf(*transition, action, initiator));
  return transition->record;
}

Result<TokenEvent> TokenLifecycle::ChangeInTransaction(std::string_view token_id,
                                                       LifecycleAction action,
                                                       const Initiator& initiator,
                                                       std::string_view reason,
                                                       TokenRecord* after) {
  TS_ASSIGN_OR_RETURN(TokenTransition t, vault_.ChangeState(token_id, action, initiator, reason));
  TokenEvent event = EventOf(t, action, initiator);
  if (after != nullptr) *after = std::move(t.record);
  return event;
}

Result<TokenRecord> TokenLifecycle::Activate(std::string_view token_id, const Initiator& initiator,
                                             std::string_view reason) {
  return Notify(vault_.ChangeState(token_id, LifecycleAction::kActivate, initiator, reason),
                LifecycleAction::kActivate, initiator);
}

Result<TokenRecord> TokenLifecycle::Suspend(std::string_view token_id, const Initiator& initiator,
                                            std::string_view reason) {
  return Notify(vault_.ChangeState(token_id, LifecycleAction::kSuspend, initiator, reason),
                LifecycleAction::kSuspend, initiator);
}

Result<TokenRecord> TokenLifecycle::Resume(std::string_view token_id, const Initiator& initiator,
                                           std::string_view reason) {
  return Notify(vault_.ChangeState(token_id, LifecycleAction::kResume, initiator, reason),
                LifecycleAction::kResume, initiator);
}

Result<TokenRecord> TokenLifecycle::Delete(std::string_view token_id, const Initiator& initiator,
                                           std::string_view reason) {
  return Notify(vault_.ChangeState(token_id, LifecycleAction::kDelete, initiator, reason),
                LifecycleAction::kDelete, initiator);
}

Result<TokenRecord> TokenLifecycle::UpdatePan(std::string_view token_id, const Initiator& initiator,
                                              const Pan& new_pan, std::string_view new_pan_expiry,
                                              std::string_view reason) {
  return Notify(vault_.UpdatePan(token_id, initiator, new_pan, new_pan_expiry, reason),
                LifecycleAction::kUpdatePan, initiator);
}

}  // namespace tapstack::tsp
