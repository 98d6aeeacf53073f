// HardwareWallets: one operator's service for the hardware wallets (watches, cards, phone SEs)
// of its customers — what the wallet app calls while the device is online:
//
//   CertifyDevice  the device generated its key pair (InstallDcepWallet / GENERATE KEY PAIR);
//                  the operator binds it to a wallet and returns the E4 chain for PUT
//                  CERTIFICATES (the device certificate carries the wallet tier's offline caps)
//   Load           wallet → the device's offline purse (ledger), then a signed E5 load order
//   Upload         a READ LOG answer → settlement (dcep/offline_settlement.h) → the E7 ack
//   RequestUnload  an E1 payment request from the operator ("op-<id>") for PAY; the signed
//                  transfer, once uploaded, moves the value purse → wallet
//   Freeze / RecoverFrozenBalance   a lost device
//
// Every call that moves value takes an idempotency key and is safe to retry: Load funds the
// purse and signs the order under keys derived from the caller's key, so a retry after a crash
// between the two finishes the second step without funding twice.
//
// Thread-safe (its parts are).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "dcep/certificate_authority.h"
#include "dcep/offline_settlement.h"
#include "dcep/operator.h"

namespace tapstack::dcep {

class HardwareWallets {
 public:
  // Not owned; all must outlive this object and belong to the same operator.
  HardwareWallets(Operator& op, OperatorAuthority& authority, OfflineSettlement& settlement)
      : op_(op), authority_(authority), settlement_(settlement) {}

  // Certifies `device_id` (public key from the device's GENERATE KEY PAIR) for `wallet_id` at
  // the wallet's tier and returns the E4 chain. Errors: kNotFound (wallet), kAlreadyExists (the
  // device belongs to another wallet), as OperatorAuthority::IssueDeviceCertificate.
  Result<Bytes> CertifyDevice(std::string_view wallet_id, std::string_view device_id,
                              crypto::SignatureScheme scheme, ByteView public_key_raw);

  // Funds the device's purse from the wallet and returns the load order (E5) for LOAD.
  // Errors: as Operator::FundOfflinePurse and OperatorAuthority::SignLoadOrder.
  Result<Bytes> Load(std::string_view wallet_id, std::string_view device_id,
                     std::int64_t amount_fen, std::string_view idempotency_key);

  // Settles a READ LOG answer of the device. Errors: as OfflineSettlement::Upload.
  Result<UploadResult> Upload(std::string_view device_id, ByteView log_records);

  // The operator's payment request (E1) for unloading `amount_fen` from the device back to its
  // wallet: the device PAYs it, then uploads its log. Errors: kNotFound (device), kInvalidArgument
  // (amount), kFailedPrecondition (no operator certificate).
  Result<Bytes> RequestUnload(std::string_view device_id, std::int64_t amount_fen);

  Status Freeze(std::string_view device_id) { return settlement_.FreezeDevice(device_id); }
  Result<std::int64_t> RecoverFrozenBalance(std::string_view device_id) {
    return settlement_.RecoverFrozenBalance(device_id);
  }

  OperatorAuthority& authority() { return authority_; }
  OfflineSettlement& settlement() { return settlement_; }

 private:
  Operator& op_;
  OperatorAuthority& authority_;
  OfflineSettlement& settlement_;
};

}  // namespace tapstack::dcep
