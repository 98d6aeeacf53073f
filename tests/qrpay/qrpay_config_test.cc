// seed/qrpay.json loads with the values the issue names, and malformed configs are refused with
// the member named.
#include "qrpay/qrpay_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "platform_test_util.h"

namespace tapstack::qrpay::testing {
namespace {

std::string SeedText() {
  std::ifstream in(SeedPath());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(QrpayConfigTest, SeedHasThePlatformsMerchantsAndVisitorRules) {
  auto config = LoadQrpayConfig(SeedPath());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->markup_bps, 100);
  EXPECT_EQ(config->quote_validity_seconds, 120);
  ASSERT_EQ(config->platforms.size(), 2u);
  EXPECT_EQ((*config->Platform("tapstack-cn"))->currency->alpha, "CNY");
  EXPECT_EQ((*config->Platform("induspay-pk"))->currency->alpha, "PKR");
  EXPECT_EQ((*config->Level("tapstack-cn", 1))->verified_with, "phone only");
  EXPECT_EQ((*config->Level("tapstack-cn", 3))->verified_with, "ID + bank card");
  auto noodles = config->Merchant("BJNOODLES01");
  ASSERT_TRUE(noodles.ok());
  EXPECT_EQ((*noodles)->name, "Old Beijing Noodles");
  EXPECT_EQ((*noodles)->mcc, "5814");
  EXPECT_EQ((*config->Merchant("MOSARBAT01"))->currency->alpha, "RUB");
  EXPECT_EQ((*config->Merchant("LDNCAMDEN01"))->currency->alpha, "GBP");
  EXPECT_EQ((*config->Merchant("HKVICTORIA01"))->platform_id, "tapstack-cn");
  EXPECT_EQ((*config->Merchant("LHRANARKALI01"))->platform_id, "induspay-pk");
  EXPECT_EQ((*config->Merchant("KHIBURNS01"))->city, "Karachi");
  EXPECT_TRUE(config->RefundOperator("globalrefund-demo").ok());
  // The lead's story cashes in at this agent: keep its id.
  auto agent = config->Agent("agent-lahore-01");
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  EXPECT_EQ((*agent)->platform_id, "induspay-pk");
  EXPECT_EQ((*agent)->name, "Liberty Market Agent");
  EXPECT_EQ((*agent)->prefund_minor, 100000000);
  EXPECT_EQ(config->Agent("globalrefund-demo").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(config->visitor_cards.per_transaction_max_usd_minor, 500000);
  EXPECT_EQ(config->visitor_cards.yearly_max_usd_minor, 5000000);
  EXPECT_EQ(config->visitor_cards.fee_free_up_to_minor, 20000);
  EXPECT_EQ(config->visitor_cards.fee_bps, 300);
  EXPECT_EQ(config->Merchant("NOPE").status().code(), ErrorCode::kNotFound);
}

TEST(QrpayConfigTest, MalformedConfigsNameTheMember) {
  const nlohmann::json seed = nlohmann::json::parse(SeedText());
  auto refuse = [&](nlohmann::json edited, std::string_view expected_prefix) {
    auto parsed = ParseQrpayConfig(edited.dump());
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument) << expected_prefix;
    EXPECT_TRUE(parsed.status().message().starts_with(expected_prefix))
        << parsed.status().message();
  };
  nlohmann::json j = seed;
  j["surprise"] = 1;
  refuse(j, "surprise: unknown member");
  j = seed;
  j["markup_bps"] = -1;
  refuse(j, "markup_bps: expected an integer 0..10000");
  j = seed;
  j["platforms"][0]["levels"][1]["daily_max_minor"] = "lots";
  refuse(j, "platforms[0].levels[1].daily_max_minor: expected an integer >= 0");
  j = seed;
  j["platforms"][0]["levels"][1]["level"] = 1;
  refuse(j, "platforms[0].levels[1].level: level 1 is listed twice");
  j = seed;
  j["merchants"][1]["id"] = j["merchants"][0]["id"];
  refuse(j, "merchants[1].id:");
  j = seed;
  j["merchants"][0]["platform"] = "nowhere";
  refuse(j, "merchants[0].platform:");
  j = seed;
  j["merchants"][0]["id"] = "lower-case";
  refuse(j, "merchants[0]:");
  j = seed;
  j["agents"][0]["platform"] = "nowhere";
  refuse(j, "agents[0].platform: \"nowhere\" is not a platform");
  j = seed;
  j["agents"][0]["id"] = "Agent_01";
  refuse(j, "agents[0].id: expected 1-32 of a-z 0-9 -");
  j = seed;
  j["agents"][0]["prefund_minor"] = -5;
  refuse(j, "agents[0].prefund_minor: expected an integer >= 0");
  j = seed;
  j["agents"][0]["till"] = 1;
  refuse(j, "agents[0].till: unknown member");
  j = seed;
  j["agents"].push_back(j["agents"][0]);
  refuse(j, "agents[1].id: \"agent-lahore-01\" is listed twice");
  j = seed;
  j["agents"] = "none";
  refuse(j, "agents: expected an array");
  j = seed;
  j["refund_operators"][0]["id"] = "UPPER";
  refuse(j, "refund_operators[0].id: expected 1-32 of a-z 0-9 -");
  EXPECT_EQ(ParseQrpayConfig("{").status().code(), ErrorCode::kInvalidArgument);
}

TEST(QrpayConfigTest, AgentsAreOptional) {
  nlohmann::json j = nlohmann::json::parse(SeedText());
  j.erase("agents");
  auto parsed = ParseQrpayConfig(j.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->agents.empty());
  EXPECT_EQ(parsed->Agent("agent-lahore-01").status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tapstack::qrpay::testing
