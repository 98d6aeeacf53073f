// `dcep-offline-verify`: verifying signed offline digital-currency transfers with their
// certificate chains (root → operator → device) as a payee or the operator does, through
// dcep_wire::TransferVerifier (each device chain verified once, then one signature per
// transfer). Peer: raw OpenSSL EVP_DigestVerify of the same signatures with prepared keys (the
// floor: one verification per transfer, nothing else). The fixture and the raw verifier are shared
// with bench/dcep_offline_bench.cc.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benchkit/scenario.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/transfer_verifier.h"

namespace tapstack::benchkit {

// The clock of the fixture: certificates are valid until kOfflineNotAfterUnixS.
inline constexpr std::int64_t kOfflineNowUnixS = 1'795'000'000;
inline constexpr std::int64_t kOfflineNotAfterUnixS = 1'900'000'000;

struct SignedOfflineTransfer {
  dcep_wire::OfflineTransfer transfer;
  std::size_t device = 0;  // index into OfflineTransferSet::chains / device_keys
};

// A root, one operator and `devices` payer devices of one scheme, and `transfers` signed
// transfers taken from the devices in turn (as an operator's reconciliation sees them).
struct OfflineTransferSet {
  crypto::SignatureScheme scheme = crypto::SignatureScheme::kEcdsaP256Sha256;
  std::optional<crypto::PublicKey> root;
  std::vector<crypto::PrivateKey> device_keys;
  std::vector<dcep_wire::CertificateChain> chains;
  std::vector<SignedOfflineTransfer> transfers;
};

// Errors: devices or transfers < 1 (kInvalidArgument), a key or signing failure.
Result<OfflineTransferSet> MakeOfflineTransfers(crypto::SignatureScheme scheme, int devices, int transfers);

// Raw OpenSSL verification of the set's transfer signatures: EVP_PKEYs built once from the
// devices' SPKI (crypto/ keeps its own EVP_PKEY private), then EVP_DigestVerifyInit +
// EVP_DigestVerify per transfer. Not thread-safe to create; Verify may run on many threads.
class RawSignatureVerifier {
 public:
  static Result<std::unique_ptr<RawSignatureVerifier>> Create(const OfflineTransferSet& set);
  ~RawSignatureVerifier();
  RawSignatureVerifier(const RawSignatureVerifier&) = delete;
  RawSignatureVerifier& operator=(const RawSignatureVerifier&) = delete;

  // Errors (kCryptoFailure): the signature does not verify.
  Status Verify(const SignedOfflineTransfer& s) const;

 private:
  RawSignatureVerifier() = default;
  crypto::SignatureScheme scheme_ = crypto::SignatureScheme::kEcdsaP256Sha256;
  std::vector<EVP_PKEY*> keys_;
};

class DcepOfflineVerifyScenario : public Scenario {
 public:
  std::string_view name() const override { return "dcep-offline-verify"; }
  std::string_view description() const override {
    return "verify one signed offline transfer with its certificate chain (chains cached)";
  }
  std::vector<ScenarioOption> options() const override;
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  bool has_peer() const override { return true; }
  PeerFigure MeasurePeer(const RunLimits& limits) override;

 private:
  OfflineTransferSet set_;
  std::unique_ptr<dcep_wire::TransferVerifier> verifier_;
  std::vector<std::size_t> next_;  // per thread: the next transfer to verify
};

}  // namespace tapstack::benchkit
