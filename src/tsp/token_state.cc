#include "tsp/token_state.h"

namespace tapstack::tsp {

namespace {

constexpr std::size_t kInitiatorIdBytesMax = 64;

std::string Describe(TokenState from, LifecycleAction action, const Initiator& who) {
  return std::string(LifecycleActionName(action)) + " by " +
         std::string(InitiatorKindName(who.kind)) + " on a " + std::string(TokenStateName(from)) +
         " token";
}

}  // namespace

std::string_view TokenStateName(TokenState state) {
  switch (state) {
    case TokenState::kInactive:
      return "inactive";
    case TokenState::kActive:
      return "active";
    case TokenState::kSuspended:
      return "suspended";
    case TokenState::kDeleted:
      return "deleted";
  }
  return "unknown";
}

std::string_view LifecycleActionName(LifecycleAction action) {
  switch (action) {
    case LifecycleAction::kActivate:
      return "activate";
    case LifecycleAction::kSuspend:
      return "suspend";
    case LifecycleAction::kResume:
      return "resume";
    case LifecycleAction::kDelete:
      return "delete";
    case LifecycleAction::kUpdatePan:
      return "update_pan";
  }
  return "unknown";
}

std::string_view InitiatorKindName(InitiatorKind kind) {
  switch (kind) {
    case InitiatorKind::kIssuer:
      return "issuer";
    case InitiatorKind::kWallet:
      return "wallet";
    case InitiatorKind::kTsp:
      return "tsp";
  }
  return "unknown";
}

Result<TokenState> ParseTokenState(std::string_view name) {
  for (TokenState s :
       {TokenState::kInactive, TokenState::kActive, TokenState::kSuspended, TokenState::kDeleted}) {
    if (TokenStateName(s) == name) return s;
  }
  return Corruption("unknown token state '" + std::string(name.substr(0, 32)) + "'");
}

Result<InitiatorKind> ParseInitiatorKind(std::string_view name) {
  for (InitiatorKind k : {InitiatorKind::kIssuer, InitiatorKind::kWallet, InitiatorKind::kTsp}) {
    if (InitiatorKindName(k) == name) return k;
  }
  return Corruption("unknown initiator kind '" + std::string(name.substr(0, 32)) + "'");
}

std::string InitiatorActor(const Initiator& initiator) {
  return std::string(InitiatorKindName(initiator.kind)) + ":" + initiator.id;
}

Result<TokenState> CheckTransition(TokenState from, LifecycleAction action,
                                   const Initiator& initiator, std::string_view token_requestor_id,
                                   std::optional<InitiatorKind> suspended_by) {
  if (initiator.id.empty() || initiator.id.size() > kInitiatorIdBytesMax) {
    return InvalidArgument("initiator.id must be 1-" + std::to_string(kInitiatorIdBytesMax) +
                           " characters");
  }
  for (char c : initiator.id) {
    if (c < 0x21 || c > 0x7E) return InvalidArgument("initiator.id must be printable ASCII");
  }
  const std::string what = Describe(from, action, initiator);
  if (from == TokenState::kDeleted) {
    return FailedPrecondition(what + ": deleted is final");
  }
  // Who: the wallet acts only on its own tokens and never activates or updates the PAN.
  switch (initiator.kind) {
    case InitiatorKind::kIssuer:
      break;
    case InitiatorKind::kWallet:
      if (initiator.id != token_requestor_id) {
        return FailedPrecondition(what + ": the token belongs to another token requestor");
      }
      if (action == LifecycleAction::kActivate || action == LifecycleAction::kUpdatePan) {
        return FailedPrecondition(what + ": only the issuer or the TSP may do this");
      }
      break;
    case InitiatorKind::kTsp:
      if (action == LifecycleAction::kUpdatePan) {
        return FailedPrecondition(what + ": only the issuer may update the PAN");
      }
      break;
  }
  switch (action) {
    case LifecycleAction::kActivate:
      if (from != TokenState::kInactive) return FailedPrecondition(what + ": not inactive");
      return TokenState::kActive;
    case LifecycleAction::kSuspend:
      if (from != TokenState::kActive) return FailedPrecondition(what + ": not active");
      return TokenState::kSuspended;
    case LifecycleAction::kResume:
      if (from != TokenState::kSuspended) return FailedPrecondition(what + ": not suspended");
      // MDES-style: only the party that suspended (or the issuer, who outranks it) may resume.
      if (initiator.kind != InitiatorKind::kIssuer && suspended_by != initiator.kind) {
        return FailedPrecondition(
            what + ": suspended by " +
            std::string(suspended_by ? InitiatorKindName(*suspended_by) : "unknown") +
            ", which only the issuer or that party may lift");
      }
      return TokenState::kActive;
    case LifecycleAction::kDelete:
      return TokenState::kDeleted;
    case LifecycleAction::kUpdatePan:
      return from;
  }
  return Internal("unknown lifecycle action");
}

}  // namespace tapstack::tsp
