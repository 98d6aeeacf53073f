#include "handset/handset_host.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "acquirer/contactless_kernel.h"
#include "acquirer/contactless_sale.h"
#include "acquirer/in_app_payment.h"
#include "core/clock.h"
#include "core/currency.h"
#include "core/hex.h"
#include "crypto/csprng.h"
#include "demo/demo_keys.h"
#include "emv/cryptogram_profile.h"
#include "handset/api_client.h"
#include "store/migration.h"
#include "store/sqlite_store.h"

namespace tapstack::handset {

using nlohmann::json;

namespace {

constexpr char kRole[] = "handsets";
constexpr std::size_t kHandsetIdRandomBytes = 16;
constexpr std::size_t kPhoneDigitsMin = 8;
constexpr std::size_t kPhoneDigitsMax = 15;  // E.164

const store::Migration kMigrations[] = {
    {.version = 1,
     .description = "create handsets",
     .sql = "CREATE TABLE handsets (handset_id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
            "name TEXT NOT NULL, phone TEXT NOT NULL, created_unix_ms BIGINT NOT NULL, "
            "dcep_operator TEXT NOT NULL DEFAULT '', dcep_wallet TEXT NOT NULL DEFAULT '', "
            "owner_user_id TEXT NOT NULL DEFAULT '')",
     .sqlite_sql = "",
     .postgres_sql = ""},
};

std::string_view KindName(HandsetKind kind) {
  return kind == HandsetKind::kWatch ? "watch" : "phone";
}

// "hs-" and 32 lowercase hex digits: anything else cannot name a handset (and never reaches a
// path).
bool WellFormedId(std::string_view id) {
  if (id.size() != 3 + 2 * kHandsetIdRandomBytes || !id.starts_with("hs-")) return false;
  return std::ranges::all_of(
      id.substr(3), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status CheckPhone(std::string_view phone) {
  const std::string_view digits = phone.empty() ? phone : phone.substr(1);
  if (phone.empty() || phone[0] != '+' || digits.size() < kPhoneDigitsMin ||
      digits.size() > kPhoneDigitsMax ||
      !std::ranges::all_of(digits, [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgument("phone: expected E.164, '+' and 8-15 digits");
  }
  return Status::Ok();
}

Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > kHandsetNameBytesMax ||
      !std::ranges::all_of(name, [](char c) { return static_cast<unsigned char>(c) >= 0x20; })) {
    return InvalidArgument("name: expected 1-" + std::to_string(kHandsetNameBytesMax) +
                           " bytes without control characters");
  }
  return Status::Ok();
}

// The terminal checks the issuer's ARPC with the token range's cryptogram profile: the demo
// network's TSP has one profile for all its token ranges.
Result<const emv::CryptogramProfile*> TokenProfile(const demo::DemoNetwork& demo) {
  if (demo.tsp.token_ranges.empty()) return FailedPrecondition("seed tsp: no token range");
  const emv::CryptogramProfile* p = emv::FindCryptogramProfile(demo.tsp.token_ranges[0].profile);
  if (p == nullptr) return FailedPrecondition("seed tsp: unknown cryptogram profile");
  return p;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HandsetHost::~HandsetHost() = default;

Result<std::unique_ptr<HandsetHost>> HandsetHost::Open(HandsetHostOptions options) {
  if (options.demo == nullptr) return InvalidArgument("options.demo: required");
  if (options.acquirer_link == nullptr) return InvalidArgument("options.acquirer_link: required");
  if (options.api.base_url.empty()) return InvalidArgument("options.api.base_url: required");
  if (!options.authenticate) return InvalidArgument("options.authenticate: required");
  std::unique_ptr<HandsetHost> host(new HandsetHost(std::move(options)));
  TS_ASSIGN_OR_RETURN(host->store_, store::OpenSqlite(host->options_.data_dir, kRole));
  TS_RETURN_IF_ERROR(store::ApplyMigrations(*host->store_, kMigrations));
  return host;
}

Result<HandsetInfo> HandsetHost::Create(std::string_view owner_user_id, std::string_view kind,
                                        std::string_view name, std::string_view phone) {
  HandsetInfo info;
  if (kind == "phone") {
    info.kind = HandsetKind::kPhone;
  } else if (kind == "watch") {
    info.kind = HandsetKind::kWatch;
  } else {
    return InvalidArgument("kind: expected phone or watch");
  }
  TS_RETURN_IF_ERROR(CheckName(name));
  TS_RETURN_IF_ERROR(CheckPhone(phone));
  Bytes random(kHandsetIdRandomBytes);
  crypto::Csprng csprng;
  TS_RETURN_IF_ERROR(csprng.Fill(random));
  info.handset_id = "hs-" + Lower(HexEncode(random));
  info.name = std::string(name);
  info.phone = std::string(phone);
  info.created_unix_ms = SystemClock::Instance().NowUnixMillis();

  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(store::Row count, store_->QueryRow("SELECT COUNT(*) AS n FROM handsets"));
  TS_ASSIGN_OR_RETURN(std::int64_t n, count.GetInt64("n"));
  if (static_cast<std::size_t>(n) >= kHandsetsMax) {
    return FailedPrecondition("handsets: this node holds its maximum of " +
                              std::to_string(kHandsetsMax));
  }
  TS_ASSIGN_OR_RETURN(store::Row mine,
                      store_->QueryRow("SELECT COUNT(*) AS n FROM handsets WHERE owner_user_id = ?",
                                       {store::Value::Text(std::string(owner_user_id))}));
  TS_ASSIGN_OR_RETURN(std::int64_t owned, mine.GetInt64("n"));
  if (static_cast<std::size_t>(owned) >= kHandsetsPerUserMax) {
    return FailedPrecondition("handsets: a user has at most " + std::to_string(kHandsetsPerUserMax));
  }
  // The element first (its key pair), then the registry row: a crash in between leaves an
  // unreferenced directory, never a handset without its element.
  TS_ASSIGN_OR_RETURN(std::unique_ptr<device::SecureElement> se, OpenElement(info.handset_id));
  info.se_public_key_hex = Lower(HexEncode(se->public_key()));
  TS_RETURN_IF_ERROR(store_
                         ->Execute("INSERT INTO handsets (handset_id, kind, name, phone, "
                                   "created_unix_ms, owner_user_id) VALUES (?, ?, ?, ?, ?, ?)",
                                   {store::Value::Text(info.handset_id),
                                    store::Value::Text(std::string(KindName(info.kind))),
                                    store::Value::Text(info.name), store::Value::Text(info.phone),
                                    store::Value::Int64(info.created_unix_ms),
                                    store::Value::Text(std::string(owner_user_id))})
                         .status());
  auto h = std::make_shared<Handset>();
  h->info = info;
  h->se = std::move(se);
  Remember(h);
  return info;
}

Result<std::shared_ptr<HandsetHost::Handset>> HandsetHost::Find(std::string_view handset_id) {
  if (!WellFormedId(handset_id)) return NotFound("handset_id: no such handset");
  std::lock_guard lock(mu_);
  if (auto it = handsets_.find(handset_id); it != handsets_.end()) return it->second;
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_->Query(
          "SELECT kind, name, phone, created_unix_ms, dcep_operator, dcep_wallet FROM handsets "
          "WHERE handset_id = ?",
          {store::Value::Text(std::string(handset_id))}));
  if (rows.empty()) return NotFound("handset_id: no such handset");
  auto h = std::make_shared<Handset>();
  h->info.handset_id = std::string(handset_id);
  TS_ASSIGN_OR_RETURN(std::string kind, rows[0].GetText("kind"));
  h->info.kind = kind == "watch" ? HandsetKind::kWatch : HandsetKind::kPhone;
  TS_ASSIGN_OR_RETURN(h->info.name, rows[0].GetText("name"));
  TS_ASSIGN_OR_RETURN(h->info.phone, rows[0].GetText("phone"));
  TS_ASSIGN_OR_RETURN(h->info.created_unix_ms, rows[0].GetInt64("created_unix_ms"));
  TS_ASSIGN_OR_RETURN(h->dcep_operator, rows[0].GetText("dcep_operator"));
  TS_ASSIGN_OR_RETURN(h->dcep_wallet, rows[0].GetText("dcep_wallet"));
  TS_ASSIGN_OR_RETURN(h->se, OpenElement(h->info.handset_id));
  h->info.se_public_key_hex = Lower(HexEncode(h->se->public_key()));
  Remember(h);
  return h;
}

Result<std::unique_ptr<device::SecureElement>> HandsetHost::OpenElement(
    const std::string& handset_id) {
  device::SecureElementOptions options;
  options.data_dir = options_.data_dir;
  options.device_id = handset_id;
  return device::SecureElement::Open(options);
}

void HandsetHost::Remember(const std::shared_ptr<Handset>& h) {
  if (handsets_.size() >= kHandsetsOpenMax) {
    // An element nobody is using right now (only this map holds it) is closed; it reopens from
    // its file on the next call.
    for (auto it = handsets_.begin(); it != handsets_.end(); ++it) {
      if (it->second.use_count() == 1) {
        handsets_.erase(it);
        break;
      }
    }
  }
  handsets_.emplace(h->info.handset_id, h);
}

Result<HandsetInfo> HandsetHost::Get(std::string_view handset_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  return h->info;
}

Result<json> HandsetHost::Contents(std::string_view handset_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  json tokens = json::array();
  for (const std::string& token_id : h->se->TokenIds()) {
    Result<std::uint16_t> atc = h->se->Atc(token_id);
    tokens.push_back({{"token_id", token_id}, {"atc", atc.ok() ? *atc : 0}});
  }
  json cards = json::array();
  for (const std::string& card_id : h->se->TransitCardIds()) {
    Result<json> card = TransitCard(handset_id, card_id);
    if (card.ok()) cards.push_back({{"card_id", card_id}, {"balance_fen", (*card)["balance_fen"]}});
  }
  Result<std::string> express = h->se->ExpressTransitCard();
  return json{{"tokens", std::move(tokens)},
              {"transit_cards", std::move(cards)},
              {"express_transit_card", express.ok() ? json(*express) : json(nullptr)}};
}

Result<json> HandsetHost::Messages(std::string_view handset_id, std::int64_t after_unix_ms) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  // E.164 is '+' and digits; the '+' is percent-encoded in the query.
  const std::string path = "/v1/tsp/sms-outbox?phone=%2B" + h->info.phone.substr(1);
  TS_ASSIGN_OR_RETURN(json answer, CallApi(options_.api, "GET", path, nullptr,
                                           std::string(demo::kDemoRequestorApiKey)));
  json messages = json::array();
  for (const json& m : answer.value("messages", json::array())) {
    if (m.value("time_unix_ms", std::int64_t{0}) > after_unix_ms) {
      messages.push_back({{"text", m.value("text", "")}, {"time_unix_ms", m["time_unix_ms"]}});
    }
  }
  return messages;
}

Status HandsetHost::InstallToken(std::string_view handset_id, std::string_view token_id,
                                 std::string_view credentials_hex) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  Result<Bytes> blob = HexDecode(credentials_hex);
  if (!blob.ok() || blob->empty()) return InvalidArgument("credentials: expected hex");
  return h->se->InstallToken(token_id, *blob);
}

Result<HandsetHost::Terminal*> HandsetHost::TerminalAt(const demo::DemoMerchant& merchant) {
  std::lock_guard lock(mu_);
  if (auto it = terminals_.find(merchant.terminal_id); it != terminals_.end())
    return it->second.get();
  acquirer::TerminalConfig config;
  config.terminal_id = merchant.terminal_id;
  config.merchant_id = merchant.merchant_id;
  config.name_location = (merchant.name + " " + merchant.city).substr(0, 40);  // DE43: ans 40
  config.mcc = merchant.mcc;
  TS_ASSIGN_OR_RETURN(const Country* country, CountryByAlpha2(merchant.country));
  config.country_numeric = country->numeric;
  config.acquirer_id = merchant.acquirer_id;
  // A restarted node must not repeat (DE32, DE41, DE11, DE7) inside the network's duplicate
  // window: start the STAN at a random point (pos_terminal.h).
  Bytes r(3);
  crypto::Csprng csprng;
  TS_RETURN_IF_ERROR(csprng.Fill(r));
  config.stan_start = (static_cast<std::uint32_t>(r[0]) << 16 | r[1] << 8 | r[2]) % 900'000;
  auto terminal = std::make_unique<Terminal>();
  terminal->pos = std::make_unique<acquirer::PosTerminal>(config, *options_.acquirer_link,
                                                          SystemClock::Instance());
  terminal->config = std::move(config);
  Terminal* raw = terminal.get();
  terminals_.emplace(merchant.terminal_id, std::move(terminal));
  return raw;
}

namespace {

const demo::DemoMerchant* FindMerchant(const demo::DemoNetwork& demo, std::string_view id) {
  for (const demo::DemoMerchant& m : demo.merchants) {
    if (m.merchant_id == id) return &m;
  }
  return nullptr;
}

std::string Last4(std::string_view number) {
  return std::string(number.size() > 4 ? number.substr(number.size() - 4) : number);
}

}  // namespace

Result<TapOutcome> HandsetHost::Tap(std::string_view handset_id, std::string_view token_id,
                                    std::string_view merchant_id, std::int64_t amount_minor,
                                    bool fingerprint) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  const demo::DemoMerchant* merchant = FindMerchant(*options_.demo, merchant_id);
  if (merchant == nullptr) return NotFound("merchant_id: no such demo merchant");
  if (amount_minor < 1 || amount_minor > kTapAmountMinorMax) {
    return InvalidArgument("amount_minor: expected 1.." + std::to_string(kTapAmountMinorMax));
  }
  Result<Bytes> aid = h->se->TokenAid(token_id);
  if (!aid.ok()) return NotFound("token_id: not installed on this handset");
  TS_ASSIGN_OR_RETURN(Terminal * terminal, TerminalAt(*merchant));

  // The terminal accepts only the chosen token's AID: the phone's wallet shows that card in the
  // field, as a phone does for the card picked on its screen.
  acquirer::ContactlessKernelOptions kernel_options;
  kernel_options.supported_aid_prefixes = {*aid};
  crypto::Csprng random;
  device::SecureElement* se = h->se.get();
  acquirer::ContactlessKernel kernel(
      [se](ByteView capdu) -> Result<Bytes> { return se->Transmit(capdu); }, random,
      SystemClock::Instance(), kernel_options);
  if (fingerprint) se->BiometricVerified();
  const Amount amount(amount_minor, *merchant->currency);
  TS_ASSIGN_OR_RETURN(const emv::CryptogramProfile* profile, TokenProfile(*options_.demo));
  TS_ASSIGN_OR_RETURN(
      acquirer::ContactlessSaleResult sale,
      acquirer::RunContactlessSale(kernel, *terminal->pos, terminal->config, amount, *profile));
  TapOutcome out;
  out.merchant = merchant;
  out.amount_minor = amount_minor;
  out.currency = std::string(merchant->currency->alpha);
  out.token_last4 = Last4(sale.tap.token_number);
  out.offline_decline = !sale.sent_online;
  out.approved = sale.approved;
  if (sale.sent_online) {
    if (!sale.purchase.response.ok()) {
      return Unavailable("the switch's answer is unknown; the terminal sent a reversal (" +
                         sale.purchase.response.status().message() + ")");
    }
    out.response_code = sale.purchase.response_code();
    out.approval_code = std::string(sale.purchase.response->Get(38).value_or(""));
    out.stan = sale.purchase.stan;
    out.rrn = sale.purchase.rrn;
  }
  out.message = sale.receipt_line;
  return out;
}

Result<json> HandsetHost::InAppPayment(std::string_view handset_id, std::string_view token_id,
                                       const json& payment_request, bool fingerprint) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  if (!payment_request.is_object()) return InvalidArgument("payment_request: expected an object");
  acquirer::InAppOrder order;
  const json amount = payment_request.value("amount", json::object());
  if (!amount.is_object() || !amount.contains("minor") || !amount["minor"].is_number_integer() ||
      !amount.contains("currency") || !amount["currency"].is_string()) {
    return InvalidArgument("payment_request.amount: expected {minor: integer, currency: ISO 4217}");
  }
  Result<const Currency*> currency = CurrencyByAlpha(amount["currency"].get<std::string>());
  if (!currency.ok())
    return InvalidArgument("payment_request.amount.currency: unknown ISO 4217 code");
  order.amount = Amount(amount["minor"].get<std::int64_t>(), **currency);
  const json name = payment_request.value("merchant_name", json());
  const json un = payment_request.value("unpredictable_number", json());
  if (!name.is_string()) return InvalidArgument("payment_request.merchant_name: expected a string");
  if (!un.is_string())
    return InvalidArgument("payment_request.unpredictable_number: expected 8 hex digits");
  order.merchant_name = name.get<std::string>();
  order.unpredictable_number_hex = un.get<std::string>();
  const json country = payment_request.value("merchant_country_numeric", json(156));
  if (!country.is_number_integer() || country.get<std::int64_t>() < 1 ||
      country.get<std::int64_t>() > 999) {
    return InvalidArgument("payment_request.merchant_country_numeric: expected ISO 3166 numeric");
  }
  order.country_numeric = static_cast<std::uint16_t>(country.get<std::int64_t>());
  order.device_id = h->info.handset_id;
  if (!options_.demo->tsp.requestors.empty())
    order.requestor_id = options_.demo->tsp.requestors[0].id;

  device::SecureElement* se = h->se.get();
  if (!token_id.empty()) {
    Result<Bytes> aid = se->TokenAid(token_id);
    if (!aid.ok()) return NotFound("token_id: not installed on this handset");
    order.aid = *aid;
  }
  if (fingerprint) se->BiometricVerified();
  return acquirer::MakeInAppPayment(
      [se](ByteView capdu) -> Result<Bytes> { return se->Transmit(capdu); },
      SystemClock::Instance(), order);
}

}  // namespace tapstack::handset
