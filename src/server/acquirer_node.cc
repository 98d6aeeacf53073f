#include "server/acquirer_node.h"

#include <chrono>
#include <future>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/pan.h"
#include "crypto/csprng.h"
#include "demo/demo_keys.h"
#include "link/tls_context.h"

namespace tapstack::server {

namespace {
constexpr int kIoThreads = 2;
constexpr std::uint64_t kStanStartMax = 900'000;  // leaves room below 999,999 before wrapping
// The HTTP answer waits for the terminal's outcome: the network timeout plus room for it.

using nlohmann::json;

Result<std::string> StringField(const json& body, const char* name, bool required) {
  if (!body.contains(name)) {
    if (required) return InvalidArgument(std::string("'") + name + "' is required");
    return std::string();
  }
  if (!body[name].is_string()) return InvalidArgument(std::string("'") + name + "': expected a string");
  return body[name].get<std::string>();
}

// The body's "currency" (ISO 4217 alpha), or `fallback` (the merchant's) when absent.
Result<const Currency*> CurrencyOr(const json& body, const Currency& fallback) {
  TS_ASSIGN_OR_RETURN(std::string code, StringField(body, "currency", false));
  if (code.empty()) return &fallback;
  auto parsed = CurrencyByAlpha(code);
  if (!parsed.ok()) return InvalidArgument("'currency': " + parsed.status().message());
  return *parsed;
}

// The card of a purchase: a demo card by bank and index, or a PAN given by the caller.
Status ResolveCard(const json& body, const demo::DemoNetwork& demo, acquirer::Purchase& p) {
  if (body.contains("card")) {
    const json& card = body["card"];
    if (!card.is_object()) return InvalidArgument("'card': expected {\"bank\", \"index\", \"kind\"}");
    TS_ASSIGN_OR_RETURN(std::string bank_id, StringField(card, "bank", true));
    const demo::DemoBank* bank = demo.BankById(bank_id);
    if (bank == nullptr) return InvalidArgument("'card.bank': '" + bank_id + "' is not a bank of the seed");
    if (!card.contains("index") || !card["index"].is_number_integer()) {
      return InvalidArgument("'card.index': expected an integer");
    }
    TS_ASSIGN_OR_RETURN(std::string kind, StringField(card, "kind", false));
    if (!kind.empty() && kind != "debit" && kind != "credit") {
      return InvalidArgument("'card.kind': expected debit or credit");
    }
    const demo::CardKind card_kind = kind == "credit" || (kind.empty() && bank->debit_bins.empty())
                                         ? demo::CardKind::kCredit
                                         : demo::CardKind::kDebit;
    TS_ASSIGN_OR_RETURN(p.pan, demo::DemoCardNumber(*bank, card_kind, card["index"].get<int>()));
    p.expiry = demo::kDemoCardExpiry;
    if (p.entry == acquirer::EntryMode::kCardNotPresent) {
      TS_ASSIGN_OR_RETURN(p.cvv2, demo::DemoCardCvv2(bank->institution_id, p.pan, p.expiry));
    }
    return Status::Ok();
  }
  TS_ASSIGN_OR_RETURN(p.pan, StringField(body, "pan", true));
  if (auto pan = Pan::Parse(p.pan); !pan.ok()) return InvalidArgument("'pan': " + pan.status().message());
  TS_ASSIGN_OR_RETURN(p.expiry, StringField(body, "expiry", false));
  TS_ASSIGN_OR_RETURN(p.cvv2, StringField(body, "cvv2", false));
  if (!p.cvv2.empty() && (p.cvv2.size() != 3 || p.cvv2.find_first_not_of("0123456789") != std::string::npos)) {
    return InvalidArgument("'cvv2': expected 3 digits");
  }
  return Status::Ok();
}

// Starts a terminal call with a callback (`start`) and waits for its outcome: kUnavailable when
// none comes within `wait_ms`. The promise is shared: the callback may run after the wait gave up.
template <typename T, typename Start>
Result<T> AwaitTerminal(int wait_ms, Start start) {
  auto outcome = std::make_shared<std::promise<Result<T>>>();
  auto future = outcome->get_future();
  start([outcome](Result<T> r) { outcome->set_value(std::move(r)); });
  if (future.wait_for(std::chrono::milliseconds(wait_ms)) != std::future_status::ready) {
    return Unavailable("no outcome from the terminal");
  }
  return future.get();
}

}  // namespace

Result<std::unique_ptr<AcquirerNode>> AcquirerNode::Start(const ServeConfig& config, const demo::DemoNetwork& demo) {
  std::unique_ptr<AcquirerNode> node(new AcquirerNode());
  node->config_ = config;
  // HTTPS only when http.tls_* are set (issue #10); first, so a bad certificate stops start-up early.
  TS_RETURN_IF_ERROR(node->http_.UseTls(config.http_tls_cert_file, config.http_tls_key_file));
  // TLS on the link to the network (acquirer.network_tls_*): read now, like the HTTP files.
  std::shared_ptr<link::ClientTls> link_tls;
  if (config.network_tls.enabled()) {
    TS_ASSIGN_OR_RETURN(link_tls, link::LoadClientTls(config.network_tls, config.network_host, "acquirer.network_"));
  }
  node->demo_ = demo;
  if (node->demo_.merchants.empty()) return InvalidArgument("the seed has no merchants for the acquirer");
  node->io_ = std::make_unique<IoThreads>(kIoThreads);
  link::ClientOptions link;
  link.host = config.network_host;
  link.port = config.network_port;
  link.request_timeout_ms = config.network_timeout_ms;
  link.institution_id = node->demo_.merchants.front().acquirer_id;
  link.name = "acquirer";
  link.tls = link_tls;
  node->network_link_ = std::make_unique<link::Iso8583Client>(node->io_->io(), link);
  node->network_link_->Start();
  crypto::Csprng csprng;
  for (const demo::DemoMerchant& m : node->demo_.merchants) {
    acquirer::TerminalConfig terminal;
    terminal.terminal_id = m.terminal_id;
    terminal.merchant_id = m.merchant_id;
    terminal.name_location = m.name + " " + m.city + " " + m.country;
    terminal.mcc = m.mcc;
    TS_ASSIGN_OR_RETURN(const Country* country, CountryByAlpha2(m.country));
    terminal.country_numeric = country->numeric;
    terminal.acquirer_id = m.acquirer_id;
    // The node keeps no STAN counter across restarts: each start begins at a random point (and
    // sends nothing before the next whole second, below).
    TS_ASSIGN_OR_RETURN(const std::uint64_t stan_start, csprng.Uniform(kStanStartMax));
    terminal.stan_start = static_cast<std::uint32_t>(stan_start);
    Terminal t{&m, std::make_unique<acquirer::PosTerminal>(terminal, *node->network_link_, SystemClock::Instance())};
    node->terminals_.emplace(m.terminal_id, std::move(t));
  }
  // A restarted acquirer must not repeat a request key (DE32, DE41, DE11, DE7) of the process
  // before it, or the switch answers 94. DE7 has one-second resolution, and random STAN starts
  // alone still overlapped now and then within the second of a restart (about one SIGKILL loop in
  // a hundred, tests/server/kill_loop_test.cc). So nothing is taken before the next whole second:
  // every key of this process then has a later DE7 than any of the one before, which is dead (it
  // held the HTTP port bound below). The link signs on meanwhile.
  const auto now = std::chrono::system_clock::now();
  std::this_thread::sleep_until(std::chrono::floor<std::chrono::seconds>(now) + std::chrono::seconds(1));
  node->InstallRoutes();
  TS_RETURN_IF_ERROR(node->http_.Start(config.http_bind, config.http_port));
  return node;
}

void AcquirerNode::InstallRoutes() {
  http_.routes().Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"status", "ok"}, {"role", "acquirer"}, {"network_link_ready", network_link_->ready()}});
  });
  http_.routes().Get("/v1/acquirer/terminals", [this](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const auto& [id, t] : terminals_) {
      const acquirer::BatchTotals totals = t.pos->totals();
      list.push_back({{"terminal_id", id},
                      {"merchant_id", t.merchant->merchant_id},
                      {"name", t.merchant->name},
                      {"country", t.merchant->country},
                      {"currency", t.merchant->currency->alpha},
                      {"approved", totals.approved},
                      {"declined", totals.declined},
                      {"unknown", totals.unknown},
                      {"approved_minor", totals.approved_minor}});
    }
    ReplyJson(res, {{"terminals", list}});
  });
  http_.routes().Post("/v1/acquirer/purchases", [this](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return ReplyError(res, InvalidArgument("body: expected a JSON object"));
    auto terminal_id = StringField(body, "terminal_id", false);
    if (!terminal_id.ok()) return ReplyError(res, terminal_id.status());
    auto it = terminal_id->empty() ? terminals_.begin() : terminals_.find(*terminal_id);
    if (it == terminals_.end()) return ReplyError(res, NotFound("'terminal_id': no terminal " + *terminal_id));
    const Terminal& terminal = it->second;

    acquirer::Purchase purchase;
    auto entry = StringField(body, "entry", false);
    if (!entry.ok()) return ReplyError(res, entry.status());
    if (entry->empty() || *entry == "card_not_present") {
      purchase.entry = acquirer::EntryMode::kCardNotPresent;
    } else if (*entry == "contactless") {
      purchase.entry = acquirer::EntryMode::kContactless;
    } else {
      return ReplyError(res, InvalidArgument("'entry': expected card_not_present or contactless"));
    }
    auto message = StringField(body, "message", false);
    if (!message.ok()) return ReplyError(res, message.status());
    if (!message->empty() && *message != "authorization" && *message != "financial") {
      return ReplyError(res, InvalidArgument("'message': expected authorization or financial"));
    }
    purchase.single_message = *message == "financial";
    if (!body.contains("amount_minor") || !body["amount_minor"].is_number_integer() ||
        body["amount_minor"].get<std::int64_t>() <= 0) {
      return ReplyError(res, InvalidArgument("'amount_minor': expected a positive integer (minor units)"));
    }
    auto currency_or = CurrencyOr(body, *terminal.merchant->currency);
    if (!currency_or.ok()) return ReplyError(res, currency_or.status());
    const Currency* currency = *currency_or;
    purchase.amount = Amount(body["amount_minor"].get<std::int64_t>(), *currency);
    if (Status card = ResolveCard(body, demo_, purchase); !card.ok()) return ReplyError(res, card);

    // Shared: the terminal's callback may outlive this handler if the wait below gives up.
    auto outcome = std::make_shared<std::promise<acquirer::PurchaseResult>>();
    auto future = outcome->get_future();
    terminal.pos->Purchase(purchase, [outcome](acquirer::PurchaseResult r) { outcome->set_value(std::move(r)); });
    if (future.wait_for(std::chrono::milliseconds(OutcomeWaitMs())) != std::future_status::ready) {
      return ReplyError(res, Unavailable("no outcome from the terminal"));
    }
    acquirer::PurchaseResult result = future.get();
    const std::string masked = Pan::Parse(purchase.pan).ok() ? Pan::Parse(purchase.pan)->Masked() : "";
    json out = {{"terminal_id", it->first},
                {"acquirer_id", terminal.merchant->acquirer_id},
                {"stan", result.stan},
                {"rrn", result.rrn},
                {"masked_pan", masked},
                {"amount_minor", purchase.amount.minor_units()},
                {"currency", currency->alpha}};
    if (!result.response.ok()) {
      out["error"] = "unavailable";
      out["message"] = result.response.status().message() + "; a reversal was sent";
      return ReplyJson(res, out, 504);
    }
    out["approved"] = result.approved();
    out["response_code"] = result.response_code();
    out["approval_code"] = std::string(result.response->Get(38).value_or(""));
    out["transmission_time"] = std::string(result.response->Get(7).value_or(""));
    if (auto billed = result.response->Get(6)) out["cardholder_amount_minor"] = std::stoll(std::string(*billed));
    ReplyJson(res, out);
  });
  // Completes an approved authorisation for its final amount (0220 with DE90 → 0230).
  http_.routes().Post("/v1/acquirer/completions", [this](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return ReplyError(res, InvalidArgument("body: expected a JSON object"));
    Status error;
    const Terminal* terminal = FindTerminal(body, error);
    if (terminal == nullptr) return ReplyError(res, error);
    auto stan = StringField(body, "stan", true);
    if (!stan.ok()) return ReplyError(res, stan.status());
    if (!body.contains("amount_minor") || !body["amount_minor"].is_number_integer()) {
      return ReplyError(res, InvalidArgument("'amount_minor': expected an integer (minor units)"));
    }
    auto c = CurrencyOr(body, *terminal->merchant->currency);
    if (!c.ok()) return ReplyError(res, c.status());
    const Amount final_amount(body["amount_minor"].get<std::int64_t>(), **c);
    auto response = AwaitTerminal<iso8583::Message>(
        OutcomeWaitMs(), [&](auto done) { terminal->pos->Complete(*stan, final_amount, std::move(done)); });
    if (!response.ok()) return ReplyError(res, response.status());
    ReplyJson(res, {{"response_code", std::string(response->Get(39).value_or(""))},
                    {"completed", response->Get(39) == std::string_view("00")}});
  });
  // Reverses an approved, not yet completed authorisation in full (0400 with DE90 → 0410): a void
  // at the point of sale. 404 when the terminal has no such open approval (unknown, completed,
  // reversed, in a closed batch, or approved before this process started); 409 while a
  // completion or reversal of it is in flight; 503 when no attempt was acknowledged (it stays
  // open: the call may be repeated).
  http_.routes().Post("/v1/acquirer/reversals", [this](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return ReplyError(res, InvalidArgument("body: expected a JSON object"));
    Status error;
    const Terminal* terminal = FindTerminal(body, error);
    if (terminal == nullptr) return ReplyError(res, error);
    auto stan = StringField(body, "stan", true);
    if (!stan.ok()) return ReplyError(res, stan.status());
    auto response = AwaitTerminal<iso8583::Message>(
        OutcomeWaitMs(), [&](auto done) { terminal->pos->ReverseAuthorization(*stan, std::move(done)); });
    if (!response.ok()) return ReplyError(res, response.status());
    ReplyJson(res, {{"response_code", std::string(response->Get(39).value_or(""))},
                    {"reversed", response->Get(39) == std::string_view("00")}});
  });
  // Closes a terminal's batch in one currency (0500 → 0510) and says whether the network agrees.
  http_.routes().Post("/v1/acquirer/batches/close", [this](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return ReplyError(res, InvalidArgument("body: expected a JSON object"));
    Status error;
    const Terminal* terminal = FindTerminal(body, error);
    if (terminal == nullptr) return ReplyError(res, error);
    auto c = CurrencyOr(body, *terminal->merchant->currency);
    if (!c.ok()) return ReplyError(res, c.status());
    auto result = AwaitTerminal<acquirer::ReconciliationResult>(
        OutcomeWaitMs(), [&](auto done) { terminal->pos->CloseBatch(**c, std::move(done)); });
    if (!result.ok()) return ReplyError(res, result.status());
    ReplyJson(res, {{"in_balance", result->in_balance},
                    {"terminal", result->terminal.ToString()},
                    {"network", result->network.ToString()}});
  });
}

const AcquirerNode::Terminal* AcquirerNode::FindTerminal(const nlohmann::json& body, Status& error) const {
  auto id = StringField(body, "terminal_id", true);
  if (!id.ok()) {
    error = id.status();
    return nullptr;
  }
  auto it = terminals_.find(*id);
  if (it == terminals_.end()) {
    error = NotFound("'terminal_id': no terminal " + *id);
    return nullptr;
  }
  return &it->second;
}

std::vector<std::pair<std::string, std::string>> AcquirerNode::Summary() const {
  return {{"role", "acquirer (" + std::to_string(terminals_.size()) + " terminals)"},
          {"HTTP API", http_.url() + "   (POST /v1/acquirer/purchases, /reversals; GET /health, /v1/acquirer/terminals)"},
          {"network", config_.network_host + ":" + std::to_string(config_.network_port) + "   (ISO 8583 link" +
                                (config_.network_tls.enabled() ? ", TLS)" : ")")}};
}

void AcquirerNode::Stop() {
  if (stopped_) return;
  stopped_ = true;
  http_.Stop();
  if (network_link_) network_link_->Stop();
  if (io_) io_->Stop();
  terminals_.clear();
  network_link_.reset();
}

}  // namespace tapstack::server
