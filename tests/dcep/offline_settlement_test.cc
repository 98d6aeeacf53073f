#include "dcep/offline_settlement.h"

#include <gtest/gtest.h>

#include "dcep/offline_test_util.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/sync_ack.h"
#include "device/dcep_wallet_client.h"
#include "device/secure_element.h"

namespace tapstack::dcep {
namespace {

using dcep_wire::LogDirection;
using testing::Concat;
using testing::LogOf;
using testing::MustOk;
using testing::SignTransfer;
using testing::TestDevice;

constexpr std::int64_t kDayMillis = 86'400'000;

class OfflineSettlementTest : public testing::OfflineTest {
 protected:
  void SetUp() override {
    OfflineTest::SetUp();
    OpenSettlement();
  }
  void TearDown() override {
    settlement_.reset();
    OfflineTest::TearDown();
  }

  void OpenSettlement(std::function<std::string(std::string_view)> directory = {}) {
    settlement_.reset();
    OfflineSettlementOptions options;
    options.operator_id = "icbc";
    options.data_dir = dir_;
    options.authority = operator_ca_.get();
    options.purses = &purses_;
    options.clock = &clock_;
    options.operator_of_device = std::move(directory);
    settlement_ = MustOk(OfflineSettlement::Open(std::move(options)), "open settlement");
  }

  UploadResult Upload(const TestDevice& device, const Bytes& log) {
    return MustOk(settlement_->Upload(device.id, log), "upload");
  }

  testing::FakePurses purses_{"icbc"};
  std::unique_ptr<OfflineSettlement> settlement_;
};

TEST_F(OfflineSettlementTest, BothSidesUploadAndTheTransferSettlesOnce) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  purses_.Fund("alice", 10'000);
  const Bytes e2 = SignTransfer(alice, "bob", 3'000);

  // The payee goes online first.
  const UploadResult first = Upload(bob, LogOf(bob, LogDirection::kReceived, e2, alice.chain));
  ASSERT_EQ(first.records.size(), 1U);
  EXPECT_EQ(first.records[0].outcome, RecordOutcome::kSettled) << first.records[0].reason;
  EXPECT_EQ(first.records[0].payer_counter, 1U);
  EXPECT_EQ(purses_.Balance("alice"), 7'000);
  EXPECT_EQ(purses_.Balance("bob"), 3'000);
  const dcep_wire::SyncAck ack = VerifiedAck(first.sync_ack);
  EXPECT_EQ(ack.body.device_id, "bob");
  EXPECT_EQ(ack.body.log_sequence_acknowledged, 1U);
  EXPECT_EQ(ack.body.operator_time_unix_s, clock_.NowUnixMillis() / 1000);
  EXPECT_TRUE(ack.body.revoked.empty());

  // Then the payer, twice (a retry): nothing moves again.
  const Bytes alice_log = LogOf(alice, LogDirection::kSent, e2, alice.chain);
  for (int i = 0; i < 2; ++i) {
    const UploadResult again = Upload(alice, alice_log);
    ASSERT_EQ(again.records.size(), 1U);
    EXPECT_EQ(again.records[0].outcome, RecordOutcome::kDuplicate);
    EXPECT_EQ(VerifiedAck(again.sync_ack).body.log_sequence_acknowledged, 1U);
  }
  EXPECT_EQ(purses_.Balance("alice"), 7'000);
  EXPECT_EQ(purses_.Balance("bob"), 3'000);
  EXPECT_EQ(purses_.moves(), 1);
  EXPECT_TRUE(MustOk(settlement_->CounterGaps("alice")).empty());
  EXPECT_EQ(MustOk(settlement_->Device("bob")).log_sequence_acknowledged, 1U);
}

TEST_F(OfflineSettlementTest, PayerFirstThenPayeeAlsoSettlesOnce) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  purses_.Fund("alice", 5'000);
  const Bytes e1 = SignTransfer(alice, "bob", 1'000);
  const Bytes e2 = SignTransfer(alice, "bob", 2'000);
  const UploadResult up = Upload(alice, Concat({LogOf(alice, LogDirection::kSent, e1, alice.chain),
                                                LogOf(alice, LogDirection::kSent, e2, alice.chain)}));
  ASSERT_EQ(up.records.size(), 2U);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(up.records[1].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(VerifiedAck(up.sync_ack).body.log_sequence_acknowledged, 2U);
  const UploadResult payee = Upload(bob, Concat({LogOf(bob, LogDirection::kReceived, e2, alice.chain),
                                                 LogOf(bob, LogDirection::kReceived, e1, alice.chain)}));
  EXPECT_EQ(payee.records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(payee.records[1].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(purses_.Balance("alice"), 2'000);
  EXPECT_EQ(purses_.Balance("bob"), 3'000);
}

TEST_F(OfflineSettlementTest, DoubleSpendBlocksRevokesAndAppliesTheLossPolicy) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  TestDevice carol = NewDevice("carol");
  purses_.Fund("alice", 5'000);
  // The genuine SE pays bob; a clone with the same key and counter state pays carol.
  TestDevice clone{alice.id, alice.key, alice.chain, alice.counter, 0};
  const Bytes to_bob = SignTransfer(alice, "bob", 4'000);
  const Bytes to_carol = SignTransfer(clone, "carol", 3'000);
  ASSERT_EQ(alice.counter, clone.counter);

  EXPECT_EQ(Upload(bob, LogOf(bob, LogDirection::kReceived, to_bob, alice.chain)).records[0].outcome,
            RecordOutcome::kSettled);
  const UploadResult caught =
      Upload(carol, LogOf(carol, LogDirection::kReceived, to_carol, alice.chain));
  ASSERT_EQ(caught.records.size(), 1U);
  EXPECT_EQ(caught.records[0].outcome, RecordOutcome::kDoubleSpend);

  // First recorded body stands: bob keeps 4,000. Carol is paid 1,000 from what is left in the
  // purse and 2,000 from the operator's loss account.
  EXPECT_EQ(purses_.Balance("bob"), 4'000);
  EXPECT_EQ(purses_.Balance("carol"), 3'000);
  EXPECT_EQ(purses_.Balance("alice"), 0);
  EXPECT_EQ(purses_.loss_fen(), 2'000);

  // Blocked, revoked at the CA, and the revocation travels in the acknowledgement.
  const DeviceSettlementState state = MustOk(settlement_->Device("alice"));
  EXPECT_EQ(state.state, DeviceState::kBlocked);
  EXPECT_TRUE(MustOk(operator_ca_->IsRevoked("alice")));
  const dcep_wire::SyncAck ack = VerifiedAck(caught.sync_ack);
  EXPECT_EQ(ack.body.revoked, (std::vector<dcep_wire::RevokedDevice>{{"icbc", "alice"}}));
  EXPECT_EQ(ack.body.revocation_list_version, 1U);
  EXPECT_EQ(MustOk(operator_ca_->CurrentRevocationList()).entries[0].reason,
            kRevocationReasonDoubleSpend);
  EXPECT_EQ(operator_ca_->SignLoadOrder("alice", 100, "after").status().code(),
            ErrorCode::kFailedPrecondition);

  // Both bodies are kept as evidence.
  const std::vector<DoubleSpendEvidence> evidence = MustOk(settlement_->DoubleSpends("alice"));
  ASSERT_EQ(evidence.size(), 1U);
  EXPECT_EQ(evidence[0].payer_counter, 1U);
  EXPECT_EQ(evidence[0].standing_transfer, to_bob);
  EXPECT_EQ(evidence[0].conflicting_transfer, to_carol);
  EXPECT_EQ(evidence[0].conflicting_payee_device_id, "carol");
  EXPECT_EQ(evidence[0].paid_from_purse_fen, 1'000);
  EXPECT_EQ(evidence[0].paid_from_loss_fen, 2'000);
  EXPECT_TRUE(evidence[0].compensated);

  // The clone's own upload of the same conflicting body is a duplicate: no second compensation.
  const int moves = purses_.moves();
  EXPECT_EQ(Upload(alice, LogOf(clone, LogDirection::kSent, to_carol, alice.chain))
                .records[0]
                .outcome,
            RecordOutcome::kDuplicate);
  EXPECT_EQ(purses_.moves(), moves);

  // Anything later from the blocked payer is refused (revocation as of upload) but kept.
  purses_.Fund("alice", 500);
  const Bytes later = SignTransfer(clone, "bob", 100);
  const UploadResult refused = Upload(bob, LogOf(bob, LogDirection::kReceived, later, alice.chain));
  EXPECT_EQ(refused.records[0].outcome, RecordOutcome::kRefused);
  EXPECT_NE(refused.records[0].reason.find("blocked"), std::string::npos);
  EXPECT_EQ(purses_.Balance("bob"), 4'000);
  EXPECT_EQ(purses_.moves(), moves);
  EXPECT_EQ(settlement_->FreezeDevice("alice").code(), ErrorCode::kFailedPrecondition);
}

TEST_F(OfflineSettlementTest, ForgeriesAreRejectedWithoutTakingTheHonestKey) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  TestDevice mallory = NewDevice("mallory");
  purses_.Fund("alice", 5'000);
  const Bytes honest = SignTransfer(alice, "bob", 1'000);

  // Mallory signs alice's counter 1 with her own key, presenting alice's chain.
  TestDevice fake{"alice", mallory.key, alice.chain, 0, 0};
  const Bytes forged = SignTransfer(fake, "mallory", 5'000);
  UploadResult up = Upload(mallory, LogOf(mallory, LogDirection::kReceived, forged, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kRejected);
  EXPECT_NE(up.records[0].reason.find("crypto_failure"), std::string::npos) << up.records[0].reason;
  EXPECT_EQ(purses_.moves(), 0);

  // A chain from another root (a rogue operator "icbc").
  AuthorityOptions rogue_root;
  rogue_root.subject_id = "rogue";
  rogue_root.data_dir = dir_;
  rogue_root.clock = &clock_;
  auto rogue = MustOk(RootAuthority::Open(std::move(rogue_root)));
  std::filesystem::create_directories(dir_ / "rogue");
  OperatorAuthorityOptions rogue_op;
  rogue_op.authority.subject_id = "icbc";  // claims to be icbc, under another root
  rogue_op.authority.data_dir = dir_ / "rogue";
  rogue_op.root_certificate = rogue->certificate().encoded;
  auto rogue_ca = MustOk(OperatorAuthority::Open(std::move(rogue_op)));
  OFFLINE_ASSERT_OK(rogue_ca->InstallCertificate(MustOk(
      rogue->IssueOperatorCertificate("icbc", rogue_ca->scheme(), rogue_ca->public_key_raw()))));
  TestDevice stranger = NewDevice("stranger", 4, rogue_ca.get());
  const Bytes foreign = SignTransfer(stranger, "bob", 100);
  up = Upload(bob, LogOf(bob, LogDirection::kReceived, foreign, stranger.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kRejected);
  EXPECT_NE(up.records[0].reason.find("crypto_failure"), std::string::npos) << up.records[0].reason;

  // The honest transfer still settles (the forgery took no key), and alice is not blocked.
  up = Upload(bob, LogOf(bob, LogDirection::kReceived, honest, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(purses_.Balance("bob"), 1'000);
  EXPECT_EQ(settlement_->Device("alice").status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(MustOk(operator_ca_->IsRevoked("alice")));
}

TEST_F(OfflineSettlementTest, BadUploadsLeaveNothingBehind) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  purses_.Fund("alice", 5'000);
  const Bytes good = SignTransfer(alice, "bob", 1'000);
  const Bytes good_log = LogOf(bob, LogDirection::kReceived, good, alice.chain);
  // Bob uploads a "sent" record whose payer is alice, after a good one: all refused.
  const Bytes wrong = LogOf(bob, LogDirection::kSent, SignTransfer(alice, "bob", 1), alice.chain);
  Result<UploadResult> r = settlement_->Upload("bob", Concat({good_log, wrong}));
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("log_records[1]"), std::string::npos);
  // Garbage and a truncated record.
  EXPECT_EQ(settlement_->Upload("bob", Bytes{0xE9, 0x05, 0x01}).status().code(),
            ErrorCode::kInvalidArgument);
  Bytes truncated = good_log;
  truncated.pop_back();
  EXPECT_EQ(settlement_->Upload("bob", truncated).status().code(), ErrorCode::kInvalidArgument);
  // A device this operator never certified.
  EXPECT_EQ(settlement_->Upload("eve", good_log).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(settlement_->Upload("BAD ID", good_log).status().code(), ErrorCode::kInvalidArgument);

  EXPECT_EQ(purses_.moves(), 0);
  EXPECT_TRUE(MustOk(settlement_->CounterGaps("alice")).empty());
  EXPECT_EQ(settlement_->Device("bob").status().code(), ErrorCode::kNotFound);
  // An empty log is a plain sync.
  const UploadResult sync = Upload(bob, {});
  EXPECT_TRUE(sync.records.empty());
  EXPECT_EQ(VerifiedAck(sync.sync_ack).body.log_sequence_acknowledged, 0U);
}

TEST_F(OfflineSettlementTest, CounterGapsAreReportedAndBecomePersistent) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  TestDevice carol = NewDevice("carol");
  purses_.Fund("alice", 10'000);
  const Bytes t1 = SignTransfer(alice, "bob", 100);
  const Bytes t2 = SignTransfer(alice, "carol", 100);  // carol has not uploaded yet
  const Bytes t3 = SignTransfer(alice, "bob", 100);
  const Bytes t4 = SignTransfer(alice, "carol", 100);
  const Bytes t5 = SignTransfer(alice, "bob", 100);
  const UploadResult up =
      Upload(bob, Concat({LogOf(bob, LogDirection::kReceived, t1, alice.chain),
                          LogOf(bob, LogDirection::kReceived, t3, alice.chain),
                          LogOf(bob, LogDirection::kReceived, t5, alice.chain)}));
  ASSERT_EQ(up.gaps.size(), 2U);
  EXPECT_EQ(up.gaps[0].payer_device_id, "alice");
  EXPECT_EQ(up.gaps[0].first_missing, 2U);
  EXPECT_EQ(up.gaps[0].last_missing, 2U);
  EXPECT_EQ(up.gaps[1].first_missing, 4U);
  EXPECT_FALSE(up.gaps[0].persistent);

  clock_.AdvanceMillis(7 * kDayMillis);
  std::vector<CounterGap> gaps = MustOk(settlement_->CounterGaps("alice"));
  ASSERT_EQ(gaps.size(), 2U);
  EXPECT_TRUE(gaps[0].persistent);

  Upload(carol, Concat({LogOf(carol, LogDirection::kReceived, t2, alice.chain),
                        LogOf(carol, LogDirection::kReceived, t4, alice.chain)}));
  EXPECT_TRUE(MustOk(settlement_->CounterGaps("alice")).empty());
  EXPECT_EQ(purses_.Balance("alice"), 9'500);
}

TEST_F(OfflineSettlementTest, ReceivedValueNotYetUploadedLeavesAPaymentPendingUntilItIs) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  TestDevice carol = NewDevice("carol");
  purses_.Fund("bob", 5'000);
  purses_.Fund("alice", 400);
  // Offline: bob pays alice 500; alice re-spends 800 with carol.
  const Bytes bob_to_alice = SignTransfer(bob, "alice", 500);
  const Bytes alice_to_carol = SignTransfer(alice, "carol", 800);
  UploadResult up =
      Upload(carol, LogOf(carol, LogDirection::kReceived, alice_to_carol, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kPending);
  EXPECT_NE(up.records[0].reason.find("failed_precondition"), std::string::npos);
  EXPECT_EQ(purses_.Balance("carol"), 0);
  EXPECT_EQ(MustOk(settlement_->RetryPending()), 1);

  // Alice's upload carries the received transfer; the pending payment then settles too.
  up = Upload(alice, LogOf(alice, LogDirection::kReceived, bob_to_alice, bob.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(MustOk(settlement_->RetryPending()), 0);
  EXPECT_EQ(purses_.Balance("alice"), 100);
  EXPECT_EQ(purses_.Balance("carol"), 800);
  EXPECT_EQ(purses_.Balance("bob"), 4'500);
}

TEST_F(OfflineSettlementTest, AnUploadMovesItsValueInOneBatchInLogOrder) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  TestDevice carol = NewDevice("carol");
  purses_.Fund("carol", 1'000);
  purses_.Fund("bob", 400);
  const Bytes carol_to_bob = SignTransfer(carol, "bob", 500);
  const Bytes bob_to_alice = SignTransfer(bob, "alice", 800);  // spends what carol paid
  const Bytes bob_to_alice_2 = SignTransfer(bob, "alice", 50);
  const Bytes unload = SignTransfer(bob, "op-icbc", 30);  // driven alone, after the batch so far
  const Bytes bob_to_alice_3 = SignTransfer(bob, "alice", 20);
  const UploadResult up =
      Upload(bob, Concat({LogOf(bob, LogDirection::kReceived, carol_to_bob, carol.chain),
                          LogOf(bob, LogDirection::kSent, bob_to_alice, bob.chain),
                          LogOf(bob, LogDirection::kSent, bob_to_alice_2, bob.chain),
                          LogOf(bob, LogDirection::kSent, unload, bob.chain),
                          LogOf(bob, LogDirection::kSent, bob_to_alice_3, bob.chain)}));
  ASSERT_EQ(up.records.size(), 5U);
  for (const UploadedRecord& r : up.records) {
    EXPECT_EQ(r.outcome, RecordOutcome::kSettled) << r.payer_counter << ": " << r.reason;
  }
  EXPECT_EQ(purses_.batch_sizes(), (std::vector<std::size_t>{3, 1}));
  EXPECT_EQ(purses_.Balance("carol"), 500);
  EXPECT_EQ(purses_.Balance("alice"), 870);
  EXPECT_EQ(purses_.Balance("bob"), 0);
  EXPECT_EQ(purses_.Wallet("bob"), 30);
  // A short purse in a batch leaves that record pending and the others settled.
  const Bytes bob_to_alice_4 = SignTransfer(bob, "alice", 5);
  const Bytes carol_to_alice = SignTransfer(carol, "alice", 5);
  const UploadResult short_up =
      Upload(alice, Concat({LogOf(alice, LogDirection::kReceived, bob_to_alice_4, bob.chain),
                            LogOf(alice, LogDirection::kReceived, carol_to_alice, carol.chain)}));
  EXPECT_EQ(short_up.records[0].outcome, RecordOutcome::kPending);
  EXPECT_NE(short_up.records[0].reason.find("failed_precondition"), std::string::npos);
  EXPECT_EQ(short_up.records[1].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(purses_.Balance("alice"), 875);
}

TEST_F(OfflineSettlementTest, TransientLedgerFailuresAreRedrivenWithTheSameKey) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  purses_.Fund("alice", 1'000);
  const Bytes e2 = SignTransfer(alice, "bob", 600);
  purses_.FailNext(10);  // every retry inside the upload fails too
  UploadResult up = Upload(bob, LogOf(bob, LogDirection::kReceived, e2, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kPending);
  EXPECT_NE(up.records[0].reason.find("unavailable"), std::string::npos);
  EXPECT_EQ(purses_.Balance("bob"), 0);

  // A restart re-drives it (Open), exactly once.
  purses_.FailNext(0);
  OpenSettlement();
  EXPECT_EQ(purses_.Balance("bob"), 600);
  EXPECT_EQ(purses_.moves(), 1);
  EXPECT_EQ(MustOk(settlement_->RetryPending()), 0);
  EXPECT_EQ(Upload(alice, LogOf(alice, LogDirection::kSent, e2, alice.chain)).records[0].outcome,
            RecordOutcome::kDuplicate);
  EXPECT_EQ(purses_.moves(), 1);
}

TEST_F(OfflineSettlementTest, UnloadCreditsTheOwnerWalletOnlyAtThisOperator) {
  TestDevice alice = NewDevice("alice");
  purses_.Fund("alice", 2'000);
  const Bytes unload = SignTransfer(alice, "op-icbc", 1'500);
  const Bytes elsewhere = SignTransfer(alice, "op-ccb", 100);
  const UploadResult up = Upload(alice, Concat({LogOf(alice, LogDirection::kSent, unload, alice.chain),
                                                LogOf(alice, LogDirection::kSent, elsewhere,
                                                      alice.chain)}));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(up.records[1].outcome, RecordOutcome::kRefused);
  EXPECT_EQ(purses_.Wallet("alice"), 1'500);
  EXPECT_EQ(purses_.Balance("alice"), 500);
}

TEST_F(OfflineSettlementTest, PayeeOfAnotherOperatorWaitsForTheDirectoryOrItsUpload) {
  TestDevice alice = NewDevice("alice");
  purses_.Fund("alice", 2'000);
  const Bytes e2 = SignTransfer(alice, "dave", 700);  // dave: a ccb device
  UploadResult up = Upload(alice, LogOf(alice, LogDirection::kSent, e2, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kPending);
  EXPECT_NE(up.records[0].reason.find("payee operator unknown"), std::string::npos);

  OpenSettlement([](std::string_view device) {
    return device == "dave" ? std::string("ccb") : std::string();
  });
  EXPECT_EQ(purses_.Balance("dave", "ccb"), 700);
  EXPECT_EQ(purses_.Balance("alice"), 1'300);
}

// A ccb payee uploads a transfer from an icbc payer: ccb verifies it from the root, keeps it and
// forwards it through the hook; a transient failure keeps it pending until RetryPending, and icbc
// settles it once to the payee's purse at ccb.
TEST_F(OfflineSettlementTest, ForeignPayersRecordsAreForwardedAndRetriedUntilTaken) {
  auto ccb_ca = OpenOperatorCa("ccb", crypto::SignatureScheme::kSm2Sm3);
  TestDevice alice = NewDevice("alice");
  TestDevice dave = NewDevice("dave", 4, ccb_ca.get());
  purses_.Fund("alice", 2'000);
  testing::FakePurses ccb_purses{"ccb"};
  int calls = 0;
  int failures = 1;
  OfflineSettlementOptions options;
  options.operator_id = "ccb";
  options.data_dir = dir_;
  options.postgres_url = postgres_url();
  options.authority = ccb_ca.get();
  options.purses = &ccb_purses;
  options.clock = &clock_;
  options.forward_to_operator = [&](std::string_view payer_operator,
                                    ByteView record) -> Result<UploadedRecord> {
    ++calls;
    EXPECT_EQ(payer_operator, "icbc");
    if (failures > 0) {
      --failures;
      return Unavailable("icbc unreachable");
    }
    return settlement_->SettleForwarded("ccb", record);
  };
  auto ccb = MustOk(OfflineSettlement::Open(std::move(options)), "open ccb settlement");

  const Bytes e2 = SignTransfer(alice, "dave", 700);
  const Bytes log = LogOf(dave, LogDirection::kReceived, e2, alice.chain);
  UploadResult up = MustOk(ccb->Upload("dave", log));
  ASSERT_EQ(up.records.size(), 1U);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kPending);
  EXPECT_NE(up.records[0].reason.find("unavailable"), std::string::npos) << up.records[0].reason;
  EXPECT_EQ(purses_.moves(), 0);

  EXPECT_EQ(MustOk(ccb->RetryPending()), 0);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(purses_.Balance("dave", "ccb"), 700);  // icbc moved alice → dave at ccb
  EXPECT_EQ(purses_.Balance("alice"), 1'300);
  EXPECT_EQ(ccb_purses.moves(), 0);  // ccb moves nothing itself

  // Uploaded again: known, not forwarded again. The payer's own upload at icbc: a duplicate.
  up = MustOk(ccb->Upload("dave", log));
  ASSERT_EQ(up.records.size(), 1U);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Upload(alice, LogOf(alice, LogDirection::kSent, e2, alice.chain)).records[0].outcome,
            RecordOutcome::kDuplicate);
  EXPECT_EQ(purses_.moves(), 1);
  EXPECT_EQ(MustOk(ccb->RetryPending()), 0);
  EXPECT_EQ(calls, 2);
}

TEST_F(OfflineSettlementTest, ForwardingNeedsAHookAndSettleForwardedChecksItsInput) {
  auto ccb_ca = OpenOperatorCa("ccb", crypto::SignatureScheme::kSm2Sm3);
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  TestDevice dave = NewDevice("dave", 4, ccb_ca.get());
  TestDevice erin = NewDevice("erin", 4, ccb_ca.get());
  purses_.Fund("alice", 2'000);
  const Bytes e2 = SignTransfer(alice, "dave", 700);
  const Bytes received = LogOf(dave, LogDirection::kReceived, e2, alice.chain);

  // Without a hook the payee's operator rejects a foreign payer's record, as before.
  testing::FakePurses ccb_purses{"ccb"};
  OfflineSettlementOptions options;
  options.operator_id = "ccb";
  options.data_dir = dir_;
  options.postgres_url = postgres_url();
  options.authority = ccb_ca.get();
  options.purses = &ccb_purses;
  options.clock = &clock_;
  auto ccb = MustOk(OfflineSettlement::Open(std::move(options)), "open ccb settlement");
  const UploadResult up = MustOk(ccb->Upload("dave", received));
  ASSERT_EQ(up.records.size(), 1U);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kRejected);
  EXPECT_NE(up.records[0].reason.find("settled there"), std::string::npos) << up.records[0].reason;

  // What the payer's operator refuses before recording anything.
  EXPECT_EQ(settlement_->SettleForwarded("icbc", received).status().code(),
            ErrorCode::kInvalidArgument);  // its own devices upload
  EXPECT_EQ(settlement_->SettleForwarded("Not An Id", received).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(settlement_->SettleForwarded("ccb", Bytes{0xE9, 0x05, 0x01}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(settlement_->SettleForwarded("ccb", LogOf(alice, LogDirection::kSent, e2, alice.chain))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);  // a payee's log holds received records
  const Result<UploadedRecord> foreign = settlement_->SettleForwarded(
      "ccb", LogOf(bob, LogDirection::kReceived, SignTransfer(erin, "bob", 5), erin.chain));
  EXPECT_EQ(foreign.status().code(), ErrorCode::kInvalidArgument);  // erin is ccb's
  EXPECT_NE(foreign.status().message().find("certified by operator ccb"), std::string::npos);
  EXPECT_EQ(purses_.moves(), 0);
  EXPECT_TRUE(MustOk(settlement_->CounterGaps("alice")).empty());

  // The real one settles to dave at ccb, once.
  UploadedRecord r = MustOk(settlement_->SettleForwarded("ccb", received));
  EXPECT_EQ(r.outcome, RecordOutcome::kSettled) << r.reason;
  EXPECT_EQ(r.payee_device_id, "dave");
  r = MustOk(settlement_->SettleForwarded("ccb", received));
  EXPECT_EQ(r.outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(purses_.Balance("dave", "ccb"), 700);
  EXPECT_EQ(purses_.moves(), 1);
}

TEST_F(OfflineSettlementTest, FrozenDeviceSettlesDuringTheWaitThenTheRestIsRecovered) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  purses_.Fund("alice", 10'000);
  // Spent offline before the loss, not uploaded yet.
  const Bytes before_loss = SignTransfer(alice, "bob", 2'500);
  const Bytes late = SignTransfer(alice, "bob", 1'000);

  OFFLINE_ASSERT_OK(settlement_->FreezeDevice("alice"));
  OFFLINE_ASSERT_OK(settlement_->FreezeDevice("alice"));  // idempotent
  EXPECT_TRUE(MustOk(operator_ca_->IsRevoked("alice")));
  EXPECT_EQ(MustOk(operator_ca_->CurrentRevocationList()).entries[0].reason,
            kRevocationReasonFrozen);
  EXPECT_EQ(operator_ca_->SignLoadOrder("alice", 100, "load").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(MustOk(settlement_->Device("alice")).state, DeviceState::kFrozen);

  clock_.AdvanceMillis(3 * kDayMillis);
  Result<std::int64_t> early = settlement_->RecoverFrozenBalance("alice");
  EXPECT_EQ(early.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("waiting period"), std::string::npos);
  // The payee uploads during the waiting period: it settles.
  UploadResult up = Upload(bob, LogOf(bob, LogDirection::kReceived, before_loss, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(VerifiedAck(up.sync_ack).body.revoked,
            (std::vector<dcep_wire::RevokedDevice>{{"icbc", "alice"}}));

  clock_.AdvanceMillis(4 * kDayMillis);
  EXPECT_EQ(MustOk(settlement_->RecoverFrozenBalance("alice")), 7'500);
  EXPECT_EQ(purses_.Wallet("alice"), 7'500);
  EXPECT_EQ(purses_.Balance("alice"), 0);
  EXPECT_EQ(MustOk(settlement_->RecoverFrozenBalance("alice")), 7'500);  // same answer
  EXPECT_EQ(purses_.Wallet("alice"), 7'500);
  EXPECT_EQ(MustOk(settlement_->Device("alice")).state, DeviceState::kRecovered);

  // After the recovery the device's transfers are refused.
  up = Upload(bob, LogOf(bob, LogDirection::kReceived, late, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kRefused);
  EXPECT_EQ(purses_.Balance("bob"), 2'500);
  EXPECT_EQ(settlement_->FreezeDevice("alice").code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(settlement_->FreezeDevice("nobody").code(), ErrorCode::kNotFound);
}

TEST_F(OfflineSettlementTest, ExpiredCertificateSettlesWithinTheGraceOnly) {
  TestDevice alice = NewDevice("alice");
  TestDevice bob = NewDevice("bob");
  TestDevice carol = NewDevice("carol");
  purses_.Fund("alice", 1'000);
  const Bytes to_bob = SignTransfer(alice, "bob", 100);
  const Bytes to_carol = SignTransfer(alice, "carol", 100);
  clock_.AdvanceMillis(45 * kDayMillis);  // certificate (30 days) expired 15 days ago
  EXPECT_EQ(Upload(bob, LogOf(bob, LogDirection::kReceived, to_bob, alice.chain)).records[0].outcome,
            RecordOutcome::kSettled);
  clock_.AdvanceMillis(20 * kDayMillis);  // now 35 days past expiry
  const UploadResult up = Upload(carol, LogOf(carol, LogDirection::kReceived, to_carol, alice.chain));
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kRejected);
  EXPECT_NE(up.records[0].reason.find("out_of_range"), std::string::npos);
}

TEST_F(OfflineSettlementTest, OptionsAreChecked) {
  OfflineSettlementOptions options;
  options.operator_id = "ccb";  // the authority is icbc's
  options.data_dir = dir_;
  options.authority = operator_ca_.get();
  options.purses = &purses_;
  EXPECT_EQ(OfflineSettlement::Open(options).status().code(), ErrorCode::kInvalidArgument);
  options.operator_id = "icbc";
  options.purses = nullptr;
  EXPECT_EQ(OfflineSettlement::Open(options).status().code(), ErrorCode::kInvalidArgument);
}

// ---- end to end: real secure elements, APDUs only --------------------------------------------

// A watch with the digital-currency applet, personalised by the icbc CA.
struct Watch {
  std::unique_ptr<device::SecureElement> se;
  std::unique_ptr<device::DcepWalletClient> wallet;  // the wallet's own channel
  std::unique_ptr<device::DcepWalletClient> field;   // the contactless interface

  void Open(const std::filesystem::path& dir, const std::string& id) {
    wallet.reset();
    field.reset();
    se.reset();
    device::SecureElementOptions options;
    options.data_dir = dir;
    options.device_id = id;
    se = MustOk(device::SecureElement::Open(std::move(options)), "open se");
    // The clients hold the secure element, not the Watch (which moves).
    device::SecureElement* raw = se.get();
    wallet = std::make_unique<device::DcepWalletClient>(
        [raw](ByteView apdu) { return raw->TransmitToDcepWallet(apdu); });
    field = std::make_unique<device::DcepWalletClient>(
        [raw](ByteView apdu) { return raw->Transmit(apdu); });
  }
};

class OfflineEndToEndTest : public OfflineSettlementTest {
 protected:
  Watch NewWatch(const std::string& id, const std::filesystem::path& dir) {
    Watch w;
    w.Open(dir, id);
    DeviceCertificateRequest request;
    request.device_id = id;
    request.scheme = root_->certificate().body.scheme;
    request.public_key_raw =
        MustOk(w.se->InstallDcepWallet(request.scheme, root_->public_key()), "install wallet");
    MustOk(operator_ca_->IssueDeviceCertificate(request), "device cert");
    EXPECT_TRUE(w.wallet->PutCertificates(MustOk(operator_ca_->DeviceChain(id))).ok());
    return w;
  }

  // payee asks, payer pays over the field, payee receives over the field.
  Status PayOffline(Watch& payer, Watch& payee, std::int64_t amount) {
    TS_ASSIGN_OR_RETURN(const Bytes request, payee.wallet->CreatePaymentRequest(amount));
    TS_RETURN_IF_ERROR(payer.field->Select());
    TS_ASSIGN_OR_RETURN(const Bytes paid, payer.field->Pay(request));
    TS_RETURN_IF_ERROR(payee.field->Select());
    return payee.field->Receive(paid);
  }

  UploadResult UploadLog(Watch& w) {
    const Bytes log = MustOk(w.wallet->ReadLog(0), "read log");
    return MustOk(settlement_->Upload(w.se->device_id(), log), "upload");
  }
};

TEST_F(OfflineEndToEndTest, CloneIsCaughtRevokedAndThenRefusedByAnotherWatch) {
  Watch alice = NewWatch("alice", dir_ / "watches");
  Watch bob = NewWatch("bob", dir_ / "watches");
  Watch carol = NewWatch("carol", dir_ / "watches");
  // Online: fund alice's purse and load her watch.
  purses_.Fund("alice", 5'000);
  EXPECT_EQ(MustOk(alice.wallet->Load(MustOk(operator_ca_->SignLoadOrder("alice", 5'000, "l1")))),
            5'000);

  // Clone alice's secure element (keys, balance, counter) into a second watch.
  alice.se.reset();
  std::filesystem::create_directories(dir_ / "clone");
  std::filesystem::copy(dir_ / "watches" / "alice", dir_ / "clone" / "alice",
                        std::filesystem::copy_options::recursive);
  alice.Open(dir_ / "watches", "alice");
  Watch clone;
  clone.Open(dir_ / "clone", "alice");

  // Both pay offline with counter 1.
  OFFLINE_ASSERT_OK(PayOffline(alice, bob, 4'000));
  OFFLINE_ASSERT_OK(PayOffline(clone, carol, 3'000));

  // Bob and alice both upload: it settles once.
  UploadResult up = UploadLog(bob);
  ASSERT_EQ(up.records.size(), 1U);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled) << up.records[0].reason;
  up = UploadLog(alice);
  ASSERT_EQ(up.records.size(), 1U);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(purses_.Balance("bob"), 4'000);
  EXPECT_EQ(purses_.Balance("alice"), 1'000);
  OFFLINE_ASSERT_OK(alice.wallet->Sync(up.sync_ack));

  // Carol's upload reveals the clone.
  up = UploadLog(carol);
  ASSERT_EQ(up.records.size(), 1U);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kDoubleSpend);
  EXPECT_EQ(purses_.Balance("carol"), 3'000);
  EXPECT_EQ(purses_.loss_fen(), 2'000);
  EXPECT_TRUE(MustOk(operator_ca_->IsRevoked("alice")));

  // The acknowledgement carries the revocation to carol's watch, which then refuses the clone.
  EXPECT_EQ(VerifiedAck(up.sync_ack).body.revoked,
            (std::vector<dcep_wire::RevokedDevice>{{"icbc", "alice"}}));
  OFFLINE_ASSERT_OK(carol.wallet->Sync(up.sync_ack));
  const Status refused = PayOffline(clone, carol, 500);
  EXPECT_EQ(refused.code(), ErrorCode::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("6283"), std::string::npos) << refused.ToString();
  EXPECT_EQ(MustOk(carol.wallet->PurseStatus()).balance_fen, 3'000);
}

}  // namespace
}  // namespace tapstack::dcep
