#include "benchkit/e2e_authorization_load.h"

#include <algorithm>
#include <chrono>

#include "benchkit/contactless_taps.h"
#include "demo/demo_keys.h"

namespace tapstack::benchkit {

Result<std::unique_ptr<E2eAuthorizationLoad>> E2eAuthorizationLoad::Start(const E2eLoadOptions& options) {
  if (options.connections < 1 || options.in_flight < 1) {
    return InvalidArgument("connections and in-flight: expected at least 1");
  }
  if (options.refill_taps && (options.taps_ahead < 1 || options.taps_ahead > kE2eTapsAheadMax)) {
    return InvalidArgument("--taps-ahead: expected 1.." + std::to_string(kE2eTapsAheadMax));
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
  const std::size_t connections = static_cast<std::size_t>(options.connections);
  load->taps_.resize(connections);
  // Fixed taps (and card-not-present): nothing more will come for any connection.
  load->spent_.assign(connections, !options.refill_taps);
  load->waiting_.assign(connections, 0);
  if (options.contactless_devices > 0 && options.refill_taps) {
    TS_RETURN_IF_ERROR(load->BindRefilledPhones());
    while (load->RefillOnce()) {
    }
    if (!load->refill_error_.empty()) return Internal("making taps: " + load->refill_error_);
  } else if (options.contactless_devices > 0) {
    TS_ASSIGN_OR_RETURN(std::vector<std::vector<acquirer::Purchase>> made,
                        MakeContactlessTaps(net, load->rail_->tsp().service(), options.data_dir / "devices",
                                            options.contactless_devices, options.taps_per_device));
    for (std::size_t d = 0; d < made.size(); ++d) {
      for (acquirer::Purchase& p : made[d]) {
        load->taps_[d % load->taps_.size()].push_back(std::move(p));
        ++load->taps_total_;
      }
    }
    load->phones_bound_ = options.contactless_devices;
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
  if (options.contactless_devices > 0 && options.refill_taps) {
    load->refill_thread_ = std::thread([raw] { raw->RefillLoop(); });
  }
  for (auto& l : load->links_) {
    for (int waited_ms = 0; waited_ms < kE2eSignOnWaitMs && !l->ready(); waited_ms += 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return load;
}

E2eAuthorizationLoad::~E2eAuthorizationLoad() {
  {
    std::lock_guard lock(mu_);
    stop_refill_ = true;
  }
  refill_cv_.notify_all();
  if (refill_thread_.joinable()) refill_thread_.join();
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

Status E2eAuthorizationLoad::BindRefilledPhones() {
  const demo::DemoNetwork& net = *demo_;
  std::vector<int> cny_banks;
  for (std::size_t b = 0; b < net.banks.size(); ++b) {
    if (net.banks[b].currency != nullptr && *net.banks[b].currency == Cny()) cny_banks.push_back(static_cast<int>(b));
  }
  const int cards_per_bank = options_.cards_per_bank - kE2eFirstLoadCard;
  const std::int64_t cards = static_cast<std::int64_t>(cny_banks.size()) * std::max(cards_per_bank, 0);
  const std::int64_t needed = (options_.taps_expected + kE2eTapsPerPhoneMax - 1) / kE2eTapsPerPhoneMax;
  // At least one phone per connection, so that every connection has taps.
  const std::int64_t phones =
      std::max<std::int64_t>({options_.contactless_devices, needed, static_cast<std::int64_t>(taps_.size())});
  if (phones > cards) {
    return InvalidArgument("a run of up to " + std::to_string(options_.taps_expected) + " taps needs " +
                           std::to_string(phones) + " phones of " + std::to_string(kE2eTapsPerPhoneMax) +
                           " taps, more than the " + std::to_string(cards) +
                           " CNY demo cards: lower --seconds or --count, or give --rate");
  }
  phones_.resize(taps_.size());
  next_phone_.assign(taps_.size(), 0);
  const std::filesystem::path dir = options_.phones_dir.empty() ? options_.data_dir / "devices" : options_.phones_dir;
  for (std::int64_t d = 0; d < phones; ++d) {
    const int bank = cny_banks[static_cast<std::size_t>(d) % cny_banks.size()];
    const int card = kE2eFirstLoadCard + static_cast<int>(d / static_cast<std::int64_t>(cny_banks.size()));
    TS_ASSIGN_OR_RETURN(std::unique_ptr<ContactlessPhone> phone,
                        BindContactlessPhone(net, rail_->tsp().service(), dir, static_cast<int>(d), bank, card));
    phones_[static_cast<std::size_t>(d) % phones_.size()].push_back(std::move(phone));
  }
  phones_bound_ = static_cast<int>(phones);
  return Status::Ok();
}

bool E2eAuthorizationLoad::RefillOnce() {
  bool made = false;
  for (std::size_t c = 0; c < taps_.size(); ++c) {
    {
      std::lock_guard lock(mu_);
      if (stop_refill_) return false;
      if (spent_[c] || taps_[c].size() >= static_cast<std::size_t>(options_.taps_ahead)) continue;
    }
    // The connection's next phone with taps left (round robin), made outside the lock.
    std::vector<std::unique_ptr<ContactlessPhone>>& phones = phones_[c];
    ContactlessPhone* phone = nullptr;
    for (std::size_t tried = 0; tried < phones.size() && phone == nullptr; ++tried) {
      ContactlessPhone* p = phones[next_phone_[c]].get();
      next_phone_[c] = (next_phone_[c] + 1) % phones.size();
      if (p->taps_made < kE2eTapsPerPhoneMax) phone = p;
    }
    Result<acquirer::Purchase> tap =
        phone != nullptr ? phone->MakeTap() : Result<acquirer::Purchase>(OutOfRange("every phone spent"));
    int wake = 0;
    {
      std::lock_guard lock(mu_);
      if (tap.ok()) {
        taps_[c].push_back(std::move(*tap));
        ++taps_total_;
        made = true;
      } else {
        if (phone != nullptr && refill_error_.empty()) refill_error_ = tap.status().ToString();
        spent_[c] = true;  // the waiting chains end: no more taps will come here
      }
      wake = waiting_[c];
      waiting_[c] = 0;
    }
    if (wake > 0 && sink_ != nullptr) {
      OperationSink* sink = sink_;
      for (int i = 0; i < wake; ++i) {
        asio::post(client_io_, [this, c, sink] { SendOne(static_cast<int>(c), *sink); });
      }
    }
  }
  return made;
}

// Refilled taps, on its own thread: tops the queues up, then sleeps until a chain takes a tap.
void E2eAuthorizationLoad::RefillLoop() {
  for (;;) {
    if (RefillOnce()) continue;
    std::unique_lock lock(mu_);
    refill_cv_.wait_for(lock, std::chrono::milliseconds(kE2eRefillIdleMs), [&] {
      if (stop_refill_) return true;
      for (std::size_t c = 0; c < taps_.size(); ++c) {
        if (!spent_[c] && taps_[c].size() < static_cast<std::size_t>(options_.taps_ahead)) return true;
      }
      return false;
    });
    if (stop_refill_) return;
  }
}

// On the client I/O thread (posted, then from each answer's callback or a pacing timer).
void E2eAuthorizationLoad::SendOne(int c, OperationSink& sink) {
  acquirer::Purchase p;
  if (options_.contactless_devices > 0) {
    std::unique_lock lock(mu_);
    auto& queue = taps_[static_cast<std::size_t>(c)];
    if (queue.empty()) {
      if (!spent_[static_cast<std::size_t>(c)] && !sink.stopped()) {
        ++waiting_[static_cast<std::size_t>(c)];  // the refill posts SendOne again
        lock.unlock();
        refill_cv_.notify_one();
        return;
      }
      lock.unlock();
      ChainEnded();
      return;
    }
    p = std::move(queue.front());
    queue.pop_front();
    if (queue.size() < static_cast<std::size_t>(options_.taps_ahead) / 2) refill_cv_.notify_one();
  } else {
    const std::uint64_t n = next_card_.fetch_add(1);
    const LoadCard& card = cards_[n % cards_.size()];
    p.pan = card.pan;
    p.cvv2 = card.cvv2;
    p.expiry = demo::kDemoCardExpiry;
    p.amount = Amount(100 + static_cast<std::int64_t>(n % 900), Cny());
  }
  const std::optional<std::chrono::steady_clock::time_point> start_at = sink.ClaimStart();
  if (!start_at) {
    // Not sent: a tap goes back to the front of its queue (its phone's ATC order kept).
    if (options_.contactless_devices > 0) {
      std::lock_guard lock(mu_);
      taps_[static_cast<std::size_t>(c)].push_front(std::move(p));
    }
    ChainEnded();
    return;
  }
  if (*start_at > std::chrono::steady_clock::now()) {
    // Paced (--rate): send from a timer, never sleeping on this thread.
    auto timer = std::make_shared<asio::steady_timer>(client_io_, *start_at);
    timer->async_wait([this, c, &sink, timer, purchase = std::move(p)](const asio::error_code&) mutable {
      if (sink.stopped()) {
        ChainEnded();
        return;
      }
      Send(c, std::move(purchase), sink);
    });
    return;
  }
  Send(c, std::move(p), sink);
}

void E2eAuthorizationLoad::Send(int c, acquirer::Purchase p, OperationSink& sink) {
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
    sink_ = &sink;
  }
  for (int c = 0; c < options_.connections; ++c) {
    for (int i = 0; i < options_.in_flight; ++i) {
      asio::post(client_io_, [this, c, &sink] { SendOne(c, sink); });
    }
  }
  // A chain ends only from its last answer's callback (or before sending), so when all have
  // ended nothing is outstanding. Answers are bounded by the link's request timeout. Chains
  // waiting for the refill when the run stops end here.
  std::unique_lock lock(mu_);
  const auto all_ended = [&] { return chains_ended_ == chains; };
  while (!chains_cv_.wait_for(lock, std::chrono::milliseconds(kE2eRefillIdleMs), all_ended)) {
    if (!sink.stopped()) continue;
    for (int& waiting : waiting_) {
      chains_ended_ += waiting;
      waiting = 0;
    }
  }
  sink_ = nullptr;
}

std::string E2eAuthorizationLoad::refill_error() const {
  std::lock_guard lock(mu_);
  return refill_error_;
}

std::int64_t E2eAuthorizationLoad::taps_total() const {
  std::lock_guard lock(mu_);
  return taps_total_;
}

E2eOutcomes E2eAuthorizationLoad::outcomes() const {
  std::lock_guard lock(mu_);
  return outcomes_;
}

Status E2eAuthorizationLoad::AuditLedger() { return rail_->issuers().ledger().Audit(); }

}  // namespace tapstack::benchkit
