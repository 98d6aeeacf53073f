#include "dcep_wire/transfer_verifier.h"

#include <optional>

#include "crypto/hash.h"

namespace tapstack::dcep_wire {

TransferVerifier::TransferVerifier(crypto::PublicKey root_key, std::size_t chains_max)
    : root_key_(std::move(root_key)), chains_max_(chains_max == 0 ? 1 : chains_max) {}

Status TransferVerifier::Verify(const OfflineTransfer& transfer, const CertificateChain& chain,
                                std::int64_t now_unix_s, const IsRevoked& is_revoked) {
  TS_ASSIGN_OR_RETURN(Bytes digest,
                      crypto::Sha256(Concat({chain.operator_cert.encoded, chain.device.encoded})));
  const std::string key(digest.begin(), digest.end());
  std::optional<crypto::PublicKey> device_key;
  {
    std::lock_guard lock(mu_);
    if (auto it = device_keys_.find(key); it != device_keys_.end()) {
      device_key = it->second;
      ++stats_.chain_hits;
    }
  }
  if (!device_key) {
    // The full check, exactly as a payee without a cache makes it.
    TS_RETURN_IF_ERROR(VerifyOfflineTransferFromRoot(transfer, chain, root_key_, now_unix_s, is_revoked));
    Result<crypto::PublicKey> parsed = chain.device.PublicKey();
    if (!parsed.ok()) return CryptoFailure("offline transfer: the payer certificate's key is unusable");
    std::lock_guard lock(mu_);
    if (device_keys_.size() >= chains_max_) device_keys_.clear();
    device_keys_.emplace(key, *parsed);
    ++stats_.chains_verified;
    return Status::Ok();
  }
  TS_RETURN_IF_ERROR(CheckChainCurrent(chain.operator_cert, chain.device, now_unix_s, is_revoked));
  TS_RETURN_IF_ERROR(CheckTransferNamesChain(transfer, chain));
  return VerifyOfflineTransfer(transfer, *device_key);
}

TransferVerifier::Stats TransferVerifier::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace tapstack::dcep_wire
