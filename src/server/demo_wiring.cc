#include "server/demo_wiring.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "demo/demo_keys.h"
#include "issuer/identity_verification.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::server {

Result<std::vector<issuer::IssuerBankConfig>> DemoIssuerBanks(const demo::DemoNetwork& demo,
                                                              std::span<const std::string> institution_ids) {
  for (const std::string& id : institution_ids) {
    if (demo.BankById(id) == nullptr) return InvalidArgument("issuer.banks: '" + id + "' is not a bank of the seed");
  }
  std::vector<issuer::IssuerBankConfig> banks;
  for (const demo::DemoBank& b : demo.banks) {
    if (!institution_ids.empty() &&
        std::find(institution_ids.begin(), institution_ids.end(), b.institution_id) == institution_ids.end()) {
      continue;
    }
    issuer::IssuerBankConfig config;
    config.institution_id = b.institution_id;
    config.name = b.name;
    config.currency = b.currency;
    for (const auto& r : b.credit_bins) config.bin_ranges.emplace_back(r.low, r.high);
    for (const auto& r : b.debit_bins) config.bin_ranges.emplace_back(r.low, r.high);
    config.pan_fingerprint_key = demo::DemoPanFingerprintKey(b.institution_id);
    config.card_verification_key = demo::DemoCardVerificationKey(b.institution_id);
    TS_ASSIGN_OR_RETURN(config.idv_decision, issuer::ParseIdvDecision(b.idv_decision));
    banks.push_back(std::move(config));
  }
  return banks;
}

std::vector<std::string> InstitutionIds(std::span<const issuer::IssuerBankConfig> banks) {
  std::vector<std::string> ids;
  for (const issuer::IssuerBankConfig& b : banks) ids.push_back(b.institution_id);
  return ids;
}

Status SeedDemoCards(issuer::IssuerHost& host, const demo::DemoNetwork& demo,
                     std::span<const std::string> institution_ids, int cards_per_bank) {
  if (host.card_count() != 0) return Status::Ok();
  std::vector<issuer::NewCard> cards;
  for (const std::string& id : institution_ids) {
    const demo::DemoBank* bank = demo.BankById(id);
    if (bank == nullptr) return InvalidArgument("'" + id + "' is not a bank of the seed");
    const demo::DemoBank& b = *bank;
    const int count = cards_per_bank >= 0 ? std::min(cards_per_bank, b.cardholders) : b.cardholders;
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
  TS_RETURN_IF_ERROR(host.IssueCards(cards));
  spdlog::info("seeded {} demo cards at {} banks", cards.size(), institution_ids.size());
  return Status::Ok();
}

Result<std::unique_ptr<network::Switch>> OpenDemoSwitch(const demo::DemoNetwork& demo, const Clock& clock,
                                                        std::unique_ptr<store::Store> store,
                                                        std::unique_ptr<store::Store> journal_store,
                                                        std::span<const network::BinRange> token_ranges) {
  std::vector<network::BinRange> ranges(token_ranges.begin(), token_ranges.end());
  for (const demo::DemoBank& b : demo.banks) {
    for (const auto* list : {&b.credit_bins, &b.debit_bins}) {
      for (const auto& r : *list) ranges.push_back({r.low, r.high, b.institution_id, network::RangeKind::kIssuer});
    }
  }
  TS_ASSIGN_OR_RETURN(network::BinTable bins, network::BinTable::Build(std::move(ranges)));
  TS_ASSIGN_OR_RETURN(network::FxTable fx, DemoFxTable(demo));
  network::SwitchOptions options;
  options.network_institution_id = demo.network_institution_id;
  return network::Switch::Create(options, std::move(bins), std::move(fx), clock, std::move(store),
                                 std::move(journal_store));
}

Result<network::FxTable> DemoFxTable(const demo::DemoNetwork& demo) {
  network::FxTable fx;
  for (const demo::DemoFxRate& r : demo.fx_rates) {
    TS_RETURN_IF_ERROR(fx.SetRate(r.from, r.to, r.rate, demo.fx_source, demo.fx_business_date));
  }
  return fx;
}

Status AddDemoIssuer(network::Switch& network, const demo::DemoBank& bank, link::RequestSender& link) {
  network::IssuerConfig issuer;
  issuer.institution_id = bank.institution_id;
  issuer.name = bank.name;
  issuer.billing_currency = bank.currency;
  issuer.link = &link;
  issuer.stand_in.approve_within_limits = bank.stand_in.approve_within_limits;
  issuer.stand_in.per_transaction_limit_minor = bank.stand_in.per_transaction_limit_minor;
  return network.AddIssuer(std::move(issuer));
}

std::unique_ptr<link::Iso8583Client> ConnectIssuerHost(asio::io_context& io, network::Switch& network,
                                                       const demo::DemoNetwork& demo, std::string host,
                                                       std::uint16_t port, int timeout_ms,
                                                       std::vector<std::string> institution_ids,
                                                       std::shared_ptr<link::ClientTls> tls) {
  link::ClientOptions options;
  options.tls = std::move(tls);
  options.host = std::move(host);
  options.port = port;
  options.request_timeout_ms = timeout_ms;
  options.institution_id = demo.network_institution_id;
  options.name = "link-" + institution_ids.front() + (institution_ids.size() > 1 ? "+" : "");
  auto client = std::make_unique<link::Iso8583Client>(io, options);
  // A late response is reversed toward the link it came on; any bank of the link names it.
  const std::string first = institution_ids.front();
  client->set_late_response_handler([&network, first](iso8583::Message m) { network.OnLateResponse(first, std::move(m)); });
  client->set_ready_handler([&network, ids = std::move(institution_ids)](bool ready) {
    if (!ready) return;
    for (const std::string& id : ids) network.OnIssuerReady(id);
  });
  client->Start();
  return client;
}

Result<std::unique_ptr<store::Store>> OpenRoleStore(const std::string& url, const std::string& data_dir,
                                                    const std::string& role) {
  if (!url.empty()) return store::OpenPostgres(url, role);
  return store::OpenSqlite(data_dir, role);
}

AdviceRetryTimer::AdviceRetryTimer(asio::io_context& io, network::Switch& network, int interval_ms)
    : timer_(io), network_(network), interval_ms_(interval_ms) {
  Schedule();
}

void AdviceRetryTimer::Cancel() { timer_.cancel(); }

void AdviceRetryTimer::Schedule() {
  timer_.expires_after(std::chrono::milliseconds(interval_ms_));
  timer_.async_wait([this](asio::error_code ec) {
    if (ec) return;  // cancelled at shutdown
    network_.DeliverStoredAdvices();
    Schedule();
  });
}

}  // namespace tapstack::server
