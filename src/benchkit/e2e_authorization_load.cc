#include "benchkit/e2e_authorization_load.h"

#include <chrono>

#include "benchkit/contactless_taps.h"
#include "demo/demo_keys.h"

namespace tapstack::benchkit {

Result<std::unique_ptr<E2eAuthorizationLoad>> E2eAuthorizationLoad::Start(const E2eLoadOptions& options) {
  if (options.connections < 1 || options.in_flight < 1) {
    return InvalidArgument("connections and in-flight: expected at least 1");
  }
  std::unique_ptr<E2eAuthorizationLoad> load(new E2eAuthorizationLoad(options));
  TS_ASSIGN_OR_RETURN(const std::filesystem::path seed, demo::DefaultSeedPath());
  TS_ASSIGN_OR_RETURN(demo::DemoNetwork demo, demo::LoadDemoNetwork(seed));
  load->demo_ = std::make_unique<demo::DemoNetwork>(std::move(demo));
  server::PaymentRailOptions rail_options;
  rail_options.data_dir = options.data_dir;
  rail_options.tcp = true;
  rail_options.cards_per_bank = options.cards_per_bank;
  rail_options.io_threads = options.io_threads;
  TS_ASSIGN_OR_RETURN(load->rail_, server::PaymentRail::Start(*load->demo_, rail_options));
  // Wait for the switch's issuer links to sign on.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const demo::DemoNetwork& net = *load->demo_;
  for (std::size_t b = 0; b < net.banks.size(); ++b) {
    for (int i = 4; i < options.cards_per_bank; ++i) {
      TS_ASSIGN_OR_RETURN(std::string pan, server::PaymentRail::CardNumber(net, static_cast<int>(b), i));
      TS_ASSIGN_OR_RETURN(std::string cvv2,
                          demo::DemoCardCvv2(net.banks[b].institution_id, pan, demo::kDemoCardExpiry));
      load->cards_.push_back({std::move(pan), std::move(cvv2)});
    }
  }
  if (load->cards_.empty()) return InvalidArgument("cards-per-bank: expected more than 4");
  load->taps_.resize(static_cast<std::size_t>(options.connections));
  if (options.contactless_devices > 0) {
    TS_ASSIGN_OR_RETURN(std::vector<std::vector<acquirer::Purchase>> made,
                        MakeContactlessTaps(net, load->rail_->tsp().service(), options.data_dir / "devices",
                                            options.contactless_devices, options.taps_per_device));
    for (std::size_t d = 0; d < made.size(); ++d) {
      for (acquirer::Purchase& p : made[d]) {
        load->taps_[d % load->taps_.size()].push_back(std::move(p));
        ++load->taps_total_;
      }
    }
  }

  load->guard_.emplace(asio::make_work_guard(load->client_io_));
  for (int c = 0; c < options.connections; ++c) {
    link::ClientOptions o;
    o.port = load->rail_->switch_port();
    o.request_timeout_ms = kE2eRequestTimeoutMs;
    o.name = "terminal-" + std::to_string(c);
    load->links_.push_back(std::make_unique<link::Iso8583Client>(load->client_io_, o));
    load->links_.back()->Start();
    const demo::DemoMerchant& m = net.merchants[static_cast<std::size_t>(c) % 3];  // CNY merchants
    acquirer::TerminalConfig t{"T" + std::string(7 - std::to_string(c).size(), '0') + std::to_string(c),
                               m.merchant_id, m.name, m.mcc, 156, m.acquirer_id, 1};
    load->terminals_.push_back(
        std::make_unique<acquirer::PosTerminal>(t, *load->links_.back(), SystemClock::Instance()));
  }
  E2eAuthorizationLoad* raw = load.get();
  load->client_thread_ = std::thread([raw] { raw->client_io_.run(); });
  for (auto& l : load->links_) {
    for (int waited_ms = 0; waited_ms < kE2eSignOnWaitMs && !l->ready(); waited_ms += 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return load;
}

E2eAuthorizationLoad::~E2eAuthorizationLoad() {
  for (auto& l : links_) l->Stop();
  guard_.reset();
  client_io_.stop();
  if (client_thread_.joinable()) client_thread_.join();
  terminals_.clear();
  links_.clear();
  rail_.reset();
}

void E2eAuthorizationLoad::ChainEnded() {
  std::lock_guard lock(mu_);
  ++chains_ended_;
  chains_cv_.notify_all();
}

// On the client I/O thread (posted, then from each answer's callback).
void E2eAuthorizationLoad::SendOne(int c, OperationSink& sink) {
  acquirer::Purchase p;
  if (options_.contactless_devices > 0) {
    std::unique_lock lock(mu_);
    auto& queue = taps_[static_cast<std::size_t>(c)];
    if (queue.empty()) {
      lock.unlock();
      ChainEnded();
      return;
    }
    if (!sink.Claim()) {
      lock.unlock();
      ChainEnded();
      return;
    }
    p = std::move(queue.front());
    queue.pop_front();
  } else {
    if (!sink.Claim()) {
      ChainEnded();
      return;
    }
    const std::uint64_t n = next_card_.fetch_add(1);
    const LoadCard& card = cards_[n % cards_.size()];
    p.pan = card.pan;
    p.cvv2 = card.cvv2;
    p.expiry = demo::kDemoCardExpiry;
    p.amount = Amount(100 + static_cast<std::int64_t>(n % 900), Cny());
  }
  const auto start = std::chrono::steady_clock::now();
  terminals_[static_cast<std::size_t>(c)]->Purchase(p, [this, c, start, &sink](acquirer::PurchaseResult r) {
    const std::int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    {
      std::lock_guard lock(mu_);
      if (!r.response.ok()) {
        ++outcomes_.unknown;
      } else if (r.approved()) {
        ++outcomes_.approved;
      } else {
        ++outcomes_.declined;
        ++outcomes_.decline_codes[r.response_code()];
      }
    }
    sink.Complete(ns, r.response.ok() ? Status::Ok() : r.response.status());
    SendOne(c, sink);
  });
}

void E2eAuthorizationLoad::Drive(OperationSink& sink) {
  const int chains = options_.connections * options_.in_flight;
  {
    std::lock_guard lock(mu_);
    chains_ended_ = 0;
  }
  for (int c = 0; c < options_.connections; ++c) {
    for (int i = 0; i < options_.in_flight; ++i) {
      asio::post(client_io_, [this, c, &sink] { SendOne(c, sink); });
    }
  }
  // A chain ends only from its last answer's callback (or before sending), so when all have
  // ended nothing is outstanding. Answers are bounded by the link's request timeout.
  std::unique_lock lock(mu_);
  chains_cv_.wait(lock, [&] { return chains_ended_ == chains; });
}

E2eOutcomes E2eAuthorizationLoad::outcomes() const {
  std::lock_guard lock(mu_);
  return outcomes_;
}

Status E2eAuthorizationLoad::AuditLedger() { return rail_->issuers().ledger().Audit(); }

}  // namespace tapstack::benchkit
