// TokenVault: the token ↔ PAN mapping, with the PAN encrypted (ledger-and-vault.md §7-8, PCI DSS
// 3.5.1: PAN unreadable wherever stored). The only place in tapstack that can decrypt a PAN.
//
// Each token record stores, never the PAN in clear:
//   pan_ciphertext = AES-256-GCM(DEK_v, nonce, PAN digits ‖ "=" ‖ PAN expiry YYMM, AD)
//   AD             = "tapstack-pan-v1" ‖ 0x00 ‖ v (8 bytes BE) ‖ token_id (ASCII)
//   nonce          12 random bytes, fresh for every encryption (SP 800-38D §8.2.2 random IVs;
//                  2^32 encryptions per DEK stay far below the collision bound, rotate long before)
//   pan_fingerprint = HMAC-SHA-256(fingerprint_key, "tapstack-pan-fingerprint-v1" ‖ 0x00 ‖ PAN)
//                  for de-duplication (PCI DSS 3.5.1.1: keyed, never an unkeyed hash)
//   masked_pan     first 6 / last 4 (core Pan::Masked; PCI DSS 3.4.1), for display
// The AD binds the row's token id and the DEK version: a ciphertext copied into another row, or a
// version number edited, fails authentication (kCryptoFailure) instead of decrypting. DEKs are
// envelope keys under a KEK (data_key_ring.h). The PAN expiry sits inside the ciphertext with the
// PAN. A deleted token keeps its number (never reused) but loses ciphertext and fingerprint.
//
// Every tokenisation, de-tokenisation (allowed or refused), lifecycle change and key operation
// appends an audit entry (audit_log.h) in the same transaction as its effect, so one never commits
// without the other; a PAN is returned only after its audit entry is committed.
//
// Audited operations join a transaction the caller has open on the store (store_transaction.h):
// their change and audit entry then commit with the caller's other writes (provisioning commits
// a token, its key binding and its OTP challenge together). Such a caller takes the audit chain
// lock (AuditLog::LockChainInTransaction) as its transaction's first statement. Detokenize is the
// exception to use alone: it commits the audit entry of a refusal and then returns the refusal,
// which a joined caller would roll back.
// Ownership and threads: the vault keeps references to the Store and to the options' clock,
// random source and generators (all must outlive it). Like its Store it is used from one thread at
// a time; give each thread (e.g. a background re-encryption thread) its own Store and TokenVault
// on the same database: they see each other's commits, and readers decrypt with any live DEK.
// Audited operations commit one at a time per database (the audit chain is a serialisation point;
// see audit_log.h for how PostgreSQL appenders queue instead of failing).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/pan.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "store/store.h"
#include "tsp/audit_log.h"
#include "tsp/data_key_ring.h"
#include "tsp/limits.h"
#include "tsp/par.h"
#include "tsp/token_number.h"
#include "tsp/token_state.h"

namespace tapstack::tsp {

inline constexpr std::size_t kFingerprintKeyBytes = 32;

struct TokenVaultKeys {
  KeyEncryptionKey kek;                 // wraps the DEKs; kept outside the database
  crypto::SecretBytes fingerprint_key;  // 32 bytes; HMAC key of PAN fingerprints
};

struct TokenVaultOptions {
  const Clock* clock = nullptr;                             // required
  RandomSource* random = nullptr;                           // required: DEKs, nonces, ids, numbers
  const TokenNumberGenerator* token_numbers = nullptr;      // required
  const ParGenerator* par = nullptr;                        // required
  int token_validity_months = kTokenValidityMonthsDefault;  // token expiry from issue, 1-120
};

// A token as the vault describes it: everything but the PAN.
struct TokenRecord {
  std::string token_id;      // "tok_" + 32 letters a-p: the reference for lifecycle calls
  std::string token_number;  // the payment token (DE2 in place of the PAN)
  std::string token_expiry;  // YYMM, the token's own
  std::string par;           // 29 characters
  std::string masked_pan;    // "622202******1234"
  std::string requestor_id;  // Token Requestor ID, 11 digits
  std::string device_id;
  TokenState state = TokenState::kInactive;
  std::optional<InitiatorKind> suspended_by;  // set while suspended
  std::int64_t dek_version = 0;               // 0 once deleted
  std::int64_t created_unix_ms = 0;
  std::int64_t updated_unix_ms = 0;
};

struct TokenizeRequest {
  std::string pan_expiry;    // YYMM
  std::string requestor_id;  // 11 digits
  std::string device_id;     // 1-64 printable ASCII, no spaces
};

struct TokenizeResult {
  TokenRecord record;
  // False when a live token of this PAN for this requestor and device already existed and was
  // returned instead (a retried request gets its token, not a second one).
  bool created = true;
};

struct DetokenizeRequest {
  std::string actor;    // who asks, for the audit log: "network:switch-1"
  std::string purpose;  // why: "authorisation"; printable, at most kReasonBytesMax
  // A suspended token is refused unless this is set: a credit to the card (a refund, a wallet's
  // withdrawal) still reaches the account behind a token whose phone was lost.
  bool allow_suspended = false;
};

struct DetokenizedPan {
  Pan pan;
  std::string pan_expiry;  // YYMM
  TokenRecord record;
};

// The result of a lifecycle change.
struct TokenTransition {
  TokenState from = TokenState::kInactive;
  TokenRecord record;  // after the change
  std::int64_t audit_seq = 0;
};

struct ReencryptReport {
  std::int64_t reencrypted = 0;         // records moved to the active DEK by this call
  std::int64_t remaining = 0;           // records still under older DEKs afterwards
  std::int64_t active_dek_version = 0;  // the version they were moved to
};

// The keyed PAN fingerprint as stored (exposed for tests). Errors: key not 32 bytes; HMAC failure.
Result<Bytes> PanFingerprint(const crypto::SecretBytes& fingerprint_key, const Pan& pan);

class TokenVault {
 public:
  // Applies the TSP schema, opens the data key ring (creating DEK version 1 on first use) and the
  // audit log. Errors: kInvalidArgument for a missing option, a fingerprint key that is not 32
  // bytes or token_validity_months out of range; DataKeyRing::Open's; the store's.
  static Result<std::unique_ptr<TokenVault>> Open(store::Store& store, TokenVaultKeys keys,
                                                  const TokenVaultOptions& options);

  // Creates a token for `pan` in state inactive (pending ID&V; activate it through
  // token_lifecycle.h), or returns the live token this PAN already has for the same requestor and
  // device (created = false). Errors (nothing is stored on error): kInvalidArgument naming
  // pan_expiry, requestor_id or device_id; TokenNumberGenerator::Generate's; the store's.
  Result<TokenizeResult> Tokenize(const Pan& pan, const TokenizeRequest& request);

  // The PAN behind `token_number`: the one call that reveals a PAN. Allowed only for an active,
  // unexpired token. Every call is audited (refusals too) and the PAN is returned only after its
  // audit entry committed. Errors: kInvalidArgument (bad actor or purpose; not audited); kNotFound
  // (no such token); kFailedPrecondition (state not active, or token expired); kCryptoFailure (the
  // record does not decrypt: tampered ciphertext, nonce, AD or DEK version); the store's.
  Result<DetokenizedPan> Detokenize(std::string_view token_number,
                                    const DetokenizeRequest& request);

  // Detokenize's checks and audit entry inside the transaction the caller has open on this
  // vault's store (with the audit chain locked first), so a caller can commit them with its own
  // writes (token authorisation: the ATC record and this audit entry in one commit). The return
  // value is the transaction's: an error (the store's) means roll back. A refusal is not a
  // transaction error: its audit entry is written, `*refusal` holds Detokenize's error and the
  // caller commits. On success `*out` holds the PAN, which the caller must not release before its
  // transaction committed. Errors: kFailedPrecondition when no transaction is open;
  // kInvalidArgument (bad actor or purpose); the store's.
  Status DetokenizeInTransaction(std::string_view token_number, const DetokenizeRequest& request,
                                 std::optional<DetokenizedPan>& out, Status& refusal);

  // Token lookups (no PAN). Errors: kNotFound; the store's.
  Result<TokenRecord> Get(std::string_view token_id);
  Result<TokenRecord> FindByTokenNumber(std::string_view token_number);
  // The non-deleted tokens of `pan`, found by its keyed fingerprint, oldest first (empty if none).
  Result<std::vector<TokenRecord>> FindByPanFingerprint(const Pan& pan);

  // Lifecycle (rules in token_state.h; use token_lifecycle.h, which also notifies). ChangeState
  // takes any action but kUpdatePan; delete erases the PAN ciphertext and fingerprint. UpdatePan
  // re-encrypts a new PAN and/or expiry for the same token (token number, PAR and state stay).
  // Each commits the record change and its audit entry together. Errors: kNotFound;
  // kInvalidArgument (reason longer than kReasonBytesMax or not printable; bad pan_expiry);
  // CheckTransition's.
  Result<TokenTransition> ChangeState(std::string_view token_id, LifecycleAction action,
                                      const Initiator& initiator, std::string_view reason);
  Result<TokenTransition> UpdatePan(std::string_view token_id, const Initiator& initiator,
                                    const Pan& new_pan, std::string_view new_pan_expiry,
                                    std::string_view reason);

  // Key management, each audited with `actor`:
  // Creates a new active DEK version; new records use it, old ones stay readable. Returns it.
  Result<std::int64_t> RotateDataKey(std::string_view actor);
  // Re-encrypts up to `records_max` (1..kReencryptBatchRecordsMax) records that are under an older
  // DEK to the active one, in one transaction. Call repeatedly (e.g. from a background thread with
  // its own vault) until remaining == 0. Errors: kInvalidArgument for records_max; kCryptoFailure
  // naming the token whose record does not decrypt (the batch is not applied); the store's.
  Result<ReencryptReport> ReencryptBatch(std::size_t records_max, std::string_view actor);
  // Retires DEK versions that no record uses any more, erasing their wrapped bytes. Returns them.
  Result<std::vector<std::int64_t>> RetireUnusedDataKeys(std::string_view actor);
  // Re-wraps every live DEK under `new_kek` in one transaction, then uses it. Other vaults on the
  // same database must be reopened with the new KEK (until then they fail with
  // kFailedPrecondition naming the KEK). Returns the number of DEKs re-wrapped. Errors:
  // DataKeyRing::RewrapAllInTransaction's.
  Result<std::int64_t> RewrapDataKeys(KeyEncryptionKey new_kek, std::string_view actor);

  Result<std::vector<DataKeyInfo>> DataKeys() { return keys_->List(); }
  AuditLog& audit_log() { return *audit_; }
  // The store the vault's tables live on (for callers that join its transactions).
  store::Store& store() { return store_; }
  const std::string& kek_id() const { return keys_->kek_id(); }

  // In-memory bytes this vault holds beyond its fixed size: the cached DEKs. The vault keeps no
  // per-token index in memory (lookups go to the store), so this does not grow with tokens.
  std::size_t MemoryBytesEstimate() const;

 private:
  TokenVault(store::Store& store, crypto::SecretBytes fingerprint_key,
             const TokenVaultOptions& options)
      : store_(store), fingerprint_key_(std::move(fingerprint_key)), options_(options) {}

  // RunInTransactionOrJoin with the audit chain locked first (AuditLog::LockChainInTransaction).
  Status RunAudited(const std::function<Status(store::Store&)>& fn);
  Result<TokenRecord> LoadInTransaction(std::string_view column, std::string_view value);
  Result<TokenTransition> ApplyChange(std::string_view token_id, LifecycleAction action,
                                      const Initiator& initiator, std::string_view reason,
                                      const Pan* new_pan, std::string_view new_pan_expiry);

  store::Store& store_;
  crypto::SecretBytes fingerprint_key_;
  TokenVaultOptions options_;
  std::unique_ptr<DataKeyRing> keys_;
  std::unique_ptr<AuditLog> audit_;
};

}  // namespace tapstack::tsp
