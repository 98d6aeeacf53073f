#include "dcep/hardware_wallets.h"

#include <gtest/gtest.h>

#include "dcep_test_util.h"
#include "dcep_wire/load_order.h"
#include "watch_test_util.h"

namespace tapstack::dcep {
namespace {

using testing::Must;
using testing::Watch;

class HardwareWalletsTest : public testing::DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    OpenNetwork();
    wallets_ = Must(network_->hardware_wallets("icbc"));
  }

  Watch NewWatch(const std::string& id, const std::string& wallet, const std::filesystem::path& where = {}) {
    return testing::OpenWatch(where.empty() ? dir_ / "watches" : where, id, "icbc", *wallets_, wallet,
                              network_->root_authority());
  }

  void Load(Watch& w, const std::string& wallet, std::int64_t amount, const std::string& key) {
    const Bytes order = Must(wallets_->Load(wallet, w.id, amount, key));
    ASSERT_TRUE(w.app->Load(order).ok());
  }

  UploadResult Upload(Watch& w) { return testing::UploadWatch(*wallets_, w); }

  std::int64_t Purse(const std::string& device) { return Must(Op("icbc").OfflinePurseBalance(device)); }

  HardwareWallets* wallets_ = nullptr;
};

TEST_F(HardwareWalletsTest, OfflineValueSettlesOnceIntoThePayeePurseAndTheLedgerAgrees) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  const std::string bob = FundedWallet("icbc", "+8613800000002", 0);
  Watch a = NewWatch("watch-a", alice);
  Watch b = NewWatch("watch-b", bob);
  EXPECT_EQ(Purse("watch-b"), 0);  // certified: the purse exists before any value
  Load(a, alice, 40'000, "load-1");
  EXPECT_EQ(Must(Op("icbc").Wallet(alice)).balance_fen, 60'000);

  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 15'000).ok());
  EXPECT_EQ(Purse("watch-a"), 40'000);  // nothing moves online until someone uploads
  const UploadResult first = Upload(b);
  ASSERT_EQ(first.records.size(), 1u);
  EXPECT_EQ(first.records[0].outcome, RecordOutcome::kSettled);
  const UploadResult second = Upload(a);
  ASSERT_EQ(second.records.size(), 1u);
  EXPECT_EQ(second.records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(Purse("watch-a"), 25'000);
  EXPECT_EQ(Purse("watch-b"), 15'000);
  EXPECT_EQ(Must(a.app->PurseStatus()).balance_fen, 25'000);

  // Both owners' histories show the settlement.
  const HistoryPage history = Must(Op("icbc").History(bob, 0, 10));
  ASSERT_FALSE(history.entries.empty());
  EXPECT_EQ(history.entries.front().kind, "purse_move");
  EXPECT_EQ(history.entries.front().amount_fen, 15'000);
  ExpectNetworkBalanced();
}

TEST_F(HardwareWalletsTest, LoadIsIdempotentAndADeviceHasOneOwner) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  const std::string bob = FundedWallet("icbc", "+8613800000002", 0);
  Watch a = NewWatch("watch-a", alice);
  const Bytes first = Must(wallets_->Load(alice, "watch-a", 10'000, "load-1"));
  const Bytes again = Must(wallets_->Load(alice, "watch-a", 10'000, "load-1"));
  EXPECT_EQ(first, again);  // a retry: the same order, the purse funded once
  EXPECT_EQ(Purse("watch-a"), 10'000);
  EXPECT_EQ(Must(Op("icbc").Wallet(alice)).balance_fen, 90'000);
  EXPECT_EQ(wallets_->Load(alice, "watch-a", 20'000, "load-1").status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Must(a.app->Load(first)), 10'000);
  EXPECT_EQ(Must(a.app->Load(first)), 10'000);  // the applet credits an order once too

  EXPECT_EQ(wallets_->CertifyDevice(bob, "watch-a", crypto::SignatureScheme::kSm2Sm3,
                                    Must(a.app->PublicKey()))
                .status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(wallets_->CertifyDevice("w0000000000000000", "watch-z", crypto::SignatureScheme::kSm2Sm3,
                                    Must(a.app->PublicKey()))
                .status().code(),
            ErrorCode::kNotFound);
  ExpectNetworkBalanced();
}

TEST_F(HardwareWalletsTest, RefusalsMoveNothing) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  Watch a = NewWatch("watch-a", alice);
  Load(a, alice, 10'000, "load-1");
  // The purse backs value the watch holds offline: a plain defund would let it be spent twice.
  const auto defund = Op("icbc").DefundOfflinePurse(alice, "watch-a", 10'000, "defund-1");
  EXPECT_EQ(defund.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(defund.status().message().find("signed unload"), std::string::npos);
  // A load the order could not be signed for moves no value first.
  const std::int64_t cap = Must(wallets_->authority().DeviceCertificate("watch-a")).body.offline_balance_max_fen;
  EXPECT_EQ(wallets_->Load(alice, "watch-a", cap + 1, "load-big").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(wallets_->Load(alice, "watch-never-certified", 100, "load-x").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Purse("watch-a"), 10'000);
  EXPECT_EQ(Must(Op("icbc").Wallet(alice)).balance_fen, 90'000);
  // The operator's unload payee id cannot be taken by a customer's device.
  EXPECT_EQ(wallets_->CertifyDevice(alice, "op-icbc", crypto::SignatureScheme::kSm2Sm3, Must(a.app->PublicKey()))
                .status().code(),
            ErrorCode::kInvalidArgument);
  ExpectNetworkBalanced();
}

TEST_F(HardwareWalletsTest, UnloadReturnsValueToTheOwnerWallet) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  Watch a = NewWatch("watch-a", alice);
  Load(a, alice, 30'000, "load-1");
  const Bytes request = Must(wallets_->RequestUnload("watch-a", 12'000));
  ASSERT_TRUE(a.app->Select().ok());
  const Bytes transfer = Must(a.app->Pay(request));
  EXPECT_FALSE(transfer.empty());
  const UploadResult up = Upload(a);
  ASSERT_EQ(up.records.size(), 1u);
  EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled) << up.records[0].reason;
  EXPECT_EQ(Purse("watch-a"), 18'000);
  EXPECT_EQ(Must(Op("icbc").Wallet(alice)).balance_fen, 70'000 + 12'000);
  EXPECT_EQ(wallets_->RequestUnload("watch-a", 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(wallets_->RequestUnload("watch-unknown", 10).status().code(), ErrorCode::kNotFound);
  ExpectNetworkBalanced();
}

TEST_F(HardwareWalletsTest, ADoubleSpendBeyondThePurseIsCoveredFromTheOperatorsFloat) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  const std::string bob = FundedWallet("icbc", "+8613800000002", 0);
  const std::string carol = FundedWallet("icbc", "+8613800000003", 0);
  Watch a = NewWatch("watch-a", alice);
  Watch b = NewWatch("watch-b", bob);
  Watch c = NewWatch("watch-c", carol);
  Load(a, alice, 20'000, "load-1");
  // The clone: a copy of watch-a's secure element with the whole purse still in it.
  a.se.reset();
  std::filesystem::create_directories(dir_ / "clone");
  std::filesystem::copy(dir_ / "watches" / "watch-a", dir_ / "clone" / "watch-a",
                        std::filesystem::copy_options::recursive);
  Watch reopened = NewWatch("watch-a", "");
  Watch clone = NewWatch("watch-a", "", dir_ / "clone");
  ASSERT_TRUE(device::PayOffline(*reopened.field, *b.field, 20'000).ok());
  ASSERT_TRUE(device::PayOffline(*clone.field, *c.field, 20'000).ok());
  EXPECT_EQ(Upload(b).records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(Upload(c).records[0].outcome, RecordOutcome::kDoubleSpend);
  // The honest record emptied the purse: the victim is to be paid from the operator's own float,
  // which is empty here (every issued fen went into wallets), so the compensation waits…
  EXPECT_EQ(Purse("watch-a"), 0);
  EXPECT_EQ(Purse("watch-b"), 20'000);
  EXPECT_EQ(Purse("watch-c"), 0);
  ExpectNetworkBalanced();
  // …until the operator has float again.
  EnsureFloat("icbc", 50'000);
  Must(wallets_->settlement().RetryPending());
  EXPECT_EQ(Purse("watch-c"), 20'000);
  EXPECT_EQ(Must(Op("icbc").Audit()).float_fen, 30'000);
  EXPECT_TRUE(Must(wallets_->authority().IsRevoked("watch-a")));
  ExpectNetworkBalanced();  // covering the loss moved value; it created none
}

TEST_F(HardwareWalletsTest, PurseMovesRefuseWhatTheyCannotSettle) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  Watch a = NewWatch("watch-a", alice);
  Load(a, alice, 1'000, "load-1");
  Operator& icbc = Op("icbc");
  // ccb does not know watch-x: its refusal comes back (the settlement is reversed).
  EXPECT_EQ(icbc.MovePurseValue("watch-a", "watch-x", "ccb", 10, "k1").code(), ErrorCode::kNotFound);
  EXPECT_EQ(icbc.MovePurseValue("watch-a", "watch-x", "icbc", 10, "k2").code(), ErrorCode::kNotFound);
  EXPECT_EQ(icbc.MovePurseValue("watch-a", "watch-a", "icbc", 5'000, "k3").code(),
            ErrorCode::kFailedPrecondition);  // more than the purse holds
  EXPECT_EQ(icbc.CoverOfflineLoss("watch-a", "ccb", 10, "k4").code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Must(icbc.PurseBalance("watch-never")), 0);
  EXPECT_EQ(Purse("watch-a"), 1'000);
  ExpectNetworkBalanced();
}

TEST_F(HardwareWalletsTest, PurseMovesInOneBatchAreAnsweredEachInOrder) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  const std::string bob = FundedWallet("icbc", "+8613800000002", 0);
  Watch a = NewWatch("watch-a", alice);
  Watch b = NewWatch("watch-b", bob);
  Load(a, alice, 1'000, "load-1");
  Operator& icbc = Op("icbc");
  const std::vector<PurseMove> moves = {
      {"watch-a", "watch-b", "icbc", 600, "m1"},
      {"watch-b", "watch-a", "icbc", 500, "m2"},    // spends what m1 credited
      {"watch-a", "watch-x", "icbc", 10, "m3"},     // no such purse: refused alone
      {"watch-a", "watch-b", "icbc", 1'000, "m4"},  // 900 left: short, nothing moves
      {"watch-a", "watch-b", "icbc", 600, "m1"},    // m1 again in the same batch: its answer
      {"watch-a", "watch-b", "icbc", 601, "m1"},    // m1's key with another amount
  };
  const std::vector<ErrorCode> expected = {ErrorCode::kOk,       ErrorCode::kOk,
                                           ErrorCode::kNotFound, ErrorCode::kFailedPrecondition,
                                           ErrorCode::kOk,       ErrorCode::kAlreadyExists};
  for (int round = 0; round < 2; ++round) {  // the second round replays the first
    const std::vector<Status> answers = icbc.MovePurseValues(moves);
    ASSERT_EQ(answers.size(), moves.size());
    for (std::size_t i = 0; i < moves.size(); ++i) {
      EXPECT_EQ(answers[i].code(), expected[i]) << "round " << round << ", move " << i << ": "
                                                << answers[i].ToString();
    }
    EXPECT_EQ(Purse("watch-a"), 900);
    EXPECT_EQ(Purse("watch-b"), 100);
  }
  const std::vector<Status> too_many =
      icbc.MovePurseValues(std::vector<PurseMove>(kPayBatchMax + 1, moves[0]));
  ASSERT_EQ(too_many.size(), kPayBatchMax + 1);
  EXPECT_EQ(too_many.back().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Purse("watch-a"), 900);
  ExpectNetworkBalanced();
}

}  // namespace
}  // namespace tapstack::dcep
