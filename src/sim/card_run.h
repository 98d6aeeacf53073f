// The card network part of a simulation run (simulation.h): the demo network's switch, two
// issuer hosts, the TSP, two terminals and two phones, on the run's simulated clock and links.
// A seed plans the workload (authorisations, purchases, token taps, repeats) and the faults
// (dropped, duplicated, delayed messages, links down, crashes, failing disks); the terminals
// follow the acquirer's protocol (timeouts, reversals, completions); then it heals and gathers
// the facts the invariants (invariants.h) are checked on.
//
//   card_run_roles.cc     set-up, crashes, restarts and supervisors of the roles
//   card_run_plan.cc      the seed's workload and fault plan
//   card_run_workload.cc  the terminals: originals, repeats, reversals, completions
//   card_run_loop.cc      the event loop, healing, test corruptions and the gathered facts
// Internal to the simulator. Not thread-safe; one run per thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "acquirer/contactless_kernel.h"
#include "core/currency.h"
#include "core/random_source.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "issuer/issuer_host.h"
#include "network/switch.h"
#include "server/demo_tsp.h"
#include "sim/disk_fault.h"
#include "sim/invariants.h"
#include "sim/sim_link.h"
#include "sim/sim_world.h"
#include "sim/simulation.h"

namespace tapstack::sim::card {

// Timeouts and pacing, in simulated milliseconds.
constexpr int kTerminalTimeoutMs = 4'000;     // terminal → switch (then a reversal)
constexpr int kIssuerTimeoutMs = 1'500;       // switch → issuer (then stand-in)
constexpr int kTransactionSpacingMs = 150;    // mean gap between transactions
constexpr int kRetryIntervalMs = 500;         // a reversal or completion not answered: again
constexpr int kAdviceRetryIntervalMs = 1'000;  // Switch::DeliverStoredAdvices, as the server's timer
constexpr int kFollowUpsAttemptsMax = 200;    // reversals / completions repeated at most
constexpr int kHealAfterLastStartMs = 3'000;
constexpr int kCardsPerBank = 3;
constexpr int kPhones = 2;
constexpr std::int64_t kAmountMinMinor = 100;
constexpr std::int64_t kAmountMaxMinor = 60'000;  // above the stand-in limit (50,000) at times
// An issuer's ledger log grows in chunks of this many zero bytes; a run writes far less, and the
// default (64 MiB) would be most of a run's time.
constexpr std::uint64_t kLedgerPreallocateBytes = 256 * 1024;

inline std::string Digits(std::uint64_t v, std::size_t width) {
  std::string s = std::to_string(v);
  return s.size() >= width ? s : std::string(width - s.size(), '0') + s;
}

struct HostSpec {
  const char* node;
  std::vector<int> banks;  // demo bank indexes
};
// Two issuer hosts; 48020004 bills in HKD (cross-currency from the CNY terminal), 48020005's
// stand-in declines ("basic" STIP).
inline const std::vector<HostSpec>& Hosts() {
  static const std::vector<HostSpec> hosts = {{"issuer-a", {0, 1}}, {"issuer-b", {3, 4}}};
  return hosts;
}

struct TerminalSpec {
  const char* terminal_id;
  std::uint16_t country_numeric;
};
inline const std::vector<TerminalSpec>& Terminals() {
  static const std::vector<TerminalSpec> terminals = {{"TERM0001", 156}, {"TERM0008", 344}};
  return terminals;
}

// Forwards to whichever switch incarnation is live (the TSP's ID&V link outlives restarts).
class SwitchProxy final : public link::MessageHandler {
 public:
  explicit SwitchProxy(SimWorld& world) : world_(world) {}
  void OnRequest(iso8583::Message request, link::Reply reply) override {
    link::MessageHandler* live = world_.node("switch").handler;
    if (live == nullptr) return reply(iso8583::Message("0110"));  // never during set-up
    live->OnRequest(std::move(request), std::move(reply));
  }

 private:
  SimWorld& world_;
};

enum class Kind { kAuthorization, kPurchase, kTokenTap };

struct Card {
  int host = 0;
  std::string bank_id;
  const Currency* currency = nullptr;
  std::string pan;  // in memory only: never traced, never in a result
  std::string label;
  std::int64_t opening_minor = 0;
};

struct Phone {
  std::unique_ptr<device::SecureElement> se;
  std::unique_ptr<SeededRandom> random;
  std::unique_ptr<acquirer::ContactlessKernel> kernel;
  std::string token_id;
  int card = 0;
};

struct Terminal {
  TerminalSpec spec;
  const demo::DemoMerchant* merchant = nullptr;
  std::unique_ptr<SimLink> link;
  std::uint32_t stan = 0;
};

enum class Outcome { kNotSent, kPending, kApproved, kDeclined, kUnknown };

struct Txn {
  TxnFacts facts;
  Kind kind = Kind::kAuthorization;
  int terminal = 0;
  int card = 0;
  std::int64_t start_ms = 0;
  bool repeat = false;
  std::int64_t repeat_after_ms = 0;
  iso8583::Message request;
  Outcome outcome = Outcome::kNotSent;
  int outstanding = 0;
  bool follow_up_active = false;  // a reversal or completion loop is running
  std::uint16_t atc = 0;          // token taps: the phone's ATC (9F36)
};

// What the switch reaches while the TSP restarts: a token service that does not answer.
class DownTokenService final : public network::TokenService {
 public:
  Result<network::Detokenized> Detokenize(const iso8583::Message&) override {
    return Unavailable("the TSP is restarting");
  }
};

class CardRun {
 public:
  CardRun(const SimOptions& options, std::filesystem::path dir)
      : options_(options), dir_(std::move(dir)), world_(options.seed, options.keep_trace), proxy_(world_) {}
  ~CardRun() { Teardown(); }

  Status SetUp();
  void Plan();
  Status Loop();
  void Heal();
  Status Corrupt();
  // Checks the invariants; `more`: what the digital-currency part found (dcep_part.h).
  void Gather(std::vector<Violation> more);
  SimResult& result() { return result_; }
  SimWorld& world() { return world_; }

 private:
  // Roles.
  Status OpenIssuer(std::size_t host);
  Status OpenSwitch();
  Status OpenTsp();
  void CrashIssuer(std::size_t host);
  void RestartIssuer(std::size_t host);
  void CrashSwitch();
  void RestartSwitch();
  void CrashTsp();
  void RestartTsp();
  // Traces `node`'s restart; one that failed to open leaves the run unfinished. True when opened.
  bool Restarted(const std::string& node, const Status& opened);
  void IssuerReady(std::size_t host);
  // A supervisor: schedules the restart of every host whose ledger failed (after a seeded delay).
  void SuperviseIssuers();
  // The same for the switch, and for the TSP, whose store's disk failed.
  void SuperviseSwitch();
  // The switch is up and its store or journal failed (it must be restarted).
  bool SwitchFailed() const { return switch_ && (switch_store_failed_->load() || !switch_->Health().ok()); }
  void SuperviseTsp();
  // Once `failed()`: schedules `crash` then `restart` of `node` after a seeded delay (`due` keeps
  // it to one; the role's Open clears it), unless the role was restarted meanwhile.
  void SuperviseStore(const std::string& node, const std::function<bool()>& failed, bool& due,
                      const std::function<void()>& crash, const std::function<void()>& restart);
  // Seeds a failing write or fdatasync under `disk` (`node` names it in the faults and trace)
  // at a step before `at`.
  void PlanDiskFault(const std::shared_ptr<DiskFault>& disk, const std::string& node, std::int64_t at,
                     const std::function<void(const std::string&)>& fault);
  void Quiesce();
  void Teardown();
  // Workload.
  void Start(std::size_t i);
  void SendOriginal(std::size_t i, bool repeat);
  void OnOriginalAnswer(std::size_t i, Result<iso8583::Message> r);
  void PlanFollowUp(std::size_t i);
  void SendReversal(std::size_t i, int attempt);
  void SendCompletion(std::size_t i, iso8583::Message advice, int attempt);
  iso8583::Message BuildRequest(Txn& t, const std::string& pan, const std::string& expiry,
                                const std::string& icc, const std::string& psn);
  std::string NextStan(Terminal& terminal) { return Digits(++terminal.stan % 999'999 + 1, 6); }
  void AdviceTick();
  bool AllDone();
  void At(std::int64_t at_ms, std::string key, std::function<void()> action) {
    world_.events().Schedule(at_ms, std::move(key), std::move(action));
  }
  std::string Label(const Txn& t) const;

  SimOptions options_;
  std::filesystem::path dir_;
  SimWorld world_;
  SwitchProxy proxy_;
  SimResult result_;
  RunFacts facts_;
  demo::DemoNetwork demo_;
  std::vector<std::vector<issuer::IssuerBankConfig>> bank_configs_;
  std::vector<std::unique_ptr<issuer::IssuerHost>> hosts_;
  std::vector<std::shared_ptr<DiskFault>> disks_;  // under each host's ledger, by host
  std::vector<bool> restart_due_;                  // SuperviseIssuers scheduled a restart, by host
  std::vector<std::unique_ptr<SimLink>> issuer_links_;
  std::unique_ptr<network::Switch> switch_;
  std::shared_ptr<DiskFault> switch_disk_ = std::make_shared<DiskFault>();  // under its store
  // Set by the disk's hook when it failed this incarnation's store; a restart gets a fresh one.
  std::shared_ptr<std::atomic<bool>> switch_store_failed_ = std::make_shared<std::atomic<bool>>(false);
  bool switch_restart_due_ = false;  // SuperviseSwitch scheduled a restart
  // Under the switch's message journal: a failure shows in Switch::Health, which the supervisor
  // watches.
  std::shared_ptr<DiskFault> journal_disk_ = std::make_shared<DiskFault>();
  std::unique_ptr<server::DemoTsp> tsp_;
  std::shared_ptr<DiskFault> tsp_disk_ = std::make_shared<DiskFault>();  // under tsp.db
  std::shared_ptr<std::atomic<bool>> tsp_store_failed_ = std::make_shared<std::atomic<bool>>(false);
  bool tsp_restart_due_ = false;  // SuperviseTsp scheduled a restart
  DownTokenService tsp_down_;     // the switch's token service while the TSP is down
  std::vector<Card> cards_;
  std::vector<Phone> phones_;
  std::vector<Terminal> terminals_;
  std::vector<Txn> txns_;
  std::map<std::string, std::size_t> txn_by_key_;  // terminal id + STAN → txn
  std::int64_t heal_ms_ = 0;
  bool healed_ = false;
  std::int64_t steps_ = 0;
};

}  // namespace tapstack::sim::card
