// Dual-offline transfers between hardware wallets of two operators (issue #7): whichever side
// uploads first, the value moves once from the payer's purse at its operator to the payee's purse
// at the other, through the central bank; double spends are caught at the payer's operator and
// the victim at the other operator is compensated; a refusal by the payee's operator creates no
// value; transient failures and reopened operators are re-driven with the same keys. The network
// audit (issued == Σ positions, each position == float + wallets + purses + escrows) holds after
// each.
#include <gtest/gtest.h>

#include <tuple>

#include "dcep/hardware_wallets.h"
#include "dcep_wire/sync_ack.h"
#include "dcep_test_util.h"
#include "watch_test_util.h"

namespace tapstack::dcep {
namespace {

using testing::Must;
using testing::Watch;

// Forwards credits to the directory; while a link is "down" it loses requests or answers.
class FlakyPeers final : public InterbankPeers {
 public:
  InterbankPeers* target = nullptr;
  bool requests_lost = false;  // the payee's operator never sees them
  bool answers_lost = false;   // credited, but the answer is lost
  int credits = 0;

  Result<CreditResult> CreditIncoming(const IncomingCredit& credit) override {
    ++credits;
    if (requests_lost) return Unavailable("payee operator unreachable (request lost)");
    Result<CreditResult> r = target->CreditIncoming(credit);
    if (answers_lost) return Unavailable("payee operator unreachable (answer lost)");
    return r;
  }
};

class CrossOperatorOfflineTest : public testing::DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    DcepNetworkOptions options = NetworkOptions();
    options.peers = &peers_;
    network_ = Must(DcepNetwork::Open(std::move(options)), "open network");
    peers_.target = &network_->directory();
    alice_ = FundedWallet("icbc", "+8613800000001", 100'000, true);
    bob_ = FundedWallet("ccb", "+8613900000002", 0);
  }

  HardwareWallets& Wallets(const std::string& op) { return *Must(network_->hardware_wallets(op)); }

  // A watch at `where` (default dir_/watches); certified by `op` for `wallet` unless empty.
  Watch NewWatch(const std::string& op, const std::string& id, const std::string& wallet,
                 const std::filesystem::path& where = {}) {
    return testing::OpenWatch(where.empty() ? dir_ / "watches" : where, id, op, Wallets(op), wallet,
                              network_->root_authority());
  }

  // A cloned secure element: `w` closed, copied byte for byte, and both copies opened again
  // (the original from its own directory, the clone from dir_/clone).
  std::pair<Watch, Watch> Clone(Watch w) {
    w.se.reset();
    std::filesystem::create_directories(dir_ / "clone");
    std::filesystem::copy(dir_ / "watches" / w.id, dir_ / "clone" / w.id,
                          std::filesystem::copy_options::recursive);
    return {NewWatch(w.op, w.id, ""), NewWatch(w.op, w.id, "", dir_ / "clone")};
  }

  void Load(Watch& w, const std::string& wallet, std::int64_t amount, const std::string& key) {
    const Bytes order = Must(Wallets(w.op).Load(wallet, w.id, amount, key));
    ASSERT_TRUE(w.app->Load(order).ok());
  }

  UploadResult Upload(Watch& w) { return testing::UploadWatch(Wallets(w.op), w); }

  // The cross-operator double spend: watch-a (icbc, alice) loaded with 20,000 fen is cloned; the
  // original pays watch-b (ccb, bob) and the clone pays watch-c (ccb, carol) `amount_fen` each;
  // watch-b uploads first, then watch-c's upload (`caught`) finds the second body.
  struct DoubleSpend {
    Watch honest, clone, b, c;
    std::string carol;
    UploadResult caught;
  };
  DoubleSpend StageDoubleSpend(std::int64_t amount_fen) {
    DoubleSpend d;
    d.carol = FundedWallet("ccb", "+8613900000003", 0);
    Watch a = NewWatch("icbc", "watch-a", alice_);
    d.b = NewWatch("ccb", "watch-b", bob_);
    d.c = NewWatch("ccb", "watch-c", d.carol);
    Load(a, alice_, 20'000, "load-1");
    // The clone: a copy of watch-a's secure element with the whole purse still in it.
    std::tie(d.honest, d.clone) = Clone(std::move(a));
    EXPECT_TRUE(device::PayOffline(*d.honest.field, *d.b.field, amount_fen).ok());
    EXPECT_TRUE(device::PayOffline(*d.clone.field, *d.c.field, amount_fen).ok());
    EXPECT_EQ(Upload(d.b).records[0].outcome, RecordOutcome::kSettled);
    d.caught = Upload(d.c);
    return d;
  }

  std::int64_t Purse(std::string_view op, const std::string& device) {
    return Must(Op(op).OfflinePurseBalance(device));
  }
  std::int64_t Position(std::string_view op) {
    return Must(network_->central_bank().Position(op)).position_fen;
  }
  Entry Newest(std::string_view op, const std::string& wallet) {
    const HistoryPage page = Must(Op(op).History(wallet, 0, 10));
    EXPECT_FALSE(page.entries.empty());
    return page.entries.empty() ? Entry{} : page.entries.front();
  }

  FlakyPeers peers_;
  std::string alice_;  // at icbc
  std::string bob_;    // at ccb
};

TEST_F(CrossOperatorOfflineTest, PayerFirstUploadSettlesFromTheOneOperatorToTheOther) {
  Watch a = NewWatch("icbc", "watch-a", alice_);
  Watch b = NewWatch("ccb", "watch-b", bob_);
  Load(a, alice_, 40'000, "load-1");
  const std::int64_t icbc_position = Position("icbc");
  const std::int64_t ccb_position = Position("ccb");

  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 15'000).ok());
  const UploadResult payer = Upload(a);
  ASSERT_EQ(payer.records.size(), 1u);
  EXPECT_EQ(payer.records[0].outcome, RecordOutcome::kSettled) << payer.records[0].reason;
  EXPECT_EQ(Purse("icbc", "watch-a"), 25'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 15'000);
  EXPECT_EQ(Position("icbc"), icbc_position - 15'000);
  EXPECT_EQ(Position("ccb"), ccb_position + 15'000);

  // Both purse owners' histories show it.
  const Entry out = Newest("icbc", alice_);
  EXPECT_EQ(out.kind, "purse_move_out");
  EXPECT_EQ(out.status, "posted");
  EXPECT_EQ(out.device_id, "watch-a");
  EXPECT_EQ(out.counter_operator, "ccb");
  EXPECT_EQ(out.counter_device, "watch-b");
  EXPECT_EQ(out.amount_fen, 15'000);
  const Entry in = Newest("ccb", bob_);
  EXPECT_EQ(in.kind, "purse_move_in");
  EXPECT_EQ(in.device_id, "watch-b");
  EXPECT_EQ(in.counter_operator, "icbc");
  EXPECT_EQ(in.counter_device, "watch-a");
  EXPECT_EQ(in.amount_fen, 15'000);

  // The payee's later upload is forwarded to icbc, which has it already.
  const UploadResult payee = Upload(b);
  ASSERT_EQ(payee.records.size(), 1u);
  EXPECT_EQ(payee.records[0].outcome, RecordOutcome::kDuplicate) << payee.records[0].reason;
  EXPECT_EQ(Purse("icbc", "watch-a"), 25'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 15'000);
  EXPECT_EQ(peers_.credits, 1);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, APayeeIdTwoOperatorsCertifiedWaitsForThePayeesOwnUpload) {
  // A transfer names its payee by device id only, and ids are unique per operator: with a
  // "watch-b" at ccb and another at boc, icbc cannot tell whose it is from the payer's upload.
  const std::string carol = FundedWallet("boc", "+8613700000003", 0);
  Watch a = NewWatch("icbc", "watch-a", alice_);
  Watch b = NewWatch("ccb", "watch-b", bob_);
  Watch twin = NewWatch("boc", "watch-b", carol, dir_ / "twin");
  Load(a, alice_, 10'000, "load-1");
  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 4'000).ok());
  const UploadResult payer = Upload(a);
  ASSERT_EQ(payer.records.size(), 1u);
  EXPECT_EQ(payer.records[0].outcome, RecordOutcome::kPending) << payer.records[0].reason;
  EXPECT_EQ(Purse("ccb", "watch-b"), 0);
  EXPECT_EQ(Purse("boc", "watch-b"), 0);
  // ccb's watch-b uploads: icbc knows the record already (a duplicate) and now learns the
  // payee's operator, so the pending record settles there, once.
  const UploadResult payee = Upload(b);
  ASSERT_EQ(payee.records.size(), 1u);
  EXPECT_EQ(payee.records[0].outcome, RecordOutcome::kDuplicate) << payee.records[0].reason;
  EXPECT_EQ(Purse("icbc", "watch-a"), 6'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 4'000);
  EXPECT_EQ(Purse("boc", "watch-b"), 0);
  EXPECT_EQ(Must(Wallets("icbc").settlement().RetryPending()), 0);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, PayeeFirstUploadIsForwardedToThePayersOperatorAndSettlesOnce) {
  Watch a = NewWatch("icbc", "watch-a", alice_);
  Watch b = NewWatch("ccb", "watch-b", bob_);
  Load(a, alice_, 40'000, "load-1");
  const std::int64_t ccb_position = Position("ccb");

  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 12'000).ok());
  const Bytes log_b = Must(b.app->ReadLog());  // kept: the sync prunes the applet's log
  const UploadResult payee = Upload(b);
  ASSERT_EQ(payee.records.size(), 1u);
  EXPECT_EQ(payee.records[0].outcome, RecordOutcome::kSettled) << payee.records[0].reason;
  EXPECT_EQ(Purse("icbc", "watch-a"), 28'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 12'000);
  EXPECT_EQ(Position("ccb"), ccb_position + 12'000);
  // icbc recorded it like an upload of the payer (its counters, its gaps).
  EXPECT_TRUE(Must(Wallets("icbc").settlement().CounterGaps("watch-a")).empty());
  ExpectNetworkBalanced();

  // The payer's own upload and the payee's re-upload are duplicates: nothing moves again.
  const UploadResult payer = Upload(a);
  ASSERT_EQ(payer.records.size(), 1u);
  EXPECT_EQ(payer.records[0].outcome, RecordOutcome::kDuplicate);
  const UploadResult again = Must(Wallets("ccb").Upload("watch-b", log_b));
  ASSERT_EQ(again.records.size(), 1u);
  EXPECT_EQ(again.records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(Purse("icbc", "watch-a"), 28'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 12'000);
  EXPECT_EQ(Position("ccb"), ccb_position + 12'000);
  EXPECT_EQ(peers_.credits, 1);
  ExpectNetworkBalanced();

  // The payee can spend what it received with a payee of the payer's operator.
  const std::string carol = FundedWallet("icbc", "+8613800000003", 0);
  Watch c = NewWatch("icbc", "watch-c", carol);
  ASSERT_TRUE(device::PayOffline(*b.field, *c.field, 5'000).ok());
  EXPECT_EQ(Upload(c).records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(Purse("ccb", "watch-b"), 7'000);
  EXPECT_EQ(Purse("icbc", "watch-c"), 5'000);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, DoubleSpendIsCaughtAtThePayersOperatorAndTheOtherVictimPaid) {
  const DoubleSpend d = StageDoubleSpend(20'000);
  const std::string& carol = d.carol;
  const UploadResult& caught = d.caught;
  ASSERT_EQ(caught.records.size(), 1u);
  EXPECT_EQ(caught.records[0].outcome, RecordOutcome::kDoubleSpend) << caught.records[0].reason;
  EXPECT_TRUE(Must(Wallets("icbc").authority().IsRevoked("watch-a")));
  // The honest record emptied the purse and icbc has no float (every issued fen is in a
  // wallet): the victim's compensation waits, nothing was created.
  EXPECT_EQ(Purse("icbc", "watch-a"), 0);
  EXPECT_EQ(Purse("ccb", "watch-b"), 20'000);
  EXPECT_EQ(Purse("ccb", "watch-c"), 0);
  ExpectNetworkBalanced();

  EnsureFloat("icbc", 50'000);
  EXPECT_EQ(Must(Wallets("icbc").settlement().RetryPending()), 0);
  EXPECT_EQ(Purse("ccb", "watch-c"), 20'000);
  EXPECT_EQ(Must(Op("icbc").Audit()).float_fen, 30'000);
  const std::vector<DoubleSpendEvidence> evidence =
      Must(Wallets("icbc").settlement().DoubleSpends("watch-a"));
  ASSERT_EQ(evidence.size(), 1u);
  EXPECT_TRUE(evidence[0].compensated);
  EXPECT_EQ(evidence[0].conflicting_payee_device_id, "watch-c");
  EXPECT_EQ(evidence[0].paid_from_purse_fen, 0);
  EXPECT_EQ(evidence[0].paid_from_loss_fen, 20'000);
  const Entry cover = Newest("ccb", carol);
  EXPECT_EQ(cover.kind, "offline_loss_cover_in");
  EXPECT_EQ(cover.counter_operator, "icbc");
  EXPECT_EQ(cover.amount_fen, 20'000);
  // Paid once: a second retry moves nothing.
  EXPECT_EQ(Must(Wallets("icbc").settlement().RetryPending()), 0);
  EXPECT_EQ(Purse("ccb", "watch-c"), 20'000);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, RevocationReachesTheOtherOperatorsDevicesAtTheirNextSync) {
  DoubleSpend d = StageDoubleSpend(5'000);
  Watch& honest = d.honest;
  Watch& clone = d.clone;
  Watch& b = d.b;
  Watch& c = d.c;
  const UploadResult& caught = d.caught;
  ASSERT_EQ(caught.records.size(), 1u);
  ASSERT_EQ(caught.records[0].outcome, RecordOutcome::kDoubleSpend);
  // icbc revoked watch-a and published it to the root's registry; ccb's acknowledgement to
  // watch-c already carries it (the merged list names the issuer), so watch-c refuses the clone
  // offline although the clone still holds 15,000 fen.
  const dcep_wire::SyncAck ack = Must(dcep_wire::ParseSyncAck(caught.sync_ack));
  EXPECT_EQ(ack.body.revoked, (std::vector<dcep_wire::RevokedDevice>{{"icbc", "watch-a"}}));
  EXPECT_FALSE(device::PayOffline(*clone.field, *c.field, 1'000).ok());
  EXPECT_EQ(Must(c.app->PurseStatus()).balance_fen, 5'000);
  // watch-b synced before the double spend was found: it still takes watch-a until its next sync.
  EXPECT_TRUE(device::PayOffline(*honest.field, *b.field, 1'000).ok());
  const UploadResult b_sync = Upload(b);
  EXPECT_EQ(b_sync.records[0].outcome, RecordOutcome::kRefused) << b_sync.records[0].reason;
  EXPECT_FALSE(device::PayOffline(*honest.field, *b.field, 1'000).ok());
  EXPECT_EQ(Must(b.app->PurseStatus()).balance_fen, 6'000);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, RefusalByThePayeesOperatorReversesAndCreatesNoValue) {
  Watch a = NewWatch("icbc", "watch-a", alice_);
  Load(a, alice_, 40'000, "load-1");
  // A watch ccb's authority certified without binding a purse to a wallet (RegisterDevice
  // never ran): ccb's ledger does not know the device.
  Watch ghost = NewWatch("ccb", "watch-ghost", "");
  DeviceCertificateRequest request;
  request.device_id = "watch-ghost";
  request.scheme = crypto::SignatureScheme::kSm2Sm3;
  request.public_key_raw = Must(ghost.se->InstallDcepWallet(
      crypto::SignatureScheme::kSm2Sm3, network_->root_authority().public_key()));
  request.tier = 4;
  Must(Wallets("ccb").authority().IssueDeviceCertificate(request));
  ASSERT_TRUE(ghost.app->PutCertificates(Must(Wallets("ccb").authority().DeviceChain(
                                             "watch-ghost")))
                  .ok());
  const std::int64_t icbc_position = Position("icbc");
  const std::int64_t ccb_position = Position("ccb");

  ASSERT_TRUE(device::PayOffline(*a.field, *ghost.field, 9'000).ok());
  const UploadResult up = Upload(a);
  ASSERT_EQ(up.records.size(), 1u);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kRefused);
  EXPECT_NE(up.records[0].reason.find("payee operator ccb refused"), std::string::npos)
      << up.records[0].reason;
  EXPECT_NE(up.records[0].reason.find("no offline purse"), std::string::npos);
  // Settled, then reversed at the central bank; the hold voided.
  EXPECT_EQ(Position("icbc"), icbc_position);
  EXPECT_EQ(Position("ccb"), ccb_position);
  EXPECT_EQ(Purse("icbc", "watch-a"), 40'000);
  EXPECT_EQ(Must(Op("icbc").PurseBalance("watch-a")), 40'000);
  const Entry out = Newest("icbc", alice_);
  EXPECT_EQ(out.kind, "purse_move_out");
  EXPECT_EQ(out.status, "failed");
  ExpectNetworkBalanced();

  // Not retried forever, and nothing moves on a retry or on the payee's upload.
  EXPECT_EQ(Must(Wallets("icbc").settlement().RetryPending()), 0);
  const UploadResult payee = Upload(ghost);
  ASSERT_EQ(payee.records.size(), 1u);
  EXPECT_NE(payee.records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(Purse("icbc", "watch-a"), 40'000);
  EXPECT_EQ(Position("ccb"), ccb_position);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, TransientFailureThenRetrySettlesOnce) {
  Watch a = NewWatch("icbc", "watch-a", alice_);
  Watch b = NewWatch("ccb", "watch-b", bob_);
  Load(a, alice_, 40'000, "load-1");
  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 15'000).ok());

  // ccb credits the purse but icbc never hears back (the upload retries once): the entry stays
  // in flight.
  peers_.answers_lost = true;
  const UploadResult up = Upload(a);
  ASSERT_EQ(up.records.size(), 1u);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kPending);
  EXPECT_NE(up.records[0].reason.find("unavailable"), std::string::npos) << up.records[0].reason;
  EXPECT_EQ(network_->AuditNetwork().status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Purse("icbc", "watch-a"), 40'000);                       // posted
  EXPECT_EQ(Must(Op("icbc").PurseBalance("watch-a")), 25'000);       // the rest is held
  EXPECT_EQ(Must(Op("icbc").Audit()).holds_fen, 15'000);

  // The retry re-drives the same entry: ccb answers its first credit again.
  peers_.answers_lost = false;
  EXPECT_EQ(Must(Wallets("icbc").settlement().RetryPending()), 0);
  EXPECT_GE(peers_.credits, 3);
  EXPECT_EQ(Purse("icbc", "watch-a"), 25'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 15'000);
  EXPECT_EQ(Upload(b).records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(Purse("ccb", "watch-b"), 15'000);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, ReopeningOperatorsMidWayLosesNothing) {
  const std::string carol = FundedWallet("ccb", "+8613900000003", 0);
  Watch a = NewWatch("icbc", "watch-a", alice_);
  Watch b = NewWatch("ccb", "watch-b", bob_);
  Watch c = NewWatch("ccb", "watch-c", carol);
  Load(a, alice_, 40'000, "load-1");
  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 10'000).ok());
  ASSERT_TRUE(device::PayOffline(*a.field, *c.field, 6'000).ok());

  // The payer's upload while ccb is unreachable: both entries stay in flight (held).
  peers_.requests_lost = true;
  const Bytes log_a = Must(a.app->ReadLog());  // kept: the sync prunes the applet's log
  UploadResult up = Upload(a);
  ASSERT_EQ(up.records.size(), 2u);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kPending);
  EXPECT_EQ(up.records[1].outcome, RecordOutcome::kPending);
  EXPECT_EQ(Must(Op("icbc").PurseBalance("watch-a")), 24'000);
  // The second payee's upload reaches icbc, which has the record already.
  const UploadResult payee_c = Upload(c);
  ASSERT_EQ(payee_c.records.size(), 1u);
  EXPECT_EQ(payee_c.records[0].outcome, RecordOutcome::kDuplicate) << payee_c.records[0].reason;
  EXPECT_EQ(Purse("ccb", "watch-c"), 0);

  // Both operators restart as after a crash, the link healed; icbc's recovery finishes the
  // entries in flight and its settlement marks the records settled.
  peers_.requests_lost = false;
  ASSERT_OK(network_->ReopenOperator("ccb"));
  ASSERT_OK(network_->ReopenOperator("icbc"));
  EXPECT_EQ(Must(Wallets("icbc").settlement().RetryPending()), 0);
  EXPECT_EQ(Purse("icbc", "watch-a"), 24'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 10'000);
  EXPECT_EQ(Purse("ccb", "watch-c"), 6'000);
  ExpectNetworkBalanced();
  up = Upload(b);
  ASSERT_EQ(up.records.size(), 1u);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kDuplicate);
  up = Must(Wallets("icbc").Upload("watch-a", log_a));
  ASSERT_EQ(up.records.size(), 2u);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(up.records[1].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(Purse("ccb", "watch-b"), 10'000);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, PendingAtThePayersOperatorIsAnsweredForwardedAndSettledLater) {
  Watch a = NewWatch("icbc", "watch-a", alice_);
  Watch b = NewWatch("ccb", "watch-b", bob_);
  Load(a, alice_, 40'000, "load-1");
  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 8'000).ok());

  // icbc takes the forwarded record but cannot reach ccb's ledger yet.
  peers_.requests_lost = true;
  const UploadResult up = Upload(b);
  ASSERT_EQ(up.records.size(), 1u);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kForwarded) << up.records[0].reason;
  EXPECT_EQ(Purse("ccb", "watch-b"), 0);

  // icbc restarts: recovery completes the move; nothing is left for ccb to forward.
  peers_.requests_lost = false;
  ASSERT_OK(network_->ReopenOperator("icbc"));
  EXPECT_EQ(Must(Wallets("icbc").settlement().RetryPending()), 0);
  EXPECT_EQ(Must(Wallets("ccb").settlement().RetryPending()), 0);
  EXPECT_EQ(Purse("icbc", "watch-a"), 32'000);
  EXPECT_EQ(Purse("ccb", "watch-b"), 8'000);
  ExpectNetworkBalanced();
}

TEST_F(CrossOperatorOfflineTest, OfflineCreditsNameOneKnownDeviceOrAreRefused) {
  Watch b = NewWatch("ccb", "watch-b", bob_);
  IncomingCredit credit;
  credit.from_operator = "icbc";
  credit.to_operator = "ccb";
  credit.payment_id = "pay-1";
  credit.amount_fen = 500;
  credit.payer_device = "watch-a";
  credit.payee_device = "watch-b";
  IncomingCredit both = credit;
  both.payee_wallet = bob_;
  EXPECT_EQ(Op("ccb").CreditIncoming(both).status().code(), ErrorCode::kInvalidArgument);
  IncomingCredit bad_device = credit;
  bad_device.payee_device = "Watch B";
  EXPECT_EQ(Op("ccb").CreditIncoming(bad_device).status().code(), ErrorCode::kInvalidArgument);
  IncomingCredit payer_only = credit;
  payer_only.payee_device.clear();
  payer_only.payee_wallet = bob_;
  EXPECT_EQ(Op("ccb").CreditIncoming(payer_only).status().code(), ErrorCode::kInvalidArgument);
  // An unknown device is a definite refusal, remembered for the payment id.
  IncomingCredit unknown = credit;
  unknown.payee_device = "watch-z";
  EXPECT_EQ(Op("ccb").CreditIncoming(unknown).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Op("ccb").CreditIncoming(unknown).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Purse("ccb", "watch-b"), 0);
  ExpectNetworkBalanced();
}

}  // namespace
}  // namespace tapstack::dcep
