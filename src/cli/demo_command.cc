#include "cli/demo_command.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "acquirer/contactless_sale.h"
#include "acquirer/in_app_payment.h"
#include "cli/usage_error.h"
#include "core/clock.h"
#include "core/currency.h"
#include "core/hex.h"
#include "core/pan.h"
#include "crypto/csprng.h"
#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "emv/cryptogram_profile.h"
#include "link/tcp_client.h"
#include "server/io_threads.h"
#include "server/dcep_story.h"
#include "server/qr_story.h"
#include "transit/city_network.h"
#include "transit/psam.h"
#include "transit/purse_commands.h"
#include "transit/transit_operator.h"
#include "transit/validator.h"
#include "tsp/otp_challenge.h"

namespace tapstack::cli {

namespace {

using nlohmann::json;

struct DemoOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string iso8583;  // host:port; empty: 127.0.0.1 and the port /health reports
  std::string device_dir;
  std::string seed;
  int card_index = -1;  // -1: a random demo card of the first bank
  std::string city = "1000";  // `demo transit`: the T-Union city code
};

// Raised when the server cannot be reached or answers outside the API: exit code 2.
class DemoAbort : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpAnswer {
  int status = 0;
  json body;
};

// The wallet app's HTTP side: JSON in, JSON out, with the session and idempotency keys.
class ApiClient {
 public:
  explicit ApiClient(const std::string& url) : http_(url) {
    http_.set_connection_timeout(5);
    http_.set_read_timeout(30);
  }

  HttpAnswer Call(const std::string& method, const std::string& path, const json& body = nullptr,
                  const std::string& bearer = "", bool idempotent = false) {
    httplib::Headers headers;
    if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
    if (idempotent) headers.emplace("Idempotency-Key", "demo-" + std::to_string(++key_counter_) +
                                                           "-" + std::to_string(::getpid()));
    const std::string text = body.is_null() ? std::string() : body.dump();
    httplib::Result r = method == "GET"      ? http_.Get(path, headers)
                        : method == "DELETE" ? http_.Delete(path, headers, text, "application/json")
                                             : http_.Post(path, headers, text, "application/json");
    if (!r) {
      throw DemoAbort(method + " " + path + ": no answer from the server (" +
                      httplib::to_string(r.error()) + ")");
    }
    HttpAnswer a;
    a.status = r->status;
    a.body = json::parse(r->body, nullptr, false);
    if (a.body.is_discarded()) a.body = json::object();
    return a;
  }

 private:
  httplib::Client http_;
  int key_counter_ = 0;
};

// One of the user's devices: its secure element and a kernel that taps it.
struct Device {
  std::string id;
  std::unique_ptr<device::SecureElement> se;
  std::unique_ptr<acquirer::ContactlessKernel> kernel;
};

// What every story shares: the printed steps, the wallet user and the bank card bound to a phone.
class WalletApp {
 public:
  WalletApp(const DemoOptions& options, const demo::DemoNetwork& demo)
      : options_(options), demo_(demo), api_(options.url) {}

 protected:
  void Step(const std::string& title) { std::printf("\n%d. %s\n", ++step_, title.c_str()); }
  void Say(const std::string& line) { std::printf("   %s\n", line.c_str()); }
  // Records whether the step ended as the story expects.
  void Expect(bool ok, const std::string& what) {
    std::printf("   %s %s\n", ok ? "ok:" : "UNEXPECTED:", what.c_str());
    if (!ok) ++failures_;
  }
  HttpAnswer Must(HttpAnswer a, int status, const std::string& what) {
    if (a.status != status) {
      throw DemoAbort(what + ": expected HTTP " + std::to_string(status) + ", got " +
                      std::to_string(a.status) + " " + a.body.dump());
    }
    return a;
  }

  // A random tag for this run (device ids, phone number): tag_bytes_, tag_ and phone_.
  void NewRunTag();
  Device OpenDevice(const std::string& kind);
  void RegisterDevice(const Device& d, const std::string& kind, const std::string& name,
                      const std::string& storage);
  // Signs a new wallet user up and in (session_, user_id_).
  void SignUp();
  // Adds demo debit card `index` of the first bank on `d` (the issuer's one-time code by SMS) and
  // installs its token in the device's secure element (pan_, card_id_).
  void AddBankCard(Device& d, int index);
  void Install(Device& d, const json& answer);
  std::string ReadOtp();

  const DemoOptions& options_;
  const demo::DemoNetwork& demo_;
  ApiClient api_;
  crypto::Csprng random_;
  int step_ = 0;
  int failures_ = 0;
  Bytes tag_bytes_;
  std::string tag_;  // random per run: device ids and phone number
  std::string phone_;
  std::string session_;
  std::string user_id_;
  std::string pan_;  // the bank card's number: sent to the wallet once, printed masked only
  std::string card_id_;
};

class Story : public WalletApp {
 public:
  using WalletApp::WalletApp;

  int Run();

 private:
  std::int64_t Balance();
  acquirer::ContactlessSaleResult Tap(Device& d, std::int64_t minor, bool biometric);

  std::unique_ptr<server::IoThreads> io_;
  std::unique_ptr<link::Iso8583Client> switch_link_;
  std::unique_ptr<acquirer::PosTerminal> terminal_;
  acquirer::TerminalConfig terminal_config_;
};

void WalletApp::NewRunTag() {
  tag_bytes_.assign(4, 0);
  if (!random_.Fill(tag_bytes_).ok()) throw DemoAbort("no randomness");
  tag_ = HexEncode(tag_bytes_);
  for (char& c : tag_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  phone_ = "+86138" +
           std::to_string(10'000'000 +
                          (tag_bytes_[0] << 16 | tag_bytes_[1] << 8 | tag_bytes_[2]) % 90'000'000);
  std::filesystem::create_directories(options_.device_dir);
}

void WalletApp::SignUp() {
  const std::string password = "demo-password-" + tag_;
  Must(api_.Call("POST", "/v1/users", {{"phone", phone_}, {"password", password}}), 201, "sign up");
  HttpAnswer s =
      Must(api_.Call("POST", "/v1/sessions", {{"phone", phone_}, {"password", password}}), 201,
           "sign in");
  session_ = s.body.value("session", "");
  user_id_ = s.body.value("user_id", "");
  Say("user " + user_id_ + " with phone " + phone_ + " signed in");
}

void WalletApp::AddBankCard(Device& d, int index) {
  const demo::DemoBank& bank = demo_.banks.at(0);
  pan_ = demo::DemoCardNumber(bank, demo::CardKind::kDebit, index).value();
  const std::string cvv2 =
      demo::DemoCardCvv2(bank.institution_id, pan_, demo::kDemoCardExpiry).value();
  const std::string expiry = std::string(demo::kDemoCardExpiry).substr(2, 2) + "/" +
                             std::string(demo::kDemoCardExpiry).substr(0, 2);
  Say("card " + Pan::Parse(pan_)->Masked() + " of " + bank.name + ", expiry " + expiry);
  HttpAnswer add = api_.Call("POST", "/v1/cards",
                             {{"device_id", d.id},
                              {"card_type", "debit"},
                              {"pan", pan_},
                              {"expiry", expiry},
                              {"cvv2", cvv2},
                              {"holder_name", "LI LEI"}},
                             session_, true);
  Expect(add.status == 202 && add.body.value("result", "") == "pending_verification",
         "the issuer asks for a one-time code (" + std::to_string(add.status) + " " +
             add.body.value("result", add.body.value("error", "")) + ")");
  if (add.status != 202) throw DemoAbort("add card: " + add.body.dump());
  card_id_ = add.body["card"].value("card_id", "");
  HttpAnswer verified = Must(
      api_.Call("POST", "/v1/cards/" + card_id_ + "/verify", {{"otp", ReadOtp()}}, session_, true),
      200, "verify the code");
  Expect(verified.body.value("result", "") == "active", "card " + card_id_ + " is active");
  Install(d, verified.body);
}

Device WalletApp::OpenDevice(const std::string& kind) {
  Device d;
  d.id = kind + "-" + tag_;
  device::SecureElementOptions o;
  o.data_dir = options_.device_dir;
  o.device_id = d.id;
  auto se = device::SecureElement::Open(o);
  if (!se.ok()) throw DemoAbort("secure element of the " + kind + ": " + se.status().ToString());
  d.se = std::move(se).value();
  device::SecureElement* raw = d.se.get();
  d.kernel = std::make_unique<acquirer::ContactlessKernel>(
      [raw](ByteView capdu) -> Result<Bytes> { return raw->Transmit(capdu); }, random_,
      SystemClock::Instance());
  return d;
}

void WalletApp::RegisterDevice(const Device& d, const std::string& kind, const std::string& name,
                               const std::string& storage) {
  Must(api_.Call("POST", "/v1/devices",
                 {{"device_id", d.id},
                  {"kind", kind},
                  {"name", name},
                  {"se_public_key", HexEncode(d.se->public_key())},
                  {"storage", storage}},
                 session_),
       201, "register the " + kind);
  Say(kind + " " + d.id + " registered with its secure element's public key (" +
      (storage == "hce" ? "HCE: single-use keys from the TSP" : "SE: card master key") + ")");
}

// Installs the credentials the wallet passed on (wrapped by the TSP for this device only).
void WalletApp::Install(Device& d, const json& answer) {
  std::string token_id;
  for (const json& t : answer["card"]["tokens"]) {
    if (t.value("device_id", "") == d.id) token_id = t.value("token_id", "");
  }
  Result<Bytes> blob = HexDecode(answer.value("credentials", ""));
  if (token_id.empty() || !blob.ok()) throw DemoAbort("no token or credentials for " + d.id);
  Status installed = d.se->InstallToken(token_id, *blob);
  Expect(installed.ok(), "token " + token_id + " installed in the " + d.id + " secure element (" +
                             installed.ToString() + ")");
}

std::string WalletApp::ReadOtp() {
  // E.164 is '+' and digits; '+' must be percent-encoded in a query string.
  const std::string path = "/v1/tsp/sms-outbox?phone=%2B" + phone_.substr(1);
  HttpAnswer a = Must(api_.Call("GET", path, nullptr, std::string(demo::kDemoRequestorApiKey)), 200,
                      "read the SMS outbox");
  const json& messages = a.body["messages"];
  if (!messages.is_array() || messages.empty()) throw DemoAbort("no SMS for " + phone_);
  const std::string text = messages.back().value("text", "");
  const std::string code = tsp::OtpFromSmsText(text);
  if (code.empty()) throw DemoAbort("no code in: " + text);
  Say("SMS to " + phone_ + ": \"" + text + "\"");
  return code;
}

std::int64_t Story::Balance() {
  HttpAnswer a = Must(api_.Call("POST", "/v1/issuer/cards/balance", {{"pan", pan_}}), 200,
                      "the issuer's balance");
  return a.body.value("available_minor", std::int64_t{0});
}

acquirer::ContactlessSaleResult Story::Tap(Device& d, std::int64_t minor, bool biometric) {
  if (biometric) d.se->BiometricVerified();
  Say(std::string(biometric ? "fingerprint checked on the " : "no fingerprint on the ") + d.id +
      ", tap at " + terminal_config_.name_location);
  auto sale = acquirer::RunContactlessSale(*d.kernel, *terminal_, terminal_config_,
                                           Amount(minor, Cny()),
                                           *emv::FindCryptogramProfile("mc-cvn20"));
  if (!sale.ok()) throw DemoAbort("tap on " + d.id + ": " + sale.status().ToString());
  Say("receipt: " + sale->receipt_line);
  return std::move(sale).value();
}

int Story::Run() {
  NewRunTag();

  HttpAnswer health = Must(api_.Call("GET", "/health"), 200, "GET /health");
  std::string iso = options_.iso8583;
  if (iso.empty()) {
    if (!health.body.contains("iso8583_port")) throw DemoAbort("/health has no iso8583_port");
    iso = "127.0.0.1:" + std::to_string(health.body["iso8583_port"].get<int>());
  }
  const auto colon = iso.rfind(':');
  if (colon == std::string::npos) throw UsageError("--iso8583: expected host:port");
  link::ClientOptions link;
  link.host = iso.substr(0, colon);
  link.port = static_cast<std::uint16_t>(std::stoi(iso.substr(colon + 1)));
  link.name = "demo-pos";
  const demo::DemoMerchant& m = demo_.merchants.at(0);  // Best Transport Store, Beijing
  link.institution_id = m.acquirer_id;
  io_ = std::make_unique<server::IoThreads>(1);
  switch_link_ = std::make_unique<link::Iso8583Client>(io_->io(), link);
  switch_link_->Start();
  terminal_config_ = {m.terminal_id, m.merchant_id, m.name + " " + m.city, m.mcc,
                      (*CountryByAlpha2(m.country))->numeric, m.acquirer_id};
  // This terminal keeps no STAN counter between runs: start at a random point so two runs never
  // send the same DE11 (the switch would answer the second with its duplicate check).
  terminal_config_.stan_start = (static_cast<std::uint32_t>(tag_bytes_[0]) << 16 |
                                 static_cast<std::uint32_t>(tag_bytes_[1]) << 8 | tag_bytes_[2]) %
                                900'000;
  terminal_ = std::make_unique<acquirer::PosTerminal>(terminal_config_, *switch_link_,
                                                      SystemClock::Instance());
  std::printf("tapstack demo against %s (ISO 8583 %s); devices in %s\n", options_.url.c_str(),
              iso.c_str(), options_.device_dir.c_str());

  Step("Create a user and sign in");
  SignUp();

  Step("Register a phone and a watch");
  Device phone = OpenDevice("phone");
  Device watch = OpenDevice("watch");
  RegisterDevice(phone, "phone", "Li Lei's phone", "se");
  RegisterDevice(watch, "watch", "Li Lei's watch", "hce");

  Step("Add a bank card on the phone (SMS code)");
  int index = options_.card_index;
  if (index < 0) index = tag_bytes_[3] % 100;
  AddBankCard(phone, index);

  Step("The same card on the watch");
  HttpAnswer on_watch = Must(api_.Call("POST", "/v1/cards/" + card_id_ + "/devices",
                                       {{"device_id", watch.id}}, session_, true),
                             201, "add the card to the watch");
  Install(watch, on_watch.body);

  Step("Tap to pay 88.00 CNY with the phone");
  const std::int64_t before = Balance();
  acquirer::ContactlessSaleResult paid = Tap(phone, 8'800, true);
  const std::int64_t after = Balance();
  Expect(paid.approved && paid.issuer_authenticated, "approved, and the card accepted the ARPC");
  Expect(after == before - 8'800, "balance " + Amount(before, Cny()).ToDecimalString() + " → " +
                                      Amount(after, Cny()).ToDecimalString() + " CNY");

  Step("Pay again without the fingerprint");
  acquirer::ContactlessSaleResult no_cdcvm = Tap(phone, 1'200, false);
  Expect(!no_cdcvm.sent_online && !no_cdcvm.approved, "the phone declined offline (no CDCVM)");

  Step("The phone is lost: disable it from the watch");
  HttpAnswer lost = Must(api_.Call("POST", "/v1/devices/" + phone.id + "/lost", nullptr, session_),
                         200, "report the phone lost");
  Expect(lost.body.value("all_succeeded", false), "every token on the phone is suspended");
  acquirer::ContactlessSaleResult thief = Tap(phone, 5'000, true);
  Expect(thief.sent_online && !thief.approved && thief.purchase.response_code() == "14",
         "a tap with the lost phone is declined by the network (token suspended)");
  acquirer::ContactlessSaleResult watch_paid = Tap(watch, 1'500, true);
  Expect(watch_paid.approved, "the watch still pays");
  // The watch is an HCE device: each tap spends one single-use key; the wallet fetches more.
  const std::string watch_token = watch.se->TokenIds().at(0);
  auto remaining = [&] {
    Result<std::size_t> n = watch.se->LimitedUseKeysRemaining(watch_token);
    return n.ok() ? *n : std::size_t{0};
  };
  const std::size_t keys_left = remaining();
  HttpAnswer keys = Must(api_.Call("POST", "/v1/cards/" + card_id_ + "/devices/" + watch.id + "/keys",
                                   {{"count", 10}}, session_),
                         200, "replenish the watch's keys");
  Result<Bytes> batch = HexDecode(keys.body.value("credentials", ""));
  const Status replenished =
      batch.ok() ? watch.se->ReplenishLimitedUseKeys(watch_token, *batch) : batch.status();
  const std::size_t keys_now = remaining();
  Expect(replenished.ok() && keys_now == keys_left + 10,
         "the watch had " + std::to_string(keys_left) + " single-use keys left, now " +
             std::to_string(keys_now) + " (" + replenished.ToString() + ")");

  Step("Find the phone, then resume it");
  Must(api_.Call("POST", "/v1/devices/" + phone.id + "/location",
                 {{"lat_e6", 39'908'722}, {"lon_e6", 116'397'499}}, session_),
       200, "the phone reports its location");
  HttpAnswer where = Must(api_.Call("GET", "/v1/devices/" + phone.id, nullptr, session_), 200,
                          "find the phone");
  Say("last seen at " + where.body["last_location"].dump());
  HttpAnswer found = Must(api_.Call("POST", "/v1/devices/" + phone.id + "/found", nullptr, session_),
                          200, "resume the phone");
  Expect(found.body.value("all_succeeded", false), "its tokens are active again");
  acquirer::ContactlessSaleResult resumed = Tap(phone, 2'000, true);
  Expect(resumed.approved, "the phone pays again");

  Step("Replace the phone: delete it");
  HttpAnswer deleted = Must(api_.Call("DELETE", "/v1/devices/" + phone.id, nullptr, session_), 200,
                            "delete the phone");
  Expect(deleted.body.value("all_succeeded", false), "its tokens are deleted");
  acquirer::ContactlessSaleResult gone = Tap(phone, 2'000, true);
  Expect(!gone.approved, "a tap with the deleted phone's token is declined");

  Step("The card's history in the wallet");
  HttpAnswer history = Must(api_.Call("GET", "/v1/cards/" + card_id_ + "/transactions", nullptr,
                                      session_),
                            200, "card history");
  const json& txs = history.body["transactions"];
  for (const json& t : txs) {
    Say(t.value("merchant", "") + "  " + Amount(t.value("amount_minor", std::int64_t{0}), Cny()).ToDecimalString() +
        " " + t.value("currency", "") + "  " + (t.value("approved", false) ? "approved" : "declined ") +
        (t.value("approved", false) ? "" : t.value("response_code", "")));
  }
  Expect(txs.is_array() && txs.size() >= 4, "the wallet shows the network's answers for the card");

  switch_link_->Stop();
  io_->Stop();
  std::printf("\n%s\n", failures_ == 0 ? "demo finished: every step as expected"
                                       : "demo finished with unexpected results");
  return failures_ == 0 ? 0 : 1;
}

// ---- `tapstack demo transit` ----

// The top-up of the story (the issue's "tops it up with a bound bank card").
constexpr std::uint32_t kTopUpFen = 50'00;
// How many log records a purse keeps (READ RECORD SFI 18, 1 = newest).
constexpr std::uint8_t kTripLogRecordsMax = static_cast<std::uint8_t>(transit::kLogRecordsMax);

// "YYYY-MM-DD hh:mm:ss" of a 7-byte BCD date-time (YYYYMMDDhhmmss).
std::string BcdDateTimeText(ByteView bcd) {
  const std::string d = HexEncode(bcd);
  if (d.size() != 14) return d;
  return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + " " + d.substr(8, 2) + ":" +
         d.substr(10, 2) + ":" + d.substr(12, 2);
}

std::string Yuan(std::uint32_t fen) { return Amount(fen, Cny()).ToDecimalString() + " CNY"; }

// A gate or bus validator of the story with its name on the display.
struct Gate {
  std::string label;  // "entry gate at Pingguoyuan"
  std::unique_ptr<transit::Validator> validator;
};

// The transit story: a phone with a bound bank card opens a city's transit card through the
// operator's API, tops it up with an in-app token payment, rides through offline gates and a bus
// validator run here (each with its own PSAM and file under the device directory), survives a torn
// transaction, uploads the rides, loses the phone and gets the card back on a new one.
class TransitStory : public WalletApp {
 public:
  using WalletApp::WalletApp;

  int Run();

 private:
  std::string CityPath(const std::string& rest) const {
    return "/v1/transit/" + options_.city + rest;
  }
  // The wallet's channel to `card_id` on `d` (SecureElement::TransmitToTransitCard).
  static transit::Transmit WalletChannel(Device& d, const std::string& card_id) {
    device::SecureElement* se = d.se.get();
    return [se, card_id](ByteView capdu) { return se->TransmitToTransitCard(card_id, capdu); };
  }
  // The contactless field of a gate (SecureElement::Transmit: the express card, no biometric).
  static transit::Transmit Field(Device& d) {
    device::SecureElement* se = d.se.get();
    return [se](ByteView capdu) { return se->Transmit(capdu); };
  }
  std::uint32_t CardBalance(Device& d, const std::string& card_id);
  // The in-app payment data for `order_id`: the operator's payment request (its unpredictable
  // number), the fingerprint, the secure element's cryptogram.
  json Pay(Device& d, const std::string& order_id, std::uint32_t fen);
  // Issues a card of the city on `d` (or, with `old_serial`, migrates that card to it) and
  // installs it. Returns the card JSON.
  json OpenCard(Device& d, const std::string& card_id, const std::string& old_serial);
  // The top-up: order, INITIALIZE FOR LOAD, MAC2, CREDIT FOR LOAD, confirm. Returns the balance.
  std::uint32_t TopUp(Device& d, const std::string& card_id, const std::string& serial,
                      const std::string& order_id, std::uint32_t fen);
  Gate OpenGate(const std::string& label, transit::ValidatorKind kind, std::uint16_t line,
                std::uint16_t station, std::uint8_t psam_index);
  transit::TapResult TapAt(Gate& gate, const transit::Transmit& field);
  // Every validator uploads its outstanding batch and acknowledges what the operator stored.
  void UploadAll();
  // The card's log (SFI 18), newest first, as printable lines.
  std::vector<std::string> TripLog(Device& d, const std::string& card_id);

  std::shared_ptr<const transit::CityNetwork> city_;
  transit::TerminalId load_terminal_{};
  std::vector<Gate*> gates_;
  std::map<std::string, std::string> terminal_names_;  // terminal id (hex) -> label
};

std::uint32_t TransitStory::CardBalance(Device& d, const std::string& card_id) {
  transit::PurseCommands card(WalletChannel(d, card_id));
  Result<std::uint32_t> balance = card.GetBalance();
  if (!balance.ok())
    throw DemoAbort("GET BALANCE of " + card_id + ": " + balance.status().ToString());
  return *balance;
}

json TransitStory::Pay(Device& d, const std::string& order_id, std::uint32_t fen) {
  HttpAnswer request = api_.Call("POST", CityPath("/payment-requests"),
                                 {{"order_id", order_id}, {"amount_fen", fen}});
  if (request.status != 200 && request.status != 201) {
    throw DemoAbort("payment request for " + order_id + ": HTTP " + std::to_string(request.status) +
                    " " + request.body.dump());
  }
  acquirer::InAppOrder order;
  order.merchant_name = request.body.value("merchant_name", "");
  order.amount = Amount(fen, Cny());
  order.unpredictable_number_hex = request.body.value("unpredictable_number", "");
  order.device_id = d.id;
  if (!demo_.tsp.requestors.empty()) order.requestor_id = demo_.tsp.requestors[0].id;
  Say("pay " + Yuan(fen) + " to \"" + order.merchant_name + "\" with the bound card (order " +
      order_id + ", number " + order.unpredictable_number_hex + "), fingerprint checked");
  d.se->BiometricVerified();
  device::SecureElement* se = d.se.get();
  Result<json> data = acquirer::MakeInAppPayment(
      [se](ByteView capdu) -> Result<Bytes> { return se->Transmit(capdu); },
      SystemClock::Instance(), order);
  if (!data.ok())
    throw DemoAbort("in-app payment for " + order_id + ": " + data.status().ToString());
  return *data;
}

json TransitStory::OpenCard(Device& d, const std::string& card_id, const std::string& old_serial) {
  json body = {{"card_id", card_id},
               {"account_id", user_id_},
               {"device_id", d.id},
               {"device_public_key", HexEncode(d.se->public_key())}};
  std::string path = CityPath("/cards");
  if (old_serial.empty()) {
    // A city with an opening fee is paid like a top-up, under the order id "open-<card_id>".
    const std::uint32_t fee = city_->card_rules().opening_fee_fen;
    if (fee > 0) body["payment_data"] = Pay(d, "open-" + card_id, fee);
  } else {
    path = CityPath("/cards/" + old_serial + "/migrate");  // no balance: the operator's
  }
  HttpAnswer issued = Must(api_.Call("POST", path, body), 201,
                           old_serial.empty() ? "issue the transit card" : "migrate the card");
  Result<Bytes> profile = HexDecode(issued.body.value("wrapped_profile", ""));
  if (!profile.ok()) throw DemoAbort("no wrapped profile: " + issued.body.dump());
  const Status installed = d.se->InstallTransitCard(card_id, *profile);
  const json card = issued.body["card"];
  Expect(installed.ok(), "card " + card.value("serial", "") + " (" + card_id +
                             ") installed in the " + d.id + " secure element (" +
                             installed.ToString() + ")");
  return card;
}

std::uint32_t TransitStory::TopUp(Device& d, const std::string& card_id, const std::string& serial,
                                  const std::string& order_id, std::uint32_t fen) {
  const json payment_data = Pay(d, order_id, fen);
  HttpAnswer created = Must(api_.Call("POST", CityPath("/orders"),
                                      {{"order_id", order_id},
                                       {"card_serial", serial},
                                       {"amount_fen", fen},
                                       {"payment_data", payment_data}}),
                            201, "create the top-up order");
  Expect(created.body["order"].value("state", "") == "paid",
         "the operator holds the payment: order " + order_id + " is " +
             created.body["order"].value("state", ""));

  // INITIALIZE FOR LOAD over the wallet's channel; its 16-byte answer goes to the load server.
  Bytes init_answer;
  transit::Transmit channel = WalletChannel(d, card_id);
  transit::PurseCommands card([&channel, &init_answer](ByteView capdu) {
    Bytes answer = channel(capdu);
    // INITIALIZE FOR LOAD is 80 50 00 02 (transit/purse_commands.h).
    if (capdu.size() > 2 && capdu[0] == 0x80 && capdu[1] == 0x50 && capdu[2] == 0x00 &&
        answer.size() >= 2) {
      init_answer.assign(answer.begin(), answer.end() - 2);  // without SW1 SW2
    }
    return answer;
  });
  if (Status s = card.Select(); !s.ok()) throw DemoAbort("SELECT: " + s.ToString());
  Result<transit::LoadInit> init = card.InitializeForLoad(fen, load_terminal_);
  if (!init.ok()) throw DemoAbort("INITIALIZE FOR LOAD: " + init.status().ToString());
  Say("INITIALIZE FOR LOAD: balance " + Yuan(init->balance_fen) + ", online counter " +
      std::to_string(init->online_counter) + ", MAC1 " + HexEncode(init->mac1));
  HttpAnswer mac2 = Must(api_.Call("POST", CityPath("/orders/" + order_id + "/load"),
                                   {{"init_for_load", HexEncode(init_answer)}}),
                         200, "the load server's MAC2");
  Result<Bytes> date = HexDecode(mac2.body.value("date", ""));
  Result<Bytes> time = HexDecode(mac2.body.value("time", ""));
  Result<Bytes> mac2_bytes = HexDecode(mac2.body.value("mac2", ""));
  if (!date.ok() || !time.ok() || !mac2_bytes.ok() ||
      mac2_bytes->size() != crypto::kPurseMacBytes) {
    throw DemoAbort("load answer: " + mac2.body.dump());
  }
  crypto::PurseMac mac{};
  std::copy(mac2_bytes->begin(), mac2_bytes->end(), mac.begin());
  Result<crypto::PurseMac> tac = card.CreditForLoad(*date, *time, mac);
  if (!tac.ok()) throw DemoAbort("CREDIT FOR LOAD: " + tac.status().ToString());
  Say("CREDIT FOR LOAD with MAC2 " + mac2.body.value("mac2", "") + ": TAC " + HexEncode(*tac));
  HttpAnswer confirmed = Must(
      api_.Call("POST", CityPath("/orders/" + order_id + "/confirm"), {{"tac", HexEncode(*tac)}}),
      200, "confirm the load");
  const json& order = confirmed.body["order"];
  Expect(order.value("state", "") == "loaded" && order.value("captured", false),
         "order " + order_id + " loaded and the payment captured (" + order.dump() + ")");
  return CardBalance(d, card_id);
}

Gate TransitStory::OpenGate(const std::string& label, transit::ValidatorKind kind,
                            std::uint16_t line, std::uint16_t station, std::uint8_t psam_index) {
  transit::ValidatorOptions o;
  // Ids and PSAM numbers are new for every run: a device directory may be new while the server
  // keeps every earlier run's batches (batch ids are "<validator id>-<n>").
  o.validator_id = std::string(transit::ValidatorKindName(kind)) + "-" + std::to_string(station) +
                   "-" + std::to_string(line) + "-" + tag_;
  std::replace(o.validator_id.begin(), o.validator_id.end(), '_', '-');
  o.kind = kind;
  o.city = city_;
  o.line = line;
  o.station = station;
  o.data_dir = std::filesystem::path(options_.device_dir) / "validators";
  o.psam.number = {0x10, tag_bytes_[0], tag_bytes_[1], tag_bytes_[2], tag_bytes_[3], psam_index};
  o.psam.key_version = city_->key_version();
  o.psam.purchase_master_key = demo::DemoTransitKey("t-union", "purchase");
  o.psam.maintenance_master_key = demo::DemoTransitKey("t-union", "maintenance");
  const std::string number = HexEncode(o.psam.number);
  auto v = transit::Validator::Open(std::move(o));
  if (!v.ok()) throw DemoAbort(label + ": " + v.status().ToString());
  terminal_names_[number] = label;
  return Gate{label, std::move(v).value()};
}

transit::TapResult TransitStory::TapAt(Gate& gate, const transit::Transmit& field) {
  transit::TapResult r = gate.validator->Tap(field);
  std::string line = "tap at the " + gate.label + ": " + (r.open ? "OPEN" : "CLOSED");
  if (r.open) {
    line += ", fare " + Yuan(r.fare_fen);
    if (r.penalty_fen > 0) line += " (penalty " + Yuan(r.penalty_fen) + ")";
    if (r.discount_fen > 0) line += " (transfer discount " + Yuan(r.discount_fen) + ")";
    line += ", balance " + Yuan(r.balance_fen);
  }
  if (r.recovered) line += ", completes the earlier torn tap";
  if (r.blocked) line += ", card BLOCKED";
  if (!r.reason.empty()) line += " (" + r.reason + ")";
  Say(line);
  return r;
}

void TransitStory::UploadAll() {
  for (Gate* gate : gates_) {
    Result<transit::UploadBatch> batch = gate->validator->NextUploadBatch();
    if (!batch.ok()) throw DemoAbort(gate->label + " batch: " + batch.status().ToString());
    if (batch->empty()) continue;
    HttpAnswer stored = Must(api_.Call("POST", CityPath("/uploads"),
                                       transit::UploadBatchToJson(*batch, gate->validator->id())),
                             200, "upload of the " + gate->label);
    const std::int64_t accepted = stored.body.value("accepted", std::int64_t{-1});
    Expect(accepted == static_cast<std::int64_t>(batch->records.size()) &&
               stored.body.value("rejected", std::int64_t{-1}) == 0,
           gate->label + ": batch " + batch->batch_id + " of " +
               std::to_string(batch->records.size()) + " record(s), " +
               std::to_string(batch->blocked_cards.size()) + " block event(s): accepted " +
               std::to_string(accepted) + ", duplicates " +
               std::to_string(stored.body.value("duplicates", std::int64_t{-1})) + ", rejected " +
               std::to_string(stored.body.value("rejected", std::int64_t{-1})));
    const Status acked = gate->validator->AcknowledgeUpload(batch->batch_id);
    Expect(acked.ok() && gate->validator->PendingRecords() == 0,
           gate->label + " acknowledged the batch and holds no record (" + acked.ToString() + ")");
  }
}

std::vector<std::string> TransitStory::TripLog(Device& d, const std::string& card_id) {
  transit::PurseCommands card(WalletChannel(d, card_id));
  std::vector<std::string> lines;
  for (std::uint8_t i = 1; i <= kTripLogRecordsMax; ++i) {
    Result<transit::PurseLogRecord> r = card.ReadLogRecord(i);
    if (!r.ok() && r.status().code() == ErrorCode::kNotFound) break;
    if (!r.ok())
      throw DemoAbort("READ RECORD SFI 18 #" + std::to_string(i) + ": " + r.status().ToString());
    const std::string terminal = HexEncode(r->terminal_id);
    std::string where;
    if (r->terminal_id == load_terminal_) {
      where = "top-up (load terminal " + terminal + ")";
    } else if (auto it = terminal_names_.find(terminal); it != terminal_names_.end()) {
      where = it->second;
    } else {
      where = "terminal " + terminal;
    }
    const std::string kind = r->type == transit::kLoadTypeEp ? "load    " : "purchase";
    lines.push_back(BcdDateTimeText(r->date_time) + "  #" + std::to_string(r->counter) + "  " +
                    kind + "  " + Yuan(r->amount_fen) + "  " + where);
  }
  return lines;
}

int TransitStory::Run() {
  NewRunTag();
  Must(api_.Call("GET", "/health"), 200, "GET /health");
  // The gates' reference data: the city's fares and stations as the operator pushes them.
  HttpAnswer reference =
      Must(api_.Call("GET", CityPath("/reference")), 200, "GET " + CityPath("/reference"));
  Result<transit::CityNetwork> city = transit::CityNetwork::FromJson(reference.body["city"]);
  if (!city.ok()) throw DemoAbort("the city's reference data: " + city.status().ToString());
  city_ = std::make_shared<const transit::CityNetwork>(std::move(city).value());
  if (!city_->metro() || city_->metro()->lines.empty()) {
    throw UsageError("--city " + options_.city + ": the story needs a city with a metro");
  }
  Result<transit::TerminalId> load_terminal = transit::DefaultLoadTerminalId(options_.city);
  if (!load_terminal.ok()) throw UsageError("--city: " + load_terminal.status().ToString());
  load_terminal_ = *load_terminal;
  std::printf("tapstack demo transit against %s: %s (%s); devices in %s\n", options_.url.c_str(),
              city_->name().c_str(), options_.city.c_str(), options_.device_dir.c_str());

  Step("A new phone, a wallet user, a bank card bound to the phone");
  SignUp();
  Device phone = OpenDevice("phone");
  RegisterDevice(phone, "phone", "Li Lei's phone", "se");
  int index = options_.card_index;
  if (index < 0) index = tag_bytes_[3] % 100;
  AddBankCard(phone, index);

  Step("Open a " + city_->name() + " transit card on the phone");
  const std::string card_id = "tc-" + tag_ + "-1";
  const json card = OpenCard(phone, card_id, "");
  const std::string serial = card.value("serial", "");
  Say("serial " + serial + ", valid " + std::to_string(card.value("issued_date", 0)) + " to " +
      std::to_string(card.value("expiry_date", 0)) + ", status " + card.value("status", ""));
  const std::uint32_t opened = CardBalance(phone, card_id);
  Expect(opened == 0 && card.value("status", "") == "active",
         "the card is active with balance " + Yuan(opened));

  Step("Top up " + Yuan(kTopUpFen) + " with the bound bank card");
  const std::uint32_t topped = TopUp(phone, card_id, serial, "topup-" + tag_ + "-1", kTopUpFen);
  Expect(topped == opened + kTopUpFen, "GET BALANCE: " + Yuan(topped));

  Step("Ride the metro, then a bus");
  const transit::MetroLine& line = city_->metro()->lines.front();
  const std::uint16_t from = line.stops.front().station_id;
  const std::uint16_t to = line.stops[std::min<std::size_t>(5, line.stops.size() - 1)].station_id;
  const std::string from_name = city_->StationById(from).value().name;
  const std::string to_name = city_->StationById(to).value().name;
  Gate entry_gate =
      OpenGate("entry gate at " + from_name, transit::ValidatorKind::kMetroEntry, line.id, from, 1);
  Gate exit_gate =
      OpenGate("exit gate at " + to_name, transit::ValidatorKind::kMetroExit, line.id, to, 2);
  gates_ = {&entry_gate, &exit_gate};
  const std::uint32_t fare = city_->MetroFare(from, to).value();
  const transit::TapResult in = TapAt(entry_gate, Field(phone));
  Expect(in.open && in.fare_fen == 0, "the entry gate opens and charges nothing");
  const transit::TapResult out = TapAt(exit_gate, Field(phone));
  std::uint32_t balance = CardBalance(phone, card_id);
  Expect(out.open && out.fare_fen == fare && balance == topped - fare,
         from_name + " to " + to_name + ": fare " + Yuan(out.fare_fen) + " (expected " +
             Yuan(fare) + "), balance " + Yuan(balance));
  std::optional<Gate> bus;
  if (city_->bus()) {
    const std::uint16_t bus_line = city_->bus()->lines.empty() ? 1 : city_->bus()->lines.front().id;
    bus = OpenGate("bus validator on line " + std::to_string(bus_line),
                   transit::ValidatorKind::kBus, bus_line, 0, 3);
    gates_.push_back(&*bus);
    const std::uint32_t bus_fare = city_->BusFare(bus_line).value();
    const std::uint32_t before_bus = balance;
    const transit::TapResult ride = TapAt(*bus, Field(phone));
    balance = CardBalance(phone, card_id);
    Expect(ride.open && ride.fare_fen + ride.discount_fen == bus_fare &&
               balance == before_bus - ride.fare_fen,
           "bus fare " + Yuan(ride.fare_fen) + ", balance " + Yuan(balance));
  }

  Step("A torn transaction: the exit gate loses the card's DEBIT answer");
  Expect(TapAt(entry_gate, Field(phone)).open, "in again at " + from_name);
  const std::uint32_t before_torn = CardBalance(phone, card_id);
  device::SecureElement* se = phone.se.get();
  const transit::Transmit torn = [se](ByteView capdu) {
    Bytes answer = se->Transmit(capdu);
    // DEBIT FOR (CAPP) PURCHASE (80 54): the card debits, the phone leaves the field before the
    // answer reaches the gate.
    if (capdu.size() > 1 && capdu[0] == 0x80 && capdu[1] == 0x54) return Bytes{};
    return answer;
  };
  const transit::TapResult lost_answer = TapAt(exit_gate, torn);
  Expect(!lost_answer.open && lost_answer.reason.find("tap again") != std::string::npos,
         "the gate stays shut and asks to tap again");
  const transit::TapResult again = TapAt(exit_gate, Field(phone));
  balance = CardBalance(phone, card_id);
  Expect(again.open && again.recovered && balance == before_torn - fare,
         "the next tap completes the torn one: charged once, balance " + Yuan(before_torn) +
             " -> " + Yuan(balance));

  Step("The validators upload their rides");
  UploadAll();
  HttpAnswer anomalies = Must(api_.Call("GET", CityPath("/anomalies")), 200, "GET anomalies");
  bool clean = true;
  for (const json& a : anomalies.body["anomalies"]) {
    if (a.value("card_serial", "") == serial) clean = false;
  }
  Expect(clean, "clearing found no anomaly on card " + serial);
  const std::uint32_t uploaded_balance = balance;
  const std::vector<std::string> old_trips = TripLog(phone, card_id);

  Step("The phone is lost: block the card, get it back on a new phone");
  HttpAnswer lost =
      Must(api_.Call("POST", CityPath("/cards/" + serial + "/lost")), 200, "report the card lost");
  Say("card " + serial + " is " + lost.body["card"].value("status", ""));
  HttpAnswer pushed = Must(api_.Call("GET", CityPath("/reference")), 200, "GET reference");
  std::vector<transit::BlacklistEntry> blacklist;
  bool listed = false;
  for (const json& e : pushed.body["blacklist"]) {
    transit::BlacklistEntry entry_json;
    entry_json.card_serial = e.value("card_serial", "");
    entry_json.algorithm = e.value("algorithm", "") == "sm4" ? crypto::PurseAlgorithm::kSm4
                                                             : crypto::PurseAlgorithm::kTdes;
    listed = listed || entry_json.card_serial == serial;
    blacklist.push_back(std::move(entry_json));
  }
  const std::int64_t version = pushed.body.value("blacklist_version", std::int64_t{0});
  bool applied = true;
  for (Gate* gate : gates_)
    applied = applied && gate->validator->ApplyBlacklist(version, blacklist).ok();
  Expect(listed && applied, "the gates applied blacklist version " + std::to_string(version) +
                                " (" + std::to_string(blacklist.size()) + " card(s))");
  const transit::TapResult thief = TapAt(entry_gate, Field(phone));
  Expect(!thief.open && thief.blocked, "the lost phone is blocked at the gate");

  Device new_phone = OpenDevice("newphone");
  RegisterDevice(new_phone, "phone", "Li Lei's new phone", "se");
  const std::string new_card_id = "tc-" + tag_ + "-2";
  const json moved = OpenCard(new_phone, new_card_id, serial);
  const std::string new_serial = moved.value("serial", "");
  const std::uint32_t moved_balance = CardBalance(new_phone, new_card_id);
  Expect(moved.value("replaces", "") == serial && moved_balance == uploaded_balance,
         "card " + new_serial + " replaces " + serial + " with balance " + Yuan(moved_balance) +
             " (the old card had " + Yuan(uploaded_balance) + " after its last uploaded ride)");
  const transit::TapResult new_in = TapAt(entry_gate, Field(new_phone));
  const transit::TapResult new_out = TapAt(exit_gate, Field(new_phone));
  const std::uint32_t new_balance = CardBalance(new_phone, new_card_id);
  Expect(new_in.open && new_out.open && new_balance == moved_balance - fare,
         "the new phone rides: balance " + Yuan(new_balance));
  UploadAll();

  Step("Trips in the cards' logs (READ RECORD SFI 18, newest first)");
  Say("card " + serial + " on the lost phone (read before it was lost):");
  for (const std::string& t : old_trips) Say("  " + t);
  Say("card " + new_serial + " on the new phone:");
  const std::vector<std::string> new_trips = TripLog(new_phone, new_card_id);
  for (const std::string& t : new_trips) Say("  " + t);
  Expect(!old_trips.empty() && !new_trips.empty(),
         std::to_string(old_trips.size()) + " record(s) on the old card, " +
             std::to_string(new_trips.size()) + " on the new one");

  std::printf("\n%s\n", failures_ == 0 ? "demo transit finished: every step as expected"
                                       : "demo transit finished with unexpected results");
  return failures_ == 0 ? 0 : 1;
}

// The device directory when none was given: a new one under the temporary directory.
std::string DefaultDeviceDir() {
  return (std::filesystem::temp_directory_path() /
          ("tapstack-demo-devices-" + std::to_string(::getpid())))
      .string();
}

// Runs `story` (Story or TransitStory) with the seed's demo network; exit codes as in the header.
template <typename StoryT>
void RunStory(DemoOptions& opts, const char* name) {
  if (opts.device_dir.empty()) opts.device_dir = DefaultDeviceDir();
  auto seed = demo::DefaultSeedPath();
  if (!seed.ok()) throw std::runtime_error(seed.status().ToString());
  auto demo = demo::LoadDemoNetwork(*seed);
  if (!demo.ok()) throw std::runtime_error(demo.status().ToString());
  int code = 0;
  try {
    StoryT story(opts, *demo);
    code = story.Run();
  } catch (const DemoAbort& e) {
    std::fprintf(stderr, "tapstack %s: %s\n", name, e.what());
    code = 2;
  }
  std::fflush(stdout);
  if (code != 0) throw ExitWithCode(code, name);
}

struct DemoCardsOptions {
  int bank = 0;
  int count = 3;
  int first = 0;
  bool json = false;
};

// `tapstack demo cards`: test cards of the seed's demo issuers, as a network's test-card list
// gives them to integrators. Only the demo network's issuers know them.
void PrintDemoCards(const DemoCardsOptions& o) {
  auto seed = demo::DefaultSeedPath();
  if (!seed.ok()) throw std::runtime_error(seed.status().ToString());
  auto network = demo::LoadDemoNetwork(*seed);
  if (!network.ok()) throw std::runtime_error(network.status().ToString());
  if (o.bank >= static_cast<int>(network->banks.size())) {
    throw UsageError("--bank: the seed has " + std::to_string(network->banks.size()) + " banks");
  }
  const demo::DemoBank& bank = network->banks[static_cast<std::size_t>(o.bank)];
  const std::string expiry = std::string(demo::kDemoCardExpiry).substr(2, 2) + "/" +
                             std::string(demo::kDemoCardExpiry).substr(0, 2);
  if (!o.json) std::printf("%s (%s), expiry %s for every card\n", bank.name.c_str(),
                           bank.institution_id.c_str(), expiry.c_str());
  for (const demo::CardKind kind : {demo::CardKind::kDebit, demo::CardKind::kCredit}) {
    const bool debit = kind == demo::CardKind::kDebit;
    if ((debit ? bank.debit_bins : bank.credit_bins).empty()) continue;
    for (int i = o.first; i < std::min(o.first + o.count, bank.cardholders); ++i) {
      Result<std::string> pan = demo::DemoCardNumber(bank, kind, i);
      if (!pan.ok()) throw std::runtime_error(pan.status().ToString());
      Result<std::string> cvv2 =
          demo::DemoCardCvv2(bank.institution_id, *pan, demo::kDemoCardExpiry);
      if (!cvv2.ok()) throw std::runtime_error(cvv2.status().ToString());
      const char* kind_name = debit ? "debit" : "credit";
      if (o.json) {
        std::printf("%s\n", json{{"bank", bank.name}, {"institution_id", bank.institution_id},
                                 {"kind", kind_name}, {"index", i}, {"pan", *pan},
                                 {"expiry", expiry}, {"cvv2", *cvv2}}
                                .dump()
                                .c_str());
      } else {
        std::printf("  %-6s #%-2d %s  cvv2 %s\n", kind_name, i, pan->c_str(), cvv2->c_str());
      }
    }
  }
}

// `tapstack demo <name>`: a story that runs in this process on a fresh data directory
// (--data-dir, or a new one under /tmp). Exit 2 when the directory is not empty, 1 when a step
// did not end as the story expects.
CLI::App* AddInProcessStory(CLI::App& demo, const std::string& name, const std::string& about,
                            std::function<Status(const std::filesystem::path&)> run) {
  auto dir_option = std::make_shared<std::string>();
  CLI::App* story = demo.add_subcommand(name, about);
  story->add_option("--data-dir", *dir_option,
                    "An empty directory for the stores, ledgers and devices (default: a new "
                    "directory under the temporary directory)");
  story->callback([dir_option, name, run = std::move(run)]() {
    const std::string what = "demo " + name;
    std::filesystem::path dir = *dir_option;
    if (dir.empty()) {
      std::string pattern = "/tmp/tapstack-" + name + "-XXXXXX";
      if (mkdtemp(pattern.data()) == nullptr) throw ExitWithCode(2, what);
      dir = pattern;
    }
    std::printf("tapstack %s — data in %s\n", what.c_str(), dir.c_str());
    const Status status = run(dir);
    std::cout.flush();
    if (!status.ok()) {
      std::fprintf(stderr, "%s: %s\n", what.c_str(), status.ToString().c_str());
      throw ExitWithCode(status.code() == ErrorCode::kFailedPrecondition ? 2 : 1, what);
    }
    std::printf("The story ran as expected.\n");
  });
  return story;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Run the wallet story (add a card, tap, lose the phone) against `tapstack serve`");
  cmd->add_option("--url", opts->url, "The server's HTTP API")->capture_default_str();
  cmd->add_option("--iso8583", opts->iso8583,
                  "host:port of the switch's acquirer listener (default: as /health reports)");
  cmd->add_option("--device-dir", opts->device_dir,
                  "Where the phone's and watch's secure elements keep their files "
                  "(default: a new directory under the temporary directory)");
  cmd->add_option("--card-index", opts->card_index, "Which demo card of the first bank (0-99)")
      ->check(CLI::Range(0, 99));

  auto transit_opts = std::make_shared<DemoOptions>();
  CLI::App* transit_cmd = cmd->add_subcommand(
      "transit",
      "Run the transit story (open a city card on a phone, top it up with the bound bank card, "
      "ride, tear a tap, lose the phone) against `tapstack serve`");
  transit_cmd->add_option("--url", transit_opts->url, "The server's HTTP API")
      ->capture_default_str();
  transit_cmd->add_option("--device-dir", transit_opts->device_dir,
                          "Where the phones' secure elements and the gates' files are kept "
                          "(default: a new directory under the temporary directory)");
  transit_cmd->add_option("--city", transit_opts->city, "The T-Union city code of the card")
      ->capture_default_str()
      ->check([](const std::string& code) {
        const bool ok = code.size() == 4 && std::all_of(code.begin(), code.end(), [](char c) {
                          return c >= '0' && c <= '9';
                        });
        return ok ? std::string() : std::string("expected a 4-digit city code");
      });
  transit_cmd
      ->add_option("--card-index", transit_opts->card_index,
                   "Which demo card of the first bank pays the top-up (0-99)")
      ->check(CLI::Range(0, 99));
  transit_cmd->callback(
      [transit_opts]() { RunStory<TransitStory>(*transit_opts, "demo transit"); });

  CLI::App* dcep_cmd = AddInProcessStory(
      *cmd, "dcep",
      "Run the digital-currency story in this process (issuance, wallets, online payments, "
      "two watches paying offline, sync, a cloned watch caught, a prepaid class package)",
      [](const std::filesystem::path& dir) -> Status {
        return server::RunDcepStory({.data_dir = dir, .out = &std::cout}).status();
      });
  CLI::App* qr_cmd = AddInProcessStory(
      *cmd, "qr",
      "Run the QR-payment story in this process (top up from a bound card, scan a merchant's "
      "static and dynamic codes, tampered/expired/reused codes refused, show a payment code and an "
      "EMVCo code, refund, limits, withdraw to the card, statement)",
      [](const std::filesystem::path& dir) -> Status {
        return server::RunQrStory({.data_dir = dir, .out = &std::cout}).status();
      });
  CLI::App* abroad_cmd = AddInProcessStory(
      *cmd, "abroad",
      "Run the cross-border story in this process (pay in Moscow and London with the rate and "
      "markup shown first, a partner wallet in Pakistan through the network's QR clearing, a "
      "visitor's foreign card, a VAT refund, settlement in both currencies)",
      [](const std::filesystem::path& dir) -> Status {
        return server::RunAbroadStory({.data_dir = dir, .out = &std::cout}).status();
      });

  auto cards_opts = std::make_shared<DemoCardsOptions>();
  CLI::App* cards_cmd = cmd->add_subcommand(
      "cards",
      "Print demo test cards of the seeded banks (number, expiry, CVV2) to add in the wallet app. "
      "They exist only in the demo network's issuers; nothing else accepts them");
  cards_cmd->add_option("--bank", cards_opts->bank, "Which bank (0-based index in the seed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 99));
  cards_cmd->add_option("--count", cards_opts->count, "How many cards per kind")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cards_cmd->add_option("--first", cards_opts->first, "Index of the first card (0-99)")
      ->capture_default_str()
      ->check(CLI::Range(0, 99));
  cards_cmd->add_flag("--json", cards_opts->json, "One JSON object per line");
  cards_cmd->callback([cards_opts]() { PrintDemoCards(*cards_opts); });

  cmd->callback([opts, transit_cmd, dcep_cmd, qr_cmd, abroad_cmd, cards_cmd]() {
    // A story of its own ran.
    for (const CLI::App* story : {transit_cmd, dcep_cmd, qr_cmd, abroad_cmd, cards_cmd}) {
      if (story->parsed()) return;
    }
    RunStory<Story>(*opts, "demo");
  });
}

}  // namespace tapstack::cli
