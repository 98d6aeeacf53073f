#include "sim/simulation.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "acquirer/contactless_kernel.h"
#include "core/currency.h"
#include "core/random_source.h"
#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "iso8583/original_data_elements.h"
#include "issuer/issuer_host.h"
#include "network/switch.h"
#include "server/demo_tsp.h"
#include "server/demo_wiring.h"
#include "sim/dcep_part.h"
#include "sim/disk_fault.h"
#include "sim/sim_link.h"
#include "sim/sim_world.h"
#include "store/fault_vfs.h"
#include "store/sqlite_store.h"
#include "tsp/otp_challenge.h"
#include "tsp/tsp_service.h"

namespace tapstack::sim {

namespace {

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

std::string Digits(std::uint64_t v, std::size_t width) {
  std::string s = std::to_string(v);
  return s.size() >= width ? s : std::string(width - s.size(), '0') + s;
}

struct HostSpec {
  const char* node;
  std::vector<int> banks;  // demo bank indexes
};
// Two issuer hosts; 48020004 bills in HKD (cross-currency from the CNY terminal), 48020005's
// stand-in declines ("basic" STIP).
const std::vector<HostSpec>& Hosts() {
  static const std::vector<HostSpec> hosts = {{"issuer-a", {0, 1}}, {"issuer-b", {3, 4}}};
  return hosts;
}

struct TerminalSpec {
  const char* terminal_id;
  std::uint16_t country_numeric;
};
const std::vector<TerminalSpec>& Terminals() {
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
};

class Run {
 public:
  Run(const SimOptions& options, std::filesystem::path dir)
      : options_(options), dir_(std::move(dir)), world_(options.seed, options.keep_trace), proxy_(world_) {}
  ~Run() { Teardown(); }

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
  void CrashIssuer(std::size_t host);
  void RestartIssuer(std::size_t host);
  void CrashSwitch();
  void RestartSwitch();
  void IssuerReady(std::size_t host);
  // A supervisor: schedules the restart of every host whose ledger failed (after a seeded delay).
  void SuperviseIssuers();
  // The same for the switch whose store's disk failed.
  void SuperviseSwitch();
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
  std::unique_ptr<server::DemoTsp> tsp_;
  std::vector<Card> cards_;
  std::vector<Phone> phones_;
  std::vector<Terminal> terminals_;
  std::vector<Txn> txns_;
  std::map<std::string, std::size_t> txn_by_key_;  // terminal id + STAN → txn
  std::int64_t heal_ms_ = 0;
  bool healed_ = false;
  std::int64_t steps_ = 0;
};

std::string Run::Label(const Txn& t) const {
  const char* kind = t.kind == Kind::kPurchase ? "0200" : t.kind == Kind::kTokenTap ? "0100 token" : "0100";
  return terminals_[static_cast<std::size_t>(t.terminal)].spec.terminal_id + std::string(" stan=") +
         std::string(t.request.Get(11).value_or("-")) + " " + kind;
}

// ---- roles ----

Status Run::OpenIssuer(std::size_t host) {
  issuer::IssuerOptions o;
  o.data_dir = dir_ / Hosts()[host].node;
  o.name = "issuer";
  o.clock = &world_.clock();
  o.ledger_preallocate_bytes = kLedgerPreallocateBytes;
  disks_[host]->Disarm();  // a restarted host gets a healthy disk
  o.open_ledger_file = disks_[host]->Opener();
  restart_due_[host] = false;
  TS_ASSIGN_OR_RETURN(hosts_[host], issuer::IssuerHost::Open(o, bank_configs_[host]));
  world_.node(Hosts()[host].node).handler = hosts_[host].get();
  return Status::Ok();
}

Status Run::OpenSwitch() {
  // As server::OpenDemoSwitch, with the TSP step on the request thread (deterministic).
  std::vector<network::BinRange> ranges = server::DemoTokenBinRanges(demo_);
  for (const demo::DemoBank& b : demo_.banks) {
    for (const auto* list : {&b.credit_bins, &b.debit_bins}) {
      for (const auto& r : *list) ranges.push_back({r.low, r.high, b.institution_id, network::RangeKind::kIssuer});
    }
  }
  TS_ASSIGN_OR_RETURN(network::BinTable bins, network::BinTable::Build(std::move(ranges)));
  TS_ASSIGN_OR_RETURN(network::FxTable fx, server::DemoFxTable(demo_));
  network::SwitchOptions so;
  so.network_institution_id = demo_.network_institution_id;
  so.token_step_threads = 0;
  // The store sits on a disk the seed may fail (disk_fault.h); a restarted switch gets a healthy
  // one. The journal is not on it: losing a journal row answers nobody wrongly.
  store::RegisterFaultVfs();
  switch_disk_->Disarm();
  switch_restart_due_ = false;
  switch_store_failed_ = std::make_shared<std::atomic<bool>>(false);
  store::SetFaultHook(store::SqlitePath(dir_ / "network", "network"), switch_disk_->SqliteHook(switch_store_failed_));
  store::StoreOptions store_options;
  store_options.sqlite_vfs = store::kFaultVfsName;
  TS_ASSIGN_OR_RETURN(auto store, store::OpenSqlite(dir_ / "network", "network", store_options));
  TS_ASSIGN_OR_RETURN(auto journal, store::OpenSqlite(dir_ / "network", "network_journal"));
  TS_ASSIGN_OR_RETURN(switch_, network::Switch::Create(so, std::move(bins), std::move(fx), world_.clock(),
                                                       std::move(store), std::move(journal)));
  for (std::size_t h = 0; h < Hosts().size(); ++h) {
    for (int b : Hosts()[h].banks) {
      TS_RETURN_IF_ERROR(server::AddDemoIssuer(*switch_, demo_.banks[static_cast<std::size_t>(b)], *issuer_links_[h]));
    }
  }
  if (tsp_) switch_->SetTokenService(&tsp_->token_service());
  world_.node("switch").handler = switch_.get();
  return Status::Ok();
}

void Run::IssuerReady(std::size_t host) {
  if (!switch_ || !hosts_[host] || !issuer_links_[host]->ready()) return;
  for (int b : Hosts()[host].banks) switch_->OnIssuerReady(demo_.banks[static_cast<std::size_t>(b)].institution_id);
}

void Run::CrashIssuer(std::size_t host) {
  if (!hosts_[host]) return;
  SimNode& node = world_.node(Hosts()[host].node);
  node.handler = nullptr;
  ++node.incarnation;
  hosts_[host].reset();
  world_.Count("crashes");
  world_.Trace(std::string(Hosts()[host].node) + " crash");
}

void Run::RestartIssuer(std::size_t host) {
  if (hosts_[host]) return;
  const Status s = OpenIssuer(host);
  world_.Trace(std::string(Hosts()[host].node) + " restart" + (s.ok() ? "" : " failed"));
  if (!s.ok()) {
    facts_.finished = false;
    facts_.unfinished_reason = std::string(Hosts()[host].node) + " did not restart: " + s.ToString();
    return;
  }
  IssuerReady(host);
}

void Run::CrashSwitch() {
  if (!switch_) return;
  SimNode& node = world_.node("switch");
  node.handler = nullptr;
  ++node.incarnation;
  switch_->SetTokenService(nullptr);
  switch_.reset();
  world_.Count("crashes");
  world_.Trace("switch crash");
}

void Run::RestartSwitch() {
  if (switch_) return;
  const Status s = OpenSwitch();
  world_.Trace(std::string("switch restart") + (s.ok() ? "" : " failed"));
  if (!s.ok()) {
    facts_.finished = false;
    facts_.unfinished_reason = "the switch did not restart: " + s.ToString();
    return;
  }
  for (std::size_t h = 0; h < hosts_.size(); ++h) IssuerReady(h);
}

void Run::SuperviseIssuers() {
  for (std::size_t h = 0; h < hosts_.size(); ++h) {
    if (!hosts_[h] || restart_due_[h] || !hosts_[h]->ledger_failed()) continue;
    restart_due_[h] = true;
    world_.Count("disk-failures");
    world_.Trace(std::string(Hosts()[h].node) + " ledger failed");
    At(world_.now_ms() + world_.Uniform(200, 2'000), std::string("supervisor-restart|") + Hosts()[h].node, [this, h] {
      if (!hosts_[h] || !hosts_[h]->ledger_failed()) return;  // crashed and restarted meanwhile
      CrashIssuer(h);
      RestartIssuer(h);
    });
  }
}

void Run::SuperviseSwitch() {
  if (!switch_ || switch_restart_due_ || !switch_store_failed_->load()) return;
  switch_restart_due_ = true;
  world_.Count("disk-failures");
  world_.Trace("switch store failed");
  At(world_.now_ms() + world_.Uniform(200, 2'000), "supervisor-restart|switch", [this] {
    if (!switch_ || !switch_store_failed_->load()) return;  // crashed and restarted meanwhile
    CrashSwitch();
    RestartSwitch();
  });
}

void Run::Quiesce() {
  // Issuers' and the switch's work reaches other roles only through SimLinks (staged events), so
  // one pass over the roles leaves the whole system idle.
  for (auto& host : hosts_) {
    if (host) host->WaitIdle();
  }
  if (switch_) switch_->WaitIdle();
}

void Run::Teardown() {
  phones_.clear();
  if (switch_) switch_->SetTokenService(nullptr);
  tsp_.reset();
  switch_.reset();
  store::SetFaultHook(store::SqlitePath(dir_ / "network", "network"), {});
  hosts_.clear();
}

Status Run::SetUp() {
  // Every node exists before any thread reads the table (SimLink::Send reads incarnations).
  for (const char* name : {"switch", "issuer-a", "issuer-b", "test-corruption"}) world_.node(name);
  for (const TerminalSpec& spec : Terminals()) world_.node(spec.terminal_id);
  TS_ASSIGN_OR_RETURN(std::filesystem::path seed_path, demo::DefaultSeedPath());
  TS_ASSIGN_OR_RETURN(demo_, demo::LoadDemoNetwork(seed_path));
  hosts_.resize(Hosts().size());
  restart_due_.assign(Hosts().size(), false);
  for (std::size_t h = 0; h < Hosts().size(); ++h) disks_.push_back(std::make_shared<DiskFault>());
  for (const char* sub : {"network", "tsp", "issuer-a", "issuer-b"}) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ / sub, ec);
    if (ec) return IoError("sim set-up: cannot create " + (dir_ / sub).string() + ": " + ec.message());
  }
  for (std::size_t h = 0; h < Hosts().size(); ++h) {
    std::vector<std::string> ids;
    for (int b : Hosts()[h].banks) ids.push_back(demo_.banks[static_cast<std::size_t>(b)].institution_id);
    TS_ASSIGN_OR_RETURN(auto configs, server::DemoIssuerBanks(demo_, ids));
    bank_configs_.push_back(std::move(configs));
    TS_RETURN_IF_ERROR(OpenIssuer(h));
    TS_RETURN_IF_ERROR(server::SeedDemoCards(*hosts_[h], demo_, ids, kCardsPerBank));
    SimLinkOptions lo;
    lo.from = "switch";
    lo.to = Hosts()[h].node;
    lo.timeout_ms = kIssuerTimeoutMs;
    issuer_links_.push_back(std::make_unique<SimLink>(world_, lo));
    issuer_links_.back()->set_immediate(true);
    const std::string first = ids.front();
    issuer_links_.back()->set_late_response_handler([this, first](iso8583::Message m) {
      if (switch_) switch_->OnLateResponse(first, std::move(m));
    });
    for (int b : Hosts()[h].banks) {
      const demo::DemoBank& bank = demo_.banks[static_cast<std::size_t>(b)];
      for (demo::CardKind kind : {demo::CardKind::kDebit, demo::CardKind::kCredit}) {
        if ((kind == demo::CardKind::kDebit ? bank.debit_bins : bank.credit_bins).empty()) continue;
        for (int i = 0; i < kCardsPerBank; ++i) {
          Card c;
          c.host = static_cast<int>(h);
          c.bank_id = bank.institution_id;
          c.currency = bank.currency;
          TS_ASSIGN_OR_RETURN(c.pan, demo::DemoCardNumber(bank, kind, i));
          c.label = bank.institution_id + (kind == demo::CardKind::kDebit ? "/debit/" : "/credit/") + std::to_string(i);
          cards_.push_back(std::move(c));
        }
      }
    }
  }
  TS_RETURN_IF_ERROR(OpenSwitch());
  TS_ASSIGN_OR_RETURN(tsp_, server::DemoTsp::Open(demo_, dir_ / "tsp", world_.clock(), proxy_));
  switch_->SetTokenService(&tsp_->token_service());

  // Phones: card 0 (debit) of the first bank of each host, bound as the wallet does it.
  const std::string requestor = demo_.tsp.requestors.at(0).id;
  for (int p = 0; p < kPhones; ++p) {
    Phone phone;
    const std::string want = demo_.banks[static_cast<std::size_t>(Hosts()[static_cast<std::size_t>(p)].banks[0])].institution_id + "/debit/0";
    for (std::size_t c = 0; c < cards_.size(); ++c) {
      if (cards_[c].label == want) phone.card = static_cast<int>(c);
    }
    const Card& card = cards_[static_cast<std::size_t>(phone.card)];
    device::SecureElementOptions so;
    so.data_dir = dir_ / ("phone-" + std::to_string(p));
    so.device_id = "sim-phone-" + std::to_string(p);
    TS_ASSIGN_OR_RETURN(phone.se, device::SecureElement::Open(so));
    tsp::ProvisionRequest request;
    request.requestor_id = requestor;
    request.device_id = so.device_id;
    request.device_public_key = phone.se->public_key();
    request.pan = card.pan;
    request.pan_expiry = demo::kDemoCardExpiry;
    TS_ASSIGN_OR_RETURN(request.cvv2, demo::DemoCardCvv2(card.bank_id, card.pan, demo::kDemoCardExpiry));
    request.holder_name = "SIM";
    request.phone = "+86139" + Digits(static_cast<std::uint64_t>(p), 8);
    const std::string number = request.phone;
    TS_ASSIGN_OR_RETURN(tsp::ProvisionOutcome outcome, tsp_->service().Provision(std::move(request)));
    if (outcome.decision == tsp::ProvisionDecision::kStepUp) {
      TS_ASSIGN_OR_RETURN(std::vector<tsp::SmsOutboxMessage> sms, tsp_->service().SmsOutbox(number, 0));
      const std::string code = sms.empty() ? std::string() : tsp::OtpFromSmsText(sms.back().text);
      if (code.empty()) return Internal("sim set-up: no OTP for phone " + std::to_string(p));
      TS_ASSIGN_OR_RETURN(tsp::OtpVerification verified,
                          tsp_->service().VerifyOtp(requestor, outcome.token->token_id, code));
      if (verified.outcome != tsp::OtpOutcome::kVerified) return Internal("sim set-up: OTP not verified");
      outcome = std::move(verified.approved);
    }
    if (outcome.decision != tsp::ProvisionDecision::kApproved) {
      return Internal("sim set-up: provisioning phone " + std::to_string(p) + ": " + outcome.decline_reason);
    }
    TS_RETURN_IF_ERROR(phone.se->InstallToken(outcome.token->token_id, outcome.credentials));
    phone.token_id = outcome.token->token_id;
    phone.random = std::make_unique<SeededRandom>(options_.seed * 1'000 + static_cast<std::uint64_t>(p));
    device::SecureElement* se = phone.se.get();
    phone.kernel = std::make_unique<acquirer::ContactlessKernel>(
        [se](ByteView capdu) -> Result<Bytes> { return se->Transmit(capdu); }, *phone.random, world_.clock());
    phones_.push_back(std::move(phone));
  }
  for (auto& l : issuer_links_) l->set_immediate(false);
  for (const TerminalSpec& spec : Terminals()) {
    Terminal t;
    t.spec = spec;
    for (const demo::DemoMerchant& m : demo_.merchants) {
      if (m.terminal_id == spec.terminal_id) t.merchant = &m;
    }
    if (t.merchant == nullptr) return NotFound(std::string("sim set-up: no merchant with terminal ") + spec.terminal_id);
    SimLinkOptions lo;
    lo.from = spec.terminal_id;
    lo.to = "switch";
    lo.timeout_ms = kTerminalTimeoutMs;
    t.link = std::make_unique<SimLink>(world_, lo);
    t.link->set_delivery_observer([this, id = std::string(spec.terminal_id)](const iso8583::Message& m) {
      auto it = txn_by_key_.find(id + "|" + std::string(m.Get(11).value_or("")));
      if (it == txn_by_key_.end()) return;
      TxnFacts& f = txns_[it->second].facts;
      if (f.first_at_switch_ms < 0 && (m.mti() == "0100" || m.mti() == "0101" || m.mti() == "0200" || m.mti() == "0201")) {
        f.first_at_switch_ms = world_.now_ms();
      }
    });
    terminals_.push_back(std::move(t));
  }
  for (Card& c : cards_) {
    TS_ASSIGN_OR_RETURN(c.opening_minor, hosts_[static_cast<std::size_t>(c.host)]->AvailableMinor(c.bank_id, c.pan));
  }
  return Status::Ok();
}

// ---- plan ----

void Run::Plan() {
  std::int64_t at = 0;
  txns_.resize(static_cast<std::size_t>(options_.transactions));
  for (std::size_t i = 0; i < txns_.size(); ++i) {
    Txn& t = txns_[i];
    at += world_.Uniform(1, 2 * kTransactionSpacingMs);
    t.start_ms = at;
    t.terminal = static_cast<int>(world_.Uniform(0, static_cast<std::int64_t>(terminals_.size()) - 1));
    const std::int64_t roll = world_.Uniform(0, 99);
    t.kind = roll < 35 ? Kind::kAuthorization : roll < 70 ? Kind::kPurchase : Kind::kTokenTap;
    if (t.kind == Kind::kTokenTap) {
      t.facts.phone = static_cast<int>(world_.Uniform(0, kPhones - 1));
      t.card = phones_[static_cast<std::size_t>(t.facts.phone)].card;
    } else {
      t.card = static_cast<int>(world_.Uniform(0, static_cast<std::int64_t>(cards_.size()) - 1));
    }
    t.facts.amount_minor = world_.Uniform(kAmountMinMinor, kAmountMaxMinor);
    t.repeat = world_.Chance(0.15);
    t.repeat_after_ms = world_.Uniform(kTerminalTimeoutMs / 4, kTerminalTimeoutMs * 3 / 4);
    At(t.start_ms, "start|" + Digits(i, 6), [this, i] { Start(i); });
  }
  heal_ms_ = at + kHealAfterLastStartMs;
  At(heal_ms_, "heal", [this] { Heal(); });
  At(kAdviceRetryIntervalMs, "advice-tick", [this] { AdviceTick(); });

  if (!options_.link_faults) {
    world_.faults().drop_request = world_.faults().drop_response = 0;
    world_.faults().duplicate_request = world_.faults().slow = 0;
  }
  auto fault = [this](const std::string& text) {
    result_.faults.push_back(text);
  };
  if (options_.link_outages) {
    for (std::size_t h = 0; h < issuer_links_.size(); ++h) {
      if (!world_.Chance(0.3)) continue;
      const std::int64_t from = world_.Uniform(0, at);
      const std::int64_t to = from + world_.Uniform(100, 3'000);
      fault("link " + issuer_links_[h]->name() + " down t=" + std::to_string(from) + ".." + std::to_string(to));
      At(from, "outage|" + issuer_links_[h]->name(), [this, h] {
        world_.Count("link-outages");
        issuer_links_[h]->set_up(false);
      });
      At(to, "outage-end|" + issuer_links_[h]->name(), [this, h] {
        issuer_links_[h]->set_up(true);
        IssuerReady(h);
      });
    }
    if (world_.Chance(0.15)) {
      const std::size_t k = static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(terminals_.size()) - 1));
      const std::int64_t from = world_.Uniform(0, at);
      const std::int64_t to = from + world_.Uniform(100, 2'000);
      fault("link " + terminals_[k].link->name() + " down t=" + std::to_string(from) + ".." + std::to_string(to));
      At(from, "outage|" + terminals_[k].link->name(), [this, k] {
        world_.Count("link-outages");
        terminals_[k].link->set_up(false);
      });
      At(to, "outage-end|" + terminals_[k].link->name(), [this, k] { terminals_[k].link->set_up(true); });
    }
  }
  const bool issuer_crash = options_.force_issuer_crash || (options_.crashes && world_.Chance(0.3));
  if (issuer_crash) {
    const std::size_t h = static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(hosts_.size()) - 1));
    const std::int64_t when = world_.Uniform(1, at);
    const std::int64_t back = when + world_.Uniform(200, 3'000);
    fault(std::string(Hosts()[h].node) + " crash t=" + std::to_string(when) + " restart t=" + std::to_string(back));
    At(when, std::string("crash|") + Hosts()[h].node, [this, h] { CrashIssuer(h); });
    At(back, std::string("restart|") + Hosts()[h].node, [this, h] { RestartIssuer(h); });
  }
  const bool switch_crash = options_.force_switch_crash || (options_.crashes && world_.Chance(0.2));
  if (switch_crash) {
    const std::int64_t when = world_.Uniform(1, at);
    const std::int64_t back = when + world_.Uniform(200, 3'000);
    fault("switch crash t=" + std::to_string(when) + " restart t=" + std::to_string(back));
    At(when, "crash|switch", [this] { CrashSwitch(); });
    At(back, "restart|switch", [this] { RestartSwitch(); });
  }
  const bool suspension = options_.force_suspension || (options_.suspensions && world_.Chance(0.3));
  if (suspension) {
    const int p = static_cast<int>(world_.Uniform(0, kPhones - 1));
    const std::int64_t when = world_.Uniform(1, at);
    fault("phone " + std::to_string(p) + " token suspended t=" + std::to_string(when));
    At(when, "suspend|" + std::to_string(p), [this, p] {
      auto view = tsp_->service().Suspend(demo_.tsp.requestors.at(0).id, phones_[static_cast<std::size_t>(p)].token_id,
                                          "lost phone");
      world_.Trace("wallet>tsp suspend phone=" + std::to_string(p) + (view.ok() ? " ok" : " failed"));
      if (view.ok()) {
        facts_.suspended_at_ms[p] = world_.now_ms();
        world_.Count("suspensions");
      }
    });
  }
  if (options_.force_disk_fault || (options_.disk_faults && world_.Chance(0.3))) {
    const std::size_t h = static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(hosts_.size()) - 1));
    PlanDiskFault(disks_[h], Hosts()[h].node, at, fault);
  }
  if (options_.force_switch_disk_fault || (options_.disk_faults && world_.Chance(0.25))) {
    PlanDiskFault(switch_disk_, "switch", at, fault);
  }
}

void Run::PlanDiskFault(const std::shared_ptr<DiskFault>& disk, const std::string& node, std::int64_t at,
                        const std::function<void(const std::string&)>& fault) {
  const std::int64_t when = world_.Uniform(1, at);
  const DiskFailure failure = world_.Chance(0.5) ? DiskFailure::kWrite : DiskFailure::kSync;
  const DiskAftermath aftermath = world_.Chance(0.5) ? DiskAftermath::kLost : DiskAftermath::kKept;
  const std::string what = std::string(failure == DiskFailure::kWrite ? "write" : "fdatasync") + " fails, writes " +
                           (aftermath == DiskAftermath::kLost ? "lost" : "kept");
  fault(node + " disk: next " + what + " t=" + std::to_string(when));
  At(when, "disk-fault|" + node, [this, disk, node, failure, aftermath, what] {
    if (healed_) return;
    disk->Arm(failure, aftermath);
    world_.Trace(node + " disk armed: next " + what);
  });
}

// ---- workload ----

iso8583::Message Run::BuildRequest(Txn& t, const std::string& pan, const std::string& expiry,
                                   const std::string& icc, const std::string& psn) {
  Terminal& term = terminals_[static_cast<std::size_t>(t.terminal)];
  const std::int64_t now_ms = world_.clock().NowUnixMillis();
  std::time_t seconds = now_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  const std::string mmdd = Digits(static_cast<std::uint64_t>(tm.tm_mon + 1), 2) + Digits(static_cast<std::uint64_t>(tm.tm_mday), 2);
  const std::string hhmmss = Digits(static_cast<std::uint64_t>(tm.tm_hour), 2) +
                             Digits(static_cast<std::uint64_t>(tm.tm_min), 2) + Digits(static_cast<std::uint64_t>(tm.tm_sec), 2);
  const std::string stan = NextStan(term);
  iso8583::Message m(t.kind == Kind::kPurchase ? "0200" : "0100");
  m.Set(2, pan);
  m.Set(3, "000000");
  m.Set(4, Digits(static_cast<std::uint64_t>(t.facts.amount_minor), 12));
  m.Set(7, mmdd + hhmmss);
  m.Set(11, stan);
  m.Set(12, hhmmss);
  m.Set(13, mmdd);
  m.Set(14, expiry);
  m.Set(18, term.merchant->mcc);
  m.Set(19, Digits(term.spec.country_numeric, 3));
  m.Set(22, t.kind == Kind::kTokenTap ? "071" : "051");
  m.Set(25, "00");
  if (!psn.empty()) m.Set(23, "0" + psn);
  m.Set(32, term.merchant->acquirer_id);
  m.Set(37, Digits(static_cast<std::uint64_t>(tm.tm_yday), 3) + hhmmss.substr(0, 3) + stan);
  m.Set(41, term.spec.terminal_id);
  m.Set(42, term.merchant->merchant_id);
  std::string name = term.merchant->name.substr(0, 40);
  m.Set(43, name + std::string(40 - name.size(), ' '));
  m.Set(49, Digits(term.merchant->currency->numeric, 3));
  if (!icc.empty()) m.Set(55, icc);
  return m;
}

void Run::Start(std::size_t i) {
  Txn& t = txns_[i];
  Terminal& term = terminals_[static_cast<std::size_t>(t.terminal)];
  const Card& card = cards_[static_cast<std::size_t>(t.card)];
  t.facts.step = static_cast<int>(steps_);
  t.facts.card = card.label;
  t.facts.dual_message = t.kind != Kind::kPurchase;
  t.facts.token = t.kind == Kind::kTokenTap;
  t.facts.same_currency = *card.currency == *term.merchant->currency;
  if (t.kind == Kind::kTokenTap) {
    Phone& phone = phones_[static_cast<std::size_t>(t.facts.phone)];
    phone.se->BiometricVerified();
    acquirer::ContactlessTerminalData data;
    data.amount_authorised_minor = static_cast<std::uint64_t>(t.facts.amount_minor);
    data.currency_numeric = term.merchant->currency->numeric;
    data.country_numeric = term.spec.country_numeric;
    auto tap = phone.kernel->Run(data);
    if (!tap.ok() || tap->outcome != acquirer::KernelOutcome::kOnlineRequest) {
      world_.Trace(std::string(term.spec.terminal_id) + " tap declined by the kernel");
      world_.Count("taps-refused-offline");
      return;
    }
    t.request = BuildRequest(t, tap->token_number, tap->expiry_yymm,
                             std::string(tap->icc_data.begin(), tap->icc_data.end()), tap->psn);
  } else {
    t.request = BuildRequest(t, card.pan, demo::kDemoCardExpiry, "", "");
  }
  t.facts.label = Label(t);
  txn_by_key_[std::string(term.spec.terminal_id) + "|" + std::string(*t.request.Get(11))] = i;
  t.outcome = Outcome::kPending;
  world_.Count("transactions");
  SendOriginal(i, false);
  if (t.repeat) {
    At(world_.now_ms() + t.repeat_after_ms, "repeat|" + Digits(i, 6), [this, i] {
      if (txns_[i].outcome == Outcome::kPending) SendOriginal(i, true);
    });
  }
}

void Run::SendOriginal(std::size_t i, bool repeat) {
  Txn& t = txns_[i];
  iso8583::Message m = t.request;
  if (repeat) {
    std::string mti(m.mti());
    mti[3] = '1';
    m.set_mti(mti);
    world_.Count("repeats");
  }
  ++t.outstanding;
  terminals_[static_cast<std::size_t>(t.terminal)].link->Send(
      std::move(m), [this, i](Result<iso8583::Message> r) { OnOriginalAnswer(i, std::move(r)); });
}

void Run::OnOriginalAnswer(std::size_t i, Result<iso8583::Message> r) {
  Txn& t = txns_[i];
  --t.outstanding;
  if (r.ok()) {
    const std::string rc(r->Get(39).value_or(""));
    if (rc == "94") {  // a copy the link duplicated: says nothing about the original
      if (t.outstanding == 0 && t.outcome == Outcome::kPending) {
        t.outcome = Outcome::kUnknown;
        SendReversal(i, 0);
      }
      return;
    }
    const bool approved = rc == "00";
    if (t.outcome == Outcome::kPending) {
      t.outcome = approved ? Outcome::kApproved : Outcome::kDeclined;
      t.facts.approved = approved;
      t.facts.declined = !approved;
      world_.Count(approved ? "approved" : "declined");
      if (approved) PlanFollowUp(i);
    } else if ((t.outcome == Outcome::kApproved || t.outcome == Outcome::kDeclined) &&
               approved != (t.outcome == Outcome::kApproved)) {
      t.facts.answers_disagree = true;
    }
    return;
  }
  if (t.outstanding == 0 && t.outcome == Outcome::kPending) {
    // Outcome unknown: the issuer may hold the money, so reverse it (repeated until acknowledged).
    t.outcome = Outcome::kUnknown;
    world_.Count("unknown");
    SendReversal(i, 0);
  }
}

void Run::PlanFollowUp(std::size_t i) {
  Txn& t = txns_[i];
  const std::int64_t when = world_.now_ms() + world_.Uniform(50, 2'000);
  if (t.kind == Kind::kAuthorization && world_.Chance(0.35)) {
    const std::int64_t final_minor = std::max<std::int64_t>(1, t.facts.amount_minor * world_.Uniform(50, 100) / 100);
    t.follow_up_active = true;
    At(when, "complete|" + Digits(i, 6), [this, i, final_minor] {
      Txn& x = txns_[i];
      Terminal& term = terminals_[static_cast<std::size_t>(x.terminal)];
      iso8583::Message advice("0220");
      for (int f : {2, 3, 14, 18, 19, 22, 25, 32, 37, 41, 42, 43, 49}) {
        if (auto v = x.request.Get(f)) advice.Set(f, *v);
      }
      iso8583::OriginalDataElements ode{std::string(x.request.mti()), std::string(*x.request.Get(11)),
                                        std::string(*x.request.Get(7)), term.merchant->acquirer_id, ""};
      if (auto de90 = ode.ToField(); de90.ok()) advice.Set(90, *de90);
      advice.Set(4, Digits(static_cast<std::uint64_t>(final_minor), 12));
      advice.Set(7, std::string(*x.request.Get(7)));
      advice.Set(11, NextStan(term));
      advice.Set(12, std::string(*x.request.Get(12)));
      advice.Set(13, std::string(*x.request.Get(13)));
      x.facts.completed_minor = final_minor;
      world_.Count("completions");
      SendCompletion(i, std::move(advice), 0);
    });
  } else if (world_.Chance(0.2)) {
    t.follow_up_active = true;
    At(when, "reverse|" + Digits(i, 6), [this, i] { SendReversal(i, 0); });
  }
}

void Run::SendReversal(std::size_t i, int attempt) {
  Txn& t = txns_[i];
  t.follow_up_active = true;
  if (attempt == 0) world_.Count("reversals");
  if (attempt >= kFollowUpsAttemptsMax) {
    t.facts.reversal_unfinished = true;
    t.follow_up_active = false;
    return;
  }
  Terminal& term = terminals_[static_cast<std::size_t>(t.terminal)];
  iso8583::Message reversal(attempt == 0 ? "0400" : "0401");
  for (int f : {2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49}) {
    if (auto v = t.request.Get(f)) reversal.Set(f, *v);
  }
  iso8583::OriginalDataElements ode{std::string(t.request.mti()), std::string(*t.request.Get(11)),
                                    std::string(*t.request.Get(7)), term.merchant->acquirer_id, ""};
  if (auto de90 = ode.ToField(); de90.ok()) reversal.Set(90, *de90);
  term.link->Send(std::move(reversal), [this, i, attempt](Result<iso8583::Message> r) {
    Txn& x = txns_[i];
    if (r.ok()) {
      x.facts.reversal_acknowledged = true;
      x.follow_up_active = false;
      return;
    }
    At(world_.now_ms() + kRetryIntervalMs, "reverse|" + Digits(i, 6) + "|" + std::to_string(attempt + 1),
       [this, i, attempt] { SendReversal(i, attempt + 1); });
  });
}

void Run::SendCompletion(std::size_t i, iso8583::Message advice, int attempt) {
  Txn& t = txns_[i];
  if (attempt >= kFollowUpsAttemptsMax) {
    t.facts.completion_unfinished = true;
    t.follow_up_active = false;
    return;
  }
  iso8583::Message m = advice;
  if (attempt > 0) m.set_mti("0221");
  terminals_[static_cast<std::size_t>(t.terminal)].link->Send(
      std::move(m), [this, i, attempt, advice = std::move(advice)](Result<iso8583::Message> r) mutable {
        Txn& x = txns_[i];
        if (r.ok()) {
          x.facts.completion_acknowledged = r->Get(39) == std::string_view("00");
          x.follow_up_active = false;
          return;
        }
        At(world_.now_ms() + kRetryIntervalMs, "complete|" + Digits(i, 6) + "|" + std::to_string(attempt + 1),
           [this, i, attempt, advice = std::move(advice)]() mutable { SendCompletion(i, std::move(advice), attempt + 1); });
      });
}

// ---- run ----

void Run::AdviceTick() {
  if (switch_) switch_->DeliverStoredAdvices();
  if (healed_ && AllDone()) return;  // the last tick: nothing left to retry
  At(world_.now_ms() + kAdviceRetryIntervalMs, "advice-tick", [this] { AdviceTick(); });
}

bool Run::AllDone() {
  if (!switch_ || switch_store_failed_->load()) return false;
  for (const auto& h : hosts_) {
    if (!h || h->ledger_failed()) return false;
  }
  for (const Txn& t : txns_) {
    if (t.outcome == Outcome::kNotSent && t.start_ms > world_.now_ms()) return false;
    if (t.outstanding > 0 || t.follow_up_active || t.outcome == Outcome::kPending) return false;
  }
  for (const auto& l : issuer_links_) {
    if (l->waiting() > 0) return false;
  }
  for (const auto& [issuer, pending] : switch_->PendingAdvices()) {
    if (pending > 0) return false;
  }
  return true;
}

void Run::Heal() {
  healed_ = true;
  world_.Trace("heal");
  LinkFaultRates& f = world_.faults();
  f.drop_request = f.drop_response = f.duplicate_request = f.slow = 0;
  for (const auto& disk : disks_) disk->Disarm();  // a failure already seen is still restarted
  switch_disk_->Disarm();
  for (std::size_t h = 0; h < hosts_.size(); ++h) RestartIssuer(h);
  RestartSwitch();
  for (std::size_t h = 0; h < issuer_links_.size(); ++h) {
    issuer_links_[h]->set_up(true);
    IssuerReady(h);
  }
  for (Terminal& t : terminals_) t.link->set_up(true);
}

Status Run::Loop() {
  world_.events().Commit();
  while (auto event = world_.events().Pop()) {
    if (steps_ >= options_.steps_max) {
      facts_.finished = false;
      facts_.unfinished_reason = "more than " + std::to_string(options_.steps_max) + " steps (--steps-max)";
      break;
    }
    ++steps_;
    const std::int64_t delta = event->at_ms - world_.now_ms();
    if (delta > 0) world_.clock().AdvanceMillis(delta);
    event->action();
    Quiesce();
    SuperviseIssuers();
    SuperviseSwitch();
    world_.events().Commit();
  }
  result_.steps = steps_;
  result_.simulated_ms = world_.now_ms();
  if (facts_.finished && !AllDone()) {
    facts_.finished = false;
    facts_.unfinished_reason = "the agenda emptied with work left (a role down, a loop pending)";
  }
  return Status::Ok();
}

Status Run::Corrupt() {
  // The kDcep* ones are done by the digital-currency part (dcep_part.h).
  if (options_.corruption == TestCorruption::kNone ||
      options_.corruption == TestCorruption::kDcepDoubleCredit ||
      options_.corruption == TestCorruption::kDcepUnrecordedPayment) {
    return Status::Ok();
  }
  for (Txn& t : txns_) {
    if (!t.facts.approved || t.facts.reversal_acknowledged || t.follow_up_active) continue;
    const bool hold = t.kind == Kind::kAuthorization && !t.facts.completion_acknowledged && t.facts.completed_minor == 0;
    const bool purchase = t.kind == Kind::kPurchase;
    if ((options_.corruption == TestCorruption::kRemoveHold && !hold) ||
        (options_.corruption == TestCorruption::kDoublePosting && !purchase)) {
      continue;
    }
    const Card& card = cards_[static_cast<std::size_t>(t.card)];
    iso8583::Message m = t.request;
    if (options_.corruption == TestCorruption::kRemoveHold) {
      m.set_mti("0400");
      iso8583::OriginalDataElements ode{"0100", std::string(*t.request.Get(11)), std::string(*t.request.Get(7)),
                                        std::string(*t.request.Get(32)), ""};
      TS_ASSIGN_OR_RETURN(std::string de90, ode.ToField());
      m.Set(90, de90);
    } else {
      m.Set(11, "999999");
    }
    SimLinkOptions lo;
    lo.from = "test-corruption";
    lo.to = Hosts()[static_cast<std::size_t>(card.host)].node;
    SimLink direct(world_, lo);
    direct.set_immediate(true);
    std::optional<Result<iso8583::Message>> answer;
    direct.Send(m, [&answer](Result<iso8583::Message> r) { answer = std::move(r); });
    hosts_[static_cast<std::size_t>(card.host)]->WaitIdle();
    if (!answer.has_value() || !answer->ok()) return Internal("test corruption: the issuer did not answer");
    world_.Trace("test-corruption " + t.facts.label + " rc=" + std::string((*answer)->Get(39).value_or("-")));
    return Status::Ok();
  }
  return NotFound("test corruption: no transaction to corrupt in this seed");
}

void Run::Gather(std::vector<Violation> more) {
  // Ledgers.
  for (std::size_t h = 0; h < hosts_.size(); ++h) {
    if (!hosts_[h]) {
      facts_.ledger_audits[Hosts()[h].node] = FailedPrecondition("host down at the end");
      continue;
    }
    ledger::AuditReport report;
    facts_.ledger_audits[Hosts()[h].node] = hosts_[h]->ledger().Audit(&report);
  }
  // Authorisations as the issuers know them.
  for (Txn& t : txns_) {
    if (t.outcome == Outcome::kNotSent) continue;
    const Card& card = cards_[static_cast<std::size_t>(t.card)];
    auto& host = hosts_[static_cast<std::size_t>(card.host)];
    if (!host) continue;
    auto state = host->FindAuthorization(card.bank_id, *t.request.Get(32), *t.request.Get(41), *t.request.Get(11),
                                         *t.request.Get(7));
    if (!state.ok()) {
      t.facts.issuer_state = "error: " + state.status().ToString();
    } else {
      t.facts.issuer_state = std::string(issuer::AuthorizationStateName(state->state));
      t.facts.issuer_amount_minor = state->amount_minor;
      t.facts.issuer_posted_minor = state->posted_minor;
    }
    facts_.txns.push_back(t.facts);
  }
  for (const Card& c : cards_) {
    auto& host = hosts_[static_cast<std::size_t>(c.host)];
    if (!host) continue;
    auto available = host->AvailableMinor(c.bank_id, c.pan);
    facts_.cards.push_back({c.label, available.ok() ? c.opening_minor - *available : -1});
  }
  // Settlement.
  if (switch_) {
    auto report = switch_->CutOff();
    if (report.ok()) {
      facts_.settlement_ran = true;
      for (const network::SettlementPosition& p : report->positions) {
        facts_.settlement_net_by_currency[p.currency] += p.net_minor;
      }
      world_.Trace("cut-off records=" + std::to_string(report->records));
      result_.counts["settled-records"] = report->records;
    }
  }
  result_.violations = CheckInvariants(facts_);
  for (Violation& v : more) result_.violations.push_back(std::move(v));
  for (const auto& [name, count] : world_.counters()) result_.counts[name] = count;
  result_.trace_hash = world_.TraceHash();
  result_.trace = world_.trace();
  result_.counts["trace-lines"] = static_cast<std::int64_t>(world_.trace_lines());
}

std::filesystem::path DataRoot(const SimOptions& options) {
  if (!options.data_root.empty()) return options.data_root;
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// spdlog's level for the duration of a run: the roles' info and warnings (stand-in, timeouts) are
// expected here; the trace says what happened.
class QuietLogs {
 public:
  QuietLogs() : level_(spdlog::get_level()) { spdlog::set_level(std::getenv("TAPSTACK_SIM_LOGS") ? spdlog::level::info : spdlog::level::err); }
  ~QuietLogs() { spdlog::set_level(level_); }

 private:
  spdlog::level::level_enum level_;
};

}  // namespace

std::string SimResult::ToJson() const {
  nlohmann::json j;
  j["seed"] = seed;
  j["trace_hash"] = trace_hash;
  j["steps"] = steps;
  j["simulated_ms"] = simulated_ms;
  j["wall_ms"] = wall_ms;
  j["counts"] = counts;
  j["faults"] = faults;
  nlohmann::json v = nlohmann::json::array();
  for (const Violation& x : violations) v.push_back({{"invariant", x.invariant}, {"detail", x.detail}, {"step", x.step}});
  j["violations"] = v;
  j["verdict"] = ok() ? "pass" : "fail";
  return j.dump();
}

Result<SimResult> RunSimulation(const SimOptions& options) {
  if (options.transactions < 1 || options.transactions > kTransactionsMax) {
    return InvalidArgument("transactions: expected 1-" + std::to_string(kTransactionsMax));
  }
  if (options.steps_max < 1) return InvalidArgument("steps_max: expected at least 1");
  if (options.dcep && (options.dcep_payments < 1 || options.dcep_payments > kDcepPaymentsMax)) {
    return InvalidArgument("dcep_payments: expected 1-" + std::to_string(kDcepPaymentsMax));
  }
  static std::atomic<std::uint64_t> run_counter{0};
  const auto started = std::chrono::steady_clock::now();
  const std::filesystem::path dir = DataRoot(options) / ("tapstack-sim-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(options.seed) + "-" +
                                                         std::to_string(run_counter++));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("sim: cannot create " + dir.string() + ": " + ec.message());
  SimResult result;
  {
    QuietLogs quiet;
    Run run(options, dir);
    Status status = run.SetUp();
    if (status.ok()) {
      run.Plan();
      status = run.Loop();
    }
    if (status.ok()) status = run.Corrupt();
    std::vector<Violation> dcep_violations;
    if (status.ok() && options.dcep) {
      DcepPartOptions dcep;
      dcep.payments = options.dcep_payments;
      dcep.faults = options.link_faults || options.crashes;
      dcep.force_clone = options.force_dcep_clone;
      dcep.corrupt_double_credit = options.corruption == TestCorruption::kDcepDoubleCredit;
      dcep.corrupt_unrecorded_payment =
          options.corruption == TestCorruption::kDcepUnrecordedPayment;
      status = RunDcepPart(run.world(), dir / "dcep", dcep, dcep_violations);
    }
    if (!status.ok()) {
      std::filesystem::remove_all(dir, ec);
      return status.WithContext("sim seed " + std::to_string(options.seed));
    }
    run.Gather(std::move(dcep_violations));
    result = std::move(run.result());
  }
  std::filesystem::remove_all(dir, ec);
  result.seed = options.seed;
  result.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace tapstack::sim
