// TokenLifecycle on SQLite and PostgreSQL: each allowed change is persisted with its audit entry
// and notified once; refused changes leave the record, the audit log and the listener untouched.
#include "tsp/token_lifecycle.h"

#include <gtest/gtest.h>

#include "tsp_test_support.h"

namespace tapstack::tsp {
namespace {

using testing::DemoRequest;
using testing::kTestPanMastercard;
using testing::kTestPanVisa;
using testing::TestPan;

const Initiator kIssuer{InitiatorKind::kIssuer, "bank-a"};
const Initiator kWallet{InitiatorKind::kWallet, std::string(testing::kWalletTrid)};
const Initiator kOtherWallet{InitiatorKind::kWallet, std::string(testing::kOtherWalletTrid)};
const Initiator kTsp{InitiatorKind::kTsp, "idv"};

class TokenLifecycleTest : public testing::VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    lifecycle_ = std::make_unique<TokenLifecycle>(*vault_, clock_, listener_);
    auto t = vault_->Tokenize(TestPan(kTestPanVisa), DemoRequest());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    token_ = t->record;
  }

  TokenState StateNow() { return vault_->Get(token_.token_id)->state; }
  std::int64_t AuditCount() { return vault_->audit_log().Head()->seq; }

  // Expects `r` refused with kFailedPrecondition and nothing changed.
  void ExpectRefusedWithoutEffect(const Result<TokenRecord>& r, TokenState state) {
    EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition) << r.status().ToString();
    EXPECT_EQ(StateNow(), state);
    EXPECT_EQ(listener_.events().size(), events_before_);
    EXPECT_EQ(AuditCount(), audit_before_);
  }
  void Snapshot() {
    events_before_ = listener_.events().size();
    audit_before_ = AuditCount();
  }

  RecordingTokenEventListener listener_;
  std::unique_ptr<TokenLifecycle> lifecycle_;
  TokenRecord token_;
  std::size_t events_before_ = 0;
  std::int64_t audit_before_ = 0;
};

TEST_P(TokenLifecycleTest, FullLifecycleNotifiesOncePerChangeWithItsAuditEntry) {
  ASSERT_EQ(lifecycle_->Activate(token_.token_id, kTsp, "otp verified")->state,
            TokenState::kActive);
  ASSERT_EQ(lifecycle_->Suspend(token_.token_id, kWallet, "lost phone")->state,
            TokenState::kSuspended);
  EXPECT_EQ(vault_->Get(token_.token_id)->suspended_by, InitiatorKind::kWallet);
  ASSERT_EQ(lifecycle_->Resume(token_.token_id, kWallet, "found phone")->state,
            TokenState::kActive);
  EXPECT_EQ(vault_->Get(token_.token_id)->suspended_by, std::nullopt);
  ASSERT_EQ(lifecycle_->Delete(token_.token_id, kWallet, "Z")->state, TokenState::kDeleted);

  const std::vector<TokenEvent> events = listener_.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].action, LifecycleAction::kActivate);
  EXPECT_EQ(events[0].from, TokenState::kInactive);
  EXPECT_EQ(events[0].to, TokenState::kActive);
  EXPECT_EQ(events[1].initiator.kind, InitiatorKind::kWallet);
  EXPECT_EQ(events[3].to, TokenState::kDeleted);
  for (const TokenEvent& e : events) {
    EXPECT_EQ(e.token_id, token_.token_id);
    EXPECT_EQ(e.requestor_id, testing::kWalletTrid);
    EXPECT_EQ(e.device_id, "se-0001");
    // The notified audit entry is the one that recorded this very change.
    auto entry = vault_->audit_log().Read(e.audit_seq, 1);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ((*entry)[0].event.subject, token_.token_id);
    EXPECT_EQ((*entry)[0].event.action, "token_" + std::string(LifecycleActionName(e.action)));
  }
  auto last = *vault_->audit_log().Read(events[1].audit_seq, 1);
  EXPECT_EQ(last[0].event.actor, "wallet:40010000001");
  EXPECT_EQ(last[0].event.detail, "from=active to=suspended reason=lost phone");

  // Deleted is final, for everyone.
  Snapshot();
  ExpectRefusedWithoutEffect(lifecycle_->Resume(token_.token_id, kIssuer, "undo"),
                             TokenState::kDeleted);
  ExpectRefusedWithoutEffect(lifecycle_->Activate(token_.token_id, kIssuer, "undo"),
                             TokenState::kDeleted);
  auto v = vault_->audit_log().Verify();
  EXPECT_TRUE(v.ok() && v->intact);
}

TEST_P(TokenLifecycleTest, WalletCannotLiftAnIssuerSuspensionOrTouchOtherTokens) {
  TS_ASSERT_OK(lifecycle_->Activate(token_.token_id, kIssuer, "green path"));
  Snapshot();
  ExpectRefusedWithoutEffect(lifecycle_->Suspend(token_.token_id, kOtherWallet, "x"),
                             TokenState::kActive);
  ExpectRefusedWithoutEffect(lifecycle_->Delete(token_.token_id, kOtherWallet, "x"),
                             TokenState::kActive);
  TS_ASSERT_OK(lifecycle_->Suspend(token_.token_id, kIssuer, "fraud check"));
  Snapshot();
  ExpectRefusedWithoutEffect(lifecycle_->Resume(token_.token_id, kWallet, "please"),
                             TokenState::kSuspended);
  ASSERT_EQ(lifecycle_->Resume(token_.token_id, kIssuer, "cleared")->state, TokenState::kActive);
  EXPECT_EQ(listener_.events().size(), 3u);
}

TEST_P(TokenLifecycleTest, PanUpdateKeepsTheTokenAndReencryptsTheNewPan) {
  TS_ASSERT_OK(lifecycle_->Activate(token_.token_id, kTsp, "otp verified"));
  Snapshot();
  ExpectRefusedWithoutEffect(
      lifecycle_->UpdatePan(token_.token_id, kWallet, TestPan(kTestPanMastercard), "3012", "x"),
      TokenState::kActive);
  auto updated = lifecycle_->UpdatePan(token_.token_id, kIssuer, TestPan(kTestPanMastercard),
                                       "3012", "card reissued");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->token_number, token_.token_number);
  EXPECT_EQ(updated->token_expiry, token_.token_expiry);
  EXPECT_EQ(updated->par, token_.par);  // the account reference survives re-issue
  EXPECT_EQ(updated->masked_pan, "555555******4444");
  EXPECT_EQ(updated->state, TokenState::kActive);
  auto d = vault_->Detokenize(token_.token_number, {"network:switch-1", "authorisation"});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->pan.reveal(), kTestPanMastercard);
  EXPECT_EQ(d->pan_expiry, "3012");
  EXPECT_TRUE(vault_->FindByPanFingerprint(TestPan(kTestPanVisa))->empty());
  EXPECT_EQ(vault_->FindByPanFingerprint(TestPan(kTestPanMastercard))->size(), 1u);
  ASSERT_EQ(listener_.events().size(), events_before_ + 1);
  EXPECT_EQ(listener_.events().back().action, LifecycleAction::kUpdatePan);
  EXPECT_EQ(
      lifecycle_->UpdatePan(token_.token_id, kIssuer, TestPan(kTestPanMastercard), "3013", "x")
          .status()
          .code(),
      ErrorCode::kInvalidArgument);
}

TEST_P(TokenLifecycleTest, StateChangeAndAuditEntryCommitTogether) {
  // The audit log refuses a PAN-shaped reason, so the whole change rolls back: state unchanged,
  // no entry, no notification.
  Snapshot();
  auto r = lifecycle_->Activate(token_.token_id, kTsp, "card 4111111111111111");
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(StateNow(), TokenState::kInactive);
  EXPECT_EQ(AuditCount(), audit_before_);
  EXPECT_TRUE(listener_.events().empty());
  EXPECT_EQ(lifecycle_->Activate("tok_missing", kTsp, "x").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(lifecycle_->Activate(token_.token_id, kTsp, std::string(129, 'r')).status().code(),
            ErrorCode::kInvalidArgument);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(TokenLifecycleTest);

}  // namespace
}  // namespace tapstack::tsp
