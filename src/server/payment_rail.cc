#include "server/payment_rail.h"

#include <spdlog/spdlog.h>

#include "crypto/hash.h"
#include "crypto/mac.h"
#include "store/sqlite_store.h"

namespace tapstack::server {

namespace {
constexpr int kSafRetryIntervalMs = 1'000;
constexpr int kShutdownDrainMs = 2'000;
constexpr char kDemoKeyMaster[] = "tapstack demo key set: PAN fingerprint master (not a production secret)";
}  // namespace

crypto::SecretBytes DemoPanFingerprintKey(std::string_view institution_id) {
  auto master = crypto::Sha256(AsBytes(kDemoKeyMaster));
  const crypto::SecretBytes master_key{ByteView(*master)};
  auto key = crypto::HmacSha256(master_key, AsBytes(institution_id));
  return crypto::SecretBytes{ByteView(*key)};
}

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
  std::vector<issuer::IssuerBankConfig> banks;
  for (const demo::DemoBank& b : demo.banks) {
    issuer::IssuerBankConfig config;
    config.institution_id = b.institution_id;
    config.name = b.name;
    config.currency = b.currency;
    for (const auto& r : b.credit_bins) config.bin_ranges.emplace_back(r.low, r.high);
    for (const auto& r : b.debit_bins) config.bin_ranges.emplace_back(r.low, r.high);
    config.pan_fingerprint_key = DemoPanFingerprintKey(b.institution_id);
    banks.push_back(std::move(config));
  }
  issuer::IssuerOptions issuer_options;
  issuer_options.data_dir = options.data_dir;
  issuer_options.clock = &clock;
  TS_ASSIGN_OR_RETURN(rail->issuers_, issuer::IssuerHost::Open(issuer_options, std::move(banks)));
  if (rail->issuers_->card_count() == 0) {
    std::vector<issuer::NewCard> cards;
    for (const demo::DemoBank& b : demo.banks) {
      const int count = options.cards_per_bank >= 0 ? std::min(options.cards_per_bank, b.cardholders) : b.cardholders;
      for (demo::CardKind kind : {demo::CardKind::kCredit, demo::CardKind::kDebit}) {
        if ((kind == demo::CardKind::kDebit ? b.debit_bins : b.credit_bins).empty()) continue;
        for (int i = 0; i < count; ++i) {
          issuer::NewCard card;
          card.institution_id = b.institution_id;
          TS_ASSIGN_OR_RETURN(card.pan, demo::DemoCardNumber(b, kind, i));
          card.expiry = demo::kDemoCardExpiry;
          card.type = kind == demo::CardKind::kDebit ? issuer::CardType::kDebit : issuer::CardType::kCredit;
          // Debit: a deposit; credit: a credit line. Amounts in the bank's minor units.
          card.opening_balance_minor = (kind == demo::CardKind::kDebit ? 500'000 : 2'000'000) + 1'000 * i;
          card.per_transaction_limit_minor = 1'000'000;
          // Card 1 refuses gambling (MCC 7995); card 3 allows 3 payments a day: rule demos.
          if (i == 1) card.blocked_mccs = {"7995"};
          if (i == 3) card.daily_transactions_max = 3;
          cards.push_back(std::move(card));
        }
      }
    }
    TS_RETURN_IF_ERROR(rail->issuers_->IssueCards(cards));
    spdlog::info("seeded {} demo cards at {} banks", cards.size(), demo.banks.size());
  }

  // The switch.
  std::vector<network::BinRange> ranges;
  for (const demo::DemoBank& b : demo.banks) {
    for (const auto* list : {&b.credit_bins, &b.debit_bins}) {
      for (const auto& r : *list) ranges.push_back({r.low, r.high, b.institution_id, network::RangeKind::kIssuer});
    }
  }
  TS_ASSIGN_OR_RETURN(network::BinTable bins, network::BinTable::Build(std::move(ranges)));
  network::FxTable fx;
  for (const demo::DemoFxRate& r : demo.fx_rates) {
    TS_RETURN_IF_ERROR(fx.SetRate(r.from, r.to, r.rate, demo.fx_source, demo.fx_business_date));
  }
  network::SwitchOptions switch_options;
  switch_options.network_institution_id = demo.network_institution_id;
  TS_ASSIGN_OR_RETURN(auto switch_store, store::OpenSqlite(options.data_dir, "network"));
  TS_ASSIGN_OR_RETURN(auto journal_store, store::OpenSqlite(options.data_dir, "network_journal"));
  TS_ASSIGN_OR_RETURN(rail->switch_,
                      network::Switch::Create(switch_options, std::move(bins), std::move(fx), clock,
                                              std::move(switch_store), std::move(journal_store)));

  if (options.tcp) {
    rail->io_ = std::make_unique<asio::io_context>();
    rail->work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        asio::make_work_guard(*rail->io_));
    link::ServerOptions issuer_server;
    issuer_server.name = "issuer-host";
    rail->issuer_server_ = std::make_unique<link::Iso8583Server>(*rail->io_, issuer_server, *rail->issuers_);
    TS_RETURN_IF_ERROR(rail->issuer_server_->Start());
    for (int i = 0; i < options.io_threads; ++i) rail->threads_.emplace_back([io = rail->io_.get()] { io->run(); });
  }
  for (const demo::DemoBank& b : demo.banks) {
    link::RequestSender* sender = nullptr;
    if (options.tcp) {
      link::ClientOptions client;
      client.port = rail->issuer_server_->port();
      client.request_timeout_ms = options.issuer_timeout_ms;
      client.institution_id = demo.network_institution_id;
      client.name = "link-" + b.short_name;
      auto tcp = std::make_unique<link::Iso8583Client>(*rail->io_, client);
      network::Switch* sw = rail->switch_.get();
      const std::string id = b.institution_id;
      tcp->set_late_response_handler([sw, id](iso8583::Message m) { sw->OnLateResponse(id, std::move(m)); });
      tcp->set_ready_handler([sw, id](bool ready) {
        if (ready) sw->OnIssuerReady(id);
      });
      tcp->Start();
      sender = tcp.get();
      rail->tcp_links_[b.institution_id] = std::move(tcp);
    } else {
      auto memory = std::make_unique<link::InMemoryLink>(*rail->issuers_);
      sender = memory.get();
      rail->memory_links_[b.institution_id] = std::move(memory);
    }
    network::IssuerConfig issuer;
    issuer.institution_id = b.institution_id;
    issuer.name = b.name;
    issuer.billing_currency = b.currency;
    issuer.link = sender;
    issuer.stand_in.approve_within_limits = b.stand_in.approve_within_limits;
    issuer.stand_in.per_transaction_limit_minor = b.stand_in.per_transaction_limit_minor;
    TS_RETURN_IF_ERROR(rail->switch_->AddIssuer(std::move(issuer)));
  }
  rail->acquirer_link_ = std::make_unique<link::InMemoryLink>(*rail->switch_);
  if (options.tcp) {
    link::ServerOptions acquirer_server;
    acquirer_server.name = "switch";
    acquirer_server.bind = options.switch_bind;
    acquirer_server.port = options.switch_port;
    rail->switch_server_ = std::make_unique<link::Iso8583Server>(*rail->io_, acquirer_server, *rail->switch_);
    TS_RETURN_IF_ERROR(rail->switch_server_->Start());
    // Stored advices are retried every second for issuers that are signed on.
    rail->saf_timer_ = std::make_unique<asio::steady_timer>(*rail->io_);
    rail->ScheduleAdviceDelivery();
  }
  return rail;
}

void PaymentRail::ScheduleAdviceDelivery() {
  saf_timer_->expires_after(std::chrono::milliseconds(kSafRetryIntervalMs));
  saf_timer_->async_wait([this](asio::error_code ec) {
    if (ec) return;  // cancelled at shutdown
    switch_->DeliverStoredAdvices();
    ScheduleAdviceDelivery();
  });
}

std::uint16_t PaymentRail::switch_port() const { return switch_server_ ? switch_server_->port() : 0; }

void PaymentRail::SetIssuerLinkUp(const std::string& institution_id, bool up) {
  auto it = memory_links_.find(institution_id);
  if (it == memory_links_.end()) return;
  it->second->set_up(up);
  if (up) switch_->OnIssuerReady(institution_id);
}

PaymentRail::~PaymentRail() {
  if (io_) {
    // Close every link and timer, then let the io threads drain what is left (sign-offs, closed
    // sockets' cancelled handlers, which hold the sessions) before stopping: stopping first would
    // strand those handlers and the sessions they keep alive.
    asio::post(*io_, [this] {
      if (saf_timer_) saf_timer_->cancel();
    });
    for (auto& [id, link] : tcp_links_) link->Stop();
    if (switch_server_) switch_server_->Stop();
    if (issuer_server_) issuer_server_->Stop();
    work_.reset();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kShutdownDrainMs);
    while (!io_->stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    io_->stop();
  }
  for (auto& t : threads_) t.join();
  tcp_links_.clear();
  switch_.reset();
  issuers_.reset();
}

}  // namespace tapstack::server
