// Token-provisioning ID&V at the issuer (issuer/identity_verification.h): the TSP's account-
// verification 0100 with DE48 PV = "1", sent straight to an IssuerHost. Green, yellow, every
// decline, format errors, and that an ID&V never touches money or the daily counters.
#include "issuer/identity_verification.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "core/pan.h"
#include "demo/demo_keys.h"
#include "issuer/issuer_host.h"
#include "issuer_test_util.h"

namespace tapstack::issuer {
namespace {

namespace rc = response_code;

constexpr char kExpiry[] = "2912";
constexpr char kExpiredExpiry[] = "2512";  // the clock says January 2026
constexpr char kTsp[] = "00010000";
constexpr char kTspTerminal[] = "TSPIDV01";

using testing::Digits;
using testing::kBank;
using testing::kPlainBank;
using testing::MakePan;

class IdvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-idv-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    OpenHost(Banks());
    std::vector<NewCard> cards;
    for (const std::string& pan : {Good(), Blocked(), Lost(), Stolen(), Expired(), Plain()}) {
      NewCard card;
      card.institution_id = pan == Plain() ? kPlainBank : kBank;
      card.pan = pan;
      card.expiry = pan == Expired() ? kExpiredExpiry : kExpiry;
      card.opening_balance_minor = 50'000;
      // Limits an authorisation would hit; an ID&V must not.
      card.daily_transactions_max = 1;
      card.blocked_mccs = {"6012"};
      cards.push_back(card);
    }
    ASSERT_TRUE(host_->IssueCards(cards).ok());
    ASSERT_TRUE(host_->SetCardStatus(kBank, Blocked(), CardStatus::kBlocked).ok());
    ASSERT_TRUE(host_->SetCardStatus(kBank, Lost(), CardStatus::kLost).ok());
    ASSERT_TRUE(host_->SetCardStatus(kBank, Stolen(), CardStatus::kStolen).ok());
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::vector<IssuerBankConfig> Banks() { return testing::TwoTestBanks(); }
  // (Re)opens the host on the same files with `banks`.
  void OpenHost(std::vector<IssuerBankConfig> banks) {
    host_.reset();
    IssuerOptions options;
    options.data_dir = dir_;
    options.clock = &clock_;
    auto host = IssuerHost::Open(options, banks);
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    host_ = std::move(*host);
  }
  void OpenWithPolicy(IdvDecision decision) {
    std::vector<IssuerBankConfig> banks = Banks();
    banks[0].idv_decision = decision;
    OpenHost(std::move(banks));
  }

  static std::string Good() { return MakePan("62220100", 1); }
  static std::string Blocked() { return MakePan("62220100", 2); }
  static std::string Lost() { return MakePan("62220100", 3); }
  static std::string Stolen() { return MakePan("62220100", 4); }
  static std::string Expired() { return MakePan("62220100", 5); }
  static std::string Plain() { return MakePan("62220200", 1); }
  static std::string BankOf(const std::string& pan) { return pan.starts_with("622202") ? kPlainBank : kBank; }
  static std::string Cvv2Of(const std::string& pan, const std::string& expiry = kExpiry) {
    return *demo::DemoCardCvv2(BankOf(pan), pan, expiry);
  }
  static std::string WrongCvv2(const std::string& pan) { return Cvv2Of(pan) == "000" ? "001" : "000"; }

  // The TSP's request as the contract defines it (docs/ISO8583.md), with a fresh STAN and time.
  // An empty `cvv2` leaves C2 out.
  iso8583::Message Idv(const std::string& pan, const std::string& cvv2, const std::string& expiry = kExpiry) {
    ++sequence_;
    iso8583::Message m("0100");
    m.Set(2, pan);
    m.Set(3, "000000");
    m.Set(4, "000000000000");
    m.Set(7, "0101" + Digits(sequence_, 6));
    m.Set(11, Digits(sequence_, 6));
    m.Set(12, "120000");
    m.Set(13, "0101");
    m.Set(14, expiry);
    m.Set(18, "6012");
    m.Set(22, "010");
    m.Set(25, "51");
    m.Set(32, kTsp);
    m.Set(41, kTspTerminal);
    m.Set(42, "TAPSTACKTSP0001");
    const std::string c2 = cvv2.empty() ? "" : "C2003" + cvv2;
    m.Set(48, c2 + "PV0011TR01140010000001DI008DEVICE01");
    m.Set(49, "156");
    return m;
  }
  iso8583::Message Auth(const std::string& pan, std::int64_t minor) {
    ++sequence_;
    iso8583::Message m("0100");
    m.Set(2, pan);
    m.Set(3, "000000");
    m.Set(4, Digits(minor, 12));
    m.Set(7, "0101" + Digits(sequence_, 6));
    m.Set(11, Digits(sequence_, 6));
    m.Set(14, kExpiry);
    m.Set(18, "5411");
    m.Set(22, "071");
    m.Set(32, "48021111");
    m.Set(41, "TERM0001");
    m.Set(49, "156");
    return m;
  }

  iso8583::Message Send(const iso8583::Message& request) {
    auto done = std::make_shared<std::promise<iso8583::Message>>();
    auto future = done->get_future();
    host_->OnRequest(request, [done](iso8583::Message response) { done->set_value(std::move(response)); });
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      ADD_FAILURE() << "no response to " << request.mti();
      return iso8583::Message("0000");
    }
    return future.get();
  }
  // DE39 and IV of the answer, e.g. "85/Y"; "30/R:DE4: expected zero" when DE44 says why.
  std::string Answer(const iso8583::Message& request) {
    const iso8583::Message response = Send(request);
    EXPECT_EQ(response.mti(), "0110");
    auto iv = iso8583::FindSubElement(response.Get(48).value_or(""), iso8583::token_tag::kIdvResult);
    std::string out = std::string(response.Get(39).value_or("")) + "/" +
                      std::string(iv.ok() && iv->has_value() ? **iv : "-");
    if (auto detail = response.Get(44)) out += ":" + std::string(*detail);
    return out;
  }
  std::int64_t Available(const std::string& pan) { return *host_->AvailableMinor(BankOf(pan), pan); }

  std::filesystem::path dir_;
  ManualClock clock_;  // 2026-01-01
  std::unique_ptr<IssuerHost> host_;
  int sequence_ = 0;
};

TEST_F(IdvTest, YellowByDefault) {
  const iso8583::Message request = Idv(Good(), Cvv2Of(Good()));
  const iso8583::Message response = Send(request);
  EXPECT_EQ(response.mti(), "0110");
  EXPECT_EQ(response.Get(39), rc::kNoReasonToDecline);
  // DE48 is the answer only: the request's CVV2, PV, TR and DI are not echoed.
  EXPECT_EQ(response.Get(48), std::string_view("IV001Y"));
  EXPECT_FALSE(response.Has(38)) << "an account verification authorises nothing";
  EXPECT_FALSE(response.Has(44));
  for (int f : {2, 4, 7, 11, 32, 41, 49}) EXPECT_EQ(response.Get(f), request.Get(f)) << "DE" << f;
  EXPECT_EQ(host_->stats().identity_verifications.load(), 1u);
}

TEST_F(IdvTest, GreenWhenTheBankApproves) {
  OpenWithPolicy(IdvDecision::kApprove);
  EXPECT_EQ(Answer(Idv(Good(), Cvv2Of(Good()))), "85/G");
  // The policy applies only to cards that pass the checks.
  EXPECT_EQ(Answer(Idv(Good(), WrongCvv2(Good()))), "N7/R");
}

TEST_F(IdvTest, EachDeclineHasItsCode) {
  EXPECT_EQ(Answer(Idv(MakePan("62220100", 99), "123")), "14/R");  // in range, never issued
  EXPECT_EQ(Answer(Idv(MakePan("62229900", 1), "123")), "14/R");   // in no bank's range
  EXPECT_EQ(Answer(Idv(Expired(), Cvv2Of(Expired(), kExpiredExpiry), kExpiredExpiry)), "54/R");
  EXPECT_EQ(Answer(Idv(Good(), Cvv2Of(Good()), "3012")), "54/R");  // not the expiry on file
  EXPECT_EQ(Answer(Idv(Good(), "")), "N7/R");                      // CVV2 missing
  EXPECT_EQ(Answer(Idv(Good(), WrongCvv2(Good()))), "N7/R");
  EXPECT_EQ(Answer(Idv(Blocked(), Cvv2Of(Blocked()))), "62/R");
  EXPECT_EQ(Answer(Idv(Lost(), Cvv2Of(Lost()))), "41/R");
  EXPECT_EQ(Answer(Idv(Stolen(), Cvv2Of(Stolen()))), "43/R");
  OpenWithPolicy(IdvDecision::kDecline);
  EXPECT_EQ(Answer(Idv(Good(), Cvv2Of(Good()))), "05/R");
  EXPECT_EQ(host_->stats().identity_verifications.load(), 1u);  // counted since the reopen
  EXPECT_EQ(host_->stats().declined.load(), 1u);
}

TEST_F(IdvTest, CvvIsRequiredEvenWhenPurchasesMayGoWithout) {
  std::vector<IssuerBankConfig> banks = Banks();
  banks[0].cvv2_required_for_card_not_present = false;
  OpenHost(std::move(banks));
  EXPECT_EQ(Answer(Idv(Good(), "")), "N7/R");
  EXPECT_EQ(Answer(Idv(Good(), Cvv2Of(Good()))), "85/Y");
  // A bank without a card verification key cannot check one: its policy decides.
  EXPECT_EQ(Answer(Idv(Plain(), "")), "85/Y");
}

TEST_F(IdvTest, FormatErrorsNameTheField) {
  iso8583::Message with_amount = Idv(Good(), Cvv2Of(Good()));
  with_amount.Set(4, "000000000100");
  EXPECT_EQ(Answer(with_amount), "30/R:DE4: expected zero");
  iso8583::Message no_amount = Idv(Good(), Cvv2Of(Good()));
  no_amount.Clear(4);
  EXPECT_EQ(Answer(no_amount), "30/R:DE4 missing");
  iso8583::Message no_expiry = Idv(Good(), Cvv2Of(Good()));
  no_expiry.Clear(14);
  EXPECT_EQ(Answer(no_expiry), "30/R:DE14: expected YYMM");
  iso8583::Message other_pv = Idv(Good(), Cvv2Of(Good()));
  other_pv.Set(48, "PV0012");
  EXPECT_EQ(Answer(other_pv), "30/R:DE48 PV: expected 1");
  iso8583::Message long_cvv2 = Idv(Good(), Cvv2Of(Good()));
  long_cvv2.Set(48, "C20041234PV0011");
  EXPECT_EQ(Answer(long_cvv2), "30/R:DE48 C2: expected n3");
  iso8583::Message financial = Idv(Good(), Cvv2Of(Good()));
  financial.set_mti("0200");
  const iso8583::Message response = Send(financial);
  EXPECT_EQ(response.mti(), "0210");
  EXPECT_EQ(response.Get(39), rc::kFormatError);
  EXPECT_EQ(response.Get(44), std::string_view("MTI: expected 0100"));
}

TEST_F(IdvTest, MovesNoMoneyAndCountsNothing) {
  const std::int64_t before = Available(Good());
  const iso8583::Message idv = Idv(Good(), Cvv2Of(Good()));
  ASSERT_EQ(Answer(idv), "85/Y");
  ASSERT_EQ(Answer(Idv(Good(), WrongCvv2(Good()))), "N7/R");
  EXPECT_EQ(Available(Good()), before);
  EXPECT_EQ(host_->stats().batches.load(), 0u) << "answered without the ledger worker";
  auto hold = host_->FindAuthorization(kBank, kTsp, kTspTerminal, *idv.Get(11), *idv.Get(7));
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(hold->state, AuthorizationState::kNotFound);
  ledger::AuditReport report;
  EXPECT_TRUE(host_->ledger().Audit(&report).ok());
  // The card allows one transaction a day and blocks MCC 6012: neither applies to an ID&V, and
  // the ID&Vs above did not use up the day's one transaction.
  EXPECT_EQ(Send(Auth(Good(), 1'000)).Get(39), rc::kApproved);
  EXPECT_EQ(Send(Auth(Good(), 1'000)).Get(39), rc::kExceedsFrequencyLimit);  // the control
  EXPECT_EQ(Available(Good()), before - 1'000);
}

TEST_F(IdvTest, ARepeatedRequestGetsTheSameAnswerAndChangesNothing) {
  const std::int64_t before = Available(Good());
  const iso8583::Message idv = Idv(Good(), Cvv2Of(Good()));
  const iso8583::Message first = Send(idv);
  const iso8583::Message again = Send(idv);
  iso8583::Message repeat = idv;
  repeat.set_mti("0101");
  const iso8583::Message repeated = Send(repeat);
  for (const iso8583::Message* r : {&first, &again, &repeated}) {
    EXPECT_EQ(r->Get(39), rc::kNoReasonToDecline);
    EXPECT_EQ(r->Get(48), std::string_view("IV001Y"));
  }
  EXPECT_EQ(repeated.mti(), "0110");
  EXPECT_EQ(Available(Good()), before);
  EXPECT_EQ(host_->stats().identity_verifications.load(), 3u);
  EXPECT_EQ(host_->stats().approved.load(), 3u);
}

TEST(IdvDecisionTest, NamesRoundTrip) {
  for (IdvDecision d : {IdvDecision::kStepUp, IdvDecision::kApprove, IdvDecision::kDecline}) {
    auto parsed = ParseIdvDecision(IdvDecisionName(d));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, d);
  }
  auto bad = ParseIdvDecision("green");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("step_up"), std::string::npos);
  EXPECT_EQ(IssuerBankConfig{}.idv_decision, IdvDecision::kStepUp);
}

}  // namespace
}  // namespace tapstack::issuer
