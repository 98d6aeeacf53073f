// Token lifecycle states and who may change them (emv-and-tokenization.md §5: the TF states, with
// UnionPay's ACTIVE/SUSPENDED/DELETED and MDES's rules for who may resume).
//
//   inactive --activate--> active --suspend--> suspended --resume--> active
//   inactive | active | suspended --delete--> deleted (terminal: the number is never reused)
//   update_pan (PAN re-issue or new expiry): any state but deleted; the state does not change
//
// Who may do what:
//   issuer  every action, on any token (ownership of the PAN is the network's routing check)
//   wallet  suspend, resume, delete, only on tokens it requested (initiator id == requestor id);
//           it may resume only what a wallet suspended: an issuer or TSP suspension (fraud,
//           lost card) needs the issuer to lift it
//   tsp     activate (after ID&V), suspend, delete (e.g. a pending token timed out); resume only
//           what the TSP itself suspended
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::tsp {

enum class TokenState { kInactive, kActive, kSuspended, kDeleted };
enum class LifecycleAction { kActivate, kSuspend, kResume, kDelete, kUpdatePan };
enum class InitiatorKind { kIssuer, kWallet, kTsp };

struct Initiator {
  InitiatorKind kind = InitiatorKind::kTsp;
  // Issuer id, the wallet's Token Requestor ID (11 digits), or the TSP component name.
  // 1-64 printable ASCII characters.
  std::string id;
};

// Stable lower-case names, used in the database and the audit log: "inactive", "suspend",
// "wallet", …
std::string_view TokenStateName(TokenState state);
std::string_view LifecycleActionName(LifecycleAction action);
std::string_view InitiatorKindName(InitiatorKind kind);
// Parsers of the names above. Errors: kCorruption naming the unknown text (they read stored data).
Result<TokenState> ParseTokenState(std::string_view name);
Result<InitiatorKind> ParseInitiatorKind(std::string_view name);

// "wallet:40012345678": the audit actor for `initiator`.
std::string InitiatorActor(const Initiator& initiator);

// The state after `action`, or why it is not allowed:
//   kInvalidArgument     initiator id empty, too long or not printable ASCII
//   kFailedPrecondition  the action is not valid in `from` (e.g. resume an active token, anything
//                        on a deleted one), or `initiator` may not do it (a wallet acting on
//                        another requestor's token, or resuming an issuer suspension); the
//                        message names the state, action and initiator kind.
// `token_requestor_id` is the token's requestor; `suspended_by` who suspended it (if suspended).
Result<TokenState> CheckTransition(TokenState from, LifecycleAction action,
                                   const Initiator& initiator, std::string_view token_requestor_id,
                                   std::optional<InitiatorKind> suspended_by);

}  // namespace tapstack::tsp
