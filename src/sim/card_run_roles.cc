// CardRun: set-up, crashes, restarts and supervisors of the roles (card_run.h).
#include "sim/card_run.h"

#include "demo/demo_keys.h"
#include "server/demo_wiring.h"
#include "store/sqlite_store.h"

namespace tapstack::sim::card {

Status CardRun::OpenIssuer(std::size_t host) {
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

Status CardRun::OpenSwitch() {
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
  // The store and the message journal sit on disks the seed may fail (disk_fault.h); a restarted
  // switch gets healthy ones.
  store::RegisterFaultVfs();
  switch_disk_->Disarm();
  journal_disk_->Disarm();
  switch_restart_due_ = false;
  switch_store_failed_ = std::make_shared<std::atomic<bool>>(false);
  store::SetFaultHook(store::SqlitePath(dir_ / "network", "network"), switch_disk_->SqliteHook(switch_store_failed_));
  // The journal's failure is seen through Switch::Health, as an operator's supervisor sees it.
  store::SetFaultHook(store::SqlitePath(dir_ / "network", "network_journal"),
                      journal_disk_->SqliteHook(std::make_shared<std::atomic<bool>>(false)));
  store::StoreOptions store_options;
  store_options.sqlite_vfs = store::kFaultVfsName;
  TS_ASSIGN_OR_RETURN(auto store, store::OpenSqlite(dir_ / "network", "network", store_options));
  TS_ASSIGN_OR_RETURN(auto journal, store::OpenSqlite(dir_ / "network", "network_journal", store_options));
  TS_ASSIGN_OR_RETURN(switch_, network::Switch::Create(so, std::move(bins), std::move(fx), world_.clock(),
                                                       std::move(store), std::move(journal)));
  for (std::size_t h = 0; h < Hosts().size(); ++h) {
    for (int b : Hosts()[h].banks) {
      TS_RETURN_IF_ERROR(server::AddDemoIssuer(*switch_, demo_.banks[static_cast<std::size_t>(b)], *issuer_links_[h]));
    }
  }
  switch_->SetTokenService(tsp_ ? static_cast<network::TokenService*>(&tsp_->token_service()) : &tsp_down_);
  world_.node("switch").handler = switch_.get();
  return Status::Ok();
}

Status CardRun::OpenTsp() {
  // Its store (vault, ATC windows, audit chain, history) sits on a disk the seed may fail, as the
  // switch's does; a restarted TSP gets a healthy one and recovers what reached the disk.
  store::RegisterFaultVfs();
  tsp_disk_->Disarm();
  tsp_restart_due_ = false;
  tsp_store_failed_ = std::make_shared<std::atomic<bool>>(false);
  store::SetFaultHook(store::SqlitePath(dir_ / "tsp", "tsp"), tsp_disk_->SqliteHook(tsp_store_failed_));
  store::StoreOptions store_options;
  store_options.sqlite_vfs = store::kFaultVfsName;
  TS_ASSIGN_OR_RETURN(tsp_, server::DemoTsp::Open(demo_, dir_ / "tsp", world_.clock(), proxy_, store_options));
  if (switch_) switch_->SetTokenService(&tsp_->token_service());
  return Status::Ok();
}

void CardRun::IssuerReady(std::size_t host) {
  if (!switch_ || !hosts_[host] || !issuer_links_[host]->ready()) return;
  for (int b : Hosts()[host].banks) switch_->OnIssuerReady(demo_.banks[static_cast<std::size_t>(b)].institution_id);
}

void CardRun::CrashIssuer(std::size_t host) {
  if (!hosts_[host]) return;
  SimNode& node = world_.node(Hosts()[host].node);
  node.handler = nullptr;
  ++node.incarnation;
  hosts_[host].reset();
  world_.Count("crashes");
  world_.Trace(std::string(Hosts()[host].node) + " crash");
}

void CardRun::RestartIssuer(std::size_t host) {
  if (hosts_[host]) return;
  if (Restarted(Hosts()[host].node, OpenIssuer(host))) IssuerReady(host);
}

bool CardRun::Restarted(const std::string& node, const Status& opened) {
  world_.Trace(node + " restart" + (opened.ok() ? "" : " failed"));
  if (!opened.ok()) {
    facts_.finished = false;
    facts_.unfinished_reason = node + " did not restart: " + opened.ToString();
  }
  return opened.ok();
}

void CardRun::CrashSwitch() {
  if (!switch_) return;
  SimNode& node = world_.node("switch");
  node.handler = nullptr;
  ++node.incarnation;
  switch_->SetTokenService(nullptr);
  switch_.reset();
  world_.Count("crashes");
  world_.Trace("switch crash");
}

void CardRun::RestartSwitch() {
  if (switch_ || !Restarted("switch", OpenSwitch())) return;
  for (std::size_t h = 0; h < hosts_.size(); ++h) IssuerReady(h);
}

void CardRun::CrashTsp() {
  if (!tsp_) return;
  if (switch_) switch_->SetTokenService(&tsp_down_);
  tsp_.reset();
  world_.Count("crashes");
  world_.Trace("tsp crash");
}

void CardRun::RestartTsp() {
  if (!tsp_) Restarted("tsp", OpenTsp());
}

void CardRun::SuperviseIssuers() {
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

void CardRun::SuperviseSwitch() {
  SuperviseStore(
      "switch", [this] { return SwitchFailed(); }, switch_restart_due_,
      [this] { CrashSwitch(); }, [this] { RestartSwitch(); });
}

void CardRun::SuperviseTsp() {
  SuperviseStore(
      "tsp", [this] { return tsp_ && tsp_store_failed_->load(); }, tsp_restart_due_, [this] { CrashTsp(); },
      [this] { RestartTsp(); });
}

void CardRun::SuperviseStore(const std::string& node, const std::function<bool()>& failed, bool& due,
                             const std::function<void()>& crash, const std::function<void()>& restart) {
  if (due || !failed()) return;
  due = true;
  world_.Count("disk-failures");
  world_.Trace(node + " store failed");
  At(world_.now_ms() + world_.Uniform(200, 2'000), "supervisor-restart|" + node, [failed, crash, restart] {
    if (!failed()) return;  // crashed and restarted meanwhile
    crash();
    restart();
  });
}

void CardRun::Quiesce() {
  // Issuers' and the switch's work reaches other roles only through SimLinks (staged events), so
  // one pass over the roles leaves the whole system idle.
  for (auto& host : hosts_) {
    if (host) host->WaitIdle();
  }
  if (switch_) switch_->WaitIdle();
  // The token history is written by the TSP's own thread: done within the step, so that which
  // write meets a failing disk is the seed's choice, not the scheduler's.
  if (tsp_) tsp_->service().FlushHistory();
}

void CardRun::Teardown() {
  phones_.clear();
  if (switch_) switch_->SetTokenService(nullptr);
  tsp_.reset();
  switch_.reset();
  store::SetFaultHook(store::SqlitePath(dir_ / "network", "network"), {});
  store::SetFaultHook(store::SqlitePath(dir_ / "network", "network_journal"), {});
  store::SetFaultHook(store::SqlitePath(dir_ / "tsp", "tsp"), {});
  hosts_.clear();
}

Status CardRun::SetUp() {
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
  TS_RETURN_IF_ERROR(OpenTsp());

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

}  // namespace tapstack::sim::card
