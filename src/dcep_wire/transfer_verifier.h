// TransferVerifier: VerifyOfflineTransferFromRoot for many transfers, remembering the
// certificate chains it has already verified.
//
// An offline transfer carries its payer's chain (root → operator → device), so checking one from
// scratch costs three signature verifications. A chain's signatures and linkage are facts of its
// bytes: once verified they stay verified, so an operator reconciling thousands of transfers from
// the same devices (or a payee paid by the same watch again) verifies each chain once and then
// only the transfer's own signature — one verification per transfer, the floor. What can change
// is checked on every call: expiry (against now_unix_s) and revocation.
//
// The cache holds at most `chains_max` chains (keyed by the SHA-256 of the two certificates'
// encodings) with their device's parsed public key; when full it is cleared and refills.
// Thread-safe: verification runs outside the cache's lock, so threads verify in parallel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "crypto/signature.h"
#include "dcep_wire/offline_transfer.h"

namespace tapstack::dcep_wire {

inline constexpr std::size_t kVerifiedChainsMaxDefault = 65'536;

class TransferVerifier {
 public:
  explicit TransferVerifier(crypto::PublicKey root_key,
                            std::size_t chains_max = kVerifiedChainsMaxDefault);

  // Same result as VerifyOfflineTransferFromRoot(transfer, chain, root_key, now_unix_s,
  // is_revoked), errors included.
  Status Verify(const OfflineTransfer& transfer, const CertificateChain& chain,
                std::int64_t now_unix_s, const IsRevoked& is_revoked = {});

  struct Stats {
    std::uint64_t chains_verified = 0;  // full chain verifications (cache misses)
    std::uint64_t chain_hits = 0;
  };
  Stats stats() const;

 private:
  crypto::PublicKey root_key_;
  std::size_t chains_max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, crypto::PublicKey> device_keys_;  // chain digest → device key
  Stats stats_;
};

}  // namespace tapstack::dcep_wire
