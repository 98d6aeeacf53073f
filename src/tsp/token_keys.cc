#include "tsp/token_keys.h"

#include "core/hex.h"
#include "crypto/device_key_wrap.h"
#include "crypto/key_agreement.h"
#include "device/token_credentials.h"
#include "emv/card_keys.h"
#include "emv/cryptogram_profile.h"
#include "tsp/schema.h"
#include "tsp/store_transaction.h"

namespace tapstack::tsp {

struct TokenKeys::Range {
  std::string low;
  std::string high;
  const emv::CryptogramProfile* profile = nullptr;
  crypto::SecretBytes imk;
};

TokenKeys::TokenKeys(store::Store& store, TokenVault& vault, const Clock& clock)
    : store_(store), vault_(vault), clock_(clock) {}
TokenKeys::~TokenKeys() = default;

std::string_view KeyStorageName(KeyStorage storage) {
  return storage == KeyStorage::kHce ? "hce" : "se";
}

Result<KeyStorage> ParseKeyStorage(std::string_view name, std::string_view field) {
  if (name == "se") return KeyStorage::kSe;
  if (name == "hce") return KeyStorage::kHce;
  return InvalidArgument(std::string(field) + ": expected \"se\" or \"hce\"");
}

Status CheckDevicePublicKey(ByteView key, std::string_view field) {
  const std::string expected =
      std::string(field) + ": expected an uncompressed P-256 point (65 bytes, 04 || X || Y)";
  if (key.size() != crypto::kEcdhP256PublicKeyBytes || key[0] != 0x04) {
    return InvalidArgument(expected);
  }
  // The point checks WrapForDevice runs on the key (on the curve, not infinity: SP 800-56A
  // 5.6.2.3.3), so a bad key is refused before anything is stored. Not a trial wrap: that would
  // add an ephemeral key generation and an ECDH per check, the largest CPU cost of provisioning.
  if (!crypto::CheckEcdhP256PublicKey(key).ok()) return InvalidArgument(expected);
  return Status::Ok();
}

Result<std::unique_ptr<TokenKeys>> TokenKeys::Open(store::Store& store, TokenVault& vault,
                                                   const Clock& clock,
                                                   std::vector<TokenRangeKeys> ranges) {
  if (ranges.empty()) return InvalidArgument("token_ranges: expected at least one range");
  std::unique_ptr<TokenKeys> keys(new TokenKeys(store, vault, clock));
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    TokenRangeKeys& r = ranges[i];
    const std::string name = "token_ranges[" + std::to_string(i) + "]";
    if (r.low.size() != 8 || r.high.size() != 8 || !IsAllDigits(r.low) || !IsAllDigits(r.high) ||
        r.low > r.high) {
      return InvalidArgument(name + ": expected 8-digit BINs low <= high");
    }
    const emv::CryptogramProfile* profile = emv::FindCryptogramProfile(r.profile_name);
    if (profile == nullptr) return InvalidArgument(name + ".profile_name: unknown profile");
    keys->ranges_.push_back(Range{r.low, r.high, profile, std::move(r.issuer_master_key)});
  }
  TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  return keys;
}

const TokenKeys::Range* TokenKeys::RangeFor(std::string_view token_number) const {
  if (token_number.size() < 8) return nullptr;
  const std::string_view bin = token_number.substr(0, 8);
  for (const Range& r : ranges_) {
    if (bin >= r.low && bin <= r.high) return &r;
  }
  return nullptr;
}

Status TokenKeys::Bind(std::string_view token_id, KeyStorage storage,
                       ByteView device_public_key) {
  TS_RETURN_IF_ERROR(CheckDevicePublicKey(device_public_key));
  return store_
      .Execute(
          "INSERT INTO tsp_token_keys (token_id, storage, device_public_key, next_atc, "
          "updated_unix_ms) VALUES (?, ?, ?, 1, ?) ON CONFLICT (token_id) DO UPDATE SET "
          "storage = excluded.storage, device_public_key = excluded.device_public_key, "
          "updated_unix_ms = excluded.updated_unix_ms",
          {token_id, KeyStorageName(storage), device_public_key, clock_.NowUnixMillis()})
      .status()
      .WithContext("token keys bind");
}

Result<TokenKeys::Binding> TokenKeys::LoadBinding(std::string_view token_id) {
  Result<store::Row> row = store_.QueryRow(
      "SELECT storage, device_public_key FROM tsp_token_keys WHERE token_id = ?", {token_id});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) {
      return NotFound("token " + std::string(token_id) + " has no device binding");
    }
    return row.status();
  }
  Binding b;
  TS_ASSIGN_OR_RETURN(const std::string storage, row->GetText(0));
  Result<KeyStorage> parsed = ParseKeyStorage(storage);
  if (!parsed.ok()) return Corruption("tsp_token_keys.storage: " + storage);
  b.storage = *parsed;
  TS_ASSIGN_OR_RETURN(b.device_public_key, row->GetBlob(1));
  return b;
}

Result<KeyStorage> TokenKeys::StorageOf(std::string_view token_id) {
  TS_ASSIGN_OR_RETURN(const Binding b, LoadBinding(token_id));
  return b.storage;
}

Result<std::uint32_t> TokenKeys::NextAtc(std::string_view token_id) {
  Result<store::Row> row =
      store_.QueryRow("SELECT next_atc FROM tsp_token_keys WHERE token_id = ?", {token_id});
  if (!row.ok()) return row.status();
  TS_ASSIGN_OR_RETURN(const std::int64_t next, row->GetInt64(0));
  return static_cast<std::uint32_t>(next);
}

Result<std::uint32_t> TokenKeys::ReserveAtcs(std::string_view token_id, std::size_t count) {
  std::uint32_t first = 0;
  Status s = RunInTransactionOrJoin(store_, [&](store::Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(store::Row row,
                        tx.QueryRow("SELECT next_atc FROM tsp_token_keys WHERE token_id = ?",
                                    {token_id}));
    TS_ASSIGN_OR_RETURN(const std::int64_t next, row.GetInt64(0));
    const std::int64_t after = next + static_cast<std::int64_t>(count);
    if (next < 1 || after - 1 > kAtcMax) {
      return FailedPrecondition("token " + std::string(token_id) +
                                ": ATCs exhausted (the token must be re-provisioned)");
    }
    first = static_cast<std::uint32_t>(next);
    return tx
        .Execute("UPDATE tsp_token_keys SET next_atc = ?, updated_unix_ms = ? WHERE token_id = ?",
                 {after, clock_.NowUnixMillis(), token_id})
        .status();
  });
  if (!s.ok()) return s.WithContext("hce atc reservation");
  return first;
}

Result<Bytes> TokenKeys::Wrap(std::string_view token_id, bool replenishment,
                              std::size_t hce_keys) {
  TS_ASSIGN_OR_RETURN(const TokenRecord record, vault_.Get(token_id));
  if (record.state != TokenState::kActive) {
    return FailedPrecondition("token " + record.token_id + " is " +
                              std::string(TokenStateName(record.state)) + ", not active");
  }
  TS_ASSIGN_OR_RETURN(const Binding binding, LoadBinding(token_id));
  if (replenishment && binding.storage != KeyStorage::kHce) {
    return FailedPrecondition("token " + record.token_id +
                              " is stored in a secure element: it derives its own session keys");
  }
  const Range* range = RangeFor(record.token_number);
  if (range == nullptr) return NotFound("no keys for the BIN range of token " + record.token_id);

  device::TokenCredentials c;
  c.token_id = record.token_id;
  if (!replenishment) {
    c.token_number = record.token_number;
    c.expiry_yymm = record.token_expiry;
    c.psn = std::string(kTokenPsn);
    c.profile_name = std::string(range->profile->name);
  }
  TS_ASSIGN_OR_RETURN(
      crypto::SecretBytes mk,
      emv::DeriveCardMasterKey(*range->profile, range->imk, record.token_number, kTokenPsn));
  if (binding.storage == KeyStorage::kSe) {
    c.mode = device::KeyMode::kMasterKey;
    c.icc_master_key = std::move(mk);
  } else {
    c.mode = device::KeyMode::kLimitedUse;
    TS_ASSIGN_OR_RETURN(const std::uint32_t first, ReserveAtcs(token_id, hce_keys));
    for (std::size_t i = 0; i < hce_keys; ++i) {
      const auto atc = static_cast<std::uint16_t>(first + i);
      TS_ASSIGN_OR_RETURN(crypto::SecretBytes sk,
                          emv::DeriveCardSessionKey(*range->profile, mk, atc, {}));
      c.limited_use_keys.push_back(device::LimitedUseKey{atc, std::move(sk)});
    }
  }
  TS_ASSIGN_OR_RETURN(const crypto::SecretBytes plain,
                      device::EncodeTokenCredentials(c, replenishment));
  return crypto::WrapForDevice(binding.device_public_key, record.device_id, record.token_id,
                               plain);
}

Result<Bytes> TokenKeys::WrappedCredentials(std::string_view token_id) {
  return Wrap(token_id, false, kHceInitialKeys);
}

Result<Bytes> TokenKeys::ReplenishBatch(std::string_view token_id, std::size_t count) {
  if (count == 0 || count > device::kLimitedUseKeysPerBatchMax) {
    return InvalidArgument("count: expected 1-" +
                           std::to_string(device::kLimitedUseKeysPerBatchMax));
  }
  return Wrap(token_id, true, count);
}

}  // namespace tapstack::tsp
