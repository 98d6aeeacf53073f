// TokenKeys: the card keys of each token and their delivery to the one device that holds the
// token (emv-and-tokenization.md §8 and §10).
//
// Every token's MK-AC is derived, never stored: the token BIN range's issuer master key (the
// TokenRangeKeys that TokenAuthorization verifies ARQCs with) and the range's cryptogram profile
// (Option A for "mc-cvn20", PAN = token number, PSN kTokenPsn), so the TSP and the card compute
// the same keys. Two storages:
//   "se"   secure element: the MK-AC itself goes to the device (device::KeyMode::kMasterKey); the
//          applet derives a session key per ATC;
//   "hce"  host card emulation: no master key leaves the TSP; the device gets a batch of
//          single-use AC session keys, each bound to one ATC (DeriveCardSessionKey for that ATC).
//          The next ATC to issue is stored per token and advanced in the same transaction that
//          reserves a batch, before any key is derived: an ATC is never issued twice, also across
//          restarts (a batch whose delivery fails burns its ATCs rather than reusing them).
// Delivery: device::TokenCredentials → EncodeTokenCredentials → crypto::WrapForDevice(device
// public key, device id, token id), so only that secure element can open it, and only for that
// token. The device's public key and the storage are bound to the token at provisioning (Bind).
//
// Bind and the ATC reservation of WrappedCredentials join a transaction the caller has open on the
// store (store_transaction.h), so provisioning commits them with the token.
//
// Thread-safety: none (one thread at a time, like the store and the vault). `store`, `vault` and
// `clock` are not owned and must outlive the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"
#include "tsp/token_authorization.h"
#include "tsp/token_vault.h"

namespace tapstack::tsp {

enum class KeyStorage { kSe, kHce };

// Single-use keys in the first HCE provisioning; replenishment asks for its own count.
inline constexpr std::size_t kHceInitialKeys = 10;
// The PAN sequence number of every token (the TSP issues one card per token number).
inline constexpr std::string_view kTokenPsn = "00";
// The highest ATC (tag 9F36 is 2 bytes, Book 3 Annex A).
inline constexpr std::uint32_t kAtcMax = 0xFFFF;

// "se" / "hce".
std::string_view KeyStorageName(KeyStorage storage);
// Errors: kInvalidArgument naming `field` ("storage") and the accepted values.
Result<KeyStorage> ParseKeyStorage(std::string_view name, std::string_view field = "storage");
// OK when `key` is an uncompressed P-256 point (65 bytes, 04 ‖ X ‖ Y, on the curve) usable for
// WrapForDevice. Errors: kInvalidArgument naming `field`.
Status CheckDevicePublicKey(ByteView key, std::string_view field = "device_public_key");

class TokenKeys {
 public:
  // Applies the TSP schema. `ranges`: the token BIN ranges with their IMK-AC and profile (clones
  // of what TokenAuthorization holds). Errors: kInvalidArgument naming the range (no ranges, an
  // unknown profile, a BIN that is not 8 digits); the store's.
  static Result<std::unique_ptr<TokenKeys>> Open(store::Store& store, TokenVault& vault,
                                                 const Clock& clock,
                                                 std::vector<TokenRangeKeys> ranges);
  ~TokenKeys();

  // Binds `token_id` to its device key and storage (replaces an earlier binding of the same
  // token, e.g. a re-provisioning after the phone was reset; the HCE ATC counter is kept).
  // Errors: kInvalidArgument (bad key); the store's.
  Status Bind(std::string_view token_id, KeyStorage storage, ByteView device_public_key);

  // The storage bound to the token. Errors: kNotFound (never bound); the store's.
  Result<KeyStorage> StorageOf(std::string_view token_id);

  // The full credentials of an ACTIVE token (SE: MK-AC; HCE: a first batch of kHceInitialKeys
  // single-use keys, reserved durably), wrapped for its device. Errors: kNotFound (token, binding
  // or key range); kFailedPrecondition (token not active; ATCs exhausted); crypto and store errors.
  Result<Bytes> WrappedCredentials(std::string_view token_id);

  // A replenishment batch of `count` (1..device::kLimitedUseKeysPerBatchMax) single-use keys for
  // an active HCE token, wrapped for its device. Errors: kInvalidArgument (count);
  // kFailedPrecondition (an SE token, a token not active, ATCs exhausted); as above.
  Result<Bytes> ReplenishBatch(std::string_view token_id, std::size_t count);

  // The next ATC the TSP would issue for an HCE token (1 before the first batch). For tests and
  // operations. Errors: kNotFound; the store's.
  Result<std::uint32_t> NextAtc(std::string_view token_id);

 private:
  struct Range;
  struct Binding {
    KeyStorage storage = KeyStorage::kSe;
    Bytes device_public_key;
  };
  TokenKeys(store::Store& store, TokenVault& vault, const Clock& clock);

  Result<Binding> LoadBinding(std::string_view token_id);
  const Range* RangeFor(std::string_view token_number) const;
  // Reserves `count` ATCs; returns the first.
  Result<std::uint32_t> ReserveAtcs(std::string_view token_id, std::size_t count);
  Result<Bytes> Wrap(std::string_view token_id, bool replenishment, std::size_t hce_keys);

  store::Store& store_;
  TokenVault& vault_;
  const Clock& clock_;
  std::vector<Range> ranges_;
};

}  // namespace tapstack::tsp
