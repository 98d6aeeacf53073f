// Certificate authorities of the offline e-CNY PKI (digital-currency.md §5.1; formats in
// dcep_wire/certificate.h): the central bank's root and one operator CA per operator. The chain is
// root -> operator -> device.
//
// ## Keys
// Each authority generates its signing key pair on first use (SM2-SM3 unless the options choose
// ECDSA P-256 or Ed25519) and keeps it in its own store (role "dcep_ca_<subject>", SQLite
// <data_dir>/dcep_ca_<subject>.db or a PostgreSQL schema) as PKCS#8 sealed with AES-256-GCM under a
// key-encryption key (options; a published demo key when empty). The private key is an internal
// handle: no call returns it.
//
// ## Certificates
// RootAuthority: a self-signed root certificate (serial 1) on first use; operator certificates.
// OperatorAuthority: its key is certified by the root out of band (PublicKeyRaw ->
// RootAuthority::IssueOperatorCertificate -> InstallCertificate); then device certificates with
// the device's tier and the offline caps of that tier (OfflineCapsTable), valid for N days
// (default kDeviceCertificateValidityDaysDefault), so a device must come online to renew. Serials
// are allocated from a per-authority sequence in the store: unique per issuer.
//
// ## Load orders, sync acknowledgements, revocation
// SignLoadOrder keeps the per-device load sequence (the applet accepts last + 1 only) and is
// idempotent on (device, idempotency key). Revoke adds a device (all its serials) to the
// revocation list and bumps the list version; revoked devices get no further load orders or
// certificates. Each revocation is also published to the network's registry (the root,
// dcep/revocation_registry.h), and IssueSyncAck signs an acknowledgement carrying the MERGED list:
// this operator's revoked devices, then the other operators' from its cache of the registry, the
// newest first, at most kRevokedDevicesMax, only devices whose certificate has not expired (an
// expired certificate is refused anyway). The list version is the own version plus the cached
// network version: both only grow, so a device never sees it go back.
//
// Durable before answered: every call that allocates a serial or sequence, or revokes, commits
// before it returns. Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "crypto/signature.h"
#include "dcep/revocation_registry.h"
#include "dcep_wire/certificate.h"
#include "store/store.h"

namespace tapstack::dcep {

inline constexpr std::int64_t kSecondsPerDay = 86'400;
inline constexpr int kDeviceCertificateValidityDaysDefault = 30;
inline constexpr int kOperatorCertificateValidityDaysDefault = 3 * 365;
inline constexpr int kRootCertificateValidityDaysDefault = 10 * 365;
inline constexpr int kCertificateValidityDaysMax = 20 * 365;
inline constexpr std::size_t kLoadIdempotencyKeyBytesMax = 128;
inline constexpr std::size_t kCaKeyEncryptionKeyBytes = 32;  // AES-256-GCM
inline constexpr std::string_view kRevocationReasonDoubleSpend = "double_spend";
inline constexpr std::string_view kRevocationReasonFrozen = "frozen";

// The offline caps a device certificate carries (0 allows nothing; caps are never unlimited).
struct OfflineCaps {
  std::int64_t balance_max_fen = 0;
  std::int64_t payment_max_fen = 0;
  std::uint16_t payments_before_sync_max = 0;
  std::int64_t value_before_sync_max_fen = 0;
  std::uint32_t unsynced_max_age_s = 0;  // expiry of unsynced transfers (dcep_wire certificate 87)
  friend bool operator==(const OfflineCaps&, const OfflineCaps&) = default;
};

// Index 0 = tier 1 ... index 3 = tier 4.
using OfflineCapsTable = std::array<OfflineCaps, 4>;

// tapstack's defaults (docs/dcep-settlement.md), far below the online tier caps because an
// offline purse is bearer value that is lost with the device:
//   tier 4: balance 100,000 fen, payment 50,000, 20 payments or 200,000 fen before a sync,
//           unsynced transfers expire after 3 days
//   tier 3: 200,000 / 100,000 / 30 / 500,000 / 7 days
//   tier 2: 500,000 / 200,000 / 50 / 1,000,000 / 7 days
//   tier 1: 1,000,000 / 500,000 / 100 / 2,000,000 / 14 days
const OfflineCapsTable& DefaultOfflineCapsTable();

// The central bank's root authority's subject id.
inline constexpr std::string_view kRootAuthorityId = "pboc";

struct AuthorityOptions {
  std::string subject_id;  // "pboc" for the root, the operator id ("icbc") for an operator CA
  crypto::SignatureScheme scheme = crypto::SignatureScheme::kSm2Sm3;  // of the key made on first use
  std::filesystem::path data_dir;    // SQLite <data_dir>/dcep_ca_<subject>.db
  std::string postgres_url;          // when set, PostgreSQL schema dcep_ca_<subject> instead
  const Clock* clock = nullptr;      // nullptr = SystemClock
  crypto::SecretBytes key_encryption_key;  // 32 bytes; empty = DemoDcepIdKey("ca_<subject>")
};

// "dcep_ca_icbc" for "icbc". Errors: kInvalidArgument (1-16 of a-z 0-9, starting with a letter).
Result<std::string> AuthorityStoreRole(std::string_view subject_id);

// The root also keeps the network's revocation registry (its own store).
class RootAuthority final : public RevocationRegistry {
 public:
  // Opens (creating on first use) the key and the self-signed root certificate, valid for
  // kRootCertificateValidityDaysDefault days. A stored key of another scheme than options.scheme
  // wins (the root never changes key silently). Errors: kInvalidArgument (options), store errors,
  // kCryptoFailure (a stored key that does not unseal: wrong key-encryption key).
  static Result<std::unique_ptr<RootAuthority>> Open(AuthorityOptions options);
  ~RootAuthority();

  const dcep_wire::Certificate& certificate() const;  // self-signed, role root
  const crypto::PublicKey& public_key() const;        // pre-installed in every applet

  // Certifies an operator CA key. Errors (kInvalidArgument): operator id, a key that does not
  // parse for `scheme`, validity outside 1..kCertificateValidityDaysMax; store errors.
  Result<Bytes> IssueOperatorCertificate(std::string_view operator_id,
                                         crypto::SignatureScheme scheme,
                                         ByteView public_key_raw,
                                         int validity_days = kOperatorCertificateValidityDaysDefault);

  // RevocationRegistry. Publish: kInvalidArgument also for an issuer id that is not an operator
  // id (1-16 of a-z 0-9).
  Status Publish(const NetworkRevocation& entry) override;
  Result<std::vector<NetworkRevocation>> Since(std::uint32_t after_version,
                                               std::size_t limit) override;

 private:
  struct Impl;
  explicit RootAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct OperatorAuthorityOptions {
  AuthorityOptions authority;        // subject_id = the operator id
  Bytes root_certificate;            // the self-signed root (7F21); required
  OfflineCapsTable caps = DefaultOfflineCapsTable();
  // The network's revocation registry (not owned; outlives the authority); nullptr = the sync
  // acknowledgements carry this operator's own revocations only.
  RevocationRegistry* registry = nullptr;
};

struct DeviceCertificateRequest {
  std::string device_id;  // 1-64 of a-z 0-9 - _
  crypto::SignatureScheme scheme = crypto::SignatureScheme::kSm2Sm3;
  Bytes public_key_raw;   // GENERATE KEY PAIR's answer
  int tier = 4;           // the owner wallet's tier, 1-4
  int validity_days = kDeviceCertificateValidityDaysDefault;
};

struct RevocationEntry {
  std::string device_id;
  std::uint64_t serial = 0;   // the device's newest certificate at revocation
  std::string reason;         // kRevocationReasonDoubleSpend, kRevocationReasonFrozen, ...
  std::uint32_t version = 0;  // the list version this entry created
  std::int64_t revoked_unix_ms = 0;
};

struct RevocationList {
  std::uint32_t version = 0;  // 0 = nothing revoked yet
  std::vector<RevocationEntry> entries;  // newest first
};

class OperatorAuthority {
 public:
  // Opens (creating on first use) the key; loads the installed certificate if any.
  // Errors: kInvalidArgument (options, a root certificate that does not parse or is not
  // self-signed by a root), store errors, kCryptoFailure (stored key does not unseal).
  static Result<std::unique_ptr<OperatorAuthority>> Open(OperatorAuthorityOptions options);
  ~OperatorAuthority();

  const std::string& operator_id() const;
  crypto::SignatureScheme scheme() const;
  // The raw public key the root must certify.
  const Bytes& public_key_raw() const;
  const crypto::PublicKey& root_public_key() const;
  const dcep_wire::Certificate& root_certificate() const;

  // Installs the operator certificate after checking it: role operator, subject = operator id,
  // our key and scheme, signed by the root, not expired. Replaces an earlier one (renewal).
  // Errors: kInvalidArgument (does not parse, wrong subject/role/key), kCryptoFailure (signature),
  // kOutOfRange (expired), store errors.
  Status InstallCertificate(ByteView operator_certificate);
  // Errors: kFailedPrecondition until a certificate is installed.
  Result<dcep_wire::Certificate> OperatorCertificate() const;

  // Issues a device certificate with the tier's caps; the device's newest certificate is kept.
  // Errors: kInvalidArgument (device id, tier, validity, a key that does not parse for the
  // scheme), kFailedPrecondition (no operator certificate; the device is revoked), store errors.
  Result<Bytes> IssueDeviceCertificate(const DeviceCertificateRequest& request);
  // The device's newest certificate. Errors: kNotFound.
  Result<dcep_wire::Certificate> DeviceCertificate(std::string_view device_id) const;
  // E4 { device, operator } for PUT CERTIFICATES. Errors: kNotFound, kFailedPrecondition.
  Result<Bytes> DeviceChain(std::string_view device_id) const;

  // A signed load order for `amount_fen` (1..the device's offline balance cap) with the device's
  // next load sequence. The same key and amount return the same order (bytes included).
  // Errors: kInvalidArgument (amount, key), kNotFound (device), kFailedPrecondition (revoked, no
  // operator certificate), kAlreadyExists (kKeyReusedMessage: same key, another amount).
  Result<Bytes> SignLoadOrder(std::string_view device_id, std::int64_t amount_fen,
                              std::string_view idempotency_key);

  // A signed sync acknowledgement (operator time from the clock, the revocation list).
  // Errors: kNotFound (device not certified here), kFailedPrecondition (no operator certificate).
  Result<Bytes> IssueSyncAck(std::string_view device_id,
                             std::uint32_t log_sequence_acknowledged);

  // Revokes the device (by id; its newest serial recorded), then publishes it to the registry (an
  // unreachable registry is retried at every later sync acknowledgement and SyncWithRegistry).
  // Idempotent: a revoked device stays as it is (first reason kept) and the version does not
  // move. Errors: kNotFound (never certified here), kInvalidArgument (reason empty), store errors.
  Status Revoke(std::string_view device_id, std::string_view reason);
  // Errors: kInvalidArgument (device id); store errors.
  Result<bool> IsRevoked(std::string_view device_id) const;
  // This operator's own revocations.
  Result<RevocationList> CurrentRevocationList() const;

  // Publishes what the registry has not accepted yet and fetches the other operators' newer
  // entries into the cache. OK without a registry. Errors: the registry's, store errors.
  Status SyncWithRegistry();
  // The cached network list (every operator's revocations the registry had at the last sync),
  // newest first. Errors: store errors.
  Result<std::vector<NetworkRevocation>> NetworkRevocations() const;

 private:
  struct Impl;
  explicit OperatorAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapstack::dcep
