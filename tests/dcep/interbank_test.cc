// Inter-operator payments: hold → central-bank settlement → credit at the payee's operator →
// post; refusals reverse the settlement; a crash (or lost answer) between any two steps is
// recovered by RecoverInterbank at reopen without moving money twice; the cross-ledger invariant
// holds after a mixed workload.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <random>

#include "dcep/operator.h"
#include "dcep_test_util.h"
#include "store/fault_vfs.h"
#include "store/sqlite_store.h"

namespace tapstack::dcep {
namespace {

using testing::DcepTest;
using testing::Must;

enum class Fault { kNone, kBefore, kAfter };

// Forwards to the central bank, failing settle/reverse calls as told (kBefore: the request is
// lost; kAfter: the answer is lost).
class FaultyCentralBank final : public CentralBankClient {
 public:
  CentralBankClient* target = nullptr;
  Fault settle = Fault::kNone;
  Fault reverse = Fault::kNone;
  int settles = 0;

  Result<Movement> Issue(const IssueRequest& r) override { return target->Issue(r); }
  Result<Movement> Redeem(const IssueRequest& r) override { return target->Redeem(r); }
  Result<Movement> Settle(const SettleRequest& r) override {
    ++settles;
    return Faulty(settle, [&] { return target->Settle(r); });
  }
  Result<Movement> ReverseSettlement(const SettleRequest& r) override {
    return Faulty(reverse, [&] { return target->ReverseSettlement(r); });
  }
  Result<OperatorPosition> Position(std::string_view id) override { return target->Position(id); }

 private:
  template <typename F>
  Result<Movement> Faulty(Fault fault, F call) {
    if (fault == Fault::kBefore) return Unavailable("link down (request lost)");
    Result<Movement> r = call();
    if (fault == Fault::kAfter) return Unavailable("link down (answer lost)");
    return r;
  }
};

class FaultyPeers final : public InterbankPeers {
 public:
  InterbankPeers* target = nullptr;
  Fault credit = Fault::kNone;
  int credits = 0;
  std::function<void()> after_credit;  // runs once the payee's operator has answered
  Result<CreditResult> CreditIncoming(const IncomingCredit& c) override {
    ++credits;
    if (credit == Fault::kBefore) return Unavailable("payee operator unreachable");
    Result<CreditResult> r = target->CreditIncoming(c);
    if (after_credit) after_credit();
    if (credit == Fault::kAfter) return Unavailable("answer lost");
    return r;
  }
};

class InterbankTest : public DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    DcepNetworkOptions options;
    options.data_dir = dir_;
    options.config = testing::SeedConfig();
    options.clock = &clock_;
    options.random = &random_;
    options.operator_ids = {"icbc", "ccb", "boc"};
    options.central_bank_client = &bank_;
    options.peers = &peers_;
    // The targets are set right after Open; nothing is in flight at the first open.
    network_ = Must(DcepNetwork::Open(std::move(options)));
    bank_.target = &network_->central_bank_client();
    in_process_ = std::make_unique<InProcessCentralBankClient>(network_->central_bank());
    bank_.target = in_process_.get();
    peers_.target = &network_->directory();
    payer_ = FundedWallet("icbc", "13800000001", 100'000);
    payee_ = FundedWallet("ccb", "13900000001", 0);
  }

  Result<Entry> PayAcross(std::int64_t amount, const std::string& key,
                          const std::string& payee = "") {
    PaymentOrder order;
    order.payer_wallet = payer_;
    order.payee_operator = "ccb";
    order.payee_wallet = payee.empty() ? payee_ : payee;
    order.amount_fen = amount;
    order.idempotency_key = key;
    return Op("icbc").Pay(order);
  }
  std::int64_t BalanceAt(std::string_view op, const std::string& wallet) {
    return Must(Op(op).Wallet(wallet)).balance_fen;
  }
  std::int64_t PositionAt(std::string_view op) {
    return Must(network_->central_bank().Position(op)).position_fen;
  }
  // Heals every link and reopens the payer's operator (as after a crash), which re-drives.
  void HealAndReopenPayer() {
    bank_.settle = bank_.reverse = Fault::kNone;
    peers_.credit = Fault::kNone;
    ASSERT_OK(network_->ReopenOperator("icbc"));
  }
  void ExpectCompleted(std::int64_t amount) {
    EXPECT_EQ(BalanceAt("icbc", payer_), 100'000 - amount);
    EXPECT_EQ(BalanceAt("ccb", payee_), amount);
    EXPECT_EQ(Must(Op("icbc").Wallet(payer_)).available_fen, 100'000 - amount);
    ExpectNetworkBalanced();
  }

  FaultyCentralBank bank_;
  FaultyPeers peers_;
  std::unique_ptr<InProcessCentralBankClient> in_process_;
  std::string payer_;
  std::string payee_;
};

TEST_F(InterbankTest, PaymentToAnotherOperatorSettlesThroughTheCentralBank) {
  const std::int64_t icbc_before = PositionAt("icbc");
  const Entry e = Must(PayAcross(30'000, "x1"));
  EXPECT_EQ(e.kind, "interbank_out");
  EXPECT_EQ(e.status, "posted");
  EXPECT_EQ(e.counter_operator, "ccb");
  ExpectCompleted(30'000);
  EXPECT_EQ(PositionAt("icbc"), icbc_before - 30'000);
  // The payee's history shows the credit with the payer's pseudonymous wallet id only.
  const HistoryPage page = Must(Op("ccb").History(payee_, 0, 10));
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].kind, "interbank_in");
  EXPECT_EQ(page.entries[0].counter_wallet, payer_);
  // Retry: the first outcome, no second settlement.
  const int settles = bank_.settles;
  EXPECT_TRUE(Must(PayAcross(30'000, "x1")).replayed);
  EXPECT_EQ(bank_.settles, settles);
  EXPECT_EQ(PayAcross(1, "x1").status().code(), ErrorCode::kAlreadyExists);
  ExpectCompleted(30'000);
}

TEST_F(InterbankTest, MerchantOfAnotherOperator) {
  PaymentOrder order;
  order.payer_wallet = payer_;
  order.merchant_id = "m-shenzhen-grocer";  // ccb
  order.amount_fen = 8'800;
  order.idempotency_key = "groceries";
  const Entry e = Must(Op("icbc").Pay(order));
  EXPECT_EQ(e.kind, "interbank_out");
  EXPECT_EQ(BalanceAt("ccb", MerchantWalletId("ccb", "m-shenzhen-grocer")), 8'800);
  ExpectNetworkBalanced();
}

TEST_F(InterbankTest, PayeeRefusalReversesTheSettlementAndVoidsTheHold) {
  // A tier-4 payee near its cap refuses the credit; the payer gets the payee's refusal.
  const std::string full = FundedWallet("ccb", "13900000002", 990'000);
  const std::int64_t icbc_before = PositionAt("icbc");
  auto refused = PayAcross(20'000, "too-much", full);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(refused.status().message().find("balance_max_fen"), std::string::npos);
  EXPECT_EQ(BalanceAt("icbc", payer_), 100'000);
  EXPECT_EQ(Must(Op("icbc").Wallet(payer_)).available_fen, 100'000);
  EXPECT_EQ(Must(Op("icbc").Wallet(payer_)).spent_today_fen, 0);
  EXPECT_EQ(PositionAt("icbc"), icbc_before);
  EXPECT_EQ(BalanceAt("ccb", full), 990'000);
  // The refusal is the first outcome of the key.
  EXPECT_EQ(PayAcross(20'000, "too-much", full).status().code(), ErrorCode::kOutOfRange);
  // An unknown payee wallet is a definite refusal too.
  EXPECT_EQ(PayAcross(1, "ghost", "w0000000000000001").status().code(), ErrorCode::kNotFound);
  ExpectNetworkBalanced();
}

TEST_F(InterbankTest, RecoversWhenTheSettleRequestIsLost) {
  bank_.settle = Fault::kBefore;
  auto pending = PayAcross(10'000, "lost-request");
  EXPECT_EQ(pending.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(Must(Op("icbc").Wallet(payer_)).available_fen, 90'000);  // held
  EXPECT_EQ(BalanceAt("icbc", payer_), 100'000);
  EXPECT_EQ(network_->AuditNetwork().status().code(), ErrorCode::kFailedPrecondition);
  HealAndReopenPayer();
  ExpectCompleted(10'000);
}

TEST_F(InterbankTest, RecoversWhenTheSettleAnswerIsLost) {
  const std::int64_t icbc_before = PositionAt("icbc");
  bank_.settle = Fault::kAfter;
  EXPECT_EQ(PayAcross(10'000, "lost-answer").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(PositionAt("icbc"), icbc_before - 10'000);  // the central bank did settle
  HealAndReopenPayer();
  EXPECT_EQ(PositionAt("icbc"), icbc_before - 10'000);  // and only once
  ExpectCompleted(10'000);
}

TEST_F(InterbankTest, RecoversWhenThePayeeOperatorIsUnreachable) {
  peers_.credit = Fault::kBefore;
  EXPECT_EQ(PayAcross(10'000, "payee-down").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(BalanceAt("ccb", payee_), 0);
  // A retry with the same key after the link is back completes it (no reopen needed).
  peers_.credit = Fault::kNone;
  const Entry e = Must(PayAcross(10'000, "payee-down"));
  EXPECT_EQ(e.status, "posted");
  ExpectCompleted(10'000);
}

TEST_F(InterbankTest, RecoversWhenTheJournalUpdateFailsAfterTheLedgerPosted) {
  // The payer's store is reopened on a disk that loses the next write once armed; the payee's
  // answer arms it, so the write lost is the journal's "posted" after the ledger's post.
  store::RegisterFaultVfs(/*make_default=*/true);
  const std::filesystem::path journal = store::SqlitePath(dir_, "dcep_icbc");
  auto armed = std::make_shared<std::atomic<bool>>(false);
  store::SetFaultHook(journal, [armed](store::FileOperation operation) {
    return operation == store::FileOperation::kWrite && armed->exchange(false)
               ? store::FaultVerdict::kFailAndLose
               : store::FaultVerdict::kPass;
  });
  ASSERT_OK(network_->ReopenOperator("icbc"));
  peers_.after_credit = [armed] { armed->store(true); };
  EXPECT_EQ(PayAcross(10'000, "journal-lost").status().code(), ErrorCode::kIoError);
  peers_.after_credit = nullptr;
  // Broken until reopened: in memory the payment is done, on disk still in flight.
  EXPECT_EQ(PayAcross(1'000, "while-broken").status().code(), ErrorCode::kIoError);
  store::SetFaultHook(journal, {});  // a healthy disk for the reopened store
  HealAndReopenPayer();
  // The re-driven row finds the post in the ledger and does not debit the payer again.
  ExpectCompleted(10'000);
  EXPECT_EQ(Must(PayAcross(10'000, "journal-lost")).status, "posted");
}

TEST_F(InterbankTest, RecoversWhenTheCreditAnswerIsLost) {
  peers_.credit = Fault::kAfter;
  EXPECT_EQ(PayAcross(10'000, "credit-lost").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(BalanceAt("ccb", payee_), 10'000);  // credited
  HealAndReopenPayer();
  ExpectCompleted(10'000);  // credited once, hold posted
}

TEST_F(InterbankTest, RecoversAReversalInterruptedByACrash) {
  const std::string full = FundedWallet("ccb", "13900000002", 995'000);
  const std::int64_t icbc_before = PositionAt("icbc");
  bank_.reverse = Fault::kBefore;
  EXPECT_EQ(PayAcross(10'000, "rev", full).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(PositionAt("icbc"), icbc_before - 10'000);  // settled, not yet reversed
  HealAndReopenPayer();
  EXPECT_EQ(PositionAt("icbc"), icbc_before);
  EXPECT_EQ(BalanceAt("icbc", payer_), 100'000);
  EXPECT_EQ(Must(Op("icbc").Wallet(payer_)).available_fen, 100'000);
  EXPECT_EQ(PayAcross(10'000, "rev", full).status().code(), ErrorCode::kOutOfRange);
  ExpectNetworkBalanced();
}

TEST_F(InterbankTest, CrossLedgerInvariantAfterAMixedWorkload) {
  std::mt19937_64 rng(42);
  const std::vector<std::string> ops = {"icbc", "ccb", "boc"};
  std::vector<std::pair<std::string, std::string>> wallets;  // (operator, wallet)
  for (std::size_t i = 0; i < 9; ++i) {
    const std::string& op = ops[i % 3];
    wallets.emplace_back(op, FundedWallet(op, "1370000000" + std::to_string(i), 200'000, true));
  }
  int ok = 0;
  for (int i = 0; i < 300; ++i) {
    const auto& [from_op, from] = wallets[rng() % wallets.size()];
    const auto& [to_op, to] = wallets[rng() % wallets.size()];
    const std::string key = "mix-" + std::to_string(i);
    switch (rng() % 6) {
      case 0:
        (void)Op(from_op).Exchange(from, 1 + static_cast<std::int64_t>(rng() % 5'000), rng() % 2,
                                   key);
        break;
      case 1:
        (void)Op(from_op).FundOfflinePurse(from, "dev-" + from.substr(1, 6),
                                           1 + static_cast<std::int64_t>(rng() % 2'000), key);
        break;
      case 2:
        (void)Op(from_op).DefundOfflinePurse(from, "dev-" + from.substr(1, 6),
                                             1 + static_cast<std::int64_t>(rng() % 1'000), key);
        break;
      default: {
        PaymentOrder order;
        order.payer_wallet = from;
        order.payee_operator = to_op;
        order.payee_wallet = to;
        order.amount_fen = 1 + static_cast<std::int64_t>(rng() % 30'000);
        order.idempotency_key = key;
        if (Op(from_op).Pay(order).ok()) ++ok;
        // A retry never moves money twice.
        (void)Op(from_op).Pay(order);
      }
    }
  }
  EXPECT_GT(ok, 100);
  (void)Op("boc").RedeemToCentralBank(1'000, "redeem-float");
  const NetworkAudit audit = Must(network_->AuditNetwork());
  std::int64_t value = 0;
  for (const auto& [id, a] : audit.operators) value += a.wallets_fen + a.purses_fen + a.float_fen;
  EXPECT_EQ(audit.central_bank.issued_fen, value);
  // And again after every ledger and store is reopened.
  network_->directory();
  for (const std::string& op : ops) ASSERT_OK(network_->ReopenOperator(op));
  EXPECT_EQ(Must(network_->AuditNetwork()).central_bank.issued_fen, value);
}

TEST(IncomingCreditJson, OfflineCreditsNameDevicesAndWalletCreditsStayAsBefore) {
  IncomingCredit wallet;
  wallet.from_operator = "icbc";
  wallet.to_operator = "ccb";
  wallet.payment_id = "p1";
  wallet.payer_wallet = "w0000000000000001";
  wallet.payee_wallet = "w0000000000000002";
  wallet.amount_fen = 100;
  const nlohmann::json wallet_json = ToJson(wallet);
  EXPECT_FALSE(wallet_json.contains("payer_device"));  // what older peers expect, byte for byte
  EXPECT_FALSE(wallet_json.contains("payee_device"));
  const IncomingCredit wallet_back = Must(IncomingCreditFromJson(wallet_json));
  EXPECT_EQ(wallet_back.payee_wallet, "w0000000000000002");
  EXPECT_TRUE(wallet_back.payee_device.empty());
  EXPECT_FALSE(wallet_json.contains("merchant_order_id"));
  IncomingCredit order = wallet;
  order.merchant_id = "ICBC_COFFEE";
  order.merchant_order_id = "A-1001";
  EXPECT_EQ(Must(IncomingCreditFromJson(ToJson(order))).merchant_order_id, "A-1001");

  IncomingCredit purse;
  purse.from_operator = "icbc";
  purse.to_operator = "ccb";
  purse.payment_id = "p2";
  purse.amount_fen = 700;
  purse.payer_device = "watch-a";
  purse.payee_device = "watch-b";
  nlohmann::json purse_json = ToJson(purse);
  EXPECT_EQ(purse_json.at("payee_device"), "watch-b");
  const IncomingCredit purse_back = Must(IncomingCreditFromJson(purse_json));
  EXPECT_EQ(purse_back.payer_device, "watch-a");
  EXPECT_EQ(purse_back.payee_device, "watch-b");
  EXPECT_EQ(purse_back.amount_fen, 700);

  purse_json["payee_device"] = 5;
  const Result<IncomingCredit> bad = IncomingCreditFromJson(purse_json);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("payee_device"), std::string::npos);
  purse_json.erase("payee_device");
  purse_json["payee_devices"] = "watch-b";
  EXPECT_EQ(IncomingCreditFromJson(purse_json).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::dcep
