#include "dcep/certificate_authority.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/hex.h"
#include "crypto/aead.h"
#include "crypto/csprng.h"
#include "crypto/hash.h"
#include "dcep/ledger_ids.h"
#include "dcep/operator.h"
#include "dcep/tiers.h"
#include "dcep_wire/limits.h"
#include "dcep_wire/load_order.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/scheme.h"
#include "dcep_wire/sync_ack.h"
#include "store/migration.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tapstack::dcep {

namespace {

using dcep_wire::Certificate;
using dcep_wire::CertificateBody;
using dcep_wire::CertificateRole;

// Portable subset of store/store.h; times are Unix milliseconds, not_after Unix seconds.
const std::array<store::Migration, 2>& Migrations() {
  static const std::array<store::Migration, 2> migrations = {
      store::Migration{
          .version = 1,
          .description = "dcep certificate authority",
          .sql = R"sql(
CREATE TABLE dcep_ca_key (
  subject_id TEXT PRIMARY KEY,
  scheme BIGINT NOT NULL,
  sealed_pkcs8 BYTEA NOT NULL,
  nonce BYTEA NOT NULL,
  public_key BYTEA NOT NULL,
  certificate BYTEA,
  created_unix_ms BIGINT NOT NULL
);
CREATE TABLE dcep_ca_sequences (
  name TEXT PRIMARY KEY,
  next_value BIGINT NOT NULL
);
CREATE TABLE dcep_ca_issued (
  serial BIGINT PRIMARY KEY,
  subject_id TEXT NOT NULL,
  role BIGINT NOT NULL,
  certificate BYTEA NOT NULL,
  not_after_unix_s BIGINT NOT NULL,
  issued_unix_ms BIGINT NOT NULL
);
CREATE TABLE dcep_ca_devices (
  device_id TEXT PRIMARY KEY,
  serial BIGINT NOT NULL,
  tier BIGINT NOT NULL CHECK (tier BETWEEN 1 AND 4),
  certificate BYTEA NOT NULL,
  not_after_unix_s BIGINT NOT NULL,
  load_sequence BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL
);
CREATE TABLE dcep_ca_loads (
  device_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  load_sequence BIGINT NOT NULL,
  load_order BYTEA NOT NULL,
  created_unix_ms BIGINT NOT NULL,
  PRIMARY KEY (device_id, idempotency_key)
);
CREATE TABLE dcep_ca_revocations (
  device_id TEXT PRIMARY KEY,
  serial BIGINT NOT NULL,
  reason TEXT NOT NULL,
  version BIGINT NOT NULL UNIQUE,
  not_after_unix_s BIGINT NOT NULL,
  revoked_unix_ms BIGINT NOT NULL
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      // The network's revocation list (dcep/revocation_registry.h): at the root the registry
      // itself, at an operator its cache of the registry. dcep_ca_unpublished: an operator's own
      // revocations not yet accepted by the registry.
      store::Migration{
          .version = 2,
          .description = "dcep network revocation list",
          .sql = R"sql(
CREATE TABLE dcep_ca_network_revocations (
  issuer_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  serial BIGINT NOT NULL,
  reason TEXT NOT NULL,
  not_after_unix_s BIGINT NOT NULL,
  revoked_unix_ms BIGINT NOT NULL,
  network_version BIGINT NOT NULL UNIQUE,
  PRIMARY KEY (issuer_id, device_id)
);
CREATE TABLE dcep_ca_unpublished (
  device_id TEXT PRIMARY KEY
);
)sql",
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

constexpr std::string_view kSerialSequence = "serial";
constexpr std::string_view kKeySealContext = "tapstack dcep ca key v1";

const Clock& ClockOf(const Clock* clock) {
  return clock != nullptr ? *clock : SystemClock::Instance();
}

Status CheckValidityDays(int days) {
  if (days < 1 || days > kCertificateValidityDaysMax) {
    return InvalidArgument("validity_days: expected 1.." +
                           std::to_string(kCertificateValidityDaysMax) + ", got " +
                           std::to_string(days));
  }
  return Status::Ok();
}

Result<std::unique_ptr<store::Store>> OpenAuthorityStore(const AuthorityOptions& options) {
  TS_ASSIGN_OR_RETURN(const std::string role, AuthorityStoreRole(options.subject_id));
  std::unique_ptr<store::Store> store;
  if (!options.postgres_url.empty()) {
    TS_ASSIGN_OR_RETURN(store, store::OpenPostgres(options.postgres_url, role));
  } else {
    TS_ASSIGN_OR_RETURN(store, store::OpenSqlite(options.data_dir, role));
  }
  TS_RETURN_IF_ERROR(
      store::ApplyMigrations(*store, Migrations()).WithContext("dcep certificate authority schema"));
  return store;
}

Bytes SealAssociatedData(std::string_view subject_id) {
  Bytes ad(kKeySealContext.begin(), kKeySealContext.end());
  ad.push_back(0x00);
  ad.insert(ad.end(), subject_id.begin(), subject_id.end());
  return ad;
}

// The authority's key and (if any) its own certificate, loaded from or created in the store.
struct KeyRecord {
  crypto::PrivateKey key;
  Bytes public_key_raw;
  Bytes certificate;  // empty until installed (operator) / issued (root)
};

Result<KeyRecord> LoadOrCreateKey(store::Store& store, const AuthorityOptions& options,
                                  const crypto::SecretBytes& kek, std::int64_t now_ms) {
  const Bytes ad = SealAssociatedData(options.subject_id);
  Result<store::Row> row = store.QueryRow(
      "SELECT scheme, sealed_pkcs8, nonce, public_key, certificate FROM dcep_ca_key "
      "WHERE subject_id = ?",
      {options.subject_id});
  if (row.ok()) {
    TS_ASSIGN_OR_RETURN(const std::int64_t scheme_byte, row->GetInt64("scheme"));
    TS_ASSIGN_OR_RETURN(const Bytes sealed, row->GetBlob("sealed_pkcs8"));
    TS_ASSIGN_OR_RETURN(const Bytes nonce, row->GetBlob("nonce"));
    TS_ASSIGN_OR_RETURN(Bytes public_key, row->GetBlob("public_key"));
    TS_ASSIGN_OR_RETURN(const std::optional<Bytes> cert, row->GetOptionalBlob("certificate"));
    if (scheme_byte < 0 || scheme_byte > 0xFF) return Corruption("dcep_ca_key.scheme: out of range");
    TS_ASSIGN_OR_RETURN(const crypto::SignatureScheme scheme,
                        dcep_wire::SchemeFromByte(static_cast<std::uint8_t>(scheme_byte)));
    Result<Bytes> pkcs8 = crypto::AesGcmOpen(kek, nonce, sealed, ad);
    if (!pkcs8.ok()) {
      return CryptoFailure("dcep_ca_key: the stored key of " + options.subject_id +
                           " does not unseal (wrong key-encryption key?)");
    }
    crypto::SecretBytes secret(std::move(*pkcs8));
    TS_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::FromPkcs8Der(secret.reveal()));
    if (key.scheme() != scheme) return Corruption("dcep_ca_key: scheme does not match the key");
    return KeyRecord{std::move(key), std::move(public_key), cert.value_or(Bytes{})};
  }
  if (row.status().code() != ErrorCode::kNotFound) return row.status();

  TS_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(options.scheme));
  TS_ASSIGN_OR_RETURN(Bytes public_key, key.public_key().ToRaw());
  TS_ASSIGN_OR_RETURN(const crypto::SecretBytes pkcs8, key.ToPkcs8Der());
  Bytes nonce(crypto::kGcmNonceBytes);
  crypto::Csprng csprng;
  TS_RETURN_IF_ERROR(csprng.Fill(nonce));
  TS_ASSIGN_OR_RETURN(Bytes sealed, crypto::AesGcmSeal(kek, nonce, pkcs8.reveal(), ad));
  // Two processes opening at once: the second insert loses (kAlreadyExists) and re-reads.
  Result<std::int64_t> inserted = store.Execute(
      "INSERT INTO dcep_ca_key (subject_id, scheme, sealed_pkcs8, nonce, public_key, "
      "certificate, created_unix_ms) VALUES (?, ?, ?, ?, ?, NULL, ?) "
      "ON CONFLICT (subject_id) DO NOTHING",
      {options.subject_id, std::int64_t{dcep_wire::SchemeByte(options.scheme)}, std::move(sealed),
       nonce, public_key, now_ms});
  TS_RETURN_IF_ERROR(inserted.status());
  if (*inserted == 0) return LoadOrCreateKey(store, options, kek, now_ms);
  return KeyRecord{std::move(key), std::move(public_key), {}};
}

// Next serial of this authority, inside the caller's transaction.
Result<std::uint64_t> NextSerial(store::Store& store) {
  TS_RETURN_IF_ERROR(store
                         .Execute("INSERT INTO dcep_ca_sequences (name, next_value) VALUES (?, 1) "
                                  "ON CONFLICT (name) DO NOTHING",
                                  {std::string(kSerialSequence)})
                         .status());
  TS_ASSIGN_OR_RETURN(const store::Row row,
                      store.QueryRow("SELECT next_value FROM dcep_ca_sequences WHERE name = ?",
                                     {std::string(kSerialSequence)}));
  TS_ASSIGN_OR_RETURN(const std::int64_t serial, row.GetInt64("next_value"));
  TS_RETURN_IF_ERROR(store
                         .Execute("UPDATE dcep_ca_sequences SET next_value = ? WHERE name = ?",
                                  {serial + 1, std::string(kSerialSequence)})
                         .status());
  return static_cast<std::uint64_t>(serial);
}

// Allocates a serial, signs `body` (serial filled in) and records the certificate, all in one
// transaction. `also` runs inside it with the issued bytes (device row, key row).
Result<Bytes> IssueAndRecord(store::Store& store, CertificateBody body,
                             const crypto::PrivateKey& issuer_key, std::int64_t now_ms,
                             const std::function<Status(store::Store&, const Bytes&,
                                                        std::uint64_t serial)>& also = {}) {
  Bytes issued;
  TS_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(body.serial, NextSerial(s));
    TS_ASSIGN_OR_RETURN(issued, dcep_wire::IssueCertificate(body, issuer_key));
    TS_RETURN_IF_ERROR(
        s.Execute("INSERT INTO dcep_ca_issued (serial, subject_id, role, certificate, "
                  "not_after_unix_s, issued_unix_ms) VALUES (?, ?, ?, ?, ?, ?)",
                  {static_cast<std::int64_t>(body.serial), body.subject_id,
                   std::int64_t{static_cast<std::uint8_t>(body.role)}, issued,
                   body.not_after_unix_s, now_ms})
            .status());
    if (also) TS_RETURN_IF_ERROR(also(s, issued, body.serial));
    return Status::Ok();
  }));
  return issued;
}

crypto::SecretBytes KekOf(const AuthorityOptions& options) {
  if (!options.key_encryption_key.empty()) return options.key_encryption_key.Clone();
  return DemoDcepIdKey("ca_" + options.subject_id);
}

Status CheckKek(const crypto::SecretBytes& kek) {
  if (kek.size() != kCaKeyEncryptionKeyBytes) {
    return InvalidArgument("key_encryption_key: expected 32 bytes, got " +
                           std::to_string(kek.size()));
  }
  return Status::Ok();
}

constexpr std::string_view kSelectNetworkRevocation =
    "SELECT issuer_id, device_id, serial, reason, not_after_unix_s, revoked_unix_ms, "
    "network_version FROM dcep_ca_network_revocations ";

Result<NetworkRevocation> NetworkRevocationOf(const store::Row& row) {
  NetworkRevocation e;
  TS_ASSIGN_OR_RETURN(e.issuer_id, row.GetText("issuer_id"));
  TS_ASSIGN_OR_RETURN(e.device_id, row.GetText("device_id"));
  TS_ASSIGN_OR_RETURN(const std::int64_t serial, row.GetInt64("serial"));
  TS_ASSIGN_OR_RETURN(e.reason, row.GetText("reason"));
  TS_ASSIGN_OR_RETURN(e.not_after_unix_s, row.GetInt64("not_after_unix_s"));
  TS_ASSIGN_OR_RETURN(e.revoked_unix_ms, row.GetInt64("revoked_unix_ms"));
  TS_ASSIGN_OR_RETURN(const std::int64_t version, row.GetInt64("network_version"));
  e.serial = static_cast<std::uint64_t>(serial);
  e.network_version = static_cast<std::uint32_t>(version);
  return e;
}

// Records `e` under its network_version unless (issuer, device) is there; inside a transaction.
Status InsertNetworkRevocation(store::Store& s, const NetworkRevocation& e) {
  return s
      .Execute("INSERT INTO dcep_ca_network_revocations (issuer_id, device_id, serial, reason, "
               "not_after_unix_s, revoked_unix_ms, network_version) VALUES (?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (issuer_id, device_id) DO NOTHING",
               {e.issuer_id, e.device_id, static_cast<std::int64_t>(e.serial), e.reason,
                e.not_after_unix_s, e.revoked_unix_ms, std::int64_t{e.network_version}})
      .status();
}

Result<std::int64_t> MaxNetworkVersion(store::Store& s) {
  TS_ASSIGN_OR_RETURN(const store::Row row,
                      s.QueryRow("SELECT COALESCE(MAX(network_version), 0) AS version "
                                 "FROM dcep_ca_network_revocations"));
  return row.GetInt64("version");
}

}  // namespace

const OfflineCapsTable& DefaultOfflineCapsTable() {
  static const OfflineCapsTable table = {
      OfflineCaps{1'000'000, 500'000, 100, 2'000'000, 14 * kSecondsPerDay},  // tier 1
      OfflineCaps{500'000, 200'000, 50, 1'000'000, 7 * kSecondsPerDay},      // tier 2
      OfflineCaps{200'000, 100'000, 30, 500'000, 7 * kSecondsPerDay},        // tier 3
      OfflineCaps{100'000, 50'000, 20, 200'000, 3 * kSecondsPerDay},         // tier 4
  };
  return table;
}

Result<std::string> AuthorityStoreRole(std::string_view subject_id) {
  TS_RETURN_IF_ERROR(CheckOperatorId("subject_id", subject_id));
  return "dcep_ca_" + std::string(subject_id);
}

// ---- RootAuthority ------------------------------------------------------------------------------

struct RootAuthority::Impl {
  mutable std::mutex mu;
  AuthorityOptions options;
  std::unique_ptr<store::Store> store;
  crypto::PrivateKey key;
  Certificate certificate;
  crypto::PublicKey public_key;
};

RootAuthority::RootAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RootAuthority::~RootAuthority() = default;

Result<std::unique_ptr<RootAuthority>> RootAuthority::Open(AuthorityOptions options) {
  const crypto::SecretBytes kek = KekOf(options);
  TS_RETURN_IF_ERROR(CheckKek(kek));
  TS_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenAuthorityStore(options));
  const std::int64_t now_ms = ClockOf(options.clock).NowUnixMillis();
  TS_ASSIGN_OR_RETURN(KeyRecord record, LoadOrCreateKey(*store, options, kek, now_ms));
  if (record.certificate.empty()) {
    CertificateBody body;
    body.issuer_id = options.subject_id;
    body.subject_id = options.subject_id;
    body.role = CertificateRole::kRoot;
    body.scheme = record.key.scheme();
    body.public_key = record.public_key_raw;
    body.not_after_unix_s = now_ms / 1000 + kRootCertificateValidityDaysDefault * kSecondsPerDay;
    const std::string subject = options.subject_id;
    TS_ASSIGN_OR_RETURN(
        record.certificate,
        IssueAndRecord(*store, body, record.key, now_ms,
                       [&](store::Store& s, const Bytes& issued, std::uint64_t) -> Status {
                         return s
                             .Execute("UPDATE dcep_ca_key SET certificate = ? WHERE subject_id = ?",
                                      {issued, subject})
                             .status();
                       }));
  }
  TS_ASSIGN_OR_RETURN(Certificate cert, dcep_wire::ParseCertificate(record.certificate));
  TS_ASSIGN_OR_RETURN(crypto::PublicKey public_key, cert.PublicKey());
  TS_RETURN_IF_ERROR(dcep_wire::VerifyCertificate(cert, public_key));
  auto impl = std::unique_ptr<Impl>(new Impl{.mu = {},
                                          .options = std::move(options),
                                          .store = std::move(store),
                                          .key = std::move(record.key),
                                          .certificate = std::move(cert),
                                          .public_key = std::move(public_key)});
  return std::unique_ptr<RootAuthority>(new RootAuthority(std::move(impl)));
}

const Certificate& RootAuthority::certificate() const { return impl_->certificate; }
const crypto::PublicKey& RootAuthority::public_key() const { return impl_->public_key; }

Result<Bytes> RootAuthority::IssueOperatorCertificate(std::string_view operator_id,
                                                      crypto::SignatureScheme scheme,
                                                      ByteView public_key_raw, int validity_days) {
  TS_RETURN_IF_ERROR(CheckOperatorId("operator_id", operator_id));
  TS_RETURN_IF_ERROR(CheckValidityDays(validity_days));
  if (!crypto::PublicKey::FromRaw(scheme, public_key_raw).ok()) {
    return InvalidArgument("public_key_raw: not a " +
                           std::string(crypto::SignatureSchemeName(scheme)) + " public key");
  }
  std::lock_guard lock(impl_->mu);
  const std::int64_t now_ms = ClockOf(impl_->options.clock).NowUnixMillis();
  CertificateBody body;
  body.issuer_id = impl_->options.subject_id;
  body.subject_id = std::string(operator_id);
  body.role = CertificateRole::kOperator;
  body.scheme = scheme;
  body.public_key.assign(public_key_raw.begin(), public_key_raw.end());
  body.not_after_unix_s = now_ms / 1000 + validity_days * kSecondsPerDay;
  return IssueAndRecord(*impl_->store, std::move(body), impl_->key, now_ms);
}

Status RootAuthority::Publish(const NetworkRevocation& entry) {
  TS_RETURN_IF_ERROR(CheckOperatorId("issuer_id", entry.issuer_id));
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", entry.device_id));
  if (entry.reason.empty()) return InvalidArgument("reason: expected a reason");
  std::lock_guard lock(impl_->mu);
  return impl_->store->RunInTransaction([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(const store::Rows existing,
                        s.Query("SELECT network_version FROM dcep_ca_network_revocations "
                                "WHERE issuer_id = ? AND device_id = ?",
                                {entry.issuer_id, entry.device_id}));
    if (!existing.empty()) return Status::Ok();
    TS_ASSIGN_OR_RETURN(const std::int64_t version, MaxNetworkVersion(s));
    NetworkRevocation numbered = entry;
    numbered.network_version = static_cast<std::uint32_t>(version + 1);
    return InsertNetworkRevocation(s, numbered);
  });
}

Result<std::vector<NetworkRevocation>> RootAuthority::Since(std::uint32_t after_version,
                                                           std::size_t limit) {
  if (limit == 0 || limit > kRegistryPageEntriesMax) {
    return InvalidArgument("limit: expected 1.." + std::to_string(kRegistryPageEntriesMax) +
                           ", got " + std::to_string(limit));
  }
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const store::Rows rows,
                      impl_->store->Query(std::string(kSelectNetworkRevocation) +
                                              "WHERE network_version > ? ORDER BY network_version "
                                              "LIMIT " + std::to_string(limit),
                                          {std::int64_t{after_version}}));
  std::vector<NetworkRevocation> out;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(NetworkRevocation e, NetworkRevocationOf(row));
    out.push_back(std::move(e));
  }
  return out;
}

// ---- OperatorAuthority --------------------------------------------------------------------------

struct OperatorAuthority::Impl {
  mutable std::mutex mu;
  AuthorityOptions options;
  OfflineCapsTable caps;
  std::unique_ptr<store::Store> store;
  crypto::PrivateKey key;
  Bytes public_key_raw;
  Certificate root;
  crypto::PublicKey root_key;
  std::optional<Certificate> certificate;  // the installed operator certificate
  RevocationRegistry* registry = nullptr;

  std::int64_t NowMs() const { return ClockOf(options.clock).NowUnixMillis(); }

  // Publishes the own revocations the registry has not accepted yet, then copies the registry's
  // newer entries into the cache. Stops at the first error (what was done stays done).
  Status SyncRegistryLocked() {
    if (registry == nullptr) return Status::Ok();
    TS_ASSIGN_OR_RETURN(
        const store::Rows unpublished,
        store->Query("SELECT r.device_id, r.serial, r.reason, r.not_after_unix_s, "
                     "r.revoked_unix_ms FROM dcep_ca_revocations r "
                     "JOIN dcep_ca_unpublished u ON u.device_id = r.device_id ORDER BY r.version"));
    for (const store::Row& row : unpublished) {
      NetworkRevocation e;
      e.issuer_id = options.subject_id;
      TS_ASSIGN_OR_RETURN(e.device_id, row.GetText("device_id"));
      TS_ASSIGN_OR_RETURN(const std::int64_t serial, row.GetInt64("serial"));
      e.serial = static_cast<std::uint64_t>(serial);
      TS_ASSIGN_OR_RETURN(e.reason, row.GetText("reason"));
      TS_ASSIGN_OR_RETURN(e.not_after_unix_s, row.GetInt64("not_after_unix_s"));
      TS_ASSIGN_OR_RETURN(e.revoked_unix_ms, row.GetInt64("revoked_unix_ms"));
      TS_RETURN_IF_ERROR(registry->Publish(e));
      TS_RETURN_IF_ERROR(
          store->Execute("DELETE FROM dcep_ca_unpublished WHERE device_id = ?", {e.device_id})
              .status());
    }
    for (;;) {
      TS_ASSIGN_OR_RETURN(const std::int64_t cached, MaxNetworkVersion(*store));
      TS_ASSIGN_OR_RETURN(const std::vector<NetworkRevocation> page,
                          registry->Since(static_cast<std::uint32_t>(cached),
                                          kRegistryPageEntriesMax));
      if (page.empty()) return Status::Ok();
      TS_RETURN_IF_ERROR(store->RunInTransaction([&](store::Store& s) -> Status {
        for (const NetworkRevocation& e : page) TS_RETURN_IF_ERROR(InsertNetworkRevocation(s, e));
        return Status::Ok();
      }));
      if (page.size() < kRegistryPageEntriesMax) return Status::Ok();
    }
  }

  Result<const Certificate*> Installed() const {
    if (!certificate.has_value()) {
      return FailedPrecondition("operator " + options.subject_id +
                                ": no operator certificate installed (InstallCertificate)");
    }
    return &*certificate;
  }

  Result<Certificate> DeviceCertificateLocked(std::string_view device_id) const {
    TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
    Result<store::Row> row = store->QueryRow(
        "SELECT certificate FROM dcep_ca_devices WHERE device_id = ?", {std::string(device_id)});
    if (!row.ok() && row.status().code() == ErrorCode::kNotFound) {
      return NotFound("device_id: " + std::string(device_id) + " has no certificate from operator " +
                      options.subject_id);
    }
    TS_RETURN_IF_ERROR(row.status());
    TS_ASSIGN_OR_RETURN(const Bytes encoded, row->GetBlob("certificate"));
    Result<Certificate> cert = dcep_wire::ParseCertificate(encoded);
    if (!cert.ok()) return Corruption("dcep_ca_devices.certificate: " + cert.status().message());
    return cert;
  }

  Result<bool> IsRevokedLocked(std::string_view device_id) const {
    TS_RETURN_IF_ERROR(CheckDeviceId("device_id", device_id));
    TS_ASSIGN_OR_RETURN(const store::Rows rows,
                        store->Query("SELECT version FROM dcep_ca_revocations WHERE device_id = ?",
                                     {std::string(device_id)}));
    return !rows.empty();
  }
};

OperatorAuthority::OperatorAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OperatorAuthority::~OperatorAuthority() = default;

Result<std::unique_ptr<OperatorAuthority>> OperatorAuthority::Open(
    OperatorAuthorityOptions options) {
  const crypto::SecretBytes kek = KekOf(options.authority);
  TS_RETURN_IF_ERROR(CheckKek(kek));
  Result<Certificate> root = dcep_wire::ParseCertificate(options.root_certificate);
  if (!root.ok()) return root.status().WithContext("root_certificate");
  if (root->body.role != CertificateRole::kRoot) {
    return InvalidArgument("root_certificate: role is " +
                           std::string(dcep_wire::CertificateRoleName(root->body.role)) +
                           ", expected root");
  }
  TS_ASSIGN_OR_RETURN(crypto::PublicKey root_key, root->PublicKey());
  if (!dcep_wire::VerifyCertificate(*root, root_key).ok()) {
    return InvalidArgument("root_certificate: not self-signed");
  }
  for (std::size_t i = 0; i < options.caps.size(); ++i) {
    const OfflineCaps& c = options.caps[i];
    if (c.balance_max_fen < 0 || c.payment_max_fen < 0 || c.value_before_sync_max_fen < 0) {
      return InvalidArgument("caps[tier " + std::to_string(i + 1) + "]: negative cap");
    }
  }
  TS_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenAuthorityStore(options.authority));
  const std::int64_t now_ms = ClockOf(options.authority.clock).NowUnixMillis();
  TS_ASSIGN_OR_RETURN(KeyRecord record, LoadOrCreateKey(*store, options.authority, kek, now_ms));
  std::optional<Certificate> installed;
  if (!record.certificate.empty()) {
    Result<Certificate> cert = dcep_wire::ParseCertificate(record.certificate);
    if (!cert.ok()) return Corruption("dcep_ca_key.certificate: " + cert.status().message());
    installed = std::move(*cert);
  }
  auto impl = std::unique_ptr<Impl>(new Impl{.mu = {},
                                          .options = std::move(options.authority),
                                          .caps = options.caps,
                                          .store = std::move(store),
                                          .key = std::move(record.key),
                                          .public_key_raw = std::move(record.public_key_raw),
                                          .root = std::move(*root),
                                          .root_key = std::move(root_key),
                                          .certificate = std::move(installed),
                                          .registry = options.registry});
  return std::unique_ptr<OperatorAuthority>(new OperatorAuthority(std::move(impl)));
}

const std::string& OperatorAuthority::operator_id() const { return impl_->options.subject_id; }
crypto::SignatureScheme OperatorAuthority::scheme() const { return impl_->key.scheme(); }
const Bytes& OperatorAuthority::public_key_raw() const { return impl_->public_key_raw; }
const crypto::PublicKey& OperatorAuthority::root_public_key() const { return impl_->root_key; }
const Certificate& OperatorAuthority::root_certificate() const { return impl_->root; }

Status OperatorAuthority::InstallCertificate(ByteView operator_certificate) {
  Result<Certificate> cert = dcep_wire::ParseCertificate(operator_certificate);
  if (!cert.ok()) return cert.status().WithContext("operator_certificate");
  const CertificateBody& body = cert->body;
  if (body.role != CertificateRole::kOperator) {
    return InvalidArgument("operator_certificate: role is " +
                           std::string(dcep_wire::CertificateRoleName(body.role)) +
                           ", expected operator");
  }
  if (body.subject_id != impl_->options.subject_id) {
    return InvalidArgument("operator_certificate: subject is " + body.subject_id + ", expected " +
                           impl_->options.subject_id);
  }
  if (body.issuer_id != impl_->root.body.subject_id) {
    return InvalidArgument("operator_certificate: issuer is " + body.issuer_id + ", expected " +
                           impl_->root.body.subject_id);
  }
  if (body.scheme != impl_->key.scheme() || body.public_key != impl_->public_key_raw) {
    return InvalidArgument("operator_certificate: certifies another key than this operator's");
  }
  if (!dcep_wire::VerifyCertificate(*cert, impl_->root_key).ok()) {
    return CryptoFailure("operator_certificate: signature does not verify under the root key");
  }
  std::lock_guard lock(impl_->mu);
  if (body.not_after_unix_s < impl_->NowMs() / 1000) {
    return OutOfRange("operator_certificate: expired at " + std::to_string(body.not_after_unix_s));
  }
  TS_RETURN_IF_ERROR(impl_->store
                         ->Execute("UPDATE dcep_ca_key SET certificate = ? WHERE subject_id = ?",
                                   {cert->encoded, impl_->options.subject_id})
                         .status());
  impl_->certificate = std::move(*cert);
  return Status::Ok();
}

Result<Certificate> OperatorAuthority::OperatorCertificate() const {
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const dcep_wire::Certificate* cert, impl_->Installed());
  return *cert;
}

Result<Bytes> OperatorAuthority::IssueDeviceCertificate(const DeviceCertificateRequest& request) {
  TS_RETURN_IF_ERROR(CheckDeviceId("device_id", request.device_id));
  if (request.tier < kTierHighest || request.tier > kTierLowest) {
    return InvalidArgument("tier: expected 1-4, got " + std::to_string(request.tier));
  }
  TS_RETURN_IF_ERROR(CheckValidityDays(request.validity_days));
  if (!crypto::PublicKey::FromRaw(request.scheme, request.public_key_raw).ok()) {
    return InvalidArgument("public_key_raw: not a " +
                           std::string(crypto::SignatureSchemeName(request.scheme)) +
                           " public key");
  }
  std::lock_guard lock(impl_->mu);
  TS_RETURN_IF_ERROR(impl_->Installed().status());
  TS_ASSIGN_OR_RETURN(const bool revoked, impl_->IsRevokedLocked(request.device_id));
  if (revoked) {
    return FailedPrecondition("device_id: " + request.device_id +
                              " is revoked; no new certificate");
  }
  const std::int64_t now_ms = impl_->NowMs();
  const OfflineCaps& caps = impl_->caps[static_cast<std::size_t>(request.tier - 1)];
  CertificateBody body;
  body.issuer_id = impl_->options.subject_id;
  body.subject_id = request.device_id;
  body.role = CertificateRole::kDevice;
  body.scheme = request.scheme;
  body.public_key = request.public_key_raw;
  body.not_after_unix_s = now_ms / 1000 + request.validity_days * kSecondsPerDay;
  body.tier = static_cast<std::uint8_t>(request.tier);
  body.offline_balance_max_fen = caps.balance_max_fen;
  body.offline_payment_max_fen = caps.payment_max_fen;
  body.offline_payments_before_sync_max = caps.payments_before_sync_max;
  body.offline_value_before_sync_max_fen = caps.value_before_sync_max_fen;
  body.offline_unsynced_max_age_s = caps.unsynced_max_age_s;
  const std::int64_t not_after = body.not_after_unix_s;
  return IssueAndRecord(
      *impl_->store, std::move(body), impl_->key, now_ms,
      [&](store::Store& s, const Bytes& issued, std::uint64_t serial) -> Status {
        // A renewal keeps the load sequence: the applet's last accepted sequence does not reset.
        return s
            .Execute(
                "INSERT INTO dcep_ca_devices (device_id, serial, tier, certificate, "
                "not_after_unix_s, load_sequence, updated_unix_ms) VALUES (?, ?, ?, ?, ?, 0, ?) "
                "ON CONFLICT (device_id) DO UPDATE SET serial = excluded.serial, "
                "tier = excluded.tier, certificate = excluded.certificate, "
                "not_after_unix_s = excluded.not_after_unix_s, "
                "updated_unix_ms = excluded.updated_unix_ms",
                {request.device_id, static_cast<std::int64_t>(serial),
                 std::int64_t{request.tier}, issued, not_after, now_ms})
            .status();
      });
}

Result<Certificate> OperatorAuthority::DeviceCertificate(std::string_view device_id) const {
  std::lock_guard lock(impl_->mu);
  return impl_->DeviceCertificateLocked(device_id);
}

Result<Bytes> OperatorAuthority::DeviceChain(std::string_view device_id) const {
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const dcep_wire::Certificate* op, impl_->Installed());
  TS_ASSIGN_OR_RETURN(dcep_wire::Certificate device, impl_->DeviceCertificateLocked(device_id));
  return dcep_wire::EncodeCertificateChain({std::move(device), *op});
}

Result<Bytes> OperatorAuthority::SignLoadOrder(std::string_view device_id, std::int64_t amount_fen,
                                               std::string_view idempotency_key) {
  if (idempotency_key.empty() || idempotency_key.size() > kLoadIdempotencyKeyBytesMax) {
    return InvalidArgument("idempotency_key: expected 1-128 bytes");
  }
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const dcep_wire::Certificate* op, impl_->Installed());
  TS_ASSIGN_OR_RETURN(const dcep_wire::Certificate device_cert,
                      impl_->DeviceCertificateLocked(device_id));
  const std::string device(device_id);
  const std::string key(idempotency_key);
  // A retry first: the same order again, whatever happened to the device since.
  TS_ASSIGN_OR_RETURN(const store::Rows previous,
                      impl_->store->Query("SELECT amount_fen, load_order FROM dcep_ca_loads "
                                          "WHERE device_id = ? AND idempotency_key = ?",
                                          {device, key}));
  if (!previous.empty()) {
    TS_ASSIGN_OR_RETURN(const std::int64_t amount, previous[0].GetInt64("amount_fen"));
    if (amount != amount_fen) return AlreadyExists(std::string(kKeyReusedMessage));
    return previous[0].GetBlob("load_order");
  }
  if (amount_fen <= 0 || amount_fen > device_cert.body.offline_balance_max_fen) {
    return InvalidArgument("amount_fen: expected 1.." +
                           std::to_string(device_cert.body.offline_balance_max_fen) +
                           " (the device's offline balance cap), got " +
                           std::to_string(amount_fen));
  }
  TS_ASSIGN_OR_RETURN(const bool revoked, impl_->IsRevokedLocked(device_id));
  if (revoked) return FailedPrecondition("device_id: " + device + " is revoked; no load");
  const std::int64_t now_ms = impl_->NowMs();
  Bytes order;
  TS_RETURN_IF_ERROR(impl_->store->RunInTransaction([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(const store::Row row,
                        s.QueryRow("SELECT load_sequence FROM dcep_ca_devices WHERE device_id = ?",
                                   {device}));
    TS_ASSIGN_OR_RETURN(const std::int64_t last, row.GetInt64("load_sequence"));
    if (last >= 0xFFFF'FFFFLL) return OutOfRange("load_sequence: exhausted for " + device);
    dcep_wire::LoadOrderBody body;
    body.device_id = device;
    body.load_sequence = static_cast<std::uint32_t>(last + 1);
    body.amount_fen = amount_fen;
    body.currency_numeric = dcep_wire::kCnyCurrencyNumeric;
    body.operator_certificate_serial = op->body.serial;
    TS_ASSIGN_OR_RETURN(order, dcep_wire::IssueLoadOrder(body, impl_->key));
    TS_RETURN_IF_ERROR(
        s.Execute("UPDATE dcep_ca_devices SET load_sequence = ?, updated_unix_ms = ? "
                  "WHERE device_id = ?",
                  {last + 1, now_ms, device})
            .status());
    return s
        .Execute("INSERT INTO dcep_ca_loads (device_id, idempotency_key, amount_fen, "
                 "load_sequence, load_order, created_unix_ms) VALUES (?, ?, ?, ?, ?, ?)",
                 {device, key, amount_fen, last + 1, order, now_ms})
        .status();
  }));
  return order;
}

Result<Bytes> OperatorAuthority::IssueSyncAck(std::string_view device_id,
                                              std::uint32_t log_sequence_acknowledged) {
  std::lock_guard lock(impl_->mu);
  TS_RETURN_IF_ERROR(impl_->Installed().status());
  TS_RETURN_IF_ERROR(impl_->DeviceCertificateLocked(device_id).status());
  const std::int64_t now_ms = impl_->NowMs();
  dcep_wire::SyncAckBody body;
  body.device_id = std::string(device_id);
  body.log_sequence_acknowledged = log_sequence_acknowledged;
  body.operator_time_unix_s = now_ms / 1000;
  // The registry may be unreachable: the cache of its entries (and our own list) still go out,
  // and the device gets the rest at a later sync.
  (void)impl_->SyncRegistryLocked();
  // Only devices whose certificate is still valid need listing: payees refuse expired ones. Our
  // own revocations first (they may not have reached the registry yet), then the network's,
  // newest first, up to the wire's limit.
  const std::string limit = " LIMIT " + std::to_string(dcep_wire::kRevokedDevicesMax);
  TS_ASSIGN_OR_RETURN(
      const store::Rows own,
      impl_->store->Query("SELECT device_id FROM dcep_ca_revocations WHERE not_after_unix_s >= ? "
                          "ORDER BY version DESC" + limit,
                          {now_ms / 1000}));
  for (const store::Row& row : own) {
    TS_ASSIGN_OR_RETURN(std::string id, row.GetText("device_id"));
    body.revoked.push_back({impl_->options.subject_id, std::move(id)});
  }
  TS_ASSIGN_OR_RETURN(
      const store::Rows network,
      impl_->store->Query("SELECT issuer_id, device_id FROM dcep_ca_network_revocations "
                          "WHERE issuer_id <> ? AND not_after_unix_s >= ? "
                          "ORDER BY network_version DESC" + limit,
                          {impl_->options.subject_id, now_ms / 1000}));
  for (const store::Row& row : network) {
    if (body.revoked.size() >= dcep_wire::kRevokedDevicesMax) break;
    dcep_wire::RevokedDevice d;
    TS_ASSIGN_OR_RETURN(d.issuer_id, row.GetText("issuer_id"));
    TS_ASSIGN_OR_RETURN(d.device_id, row.GetText("device_id"));
    body.revoked.push_back(std::move(d));
  }
  // Both parts only grow, so their sum never goes back: the applet refuses an older version.
  TS_ASSIGN_OR_RETURN(const store::Row version,
                      impl_->store->QueryRow("SELECT COALESCE(MAX(version), 0) AS version "
                                             "FROM dcep_ca_revocations"));
  TS_ASSIGN_OR_RETURN(const std::int64_t own_version, version.GetInt64("version"));
  TS_ASSIGN_OR_RETURN(const std::int64_t network_version, MaxNetworkVersion(*impl_->store));
  body.revocation_list_version = static_cast<std::uint32_t>(own_version + network_version);
  return dcep_wire::IssueSyncAck(body, impl_->key);
}

Status OperatorAuthority::Revoke(std::string_view device_id, std::string_view reason) {
  if (reason.empty()) return InvalidArgument("reason: expected a reason");
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const dcep_wire::Certificate cert, impl_->DeviceCertificateLocked(device_id));
  const std::int64_t now_ms = impl_->NowMs();
  TS_RETURN_IF_ERROR(impl_->store->RunInTransaction([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(const store::Rows existing,
                        s.Query("SELECT version FROM dcep_ca_revocations WHERE device_id = ?",
                                {std::string(device_id)}));
    if (!existing.empty()) return Status::Ok();
    TS_ASSIGN_OR_RETURN(const store::Row row,
                        s.QueryRow("SELECT COALESCE(MAX(version), 0) AS version "
                                   "FROM dcep_ca_revocations"));
    TS_ASSIGN_OR_RETURN(const std::int64_t version, row.GetInt64("version"));
    TS_RETURN_IF_ERROR(
        s.Execute("INSERT INTO dcep_ca_revocations (device_id, serial, reason, version, "
                  "not_after_unix_s, revoked_unix_ms) VALUES (?, ?, ?, ?, ?, ?)",
                  {std::string(device_id), static_cast<std::int64_t>(cert.body.serial),
                   std::string(reason), version + 1, cert.body.not_after_unix_s, now_ms})
            .status());
    return s.Execute("INSERT INTO dcep_ca_unpublished (device_id) VALUES (?)",
                     {std::string(device_id)})
        .status();
  }));
  // Durable here; the registry hears of it now or at the next sync acknowledgement.
  (void)impl_->SyncRegistryLocked();
  return Status::Ok();
}

Status OperatorAuthority::SyncWithRegistry() {
  std::lock_guard lock(impl_->mu);
  return impl_->SyncRegistryLocked();
}

Result<std::vector<NetworkRevocation>> OperatorAuthority::NetworkRevocations() const {
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const store::Rows rows,
                      impl_->store->Query(std::string(kSelectNetworkRevocation) +
                                          "ORDER BY network_version DESC"));
  std::vector<NetworkRevocation> out;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(NetworkRevocation e, NetworkRevocationOf(row));
    out.push_back(std::move(e));
  }
  return out;
}

Result<bool> OperatorAuthority::IsRevoked(std::string_view device_id) const {
  std::lock_guard lock(impl_->mu);
  return impl_->IsRevokedLocked(device_id);
}

Result<RevocationList> OperatorAuthority::CurrentRevocationList() const {
  std::lock_guard lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(const store::Rows rows,
                      impl_->store->Query("SELECT device_id, serial, reason, version, "
                                          "revoked_unix_ms FROM dcep_ca_revocations "
                                          "ORDER BY version DESC"));
  RevocationList list;
  for (const store::Row& row : rows) {
    RevocationEntry e;
    TS_ASSIGN_OR_RETURN(e.device_id, row.GetText("device_id"));
    TS_ASSIGN_OR_RETURN(const std::int64_t serial, row.GetInt64("serial"));
    TS_ASSIGN_OR_RETURN(e.reason, row.GetText("reason"));
    TS_ASSIGN_OR_RETURN(const std::int64_t version, row.GetInt64("version"));
    TS_ASSIGN_OR_RETURN(e.revoked_unix_ms, row.GetInt64("revoked_unix_ms"));
    e.serial = static_cast<std::uint64_t>(serial);
    e.version = static_cast<std::uint32_t>(version);
    list.entries.push_back(std::move(e));
  }
  if (!list.entries.empty()) list.version = list.entries.front().version;
  return list;
}

}  // namespace tapstack::dcep
