// TspClient: the wallet's view of the token service provider's JSON API (/v1/tsp, see docs and
// the TSP contract), one typed method per call the wallet makes. The wallet never includes tsp/
// headers; HttpTspClient (wallet/http_tsp_client.h) speaks the contract over HTTP, tests use an
// in-memory fake.
//
// Errors every method may return, mapped from the TSP's {"error": …} codes:
//   kInvalidArgument     400 invalid_argument (the message names the field)
//   kNotFound            404 not_found: unknown token, or a token of another requestor
//   kFailedPrecondition  409 failed_precondition: the token's state does not allow the call
//   kUnavailable         503, or the TSP cannot be reached / did not answer (outcome unknown:
//                        every call here is safe to repeat)
//   kInternal            401 (the wallet's requestor key was refused: a configuration error), 500,
//                        or an answer that does not follow the contract
// OTP outcomes (422 otp_mismatch, 410 otp_expired, 423 otp_locked) are results of VerifyOtp, not
// errors, because the wallet forwards them to the app with their details.
//
// Thread-safety: implementations must allow concurrent calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pan.h"
#include "core/status.h"

namespace tapstack::wallet {

// TokenJson of the contract. `state` is "inactive", "active", "suspended" or "deleted".
struct TspToken {
  std::string token_id;
  std::string token_last4;
  std::string token_expiry;  // YYMM
  std::string masked_pan;    // first 6 / last 4 of the funding PAN
  std::string par;
  std::string state;
  std::string device_id;
  std::string requestor_id;
  std::string storage;  // "se" or "hce"
};

// POST /v1/tsp/provisionings. Holds the PAN and CVV2 in memory for the one call; Pan wipes its
// digits on destruction, the caller wipes cvv2.
struct ProvisioningRequest {
  std::string requestor_id;
  std::string device_id;
  std::string device_public_key;  // hex, uncompressed P-256 point (65 bytes)
  std::string storage;            // "se" or "hce"
  Pan pan;
  std::string pan_expiry;  // YYMM
  std::string cvv2;
  std::string holder_name;
  std::string phone;  // E.164, where the issuer sends the OTP
};

enum class ProvisioningDecision { kApproved, kStepUp, kDeclined };

struct OtpChallenge {
  std::string sent_to;  // masked phone number, e.g. "+86*******8000"
  std::int64_t expires_unix_ms = 0;
  int attempts_left = 0;
};

// The answer to a provisioning or an add-device call.
struct ProvisioningResult {
  ProvisioningDecision decision = ProvisioningDecision::kDeclined;
  std::string response_code;
  std::optional<TspToken> token;    // absent when declined
  std::optional<OtpChallenge> otp;  // step-up only
  std::string credentials;          // approved only: hex, wrapped for the device's SE
  std::string decline_reason;       // declined only: "card_unknown", "cvv2_mismatch", …
};

enum class OtpOutcome { kApproved, kMismatch, kExpired, kLocked };

struct OtpResult {
  OtpOutcome outcome = OtpOutcome::kMismatch;
  int attempts_left = 0;          // kMismatch: attempts the TSP still allows
  std::optional<TspToken> token;  // kApproved: the now active token
  std::string credentials;        // kApproved
  std::string message;            // the TSP's message for the other outcomes
};

// POST /v1/tsp/tokens/{id}/devices: another token for the same account on another device.
struct AddDeviceRequest {
  std::string device_id;
  std::string device_public_key;
  std::string storage;
};

// One entry of GET /v1/tsp/tokens/{id}/transactions.
struct TokenTransaction {
  std::int64_t time_unix_ms = 0;
  std::int64_t amount_minor = 0;
  std::string currency;  // ISO 4217 alphabetic code
  std::string merchant;
  std::string mcc;
  bool approved = false;
  std::string response_code;
  std::string approval_code;
  std::string stan;
  std::string channel;  // "contactless", "in_app" or "other"
};

// One entry of GET /v1/tsp/notifications.
struct TokenNotification {
  std::int64_t seq = 0;
  std::string token_id;
  std::string device_id;
  std::string event;  // "activate", "suspend", "resume", "delete", "update_pan"
  std::string from;   // token state before
  std::string to;     // token state after
  std::string initiator;
  std::int64_t time_unix_ms = 0;
};

class TspClient {
 public:
  virtual ~TspClient() = default;

  // Asks for a token for `request.pan` on `request.device_id`. A decline is a result, not an
  // error.
  virtual Result<ProvisioningResult> Provision(const ProvisioningRequest& request) = 0;
  // Checks the OTP of a step-up provisioning of `token_id`.
  virtual Result<OtpResult> VerifyOtp(const std::string& token_id, const std::string& otp) = 0;
  // A token for the same account on another device, from the active token `token_id`.
  virtual Result<ProvisioningResult> AddDevice(const std::string& token_id,
                                               const AddDeviceRequest& request) = 0;
  // Lifecycle changes initiated by the wallet; kFailedPrecondition when the state forbids them.
  virtual Result<TspToken> Suspend(const std::string& token_id, const std::string& reason) = 0;
  virtual Result<TspToken> Resume(const std::string& token_id, const std::string& reason) = 0;
  virtual Result<TspToken> Delete(const std::string& token_id, const std::string& reason) = 0;
  virtual Result<TspToken> GetToken(const std::string& token_id) = 0;
  // A batch of `count` single-use keys for the HCE token `token_id`, wrapped by the TSP for the
  // token's device (hex, opaque to the wallet). kFailedPrecondition for a secure-element token.
  virtual Result<std::string> ReplenishKeys(const std::string& token_id, int count) = 0;
  // The token's transactions, newest first, at most `limit`.
  virtual Result<std::vector<TokenTransaction>> ListTransactions(const std::string& token_id,
                                                                 int limit) = 0;
  // Lifecycle notifications with seq > `after_seq`, oldest first, at most `limit`.
  virtual Result<std::vector<TokenNotification>> ListNotifications(std::int64_t after_seq,
                                                                   int limit) = 0;
};

}  // namespace tapstack::wallet
