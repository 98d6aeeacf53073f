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

}  // namespace
}  // namespace tapstack::issuer
