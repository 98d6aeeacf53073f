#include "cli/demo_command.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "acquirer/contactless_sale.h"
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

class Story {
 public:
  Story(const DemoOptions& options, const demo::DemoNetwork& demo)
      : options_(options), demo_(demo), api_(options.url) {}

  int Run();

 private:
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

  Device OpenDevice(const std::string& kind);
  void RegisterDevice(const Device& d, const std::string& kind, const std::string& name,
                      const std::string& storage);
  void Install(Device& d, const json& answer);
  std::string ReadOtp();
  std::int64_t Balance();
  acquirer::ContactlessSaleResult Tap(Device& d, std::int64_t minor, bool biometric);

  const DemoOptions& options_;
  const demo::DemoNetwork& demo_;
  ApiClient api_;
  crypto::Csprng random_;
  int step_ = 0;
  int failures_ = 0;
  std::string tag_;  // random per run: device ids and phone number
  std::string phone_;
  std::string session_;
  std::string pan_;
  std::string card_id_;
  std::unique_ptr<server::IoThreads> io_;
  std::unique_ptr<link::Iso8583Client> switch_link_;
  std::unique_ptr<acquirer::PosTerminal> terminal_;
  acquirer::TerminalConfig terminal_config_;
};

Device Story::OpenDevice(const std::string& kind) {
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

void Story::RegisterDevice(const Device& d, const std::string& kind, const std::string& name,
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
void Story::Install(Device& d, const json& answer) {
  std::string token_id;
  for (const json& t : answer["card"]["tokens"]) {
    if (t.value("device_id", "") == d.id) token_id = t.value("token_id", "");
  }
  Result<Bytes> blob = HexDecode(answer.value("credentials", ""));
  if (token_id.empty() || !blob.ok()) throw DemoAbort("no token or credentials for " + d.id);
  Status installed = d.se->InstallToken(token_id, *blob);
  Expect(installed.ok(), "token " + token_id + " installed in the " + d.id +
                             " secure element (" + installed.ToString() + ")");
}

std::string Story::ReadOtp() {
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
  Bytes tag_bytes(4);
  if (!random_.Fill(tag_bytes).ok()) throw DemoAbort("no randomness");
  tag_ = HexEncode(tag_bytes);
  for (char& c : tag_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  phone_ = "+86138" + std::to_string(10'000'000 + (tag_bytes[0] << 16 | tag_bytes[1] << 8 |
                                                   tag_bytes[2]) % 90'000'000);
  std::filesystem::create_directories(options_.device_dir);

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
  terminal_config_.stan_start = (static_cast<std::uint32_t>(tag_bytes[0]) << 16 |
                                 static_cast<std::uint32_t>(tag_bytes[1]) << 8 | tag_bytes[2]) %
                                900'000;
  terminal_ = std::make_unique<acquirer::PosTerminal>(terminal_config_, *switch_link_,
                                                      SystemClock::Instance());
  std::printf("tapstack demo against %s (ISO 8583 %s); devices in %s\n", options_.url.c_str(),
              iso.c_str(), options_.device_dir.c_str());

  Step("Create a user and sign in");
  const std::string password = "demo-password-" + tag_;
  Must(api_.Call("POST", "/v1/users", {{"phone", phone_}, {"password", password}}), 201, "sign up");
  HttpAnswer s = Must(api_.Call("POST", "/v1/sessions", {{"phone", phone_}, {"password", password}}),
                      201, "sign in");
  session_ = s.body.value("session", "");
  Say("user " + s.body.value("user_id", "") + " with phone " + phone_ + " signed in");

  Step("Register a phone and a watch");
  Device phone = OpenDevice("phone");
  Device watch = OpenDevice("watch");
  RegisterDevice(phone, "phone", "Li Lei's phone", "se");
  RegisterDevice(watch, "watch", "Li Lei's watch", "hce");

  Step("Add a bank card on the phone (SMS code)");
  const demo::DemoBank& bank = demo_.banks.at(0);
  int index = options_.card_index;
  if (index < 0) index = tag_bytes[3] % 100;
  pan_ = demo::DemoCardNumber(bank, demo::CardKind::kDebit, index).value();
  const std::string cvv2 = demo::DemoCardCvv2(bank.institution_id, pan_, demo::kDemoCardExpiry).value();
  const std::string expiry = std::string(demo::kDemoCardExpiry).substr(2, 2) + "/" +
                             std::string(demo::kDemoCardExpiry).substr(0, 2);
  Say("card " + Pan::Parse(pan_)->Masked() + " of " + bank.name + ", expiry " + expiry);
  HttpAnswer add = api_.Call("POST", "/v1/cards",
                             {{"device_id", phone.id},
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
  HttpAnswer verified = Must(api_.Call("POST", "/v1/cards/" + card_id_ + "/verify",
                                       {{"otp", ReadOtp()}}, session_, true),
                             200, "verify the code");
  Expect(verified.body.value("result", "") == "active", "card " + card_id_ + " is active");
  Install(phone, verified.body);

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
  cmd->callback([opts]() {
    if (opts->device_dir.empty()) {
      opts->device_dir = (std::filesystem::temp_directory_path() /
                          ("tapstack-demo-devices-" + std::to_string(::getpid())))
                             .string();
    }
    auto seed = demo::DefaultSeedPath();
    if (!seed.ok()) throw std::runtime_error(seed.status().ToString());
    auto demo = demo::LoadDemoNetwork(*seed);
    if (!demo.ok()) throw std::runtime_error(demo.status().ToString());
    int code = 0;
    try {
      Story story(*opts, *demo);
      code = story.Run();
    } catch (const DemoAbort& e) {
      std::fprintf(stderr, "tapstack demo: %s\n", e.what());
      code = 2;
    }
    std::fflush(stdout);
    if (code != 0) throw ExitWithCode(code, "demo");
  });
}

}  // namespace tapstack::cli
