// End to end on the card rail: POS terminal → network switch → issuer host → ledger, over the
// in-memory links (the same ISO 8583 bytes as TCP), on the seeded demo network.
#include "server/payment_rail.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "acquirer/pos_terminal.h"
#include "demo/demo_keys.h"
#include "iso8583/original_data_elements.h"

namespace tapstack::server {
namespace {

constexpr int kCardsPerBank = 6;

class PaymentRailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-rail-" + std::to_string(::getpid()) + "-" +
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
    terminal_ = std::make_unique<acquirer::PosTerminal>(TerminalFor(0), rail_->acquirer_link(),
                                                        SystemClock::Instance());
  }
  void TearDown() override {
    terminal_.reset();
    rail_.reset();
    std::filesystem::remove_all(dir_);
  }

  acquirer::TerminalConfig TerminalFor(int merchant_index) {
    const demo::DemoMerchant& m = demo_.merchants[static_cast<std::size_t>(merchant_index)];
    return {m.terminal_id, m.merchant_id, m.name + " " + m.city, m.mcc,
            (*CountryByAlpha2(m.country))->numeric, m.acquirer_id};
  }

  acquirer::PurchaseResult Buy(acquirer::PosTerminal& terminal, const std::string& pan, std::int64_t minor,
                               const Currency& currency = Cny()) {
    acquirer::Purchase p = Sale(pan, Amount(minor, currency));
    std::promise<acquirer::PurchaseResult> done;
    terminal.Purchase(p, [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

  Result<iso8583::Message> Send(const iso8583::Message& m) {
    std::promise<Result<iso8583::Message>> done;
    rail_->acquirer_link().Send(m, [&done](Result<iso8583::Message> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

  std::string Card(int bank, int index) { return *PaymentRail::CardNumber(demo_, bank, index); }
  const std::string& BankId(int bank) { return demo_.banks[static_cast<std::size_t>(bank)].institution_id; }
  std::int64_t Available(int bank, int index) {
    return *rail_->issuers().AvailableMinor(BankId(bank), Card(bank, index));
  }

  // A card-not-present sale with the CVV2 printed on the demo card.
  acquirer::Purchase Sale(const std::string& pan, const Amount& amount) {
    acquirer::Purchase p;
    p.pan = pan;
    p.expiry = demo::kDemoCardExpiry;
    p.amount = amount;
    if (const demo::DemoBank* bank = demo_.BankForPan(pan)) {
      auto cvv2 = demo::DemoCardCvv2(bank->institution_id, pan, p.expiry);
      if (cvv2.ok()) p.cvv2 = *cvv2;
    }
    return p;
  }

  std::filesystem::path dir_;
  demo::DemoNetwork demo_;
  std::unique_ptr<PaymentRail> rail_;
  std::unique_ptr<acquirer::PosTerminal> terminal_;
};

TEST_F(PaymentRailTest, ApprovalPlacesAHoldInTheIssuerLedger) {
  const std::int64_t before = Available(0, 0);
  auto r = Buy(*terminal_, Card(0, 0), 12'345);
  ASSERT_TRUE(r.response.ok()) << r.response.status().ToString();
  EXPECT_EQ(r.response_code(), "00");
  EXPECT_EQ(r.response->mti(), "0110");
  EXPECT_EQ(r.response->Get(38)->size(), 6u);
  EXPECT_EQ(Available(0, 0), before - 12'345);
  EXPECT_TRUE(rail_->issuers().ledger().Audit().ok());
}

TEST_F(PaymentRailTest, IssuerRulesDecline) {
  EXPECT_EQ(Buy(*terminal_, Card(0, 0), 600'000).response_code(), "51");  // deposit is 5,000.00
  EXPECT_EQ(Buy(*terminal_, Card(0, 0), 1'000'001).response_code(), "61");  // per-transaction limit
  // In range but never issued (index kCardsPerBank): invalid card number.
  auto unknown = demo::DemoCardNumber(demo_.banks[0], demo::CardKind::kDebit, kCardsPerBank);
  EXPECT_EQ(Buy(*terminal_, *unknown, 100).response_code(), "14");
  ASSERT_TRUE(rail_->issuers().SetCardStatus(BankId(0), Card(0, 2), issuer::CardStatus::kLost).ok());
  EXPECT_EQ(Buy(*terminal_, Card(0, 2), 100).response_code(), "41");
  // Card 3 allows three payments a day.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Buy(*terminal_, Card(0, 3), 100).response_code(), "00");
  EXPECT_EQ(Buy(*terminal_, Card(0, 3), 100).response_code(), "65");
  // Card 1 refuses gambling merchants (MCC 7995).
  acquirer::PosTerminal casino(TerminalFor(10), rail_->acquirer_link(), SystemClock::Instance());
  EXPECT_EQ(Buy(casino, Card(0, 1), 100, **CurrencyByAlpha("MOP")).response_code(), "57");
  // A BIN no bank owns.
  EXPECT_EQ(Buy(*terminal_, "6011000990139424", 100).response_code(), "15");
}

TEST_F(PaymentRailTest, DuplicatesAndRepeats) {
  iso8583::Message request = terminal_->BuildRequest(
      Sale(Card(1, 0), Amount(500, Cny())), "000777");
  auto first = Send(request);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(*first->Get(39), "00");
  auto again = Send(request);  // a second original with the same key
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->Get(39), "94");
  iso8583::Message repeat = request;
  repeat.set_mti("0101");
  auto repeated = Send(repeat);
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(*repeated->Get(39), "00");
  EXPECT_EQ(*repeated->Get(38), *first->Get(38));  // the stored response, not a new approval
  EXPECT_EQ(Available(1, 0), Available(1, 0));
  EXPECT_EQ(rail_->network().stats().duplicates.load(), 1u);
}

TEST_F(PaymentRailTest, ReversalReleasesTheHold) {
  const std::int64_t before = Available(2, 0);
  iso8583::Message request = terminal_->BuildRequest(
      Sale(Card(2, 0), Amount(7'000, Cny())), "000100");
  ASSERT_EQ(*Send(request)->Get(39), "00");
  EXPECT_EQ(Available(2, 0), before - 7'000);
  iso8583::Message reversal("0400");
  for (int f : {2, 3, 4, 7, 11, 32, 41, 42, 49}) reversal.Set(f, *request.Get(f));
  reversal.Set(90, *iso8583::OriginalDataElements{"0100", "000100", std::string(*request.Get(7)),
                                                   std::string(*request.Get(32)), ""}
                        .ToField());
  auto ack = Send(reversal);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->mti(), "0410");
  EXPECT_EQ(*ack->Get(39), "00");
  EXPECT_EQ(Available(2, 0), before);
  // A reversal of something never seen is still acknowledged.
  reversal.Set(11, "000999");
  reversal.Set(90, *iso8583::OriginalDataElements{"0100", "000999", "1121093000", "48020001", ""}.ToField());
  EXPECT_EQ(*Send(reversal)->Get(39), "00");
  EXPECT_TRUE(rail_->issuers().ledger().Audit().ok());
}

TEST_F(PaymentRailTest, StandInWhileTheIssuerIsDownThenAdviceOnReturn) {
  const std::int64_t before = Available(1, 1);  // bank 1 approves within 500.00 in stand-in
  rail_->SetIssuerLinkUp(BankId(1), false);
  auto r = Buy(*terminal_, Card(1, 1), 30'000);
  EXPECT_EQ(r.response_code(), "00");
  ASSERT_TRUE(r.response.ok());
  EXPECT_EQ(r.response->Get(38)->substr(0, 1), "S");
  EXPECT_EQ(Buy(*terminal_, Card(1, 1), 60'000).response_code(), "91");  // above the STIP limit
  EXPECT_EQ(Available(1, 1), before);  // the issuer has not heard of it yet
  EXPECT_EQ(rail_->network().PendingAdvices()[BankId(1)], 1);
  rail_->SetIssuerLinkUp(BankId(1), true);  // delivers the stored advice
  for (int i = 0; i < 200 && rail_->network().PendingAdvices()[BankId(1)] != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(rail_->network().PendingAdvices()[BankId(1)], 0);
  EXPECT_EQ(Available(1, 1), before - 30'000);
  // Bank 4 (index 4, stand-in "basic") declines everything while away.
  rail_->SetIssuerLinkUp(BankId(4), false);
  EXPECT_EQ(Buy(*terminal_, Card(4, 0), 100).response_code(), "91");
}

TEST_F(PaymentRailTest, CrossBorderBillsInTheCardCurrencyAndSettlementNetsToZero) {
  // A Moscow merchant (RUB) and a CNY card: the hold is the converted amount with the markup.
  acquirer::PosTerminal moscow(TerminalFor(4), rail_->acquirer_link(), SystemClock::Instance());
  const std::int64_t before = Available(0, 4);
  auto r = Buy(moscow, Card(0, 4), 100'000, **CurrencyByAlpha("RUB"));  // 1,000.00 RUB
  ASSERT_TRUE(r.response.ok());
  ASSERT_EQ(r.response_code(), "00");
  // 1000 RUB × 0.0790 × 1.01 = 79.79 CNY.
  EXPECT_EQ(*r.response->Get(6), "000000007979");
  EXPECT_EQ(*r.response->Get(51), "156");
  EXPECT_EQ(Available(0, 4), before - 7'979);
  ASSERT_EQ(Buy(*terminal_, Card(1, 4), 2'500).response_code(), "00");

  auto report = rail_->network().CutOff();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 2);
  std::map<std::string, std::int64_t> sum;
  for (const auto& p : report->positions) sum[p.currency] += p.net_minor;
  for (const auto& [currency, total] : sum) EXPECT_EQ(total, 0) << currency;
  EXPECT_TRUE(sum.contains("RUB"));
  EXPECT_TRUE(sum.contains("CNY"));
  auto next = rail_->network().CutOff();  // nothing left for the next cycle
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->records, 0);
}

TEST_F(PaymentRailTest, MissingFieldIsAFormatError) {
  iso8583::Message m = terminal_->BuildRequest(
      Sale(Card(0, 0), Amount(100, Cny())), "000200");
  m.Clear(49);
  auto r = Send(m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->Get(39), "30");
  EXPECT_EQ(*r->Get(44), "DE49 missing");
}

}  // namespace
}  // namespace tapstack::server
