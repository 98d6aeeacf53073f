// The seed of the demo network: the shipped file loads, and bad entries are refused by name.
#include "demo/demo_network.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tapstack::demo {
namespace {

nlohmann::json MinimalSeed() {
  return nlohmann::json::parse(R"({
    "network_institution_id": "00010000",
    "fx_source": "test", "fx_business_date": "2026-11-21",
    "banks": [{"institution_id": "48020001", "name": "Bank", "short_name": "B", "country": "CN",
               "currency": "CNY", "debit_bins": [{"low": "62990150", "high": "62990199"}],
               "cardholders": 10}],
    "tsp": {"institution_id": "00010001", "par_bin_prefix": "T001",
            "token_bin_ranges": [{"low": "49990000", "high": "49990999", "profile": "mc-cvn20"}],
            "token_requestors": [{"id": "40010000001", "name": "wallet"}]}
  })");
}

TEST(DemoNetworkTest, TheShippedSeedHasTheTspAndIdvPolicies) {
  auto path = DefaultSeedPath();
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  auto demo = LoadDemoNetwork(*path);
  ASSERT_TRUE(demo.ok()) << demo.status().ToString();
  EXPECT_EQ(demo->banks.size(), 22u);
  ASSERT_EQ(demo->tsp.token_ranges.size(), 1u);
  EXPECT_EQ(demo->tsp.token_ranges[0].low, "49990000");
  EXPECT_EQ(demo->tsp.token_ranges[0].profile, "mc-cvn20");
  ASSERT_EQ(demo->tsp.requestors.size(), 1u);
  EXPECT_EQ(demo->tsp.requestors[0].id, "40010000001");
  EXPECT_EQ(demo->banks[0].idv_decision, "step_up");
  EXPECT_EQ(demo->banks[1].idv_decision, "approve");
  // No token range holds a card number of a bank.
  for (const DemoBank& b : demo->banks) {
    auto pan = DemoCardNumber(b, b.debit_bins.empty() ? CardKind::kCredit : CardKind::kDebit, 0);
    ASSERT_TRUE(pan.ok());
    EXPECT_FALSE(pan->substr(0, 8) >= demo->tsp.token_ranges[0].low &&
                 pan->substr(0, 8) <= demo->tsp.token_ranges[0].high);
  }
}

TEST(DemoNetworkTest, BadEntriesAreNamed) {
  struct Case {
    const char* pointer;
    nlohmann::json value;
    const char* named;
  };
  const Case cases[] = {
      {"/banks/0/idv_decision", "maybe", "banks[0]: idv_decision"},
      {"/tsp/institution_id", "123", "tsp.institution_id"},
      {"/tsp/token_bin_ranges/0/high", "4999", "tsp.token_bin_ranges"},
      {"/tsp/token_requestors/0/id", "4001", "tsp.token_requestors[0].id"},
      {"/tsp/token_bin_ranges/0/profile", 7, "tsp.token_bin_ranges[0]"},
  };
  ASSERT_TRUE(ParseDemoNetwork(MinimalSeed().dump()).ok());
  for (const Case& c : cases) {
    nlohmann::json seed = MinimalSeed();
    seed[nlohmann::json::json_pointer(c.pointer)] = c.value;
    auto parsed = ParseDemoNetwork(seed.dump());
    ASSERT_FALSE(parsed.ok()) << c.pointer;
    EXPECT_NE(parsed.status().message().find(c.named), std::string::npos)
        << c.pointer << ": " << parsed.status().message();
  }
}

TEST(DemoNetworkTest, ASeedWithoutTspHasNoTokenRanges) {
  nlohmann::json seed = MinimalSeed();
  seed.erase("tsp");
  auto parsed = ParseDemoNetwork(seed.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->tsp.token_ranges.empty());
}

}  // namespace
}  // namespace tapstack::demo
