#include "dcep/hardware_wallets.h"

#include "crypto/csprng.h"
#include "dcep_wire/payment_request.h"

namespace tapstack::dcep {

namespace {

constexpr std::size_t kNonceBytes = 16;
constexpr std::uint16_t kCnyNumeric = 156;

}  // namespace

Result<Bytes> HardwareWallets::CertifyDevice(std::string_view wallet_id, std::string_view device_id,
                                             crypto::SignatureScheme scheme, ByteView public_key_raw) {
  TS_ASSIGN_OR_RETURN(const WalletInfo wallet, op_.Wallet(wallet_id));
  TS_RETURN_IF_ERROR(op_.RegisterDevice(wallet_id, device_id));
  DeviceCertificateRequest request;
  request.device_id = std::string(device_id);
  request.scheme = scheme;
  request.public_key_raw.assign(public_key_raw.begin(), public_key_raw.end());
  request.tier = wallet.tier;
  TS_RETURN_IF_ERROR(authority_.IssueDeviceCertificate(request).status());
  return authority_.DeviceChain(device_id);
}

Result<Bytes> HardwareWallets::Load(std::string_view wallet_id, std::string_view device_id,
                                    std::int64_t amount_fen, std::string_view idempotency_key) {
  // What would refuse the order is checked before any value moves: a certified device, not
  // revoked, an amount within its offline balance cap.
  TS_ASSIGN_OR_RETURN(const dcep_wire::Certificate cert, authority_.DeviceCertificate(device_id));
  TS_ASSIGN_OR_RETURN(const bool revoked, authority_.IsRevoked(device_id));
  if (revoked) return FailedPrecondition("device_id: " + std::string(device_id) + " is revoked");
  if (amount_fen <= 0 || amount_fen > cert.body.offline_balance_max_fen) {
    return InvalidArgument("amount_fen: expected 1 to " +
                           std::to_string(cert.body.offline_balance_max_fen) +
                           " fen (the device's offline balance cap)");
  }
  // The purse first: a load order is only ever signed for value already in the purse. A retry
  // with the same key replays the funding and returns the same order.
  TS_RETURN_IF_ERROR(op_.FundOfflinePurse(wallet_id, device_id, amount_fen, idempotency_key).status());
  return authority_.SignLoadOrder(device_id, amount_fen, idempotency_key);
}

Result<UploadResult> HardwareWallets::Upload(std::string_view device_id, ByteView log_records) {
  return settlement_.Upload(device_id, log_records);
}

Result<Bytes> HardwareWallets::RequestUnload(std::string_view device_id, std::int64_t amount_fen) {
  if (amount_fen <= 0) return InvalidArgument("amount_fen: expected a positive amount");
  TS_RETURN_IF_ERROR(authority_.DeviceCertificate(device_id).status());
  // The operator appears to the device as payee "op-<id>", certified like a device (its key is
  // the operator's own; it never signs a transfer).
  const std::string self = std::string(kUnloadPayeePrefix) + op_.id();
  Result<dcep_wire::Certificate> payee = authority_.DeviceCertificate(self);
  if (!payee.ok()) {
    DeviceCertificateRequest request;
    request.device_id = self;
    request.scheme = authority_.scheme();
    request.public_key_raw = authority_.public_key_raw();
    request.tier = kTierHighest;
    TS_RETURN_IF_ERROR(authority_.IssueDeviceCertificate(request).status());
    payee = authority_.DeviceCertificate(self);
  }
  TS_RETURN_IF_ERROR(payee.status());
  TS_ASSIGN_OR_RETURN(dcep_wire::Certificate operator_cert, authority_.OperatorCertificate());
  dcep_wire::PaymentRequest request;
  request.amount_fen = amount_fen;
  request.currency_numeric = kCnyNumeric;
  request.payee_nonce.resize(kNonceBytes);
  crypto::Csprng random;
  TS_RETURN_IF_ERROR(random.Fill(request.payee_nonce));
  request.payee_device = std::move(*payee);
  request.payee_operator = std::move(operator_cert);
  return dcep_wire::EncodePaymentRequest(request);
}

}  // namespace tapstack::dcep
