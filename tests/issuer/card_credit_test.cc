// Credits to a card (0200 with DE3 "20": refunds, a wallet's withdrawal to the card) at the
// IssuerHost, driven directly with ISO 8583 messages: posted once, refused only for what cannot be
// credited, reversed once (also when the reversal comes first or the money is already spent).
#include "issuer/issuer_host.h"
#include "issuer_test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "crypto/hash.h"
#include "iso8583/original_data_elements.h"

namespace tapstack::issuer {
namespace {

namespace rc = response_code;

constexpr char kAcquirer[] = "48021111";
constexpr char kTerminal[] = "TERM0001";
constexpr char kExpiry[] = "2912";
constexpr char kCredit[] = "200000";
constexpr char kPurchase[] = "000000";
constexpr char kCardNotPresent[] = "812";
constexpr char kContactless[] = "071";

using testing::Digits;
using testing::kBank;
using testing::kPlainBank;
using testing::MakePan;

class CardCreditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-issuer-credit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    OpenHost();
    std::vector<NewCard> cards;
    auto card = [&cards](const std::string& pan, std::int64_t opening) -> NewCard& {
      NewCard c;
      c.institution_id = pan.starts_with("622202") ? kPlainBank : kBank;
      c.pan = pan;
      c.expiry = kExpiry;
      c.opening_balance_minor = opening;
      cards.push_back(c);
      return cards.back();
    };
    card(Debit(), 100'000);
    card(Poor(), 1'000);
    card(CreditCard(), 50'000).type = CardType::kCredit;  // a 500.00 credit line
    NewCard& limited = card(Limited(), 100'000);
    limited.per_transaction_limit_minor = 10'000;
    limited.daily_limit_minor = 10'000;
    limited.daily_transactions_max = 1;
    limited.blocked_mccs = {"5411"};
    card(Expired(), 0).expiry = "2512";  // the clock says January 2026
    card(Plain(), 0);
    ASSERT_TRUE(host_->IssueCards(cards).ok());
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenHost() {
    host_.reset();
    IssuerOptions options;
    options.data_dir = dir_;
    options.clock = &clock_;
    auto host = IssuerHost::Open(options, testing::TwoTestBanks());
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    host_ = std::move(*host);
  }

  static std::string Debit() { return MakePan("62220100", 1); }
  static std::string Poor() { return MakePan("62220100", 2); }
  static std::string CreditCard() { return MakePan("62220100", 3); }
  static std::string Limited() { return MakePan("62220100", 4); }
  static std::string Expired() { return MakePan("62220100", 5); }
  static std::string Plain() { return MakePan("62220200", 1); }
  static std::string BankOf(const std::string& pan) {
    return pan.starts_with("622202") ? kPlainBank : kBank;
  }

  // An 0200 as acquirer/pos_terminal.cc builds it, with a fresh STAN and transmission time; a
  // credit by default, card not present and without a CVV2 (a refund has none to give).
  iso8583::Message Request(const std::string& pan, std::int64_t minor,
                           std::string_view de3 = kCredit, std::string_view mti = "0200",
                           std::string_view entry = kCardNotPresent) {
    ++sequence_;
    iso8583::Message m(mti);
    m.Set(2, pan);
    m.Set(3, de3);
    m.Set(4, Digits(minor, 12));
    m.Set(7, "0101" + Digits(sequence_, 6));
    m.Set(11, Digits(sequence_, 6));
    m.Set(18, "5411");
    m.Set(22, entry);
    m.Set(32, kAcquirer);
    m.Set(41, kTerminal);
    m.Set(42, "MERCHANT0000001");
    m.Set(49, "156");
    return m;
  }
  iso8583::Message Purchase(const std::string& pan, std::int64_t minor) {
    return Request(pan, minor, kPurchase, "0200", kContactless);
  }
  static iso8583::Message Repeat(const iso8583::Message& original) {
    iso8583::Message m = original;
    m.set_mti("0201");
    return m;
  }
  // The acquirer's reversal of `original` (DE3 repeated, DE90 naming it), as 0400 or 0420.
  static iso8583::Message Reversal(const iso8583::Message& original,
                                   std::string_view mti = "0400") {
    iso8583::Message m(mti);
    for (int f : {2, 3, 4, 7, 11, 32, 41, 42, 49}) m.Set(f, *original.Get(f));
    m.Set(90, *iso8583::OriginalDataElements{std::string(original.mti()),
                                             std::string(*original.Get(11)),
                                             std::string(*original.Get(7)), kAcquirer, ""}
                   .ToField());
    return m;
  }

  iso8583::Message Send(const iso8583::Message& request) {
    auto done = std::make_shared<std::promise<iso8583::Message>>();
    auto future = done->get_future();
    host_->OnRequest(request,
                     [done](iso8583::Message response) { done->set_value(std::move(response)); });
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      ADD_FAILURE() << "no response to " << request.mti();
      return iso8583::Message("0000");
    }
    return future.get();
  }
  std::string Code(const iso8583::Message& request) {
    return std::string(Send(request).Get(39).value_or(""));
  }

  std::int64_t Available(const std::string& pan) {
    return *host_->AvailableMinor(BankOf(pan), pan);
  }

  // The bank's settlement account, its position toward the network: credits - debits posted. Its
  // id as issuer_host.cc names it (the first 16 bytes of SHA-256 of "settlement|<bank>").
  std::int64_t SettlementPosition(const std::string& bank) {
    auto digest = crypto::Sha256(AsBytes("settlement|" + bank));
    EXPECT_TRUE(digest.ok());
    ledger::Id128 id;
    for (int i = 0; i < 8; ++i) id.low = (id.low << 8) | (*digest)[static_cast<std::size_t>(i)];
    for (int i = 8; i < 16; ++i) id.high = (id.high << 8) | (*digest)[static_cast<std::size_t>(i)];
    auto account = host_->ledger().LookupAccount(id);
    EXPECT_TRUE(account.ok() && account->has_value()) << "no settlement account for " << bank;
    if (!account.ok() || !account->has_value()) return 0;
    return static_cast<std::int64_t>((*account)->credits_posted) -
           static_cast<std::int64_t>((*account)->debits_posted);
  }

  void ExpectAuditOk() {
    Status audit = host_->ledger().Audit();
    EXPECT_TRUE(audit.ok()) << audit.ToString();
  }

  std::filesystem::path dir_;
  ManualClock clock_;  // 2026-01-01
  std::unique_ptr<IssuerHost> host_;
  int sequence_ = 0;
};

TEST_F(CardCreditTest, CreditIsPostedToTheDebitCardsAccountOnce) {
  const std::int64_t before = Available(Debit());
  const std::int64_t settlement_before = SettlementPosition(kBank);
  const iso8583::Message credit = Request(Debit(), 2'500);
  const iso8583::Message response = Send(credit);
  EXPECT_EQ(response.mti(), "0210");
  EXPECT_EQ(response.Get(39), std::string_view("00"));
  EXPECT_EQ(response.Get(3), std::string_view(kCredit));
  ASSERT_TRUE(response.Has(38));
  EXPECT_EQ(response.Get(38)->size(), 6u);
  EXPECT_EQ(Available(Debit()), before + 2'500);
  // The bank pays it from its settlement account (the network collects it from the acquirer).
  EXPECT_EQ(SettlementPosition(kBank), settlement_before - 2'500);

  // A repeat (0201) and the same 0200 again are answered alike and credit nothing more.
  const iso8583::Message repeated = Send(Repeat(credit));
  EXPECT_EQ(repeated.Get(39), std::string_view("00"));
  EXPECT_EQ(repeated.Get(38), response.Get(38));
  EXPECT_EQ(Code(credit), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before + 2'500);
  // ... also after a restart: the ledger id, not memory, makes it idempotent.
  OpenHost();
  EXPECT_EQ(Code(Repeat(credit)), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before + 2'500);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, AnotherCreditUnderTheSameKeyIsADuplicateAndCreditsNothing) {
  const std::int64_t before = Available(Debit());
  const std::int64_t other_before = Available(CreditCard());
  const iso8583::Message credit = Request(Debit(), 2'500);
  const iso8583::Message first = Send(credit);
  ASSERT_EQ(first.Get(39), std::string_view(rc::kApproved));
  // The same key (DE32, DE41, DE11, DE7) with another amount: not the credit that was approved.
  iso8583::Message more = Repeat(credit);
  more.Set(4, Digits(9'000, 12));
  const iso8583::Message refused = Send(more);
  EXPECT_EQ(refused.Get(39), std::string_view("94"));
  EXPECT_FALSE(refused.Has(38));
  EXPECT_EQ(Code(more), "94");  // as an 0200 too
  EXPECT_EQ(Available(Debit()), before + 2'500);
  // ... and with another card of the same bank (its issuer-side key is the same).
  iso8583::Message elsewhere = credit;
  elsewhere.Set(2, CreditCard());
  EXPECT_EQ(Code(elsewhere), "94");
  EXPECT_EQ(Available(Debit()), before + 2'500);
  EXPECT_EQ(Available(CreditCard()), other_before);
  // The credit itself, repeated, still gets its first approval.
  const iso8583::Message repeated = Send(Repeat(credit));
  EXPECT_EQ(repeated.Get(39), std::string_view(rc::kApproved));
  EXPECT_EQ(repeated.Get(38), first.Get(38));
  ExpectAuditOk();
}

TEST_F(CardCreditTest, CreditToACreditCardReducesWhatIsOwed) {
  ASSERT_EQ(Code(Purchase(CreditCard(), 20'000)), rc::kApproved);
  EXPECT_EQ(Available(CreditCard()), 30'000);
  ASSERT_EQ(Code(Request(CreditCard(), 8'000)), rc::kApproved);
  EXPECT_EQ(Available(CreditCard()), 38'000);
  // More than is owed: the card then has a balance in its favour above the credit line.
  ASSERT_EQ(Code(Request(CreditCard(), 20'000)), rc::kApproved);
  EXPECT_EQ(Available(CreditCard()), 58'000);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, BlockedLostStolenAndExpiredCardsStillReceiveCredits) {
  // The account behind the card is still the cardholder's (issuer_host.h, "Credits to a card account").
  for (CardStatus status : {CardStatus::kBlocked, CardStatus::kLost, CardStatus::kStolen}) {
    ASSERT_TRUE(host_->SetCardStatus(kBank, Debit(), status).ok());
    const std::int64_t before = Available(Debit());
    EXPECT_EQ(Code(Purchase(Debit(), 100)), status == CardStatus::kBlocked ? rc::kRestrictedCard
                                            : status == CardStatus::kLost  ? rc::kLostCard
                                                                           : rc::kStolenCard);
    EXPECT_EQ(Code(Request(Debit(), 700)), rc::kApproved) << CardStatusName(status);
    EXPECT_EQ(Available(Debit()), before + 700) << CardStatusName(status);
  }
  EXPECT_EQ(Code(Purchase(Expired(), 100)), rc::kExpiredCard);
  EXPECT_EQ(Code(Request(Expired(), 900)), rc::kApproved);
  EXPECT_EQ(Available(Expired()), 900);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, NoSpendingRuleAppliesAndCreditsDoNotCountTowardThem) {
  // Above the per-transaction and daily limits, at a blocked merchant category, card not present
  // without a CVV2 at a bank that verifies CVV2: all spending rules, none of them for a credit.
  EXPECT_EQ(Code(Request(Limited(), 50'000)), rc::kApproved);
  EXPECT_EQ(Code(Request(Limited(), 60'000)), rc::kApproved);
  EXPECT_EQ(Available(Limited()), 210'000);
  // The card's one payment a day is still there: two credits did not use it up.
  iso8583::Message sale = Purchase(Limited(), 5'000);
  sale.Set(18, "5812");
  EXPECT_EQ(Code(sale), rc::kApproved);
  iso8583::Message second = Purchase(Limited(), 5'000);
  second.Set(18, "5812");
  EXPECT_EQ(Code(second), rc::kExceedsFrequencyLimit);
}

TEST_F(CardCreditTest, RefusedCreditsMoveNothing) {
  const std::int64_t before = Available(Debit());
  const std::int64_t settlement_before = SettlementPosition(kBank);
  // Unknown card: in a bank's range but never issued, and in no bank's range.
  EXPECT_EQ(Code(Request(MakePan("62220100", 99), 500)), rc::kInvalidCardNumber);
  EXPECT_EQ(Code(Request(MakePan("62229900", 1), 500)), rc::kInvalidCardNumber);
  // Zero.
  EXPECT_EQ(Code(Request(Debit(), 0)), rc::kInvalidAmount);
  // USD on a CNY card without the network's billing amount (DE6).
  iso8583::Message usd = Request(Debit(), 500);
  usd.Set(49, "840");
  EXPECT_EQ(Code(usd), rc::kFormatError);
  // A credit is single-message: as an authorisation or an advice it is refused.
  const iso8583::Message as_auth = Request(Debit(), 500, kCredit, "0100");
  const iso8583::Message refused_auth = Send(as_auth);
  EXPECT_EQ(refused_auth.mti(), "0110");
  EXPECT_EQ(refused_auth.Get(39), std::string_view(rc::kInvalidTransaction));
  EXPECT_FALSE(refused_auth.Has(38));
  EXPECT_EQ(Code(Request(Debit(), 500, kCredit, "0220")), rc::kInvalidTransaction);
  EXPECT_EQ(Code(Request(Debit(), 500, kCredit, "0120")), rc::kInvalidTransaction);
  EXPECT_EQ(Available(Debit()), before);
  EXPECT_EQ(SettlementPosition(kBank), settlement_before);
  // With DE6 (the network converted) the billing amount is credited.
  usd.Set(11, "900001");
  usd.Set(6, "000000003550");
  EXPECT_EQ(Code(usd), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before + 3'550);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, ReversalTakesTheCreditBackOnce) {
  const std::int64_t before = Available(Debit());
  const std::int64_t settlement_before = SettlementPosition(kBank);
  const iso8583::Message credit = Request(Debit(), 3'000);
  ASSERT_EQ(Code(credit), rc::kApproved);
  ASSERT_EQ(Available(Debit()), before + 3'000);
  const iso8583::Message ack = Send(Reversal(credit));
  EXPECT_EQ(ack.mti(), "0410");
  EXPECT_EQ(ack.Get(39), std::string_view("00"));
  EXPECT_EQ(Available(Debit()), before);
  EXPECT_EQ(SettlementPosition(kBank), settlement_before);
  // Repeats (0401), the advice (0420) and its repeat take nothing more.
  for (std::string_view mti : {"0401", "0420", "0421"}) {
    EXPECT_EQ(Code(Reversal(credit, mti)), rc::kApproved) << mti;
    EXPECT_EQ(Available(Debit()), before) << mti;
  }
  // The credit repeated after its reversal is refused: the acquirer has given it up.
  EXPECT_EQ(Code(Repeat(credit)), rc::kInvalidTransaction);
  EXPECT_EQ(Available(Debit()), before);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, ReversalWithoutDe3StillUndoesTheCredit) {
  // An acquirer that does not repeat DE3 in its reversal: the 0200 it names is a credit, so it is
  // taken back, not refunded as a sale (which would credit the card a second time).
  const std::int64_t before = Available(Debit());
  const iso8583::Message credit = Request(Debit(), 1'800);
  ASSERT_EQ(Code(credit), rc::kApproved);
  iso8583::Message reversal = Reversal(credit);
  reversal.Clear(3);
  EXPECT_EQ(Code(reversal), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before);
  EXPECT_EQ(Code(Reversal(credit, "0401")), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before);
  // A sale's reversal is still a refund of the sale.
  const iso8583::Message sale = Purchase(Debit(), 600);
  ASSERT_EQ(Code(sale), rc::kApproved);
  ASSERT_EQ(Code(Reversal(sale)), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, ReversalBeforeItsCreditTakesNothingAndTheLateCreditIsRefused) {
  const std::int64_t before = Available(Debit());
  const iso8583::Message credit = Request(Debit(), 4'000);
  // The reversal overtook its credit: nothing to take back, and the card is not debited for it.
  EXPECT_EQ(Code(Reversal(credit)), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before);
  EXPECT_EQ(Code(credit), rc::kInvalidTransaction);
  EXPECT_EQ(Available(Debit()), before);
  EXPECT_EQ(Code(Reversal(credit, "0401")), rc::kApproved);
  EXPECT_EQ(Available(Debit()), before);
  // The same after a restart.
  OpenHost();
  EXPECT_EQ(Code(Repeat(credit)), rc::kInvalidTransaction);
  EXPECT_EQ(Available(Debit()), before);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, ReversalOfASpentCreditIsPaidByTheBank) {
  const std::int64_t settlement_before = SettlementPosition(kBank);
  const iso8583::Message credit = Request(Poor(), 5'000);
  ASSERT_EQ(Code(credit), rc::kApproved);
  ASSERT_EQ(Code(Purchase(Poor(), 5'500)), rc::kApproved);  // the cardholder spends it
  ASSERT_EQ(Available(Poor()), 500);
  EXPECT_EQ(Code(Reversal(credit)), rc::kApproved);
  // The card keeps what is left; the bank's credit recovery account makes the settlement account
  // whole: the network settles the credit as reversed, so the bank owes it nothing for it.
  EXPECT_EQ(Available(Poor()), 500);
  EXPECT_EQ(SettlementPosition(kBank), settlement_before + 5'500);  // only the purchase remains
  EXPECT_EQ(Code(Reversal(credit, "0401")), rc::kApproved);
  EXPECT_EQ(SettlementPosition(kBank), settlement_before + 5'500);
  ExpectAuditOk();
}

TEST_F(CardCreditTest, CreditAndItsReversalSentTogetherEndAsNeither) {
  // Sent without waiting, so the worker usually plans both in one batch (the reversal then finds
  // the credit among the batch's plans); whichever way they are batched, the outcome is the same.
  const std::int64_t before = Available(Plain());
  std::vector<iso8583::Message> credits;
  for (int i = 0; i < 20; ++i) credits.push_back(Request(Plain(), 100 + i));
  std::vector<std::future<iso8583::Message>> answers;
  for (const iso8583::Message& credit : credits) {
    for (const iso8583::Message& m : {credit, Reversal(credit)}) {
      auto done = std::make_shared<std::promise<iso8583::Message>>();
      answers.push_back(done->get_future());
      host_->OnRequest(m, [done](iso8583::Message r) { done->set_value(std::move(r)); });
    }
  }
  for (std::size_t i = 0; i < answers.size(); ++i) {
    ASSERT_EQ(answers[i].wait_for(std::chrono::seconds(20)), std::future_status::ready);
    EXPECT_EQ(answers[i].get().Get(39), std::string_view("00")) << i;
  }
  EXPECT_EQ(Available(Plain()), before);
  ExpectAuditOk();
}

}  // namespace
}  // namespace tapstack::issuer
