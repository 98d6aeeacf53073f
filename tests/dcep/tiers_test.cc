// seed/dcep.json and its parser: the shipped data, precise errors naming the member, tiers.
#include "dcep/tiers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dcep/operator.h"
#include "dcep_test_util.h"

namespace tapstack::dcep {
namespace {

using nlohmann::json;

TEST(DcepConfigTest, SeedHasTheOperatorsTiersAndMerchants) {
  const DcepConfig config = testing::SeedConfig();
  for (const char* id : {"icbc", "ccb", "boc", "abc", "bocom", "psbc", "mybank", "webank"}) {
    auto op = config.Operator(id);
    ASSERT_TRUE(op.ok()) << id;
    EXPECT_FALSE((*op)->name.empty());
  }
  const TierLimits* four = *config.Tier(4);
  EXPECT_EQ(four->balance_max_fen, 1'000'000);
  EXPECT_EQ(four->payment_max_fen, 200'000);
  EXPECT_EQ(four->daily_max_fen, 500'000);
  EXPECT_EQ((*config.Tier(3))->balance_max_fen, 2'000'000);
  EXPECT_EQ((*config.Tier(2))->daily_max_fen, 10'000'000);
  EXPECT_EQ((*config.Tier(1))->balance_max_fen, 0);
  const MerchantInfo* coffee = *config.Merchant("m-beijing-coffee");
  EXPECT_EQ(coffee->operator_id, "icbc");
  EXPECT_EQ(coffee->mcc, "5814");
  EXPECT_EQ(config.Operator("hsbc").status().code(), ErrorCode::kNotFound);
}

json Minimal() {
  return json::parse(R"({
    "reserve_seed_fen": 1000,
    "operators": [{"id": "icbc", "name": "ICBC"}],
    "tiers": [
      {"tier": 4, "opened_with": "phone", "balance_max_fen": 1, "payment_max_fen": 1, "daily_max_fen": 1},
      {"tier": 3, "opened_with": "id", "balance_max_fen": 1, "payment_max_fen": 1, "daily_max_fen": 1},
      {"tier": 2, "opened_with": "bank", "balance_max_fen": 1, "payment_max_fen": 1, "daily_max_fen": 1},
      {"tier": 1, "opened_with": "counter", "balance_max_fen": 0, "payment_max_fen": 0, "daily_max_fen": 0}],
    "merchants": [{"id": "m-1", "name": "Shop", "operator": "icbc", "mcc": "5411"}]})");
}

std::string ErrorOf(const json& doc) {
  auto parsed = ParseDcepConfig(doc.dump());
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(DcepConfigTest, ErrorsNameTheMember) {
  ASSERT_TRUE(ParseDcepConfig(Minimal().dump()).ok());
  json doc = Minimal();
  doc["tiers"][2]["daily_max_fen"] = -1;
  EXPECT_EQ(ErrorOf(doc), "tiers[2].daily_max_fen: expected an integer >= 0");
  doc = Minimal();
  doc["tiers"][1]["tier"] = 4;
  EXPECT_EQ(ErrorOf(doc), "tiers[1].tier: tier 4 is listed twice");
  doc = Minimal();
  doc["merchants"][0]["operator"] = "hsbc";
  EXPECT_EQ(ErrorOf(doc), "merchants[0].operator: \"hsbc\" is not one of the operators");
  doc = Minimal();
  doc["merchants"][0]["mcc"] = "54a1";
  EXPECT_EQ(ErrorOf(doc), "merchants[0].mcc: expected 4 digits (ISO 18245)");
  doc = Minimal();
  doc["operators"][0]["id"] = "ICBC";
  EXPECT_EQ(ErrorOf(doc), "operators[0].id: expected 1-16 of a-z 0-9 starting with a letter");
  doc = Minimal();
  doc["operators"].push_back({{"id", "icbc"}, {"name", "again"}});
  EXPECT_EQ(ErrorOf(doc), "operators[1].id: \"icbc\" is listed twice");
  doc = Minimal();
  doc["operators"][0]["swift"] = "ICBKCNBJ";
  EXPECT_EQ(ErrorOf(doc), "operators[0].swift: unknown member");
  doc = Minimal();
  doc.erase("reserve_seed_fen");
  EXPECT_EQ(ErrorOf(doc), "reserve_seed_fen: required");
  doc = Minimal();
  doc["tiers"].erase(3);
  EXPECT_EQ(ErrorOf(doc), "tiers: expected an array of the 4 tiers");
  EXPECT_EQ(ParseDcepConfig("{").status().message(), "dcep config: not JSON");
}

TEST(TierOfTest, EvidenceStrengthGivesTheTier) {
  EXPECT_EQ(TierOf({"13800138000", "", "", "", false}), 4);
  EXPECT_EQ(TierOf({"13800138000", "Li Lei", "", "", false}), 4);  // a name alone proves nothing
  EXPECT_EQ(TierOf({"13800138000", "Li Lei", "110101199001011234", "", false}), 3);
  EXPECT_EQ(TierOf({"13800138000", "Li Lei", "110101199001011234", "6222", false}), 2);
  EXPECT_EQ(TierOf({"13800138000", "Li Lei", "110101199001011234", "", true}), 1);
  EXPECT_EQ(TierOf({"13800138000", "", "", "", true}), 4);
}

TEST(ChinaStandardDayTest, DayTurnsAtMidnightBeijingTime) {
  // 2025-12-31T15:59:59.999Z is 23:59:59.999 in Beijing; one millisecond later it is 1 January.
  const std::int64_t before = 1'767'196'799'999;
  EXPECT_EQ(ChinaStandardDay(before), 20251231);
  EXPECT_EQ(ChinaStandardDay(before + 1), 20260101);
  EXPECT_EQ(ChinaStandardDay(0), 19700101);
}

}  // namespace
}  // namespace tapstack::dcep
