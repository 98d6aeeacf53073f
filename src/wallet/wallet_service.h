// WalletService: the wallet role's business logic behind the HTTP API (wallet/wallet_http.h).
//
//   Users and sessions   sign-up (E.164 phone + password, scrypt), sign-in → session token (only
//                        its SHA-256 is stored), expiry after kSessionTtlSeconds, sign-out.
//   Devices              phones and watches of a user, each with its secure element's P-256 key;
//                        last reported location; lost (suspend every token at the TSP), found
//                        (resume), delete (delete its tokens at the TSP).
//   Cards                at most kBankCardsPerAccountMax bank cards per account, one default;
//                        add-card through TSP provisioning (approved / OTP step-up / declined),
//                        add the card to another device, transactions, promotions.
//   Idempotency          RunIdempotent stores the first answer per (user, Idempotency-Key).
//
// Card data: the PAN and CVV2 are held in memory for the one AddCard call (to find the product and
// to pass them to the TSP) and never stored: a card row keeps the masked PAN (first 6 / last 4),
// the last 4 digits and the expiry. Credentials from the TSP (wrapped for one device's secure
// element, opaque here) are passed through to the app.
//
// Ownership: the service keeps pointers to the store, the TSP client, the clock and the random
// source given at Open; they must outlive it.
// Thread-safety: thread-safe. Calls are serialised by one mutex (the Store is one connection and
// not thread-safe), including the TSP calls they make, which keeps check-then-act rules such as
// the card limit simple; RunIdempotent serialises idempotent calls with a second mutex.
//
// Errors common to the calls below: kNotFound for an id that does not exist OR belongs to another
// user (the two are indistinguishable on purpose); kInvalidArgument with a message that starts
// with the field name ("phone: expected …"); the store's errors; the TSP client's errors
// (kUnavailable when the TSP cannot be reached).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/password.h"
#include "crypto/secret_bytes.h"
#include "store/store.h"
#include "wallet/card_product.h"
#include "wallet/tsp_client.h"

namespace tapstack::wallet {

// The demo token requestor id of the tapstack wallet (contract: "40010000001").
inline constexpr std::string_view kDemoRequestorId = "40010000001";
inline constexpr std::size_t kRequestHmacKeyBytesMin = 32;

// Sign-in rate limit per phone number (OWASP ASVS 4.0 V2.2.1, NIST SP 800-63B 5.2.2: limit failed
// attempts per account): after kSignInFailuresMax wrong passwords within
// kSignInFailureWindowSeconds, every sign-in for that phone, with the right password too, is
// refused until the oldest of those failures leaves the window. Unknown phones count the same, so
// the limit does not reveal which numbers have accounts. Kept in memory: a restart clears it.
inline constexpr int kSignInFailuresMax = 5;
inline constexpr std::int64_t kSignInFailureWindowSeconds = 5 * 60;
// Phones with recent failures held at most; beyond it the oldest-keyed entry is dropped (bounded
// memory against a spray over many numbers).
inline constexpr std::size_t kSignInPhonesTrackedMax = 100'000;
// Each sign-in reserves its slot before the password check (counted as in flight until it ends:
// released on success, a failure on a wrong password), so that concurrent guesses cannot all be
// checked before the first failure lands: at most kSignInFailuresMax checks per window. An
// attempt that finds every slot taken by checks in flight is refused with this retry-after (a
// check takes tens of milliseconds).
inline constexpr std::int64_t kSignInInFlightRetrySeconds = 1;

struct WalletOptions {
  Clock* clock = nullptr;          // default: SystemClock::Instance()
  RandomSource* random = nullptr;  // required: session tokens, ids, password salts
  // scrypt cost for new password hashes; tests use log2_n = 10.
  crypto::ScryptParams password_params;
  // The BIN table: bank name, card art, promotions. A card outside every range is refused.
  std::vector<CardProduct> card_products;
  // The wallet's token requestor id at the TSP.
  std::string requestor_id = std::string(kDemoRequestorId);
  // HMAC-SHA-256 key (>= 32 bytes) for the request fingerprints of idempotency records: a request
  // to add a card holds a PAN and CVV2, whose unkeyed hash could be brute-forced (PCI DSS 3.5.1).
  crypto::SecretBytes request_hmac_key;
};

struct User {
  std::string user_id;
  std::string phone;
  std::int64_t created_unix_ms = 0;
};

struct Session {
  std::string token;  // 64 hex characters; shown once, stored only as SHA-256
  std::string user_id;
  std::int64_t expires_unix_ms = 0;
};

struct Location {
  std::int64_t lat_e6 = 0;  // micro-degrees, WGS 84
  std::int64_t lon_e6 = 0;
  std::int64_t time_unix_ms = 0;
};

struct DeviceRegistration {
  std::string device_id;      // chosen by the app, unique across the wallet
  std::string kind;           // "phone" or "watch"
  std::string name;           // "Li Lei's phone"
  std::string se_public_key;  // hex, uncompressed P-256 point (04 || X || Y, 65 bytes)
  std::string storage;        // "se" or "hce"
};

struct Device {
  std::string device_id;
  std::string kind;
  std::string name;
  std::string se_public_key;
  std::string storage;
  std::string state;  // "active", "lost", "deleted"
  std::optional<Location> last_location;
  std::int64_t created_unix_ms = 0;
};

struct CardToken {
  std::string token_id;
  std::string device_id;
  std::string token_last4;
  std::string token_expiry;  // YYMM
  std::string state;         // TSP token state as last known
};

struct Card {
  std::string card_id;
  std::string card_type;   // "debit" or "credit"
  std::string masked_pan;  // first 6 / last 4
  std::string last4;
  std::string pan_expiry;  // YYMM
  std::string state;       // "pending_verification" or "active"
  bool is_default = false;
  std::string bank_name;
  std::string short_name;
  std::string art_color;
  std::vector<std::string> promotions;
  std::vector<CardToken> tokens;
  std::int64_t created_unix_ms = 0;
};

// POST /v1/cards. Expiry is "MM/YY" as printed on the card and typed in the app.
struct AddCardRequest {
  std::string device_id;
  std::string card_type;
  std::string pan;
  std::string expiry;
  std::string cvv2;
  std::string holder_name;
};

enum class AddCardOutcome { kActive, kPendingVerification, kDeclined };

struct AddCardResult {
  AddCardOutcome outcome = AddCardOutcome::kDeclined;
  std::optional<Card> card;         // absent when declined (no card row is kept)
  std::string credentials;          // kActive: for the device's secure element
  std::optional<OtpChallenge> otp;  // kPendingVerification
  std::string decline_reason;       // kDeclined
  std::string response_code;
};

struct VerifyCardResult {
  OtpOutcome outcome = OtpOutcome::kMismatch;
  int attempts_left = 0;     // kMismatch
  std::optional<Card> card;  // kApproved
  std::string credentials;   // kApproved
  std::string message;       // the TSP's words for the other outcomes
};

struct AddToDeviceResult {
  Card card;
  std::string credentials;
};

// What one lifecycle call on a device (lost/found/delete) or a card (delete) did per token.
struct TokenActionReport {
  std::string token_id;
  std::string card_id;
  std::string device_id;
  bool ok = false;
  std::string state;  // the token's state after the call, as known
  std::string error;  // why the TSP call failed, when !ok
};

struct DeviceActionResult {
  Device device;
  std::vector<TokenActionReport> tokens;
  bool all_succeeded = true;
};

struct CardTransaction {
  std::string token_id;
  std::string device_id;
  TokenTransaction tx;
};

// The answer RunIdempotent stores and replays: an HTTP status and a JSON body.
struct IdempotentReply {
  int http_status = 0;
  std::string body;
  bool replayed = false;  // true when taken from the store
};

class WalletService {
 public:
  // Applies the wallet schema to `store` and checks `options`. Errors: kInvalidArgument for a
  // missing random source, a short request_hmac_key or a bad product table; migration errors.
  static Result<std::unique_ptr<WalletService>> Open(store::Store& store, TspClient& tsp,
                                                     WalletOptions options);

  // --- Users and sessions (wallet_users.cc) ---
  // kAlreadyExists when the phone is registered; kInvalidArgument for a phone that is not E.164
  // (+, 8-15 digits, no leading 0) or a password outside 8-1024 bytes.
  Result<User> SignUp(std::string_view phone, std::string_view password);
  // kNotFound when the phone is unknown or the password is wrong (same message for both).
  // kFailedPrecondition ("phone: too many failed sign-ins …") while the phone is rate-limited
  // (kSignInFailuresMax above); SignInRetryAfterSeconds then says for how long.
  Result<Session> SignIn(std::string_view phone, std::string_view password);
  // Seconds until `phone` may try to sign in again (rounded up); 0 when it is not rate-limited.
  std::int64_t SignInRetryAfterSeconds(std::string_view phone);
  // Ends the session. kNotFound when it is unknown or expired already.
  Status SignOut(std::string_view session_token);
  // The user id of a valid session; kNotFound when unknown, signed out or expired.
  Result<std::string> Authenticate(std::string_view session_token);

  // --- Devices (wallet_devices.cc) ---
  // Registers a device; registering the same device_id with the same data again returns it.
  // kAlreadyExists when the device_id is taken (by another user, or with other data);
  // kOutOfRange beyond kDevicesPerUserMax.
  Result<Device> RegisterDevice(const std::string& user_id, const DeviceRegistration& reg);
  // The user's devices that are not deleted, oldest first.
  Result<std::vector<Device>> ListDevices(const std::string& user_id);
  Result<Device> GetDevice(const std::string& user_id, const std::string& device_id);
  // Records where the device is; kFailedPrecondition for a deleted device.
  Result<Device> ReportLocation(const std::string& user_id, const std::string& device_id,
                                std::int64_t lat_e6, std::int64_t lon_e6);
  // Marks the device lost (first, durably) and suspends every token on it at the TSP. Tokens the
  // TSP already shows suspended or deleted count as done; call again to retry the ones that failed.
  Result<DeviceActionResult> MarkDeviceLost(const std::string& user_id,
                                            const std::string& device_id);
  // Resumes the device's suspended tokens, and marks it active when all resumed.
  Result<DeviceActionResult> MarkDeviceFound(const std::string& user_id,
                                             const std::string& device_id);
  // Deletes every token on the device at the TSP, then marks the device deleted (only when all
  // deletions succeeded; call again to retry).
  Result<DeviceActionResult> DeleteDevice(const std::string& user_id, const std::string& device_id);

  // --- Cards (wallet_cards.cc) ---
  // Provisions a card on one of the user's active devices. kFailedPrecondition when the account
  // holds kBankCardsPerAccountMax cards already; kInvalidArgument naming pan, expiry, cvv2,
  // card_type, holder_name or device_id. A decline is a result and leaves no card row.
  Result<AddCardResult> AddCard(const std::string& user_id, const AddCardRequest& request);
  // Forwards the OTP of a pending card; kApproved activates it. kLocked removes the pending card
  // (the TSP deleted its token). kFailedPrecondition when the card is not pending.
  Result<VerifyCardResult> VerifyCard(const std::string& user_id, const std::string& card_id,
                                      const std::string& otp);
  // Provisions the card on another device of the user from one of its active tokens.
  // kFailedPrecondition when the card has no active token or already has one on that device.
  Result<AddToDeviceResult> AddCardToDevice(const std::string& user_id, const std::string& card_id,
                                            const std::string& device_id);
  // HCE: a batch of `count` (1..kHceKeysPerReplenishMax) single-use keys for the card's token on
  // `device_id`, wrapped by the TSP for that device, for the app to install when few are left.
  // kNotFound when the card or device is not the user's or the card has no token there;
  // kFailedPrecondition when the device is not active, the token is not active, or it is a
  // secure-element token (which holds its master key and needs none); kInvalidArgument (count).
  Result<std::string> ReplenishKeys(const std::string& user_id, const std::string& card_id,
                                    const std::string& device_id, int count);
  // The user's cards, oldest first, with tokens, product and default flag.
  Result<std::vector<Card>> ListCards(const std::string& user_id);
  Result<Card> GetCard(const std::string& user_id, const std::string& card_id);
  Result<Card> SetDefaultCard(const std::string& user_id, const std::string& card_id);
  // Deletes the card's tokens at the TSP, then the card; a new default is picked (the oldest
  // card left). When a TSP deletion fails the card stays (kUnavailable); call again.
  Result<DeviceActionResult> DeleteCard(const std::string& user_id, const std::string& card_id);
  // The card's transactions over all its tokens, newest first, at most kCardTransactionsMax.
  Result<std::vector<CardTransaction>> CardTransactions(const std::string& user_id,
                                                        const std::string& card_id);
  // Pulls the TSP's notification feed after the stored cursor and applies token state changes
  // (a token suspended by the issuer shows as suspended). Returns the tokens updated.
  Result<int> SyncTokenStates();

  // --- Idempotency (wallet_service.cc) ---
  // Runs `call` once per (user_id, key): the first answer below HTTP 500 is stored with an HMAC of
  // `route` and `request_body`; the same key again returns the stored answer (replayed = true)
  // without running `call`. kAlreadyExists when the key was used with another route or body;
  // kInvalidArgument for a key that is empty, longer than kIdempotencyKeyBytesMax or not
  // printable ASCII. 5xx answers are not stored, so a retry after an outage runs again.
  Result<IdempotentReply> RunIdempotent(const std::string& user_id, std::string_view key,
                                        std::string_view route, std::string_view request_body,
                                        const std::function<IdempotentReply()>& call);

 private:
  WalletService(store::Store& store, TspClient& tsp, WalletOptions options);

  // Helpers shared by the wallet_*.cc files; callers hold mu_.
  std::int64_t NowMs() const { return clock_->NowUnixMillis(); }
  Result<std::string> NewId();
  Result<Device> LoadDevice(const std::string& user_id, const std::string& device_id);
  Result<Card> LoadCard(const std::string& user_id, const std::string& card_id);
  Result<std::vector<CardToken>> LoadCardTokens(const std::string& card_id);
  void FillProduct(Card& card, const std::string& bin_low) const;
  Result<Card> CardFromRow(const store::Row& row, const std::string& default_card_id);
  Result<std::string> DefaultCardId(const std::string& user_id);
  Status SaveTokenState(const std::string& token_id, const std::string& state);
  Status InsertCardToken(const std::string& card_id, const TspToken& token);
  Result<int> SyncTokenStatesLocked();
  // Runs `action` on each of `tokens`; a kFailedPrecondition (state forbids it) counts as done
  // when the TSP shows the token in `done_state` or deleted.
  std::vector<TokenActionReport> ApplyToTokens(
      const std::vector<std::pair<std::string, CardToken>>& tokens, const std::string& done_state,
      const std::function<Result<TspToken>(const std::string&)>& action);
  Result<std::vector<std::pair<std::string, CardToken>>> DeviceTokens(const std::string& device_id);

  store::Store* store_;
  TspClient* tsp_;
  Clock* clock_;
  RandomSource* random_;
  WalletOptions options_;
  std::mutex mu_;              // guards store_ and the rules checked across calls
  std::mutex idempotency_mu_;  // serialises RunIdempotent (taken before mu_, never inside it)

  // Sign-in rate limit (wallet_users.cc): failure times (unix ms) per phone within the window,
  // and checks in flight per phone (entries exist only while a check runs: bounded by the number
  // of concurrent requests). Callers hold sign_in_mu_ (never taken with mu_ held, nor mu_ inside it).
  std::int64_t SignInRetryAfterMsLocked(const std::string& phone, std::int64_t now_ms);
  void RecordSignInFailureLocked(const std::string& phone, std::int64_t now_ms);
  void ReleaseSignInLocked(const std::string& phone);
  std::mutex sign_in_mu_;
  std::map<std::string, std::deque<std::int64_t>> sign_in_failures_;
  std::map<std::string, int> sign_ins_in_flight_;
};

}  // namespace tapstack::wallet
