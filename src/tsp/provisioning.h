// Provisioning: puts a card into a wallet as a device token (emv-and-tokenization.md §4-6, the
// TF's green / yellow / red paths), with ID&V by the card's issuer over ISO 8583 (idv_client.h).
//
//   Provision(request)
//     1. checks every field (nothing is stored for a bad request) and the card's lock-out
//        (otp_challenge.h), and takes a STAN;
//     2. asks the issuer (IdvClient) WITHOUT holding the store mutex: the network call may take
//        up to the ID&V timeout, and every other TSP call (including the switch's token
//        authorisations) would wait behind it;
//     3. green: Tokenize, bind the device key, activate, and return the credentials wrapped for
//        the device; yellow: Tokenize (inactive), bind, issue an OTP and send it by SMS (the
//        outbox row in the same transaction; any other gateway after the commit, with no lock
//        held); red / issuer unavailable: nothing is stored.
//     The same request again while the token is pending returns the same token (the vault
//     de-duplicates by PAN, requestor and device) with a fresh OTP.
//   VerifyOtp(token, otp): right → activate + credentials; wrong → attempts left; expired;
//     the kOtpAttemptsMax-th wrong code → the challenge locks, the pending token is deleted
//     (TokenLifecycle, initiator tsp) and the card is locked out for kOtpLockoutSeconds.
//   ProvisionToAnotherDevice(source token, device…): a second token of the same funding account
//     on another device of the same requestor (a watch), green path without a new ID&V; the
//     source must be active. The PAN comes from TokenVault::Detokenize (audited).
// The CVV2 goes only into the ID&V request: it is never stored, logged or returned, and the
// request's copy is wiped once the request is built. Holder name is accepted and not kept.
//
// Transactions: each call's writes are ONE transaction (Provision: the token with its audit
// entry, the key binding, the OTP challenge and the outbox SMS; VerifyOtp: the attempt, the
// activation or deletion with its audit entry and feed row, an HCE token's ATC reservation), run
// through a store::GroupCommitter (store/group_commit.h) so concurrent calls share commits. A call answers only
// after its transaction committed, and an error leaves none of its writes (no half-provisioned
// token: what was deleted again before is now never committed).
//
// Thread-safety: thread-safe. Every use of the vault and the stores happens under `store_mutex`
// (given at construction, shared with TspService); call these methods without holding it.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/group_commit.h"
#include "tsp/idv_client.h"
#include "tsp/otp_challenge.h"
#include "tsp/sms_gateway.h"
#include "tsp/token_keys.h"
#include "tsp/token_lifecycle.h"
#include "tsp/token_notifications.h"
#include "tsp/token_vault.h"

namespace tapstack::tsp {

inline constexpr std::size_t kHolderNameBytesMax = 64;

struct ProvisionRequest {
  std::string requestor_id;  // 11 digits; the caller's (checked by the API)
  std::string device_id;     // 1-64 printable ASCII, no spaces
  Bytes device_public_key;   // 65-byte P-256 point of the device's key-agreement key
  KeyStorage storage = KeyStorage::kSe;
  std::string pan;         // digits; parsed with core/pan.h
  std::string pan_expiry;  // YYMM
  std::string cvv2;        // 3 digits; wiped after the ID&V request is built
  std::string holder_name;
  std::string phone;  // E.164; where the OTP goes
};

enum class ProvisionDecision { kApproved, kStepUp, kDeclined };
std::string_view ProvisionDecisionName(ProvisionDecision decision);  // approved, step_up, declined

struct OtpSent {
  std::string masked_phone;  // "+86*******8000"
  std::int64_t expires_unix_ms = 0;
  int attempts_left = kOtpAttemptsMax;
};

struct ProvisionOutcome {
  ProvisionDecision decision = ProvisionDecision::kDeclined;
  std::string response_code;  // the issuer's DE39; empty when the issuer was not asked
  std::optional<TokenRecord> token;  // absent when declined
  KeyStorage storage = KeyStorage::kSe;
  std::optional<OtpSent> otp;  // step-up only
  Bytes credentials;           // approved only: wrapped for the device
  std::string decline_reason;  // declined only: IdvDeclineReasonName or "locked_out"
};

struct OtpVerification {
  OtpOutcome outcome = OtpOutcome::kMismatch;
  int attempts_left = 0;
  ProvisionOutcome approved;  // kVerified only
};

struct ProvisioningDeps {
  TokenVault* vault = nullptr;
  TokenLifecycle* lifecycle = nullptr;
  OtpChallenges* otp = nullptr;
  TokenKeys* keys = nullptr;
  IdvClient* idv = nullptr;
  IdvStanCounter* stans = nullptr;
  SmsGateway* sms = nullptr;  // used without the store mutex held
  const Clock* clock = nullptr;
  std::mutex* store_mutex = nullptr;  // guards everything above but idv and sms
  // Runs every provisioning transaction (on the store of everything above, under store_mutex).
  store::GroupCommitter* commits = nullptr;
  // Optional: the lifecycle's listener when it is the durable feed. Then an activation's (or
  // deletion's) feed row commits in the same transaction as the change, and the feed's next
  // listener hears of it after the commit; otherwise the lifecycle's listener hears of it after
  // the commit.
  TokenNotifications* notifications = nullptr;
  // Optional: `sms` when it is the outbox. Then the OTP's SMS row commits in the same transaction
  // as its challenge instead of being sent after it.
  OutboxSmsGateway* outbox = nullptr;
};

class Provisioning {
 public:
  // Every dependency is required, not owned, and must outlive this object.
  explicit Provisioning(ProvisioningDeps deps) : d_(deps) {}

  // See the top of the file. Errors: kInvalidArgument naming the field (requestor_id, device_id,
  // device_public_key, pan, pan_expiry, cvv2, holder_name, phone); kFailedPrecondition (the
  // card already has a suspended token on this device); kUnavailable (the SMS could not be
  // sent: the token stays pending, a retry sends a fresh OTP); the store's. A decline is not an
  // error.
  Result<ProvisionOutcome> Provision(ProvisionRequest request);

  // Errors: kNotFound (no such token, another requestor's, or no challenge); kInvalidArgument
  // (otp format); the store's.
  Result<OtpVerification> VerifyOtp(std::string_view requestor_id, std::string_view token_id,
                                    std::string_view otp);

  // Errors: kNotFound (source missing or another requestor's); kFailedPrecondition (source not
  // active); kInvalidArgument (device fields; the source's own device); the vault's.
  Result<ProvisionOutcome> ProvisionToAnotherDevice(std::string_view requestor_id,
                                                    std::string_view source_token_id,
                                                    std::string_view device_id,
                                                    ByteView device_public_key,
                                                    KeyStorage storage);

 private:
  // In a transaction of d_.commits: a live token for `pan` on the device, bound, activated, with
  // credentials, into `out`; the lifecycle events to announce after the commit into `events`.
  Status ApproveInTransaction(const Pan& pan, std::string_view pan_expiry,
                              std::string_view requestor_id, std::string_view device_id,
                              ByteView device_public_key, KeyStorage storage,
                              std::string_view reason, ProvisionOutcome& out,
                              std::vector<TokenEvent>& events);
  // A lifecycle change by the TSP's ID&V joined to the open transaction, its feed row with it.
  Status ChangeInTransaction(std::string_view token_id, LifecycleAction action,
                             std::string_view reason, TokenRecord* after,
                             std::vector<TokenEvent>& events);
  // After the commit: the listeners hear of the events.
  void Announce(const std::vector<TokenEvent>& events);
  Result<TokenRecord> OwnedToken(std::string_view requestor_id, std::string_view token_id);

  ProvisioningDeps d_;
};

}  // namespace tapstack::tsp
