// The SIGKILL loop (issue #10, "Real processes, real faults"): the payment rail as separate
// processes (rail_processes.h: a network — on PostgreSQL when TAPSTACK_TEST_PG_URL is set — three
// issuers and an acquirer) under continuous load from client threads buying through the
// acquirer's HTTP API. Each cycle lets the load run a random 100-700 ms, SIGKILLs one process
// chosen at random (every kind — issuer, network, acquirer — is chosen over the run), restarts it
// on its ports, waits until it answers /health and the client is approved again, and goes on.
// After the last cycle the load stops, the network's store-and-forward advices drain, and:
//   - every approval the client received is in its issuer's ledger exactly once: a hold or a
//     posting (a stand-in approval: the advice's hold) of the approved amount, under a key no other
//     approval the client saw has;
//   - every issuer's ledger passes its audit;
//   - the network's settlement positions (one cut-off) sum to zero per currency, and it settles
//     every approval the client saw and nothing beyond the purchases whose outcome the client
//     does not know (no answer, or an error answer);
//   - no process died by itself during the run.
// TAPSTACK_KILL_SEED=N replays a schedule (which process, when; the load's cards and amounts; not
// the threads' interleaving); TAPSTACK_KILL_CYCLES=N runs more cycles (default 20).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/rail_processes.h"

namespace tapstack::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using rail::Load;
using rail::Outcome;
using rail::RailProcess;
using rail::RailProcesses;
using rail::Role;
using rail::WaitFor;

constexpr int kKillCyclesDefault = 20;
constexpr int kLoadThreads = 4;
// About one approval in this many is voided at once (0400), so that acknowledged reversals meet the
// kills too: each must have released its hold and settle nothing.
constexpr int kReverseOneIn = 8;
// The load between two kills: a random moment in [kLoadMsMin, kLoadMsMax].
constexpr int kLoadMsMin = 100;
constexpr int kLoadMsMax = 700;
// After a restart the client must be approved again within this (stand-in included).
constexpr int kApprovedAgainWaitMs = 15'000;
constexpr int kFirstApprovalsMin = 20;

unsigned KillSeed() {
  if (const char* s = std::getenv("TAPSTACK_KILL_SEED"); s != nullptr && *s != '\0') {
    return static_cast<unsigned>(std::strtoul(s, nullptr, 10));
  }
  return static_cast<unsigned>(std::chrono::system_clock::now().time_since_epoch() / 1us);
}

int KillCycles() {
  if (const char* s = std::getenv("TAPSTACK_KILL_CYCLES"); s != nullptr && *s != '\0') {
    return std::max(1, std::atoi(s));
  }
  return kKillCyclesDefault;
}

// A random process to kill; once the cycles left are as many as the kinds never chosen, one of
// those, so every kind is killed at least once over a run of 3 cycles or more.
RailProcess ChooseVictim(std::mt19937& rng, std::map<Role, int>& chosen, int cycles_left) {
  const Role kinds[] = {Role::kIssuer, Role::kNetwork, Role::kAcquirer};
  std::vector<Role> missing;
  for (Role r : kinds) {
    if (chosen[r] == 0) missing.push_back(r);
  }
  Role role = static_cast<int>(missing.size()) >= cycles_left && !missing.empty()
                  ? missing[rng() % missing.size()]
                  : kinds[rng() % 3];
  ++chosen[role];
  return {role, role == Role::kIssuer ? static_cast<int>(rng() % rail::kIssuers) : 0};
}

std::string Ms(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

class KillLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ci = std::getenv("CI");
    const char* url = std::getenv("TAPSTACK_TEST_PG_URL");
    if (ci != nullptr && std::string(ci) == "true" && (url == nullptr || *url == '\0')) {
      FAIL() << "CI must run this test with the network store on PostgreSQL (TAPSTACK_TEST_PG_URL)";
    }
  }
};

// One settlement cut-off after the run: its positions sum to zero in each currency, and it settles
// every approval the client saw and, beyond those, at most one record per purchase whose outcome
// the client does not know (no answer, or an error answer whose reversal may have been lost with
// a killed process): the network approved nothing else.
void ExpectSettlementConsistent(RailProcesses& rail, const rail::LedgerCheck& check, int outcomes_unknown) {
  // An acknowledged reversal settles nothing; one with no acknowledgement may or may not.
  const int must_settle = check.approvals - check.reversed - check.reversals_unknown;
  const int may_settle = check.approvals - check.reversed + outcomes_unknown;
  json report = rail.SettlementCutOff();
  ASSERT_EQ(report.value("http_status", 0), 200) << report.dump();
  ASSERT_TRUE(report.contains("positions") && report["positions"].is_array()) << report.dump();
  EXPECT_GT(report["positions"].size(), 0u) << report.dump();
  std::map<std::string, std::int64_t> net_by_currency;
  for (const json& p : report["positions"]) net_by_currency[p.value("currency", "")] += p.value("net_minor", std::int64_t{0});
  for (const auto& [currency, net] : net_by_currency) {
    EXPECT_EQ(net, 0) << "settlement positions in " << currency << " do not net to zero: " << report.dump();
  }
  const std::int64_t records = report.value("records", std::int64_t{0});
  EXPECT_GE(records, must_settle) << "the network settles fewer sales than the client was approved for and "
                                     "did not reverse";
  EXPECT_LE(records, may_settle) << "the network settles sales the client was not approved for or had reversed, "
                                    "beyond the "
                                 << outcomes_unknown << " purchases whose outcome it does not know";
  std::printf("settlement cut-off: %lld records (%d to %d expected), %zu positions in %zu currencies, each "
              "netting to zero\n",
              static_cast<long long>(records), must_settle, may_settle, report["positions"].size(),
              net_by_currency.size());
}

TEST_F(KillLoopTest, RandomProcessKilledEveryCycleLosesNoApproval) {
  const unsigned seed = KillSeed();
  const int cycles = KillCycles();
  const std::string rerun = "re-run this schedule with TAPSTACK_KILL_SEED=" + std::to_string(seed) +
                            " (and TAPSTACK_KILL_CYCLES=" + std::to_string(cycles) + ") tests/server/kill_loop_tests";
  SCOPED_TRACE(rerun);
  const auto started = std::chrono::steady_clock::now();
  RailProcesses rail;
  std::printf("kill loop: seed %u, %d cycles, network on %s\n", seed, cycles,
              rail.on_postgres() ? "PostgreSQL" : "SQLite");
  std::fflush(stdout);
  rail.StartAll();

  std::mt19937 rng(seed);
  std::map<Role, int> chosen;
  std::vector<Outcome> outcomes;
  int unanswered = 0;
  {
    Load load(rail, kLoadThreads, seed, kReverseOneIn);
    ASSERT_TRUE(WaitFor([&] { return load.approvals() >= kFirstApprovalsMin; }, 20s)) << "no traffic approved";
    for (int cycle = 1; cycle <= cycles; ++cycle) {
      const int load_ms = kLoadMsMin + static_cast<int>(rng() % (kLoadMsMax - kLoadMsMin + 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(load_ms));
      const RailProcess victim = ChooseVictim(rng, chosen, cycles - cycle + 1);
      const auto killed_at = std::chrono::steady_clock::now();
      rail.Kill(victim);
      rail.Start(victim);
      // The acquirer's link to a restarted network is back before the cycle counts as healthy.
      if (victim.role == Role::kNetwork) rail.WaitHealthy({Role::kAcquirer, 0});
      const auto healthy_at = std::chrono::steady_clock::now();
      const int approvals = load.approvals();
      ASSERT_TRUE(WaitFor([&] { return load.approvals() > approvals; }, std::chrono::milliseconds(kApprovedAgainWaitMs)))
          << "cycle " << cycle << ": no approval after " << victim.name() << " restarted";
      for (const RailProcess& p : rail::AllProcesses()) {
        ASSERT_TRUE(rail.Running(p)) << "cycle " << cycle << ": " << p.name() << " died by itself; its log:\n"
                                     << rail.Log(p.name());
      }
      std::printf("cycle %2d: load %3d ms, SIGKILL %-8s  healthy after %4s ms, approving after %4s ms; "
                  "approvals so far %d, errors %d\n",
                  cycle, load_ms, victim.name().c_str(), Ms(healthy_at - killed_at).c_str(),
                  Ms(std::chrono::steady_clock::now() - killed_at).c_str(), load.approvals(), load.errors());
      std::fflush(stdout);
    }
    load.Stop();
    outcomes = load.outcomes();
    unanswered = load.unanswered();
  }
  for (Role r : {Role::kIssuer, Role::kNetwork, Role::kAcquirer}) {
    if (cycles >= 3) {
      EXPECT_GT(chosen[r], 0) << RailProcess{r, 0}.name() << " was never killed";
    }
  }

  ASSERT_TRUE(rail.WaitAdvicesDelivered()) << rail.NetworkStats().dump();
  const auto drained_at = std::chrono::steady_clock::now();
  const rail::LedgerCheck check = rail::ExpectEveryApprovalInALedger(rail, outcomes);
  rail::ExpectAuditsPass(rail);
  int declined = 0, unavailable = 0, duplicates = 0;
  std::string first_duplicate;
  std::map<int, int> by_status;
  for (const Outcome& o : outcomes) {
    if (o.http_status == 200 && !o.approved) ++declined;
    // Every purchase is a new request under a new key (DE32, DE41, DE11, DE7): none may be taken
    // for a repeat of an earlier one (DE39 "94"), whichever process restarted in between.
    if (o.response_code == "94" && duplicates++ == 0) first_duplicate = "STAN " + o.stan + " DE7 " + o.transmission_time;
    if (o.http_status != 200) ++unavailable;
    ++by_status[o.http_status];
  }
  std::string statuses;
  for (const auto& [status, n] : by_status) statuses += " " + std::to_string(status) + ":" + std::to_string(n);
  EXPECT_EQ(duplicates, 0) << "purchases declined as duplicate transmissions (94), the first " << first_duplicate;
  ExpectSettlementConsistent(rail, check, unanswered + unavailable);
  const json stats = rail.NetworkStats();
  std::printf(
      "kill loop (seed %u): %d cycles (issuer %d, network %d, acquirer %d); purchases answered %zu, "
      "unanswered %d; approvals checked %d (pending %d, posted %d; stand-in %d, held as advices %d; "
      "reversed %d, reversal unknown %d), "
      "declined %d, not answered 200 %d (HTTP status:count%s); network: stand-in approved %lld, advices delivered %lld, duplicates %lld, "
      "late reversals %lld; advices drained %s ms after the start; total %s s\n",
      seed, cycles, chosen[Role::kIssuer], chosen[Role::kNetwork], chosen[Role::kAcquirer], outcomes.size(),
      unanswered, check.approvals, check.pending, check.posted, check.stand_in, check.stand_in_held,
      check.reversed, check.reversals_unknown, declined,
      unavailable, statuses.c_str(), static_cast<long long>(stats.value("stand_in_approved", 0LL)),
      static_cast<long long>(stats.value("advices_delivered", 0LL)),
      static_cast<long long>(stats.value("duplicates", 0LL)), static_cast<long long>(stats.value("late_reversals", 0LL)),
      Ms(drained_at - started).c_str(),
      std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()).c_str());
  if (HasFailure()) std::printf("kill loop failed: %s\n", rerun.c_str());
}

}  // namespace
}  // namespace tapstack::server
