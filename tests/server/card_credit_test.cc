// Credits to a card end to end on the card rail (POS terminal → network switch → issuer host →
// ledger, in-memory links carrying ISO 8583 bytes, the seeded demo network): a merchant's partial
// refund of a purchase, a wallet's withdrawal to a card whose answer is lost (reversed), and a
// refund while the card's bank is away (never stood in for); each batch then reconciles in balance.
// Then a wallet platform's card rail (NetworkCardRail) on the network's answers to its credits.
#include "server/payment_rail.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "acquirer/pos_terminal.h"
#include "demo/demo_keys.h"
#include "iso8583/response.h"
#include "link/in_memory_link.h"
#include "server/qr_rails.h"

namespace tapstack::server {
namespace {

constexpr int kCardsPerBank = 4;

// A link to the switch that can lose the next response: the request is handled, but the terminal
// hears nothing (a timeout), so the outcome is unknown to it.
class LosingLink final : public link::RequestSender {
 public:
  explicit LosingLink(link::RequestSender& inner) : inner_(inner) {}
  void Send(iso8583::Message request, link::ResponseCallback done) override {
    if (lose_next_response.exchange(false)) {
      return inner_.Send(std::move(request), [done = std::move(done)](Result<iso8583::Message>) {
        done(Unavailable("response timed out"));
      });
    }
    inner_.Send(std::move(request), std::move(done));
  }
  bool ready() const override { return inner_.ready(); }

  std::atomic<bool> lose_next_response{false};

 private:
  link::RequestSender& inner_;
};

class CardCreditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-credit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto demo = demo::LoadDemoNetwork(*demo::DefaultSeedPath());
    ASSERT_TRUE(demo.ok()) << demo.status().ToString();
    demo_ = std::move(*demo);
    PaymentRailOptions options;
    options.data_dir = dir_;
    options.cards_per_bank = kCardsPerBank;
    auto rail = PaymentRail::Start(demo_, options);
    ASSERT_TRUE(rail.ok()) << rail.status().ToString();
    rail_ = std::move(*rail);
    link_ = std::make_unique<LosingLink>(rail_->acquirer_link());
    const demo::DemoMerchant& m = demo_.merchants[0];  // a CNY merchant
    terminal_ = std::make_unique<acquirer::PosTerminal>(
        acquirer::TerminalConfig{m.terminal_id, m.merchant_id, m.name + " " + m.city, m.mcc,
                                 (*CountryByAlpha2(m.country))->numeric, m.acquirer_id},
        *link_, SystemClock::Instance());
  }
  void TearDown() override {
    terminal_.reset();
    link_.reset();
    rail_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Card(int bank, int index) { return *PaymentRail::CardNumber(demo_, bank, index); }
  const std::string& BankId(int bank) {
    return demo_.banks[static_cast<std::size_t>(bank)].institution_id;
  }
  std::int64_t Available(int bank, int index) {
    return *rail_->issuers().AvailableMinor(BankId(bank), Card(bank, index));
  }

  acquirer::PurchaseResult Run(const acquirer::Purchase& p) {
    std::promise<acquirer::PurchaseResult> done;
    terminal_->Purchase(p, [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
  // A card-not-present sale (0200) with the CVV2 printed on the demo card.
  acquirer::PurchaseResult Sell(const std::string& pan, std::int64_t minor) {
    acquirer::Purchase p;
    p.pan = pan;
    p.expiry = demo::kDemoCardExpiry;
    p.amount = Amount(minor, Cny());
    p.single_message = true;
    const demo::DemoBank* bank = demo_.BankForPan(pan);
    if (bank != nullptr) p.cvv2 = *demo::DemoCardCvv2(bank->institution_id, pan, p.expiry);
    return Run(p);
  }
  // A credit to the card: an 0200 with DE3 200000; no CVV2 (the merchant or wallet has none).
  acquirer::PurchaseResult Credit(const std::string& pan, std::int64_t minor) {
    acquirer::Purchase p;
    p.pan = pan;
    p.amount = Amount(minor, Cny());
    p.single_message = true;
    p.processing_code = std::string(acquirer::kProcessingRefund);
    return Run(p);
  }

  network::ReconciliationTotals TerminalTotals() {
    auto totals = terminal_->totals().by_currency;
    return totals.contains("CNY") ? totals["CNY"] : network::ReconciliationTotals{};
  }
  Result<acquirer::ReconciliationResult> CloseBatch() {
    std::promise<Result<acquirer::ReconciliationResult>> done;
    terminal_->CloseBatch(
        Cny(), [&done](Result<acquirer::ReconciliationResult> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
  void ExpectLedgerAudited() {
    Status audit = rail_->issuers().ledger().Audit();
    EXPECT_TRUE(audit.ok()) << audit.ToString();
  }

  std::filesystem::path dir_;
  demo::DemoNetwork demo_;
  std::unique_ptr<PaymentRail> rail_;
  std::unique_ptr<LosingLink> link_;
  std::unique_ptr<acquirer::PosTerminal> terminal_;
};

TEST_F(CardCreditTest, PurchaseThenPartialRefundBalancesEverywhere) {
  const std::int64_t before = Available(0, 0);
  auto sale = Sell(Card(0, 0), 10'000);
  ASSERT_TRUE(sale.response.ok()) << sale.response.status().ToString();
  ASSERT_EQ(sale.response_code(), "00");
  EXPECT_EQ(Available(0, 0), before - 10'000);

  auto refund = Credit(Card(0, 0), 3'000);
  ASSERT_TRUE(refund.response.ok()) << refund.response.status().ToString();
  EXPECT_EQ(refund.response_code(), "00");
  EXPECT_EQ(refund.response->mti(), "0210");
  EXPECT_EQ(*refund.response->Get(3), "200000");
  EXPECT_EQ(refund.response->Get(38)->size(), 6u);
  // The card got the refunded part back, no more.
  EXPECT_EQ(Available(0, 0), before - 7'000);

  // The terminal counts a debit and a credit, not a smaller sale.
  network::ReconciliationTotals expected;
  expected.debits = 1;
  expected.debits_minor = 10'000;
  expected.credits = 1;
  expected.credits_minor = 3'000;
  EXPECT_EQ(TerminalTotals(), expected) << TerminalTotals().ToString();
  EXPECT_EQ(terminal_->totals().approved_minor["CNY"], 10'000);
  auto records = rail_->network().ClearingRecords({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_FALSE((*records)[0].credit);
  EXPECT_TRUE((*records)[1].credit);

  auto closed = CloseBatch();
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_TRUE(closed->in_balance) << closed->network.ToString();
  EXPECT_EQ(closed->network, expected);
  EXPECT_EQ(*closed->response.Get(97), "C0000000000007000");
  EXPECT_EQ(TerminalTotals(), network::ReconciliationTotals{});

  // Settlement: the net 70.00 moves from the card's bank to the merchant's, nets to zero.
  auto report = rail_->network().CutOff();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 2);
  std::int64_t net = 0;
  std::int64_t acquired = 0;
  for (const auto& p : report->positions) {
    net += p.net_minor;
    acquired += p.as_acquirer_minor;
  }
  EXPECT_EQ(net, 0);
  EXPECT_EQ(acquired, 7'000);
  ExpectLedgerAudited();
}

TEST_F(CardCreditTest, WithdrawalToACardWhoseAnswerIsLostIsReversed) {
  // A wallet's withdrawal to a card (a credit without a purchase before it).
  const std::int64_t before = Available(2, 0);
  link_->lose_next_response = true;
  auto lost = Credit(Card(2, 0), 20'000);
  EXPECT_FALSE(lost.response.ok());
  // The terminal reverses it; once acknowledged both sides count a credit and its reversal.
  for (int i = 0; i < 500 && TerminalTotals().credit_reversals == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  network::ReconciliationTotals expected;
  expected.credits = 1;
  expected.credits_minor = 20'000;
  expected.credit_reversals = 1;
  expected.credit_reversals_minor = 20'000;
  EXPECT_EQ(TerminalTotals(), expected) << TerminalTotals().ToString();
  EXPECT_EQ(terminal_->reversals_sent(), 1u);
  // The issuer had posted it; the reversal took it back.
  EXPECT_EQ(Available(2, 0), before);
  auto closed = CloseBatch();
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_TRUE(closed->in_balance) << closed->network.ToString();
  // A withdrawal that is answered stays.
  auto paid = Credit(Card(2, 0), 5'000);
  EXPECT_EQ(paid.response_code(), "00");
  EXPECT_EQ(Available(2, 0), before + 5'000);
  ExpectLedgerAudited();
}

TEST_F(CardCreditTest, RefundWhileTheCardsBankIsAwayIsNotStoodIn) {
  // Bank 1 approves sales up to 500.00 in stand-in; a refund is its own to accept.
  const std::int64_t before = Available(1, 0);
  rail_->SetIssuerLinkUp(BankId(1), false);
  auto refund = Credit(Card(1, 0), 1'000);
  ASSERT_TRUE(refund.response.ok()) << refund.response.status().ToString();
  EXPECT_EQ(refund.response_code(), "91");
  EXPECT_EQ(Sell(Card(1, 0), 1'000).response_code(), "00");  // the sale is stood in for
  EXPECT_EQ(TerminalTotals().credits, 0);
  EXPECT_EQ(rail_->network().PendingAdvices()[BankId(1)], 1);  // the sale's advice only
  rail_->SetIssuerLinkUp(BankId(1), true);
  for (int i = 0; i < 500 && rail_->network().PendingAdvices()[BankId(1)] != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Available(1, 0), before - 1'000);
  // Back: the refund now goes through.
  EXPECT_EQ(Credit(Card(1, 0), 1'000).response_code(), "00");
  EXPECT_EQ(Available(1, 0), before);
  auto closed = CloseBatch();
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_TRUE(closed->in_balance) << closed->network.ToString();
  ExpectLedgerAudited();
}

// The network as the wallet platform's card rail sees it: answers each 0200 with the next DE39
// the test queued (then "00"), and acknowledges anything else.
class AnsweringNetwork final : public link::MessageHandler {
 public:
  void OnRequest(iso8583::Message request, link::Reply reply) override {
    std::string code = "00";
    if (request.mti() == "0200") {
      std::lock_guard lock(mu_);
      ++credits_;
      if (!codes_.empty()) {
        code = codes_.front();
        codes_.erase(codes_.begin());
      }
    }
    iso8583::Message response = iso8583::ResponseTo(request, code);
    if (code == "00") response.Set(38, "A00001");
    reply(std::move(response));
  }
  void Answer(std::vector<std::string> codes) {
    std::lock_guard lock(mu_);
    codes_ = std::move(codes);
  }
  int credits() const {
    std::lock_guard lock(mu_);
    return credits_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> codes_;
  int credits_ = 0;
};

TEST(NetworkCardRailCreditTest, IssuerUnavailableOrMalfunctionIsAnUnknownOutcomeNotARefusal) {
  AnsweringNetwork network;
  link::InMemoryLink link(network);
  auto rail = NetworkCardRail::Create({.link = &link, .acquirer_id = "48100000"});
  ASSERT_TRUE(rail.ok()) << rail.status().ToString();
  qrpay::CardCredit credit;
  credit.credit_id = "withdrawal-1";
  credit.token = "6500000000000009";
  credit.token_expiry = "2812";
  credit.amount = Amount(20'000, Cny());
  credit.merchant = {"wallet", "Tapstack wallet", "Shanghai", "CN", "6012"};

  // "91" (the issuer did not answer: the network reversed what it forwarded) and "96": the caller
  // must keep its hold and retry, not give the money back.
  network.Answer({"91", "96"});
  for (const char* code : {"91", "96"}) {
    const Result<std::string> unknown = (*rail)->Credit(credit);
    EXPECT_EQ(unknown.status().code(), ErrorCode::kUnavailable) << code;
    EXPECT_NE(unknown.status().message().find(std::string("DE39 ") + code), std::string::npos)
        << unknown.status().ToString();
  }
  // A refusal is final.
  network.Answer({"05", "14"});
  for (const char* code : {"05", "14"}) {
    EXPECT_EQ((*rail)->Credit(credit).status().code(), ErrorCode::kFailedPrecondition) << code;
  }
  // The retry under the same credit id is approved, and a later call returns its reference
  // without another 0200.
  const Result<std::string> paid = (*rail)->Credit(credit);
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(network.credits(), 5);
  const Result<std::string> again = (*rail)->Credit(credit);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *paid);
  EXPECT_EQ(network.credits(), 5);
}

}  // namespace
}  // namespace tapstack::server
