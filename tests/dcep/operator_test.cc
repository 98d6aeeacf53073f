// Operator: wallets and tiers, exchange, same-operator payments, every limit refusal, idempotent
// retries, history, offline purses, controllable anonymity, and kill-style reopen.
#include "dcep/operator.h"

#include <gtest/gtest.h>

#include "dcep_test_util.h"

namespace tapstack::dcep {
namespace {

using testing::DcepTest;
using testing::Must;

class OperatorTest : public DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    OpenNetwork();
  }
  Result<Entry> PayLocal(const std::string& from, const std::string& to, std::int64_t amount,
                         const std::string& key) {
    PaymentOrder order;
    order.payer_wallet = from;
    order.payee_wallet = to;
    order.amount_fen = amount;
    order.idempotency_key = key;
    return Op("icbc").Pay(order);
  }
  std::int64_t Balance(const std::string& wallet) {
    return Must(Op("icbc").Wallet(wallet)).balance_fen;
  }
};

TEST_F(OperatorTest, OpenWalletIsPseudonymousAndIdempotent) {
  const WalletInfo w = Must(Op("icbc").OpenWallet({"13800138000", "", "", "", false}, "open-1"));
  EXPECT_EQ(w.wallet_id.size(), kWalletIdChars);
  EXPECT_EQ(w.wallet_id[0], 'w');
  EXPECT_EQ(w.wallet_id.find("13800138000"), std::string::npos);
  EXPECT_EQ(w.tier, 4);
  EXPECT_EQ(w.limits.balance_max_fen, 1'000'000);
  // Same key, same evidence: the same wallet.
  EXPECT_EQ(Must(Op("icbc").OpenWallet({"13800138000", "", "", "", false}, "open-1")).wallet_id,
            w.wallet_id);
  // Same key, other evidence: refused.
  auto reused = Op("icbc").OpenWallet({"13900139000", "", "", "", false}, "open-1");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(reused.status().message(), kKeyReusedMessage);
  // Other key, same phone: one wallet per phone per operator.
  auto twice = Op("icbc").OpenWallet({"13800138000", "", "", "", false}, "open-2");
  EXPECT_EQ(twice.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Op("icbc").OpenWallet({"12ab", "", "", "", false}, "open-3").status().message(),
            "phone: expected 5-15 digits, optionally after '+'");
  // Another operator may open a wallet for the same phone.
  EXPECT_TRUE(Op("ccb").OpenWallet({"13800138000", "", "", "", false}, "open-1").ok());
}

TEST_F(OperatorTest, ExchangeInAndOutMovesFloat) {
  const std::string w = FundedWallet("icbc", "13800000001", 50'000);
  EXPECT_EQ(Balance(w), 50'000);
  const Entry out = Must(Op("icbc").Exchange(w, 20'000, /*to_deposit=*/true, "redeem-1"));
  EXPECT_EQ(out.kind, "exchange_out");
  EXPECT_EQ(Balance(w), 30'000);
  auto empty = Op("icbc").Exchange(w, 30'001, true, "redeem-2");
  EXPECT_EQ(empty.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(empty.status().message(), "balance: 30000 fen available, 30001 fen requested");
  // Without float, a deposit cannot become e-CNY.
  const WalletInfo poor = Must(Op("ccb").OpenWallet({"13800000002", "", "", "", false}, "o"));
  auto no_float = Op("ccb").Exchange(poor.wallet_id, 1, false, "x");
  EXPECT_EQ(no_float.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(no_float.status().message().rfind("float: ", 0), 0u);
  const OperatorAudit audit = Must(Op("icbc").Audit());
  EXPECT_EQ(audit.wallets_fen, 30'000);
  EXPECT_EQ(audit.position_fen, audit.float_fen + audit.wallets_fen);
  ExpectNetworkBalanced();
}

TEST_F(OperatorTest, SameOperatorPaymentIsOneTransferAndIdempotent) {
  const std::string a = FundedWallet("icbc", "13800000001", 100'000);
  const std::string b = FundedWallet("icbc", "13800000002", 0);
  const Entry paid = Must(PayLocal(a, b, 12'345, "pay-1"));
  EXPECT_EQ(paid.kind, "payment");
  EXPECT_EQ(paid.status, "posted");
  EXPECT_FALSE(paid.replayed);
  EXPECT_EQ(Balance(a), 100'000 - 12'345);
  EXPECT_EQ(Balance(b), 12'345);
  // A retry answers the first outcome and charges nothing more.
  const Entry again = Must(PayLocal(a, b, 12'345, "pay-1"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.entry_id, paid.entry_id);
  EXPECT_EQ(Balance(a), 100'000 - 12'345);
  // The same key with another body is refused.
  auto reused = PayLocal(a, b, 1, "pay-1");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Balance(b), 12'345);
  EXPECT_EQ(PayLocal(a, a, 1, "self").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(PayLocal(a, "w0000000000000000", 1, "nobody").status().code(), ErrorCode::kNotFound);
  ExpectNetworkBalanced();
}

TEST_F(OperatorTest, EveryTierLimitIsRefusedNamingLimitAndAmounts) {
  const std::string payer = FundedWallet("icbc", "13800000001", 1'000'000);  // tier 4 at its cap
  const std::string payee = FundedWallet("icbc", "13800000002", 900'000);
  // Balance cap of the receiver (exchange: the holder sees the amounts).
  auto cap = Op("icbc").Exchange(payer, 1, false, "over-cap");
  EXPECT_EQ(cap.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(cap.status().message(),
            "balance_max_fen: tier 4 wallets hold at most 1000000 fen; balance 1000000 fen, "
            "adding 1 fen");
  // Per payment.
  auto per_payment = PayLocal(payer, payee, 200'001, "big");
  EXPECT_EQ(per_payment.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(per_payment.status().message(),
            "payment_max_fen: tier 4 allows 200000 fen per payment; requested 200001 fen");
  // Payee's cap: the payer does not learn the payee's balance.
  auto payee_cap = PayLocal(payer, payee, 100'001, "to-full");
  EXPECT_EQ(payee_cap.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(payee_cap.status().message(),
            "balance_max_fen: the payee's tier 4 wallet (at most 1000000 fen) cannot receive "
            "100001 fen");
  // Daily: 500,000 a day, counted over payments that went through.
  const std::string sink = FundedWallet("icbc", "13800000003", 0, /*real_name=*/true);  // tier 2
  for (int i = 0; i < 2; ++i) Must(PayLocal(payer, sink, 200'000, "d" + std::to_string(i)));
  Must(PayLocal(payer, sink, 100'000, "d2"));
  auto daily = PayLocal(payer, sink, 1, "d3");
  EXPECT_EQ(daily.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(daily.status().message(),
            "daily_max_fen: tier 4 allows 500000 fen a day; 500000 fen spent today, 1 fen "
            "requested");
  // Refusals are remembered per key (same body → same refusal, even after the day turns).
  clock_.AdvanceMillis(24 * testing::kHourMillis);
  EXPECT_EQ(PayLocal(payer, sink, 1, "d3").status().message(), daily.status().message());
  // A new key on the new day goes through.
  EXPECT_TRUE(PayLocal(payer, sink, 1, "d4").ok());
  EXPECT_EQ(Must(Op("icbc").Wallet(payer)).spent_today_fen, 1);
  // Upgrading the tier lifts the limits.
  const WalletInfo up = Must(Op("icbc").UpgradeTier(
      payer, {"13800000001", "Han Meimei", "110101199202021234", "", false}, "kyc-1"));
  EXPECT_EQ(up.tier, 3);
  EXPECT_TRUE(PayLocal(payer, sink, 400'000, "after-kyc").ok());
  // An upgrade must present the wallet's phone.
  EXPECT_EQ(Op("icbc")
                .UpgradeTier(payer, {"13999999999", "X", "1", "", false}, "kyc-2")
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  ExpectNetworkBalanced();
}

TEST_F(OperatorTest, InsufficientBalanceNamesAmounts) {
  const std::string a = FundedWallet("icbc", "13800000001", 100);
  const std::string b = FundedWallet("icbc", "13800000002", 0);
  auto refused = PayLocal(a, b, 101, "p");
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "balance: 100 fen available, 101 fen requested");
  EXPECT_EQ(Balance(a), 100);
}

TEST_F(OperatorTest, DailyLimitSurvivesRestartAndResetsAtBeijingMidnight) {
  const std::string payer = FundedWallet("icbc", "13800000001", 600'000);
  const std::string payee = FundedWallet("icbc", "13800000002", 0, true);
  Must(PayLocal(payer, payee, 200'000, "a"));
  Must(PayLocal(payer, payee, 200'000, "b"));
  ASSERT_OK(network_->ReopenOperator("icbc"));
  EXPECT_EQ(Must(Op("icbc").Wallet(payer)).spent_today_fen, 400'000);
  EXPECT_EQ(PayLocal(payer, payee, 100'001, "c").status().code(), ErrorCode::kOutOfRange);
  // 10:00 + 13 h 59 min = 23:59 Beijing: still today.
  clock_.AdvanceMillis(13 * testing::kHourMillis + 59 * 60'000);
  EXPECT_EQ(PayLocal(payer, payee, 100'001, "c2").status().code(), ErrorCode::kOutOfRange);
  clock_.AdvanceMillis(60'000);  // midnight in Beijing (16:00 UTC)
  EXPECT_TRUE(PayLocal(payer, payee, 100'001, "c3").ok());
}

TEST_F(OperatorTest, PayBatchCommitsManyAndAnswersEach) {
  std::vector<std::string> wallets;
  for (int i = 0; i < 4; ++i) {
    wallets.push_back(FundedWallet("icbc", "1380000000" + std::to_string(i), 10'000, true));
  }
  std::vector<PaymentOrder> orders;
  for (int i = 0; i < 100; ++i) {
    PaymentOrder o;
    o.payer_wallet = wallets[static_cast<std::size_t>(i % 4)];
    o.payee_wallet = wallets[static_cast<std::size_t>((i + 1) % 4)];
    o.amount_fen = 100;
    o.idempotency_key = "batch-" + std::to_string(i);
    orders.push_back(o);
  }
  orders.push_back(orders[3]);  // a duplicate inside the batch
  PaymentOrder bad = orders[0];
  bad.amount_fen = -5;
  bad.idempotency_key = "bad";
  orders.push_back(bad);
  auto results = Must(Op("icbc").PayBatch(orders));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(results[static_cast<std::size_t>(i)].ok()) << i;
  EXPECT_TRUE(results[100]->replayed);
  EXPECT_EQ(results[100]->entry_id, results[3]->entry_id);
  EXPECT_EQ(results[101].status().code(), ErrorCode::kInvalidArgument);
  for (const std::string& w : wallets) EXPECT_EQ(Balance(w), 10'000);  // a ring: net zero
  EXPECT_EQ(Must(Op("icbc").History(wallets[0], 0, 200)).entries.size(), 1u + 25 + 25);
  ExpectNetworkBalanced();
}

TEST_F(OperatorTest, HistoryIsNewestFirstAndPaged) {
  const std::string a = FundedWallet("icbc", "13800000001", 10'000);
  const std::string b = FundedWallet("icbc", "13800000002", 0);
  for (int i = 1; i <= 5; ++i) Must(PayLocal(a, b, i, "h" + std::to_string(i)));
  const HistoryPage first = Must(Op("icbc").History(a, 0, 4));
  ASSERT_EQ(first.entries.size(), 4u);
  EXPECT_EQ(first.entries[0].amount_fen, 5);
  EXPECT_EQ(first.entries[3].amount_fen, 2);
  ASSERT_NE(first.next_before, 0);
  const HistoryPage second = Must(Op("icbc").History(a, first.next_before, 4));
  ASSERT_EQ(second.entries.size(), 2u);
  EXPECT_EQ(second.entries[0].amount_fen, 1);
  EXPECT_EQ(second.entries[1].kind, "exchange_in");
  EXPECT_EQ(second.next_before, 0);
  EXPECT_EQ(Must(Op("icbc").History(b, 0, 10)).entries.size(), 5u);
  EXPECT_EQ(Op("icbc").History(a, 0, 0).status().code(), ErrorCode::kInvalidArgument);
}

// History walks each wallet's chain of journal rows (dcep_entries.*_prev_seq): across a reopen
// (the heads are rebuilt from the table), past a row whose debit and credit are the same wallet,
// and from a cursor that is not one of the wallet's rows.
TEST_F(OperatorTest, HistoryFollowsEachWalletsChainAcrossReopenAndFromAnyCursor) {
  const std::string a = FundedWallet("icbc", "13800000001", 10'000);
  const std::string b = FundedWallet("icbc", "13800000002", 0);
  Must(PayLocal(a, b, 1, "h1"));
  const std::string c = FundedWallet("icbc", "13800000003", 500);  // a row that is not a's
  Must(PayLocal(a, b, 2, "h2"));
  Must(Op("icbc").FundOfflinePurse(a, "watch-01", 300, "f1"));
  Must(Op("icbc").FundOfflinePurse(a, "watch-02", 300, "f2"));
  // watch-01 → watch-02: both purses are a's, so the row's debit and credit wallet are a.
  ASSERT_OK(Op("icbc").MovePurseValue("watch-01", "watch-02", "icbc", 100, "m1"));
  ASSERT_OK(network_->ReopenOperator("icbc"));
  Must(PayLocal(a, b, 3, "h3"));
  Must(PayLocal(c, b, 4, "h4"));

  const HistoryPage all = Must(Op("icbc").History(a, 0, 200));
  std::vector<std::string> kinds;
  for (const Entry& e : all.entries) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"payment", "purse_move", "purse_fund", "purse_fund",
                                             "payment", "payment", "exchange_in"}));
  for (std::size_t i = 1; i < all.entries.size(); ++i) {
    EXPECT_LT(all.entries[i].seq, all.entries[i - 1].seq);
  }
  EXPECT_EQ(all.next_before, 0);
  // Page by page, one row each, gives the same rows.
  std::vector<std::int64_t> paged;
  for (std::int64_t before = 0;;) {
    const HistoryPage page = Must(Op("icbc").History(a, before, 1));
    ASSERT_EQ(page.entries.size(), 1u);
    paged.push_back(page.entries[0].seq);
    if (page.next_before == 0) break;
    before = page.next_before;
  }
  ASSERT_EQ(paged.size(), all.entries.size());
  for (std::size_t i = 0; i < paged.size(); ++i) EXPECT_EQ(paged[i], all.entries[i].seq);
  // A cursor at c's exchange (not a's row): a's rows older than it.
  const HistoryPage of_c = Must(Op("icbc").History(c, 0, 10));
  ASSERT_EQ(of_c.entries.size(), 2u);
  const HistoryPage older = Must(Op("icbc").History(a, of_c.entries[1].seq, 10));
  ASSERT_EQ(older.entries.size(), 2u);
  EXPECT_EQ(older.entries[0].amount_fen, 1);
  EXPECT_EQ(older.entries[1].kind, "exchange_in");
  EXPECT_EQ(Must(Op("icbc").History(b, 0, 10)).entries.size(), 4u);
  ExpectNetworkBalanced();
}

TEST_F(OperatorTest, OfflinePurseFundAndDefund) {
  const std::string w = FundedWallet("icbc", "13800000001", 10'000);
  const std::string other = FundedWallet("icbc", "13800000002", 10'000);
  Must(Op("icbc").FundOfflinePurse(w, "watch-01", 3'000, "f1"));
  EXPECT_TRUE(Must(Op("icbc").FundOfflinePurse(w, "watch-01", 3'000, "f1")).replayed);
  EXPECT_EQ(Must(Op("icbc").OfflinePurseBalance("watch-01")), 3'000);
  EXPECT_EQ(Balance(w), 7'000);
  EXPECT_EQ(Op("icbc").FundOfflinePurse(other, "watch-01", 1, "f2").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Op("icbc").DefundOfflinePurse(w, "watch-01", 3'001, "d1").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Op("icbc").FundOfflinePurse(w, "Watch 01", 1, "f3").status().code(),
            ErrorCode::kInvalidArgument);
  Must(Op("icbc").DefundOfflinePurse(w, "watch-01", 1'000, "d2"));
  EXPECT_EQ(Must(Op("icbc").OfflinePurseBalance("watch-01")), 2'000);
  EXPECT_EQ(Balance(w), 8'000);
  const OperatorAudit audit = Must(Op("icbc").Audit());
  EXPECT_EQ(audit.purses_fen, 2'000);
  ExpectNetworkBalanced();
}

TEST_F(OperatorTest, CounterpartySeesOnlyWhatTheTierAllows) {
  const WalletInfo anon = Must(Op("icbc").OpenWallet({"13800138000", "", "", "", false}, "a"));
  const CounterpartyView v4 = Must(Op("icbc").ViewForCounterparty(anon.wallet_id));
  EXPECT_EQ(v4.tier, 4);
  EXPECT_FALSE(v4.name.has_value());
  EXPECT_FALSE(v4.phone.has_value());
  const WalletInfo named = Must(Op("icbc").OpenWallet(
      {"13900139000", "王小明", "110101199001011234", "", false}, "b"));
  const CounterpartyView v3 = Must(Op("icbc").ViewForCounterparty(named.wallet_id));
  EXPECT_EQ(v3.name.value_or(""), "王*");
  EXPECT_EQ(v3.phone.value_or(""), "139****9000");
  const CounterpartyView shop =
      Must(Op("icbc").ViewForCounterparty(MerchantWalletId("icbc", "m-beijing-coffee")));
  EXPECT_EQ(shop.name.value_or(""), "Beijing Coffee Roasters");
  EXPECT_EQ(shop.merchant_id.value_or(""), "m-beijing-coffee");
}

TEST_F(OperatorTest, MerchantPaymentSameOperator) {
  const std::string a = FundedWallet("icbc", "13800000001", 5'000);
  PaymentOrder order;
  order.payer_wallet = a;
  order.merchant_id = "m-beijing-coffee";
  order.amount_fen = 3'200;
  order.idempotency_key = "latte";
  const Entry e = Must(Op("icbc").Pay(order));
  EXPECT_EQ(e.kind, "payment");
  EXPECT_EQ(e.merchant_id, "m-beijing-coffee");
  EXPECT_EQ(Must(Op("icbc").Wallet(MerchantWalletId("icbc", "m-beijing-coffee"))).balance_fen,
            3'200);
  order.merchant_id = "m-nowhere";
  order.idempotency_key = "x";
  EXPECT_EQ(Op("icbc").Pay(order).status().code(), ErrorCode::kNotFound);
}

TEST_F(OperatorTest, MerchantOrdersArePaidOnceAcrossWalletsBatchesAndRestarts) {
  const std::string a = FundedWallet("icbc", "13800000001", 5'000);
  const std::string b = FundedWallet("icbc", "13800000002", 5'000);
  auto order_of = [](const std::string& payer, const std::string& order, const std::string& key) {
    PaymentOrder o;
    o.payer_wallet = payer;
    o.merchant_id = "m-beijing-coffee";
    o.merchant_order_id = order;
    o.amount_fen = 1'000;
    o.idempotency_key = key;
    return o;
  };
  const Entry first = Must(Op("icbc").Pay(order_of(a, "T-1", "k1")));
  // The same wallet again under another key: its first payment, nothing charged.
  const Entry again = Must(Op("icbc").Pay(order_of(a, "T-1", "k2")));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.entry_id, first.entry_id);
  // Another wallet: refused, naming the field.
  const Result<Entry> other = Op("icbc").Pay(order_of(b, "T-1", "k3"));
  EXPECT_EQ(other.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(other.status().message().rfind("merchant_order_id: order T-1", 0), 0u)
      << other.status().message();
  // One batch paying one order twice: the first pays, the second is refused.
  const std::vector<PaymentOrder> batch = {order_of(b, "T-2", "k4"), order_of(a, "T-2", "k5")};
  const std::vector<Result<Entry>> results = Must(Op("icbc").PayBatch(batch));
  EXPECT_TRUE(results[0].ok()) << results[0].status().ToString();
  EXPECT_EQ(results[1].status().code(), ErrorCode::kAlreadyExists);
  // Bad order ids, and an order without a merchant.
  EXPECT_EQ(Op("icbc").Pay(order_of(a, "T 3", "k6")).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Op("icbc").Pay(order_of(a, std::string(26, 'T'), "k7")).status().code(),
            ErrorCode::kInvalidArgument);
  PaymentOrder to_wallet = order_of(a, "T-4", "k8");
  to_wallet.merchant_id.clear();
  to_wallet.payee_wallet = b;
  EXPECT_EQ(Op("icbc").Pay(to_wallet).status().code(), ErrorCode::kInvalidArgument);
  // The register is durable.
  ASSERT_OK(network_->ReopenOperator("icbc"));
  EXPECT_EQ(Op("icbc").Pay(order_of(b, "T-1", "k9")).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Balance(a), 5'000 - 1'000);
  EXPECT_EQ(Balance(b), 5'000 - 1'000);
  EXPECT_EQ(Balance(MerchantWalletId("icbc", "m-beijing-coffee")), 2'000);
  ExpectNetworkBalanced();
}

TEST_F(OperatorTest, KillStyleReopenKeepsEverything) {
  const std::string a = FundedWallet("icbc", "13800000001", 50'000);
  const std::string b = FundedWallet("icbc", "13800000002", 0);
  Must(PayLocal(a, b, 1'000, "k1"));
  Must(Op("icbc").FundOfflinePurse(a, "card-7", 500, "f"));
  ASSERT_OK(network_->ReopenOperator("icbc"));
  EXPECT_EQ(Balance(a), 50'000 - 1'000 - 500);
  EXPECT_EQ(Balance(b), 1'000);
  EXPECT_EQ(Must(Op("icbc").OfflinePurseBalance("card-7")), 500);
  EXPECT_TRUE(Must(PayLocal(a, b, 1'000, "k1")).replayed);
  EXPECT_EQ(Balance(a), 48'500);
  // The central bank, reopened too, agrees.
  network_.reset();
  OpenNetwork();
  EXPECT_EQ(Balance(b), 1'000);
  ExpectNetworkBalanced();
}

}  // namespace
}  // namespace tapstack::dcep
