#include "tsp/data_key_ring.h"

#include "core/hex.h"
#include "crypto/aead.h"
#include "tsp/limits.h"
#include "tsp/schema.h"

namespace tapstack::tsp {

namespace {

constexpr std::string_view kDekDomain = "tapstack-dek-v1";

Bytes DekAssociatedData(std::int64_t version, std::string_view kek_id) {
  Bytes ad(kDekDomain.begin(), kDekDomain.end());
  ad.push_back(0x00);
  const Bytes v = UintToBytes(static_cast<std::uint64_t>(version), 8);
  ad.insert(ad.end(), v.begin(), v.end());
  ad.insert(ad.end(), kek_id.begin(), kek_id.end());
  return ad;
}

struct Wrapped {
  Bytes nonce;
  Bytes sealed;
};

Result<Wrapped> Wrap(const KeyEncryptionKey& kek, RandomSource& random, std::int64_t version,
                     const crypto::SecretBytes& dek) {
  Wrapped w;
  w.nonce.resize(crypto::kGcmNonceBytes);
  TS_RETURN_IF_ERROR(random.Fill(w.nonce));
  TS_ASSIGN_OR_RETURN(w.sealed, crypto::AesGcmSeal(kek.key, w.nonce, dek.reveal(),
                                                   DekAssociatedData(version, kek.id)));
  return w;
}

Result<DataKeyState> ParseDataKeyState(std::string_view name) {
  for (DataKeyState s :
       {DataKeyState::kActive, DataKeyState::kDecryptOnly, DataKeyState::kRetired}) {
    if (DataKeyStateName(s) == name) return s;
  }
  return Corruption("unknown data key state '" + std::string(name.substr(0, 32)) + "'");
}

}  // namespace

std::string_view DataKeyStateName(DataKeyState state) {
  switch (state) {
    case DataKeyState::kActive:
      return "active";
    case DataKeyState::kDecryptOnly:
      return "decrypt_only";
    case DataKeyState::kRetired:
      return "retired";
  }
  return "unknown";
}

Status ValidateKek(const KeyEncryptionKey& kek) {
  if (kek.id.empty() || kek.id.size() > kKekIdBytesMax) {
    return InvalidArgument("kek.id must be 1-" + std::to_string(kKekIdBytesMax) + " characters");
  }
  for (char c : kek.id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return InvalidArgument("kek.id may contain only A-Z a-z 0-9 . _ -");
  }
  if (kek.key.size() != crypto::kAes256GcmKeyBytes) {
    return InvalidArgument("kek.key must be 32 bytes (AES-256); got " +
                           std::to_string(kek.key.size()));
  }
  return Status::Ok();
}

Result<std::unique_ptr<DataKeyRing>> DataKeyRing::Open(store::Store& store, KeyEncryptionKey kek,
                                                       RandomSource& random, const Clock& clock) {
  TS_RETURN_IF_ERROR(ValidateKek(kek));
  TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  std::unique_ptr<DataKeyRing> ring(new DataKeyRing(store, std::move(kek), random, clock));
  TS_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(store::Row row, s.QueryRow("SELECT count(*) AS n FROM tsp_data_keys"));
    TS_ASSIGN_OR_RETURN(std::int64_t n, row.GetInt64("n"));
    if (n == 0) TS_RETURN_IF_ERROR(ring->InsertNewKey(1));
    return ring->ActiveKeyInTransaction().status();
  }));
  return ring;
}

Status DataKeyRing::InsertNewKey(std::int64_t version) {
  crypto::SecretBytes dek = crypto::SecretBytes::Zeroed(crypto::kAes256GcmKeyBytes);
  TS_RETURN_IF_ERROR(random_.Fill(dek.mutable_bytes()));
  TS_ASSIGN_OR_RETURN(Wrapped w, Wrap(kek_, random_, version, dek));
  TS_RETURN_IF_ERROR(
      store_
          .Execute("INSERT INTO tsp_data_keys (version, state, kek_id, wrap_nonce, wrapped_key, "
                   "created_unix_ms) VALUES (?, 'active', ?, ?, ?, ?)",
                   {version, kek_.id, store::Value(w.nonce), store::Value(w.sealed),
                    clock_.NowUnixMillis()})
          .status());
  // Not cached here: the transaction may still roll back; KeyForVersion unwraps it on first use.
  return Status::Ok();
}

Result<DataKeyRef> DataKeyRing::ActiveKeyInTransaction() {
  if (!store_.in_transaction())
    return FailedPrecondition("active data key read outside a transaction");
  Result<store::Row> row =
      store_.QueryRow("SELECT version FROM tsp_data_keys WHERE state = 'active'");
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) {
      return Corruption("tsp_data_keys has no active data key");
    }
    return row.status();
  }
  TS_ASSIGN_OR_RETURN(std::int64_t version, row->GetInt64("version"));
  return KeyForVersion(version);
}

Result<DataKeyRef> DataKeyRing::KeyForVersion(std::int64_t version) {
  Result<store::Row> row = store_.QueryRow(
      "SELECT state, kek_id, wrap_nonce, wrapped_key FROM tsp_data_keys WHERE version = ?",
      {version});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) {
      return NotFound("data key version " + std::to_string(version) + " does not exist");
    }
    return row.status();
  }
  const std::string at = "data key version " + std::to_string(version);
  TS_ASSIGN_OR_RETURN(std::string state_name, row->GetText("state"));
  TS_ASSIGN_OR_RETURN(DataKeyState state, ParseDataKeyState(state_name));
  if (state == DataKeyState::kRetired) {
    cache_.erase(version);
    return FailedPrecondition(at + " is retired");
  }
  TS_ASSIGN_OR_RETURN(std::string kek_id, row->GetText("kek_id"));
  TS_ASSIGN_OR_RETURN(Bytes nonce, row->GetBlob("wrap_nonce"));
  TS_ASSIGN_OR_RETURN(Bytes sealed, row->GetBlob("wrapped_key"));
  if (auto it = cache_.find(version); it != cache_.end()) {
    if (it->second.wrapped == sealed && kek_id == kek_.id)
      return DataKeyRef{version, &it->second.key};
    cache_.erase(it);
  }
  if (kek_id != kek_.id) {
    return FailedPrecondition(at + " is wrapped under KEK '" + kek_id +
                              "'; this vault holds KEK '" + kek_.id + "'");
  }
  Result<Bytes> dek =
      crypto::AesGcmOpen(kek_.key, nonce, sealed, DekAssociatedData(version, kek_id));
  if (!dek.ok()) {
    return CryptoFailure(at + " does not unwrap under KEK '" + kek_.id +
                         "' (wrong KEK or tampered row): " + dek.status().message());
  }
  if (dek->size() != crypto::kAes256GcmKeyBytes) {
    SecureWipe(dek->data(), dek->size());
    return Corruption(at + " unwraps to " + std::to_string(dek->size()) + " bytes; expected 32");
  }
  auto [it, inserted] =
      cache_.emplace(version, CachedKey{std::move(sealed), crypto::SecretBytes(std::move(*dek))});
  return DataKeyRef{version, &it->second.key};
}

Result<std::int64_t> DataKeyRing::RotateInTransaction() {
  if (!store_.in_transaction())
    return FailedPrecondition("data key rotation outside a transaction");
  TS_ASSIGN_OR_RETURN(store::Row row,
                      store_.QueryRow("SELECT COALESCE(MAX(version), 0) AS v FROM tsp_data_keys"));
  TS_ASSIGN_OR_RETURN(std::int64_t max_version, row.GetInt64("v"));
  if (max_version >= kDataKeyVersionsMax) {
    return OutOfRange("data key versions exhausted: at most " +
                      std::to_string(kDataKeyVersionsMax));
  }
  TS_RETURN_IF_ERROR(
      store_.Execute("UPDATE tsp_data_keys SET state = 'decrypt_only' WHERE state = 'active'")
          .status());
  TS_RETURN_IF_ERROR(InsertNewKey(max_version + 1));
  return max_version + 1;
}

Result<std::int64_t> DataKeyRing::RewrapAllInTransaction(const KeyEncryptionKey& new_kek) {
  TS_RETURN_IF_ERROR(ValidateKek(new_kek));
  if (!store_.in_transaction()) return FailedPrecondition("KEK re-wrap outside a transaction");
  if (new_kek.id == kek_.id) {
    return InvalidArgument("new kek.id equals the current KEK id '" + kek_.id +
                           "'; a new KEK needs a new id");
  }
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_.Query("SELECT version FROM tsp_data_keys WHERE state <> 'retired' "
                                   "ORDER BY version"));
  std::int64_t rewrapped = 0;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::int64_t version, row.GetInt64("version"));
    TS_ASSIGN_OR_RETURN(DataKeyRef dek, KeyForVersion(version));
    TS_ASSIGN_OR_RETURN(Wrapped w, Wrap(new_kek, random_, version, *dek.key));
    TS_RETURN_IF_ERROR(
        store_
            .Execute("UPDATE tsp_data_keys SET kek_id = ?, wrap_nonce = ?, "
                     "wrapped_key = ? WHERE version = ?",
                     {new_kek.id, store::Value(w.nonce), store::Value(w.sealed), version})
            .status());
    ++rewrapped;
  }
  return rewrapped;
}

Result<std::vector<std::int64_t>> DataKeyRing::RetireUnusedInTransaction() {
  if (!store_.in_transaction())
    return FailedPrecondition("data key retirement outside a transaction");
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_.Query("SELECT k.version AS version FROM tsp_data_keys k WHERE k.state = "
                   "'decrypt_only' AND NOT EXISTS (SELECT 1 FROM tsp_tokens t WHERE "
                   "t.dek_version = k.version) ORDER BY k.version"));
  std::vector<std::int64_t> retired;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::int64_t version, row.GetInt64("version"));
    TS_RETURN_IF_ERROR(
        store_
            .Execute("UPDATE tsp_data_keys SET state = 'retired', wrap_nonce = NULL, "
                     "wrapped_key = NULL WHERE version = ?",
                     {version})
            .status());
    retired.push_back(version);
  }
  // Safe before the commit too: after a rollback KeyForVersion unwraps them again.
  for (std::int64_t v : retired) cache_.erase(v);
  return retired;
}

Result<std::vector<DataKeyInfo>> DataKeyRing::List() {
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_.Query("SELECT version, state, kek_id, created_unix_ms FROM "
                                   "tsp_data_keys ORDER BY version"));
  std::vector<DataKeyInfo> out;
  for (const store::Row& row : rows) {
    DataKeyInfo info;
    TS_ASSIGN_OR_RETURN(info.version, row.GetInt64("version"));
    TS_ASSIGN_OR_RETURN(std::string state, row.GetText("state"));
    TS_ASSIGN_OR_RETURN(info.state, ParseDataKeyState(state));
    TS_ASSIGN_OR_RETURN(info.kek_id, row.GetText("kek_id"));
    TS_ASSIGN_OR_RETURN(info.created_unix_ms, row.GetInt64("created_unix_ms"));
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace tapstack::tsp
