// DataKeyRing: the vault's envelope keys (ledger-and-vault.md §8 item 3; PCI DSS 3.6.1: keys that
// protect account data are stored encrypted under a key-encrypting key, stored separately).
//
//   KEK (key-encrypting key)  held outside the database (an HSM/KMS later; a SecretBytes now),
//                             named by an id that is stored next to what it wraps
//   DEK (data key), versioned AES-256 keys that encrypt PANs; stored only wrapped:
//        wrapped = AES-256-GCM(KEK, nonce, DEK, AD)       (crypto/aead.h, SP 800-38D)
//        AD      = "tapstack-dek-v1" ‖ 0x00 ‖ version (8 bytes BE) ‖ kek_id (ASCII)
//   Binding the version stops a wrapped key being swapped into another version's row; binding the
//   KEK id makes a mislabelled KEK fail authentication instead of yielding a wrong key.
//
// DEK states: exactly one `active` (encrypts new records); `decrypt_only` (older versions still
// used by records until re-encryption moves them); `retired` (no record uses it; its wrapped bytes
// are erased, i.e. crypto-shredded). Readers decrypt with any non-retired version, so rotation
// and background re-encryption need no downtime.
//
// The ring works inside the caller's transaction on the ring's store (the *InTransaction calls),
// so a key change commits atomically with its audit entry. It caches unwrapped DEKs (32 bytes each,
// in SecretBytes) but reads the key's row on every use (one primary-key lookup) and trusts the
// cache only while the stored wrapped bytes are the ones it unwrapped: a version created in a
// transaction that rolled back and was re-created with another key, a retirement or a re-wrap by
// another connection are all seen at once. Another connection's rotation is seen at the next
// ActiveKeyInTransaction.
//
// Thread-safety: one thread at a time, like its Store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "store/store.h"

namespace tapstack::tsp {

inline constexpr std::size_t kKekIdBytesMax = 64;

struct KeyEncryptionKey {
  std::string id;           // 1-64 characters of A-Z a-z 0-9 . _ - (names the key in the KMS)
  crypto::SecretBytes key;  // 32 bytes (AES-256)
};

enum class DataKeyState { kActive, kDecryptOnly, kRetired };
std::string_view DataKeyStateName(DataKeyState state);

struct DataKeyInfo {
  std::int64_t version = 0;
  DataKeyState state = DataKeyState::kActive;
  std::string kek_id;
  std::int64_t created_unix_ms = 0;
};

// A DEK for use: the pointer stays valid until the next call on the ring.
struct DataKeyRef {
  std::int64_t version = 0;
  const crypto::SecretBytes* key = nullptr;
};

// Checks the KEK's id and length. Errors: kInvalidArgument naming "kek.id" or "kek.key".
Status ValidateKek(const KeyEncryptionKey& kek);

class DataKeyRing {
 public:
  // Applies the TSP schema; creates DEK version 1 under `kek` if the database has no data key;
  // unwraps the active DEK to prove `kek` is the right key. `store`, `random` and `clock` are not
  // owned and must outlive the ring. Errors: ValidateKek's; kFailedPrecondition when the active
  // DEK is wrapped under another KEK id; kCryptoFailure when it does not unwrap (wrong KEK bytes or
  // a tampered row); the store's.
  static Result<std::unique_ptr<DataKeyRing>> Open(store::Store& store, KeyEncryptionKey kek,
                                                   RandomSource& random, const Clock& clock);

  // The current active DEK. Call inside a transaction on the ring's store. Errors: as
  // KeyForVersion; kCorruption when there is no active key.
  Result<DataKeyRef> ActiveKeyInTransaction();

  // The DEK of `version`, from the cache or unwrapped from the database. Errors: kNotFound (no such
  // version); kFailedPrecondition (retired, or wrapped under a KEK id this ring does not hold);
  // kCryptoFailure (the wrapped key does not authenticate: tampered, wrong KEK); the store's.
  Result<DataKeyRef> KeyForVersion(std::int64_t version);

  // Creates version max+1 as active and demotes the previous active key to decrypt_only. Call
  // inside a transaction. Returns the new version. Errors: kOutOfRange past kDataKeyVersionsMax;
  // the random source's; the store's.
  Result<std::int64_t> RotateInTransaction();

  // Re-wraps every non-retired DEK under `new_kek` (new nonce, new AD with the new id). Call inside
  // a transaction, then AdoptKek(new_kek) once it committed. Returns the number re-wrapped.
  // Errors: ValidateKek's; kInvalidArgument when new_kek.id equals the current id (the rows could
  // no longer say which KEK wraps them); KeyForVersion's.
  Result<std::int64_t> RewrapAllInTransaction(const KeyEncryptionKey& new_kek);
  // Switches this ring to `kek` (after RewrapAllInTransaction committed).
  void AdoptKek(KeyEncryptionKey kek) { kek_ = std::move(kek); }

  // Retires decrypt_only versions that no token record uses (erasing their wrapped bytes). Call
  // inside a transaction. Returns the versions retired.
  Result<std::vector<std::int64_t>> RetireUnusedInTransaction();

  // All versions, oldest first.
  Result<std::vector<DataKeyInfo>> List();

  const std::string& kek_id() const { return kek_.id; }
  // Unwrapped DEKs held in memory (for memory estimates: 32 key bytes plus map overhead each).
  std::size_t cached_keys() const { return cache_.size(); }

 private:
  DataKeyRing(store::Store& store, KeyEncryptionKey kek, RandomSource& random, const Clock& clock)
      : store_(store), kek_(std::move(kek)), random_(random), clock_(clock) {}
  Status InsertNewKey(std::int64_t version);

  store::Store& store_;
  KeyEncryptionKey kek_;
  RandomSource& random_;
  const Clock& clock_;
  struct CachedKey {
    Bytes wrapped;  // the wrapped bytes `key` came from
    crypto::SecretBytes key;
  };
  std::map<std::int64_t, CachedKey> cache_;
};

}  // namespace tapstack::tsp
