// The payment rail as separate processes on loopback: a network, three issuer processes (the 22
// demo banks split between them) and an acquirer, each `tapstack serve --role … --config FILE`.
// The network's store is on PostgreSQL when TAPSTACK_TEST_PG_URL is set (always in CI).
//   - An issuer is killed with SIGKILL under load: its banks' cards are stood in for by the
//     network, and once it is back every stand-in approval reaches its ledger as an advice.
//   - The whole stack is killed with SIGKILL under load and restarted: every approval the client
//     received is in an issuer ledger, and every ledger passes its audit.
//   - Every ISO 8583 link is mutual TLS, set up through the configuration files alone.
// The processes, the load and the ledger checks are in rail_processes.h (shared with the SIGKILL
// loop, kill_loop_test.cc).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_network.h"
#include "iso8583/codec.h"
#include "iso8583/profile.h"
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

// What a plaintext peer gets from `port` on loopback after sending an ISO 8583 sign-on (0800, DE70
// 001) in the clear, framed as the links frame it (2-byte length, then the ASCII profile's
// message): the bytes read until the listener closed or fell silent for 8 s, or "timeout" when it
// said nothing and kept the connection. A plain listener answers 0810.
std::string PlaintextSignOn(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  iso8583::Message sign_on("0800");
  sign_on.Set(7, "1123042500");
  sign_on.Set(11, "000001");
  sign_on.Set(70, "001");
  std::string body;
  if (!iso8583::Pack(sign_on, iso8583::AsciiProfile(), body).ok()) return "pack failed";
  const std::string frame = std::string{static_cast<char>(body.size() >> 8), static_cast<char>(body.size() & 0xff)} + body;
  (void)::write(fd, frame.data(), frame.size());
  std::string got;
  bool closed = false;
  char buf[512];
  pollfd p{fd, POLLIN, 0};
  while (!closed && ::poll(&p, 1, 8'000) == 1) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    closed = n <= 0;
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got.empty() && !closed ? "timeout" : got;
}

TEST_F(MultiProcessTest, MutualTlsOnEveryIso8583LinkByConfiguration) {
  // The acquirer → network link and the network → issuer links are mutual TLS with certificates
  // of a CA made for the run, set through the roles' files only (rail_processes.h). The acquirer
  // is healthy only once its link is signed on; each issuer approves its card itself.
  Stack stack(rail::RailTls::kMutual);
  stack.StartAll();
  for (int i = 0; i < kIssuers; ++i) {
    json sale = stack.PostAcquirer("/v1/acquirer/purchases", {{"terminal_id", "TERM0001"},
                                                              {"card", {{"bank", stack.banks(i).front()}, {"index", 1}}},
                                                              {"amount_minor", 2'500}});
    ASSERT_EQ(sale.value("approved", false), true) << sale.dump();
    EXPECT_NE(sale.value("approval_code", "S").substr(0, 1), "S") << "not stood in for: " << sale.dump();
  }
  json stats = stack.NetworkStats();
  EXPECT_EQ(stats.value("approved", 0), kIssuers) << stats.dump();
  EXPECT_EQ(stats.value("stand_in_approved", -1), 0) << stats.dump();
  // A plaintext sign-on to the network's ISO 8583 port gets no ISO 8583 answer: the listener
  // speaks TLS only and closes the peer.
  const std::string plaintext = PlaintextSignOn(stack.network_iso8583_port());
  EXPECT_EQ(plaintext.find("0810"), std::string::npos) << plaintext;
  EXPECT_NE(plaintext, "timeout");
  // And it still serves TLS peers afterwards.
  json after = stack.PostAcquirer("/v1/acquirer/purchases", {{"terminal_id", "TERM0001"},
                                                             {"card", {{"bank", stack.banks(0).front()}, {"index", 2}}},
                                                             {"amount_minor", 1'000}});
  EXPECT_EQ(after.value("approved", false), true) << after.dump();
}

TEST_F(MultiProcessTest, CompletionPostsTheHoldAReversalReleasesOneAndTheBatchReconciles) {
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

  // Void the second sale (0400): the issuer releases its hold; a second void finds nothing open.
  json reversed = stack.PostAcquirer("/v1/acquirer/reversals", {{"terminal_id", "TERM0001"}, {"stan", sales[1]["stan"]}});
  EXPECT_EQ(reversed.value("reversed", false), true) << reversed.dump();
  EXPECT_EQ(reversed.value("response_code", ""), "00") << reversed.dump();
  Outcome second = first;
  second.stan = sales[1]["stan"];
  second.transmission_time = sales[1]["transmission_time"];
  EXPECT_EQ(stack.Authorization(second).value("state", ""), "voided") << stack.Authorization(second).dump();
  json again = stack.PostAcquirer("/v1/acquirer/reversals", {{"terminal_id", "TERM0001"}, {"stan", sales[1]["stan"]}});
  EXPECT_EQ(again.value("http_status", 0), 404) << again.dump();
  json unknown = stack.PostAcquirer("/v1/acquirer/reversals", {{"terminal_id", "TERM0001"}});
  EXPECT_EQ(unknown.value("http_status", 0), 400) << unknown.dump();
  EXPECT_NE(unknown.value("message", "").find("stan"), std::string::npos) << unknown.dump();

  // The terminal's batch (70.00 + 100.00 + 100.00, less the 100.00 reversed) agrees with the
  // network's records.
  json close = stack.PostAcquirer("/v1/acquirer/batches/close", {{"terminal_id", "TERM0001"}});
  EXPECT_EQ(close.value("in_balance", false), true) << close.dump();
  ExpectAuditsPass(stack);
}

}  // namespace
}  // namespace tapstack::server
