#include "tsp/token_vault.h"

#include <array>

#include "core/hex.h"
#include "crypto/aead.h"
#include "crypto/mac.h"
#include "tsp/schema.h"
#include "tsp/store_transaction.h"
#include "tsp/token_expiry.h"

namespace tapstack::tsp {

namespace {

constexpr std::string_view kPanDomain = "tapstack-pan-v1";
constexpr std::string_view kFingerprintDomain = "tapstack-pan-fingerprint-v1";
constexpr std::string_view kTokenIdPrefix = "tok_";
constexpr std::size_t kTokenIdRandomBytes = 16;  // 128 bits: unguessable, collision-free
// Rough heap cost of one cached DEK: key and wrapped bytes plus the map node.
constexpr std::size_t kCachedDekBytesEstimate = 192;

const char* const kRecordColumns =
    "token_id, token_number, token_expiry, par, masked_pan, requestor_id, device_id, state, "
    "suspended_by, dek_version, created_unix_ms, updated_unix_ms";

// A wiped-on-destruction buffer for PAN plaintext.
struct Plaintext {
  Bytes bytes;
  ~Plaintext() { SecureWipe(bytes.data(), bytes.size()); }
};

Bytes PanAssociatedData(std::int64_t dek_version, std::string_view token_id) {
  Bytes ad(kPanDomain.begin(), kPanDomain.end());
  ad.push_back(0x00);
  const Bytes v = UintToBytes(static_cast<std::uint64_t>(dek_version), 8);
  ad.insert(ad.end(), v.begin(), v.end());
  ad.insert(ad.end(), token_id.begin(), token_id.end());
  return ad;
}

struct SealedPan {
  Bytes nonce;
  Bytes ciphertext;
};

Result<SealedPan> SealPlaintext(const DataKeyRef& dek, RandomSource& random,
                                std::string_view token_id, ByteView plaintext) {
  SealedPan out;
  out.nonce.resize(crypto::kGcmNonceBytes);
  TS_RETURN_IF_ERROR(random.Fill(out.nonce));
  TS_ASSIGN_OR_RETURN(out.ciphertext, crypto::AesGcmSeal(*dek.key, out.nonce, plaintext,
                                                         PanAssociatedData(dek.version, token_id)));
  return out;
}

Result<SealedPan> SealPan(const DataKeyRef& dek, RandomSource& random, std::string_view token_id,
                          const Pan& pan, std::string_view pan_expiry) {
  // PAN ‖ "=" ‖ YYMM: the track-2 field separator, unambiguous since both parts are digits.
  Plaintext p;
  p.bytes.reserve(pan.length() + 1 + pan_expiry.size());
  p.bytes.insert(p.bytes.end(), pan.reveal().begin(), pan.reveal().end());
  p.bytes.push_back('=');
  p.bytes.insert(p.bytes.end(), pan_expiry.begin(), pan_expiry.end());
  return SealPlaintext(dek, random, token_id, p.bytes);
}

Status OpenFailure(std::string_view token_id, std::int64_t version, const Status& cause) {
  return CryptoFailure(
      "token " + std::string(token_id) + ": PAN record does not decrypt under data key version " +
      std::to_string(version) +
      " (tampered ciphertext, nonce, associated data or key version): " + cause.message());
}

Status ValidateText(std::string_view field, std::string_view value, std::size_t bytes_max,
                    bool allow_empty, bool allow_space) {
  if (!allow_empty && value.empty()) return InvalidArgument(std::string(field) + " is empty");
  if (value.size() > bytes_max) {
    return InvalidArgument(std::string(field) + " has " + std::to_string(value.size()) +
                           " bytes; at most " + std::to_string(bytes_max));
  }
  for (char c : value) {
    if (c < (allow_space ? 0x20 : 0x21) || c > 0x7E) {
      return InvalidArgument(std::string(field) + " must be printable ASCII" +
                             (allow_space ? "" : " without spaces"));
    }
  }
  return Status::Ok();
}

Result<std::string> NewTokenId(RandomSource& random) {
  // Letters a-p (one per nibble) rather than hex: a token id never contains digits, so it cannot be
  // mistaken for a card number and never trips the audit log's digit-run guard.
  std::array<std::uint8_t, kTokenIdRandomBytes> raw{};
  TS_RETURN_IF_ERROR(random.Fill(raw));
  std::string id(kTokenIdPrefix);
  for (std::uint8_t b : raw) {
    id += static_cast<char>('a' + (b >> 4));
    id += static_cast<char>('a' + (b & 0x0F));
  }
  return id;
}

Result<TokenRecord> RecordFromRow(const store::Row& row) {
  TokenRecord r;
  TS_ASSIGN_OR_RETURN(r.token_id, row.GetText("token_id"));
  TS_ASSIGN_OR_RETURN(r.token_number, row.GetText("token_number"));
  TS_ASSIGN_OR_RETURN(r.token_expiry, row.GetText("token_expiry"));
  TS_ASSIGN_OR_RETURN(r.par, row.GetText("par"));
  TS_ASSIGN_OR_RETURN(r.masked_pan, row.GetText("masked_pan"));
  TS_ASSIGN_OR_RETURN(r.requestor_id, row.GetText("requestor_id"));
  TS_ASSIGN_OR_RETURN(r.device_id, row.GetText("device_id"));
  TS_ASSIGN_OR_RETURN(std::string state, row.GetText("state"));
  TS_ASSIGN_OR_RETURN(r.state, ParseTokenState(state));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> by, row.GetOptionalText("suspended_by"));
  if (by) {
    TS_ASSIGN_OR_RETURN(InitiatorKind kind, ParseInitiatorKind(*by));
    r.suspended_by = kind;
  }
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> v, row.GetOptionalInt64("dek_version"));
  r.dek_version = v.value_or(0);
  TS_ASSIGN_OR_RETURN(r.created_unix_ms, row.GetInt64("created_unix_ms"));
  TS_ASSIGN_OR_RETURN(r.updated_unix_ms, row.GetInt64("updated_unix_ms"));
  return r;
}

std::optional<std::string> OptionalKindName(std::optional<InitiatorKind> kind) {
  if (!kind) return std::nullopt;
  return std::string(InitiatorKindName(*kind));
}

}  // namespace

Result<Bytes> PanFingerprint(const crypto::SecretBytes& fingerprint_key, const Pan& pan) {
  if (fingerprint_key.size() != kFingerprintKeyBytes) {
    return InvalidArgument("fingerprint_key must be 32 bytes");
  }
  Plaintext input;
  input.bytes.assign(kFingerprintDomain.begin(), kFingerprintDomain.end());
  input.bytes.push_back(0x00);
  input.bytes.insert(input.bytes.end(), pan.reveal().begin(), pan.reveal().end());
  return crypto::HmacSha256(fingerprint_key, input.bytes);
}

Result<std::unique_ptr<TokenVault>> TokenVault::Open(store::Store& store, TokenVaultKeys keys,
                                                     const TokenVaultOptions& options) {
  if (options.clock == nullptr) return InvalidArgument("options.clock is required");
  if (options.random == nullptr) return InvalidArgument("options.random is required");
  if (options.token_numbers == nullptr) return InvalidArgument("options.token_numbers is required");
  if (options.par == nullptr) return InvalidArgument("options.par is required");
  if (options.token_validity_months < 1 ||
      options.token_validity_months > kTokenValidityMonthsMax) {
    return InvalidArgument("options.token_validity_months must be 1-" +
                           std::to_string(kTokenValidityMonthsMax));
  }
  if (keys.fingerprint_key.size() != kFingerprintKeyBytes) {
    return InvalidArgument("keys.fingerprint_key must be 32 bytes; got " +
                           std::to_string(keys.fingerprint_key.size()));
  }
  std::unique_ptr<TokenVault> vault(
      new TokenVault(store, std::move(keys.fingerprint_key), options));
  TS_ASSIGN_OR_RETURN(
      vault->keys_, DataKeyRing::Open(store, std::move(keys.kek), *options.random, *options.clock));
  TS_ASSIGN_OR_RETURN(vault->audit_, AuditLog::Open(store, *options.clock));
  return vault;
}

Status TokenVault::RunAudited(const std::function<Status(store::Store&)>& fn) {
  return RunInTransactionOrJoin(store_, [&](store::Store& s) -> Status {
    TS_RETURN_IF_ERROR(audit_->LockChainInTransaction());
    return fn(s);
  });
}

Result<TokenRecord> TokenVault::LoadInTransaction(std::string_view column, std::string_view value) {
  Result<store::Row> row =
      store_.QueryRow(std::string("SELECT ") + kRecordColumns + " FROM tsp_tokens WHERE " +
                          std::string(column) + " = ?",
                      {value});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) {
      // Never echo a token number: it is a card-number-shaped credential.
      return NotFound(column == "token_id" ? "no token with id " + std::string(value)
                                           : "no token with this token number");
    }
    return row.status();
  }
  return RecordFromRow(*row);
}

Result<TokenRecord> TokenVault::Get(std::string_view token_id) {
  return LoadInTransaction("token_id", token_id);
}

Result<TokenRecord> TokenVault::FindByTokenNumber(std::string_view token_number) {
  return LoadInTransaction("token_number", token_number);
}

Result<std::vector<TokenRecord>> TokenVault::FindByPanFingerprint(const Pan& pan) {
  TS_ASSIGN_OR_RETURN(Bytes fingerprint, PanFingerprint(fingerprint_key_, pan));
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_.Query(std::string("SELECT ") + kRecordColumns +
                                       " FROM tsp_tokens WHERE pan_fingerprint = ? AND state <> "
                                       "'deleted' ORDER BY created_unix_ms, token_id",
                                   {store::Value(fingerprint)}));
  std::vector<TokenRecord> out;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(TokenRecord r, RecordFromRow(row));
    out.push_back(std::move(r));
  }
  return out;
}

Result<TokenizeResult> TokenVault::Tokenize(const Pan& pan, const TokenizeRequest& request) {
  TS_RETURN_IF_ERROR(ValidateYymm(request.pan_expiry, "pan_expiry"));
  const std::int64_t now = options_.clock->NowUnixMillis();
  TS_ASSIGN_OR_RETURN(bool pan_expired, ExpiryHasPassed(request.pan_expiry, now));
  if (pan_expired) return FailedPrecondition("pan_expiry has passed");
  if (request.requestor_id.size() != kTokenRequestorIdDigits ||
      !IsAllDigits(request.requestor_id)) {
    return InvalidArgument("requestor_id must be 11 digits");
  }
  TS_RETURN_IF_ERROR(ValidateText("device_id", request.device_id, kDeviceIdBytesMax, false, false));
  TS_ASSIGN_OR_RETURN(Bytes fingerprint, PanFingerprint(fingerprint_key_, pan));
  TS_ASSIGN_OR_RETURN(std::string par, options_.par->ForPan(pan));
  TS_ASSIGN_OR_RETURN(std::string token_expiry,
                      TokenExpiryFromIssue(now, options_.token_validity_months));

  TokenizeResult result;
  TS_RETURN_IF_ERROR(RunAudited([&](store::Store& s) -> Status {
    // De-duplication: a retried request finds the token it created.
    TS_ASSIGN_OR_RETURN(
        store::Rows existing,
        s.Query(std::string("SELECT ") + kRecordColumns +
                    " FROM tsp_tokens WHERE pan_fingerprint = ? AND requestor_id = ? AND "
                    "device_id = ? AND state <> 'deleted' ORDER BY created_unix_ms LIMIT 1",
                {store::Value(fingerprint), request.requestor_id, request.device_id}));
    if (!existing.empty()) {
      TS_ASSIGN_OR_RETURN(result.record, RecordFromRow(existing[0]));
      result.created = false;
      return Status::Ok();
    }
    TS_ASSIGN_OR_RETURN(DataKeyRef dek_ref, keys_->ActiveKeyInTransaction());
    const DataKeyRef dek = dek_ref;
    TS_ASSIGN_OR_RETURN(std::string token_id, NewTokenId(*options_.random));
    // Taken: used by any token (deleted ones too: a number is never reused), or equal to a PAN the
    // vault holds (its fingerprint matches a live record).
    auto is_taken = [&](std::string_view number) -> Result<bool> {
      TS_ASSIGN_OR_RETURN(
          store::Row row,
          s.QueryRow("SELECT count(*) AS n FROM tsp_tokens WHERE token_number = ?", {number}));
      TS_ASSIGN_OR_RETURN(std::int64_t n, row.GetInt64("n"));
      if (n > 0) return true;
      TS_ASSIGN_OR_RETURN(Pan as_pan, Pan::Parse(number));
      TS_ASSIGN_OR_RETURN(Bytes fp, PanFingerprint(fingerprint_key_, as_pan));
      TS_ASSIGN_OR_RETURN(
          store::Row pan_row,
          s.QueryRow("SELECT count(*) AS n FROM tsp_tokens WHERE pan_fingerprint = ?",
                     {store::Value(fp)}));
      TS_ASSIGN_OR_RETURN(std::int64_t pans, pan_row.GetInt64("n"));
      return pans > 0;
    };
    TS_ASSIGN_OR_RETURN(std::string number,
                        options_.token_numbers->Generate(*options_.random, is_taken));
    TS_ASSIGN_OR_RETURN(SealedPan sealed,
                        SealPan(dek, *options_.random, token_id, pan, request.pan_expiry));
    TokenRecord r;
    r.token_id = token_id;
    r.token_number = number;
    r.token_expiry = token_expiry;
    r.par = par;
    r.masked_pan = pan.Masked();
    r.requestor_id = request.requestor_id;
    r.device_id = request.device_id;
    r.state = TokenState::kInactive;
    r.dek_version = dek.version;
    r.created_unix_ms = now;
    r.updated_unix_ms = now;
    TS_RETURN_IF_ERROR(
        s.Execute("INSERT INTO tsp_tokens (token_id, token_number, token_expiry, par, masked_pan, "
                  "pan_fingerprint, pan_ciphertext, pan_nonce, dek_version, requestor_id, "
                  "device_id, state, suspended_by, created_unix_ms, updated_unix_ms) VALUES (?, ?, "
                  "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                  {r.token_id, r.token_number, r.token_expiry, r.par, r.masked_pan,
                   store::Value(fingerprint), store::Value(sealed.ciphertext),
                   store::Value(sealed.nonce), r.dek_version, r.requestor_id, r.device_id,
                   std::string(TokenStateName(r.state)), r.created_unix_ms, r.updated_unix_ms})
            .status());
    TS_RETURN_IF_ERROR(
        audit_
            ->AppendInTransaction({.actor = "wallet:" + request.requestor_id,
                                   .action = "tokenize",
                                   .subject = r.token_id,
                                   .detail = "dek_version=" + std::to_string(r.dek_version)})
            .status());
    result.record = std::move(r);
    result.created = true;
    return Status::Ok();
  }));
  return result;
}

Result<DetokenizedPan> TokenVault::Detokenize(std::string_view token_number,
                                              const DetokenizeRequest& request) {
  TS_RETURN_IF_ERROR(ValidateText("purpose", request.purpose, kReasonBytesMax, false, true));
  TS_RETURN_IF_ERROR(ValidateAuditEvent({.actor = request.actor,
                                         .action = "detokenize",
                                         .subject = "",
                                         .detail = "purpose=" + request.purpose}));
  std::optional<DetokenizedPan> out;
  Status refusal;
  TS_RETURN_IF_ERROR(RunAudited([&](store::Store&) -> Status {
    return DetokenizeInTransaction(token_number, request, out, refusal);
  }));
  if (!refusal.ok()) return refusal;
  if (!out) return Internal("detokenize committed without a result");
  return std::move(*out);
}

Status TokenVault::DetokenizeInTransaction(std::string_view token_number,
                                           const DetokenizeRequest& request,
                                           std::optional<DetokenizedPan>& out, Status& refusal) {
  if (!store_.in_transaction()) {
    return FailedPrecondition("DetokenizeInTransaction needs an open transaction");
  }
  TS_RETURN_IF_ERROR(ValidateText("purpose", request.purpose, kReasonBytesMax, false, true));
  TS_RETURN_IF_ERROR(ValidateAuditEvent({.actor = request.actor,
                                         .action = "detokenize",
                                         .subject = "",
                                         .detail = "purpose=" + request.purpose}));
  {
    out.reset();
    refusal = Status::Ok();
    std::string subject;
    // Records the refusal durably (PCI DSS 10.2.1: invalid access attempts) and commits.
    auto refuse = [&](Status why, std::string_view action, std::string_view reason) -> Status {
      refusal = std::move(why);
      return audit_
          ->AppendInTransaction(
              {.actor = request.actor,
               .action = std::string(action),
               .subject = subject,
               .detail = "reason=" + std::string(reason) + " purpose=" + request.purpose})
          .status();
    };
    Result<TokenRecord> record = LoadInTransaction("token_number", token_number);
    if (!record.ok()) {
      if (record.status().code() != ErrorCode::kNotFound) return record.status();
      return refuse(record.status(), "detokenize_refused", "not_found");
    }
    subject = record->token_id;
    if (record->state != TokenState::kActive &&
        !(request.allow_suspended && record->state == TokenState::kSuspended)) {
      return refuse(FailedPrecondition("token " + record->token_id + " is " +
                                       std::string(TokenStateName(record->state))),
                    "detokenize_refused", TokenStateName(record->state));
    }
    TS_ASSIGN_OR_RETURN(bool expired,
                        ExpiryHasPassed(record->token_expiry, options_.clock->NowUnixMillis()));
    if (expired) {
      return refuse(FailedPrecondition("token " + record->token_id + " expired (" +
                                       record->token_expiry + ")"),
                    "detokenize_refused", "token_expired");
    }
    TS_ASSIGN_OR_RETURN(store::Row row,
                        store_.QueryRow("SELECT pan_ciphertext, pan_nonce, dek_version FROM "
                                        "tsp_tokens WHERE token_id = ?",
                                        {record->token_id}));
    TS_ASSIGN_OR_RETURN(Bytes ciphertext, row.GetBlob("pan_ciphertext"));
    TS_ASSIGN_OR_RETURN(Bytes nonce, row.GetBlob("pan_nonce"));
    TS_ASSIGN_OR_RETURN(std::int64_t version, row.GetInt64("dek_version"));
    Result<DataKeyRef> dek = keys_->KeyForVersion(version);
    if (!dek.ok()) {
      if (dek.status().code() != ErrorCode::kCryptoFailure &&
          dek.status().code() != ErrorCode::kNotFound &&
          dek.status().code() != ErrorCode::kFailedPrecondition) {
        return dek.status();
      }
      return refuse(OpenFailure(record->token_id, version, dek.status()), "detokenize_failed",
                    "data_key_unavailable");
    }
    Result<Bytes> opened = crypto::AesGcmOpen(*dek->key, nonce, ciphertext,
                                              PanAssociatedData(version, record->token_id));
    if (!opened.ok()) {
      return refuse(OpenFailure(record->token_id, version, opened.status()), "detokenize_failed",
                    "decrypt_failed");
    }
    Plaintext plain{std::move(*opened)};
    const std::string_view text(reinterpret_cast<const char*>(plain.bytes.data()),
                                plain.bytes.size());
    const std::size_t sep = text.find('=');
    Result<Pan> pan = sep == std::string_view::npos ? Result<Pan>(Corruption("no separator"))
                                                    : Pan::Parse(text.substr(0, sep));
    const std::string_view expiry = sep == std::string_view::npos ? "" : text.substr(sep + 1);
    if (!pan.ok() || !ValidateYymm(expiry, "pan_expiry").ok()) {
      return refuse(Corruption("token " + record->token_id + ": decrypted PAN record is malformed"),
                    "detokenize_failed", "malformed_plaintext");
    }
    TS_RETURN_IF_ERROR(audit_
                           ->AppendInTransaction({.actor = request.actor,
                                                  .action = "detokenize",
                                                  .subject = record->token_id,
                                                  .detail = "purpose=" + request.purpose})
                           .status());
    out.emplace(DetokenizedPan{*pan, std::string(expiry), *record});
    return Status::Ok();
  }
}

Result<TokenTransition> TokenVault::ChangeState(std::string_view token_id, LifecycleAction action,
                                                const Initiator& initiator,
                                                std::string_view reason) {
  if (action == LifecycleAction::kUpdatePan) {
    return InvalidArgument("ChangeState cannot update the PAN; use UpdatePan");
  }
  return ApplyChange(token_id, action, initiator, reason, nullptr, "");
}

Result<TokenTransition> TokenVault::UpdatePan(std::string_view token_id, const Initiator& initiator,
                                              const Pan& new_pan, std::string_view new_pan_expiry,
                                              std::string_view reason) {
  TS_RETURN_IF_ERROR(ValidateYymm(new_pan_expiry, "new_pan_expiry"));
  return ApplyChange(token_id, LifecycleAction::kUpdatePan, initiator, reason, &new_pan,
                     new_pan_expiry);
}

Result<TokenTransition> TokenVault::ApplyChange(std::string_view token_id, LifecycleAction action,
                                                const Initiator& initiator, std::string_view reason,
                                                const Pan* new_pan,
                                                std::string_view new_pan_expiry) {
  TS_RETURN_IF_ERROR(ValidateText("reason", reason, kReasonBytesMax, true, true));
  const std::string action_name(LifecycleActionName(action));
  TokenTransition transition;
  TS_RETURN_IF_ERROR(RunAudited([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(TokenRecord before, LoadInTransaction("token_id", token_id));
    TS_ASSIGN_OR_RETURN(TokenState to, CheckTransition(before.state, action, initiator,
                                                       before.requestor_id, before.suspended_by));
    const std::int64_t now = options_.clock->NowUnixMillis();
    if (action == LifecycleAction::kDelete) {
      // PCI DSS 3.2.1: the PAN is no longer needed; the number stays to block reuse.
      TS_RETURN_IF_ERROR(
          s.Execute("UPDATE tsp_tokens SET state = 'deleted', suspended_by = NULL, "
                    "pan_fingerprint = NULL, pan_ciphertext = NULL, pan_nonce = NULL, "
                    "dek_version = NULL, updated_unix_ms = ? WHERE token_id = ?",
                    {now, before.token_id})
              .status());
    } else if (action == LifecycleAction::kUpdatePan) {
      TS_ASSIGN_OR_RETURN(DataKeyRef dek, keys_->ActiveKeyInTransaction());
      TS_ASSIGN_OR_RETURN(SealedPan sealed, SealPan(dek, *options_.random, before.token_id,
                                                    *new_pan, new_pan_expiry));
      TS_ASSIGN_OR_RETURN(Bytes fingerprint, PanFingerprint(fingerprint_key_, *new_pan));
      TS_RETURN_IF_ERROR(
          s.Execute("UPDATE tsp_tokens SET pan_ciphertext = ?, pan_nonce = ?, dek_version = ?, "
                    "pan_fingerprint = ?, masked_pan = ?, updated_unix_ms = ? WHERE token_id = ?",
                    {store::Value(sealed.ciphertext), store::Value(sealed.nonce), dek.version,
                     store::Value(fingerprint), new_pan->Masked(), now, before.token_id})
              .status());
    } else {
      const std::optional<InitiatorKind> suspended_by =
          to == TokenState::kSuspended ? std::optional<InitiatorKind>(initiator.kind)
                                       : std::nullopt;
      TS_RETURN_IF_ERROR(
          s.Execute("UPDATE tsp_tokens SET state = ?, suspended_by = ?, "
                    "updated_unix_ms = ? WHERE token_id = ?",
                    {std::string(TokenStateName(to)), store::Value(OptionalKindName(suspended_by)),
                     now, before.token_id})
              .status());
    }
    TS_ASSIGN_OR_RETURN(
        AuditEntry entry,
        audit_->AppendInTransaction({.actor = InitiatorActor(initiator),
                                     .action = "token_" + action_name,
                                     .subject = before.token_id,
                                     .detail = "from=" + std::string(TokenStateName(before.state)) +
                                               " to=" + std::string(TokenStateName(to)) +
                                               " reason=" + std::string(reason)}));
    TS_ASSIGN_OR_RETURN(transition.record, LoadInTransaction("token_id", before.token_id));
    transition.from = before.state;
    transition.audit_seq = entry.seq;
    return Status::Ok();
  }));
  return transition;
}

Result<std::int64_t> TokenVault::RotateDataKey(std::string_view actor) {
  std::int64_t version = 0;
  TS_RETURN_IF_ERROR(RunAudited([&](store::Store&) -> Status {
    TS_ASSIGN_OR_RETURN(version, keys_->RotateInTransaction());
    return audit_
        ->AppendInTransaction({.actor = std::string(actor),
                               .action = "rotate_data_key",
                               .subject = "dek:" + std::to_string(version),
                               .detail = "kek=" + keys_->kek_id()})
        .status();
  }));
  return version;
}

Result<ReencryptReport> TokenVault::ReencryptBatch(std::size_t records_max,
                                                   std::string_view actor) {
  if (records_max == 0 || records_max > kReencryptBatchRecordsMax) {
    return InvalidArgument("records_max must be 1-" + std::to_string(kReencryptBatchRecordsMax));
  }
  ReencryptReport report;
  TS_RETURN_IF_ERROR(RunAudited([&](store::Store& s) -> Status {
    report = ReencryptReport{};
    TS_ASSIGN_OR_RETURN(DataKeyRef active_ref, keys_->ActiveKeyInTransaction());
    // A copy: looking up older versions below may touch the ring's cache.
    const std::int64_t active_version = active_ref.version;
    const crypto::SecretBytes active_key = active_ref.key->Clone();
    const DataKeyRef active{active_version, &active_key};
    TS_ASSIGN_OR_RETURN(
        store::Rows rows,
        s.Query("SELECT token_id, pan_ciphertext, pan_nonce, dek_version FROM tsp_tokens WHERE "
                "pan_ciphertext IS NOT NULL AND dek_version <> ? ORDER BY token_id LIMIT ?",
                {active_version, static_cast<std::int64_t>(records_max)}));
    for (const store::Row& row : rows) {
      TS_ASSIGN_OR_RETURN(std::string token_id, row.GetText("token_id"));
      TS_ASSIGN_OR_RETURN(Bytes ciphertext, row.GetBlob("pan_ciphertext"));
      TS_ASSIGN_OR_RETURN(Bytes nonce, row.GetBlob("pan_nonce"));
      TS_ASSIGN_OR_RETURN(std::int64_t version, row.GetInt64("dek_version"));
      Result<DataKeyRef> old_key = keys_->KeyForVersion(version);
      if (!old_key.ok()) return OpenFailure(token_id, version, old_key.status());
      Result<Bytes> opened = crypto::AesGcmOpen(*old_key->key, nonce, ciphertext,
                                                PanAssociatedData(version, token_id));
      if (!opened.ok()) return OpenFailure(token_id, version, opened.status());
      Plaintext plain{std::move(*opened)};
      TS_ASSIGN_OR_RETURN(SealedPan sealed,
                          SealPlaintext(active, *options_.random, token_id, plain.bytes));
      // Guarded by the old version: a concurrent change of this record makes this a no-op.
      TS_RETURN_IF_ERROR(s.Execute("UPDATE tsp_tokens SET pan_ciphertext = ?, pan_nonce = ?, "
                                   "dek_version = ? WHERE token_id = ? AND dek_version = ?",
                                   {store::Value(sealed.ciphertext), store::Value(sealed.nonce),
                                    active_version, token_id, version})
                             .status());
      ++report.reencrypted;
    }
    TS_ASSIGN_OR_RETURN(store::Row left,
                        s.QueryRow("SELECT count(*) AS n FROM tsp_tokens WHERE pan_ciphertext IS "
                                   "NOT NULL AND dek_version <> ?",
                                   {active_version}));
    TS_ASSIGN_OR_RETURN(report.remaining, left.GetInt64("n"));
    report.active_dek_version = active_version;
    // An empty batch changed nothing: not logged, so an idle background loop does not flood the
    // log.
    if (report.reencrypted == 0) return Status::Ok();
    return audit_
        ->AppendInTransaction({.actor = std::string(actor),
                               .action = "reencrypt_batch",
                               .subject = "dek:" + std::to_string(active_version),
                               .detail = "records=" + std::to_string(report.reencrypted) +
                                         " remaining=" + std::to_string(report.remaining)})
        .status();
  }));
  return report;
}

Result<std::vector<std::int64_t>> TokenVault::RetireUnusedDataKeys(std::string_view actor) {
  std::vector<std::int64_t> retired;
  TS_RETURN_IF_ERROR(RunAudited([&](store::Store&) -> Status {
    TS_ASSIGN_OR_RETURN(retired, keys_->RetireUnusedInTransaction());
    if (retired.empty()) return Status::Ok();
    std::string versions;
    for (std::int64_t v : retired) versions += (versions.empty() ? "" : ",") + std::to_string(v);
    return audit_
        ->AppendInTransaction({.actor = std::string(actor),
                               .action = "retire_data_keys",
                               .subject = "",
                               .detail = "versions=" + versions})
        .status();
  }));
  return retired;
}

Result<std::int64_t> TokenVault::RewrapDataKeys(KeyEncryptionKey new_kek, std::string_view actor) {
  std::int64_t rewrapped = 0;
  const std::string old_id = keys_->kek_id();
  TS_RETURN_IF_ERROR(RunAudited([&](store::Store&) -> Status {
    TS_ASSIGN_OR_RETURN(rewrapped, keys_->RewrapAllInTransaction(new_kek));
    return audit_
        ->AppendInTransaction({.actor = std::string(actor),
                               .action = "rewrap_data_keys",
                               .subject = "",
                               .detail = "from_kek=" + old_id + " to_kek=" + new_kek.id +
                                         " keys=" + std::to_string(rewrapped)})
        .status();
  }));
  keys_->AdoptKek(std::move(new_kek));
  return rewrapped;
}

std::size_t TokenVault::MemoryBytesEstimate() const {
  return keys_->cached_keys() * kCachedDekBytesEstimate;
}

}  // namespace tapstack::tsp
