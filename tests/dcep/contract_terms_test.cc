#include "dcep/contract_terms.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tapstack::dcep {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'795'000'000'000;  // 2026-11-17
constexpr const char* kPayer = "w0123456789abcdef";
constexpr const char* kPayee = "wfedcba9876543210";

json Prepaid() {
  return {{"template", "prepaid_service"}, {"payer_wallet", kPayer},   {"merchant_id", "demo-school"},
          {"amount_fen", 100'000},         {"units", 3},              {"unit_name", "lesson"},
          {"expires_unix_ms", kNow + 1000}};
}

json Escrow() {
  return {{"template", "escrow"},  {"payer_wallet", kPayer},       {"payee_wallet", kPayee},
          {"amount_fen", 5'000},   {"expires_unix_ms", kNow + 1}};
}

json Subsidy() {
  return {{"template", "subsidy"},
          {"payer_wallet", kPayer},
          {"beneficiary_wallet", kPayee},
          {"amount_fen", 20'000},
          {"allowed_mcc", {"5411", "5812"}},
          {"expires_unix_ms", kNow + 86'400'000}};
}

// The message of the refusal of `terms`, which must be kInvalidArgument.
std::string Refusal(const json& terms) {
  auto r = ParseContractTerms(terms.dump(), kNow);
  EXPECT_FALSE(r.ok()) << terms.dump();
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  return r.status().message();
}

TEST(ContractTermsTest, EachTemplateParsesAndRoundTripsThroughItsCanonicalJson) {
  for (const json& j : {Prepaid(), Escrow(), Subsidy()}) {
    auto t = ParseContractTerms(j.dump(), kNow);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto again = ParseContractTerms(ContractTermsJson(*t), kNow);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, *t);
    EXPECT_EQ(ContractTermsJson(*again), ContractTermsJson(*t));
  }
  auto p = ParseContractTerms(Prepaid().dump(), kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, ContractTemplate::kPrepaidService);
  EXPECT_EQ(p->units, 3);
  EXPECT_EQ(p->merchant_id, "demo-school");
  auto s = ParseContractTerms(Subsidy().dump(), kNow);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->allowed_mcc, (std::vector<std::string>{"5411", "5812"}));
}

TEST(ContractTermsTest, RefusalsNameTheMember) {
  json j = Prepaid();
  j["units"] = 0;
  EXPECT_NE(Refusal(j).find("units: expected an integer from 1 to 10000"), std::string::npos);
  j = Prepaid();
  j["units"] = 100'001;  // more units than fen
  EXPECT_NE(Refusal(j).find("units"), std::string::npos);
  j = Prepaid();
  j["expires_unix_ms"] = kNow;
  EXPECT_EQ(Refusal(j), "expires_unix_ms: already past");
  j = Escrow();
  j["payee_wallet"] = kPayer;
  EXPECT_NE(Refusal(j).find("payer_wallet: must differ"), std::string::npos);
  j = Escrow();
  j["amount_fen"] = -5;
  EXPECT_NE(Refusal(j).find("amount_fen: expected an integer from 1"), std::string::npos);
  j = Escrow();
  j["payee_wallet"] = "not-a-wallet";
  EXPECT_NE(Refusal(j).find("payee_wallet"), std::string::npos);
  j = Escrow();
  j["units"] = 3;  // a member of another template
  EXPECT_EQ(Refusal(j), "units: unknown member for this template");
  j = Subsidy();
  j["allowed_mcc"] = {"5411", "58x2"};
  EXPECT_EQ(Refusal(j), "allowed_mcc[1]: expected 4 digits");
  j["allowed_mcc"] = {"5411", "5411"};
  EXPECT_EQ(Refusal(j), "allowed_mcc[1]: listed twice");
  j["allowed_mcc"] = json::array();
  EXPECT_NE(Refusal(j).find("allowed_mcc: expected 1 to 64"), std::string::npos);
  j = Subsidy();
  j["template"] = "loan";
  EXPECT_EQ(Refusal(j), "template: expected prepaid_service, escrow or subsidy");
  EXPECT_EQ(ParseContractTerms("[1,2]", kNow).status().message(), "terms: expected a JSON object");
  EXPECT_EQ(ParseContractTerms("{", kNow).status().message(), "terms: expected a JSON object");
  EXPECT_FALSE(ParseContractTerms(std::string(kContractTermsBytesMax + 1, ' '), kNow).ok());
}

TEST(ContractTermsTest, PrepaidSharesAddUpToTheWholeAmountWithoutLosingAFen) {
  auto t = ParseContractTerms(Prepaid().dump(), kNow);  // 100000 fen over 3 lessons
  ASSERT_TRUE(t.ok());
  std::int64_t total = 0;
  for (std::int64_t d = 0; d < 3; ++d) {
    auto r = PrepaidReleaseFen(*t, d, 1);
    ASSERT_TRUE(r.ok());
    total += *r;
  }
  EXPECT_EQ(total, 100'000);
  EXPECT_EQ(*PrepaidReleaseFen(*t, 0, 1), 33'333);
  EXPECT_EQ(*PrepaidReleaseFen(*t, 2, 1), 33'334);  // the last lesson carries the remainder
  EXPECT_EQ(*PrepaidReleaseFen(*t, 0, 3), 100'000);
  // Delivering two at once releases what one and one would.
  EXPECT_EQ(*PrepaidReleaseFen(*t, 1, 2), *PrepaidReleaseFen(*t, 1, 1) + *PrepaidReleaseFen(*t, 2, 1));

  auto over = PrepaidReleaseFen(*t, 2, 2);
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(over.status().message(), "units: 1 of 3 remain, 2 delivered");
  EXPECT_EQ(PrepaidReleaseFen(*t, 0, 0).status().code(), ErrorCode::kInvalidArgument);
  auto escrow = ParseContractTerms(Escrow().dump(), kNow);
  ASSERT_TRUE(escrow.ok());
  EXPECT_EQ(PrepaidReleaseFen(*escrow, 0, 1).status().code(), ErrorCode::kFailedPrecondition);
}

TEST(ContractTermsTest, LockedValueAndSubsidyCategories) {
  auto t = ParseContractTerms(Subsidy().dump(), kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(LockedFen(*t, {}), 20'000);
  EXPECT_EQ(LockedFen(*t, {.units_delivered = 0, .released_fen = 1'500, .refunded_fen = 500, .closed = false}), 18'000);
  EXPECT_EQ(LockedFen(*t, {.units_delivered = 0, .released_fen = 1'500, .refunded_fen = 0, .closed = true}), 0);
  EXPECT_TRUE(CheckSubsidyMcc(*t, "5812").ok());
  Status no = CheckSubsidyMcc(*t, "7995");  // betting
  EXPECT_EQ(no.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(no.message().find("7995"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::dcep
