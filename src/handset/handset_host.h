// HandsetHost: the phones and watches of the web app, emulated on the server. A browser is only a
// phone's screen: the secure element (device/secure_element.h), the NFC field at a shop's POS
// terminal and at a metro gate, and the phone's SMS inbox have no browser equivalent, so the host
// keeps one secure element per handset under <data_dir>/<handset id>/ and does what the phone's
// native side does, through the same messages as a real phone:
//   - tokens arrive from the wallet as credentials wrapped by the TSP for this element only;
//   - a tap runs the contactless kernel against the element at a demo merchant's POS terminal,
//     which sends ISO 8583 to the switch over `acquirer_link`;
//   - in-app payments are the element's cryptogram for a merchant's payment request;
//   - transit cards are opened, topped up and read through the transit operators' JSON API and
//     the purse applet's APDUs, and ridden at gate validators with their own PSAMs (files under
//     <data_dir>/gates/), whose records are uploaded to the operator after each ride;
//   - SMS are read from the TSP's demo outbox (JSON API, the wallet's requestor key).
//
// A handset id ("hs-" and 32 hex digits from the CSPRNG) is the capability to use the handset, as
// possession is for a real phone: the web app keeps it, nobody can guess it.
//
// Thread-safety: every call may come from any HTTP worker. One operation at a time per handset
// (its field mutex); the registry and the gates are under the host's mutexes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "acquirer/pos_terminal.h"
#include "core/status.h"
#include "demo/demo_network.h"
#include "handset/api_client.h"
#include "device/secure_element.h"
#include "link/message_handler.h"
#include "store/store.h"
#include "transit/city_network.h"
#include "transit/psam.h"
#include "transit/validator.h"

namespace tapstack::handset {

inline constexpr std::size_t kHandsetsMax = 10'000;  // per host: each is a directory
inline constexpr std::size_t kHandsetsPerUserMax = 16;  // as many as the wallet's devices
inline constexpr std::size_t kHandsetsOpenMax = 256;  // elements kept open at once
inline constexpr std::size_t kHandsetNameBytesMax = 64;
inline constexpr std::int64_t kTapAmountMinorMax = 99'999'999;  // what a POS keypad takes

enum class HandsetKind { kPhone, kWatch };

struct HandsetInfo {
  std::string handset_id;
  HandsetKind kind = HandsetKind::kPhone;
  std::string name;
  std::string phone;  // E.164: where its SMS arrive
  std::string se_public_key_hex;
  std::int64_t created_unix_ms = 0;
};

// A tap at a POS terminal, as the receipt shows it. Never a PAN: the token's last 4 digits.
struct TapOutcome {
  bool approved = false;
  bool offline_decline = false;  // the card declined (no fingerprint): nothing went online
  std::string response_code;     // DE39; empty when nothing came back
  std::string approval_code;     // DE38
  std::string stan, rrn;
  std::string token_last4;
  std::int64_t amount_minor = 0;
  std::string currency;
  const demo::DemoMerchant* merchant = nullptr;
  std::string message;  // what the terminal's display says
};

struct TransitRide {
  transit::TapResult tap;
  std::string gate;  // "entry gate at Pingguoyuan"
};

struct TransitTrip {
  std::string time;  // "2026-11-22 10:41:07"
  std::string kind;  // "load" | "purchase"
  std::uint32_t amount_fen = 0;
  std::string where;
};

struct HandsetHostOptions {
  std::filesystem::path data_dir;                // handsets.db, <handset id>/, gates/
  const demo::DemoNetwork* demo = nullptr;       // merchants, token requestor, token profiles
  link::RequestSender* acquirer_link = nullptr;  // the merchants' terminals reach the switch here
  ApiEndpoint api;  // this node's HTTP API (TSP SMS outbox, transit and e-CNY operators)
  // The wallet user of a session token (wallet::WalletService::Authenticate): only a signed-in
  // user makes handsets. Required.
  std::function<Result<std::string>(std::string_view session)> authenticate;
};

class HandsetHost {
 public:
  // Opens (creating) <data_dir>/handsets.db. Errors: kInvalidArgument for missing options; the
  // store's.
  static Result<std::unique_ptr<HandsetHost>> Open(HandsetHostOptions options);
  ~HandsetHost();

  // A new handset of wallet user `owner_user_id` with a new secure element (its key pair
  // generated now). Errors: kInvalidArgument naming kind, name or phone; kFailedPrecondition
  // beyond kHandsetsPerUserMax for the user or kHandsetsMax for the host.
  Result<HandsetInfo> Create(std::string_view owner_user_id, std::string_view kind,
                             std::string_view name, std::string_view phone);
  // Errors: kNotFound (also for a malformed id).
  Result<HandsetInfo> Get(std::string_view handset_id);
  // The wallet user of `session` (HandsetHostOptions::authenticate). Errors: its.
  Result<std::string> Authenticate(std::string_view session) const { return options_.authenticate(session); }
  // What the element holds: tokens with their ATC, transit cards with their balance.
  Result<nlohmann::json> Contents(std::string_view handset_id);

  // The SMS sent to the handset's phone after `after_unix_ms`, oldest first: [{text,
  // time_unix_ms}]. Errors: kNotFound; kUnavailable when the TSP does not answer.
  Result<nlohmann::json> Messages(std::string_view handset_id, std::int64_t after_unix_ms);

  // Installs the wallet's `credentials` (hex) for `token_id`. Errors: kNotFound; kInvalidArgument
  // (not hex); the element's (kCryptoFailure: made for another device or token; kAlreadyExists).
  Status InstallToken(std::string_view handset_id, std::string_view token_id,
                      std::string_view credentials_hex);

  // The demo merchants a simulated POS can stand at.
  const std::vector<demo::DemoMerchant>& merchants() const { return options_.demo->merchants; }

  // Taps `token_id` at `merchant_id`'s terminal for `amount_minor` in the merchant's currency;
  // `fingerprint` arms CDCVM first. A declined or offline-declined tap is an outcome, not an
  // error. Errors: kNotFound (handset, token, merchant, with the field); kInvalidArgument (amount
  // outside 1..kTapAmountMinorMax); kUnavailable when the switch's answer is unknown (the
  // terminal has sent its reversal).
  Result<TapOutcome> Tap(std::string_view handset_id, std::string_view token_id,
                         std::string_view merchant_id, std::int64_t amount_minor, bool fingerprint);

  // The element's in-app payment data for a merchant's payment request
  // ({order_id?, merchant_name, merchant_country_numeric?, amount:{minor,currency},
  // unpredictable_number}), with `token_id` (empty: the first token). Errors: kNotFound;
  // kInvalidArgument naming the request field; kFailedPrecondition (no fingerprint: the card
  // declined).
  Result<nlohmann::json> InAppPayment(std::string_view handset_id, std::string_view token_id,
                                      const nlohmann::json& payment_request, bool fingerprint);

  // Transit (handset_transit.cc). Opening pays the city's fee, if any, in-app with `token_id`.
  // Errors: kNotFound (handset, city, card); the operator's answers as kFailedPrecondition /
  // kInvalidArgument with its message; kUnavailable when it does not answer.
  Result<nlohmann::json> OpenTransitCard(std::string_view handset_id, std::string_view city,
                                         std::string_view account_id, std::string_view token_id);
  // Pays `amount_fen` in-app with `token_id`, loads the purse (INITIALIZE FOR LOAD, the operator's
  // MAC2, CREDIT FOR LOAD, confirm). Returns the new balance. The order is named by the
  // handset, the card and `idempotency_key`: a retry with the same key after a failure finishes
  // the order it paid (or answers the balance when it loaded), never paying twice; an order the
  // operator refunded or declined needs a new key (kFailedPrecondition).
  Result<std::uint32_t> TopUpTransitCard(std::string_view handset_id, std::string_view card_id,
                                         std::uint32_t amount_fen, std::string_view token_id,
                                         std::string_view idempotency_key);
  // Taps the handset's express card at a gate: "metro_entry" / "metro_exit" at `line`/`station`,
  // or "bus" on `line`; the gate uploads its records to the operator right after.
  Result<TransitRide> Ride(std::string_view handset_id, std::string_view card_id,
                           std::string_view gate_kind, std::uint16_t line, std::uint16_t station);
  // Balance, city and the card's log (newest first).
  Result<nlohmann::json> TransitCard(std::string_view handset_id, std::string_view card_id);
  // Deletes the card the way the wallet does (transit/card_registry.h): GET CHALLENGE, the
  // operator's APPLICATION BLOCK MAC, APPLICATION BLOCK, GET BALANCE of the blocked card, then
  // the operator closes it and pays the refund (balance when the city refunds it, plus the
  // deposit) back to the bank card that paid last; the card leaves the element. Returns
  // {"serial", "final_balance_fen", "refund_fen", "refund": {...} when there is one}. A retry
  // after a failure finds the card blocked and closes it with the same balance.
  // Errors: kNotFound (handset, card); the operator's answers.
  Result<nlohmann::json> DeleteTransitCard(std::string_view handset_id, std::string_view card_id);

  // Digital currency (handset_dcep.cc): the hardware wallet in the handset's element, bound to an
  // online wallet at an operator through the operator's JSON API (/v1/dcep/…).
  // Personalise: SM2 key pair generated in the element, certified by the operator for `wallet_id`.
  // Errors: kAlreadyExists (personalised already); the operator's (kNotFound wallet, …).
  Result<nlohmann::json> OpenDcepWallet(std::string_view handset_id, std::string_view operator_id,
                                        std::string_view wallet_id);
  // The purse: {operator, wallet_id, balance_fen, counter, payments_since_sync,
  // value_since_sync_fen}. Errors: kNotFound when the handset has no hardware wallet.
  Result<nlohmann::json> DcepStatus(std::string_view handset_id);
  // Online wallet → purse: the operator's load order, LOAD in the element. A retry with the same
  // `idempotency_key` never loads twice.
  Result<nlohmann::json> LoadDcep(std::string_view handset_id, std::int64_t amount_fen,
                                  std::string_view idempotency_key);
  // Both devices offline: the payee's request, the payer's signed transfer, the payee's check
  // and credit, over APDUs only. Returns {amount_fen, transfer_bytes, payer, payee}.
  Result<nlohmann::json> PayDcepOffline(std::string_view payer_handset_id,
                                        std::string_view payee_handset_id, std::int64_t amount_fen);
  // READ LOG → the operator's settlement → SYNC with its acknowledgement. Returns {records,
  // status}.
  Result<nlohmann::json> SyncDcep(std::string_view handset_id);

 private:
  struct Handset {
    HandsetInfo info;
    std::unique_ptr<device::SecureElement> se;
    std::string dcep_operator, dcep_wallet;  // empty until OpenDcepWallet
    // One exchange with the element at a time, as a phone is in one field at a time: two
    // concurrent taps would interleave their APDUs. Recursive: an operation reads the element's
    // state with the public reads (Contents, DcepStatus) while it holds it.
    std::recursive_mutex field_mu;
  };
  // The handset's element under <data_dir>/<handset id>/ (created with its key pair at first).
  Result<std::unique_ptr<device::SecureElement>> OpenElement(const std::string& handset_id);
  // Keeps at most kHandsetsOpenMax elements open (each holds a database), closing an idle one.
  void Remember(const std::shared_ptr<Handset>& h);
  struct Gate {
    std::mutex mu;      // a validator serves one card at a time (and uploads between cards)
    std::string label;  // "entry gate at Pingguoyuan"
    std::string city;
    std::unique_ptr<transit::Validator> validator;
  };
  explicit HandsetHost(HandsetHostOptions options) : options_(std::move(options)) {}
  Result<std::shared_ptr<Handset>> Find(std::string_view handset_id);
  struct Terminal {
    acquirer::TerminalConfig config;
    std::unique_ptr<acquirer::PosTerminal> pos;
  };
  Result<Terminal*> TerminalAt(const demo::DemoMerchant& merchant);
  Result<std::shared_ptr<const transit::CityNetwork>> City(std::string_view city_code);
  // The purse applet of transit card `card_id` in the handset's element, selected, with its
  // identity (city code, serial). Errors: kNotFound (no such card on the handset).
  struct SelectedPurse {
    transit::PurseCommands card;
    transit::PurseIdentity identity;
  };
  Result<SelectedPurse> SelectPurse(Handset& h, std::string_view card_id);
  Result<nlohmann::json> PayInApp(Handset& h, std::string_view token_id, std::string_view city,
                                  const std::string& order_id, std::uint32_t fen);
  Result<Gate*> GateFor(const std::string& city, transit::ValidatorKind kind, std::uint16_t line,
                        std::uint16_t station);
  // Records the handset's hardware wallet binding (operator, online wallet).
  Status BindDcep(Handset& h, const std::string& operator_id, const std::string& wallet_id);
  // The label of the gate whose PSAM has this number ("" when none of this host's).
  std::string GateLabel(const transit::TerminalId& psam_number);

  HandsetHostOptions options_;
  std::unique_ptr<store::Store> store_;
  std::mutex mu_;  // handsets_, terminals_, cities_
  std::map<std::string, std::shared_ptr<Handset>, std::less<>> handsets_;
  std::map<std::string, std::unique_ptr<Terminal>, std::less<>> terminals_;
  std::map<std::string, std::shared_ptr<const transit::CityNetwork>, std::less<>> cities_;
  std::mutex gates_mu_;  // gates_ (the map; each gate has its own mutex)
  std::map<std::string, std::unique_ptr<Gate>> gates_;
};

}  // namespace tapstack::handset
