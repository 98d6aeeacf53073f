// The payment rail as separate processes on loopback: a network, three issuer processes (the 22
// demo banks split between them) and an acquirer, each `tapstack serve --role … --config FILE`.
// The network's store is on PostgreSQL when TAPSTACK_TEST_PG_URL is set (always in CI).
//   - An issuer is killed with SIGKILL under load: its banks' cards are stood in for by the
//     network, and once it is back every stand-in approval reaches its ledger as an advice.
//   - The whole stack is killed with SIGKILL under load and restarted: every approval the client
//     received is in an issuer ledger, and every ledger passes its audit.
// The processes, the load and the ledger checks are in rail_processes.h (shared with the SIGKILL
// loop, kill_loop_test.cc).

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_network.h"
#include "server/rail_processes.h"

namespace tapstack::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using rail::IsStandIn;
using rail::kIssuers;
using rail::Load;
using rail::Outcome;
using rail::WaitFor;
using Stack = rail::RailProcesses;

class MultiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ci = std::getenv("CI");
    const char* url = std::getenv("TAPSTACK_TEST_PG_URL");
    if (ci != nullptr && std::string(ci) == "true" && (url == nullptr || *url == '\0')) {
      FAIL() << "CI must run these tests with the network store on PostgreSQL (TAPSTACK_TEST_PG_URL)";
    }
  }

  void ExpectEveryApprovalInALedger(Stack& stack, const std::vector<Outcome>& outcomes) {
    stand_in_held_ += rail::ExpectEveryApprovalInALedger(stack, outcomes).stand_in_held;
  }
  void ExpectAuditsPass(Stack& stack) { rail::ExpectAuditsPass(stack); }
  int stand_in_held_ = 0;
};

TEST_F(MultiProcessTest, IssuerKilledUnderLoadIsStoodInForThenGetsItsAdvices) {
  Stack stack;
  stack.StartAll();
  constexpr int kVictim = 1;
  {
    Load load(stack, 4);
    ASSERT_TRUE(WaitFor([&] { return load.approvals_at(kVictim) >= 30; }, 20s)) << "no traffic reached issuer 1";
    stack.KillIssuer(kVictim);
    const int before = load.approvals_at(kVictim);
    // The network keeps approving the victim's cards within its stand-in limits.
    ASSERT_TRUE(WaitFor([&] { return load.approvals_at(kVictim) >= before + 30; }, 20s))
        << "no stand-in approvals while issuer 1 was down";
    json during = stack.NetworkStats();
    EXPECT_GT(during.value("stand_in_approved", 0), 0) << during.dump();
    EXPECT_GT(during["advices_pending"].size(), 0u) << "advices for issuer 1 should be waiting: " << during.dump();
    stack.StartIssuer(kVictim);
    const int total = load.approvals();
    ASSERT_TRUE(WaitFor([&] { return load.approvals() >= total + 50; }, 20s));
    load.Stop();

    ASSERT_TRUE(stack.WaitAdvicesDelivered()) << stack.NetworkStats().dump();
    std::vector<Outcome> outcomes = load.outcomes();
    int stand_in = 0;
    for (const Outcome& o : outcomes) {
      if (o.approved && IsStandIn(o)) {
        ++stand_in;
        EXPECT_EQ(o.issuer, kVictim) << "only the killed issuer's cards are stood in for";
      }
    }
    EXPECT_GT(stand_in, 0);
    ExpectEveryApprovalInALedger(stack, outcomes);
    std::printf("purchases %zu, approvals %d, stand-in approvals %d (held by issuer 1 after restart: %d), network on %s\n",
                outcomes.size(), load.approvals(), stand_in, stand_in_held_,
                stack.on_postgres() ? "PostgreSQL" : "SQLite");
    EXPECT_GT(stand_in_held_, 0) << "stand-in approvals must reach the issuer's ledger as advices";
    json after = stack.NetworkStats();
    EXPECT_GT(after.value("advices_delivered", 0), 0) << after.dump();
  }
  ExpectAuditsPass(stack);
}

TEST_F(MultiProcessTest, WholeStackKilledUnderLoadLosesNoApproval) {
  Stack stack;
  stack.StartAll();
  std::vector<Outcome> outcomes;
  {
    Load load(stack, 6);
    ASSERT_TRUE(WaitFor([&] { return load.approvals() >= 300; }, 30s));
    stack.KillAll();  // SIGKILL every process while purchases are in flight
    load.Stop();
    outcomes = load.outcomes();
  }
  stack.StartAll();
  ASSERT_TRUE(stack.WaitAdvicesDelivered()) << stack.NetworkStats().dump();
  ExpectEveryApprovalInALedger(stack, outcomes);
  int approvals = 0;
  for (const Outcome& o : outcomes) approvals += o.approved ? 1 : 0;
  std::printf("purchases before SIGKILL %zu, approvals %d: all found in the issuer ledgers after restart\n",
              outcomes.size(), approvals);
  ExpectAuditsPass(stack);

  // And the restarted stack still works.
  Load again(stack, 2);
  EXPECT_TRUE(WaitFor([&] { return again.approvals() >= 20; }, 20s));
}

TEST_F(MultiProcessTest, CompletionPostsTheHoldAndTheBatchReconciles) {
  Stack stack;
  stack.StartAll();
  const std::string bank = stack.banks(0).front();
  std::vector<json> sales;
  for (int i = 0; i < 3; ++i) {
    sales.push_back(stack.PostAcquirer("/v1/acquirer/purchases",
                                       {{"terminal_id", "TERM0001"},
                                        {"card", {{"bank", bank}, {"index", 5 + i}}},
                                        {"amount_minor", 10'000}}));
    ASSERT_EQ(sales.back().value("approved", false), true) << sales.back().dump();
    EXPECT_EQ(sales.back().value("masked_pan", "").find_first_not_of("0123456789*"), std::string::npos);
  }
  // A wrong CVV2 on a card-not-present sale is declined N7 by the issuer.
  const std::string pan = *demo::DemoCardNumber(*stack.demo().BankById(bank), demo::CardKind::kDebit, 9);
  json bad_cvv = stack.PostAcquirer("/v1/acquirer/purchases", {{"terminal_id", "TERM0001"},
                                                               {"pan", pan},
                                                               {"expiry", demo::kDemoCardExpiry},
                                                               {"cvv2", "000"},
                                                               {"amount_minor", 500}});
  EXPECT_EQ(bad_cvv.value("response_code", ""), "N7") << bad_cvv.dump();
  EXPECT_EQ(bad_cvv.dump().find(pan), std::string::npos) << "the API never returns a full PAN";

  // Complete the first sale for 70.00 of its 100.00: the issuer posts 70.00 and releases the rest.
  json done = stack.PostAcquirer("/v1/acquirer/completions",
                                 {{"terminal_id", "TERM0001"}, {"stan", sales[0]["stan"]}, {"amount_minor", 7'000}});
  EXPECT_EQ(done.value("completed", false), true) << done.dump();
  Outcome first;
  first.bank = bank;
  first.issuer = 0;
  first.acquirer_id = sales[0]["acquirer_id"];
  first.terminal_id = "TERM0001";
  first.stan = sales[0]["stan"];
  first.transmission_time = sales[0]["transmission_time"];
  ASSERT_TRUE(WaitFor([&] { return stack.Authorization(first).value("state", "") == "posted"; }, 10s))
      << stack.Authorization(first).dump();
  EXPECT_EQ(stack.Authorization(first).value("posted_minor", 0), 7'000);

  // The terminal's batch (70.00 + 2 × 100.00) agrees with the network's records.
  json close = stack.PostAcquirer("/v1/acquirer/batches/close", {{"terminal_id", "TERM0001"}});
  EXPECT_EQ(close.value("in_balance", false), true) << close.dump();
  ExpectAuditsPass(stack);
}

}  // namespace
}  // namespace tapstack::server
