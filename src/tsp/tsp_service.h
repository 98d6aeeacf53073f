// TspService: the token service provider as one object: the vault, the lifecycle, the token
// authorisation the switch calls, provisioning with ID&V and OTP, device keys, the transaction
// history, the notifications feed and the SMS gateway, behind the calls the JSON API
// (tsp_http.h) and the switch adapter need.
//
// Threads: the stores and the vault are one connection each and not thread-safe, so ONE mutex
// serialises every use of them. It is never held across a network call: provisioning releases it
// for the ID&V round trip and the SMS (provisioning.h). Provisioning's transactions go through a
// store::GroupCommitter (store/group_commit.h): concurrent Provision / VerifyOtp calls share one transaction
// and one commit, each answered after it. Token authorisations share that committer: the
// cryptogram is checked before the mutex (TokenAuthorization::CheckCryptogram), then each use's
// token lookup, ATC record and de-tokenisation audit entry join a shared transaction, so a batch
// of concurrent uses costs one commit (one fsync) and each is answered only after it. Uses are
// appended to the history by a background thread (history_writer.h), off the switch's answer
// path. Every public method is thread-safe.
//
// Requestor scoping: calls made for a token requestor (the wallet) only see that requestor's
// tokens; another requestor's token is kNotFound, as if it did not exist.
//
// Ownership: the stores, the token-number generator, the PAR generator, the clock, the random
// source, the ID&V link and any SMS gateway or listener passed in are not owned and must outlive
// the service. Everything else is owned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "link/message_handler.h"
#include "store/store.h"
#include "store/group_commit.h"
#include "tsp/history_writer.h"
#include "tsp/idv_client.h"
#include "tsp/otp_challenge.h"
#include "tsp/provisioning.h"
#include "tsp/sms_gateway.h"
#include "tsp/token_authorization.h"
#include "tsp/token_history.h"
#include "tsp/token_keys.h"
#include "tsp/token_lifecycle.h"
#include "tsp/token_notifications.h"
#include "tsp/token_requestors.h"
#include "tsp/token_vault.h"

namespace tapstack::tsp {

enum class SmsGatewayKind { kOutbox, kWebhook };

struct TspServiceOptions {
  store::Store* store = nullptr;      // required: the TSP's tables (role "tsp")
  // Optional, legacy: the separate ATC database (role "tsp_atc") of earlier versions. The ATC
  // table now lives in `store` (TspMigrations() version 4); when this is set, Open moves its
  // rows into `store` (merged with any already there) and then empties it.
  store::Store* atc_store = nullptr;
  TokenVaultKeys vault_keys;          // KEK and fingerprint key
  const TokenNumberGenerator* token_numbers = nullptr;  // required
  const ParGenerator* par = nullptr;                    // required
  int token_validity_months = kTokenValidityMonthsDefault;
  std::vector<TokenRangeKeys> token_ranges;        // required: IMK-AC per token BIN range
  std::vector<TokenRequestorConfig> requestors;    // the wallets and their API keys
  crypto::SecretBytes otp_key;                     // 32 bytes: OTP MACs and lock-out keys
  SmsGatewayKind sms = SmsGatewayKind::kOutbox;
  std::string sms_webhook_url;                     // kWebhook only
  SmsGateway* sms_gateway = nullptr;               // when set, used instead of `sms`
  link::RequestSender* idv_link = nullptr;         // required: to the network switch
  IdvClientOptions idv;                            // clock is filled in from `clock`
  std::string authorization_actor = "network:tsp";  // audit actor of token authorisations
  TokenEventListener* listener = nullptr;          // optional: hears every lifecycle event
  const Clock* clock = nullptr;                    // required
  RandomSource* random = nullptr;                  // required (crypto::Csprng in production)
};

// A token as the API shows it.
struct TokenView {
  TokenRecord record;
  KeyStorage storage = KeyStorage::kSe;  // "se" for tokens never bound to a device key
};

class TspService {
 public:
  // Opens everything (schemas, data keys, audit log). Errors: kInvalidArgument naming the
  // missing or bad option; the components' Open errors.
  static Result<std::unique_ptr<TspService>> Open(TspServiceOptions options);
  ~TspService();
  TspService(const TspService&) = delete;
  TspService& operator=(const TspService&) = delete;

  // --- JSON API (tsp_http.h) ---
  std::optional<TokenRequestor> Authenticate(std::string_view api_key) const;
  Result<ProvisionOutcome> Provision(ProvisionRequest request);
  Result<OtpVerification> VerifyOtp(std::string_view requestor_id, std::string_view token_id,
                                    std::string_view otp);
  Result<ProvisionOutcome> ProvisionToAnotherDevice(std::string_view requestor_id,
                                                    std::string_view source_token_id,
                                                    std::string_view device_id,
                                                    ByteView device_public_key,
                                                    KeyStorage storage);
  // Lifecycle by the wallet (initiator kWallet with the requestor id). Errors: kNotFound;
  // kFailedPrecondition when the state does not allow it; kInvalidArgument (reason).
  Result<TokenView> Suspend(std::string_view requestor_id, std::string_view token_id,
                            std::string_view reason);
  Result<TokenView> Resume(std::string_view requestor_id, std::string_view token_id,
                           std::string_view reason);
  Result<TokenView> Delete(std::string_view requestor_id, std::string_view token_id,
                           std::string_view reason);
  Result<TokenView> GetToken(std::string_view requestor_id, std::string_view token_id);
  Result<std::vector<TokenHistoryEntry>> Transactions(std::string_view requestor_id,
                                                      std::string_view token_id,
                                                      std::size_t limit);
  // Errors: TokenKeys::ReplenishBatch's; kNotFound.
  Result<Bytes> ReplenishKeys(std::string_view requestor_id, std::string_view token_id,
                              std::size_t count);
  Result<std::vector<TokenNotification>> Notifications(std::string_view requestor_id,
                                                       std::int64_t after, std::size_t limit);
  // Errors: kFailedPrecondition when the SMS gateway is not the outbox; OutboxSmsGateway::List's.
  Result<std::vector<SmsOutboxMessage>> SmsOutbox(std::string_view phone, std::int64_t after);

  // --- the switch adapter ---
  Result<TokenAuthorizationResult> Authorize(const TokenUse& use);
  // A reversal or advice names its original's token: the PAN without a cryptogram or an ATC, also
  // for a suspended token (TokenAuthorization::ResolveFollowUp).
  Result<DetokenizedPan> ResolveFollowUp(std::string_view token_number, std::string_view purpose);
  // Whether the token's recorded ATC state counts `atc` as spent: it is the highest, or within the
  // window below it and marked seen. An ATC below the window is no longer tracked and counts as
  // spent (the window refuses it). For audits and the simulator. Errors: the store's.
  Result<bool> AtcSeen(std::string_view token_id, std::uint32_t atc);
  // Queues the use for the token's history (written in batches by a background thread, not
  // durable when this returns); logs (token-free) and drops it, counted, when the queue is full.
  // Never blocks on the store: the switch's answer must not depend on the history.
  void RecordUse(const TokenUseRecord& use);
  // Waits until every use queued by RecordUse before the call is written (tests, shutdown).
  void FlushHistory();
  HistoryWriterStats history_stats() const;
  // The shared committer's counters (authorisations and provisioning), for tests and benchmarks.
  store::GroupCommitStats commit_stats() const;

  // For issuer-initiated changes and tests, under the service mutex.
  Result<TokenRecord> IssuerChange(std::string_view token_id, LifecycleAction action,
                                   std::string_view issuer_id, std::string_view reason);

 private:
  TspService() = default;
  // Moves the rows of a legacy tsp_atc store into `to` (see TspServiceOptions::atc_store).
  static Status ImportAtcStore(store::Store& from, store::Store& to);
  Result<TokenView> View(TokenRecord record);
  Result<TokenRecord> OwnedLocked(std::string_view requestor_id, std::string_view token_id);

  mutable std::mutex mu_;
  TspServiceOptions options_;
  std::unique_ptr<TokenVault> vault_;
  std::unique_ptr<TokenNotifications> notifications_;
  std::unique_ptr<TokenLifecycle> lifecycle_;
  std::unique_ptr<TokenAuthorization> authorization_;
  std::unique_ptr<OtpChallenges> otp_;
  std::unique_ptr<TokenKeys> keys_;
  std::unique_ptr<IdvClient> idv_;
  std::unique_ptr<IdvStanCounter> stans_;
  std::unique_ptr<SmsGateway> owned_sms_;
  OutboxSmsGateway* outbox_ = nullptr;
  SmsGateway* sms_ = nullptr;
  std::unique_ptr<TokenHistory> history_;
  std::optional<TokenRequestors> requestors_;
  std::unique_ptr<store::GroupCommitter> commits_;
  std::unique_ptr<Provisioning> provisioning_;
  std::unique_ptr<HistoryWriter> history_writer_;  // last: its thread stops first
};

}  // namespace tapstack::tsp
