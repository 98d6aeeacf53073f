#include "issuer/authorization_rules.h"

#include <gtest/gtest.h>

namespace tapstack::issuer {
namespace {

CardRecord Card() {
  CardRecord c;
  c.expiry = "2912";
  c.per_transaction_limit_minor = 10'000;
  c.daily_limit_minor = 25'000;
  c.daily_transactions_max = 3;
  c.blocked_mccs = {"7995"};
  return c;
}

RequestFacts Facts(std::int64_t amount) { return RequestFacts{amount, "2912", "5411", "2611"}; }

TEST(AuthorizationRulesTest, ApprovesWithinEveryLimit) {
  EXPECT_EQ(CheckAuthorizationRules(Card(), Facts(10'000), {15'000, 2}), response_code::kApproved);
}

TEST(AuthorizationRulesTest, EachRuleHasItsCode) {
  CardRecord c = Card();
  c.status = CardStatus::kBlocked;
  EXPECT_EQ(CheckAuthorizationRules(c, Facts(1), {}), response_code::kRestrictedCard);
  c.status = CardStatus::kLost;
  EXPECT_EQ(CheckAuthorizationRules(c, Facts(1), {}), response_code::kLostCard);
  c.status = CardStatus::kStolen;
  EXPECT_EQ(CheckAuthorizationRules(c, Facts(1), {}), response_code::kStolenCard);

  c = Card();
  c.expiry = "2610";  // expired last month
  EXPECT_EQ(CheckAuthorizationRules(c, Facts(1), {}), response_code::kExpiredCard);
  RequestFacts wrong_expiry = Facts(1);
  wrong_expiry.expiry_on_request = "3001";
  EXPECT_EQ(CheckAuthorizationRules(Card(), wrong_expiry, {}), response_code::kExpiredCard);

  RequestFacts casino = Facts(1);
  casino.mcc = "7995";
  EXPECT_EQ(CheckAuthorizationRules(Card(), casino, {}), response_code::kNotPermittedToCardholder);
  EXPECT_EQ(CheckAuthorizationRules(Card(), Facts(10'001), {}), response_code::kExceedsAmountLimit);
  EXPECT_EQ(CheckAuthorizationRules(Card(), Facts(10'000), {15'001, 0}), response_code::kExceedsAmountLimit);
  EXPECT_EQ(CheckAuthorizationRules(Card(), Facts(1), {0, 3}), response_code::kExceedsFrequencyLimit);
}

TEST(AuthorizationRulesTest, ZeroMeansNoLimitAndStatusNamesRoundTrip) {
  CardRecord c;
  c.expiry = "2912";
  EXPECT_EQ(CheckAuthorizationRules(c, Facts(1'000'000'000), {1'000'000'000, 1000}), response_code::kApproved);
  for (CardStatus s : {CardStatus::kActive, CardStatus::kBlocked, CardStatus::kLost, CardStatus::kStolen}) {
    EXPECT_EQ(*ParseCardStatus(CardStatusName(s)), s);
  }
  EXPECT_FALSE(ParseCardStatus("frozen").ok());
}


// CVV2: compared only when the bank verifies (an expected value is given); a missing CVV2 fails
// only card-not-present requests of a bank that requires it.
TEST(AuthorizationRulesTest, Cvv2RuleAndItsPlaceInTheOrder) {
  RequestFacts f = Facts(1);
  f.card_not_present = true;
  f.cvv2_expected = "123";
  f.cvv2_presented = "123";
  EXPECT_EQ(CheckAuthorizationRules(Card(), f, {}), response_code::kApproved);
  f.cvv2_presented = "124";
  EXPECT_EQ(CheckAuthorizationRules(Card(), f, {}), response_code::kCvv2Failure);
  f.card_not_present = false;  // a CVV2 that is present is checked whatever the entry mode
  EXPECT_EQ(CheckAuthorizationRules(Card(), f, {}), response_code::kCvv2Failure);
  f.cvv2_presented = "";
  EXPECT_EQ(CheckAuthorizationRules(Card(), f, {}), response_code::kApproved);  // card present
  f.card_not_present = true;
  EXPECT_EQ(CheckAuthorizationRules(Card(), f, {}), response_code::kCvv2Failure);  // missing, required
  f.cvv2_required_for_card_not_present = false;
  EXPECT_EQ(CheckAuthorizationRules(Card(), f, {}), response_code::kApproved);
  // A bank without a CVK (nothing expected) ignores whatever is presented.
  f.cvv2_expected = "";
  f.cvv2_presented = "999";
  EXPECT_EQ(CheckAuthorizationRules(Card(), f, {}), response_code::kApproved);

  // After the expiry checks, before the merchant category and the limits.
  RequestFacts bad = Facts(10'001);
  bad.card_not_present = true;
  bad.cvv2_expected = "123";
  bad.cvv2_presented = "321";
  bad.mcc = "7995";
  EXPECT_EQ(CheckAuthorizationRules(Card(), bad, {0, 3}), response_code::kCvv2Failure);
  bad.expiry_on_request = "3001";
  EXPECT_EQ(CheckAuthorizationRules(Card(), bad, {0, 3}), response_code::kExpiredCard);
}

TEST(AuthorizationRulesTest, CardNotPresentUnlessTheCardWasRead) {
  for (const char* present : {"021", "051", "071", "801", "901", "911", "951", "072"}) {
    EXPECT_FALSE(IsCardNotPresent(std::string_view(present))) << present;
  }
  for (const char* absent : {"011", "012", "091", "101", "812", "001", "991"}) {
    EXPECT_TRUE(IsCardNotPresent(std::string_view(absent))) << absent;
  }
  EXPECT_TRUE(IsCardNotPresent(std::nullopt));
  EXPECT_TRUE(IsCardNotPresent(std::string_view("07")));   // malformed: fail closed
  EXPECT_TRUE(IsCardNotPresent(std::string_view("0x1")));
}

TEST(AuthorizationRulesTest, Cvv2FromTokenData) {
  EXPECT_EQ(*Cvv2FromTokenData(""), "");
  EXPECT_EQ(*Cvv2FromTokenData("C2003123"), "123");
  EXPECT_EQ(*Cvv2FromTokenData("TR01112345678901C2003042DI003abc"), "042");
  EXPECT_EQ(*Cvv2FromTokenData("TR01112345678901"), "");  // no C2
  // Malformed DE48 or C2: errors, never a silent "absent".
  for (const char* bad : {"C2003", "C20031234", "C2002123", "C2004123", "C20031a3", "C2003123C2003123", "TR0",
                          "TRx11"}) {
    auto r = Cvv2FromTokenData(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.status().message().find("123"), std::string::npos) << r.status().message();
    }
  }
}

}  // namespace
}  // namespace tapstack::issuer
