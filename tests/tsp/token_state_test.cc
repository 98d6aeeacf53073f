#include "tsp/token_state.h"

#include <gtest/gtest.h>

namespace tapstack::tsp {
namespace {

using S = TokenState;
using A = LifecycleAction;
using K = InitiatorKind;

const Initiator kIssuer{K::kIssuer, "issuer:bank-a"};
const Initiator kWallet{K::kWallet, "40010000001"};
const Initiator kOtherWallet{K::kWallet, "40010000002"};
const Initiator kTsp{K::kTsp, "idv"};
constexpr std::string_view kTrid = "40010000001";

Result<S> Check(S from, A action, const Initiator& who,
                std::optional<K> suspended_by = std::nullopt) {
  return CheckTransition(from, action, who, kTrid, suspended_by);
}

void ExpectRefused(const Result<S>& r) {
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition) << r.status().ToString();
}

TEST(TokenStateTest, HappyPaths) {
  EXPECT_EQ(*Check(S::kInactive, A::kActivate, kTsp), S::kActive);
  EXPECT_EQ(*Check(S::kInactive, A::kActivate, kIssuer), S::kActive);
  EXPECT_EQ(*Check(S::kActive, A::kSuspend, kWallet), S::kSuspended);
  EXPECT_EQ(*Check(S::kSuspended, A::kResume, kWallet, K::kWallet), S::kActive);
  EXPECT_EQ(*Check(S::kSuspended, A::kResume, kIssuer, K::kWallet), S::kActive);
  EXPECT_EQ(*Check(S::kSuspended, A::kResume, kIssuer, K::kIssuer), S::kActive);
  EXPECT_EQ(*Check(S::kSuspended, A::kResume, kTsp, K::kTsp), S::kActive);
  for (S from : {S::kInactive, S::kActive, S::kSuspended}) {
    EXPECT_EQ(*Check(from, A::kDelete, kWallet), S::kDeleted);
    EXPECT_EQ(*Check(from, A::kDelete, kIssuer), S::kDeleted);
    EXPECT_EQ(*Check(from, A::kDelete, kTsp), S::kDeleted);
    EXPECT_EQ(*Check(from, A::kUpdatePan, kIssuer), from);
  }
}

TEST(TokenStateTest, DeletedIsFinal) {
  for (A action : {A::kActivate, A::kSuspend, A::kResume, A::kDelete, A::kUpdatePan}) {
    ExpectRefused(Check(S::kDeleted, action, kIssuer));
  }
}

TEST(TokenStateTest, ActionsOnlyFromTheirStates) {
  ExpectRefused(Check(S::kActive, A::kActivate, kIssuer));
  ExpectRefused(Check(S::kInactive, A::kSuspend, kIssuer));
  ExpectRefused(Check(S::kSuspended, A::kSuspend, kIssuer));
  ExpectRefused(Check(S::kActive, A::kResume, kIssuer));
}

TEST(TokenStateTest, WalletActsOnlyOnItsOwnTokensAndCannotActivateOrUpdatePan) {
  ExpectRefused(Check(S::kActive, A::kSuspend, kOtherWallet));
  ExpectRefused(Check(S::kActive, A::kDelete, kOtherWallet));
  ExpectRefused(Check(S::kInactive, A::kActivate, kWallet));
  ExpectRefused(Check(S::kActive, A::kUpdatePan, kWallet));
  ExpectRefused(Check(S::kActive, A::kUpdatePan, kTsp));
}

TEST(TokenStateTest, OnlyTheSuspenderOrTheIssuerResumes) {
  const Result<S> r = Check(S::kSuspended, A::kResume, kWallet, K::kIssuer);
  ExpectRefused(r);
  EXPECT_NE(r.status().message().find("suspended by issuer"), std::string::npos);
  ExpectRefused(Check(S::kSuspended, A::kResume, kWallet, K::kTsp));
  ExpectRefused(Check(S::kSuspended, A::kResume, kTsp, K::kWallet));
}

TEST(TokenStateTest, InitiatorIdIsChecked) {
  EXPECT_EQ(Check(S::kActive, A::kSuspend, {K::kIssuer, ""}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Check(S::kActive, A::kSuspend, {K::kIssuer, "bank a"}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(TokenStateTest, NamesRoundTrip) {
  for (S s : {S::kInactive, S::kActive, S::kSuspended, S::kDeleted}) {
    EXPECT_EQ(*ParseTokenState(TokenStateName(s)), s);
  }
  for (K k : {K::kIssuer, K::kWallet, K::kTsp}) {
    EXPECT_EQ(*ParseInitiatorKind(InitiatorKindName(k)), k);
  }
  EXPECT_EQ(ParseTokenState("frozen").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(InitiatorActor(kWallet), "wallet:40010000001");
}

}  // namespace
}  // namespace tapstack::tsp
