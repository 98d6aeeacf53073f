// IssuerHost driven directly with ISO 8583 messages (no switch, no link): holds, the rules'
// declines, CVV2, completions, reversals, stand-in advices and reopening on the same files.
#include "issuer/issuer_host.h"
#include "issuer_test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>

#include "core/pan.h"
#include "demo/demo_keys.h"
#include "iso8583/original_data_elements.h"
#include "ledger/ledger_test_util.h"
#include "store/sqlite_store.h"

namespace tapstack::issuer {
namespace {

namespace rc = response_code;

constexpr char kAcquirer[] = "48021111";
constexpr char kTerminal[] = "TERM0001";
constexpr char kExpiry[] = "2912";
constexpr char kContactless[] = "071";
constexpr char kEcommerce[] = "812";

using testing::Digits;
using testing::kBank;
using testing::kPlainBank;
using testing::MakePan;

class IssuerHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-issuer-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    OpenHost();
    std::vector<NewCard> cards;
    for (auto [pan, balance] :
         {std::pair{Rich(), 100'000}, std::pair{Poor(), 1'000}, std::pair{Plain(), 100'000}}) {
      NewCard card;
      card.institution_id = pan == Plain() ? kPlainBank : kBank;
      card.pan = pan;
      card.expiry = kExpiry;
      card.opening_balance_minor = balance;
      cards.push_back(card);
    }
    NewCard limited;
    limited.institution_id = kBank;
    limited.pan = Limited();
    limited.expiry = kExpiry;
    limited.opening_balance_minor = 100'000;
    limited.per_transaction_limit_minor = 10'000;
    limited.daily_transactions_max = 2;
    limited.blocked_mccs = {"7995"};
    cards.push_back(limited);
    NewCard expired = limited;
    expired.pan = Expired();
    expired.expiry = "2512";  // the clock says January 2026
    cards.push_back(expired);
    ASSERT_TRUE(host_->IssueCards(cards).ok());
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::vector<IssuerBankConfig> Banks() { return testing::TwoTestBanks(); }

  void OpenHost(std::shared_ptr<store::Store> cards_store = nullptr, ledger::LogFileOpener open_ledger_file = {},
                std::size_t queue_max = IssuerOptions{}.queue_max) {
    host_.reset();
    IssuerOptions options;
    options.data_dir = dir_;
    options.clock = &clock_;
    options.queue_max = queue_max;
    options.cards_store = std::move(cards_store);
    options.open_ledger_file = std::move(open_ledger_file);
    auto host = IssuerHost::Open(options, Banks());
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    host_ = std::move(*host);
  }

  static std::string Rich() { return MakePan("62220100", 1); }
  static std::string Poor() { return MakePan("62220100", 2); }
  static std::string Limited() { return MakePan("62220100", 3); }
  static std::string Expired() { return MakePan("62220100", 4); }
  static std::string Plain() { return MakePan("62220200", 1); }
  static std::string BankOf(const std::string& pan) {
    return pan.starts_with("622202") ? kPlainBank : kBank;
  }

  // A request as an acquirer's terminal builds it (acquirer/pos_terminal.cc), with a fresh STAN
  // and transmission time.
  iso8583::Message Request(std::string_view mti, const std::string& pan, std::int64_t minor,
                           std::string_view entry = kContactless) {
    ++sequence_;
    iso8583::Message m(mti);
    m.Set(2, pan);
    m.Set(3, "000000");
    m.Set(4, Digits(minor, 12));
    m.Set(7, "0101" + Digits(sequence_, 6));
    m.Set(11, Digits(sequence_, 6));
    m.Set(14, kExpiry);
    m.Set(18, "5411");
    m.Set(22, entry);
    m.Set(32, kAcquirer);
    m.Set(41, kTerminal);
    m.Set(42, "MERCHANT0000001");
    m.Set(49, "156");
    return m;
  }
  iso8583::Message Auth(const std::string& pan, std::int64_t minor,
                        std::string_view entry = kContactless) {
    return Request("0100", pan, minor, entry);
  }
  // What the network sends for `original` after approving it in the bank's stead
  // (network/switch.cc StandIn): the request itself as an 0120, with the approval.
  static iso8583::Message StandInAdvice(const iso8583::Message& original) {
    iso8583::Message advice = original;
    advice.set_mti(original.mti() == "0100" ? "0120" : "0220");
    advice.Set(38, "S00001");
    advice.Set(39, "00");
    return advice;
  }
  static std::string De90(const iso8583::Message& original) {
    return *iso8583::OriginalDataElements{std::string(original.mti()),
                                          std::string(*original.Get(11)),
                                          std::string(*original.Get(7)), kAcquirer, ""}
                .ToField();
  }
  // The acquirer's completion (clearing advice) of `original` for `minor`.
  iso8583::Message Completion(const iso8583::Message& original, std::int64_t minor) {
    iso8583::Message m = Request("0220", std::string(*original.Get(2)), minor);
    m.Set(90, De90(original));
    return m;
  }
  // A reversal of `original`; `late`: the network's reversal of a late approval (DE39 68).
  static iso8583::Message Reversal(const iso8583::Message& original, bool late = false) {
    iso8583::Message m("0400");
    for (int f : {2, 3, 4, 7, 11, 32, 41, 42, 49}) m.Set(f, *original.Get(f));
    m.Set(90, De90(original));
    if (late) m.Set(39, "68");
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
  AuthorizationState Find(const iso8583::Message& original) {
    auto state = host_->FindAuthorization(BankOf(std::string(*original.Get(2))), kAcquirer,
                                          kTerminal, *original.Get(11), *original.Get(7));
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? *state : AuthorizationState{};
  }
  void ExpectAuditOk() {
    ledger::AuditReport report;
    Status audit = host_->ledger().Audit(&report);
    EXPECT_TRUE(audit.ok()) << audit.ToString();
  }
  static std::string WithCvv2(std::string_view cvv2) { return "C2003" + std::string(cvv2); }
  static std::string Cvv2Of(const std::string& pan) {
    return *demo::DemoCardCvv2(BankOf(pan), pan, kExpiry);
  }

  std::filesystem::path dir_;
  ManualClock clock_;  // 2026-01-01
  std::unique_ptr<IssuerHost> host_;
  int sequence_ = 0;
};

TEST_F(IssuerHostTest, ApprovalPlacesAPendingHold) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 12'345);
  const iso8583::Message response = Send(auth);
  EXPECT_EQ(response.mti(), "0110");
  EXPECT_EQ(response.Get(39), std::string_view("00"));
  ASSERT_TRUE(response.Has(38));
  EXPECT_EQ(response.Get(38)->size(), 6u);
  EXPECT_EQ(Available(Rich()), before - 12'345);
  const AuthorizationState state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPending);
  EXPECT_EQ(state.amount_minor, 12'345);
  EXPECT_EQ(state.posted_minor, 0);
  EXPECT_FALSE(state.stand_in);
  // A repeat (0101) of the same request holds nothing more.
  iso8583::Message repeat = auth;
  repeat.set_mti("0101");
  EXPECT_EQ(Code(repeat), "00");
  EXPECT_EQ(Available(Rich()), before - 12'345);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, EachDeclineHasItsCodeAndHoldsNothing) {
  const std::int64_t limited_before = Available(Limited());
  EXPECT_EQ(Code(Auth(MakePan("62220100", 99), 100)),
            rc::kInvalidCardNumber);  // in range, never issued
  EXPECT_EQ(Code(Auth(MakePan("62229900", 1), 100)), rc::kInvalidCardNumber);  // no bank's range
  const iso8583::Message too_much = Auth(Poor(), 5'000);
  EXPECT_EQ(Code(too_much), rc::kInsufficientFunds);
  EXPECT_EQ(Find(too_much).state, AuthorizationState::kNotFound);
  EXPECT_EQ(Code(Auth(Expired(), 100)), rc::kExpiredCard);
  iso8583::Message wrong_expiry = Auth(Limited(), 100);
  wrong_expiry.Set(14, "3001");
  EXPECT_EQ(Code(wrong_expiry), rc::kExpiredCard);
  iso8583::Message casino = Auth(Limited(), 100);
  casino.Set(18, "7995");
  EXPECT_EQ(Code(casino), rc::kNotPermittedToCardholder);
  EXPECT_EQ(Code(Auth(Limited(), 10'001)), rc::kExceedsAmountLimit);
  EXPECT_EQ(Available(Limited()), limited_before);
  // Two a day: the third is refused.
  EXPECT_EQ(Code(Auth(Limited(), 100)), rc::kApproved);
  EXPECT_EQ(Code(Auth(Limited(), 100)), rc::kApproved);
  EXPECT_EQ(Code(Auth(Limited(), 100)), rc::kExceedsFrequencyLimit);
  ASSERT_TRUE(host_->SetCardStatus(kBank, Rich(), CardStatus::kBlocked).ok());
  EXPECT_EQ(Code(Auth(Rich(), 100)), rc::kRestrictedCard);
  EXPECT_EQ(Available(Limited()), limited_before - 200);
  EXPECT_EQ(host_->stats().declined.load(), 9u);
}

TEST_F(IssuerHostTest, Cvv2ForCardNotPresent) {
  const std::string cvv2 = Cvv2Of(Rich());
  ASSERT_EQ(cvv2.size(), 3u);
  const std::string wrong = cvv2 == "000" ? "001" : "000";
  const std::int64_t before = Available(Rich());

  iso8583::Message good = Auth(Rich(), 100, kEcommerce);
  good.Set(48, WithCvv2(cvv2));
  EXPECT_EQ(Code(good), rc::kApproved);
  iso8583::Message bad = Auth(Rich(), 100, kEcommerce);
  bad.Set(48, WithCvv2(wrong));
  EXPECT_EQ(Code(bad), rc::kCvv2Failure);
  EXPECT_EQ(Code(Auth(Rich(), 100, kEcommerce)), rc::kCvv2Failure);  // missing
  EXPECT_EQ(Code(Auth(Rich(), 100, "011")), rc::kCvv2Failure);       // manual key entry
  iso8583::Message no_de22 = Auth(Rich(), 100);
  no_de22.Clear(22);
  EXPECT_EQ(Code(no_de22), rc::kCvv2Failure);  // no entry mode: card-not-present
  // The card was tapped: no CVV2 needed; one that is sent is still checked.
  EXPECT_EQ(Code(Auth(Rich(), 100, kContactless)), rc::kApproved);
  iso8583::Message tapped_wrong = Auth(Rich(), 100, kContactless);
  tapped_wrong.Set(48, WithCvv2(wrong));
  EXPECT_EQ(Code(tapped_wrong), rc::kCvv2Failure);
  // The right CVV2 with the wrong expiry date: the expiry is checked first.
  iso8583::Message wrong_expiry = Auth(Rich(), 100, kEcommerce);
  wrong_expiry.Set(48, WithCvv2(cvv2));
  wrong_expiry.Set(14, "3012");
  EXPECT_EQ(Code(wrong_expiry), rc::kExpiredCard);
  // A malformed C2 is a format error, not a mismatch.
  iso8583::Message four_digits = Auth(Rich(), 100, kEcommerce);
  four_digits.Set(48, "C2004" + cvv2 + "1");
  EXPECT_EQ(Code(four_digits), rc::kFormatError);
  // Other DE48 sub-elements do not hide the C2.
  iso8583::Message with_token_data = Auth(Rich(), 100, kEcommerce);
  with_token_data.Set(48, "TA00203" + WithCvv2(cvv2) + "DI003dev");
  EXPECT_EQ(Code(with_token_data), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 300);  // good, tapped, with_token_data

  // A bank without a card verification key does not ask for one.
  EXPECT_EQ(Code(Auth(Plain(), 100, kEcommerce)), rc::kApproved);
  iso8583::Message plain_any = Auth(Plain(), 100, kEcommerce);
  plain_any.Set(48, WithCvv2("123"));
  EXPECT_EQ(Code(plain_any), rc::kApproved);
}

TEST_F(IssuerHostTest, Cvv2NotRequiredWhenTheBankSaysSo) {
  host_.reset();
  std::vector<IssuerBankConfig> banks = Banks();
  banks[0].cvv2_required_for_card_not_present = false;
  IssuerOptions options;
  options.data_dir = dir_;
  options.clock = &clock_;
  auto host = IssuerHost::Open(options, banks);
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  host_ = std::move(*host);
  EXPECT_EQ(Code(Auth(Rich(), 100, kEcommerce)), rc::kApproved);
  iso8583::Message bad = Auth(Rich(), 100, kEcommerce);
  bad.Set(48, WithCvv2(Cvv2Of(Rich()) == "000" ? "001" : "000"));
  EXPECT_EQ(Code(bad), rc::kCvv2Failure);
}

TEST_F(IssuerHostTest, OpenRefusesABadCardVerificationKey) {
  host_.reset();
  std::vector<IssuerBankConfig> banks = Banks();
  banks[0].card_verification_key = demo::DemoPanFingerprintKey(kBank);  // 32 bytes
  IssuerOptions options;
  options.data_dir = dir_;
  auto host = IssuerHost::Open(options, banks);
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(IssuerHostTest, CompletionPostsTheHoldFully) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 10'000);
  ASSERT_EQ(Code(auth), rc::kApproved);
  const iso8583::Message completion = Completion(auth, 10'000);
  const iso8583::Message response = Send(completion);
  EXPECT_EQ(response.mti(), "0230");
  EXPECT_EQ(response.Get(39), std::string_view("00"));
  EXPECT_EQ(Available(Rich()), before - 10'000);
  AuthorizationState state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPosted);
  EXPECT_EQ(state.amount_minor, 10'000);
  EXPECT_EQ(state.posted_minor, 10'000);
  // A repeat (0221), and a second completion naming the same original, post nothing more.
  iso8583::Message repeat = completion;
  repeat.set_mti("0221");
  EXPECT_EQ(Code(repeat), rc::kApproved);
  EXPECT_EQ(Code(Completion(auth, 10'000)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 10'000);
  EXPECT_EQ(Find(auth).posted_minor, 10'000);
  // A reversal after clearing does not undo the posted money.
  EXPECT_EQ(Code(Reversal(auth)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 10'000);
  EXPECT_EQ(Find(auth).state, AuthorizationState::kPosted);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, PartialCompletionReleasesTheRest) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 10'000);
  ASSERT_EQ(Code(auth), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 10'000);
  EXPECT_EQ(Code(Completion(auth, 6'000)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 6'000);
  const AuthorizationState state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPosted);
  EXPECT_EQ(state.amount_minor, 10'000);
  EXPECT_EQ(state.posted_minor, 6'000);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, CompletionsThatCannotPost) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 10'000);
  ASSERT_EQ(Code(auth), rc::kApproved);
  EXPECT_EQ(Code(Completion(auth, 0)), rc::kInvalidAmount);
  EXPECT_EQ(Code(Completion(auth, 10'001)), rc::kInvalidAmount);  // more than was held
  EXPECT_EQ(Find(auth).state, AuthorizationState::kPending);
  EXPECT_EQ(Available(Rich()), before - 10'000);
  // An original the bank never held.
  const iso8583::Message unknown = Auth(Rich(), 500);  // never sent
  EXPECT_EQ(Code(Completion(unknown, 500)), rc::kUnableToLocateOriginal);
  // ... and if it is held afterwards, its completion still posts (the first did not spend the id).
  ASSERT_EQ(Code(unknown), rc::kApproved);
  EXPECT_EQ(Code(Completion(unknown, 500)), rc::kApproved);
  // A reversed original.
  ASSERT_EQ(Code(Reversal(auth)), rc::kApproved);
  EXPECT_EQ(Code(Completion(auth, 10'000)), rc::kUnableToLocateOriginal);
  EXPECT_EQ(Find(auth).state, AuthorizationState::kVoided);
  EXPECT_EQ(Available(Rich()), before - 500);
  // A completion in a currency the card is not billed in, without DE6.
  const iso8583::Message other = Auth(Rich(), 100);
  ASSERT_EQ(Code(other), rc::kApproved);
  iso8583::Message usd = Completion(other, 100);
  usd.Set(49, "840");
  EXPECT_EQ(Code(usd), rc::kFormatError);
  // A malformed DE90.
  iso8583::Message bad_de90 = Completion(other, 100);
  bad_de90.Set(90, "0100");
  EXPECT_EQ(Code(bad_de90), rc::kFormatError);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, ExpiredHoldIsReleasedAndCannotBeCompleted) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 4'000);
  ASSERT_EQ(Code(auth), rc::kApproved);
  clock_.AdvanceMillis((7 * 24 * 3600 + 1) * 1000LL);         // past the default hold timeout
  EXPECT_EQ(Find(auth).state, AuthorizationState::kExpired);  // due, even before the sweep
  ASSERT_TRUE(host_->ledger().ExpirePending().ok());
  EXPECT_EQ(Find(auth).state, AuthorizationState::kExpired);
  EXPECT_EQ(Available(Rich()), before);
  EXPECT_EQ(Code(Completion(auth, 4'000)), rc::kUnableToLocateOriginal);
  EXPECT_EQ(Available(Rich()), before);
}

TEST_F(IssuerHostTest, ReversalVoidsTheHold) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 7'000);
  ASSERT_EQ(Code(auth), rc::kApproved);
  const iso8583::Message ack = Send(Reversal(auth));
  EXPECT_EQ(ack.mti(), "0410");
  EXPECT_EQ(ack.Get(39), std::string_view("00"));
  EXPECT_EQ(Available(Rich()), before);
  EXPECT_EQ(Find(auth).state, AuthorizationState::kVoided);
  EXPECT_EQ(Code(Reversal(auth)), rc::kApproved);  // again: acknowledged, nothing changes
  EXPECT_EQ(Available(Rich()), before);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, StandInAdviceThenCompletion) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 3'000);  // approved by the network, never seen here
  const iso8583::Message ack = Send(StandInAdvice(auth));
  EXPECT_EQ(ack.mti(), "0130");
  EXPECT_EQ(ack.Get(39), std::string_view("00"));
  EXPECT_EQ(Available(Rich()), before - 3'000);
  AuthorizationState state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPending);
  EXPECT_TRUE(state.stand_in);
  EXPECT_EQ(state.amount_minor, 3'000);
  iso8583::Message repeat = StandInAdvice(auth);
  repeat.set_mti("0121");
  EXPECT_EQ(Code(repeat), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 3'000);
  EXPECT_EQ(Code(Completion(auth, 3'000)), rc::kApproved);
  state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPosted);
  EXPECT_EQ(state.posted_minor, 3'000);
  EXPECT_EQ(Available(Rich()), before - 3'000);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, AdviceAfterTheBanksOwnApprovalDoesNotHoldTwice) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 2'500);
  ASSERT_EQ(Code(auth), rc::kApproved);  // the bank approved, but too late for the network
  EXPECT_EQ(Code(StandInAdvice(auth)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 2'500);
  AuthorizationState state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPending);
  EXPECT_TRUE(state.stand_in);
  EXPECT_EQ(state.amount_minor, 2'500);
  iso8583::Message repeat = StandInAdvice(auth);
  repeat.set_mti("0121");
  EXPECT_EQ(Code(repeat), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 2'500);
  // The network's reversal of the late approval now changes nothing: the stand-in hold stands.
  EXPECT_EQ(Code(Reversal(auth, /*late=*/true)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 2'500);
  EXPECT_EQ(Find(auth).state, AuthorizationState::kPending);
  // The acquirer's reversal releases it.
  EXPECT_EQ(Code(Reversal(auth)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before);
  EXPECT_EQ(Find(auth).state, AuthorizationState::kVoided);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, LateResponseReversalBeforeTheAdvice) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 2'000);
  ASSERT_EQ(Code(auth), rc::kApproved);
  EXPECT_EQ(Code(Reversal(auth, /*late=*/true)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before);
  // The network had approved in the bank's stead: the advice holds again, once.
  EXPECT_EQ(Code(StandInAdvice(auth)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 2'000);
  iso8583::Message repeat = StandInAdvice(auth);
  repeat.set_mti("0121");
  EXPECT_EQ(Code(repeat), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 2'000);
  EXPECT_EQ(Code(Completion(auth, 1'500)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 1'500);
  const AuthorizationState state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPosted);
  EXPECT_TRUE(state.stand_in);
  EXPECT_EQ(state.posted_minor, 1'500);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, AcquirerReversalBeforeTheAdvice) {
  const std::int64_t before = Available(Rich());
  // Reversed by the acquirer after the bank's own approval, then the network's advice arrives.
  const iso8583::Message own = Auth(Rich(), 1'000);
  ASSERT_EQ(Code(own), rc::kApproved);
  EXPECT_EQ(Code(Reversal(own)), rc::kApproved);
  EXPECT_EQ(Code(StandInAdvice(own)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before);
  EXPECT_EQ(Find(own).state, AuthorizationState::kVoided);
  // Reversed before the bank heard of the network's approval at all.
  const iso8583::Message unseen = Auth(Rich(), 1'000);
  EXPECT_EQ(Code(Reversal(unseen)), rc::kApproved);
  EXPECT_EQ(Code(StandInAdvice(unseen)), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before);
  EXPECT_EQ(Find(unseen).state, AuthorizationState::kNotFound);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, StandInAdviceTheCardCannotCoverIsPaidByTheBank) {
  const std::int64_t before = Available(Poor());
  const iso8583::Message auth = Auth(Poor(), 5'000);
  EXPECT_EQ(Code(StandInAdvice(auth)), rc::kApproved);
  EXPECT_EQ(Available(Poor()), before);
  AuthorizationState state = Find(auth);
  EXPECT_EQ(state.state, AuthorizationState::kPosted);
  EXPECT_TRUE(state.stand_in);
  EXPECT_EQ(state.posted_minor, 5'000);
  EXPECT_EQ(Code(Completion(auth, 5'000)), rc::kApproved);  // already settled: nothing to post
  EXPECT_EQ(Available(Poor()), before);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, StandInFinancialAdviceWithoutDe90StillPosts) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message sale = Request("0200", Rich(), 800);
  const iso8583::Message ack = Send(StandInAdvice(sale));
  EXPECT_EQ(ack.mti(), "0230");
  EXPECT_EQ(ack.Get(39), std::string_view("00"));
  EXPECT_EQ(Available(Rich()), before - 800);
  const AuthorizationState state = Find(sale);
  EXPECT_EQ(state.state, AuthorizationState::kPosted);
  EXPECT_TRUE(state.stand_in);
  iso8583::Message repeat = StandInAdvice(sale);
  repeat.set_mti("0221");
  EXPECT_EQ(Code(repeat), rc::kApproved);
  EXPECT_EQ(Available(Rich()), before - 800);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, ARepeatAfterTheNetworksStandInAdviceIsAnsweredFromItsBooking) {
  // The network stood in, could not make its answer durable and left the acquirer unanswered
  // (Switch::LeaveUnanswered); its advice reached the bank, then the acquirer's repeat did.
  for (const char* mti : {"0200", "0100"}) {
    SCOPED_TRACE(mti);
    const std::int64_t before = Available(Rich());
    const iso8583::Message original = Request(mti, Rich(), 1'700);
    EXPECT_EQ(Code(StandInAdvice(original)), rc::kApproved);
    iso8583::Message repeat = original;
    repeat.set_mti(std::string(mti) == "0200" ? "0201" : "0101");
    const iso8583::Message answer = Send(repeat);
    EXPECT_EQ(answer.Get(39), std::string_view(rc::kApproved));
    EXPECT_TRUE(answer.Has(38));
    EXPECT_EQ(Available(Rich()), before - 1'700) << "booked once";
    EXPECT_TRUE(Find(original).stand_in);
    // Once the acquirer reversed it, a late copy is refused rather than booked again.
    EXPECT_EQ(Code(Reversal(original)), rc::kApproved);
    EXPECT_EQ(Available(Rich()), before);
    EXPECT_EQ(Code(repeat), rc::kInvalidTransaction);
    EXPECT_EQ(Available(Rich()), before);
  }
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, AnOverloadedHostRefusesARequestButLeavesARepeatUnanswered) {
  // With no room in the queue every request is turned away at once, in OnRequest.
  OpenHost(nullptr, {}, /*queue_max=*/0);
  const std::int64_t before = Available(Rich());
  const iso8583::Message auth = Auth(Rich(), 1'000);
  int answers = 0;
  std::string code;
  host_->OnRequest(auth, [&](iso8583::Message r) {
    ++answers;
    code = std::string(r.Get(39).value_or(""));
  });
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(code, rc::kIssuerInoperative);  // nothing was booked: a true refusal
  // A repeat's earlier copy may be queued or booked: "91" could be a lie, so no answer.
  iso8583::Message repeat = auth;
  repeat.set_mti("0101");
  host_->OnRequest(repeat, [&](iso8583::Message) { ++answers; });
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(host_->stats().unanswered.load(), 1u);
  EXPECT_EQ(Available(Rich()), before);
}

TEST_F(IssuerHostTest, ReopenedHostKeepsHoldsAndCards) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message held = Auth(Rich(), 1'111);
  const iso8583::Message stand_in = Auth(Rich(), 2'222);
  ASSERT_EQ(Code(held), rc::kApproved);
  ASSERT_EQ(Code(StandInAdvice(stand_in)), rc::kApproved);
  const std::size_t cards = host_->card_count();
  OpenHost();
  EXPECT_EQ(host_->card_count(), cards);
  EXPECT_EQ(Available(Rich()), before - 3'333);
  EXPECT_EQ(Find(held).state, AuthorizationState::kPending);
  EXPECT_TRUE(Find(stand_in).stand_in);
  EXPECT_EQ(Code(Completion(held, 1'111)), rc::kApproved);
  EXPECT_EQ(Find(held).state, AuthorizationState::kPosted);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, ARequestWhoseLedgerWriteFailedIsNeitherApprovedNorDeclined) {
  // The ledger on a memory disk whose fdatasync is about to fail. The writes stay on it, as a
  // failed fdatasync may leave them: the hold the bank never answered is really booked, so a
  // decline would have been a lie (no reversal would ever release it).
  auto disk = std::make_shared<ledger::testing::MemoryDisk>();
  OpenHost(nullptr, ledger::testing::MemoryOpener(disk));
  NewCard card;
  card.institution_id = kBank;
  card.pan = MakePan("62220100", 6);  // a card of this ledger (the others are in the file ledger)
  card.expiry = kExpiry;
  card.opening_balance_minor = 100'000;
  ASSERT_TRUE(host_->IssueCard(card).ok());
  const iso8583::Message answered = Auth(card.pan, 1'000);
  ASSERT_EQ(Code(answered), rc::kApproved);

  {
    std::lock_guard lock(disk->mu);
    disk->fail_sync_at = disk->syncs;
  }
  const iso8583::Message unanswered = Auth(card.pan, 2'000);
  std::atomic<int> replies{0};
  host_->OnRequest(unanswered, [&replies](iso8583::Message) { ++replies; });
  host_->WaitIdle();
  EXPECT_EQ(replies.load(), 0) << "an unknown outcome gets no answer: the switch times out";
  EXPECT_TRUE(host_->ledger_failed());
  EXPECT_EQ(host_->stats().unanswered.load(), 1u);
  // Until it is reopened nothing is answered: not a copy of the unanswered request (a decline
  // would reach the acquirer while the hold may be on disk), not a new request, not a reversal
  // (an answer would acknowledge it; the acquirer repeats it).
  iso8583::Message copy = unanswered;
  copy.set_mti("0101");
  for (const iso8583::Message& m : {copy, Auth(card.pan, 3'000), Reversal(answered)}) {
    host_->OnRequest(m, [&replies](iso8583::Message) { ++replies; });
  }
  host_->WaitIdle();
  EXPECT_EQ(replies.load(), 0);
  EXPECT_EQ(host_->stats().unanswered.load(), 4u);
  iso8583::Message echo("0800");
  echo.Set(70, "301");
  EXPECT_EQ(Code(echo), rc::kApproved);  // the link stays up: the switch times out per request

  // Reopened (a supervisor's restart), it recovers what reached the disk: both holds.
  OpenHost(nullptr, ledger::testing::MemoryOpener(disk));
  EXPECT_FALSE(host_->ledger_failed());
  EXPECT_EQ(Find(unanswered).state, AuthorizationState::kPending);
  EXPECT_EQ(Available(card.pan), 100'000 - 1'000 - 2'000);
  // The switch's reversal of the unanswered request (0420, network/switch.h ReverseUnanswered)
  // and the acquirer's repeated reversal release them.
  iso8583::Message switch_reversal = Reversal(unanswered, /*late=*/true);
  switch_reversal.set_mti("0420");
  EXPECT_EQ(Code(switch_reversal), rc::kApproved);
  EXPECT_EQ(Code(Reversal(answered)), rc::kApproved);
  EXPECT_EQ(Find(unanswered).state, AuthorizationState::kVoided);
  EXPECT_EQ(Find(answered).state, AuthorizationState::kVoided);
  EXPECT_EQ(Available(card.pan), 100'000);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, AReversedSaleIsRefunded) {
  const std::int64_t before = Available(Rich());
  const iso8583::Message sale = Request("0200", Rich(), 4'321);
  ASSERT_EQ(Code(sale), rc::kApproved);
  EXPECT_EQ(Find(sale).state, AuthorizationState::kPosted);
  EXPECT_EQ(Find(sale).posted_minor, 4'321);
  ASSERT_EQ(Code(Reversal(sale)), rc::kApproved);
  const AuthorizationState state = Find(sale);
  EXPECT_EQ(state.state, AuthorizationState::kRefunded);
  EXPECT_EQ(state.amount_minor, 4'321);
  EXPECT_EQ(state.posted_minor, 0);
  EXPECT_EQ(Available(Rich()), before);
  ExpectAuditOk();
}

TEST_F(IssuerHostTest, CardsCanLiveInAnotherStore) {
  auto store = store::OpenSqlite(dir_, "bank_cards");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  OpenHost(std::move(*store));
  EXPECT_EQ(host_->card_count(), 0u);  // the cards issued in SetUp are in <dir>/issuer.db
  NewCard card;
  card.institution_id = kBank;
  card.pan = MakePan("62220100", 50);
  card.expiry = kExpiry;
  card.opening_balance_minor = 900;
  ASSERT_TRUE(host_->IssueCard(card).ok());
  EXPECT_EQ(Code(Auth(card.pan, 900)), rc::kApproved);
  OpenHost(std::move(*store::OpenSqlite(dir_, "bank_cards")));
  EXPECT_EQ(host_->card_count(), 1u);
  EXPECT_EQ(Available(card.pan), 0);  // one ledger in data_dir for both stores
  OpenHost();
  EXPECT_EQ(host_->card_count(), 5u);
}

TEST_F(IssuerHostTest, FindAuthorizationChecksItsArguments) {
  EXPECT_EQ(host_->FindAuthorization("99999999", kAcquirer, kTerminal, "000001", "0101000001")
                .status()
                .code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(
      host_->FindAuthorization(kBank, kAcquirer, kTerminal, "1", "0101000001").status().code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(host_->FindAuthorization(kBank, kAcquirer, kTerminal, "000001", "0101").status().code(),
            ErrorCode::kInvalidArgument);
  auto none = host_->FindAuthorization(kBank, kAcquirer, kTerminal, "000001", "0101000001");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->state, AuthorizationState::kNotFound);
  EXPECT_EQ(AuthorizationStateName(AuthorizationState::kPosted), "posted");
  EXPECT_EQ(AuthorizationStateName(AuthorizationState::kRefunded), "refunded");
}

}  // namespace
}  // namespace tapstack::issuer
