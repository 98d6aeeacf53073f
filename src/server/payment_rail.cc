#include "server/payment_rail.h"

#include <spdlog/spdlog.h>

#include "server/demo_tsp.h"
#include "server/demo_wiring.h"
#include "store/sqlite_store.h"

namespace tapstack::server {

namespace {
constexpr int kSafRetryIntervalMs = 1'000;
}  // namespace

Result<std::string> PaymentRail::CardNumber(const demo::DemoNetwork& demo, int bank_index, int card_index) {
  if (bank_index < 0 || bank_index >= static_cast<int>(demo.banks.size())) return OutOfRange("no bank " + std::to_string(bank_index));
  const demo::DemoBank& bank = demo.banks[static_cast<std::size_t>(bank_index)];
  return demo::DemoCardNumber(bank, bank.debit_bins.empty() ? demo::CardKind::kCredit : demo::CardKind::kDebit,
                              card_index);
}

Result<std::unique_ptr<PaymentRail>> PaymentRail::Start(const demo::DemoNetwork& demo,
                                                        PaymentRailOptions options) {
  std::unique_ptr<PaymentRail> rail(new PaymentRail());
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  rail->options_ = options;

  // Issuers: every demo bank in one host, with its cards.
  TS_ASSIGN_OR_RETURN(std::vector<issuer::IssuerBankConfig> banks, DemoIssuerBanks(demo, {}));
  const std::vector<std::string> bank_ids = InstitutionIds(banks);
  issuer::IssuerOptions issuer_options;
  issuer_options.data_dir = options.data_dir;
  issuer_options.clock = &clock;
  TS_ASSIGN_OR_RETURN(rail->issuers_, issuer::IssuerHost::Open(issuer_options, std::move(banks)));
  TS_RETURN_IF_ERROR(SeedDemoCards(*rail->issuers_, demo, bank_ids, options.cards_per_bank));

  TS_ASSIGN_OR_RETURN(auto switch_store, store::OpenSqlite(options.data_dir, "network"));
  TS_ASSIGN_OR_RETURN(auto journal_store, store::OpenSqlite(options.data_dir, "network_journal"));
  const std::vector<network::BinRange> token_ranges = DemoTokenBinRanges(demo);
  TS_ASSIGN_OR_RETURN(rail->switch_, OpenDemoSwitch(demo, clock, std::move(switch_store),
                                                    std::move(journal_store), token_ranges));
  // The TSP: the switch asks it about token BINs; it asks issuers for ID&V through the switch.
  TS_ASSIGN_OR_RETURN(rail->tsp_, DemoTsp::Open(demo, options.data_dir, clock, *rail->switch_));
  rail->switch_->SetTokenService(&rail->tsp_->token_service());

  if (options.tcp) {
    rail->io_ = std::make_unique<IoThreads>(options.io_threads);
    link::ServerOptions issuer_server;
    issuer_server.name = "issuer-host";
    rail->issuer_server_ = std::make_unique<link::Iso8583Server>(rail->io_->io(), issuer_server, *rail->issuers_);
    TS_RETURN_IF_ERROR(rail->issuer_server_->Start());
  }
  for (const demo::DemoBank& b : demo.banks) {
    link::RequestSender* sender = nullptr;
    if (options.tcp) {
      auto tcp = ConnectIssuerHost(rail->io_->io(), *rail->switch_, demo, "127.0.0.1", rail->issuer_server_->port(),
                                   options.issuer_timeout_ms, {b.institution_id});
      sender = tcp.get();
      rail->tcp_links_[b.institution_id] = std::move(tcp);
    } else {
      auto memory = std::make_unique<link::InMemoryLink>(*rail->issuers_);
      sender = memory.get();
      rail->memory_links_[b.institution_id] = std::move(memory);
    }
    TS_RETURN_IF_ERROR(AddDemoIssuer(*rail->switch_, b, *sender));
  }
  rail->acquirer_link_ = std::make_unique<link::InMemoryLink>(*rail->switch_);
  if (options.tcp) {
    link::ServerOptions acquirer_server;
    acquirer_server.name = "switch";
    acquirer_server.bind = options.switch_bind;
    acquirer_server.port = options.switch_port;
    rail->switch_server_ = std::make_unique<link::Iso8583Server>(rail->io_->io(), acquirer_server, *rail->switch_);
    TS_RETURN_IF_ERROR(rail->switch_server_->Start());
    // Stored advices are retried every second for issuers that are signed on.
    rail->advice_timer_ = std::make_unique<AdviceRetryTimer>(rail->io_->io(), *rail->switch_, kSafRetryIntervalMs);
  }
  return rail;
}

std::uint16_t PaymentRail::switch_port() const { return switch_server_ ? switch_server_->port() : 0; }

void PaymentRail::SetIssuerLinkUp(const std::string& institution_id, bool up) {
  auto it = memory_links_.find(institution_id);
  if (it == memory_links_.end()) return;
  it->second->set_up(up);
  if (up) switch_->OnIssuerReady(institution_id);
}

PaymentRail::~PaymentRail() {
  if (switch_) switch_->StopTokenStep();  // before the TSP and the issuer links go
  if (io_) {
    asio::post(io_->io(), [this] {
      if (advice_timer_) advice_timer_->Cancel();
    });
    for (auto& [id, link] : tcp_links_) link->Stop();
    if (switch_server_) switch_server_->Stop();
    if (issuer_server_) issuer_server_->Stop();
    io_->Stop();
  }
  if (switch_) switch_->SetTokenService(nullptr);
  tsp_.reset();
  // The switch before its issuer links: while its store writer drains, its callbacks still ask
  // a link whether it is up (advice delivery).
  switch_.reset();
  tcp_links_.clear();
  issuers_.reset();
}

}  // namespace tapstack::server
