#include "dcep_wire/offline_transfer.h"

#include "dcep_wire/internal/tlv_fields.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {

namespace {

constexpr emv::TlvTag kTagVersion = 0x5F29;
constexpr emv::TlvTag kTagPayerDeviceId = 0xC1;
constexpr emv::TlvTag kTagPayerCounter = 0xC2;
constexpr emv::TlvTag kTagPayeeDeviceId = 0xC3;
constexpr emv::TlvTag kTagNonce = 0x9F37;
constexpr emv::TlvTag kTagAmount = 0x9F02;
constexpr emv::TlvTag kTagCurrency = 0x5F2A;
constexpr emv::TlvTag kTagTime = 0x9A;
constexpr emv::TlvTag kTagSerial = 0x93;
constexpr std::string_view kWhat = "offline transfer";

}  // namespace

Result<Bytes> EncodeOfflineTransferBody(const OfflineTransferBody& b) {
  TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(b.payer_device_id, "payer device id (C1)"));
  TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(b.payee_device_id, "payee device id (C3)"));
  if (b.payee_nonce.size() != kNonceBytes) {
    return InvalidArgument("offline transfer nonce (9F37): expected 16 bytes");
  }
  if (b.amount_fen <= 0) return InvalidArgument("offline transfer amount (9F02): must be positive");
  if (b.time_unix_s < 0) return InvalidArgument("offline transfer time (9A): negative");
  internal::TlvWriter w;
  w.PutUint(kTagVersion, kFormatVersion, 1);
  w.PutText(kTagPayerDeviceId, b.payer_device_id);
  w.PutUint(kTagPayerCounter, b.payer_counter, kCounterBytes);
  w.PutText(kTagPayeeDeviceId, b.payee_device_id);
  w.Put(kTagNonce, b.payee_nonce);
  w.PutUint(kTagAmount, static_cast<std::uint64_t>(b.amount_fen), kAmountBytes);
  w.PutUint(kTagCurrency, b.currency_numeric, kCurrencyBytes);
  w.PutUint(kTagTime, static_cast<std::uint64_t>(b.time_unix_s), kUnixTimeBytes);
  w.PutUint(kTagSerial, b.payer_certificate_serial, kSerialBytes);
  return w.Finish(kTagOfflineTransferBody);
}

Result<Bytes> SignOfflineTransfer(const OfflineTransferBody& body,
                                  const crypto::PrivateKey& payer_key) {
  TS_ASSIGN_OR_RETURN(const Bytes signed_body, EncodeOfflineTransferBody(body));
  return internal::SignEnvelope(kTagOfflineTransfer, signed_body, payer_key);
}

Result<OfflineTransfer> ParseOfflineTransfer(ByteView encoded) {
  emv::TlvTree tree;
  TS_RETURN_IF_ERROR(
      internal::DecodeOne(encoded, kTagOfflineTransfer, kWhat, kOfflineTransferBytesMax, tree));
  TS_ASSIGN_OR_RETURN(const internal::SignedParts parts,
                      internal::ReadSigned(tree, *tree.roots().begin(), kTagOfflineTransferBody,
                                           kWhat));
  const internal::FieldReader f(tree, *parts.body, kWhat);
  TS_RETURN_IF_ERROR(f.CheckTags({kTagVersion, kTagPayerDeviceId, kTagPayerCounter,
                                  kTagPayeeDeviceId, kTagNonce, kTagAmount, kTagCurrency, kTagTime,
                                  kTagSerial}));
  OfflineTransfer t;
  OfflineTransferBody& b = t.body;
  TS_ASSIGN_OR_RETURN(const std::uint64_t version, f.Uint(kTagVersion, "version", 1));
  if (version != kFormatVersion) {
    return InvalidArgument("offline transfer: tag 5F29 (version) must be 01");
  }
  TS_ASSIGN_OR_RETURN(b.payer_device_id, f.DeviceId(kTagPayerDeviceId, "payer device id"));
  TS_ASSIGN_OR_RETURN(const std::uint64_t counter,
                      f.Uint(kTagPayerCounter, "payer counter", kCounterBytes));
  b.payer_counter = static_cast<std::uint32_t>(counter);
  TS_ASSIGN_OR_RETURN(b.payee_device_id, f.DeviceId(kTagPayeeDeviceId, "payee device id"));
  TS_ASSIGN_OR_RETURN(const ByteView nonce, f.Fixed(kTagNonce, "payee nonce", kNonceBytes));
  b.payee_nonce.assign(nonce.begin(), nonce.end());
  TS_ASSIGN_OR_RETURN(b.amount_fen, f.Amount(kTagAmount, "amount"));
  if (b.amount_fen == 0) return InvalidArgument("offline transfer: tag 9F02 (amount) is zero");
  TS_ASSIGN_OR_RETURN(const std::uint64_t currency, f.Uint(kTagCurrency, "currency", kCurrencyBytes));
  b.currency_numeric = static_cast<std::uint16_t>(currency);
  TS_ASSIGN_OR_RETURN(b.time_unix_s, f.UnixSeconds(kTagTime, "time"));
  TS_ASSIGN_OR_RETURN(b.payer_certificate_serial,
                      f.Uint(kTagSerial, "payer certificate serial", kSerialBytes));
  t.signed_body.assign(parts.body_bytes.begin(), parts.body_bytes.end());
  t.signature.assign(parts.signature.begin(), parts.signature.end());
  t.encoded.assign(encoded.begin(), encoded.end());
  return t;
}

Status VerifyOfflineTransfer(const OfflineTransfer& transfer, const crypto::PublicKey& payer_key) {
  return internal::VerifyBody(payer_key, transfer.signed_body, transfer.signature,
                              "offline transfer " + transfer.body.payer_device_id + "/" +
                                  std::to_string(transfer.body.payer_counter));
}

Result<Bytes> EncodeCertificateChain(const CertificateChain& chain) {
  if (chain.device.encoded.empty() || chain.operator_cert.encoded.empty()) {
    return InvalidArgument("certificate chain (E4): both certificates are required");
  }
  internal::TlvWriter w;
  w.PutRaw(chain.device.encoded);
  w.PutRaw(chain.operator_cert.encoded);
  return w.Finish(kTagCertificateChain);
}

Result<CertificateChain> ParseCertificateChain(ByteView encoded) {
  emv::TlvTree tree;
  TS_RETURN_IF_ERROR(internal::DecodeOne(encoded, kTagCertificateChain, "certificate chain",
                                         kCertificateChainBytesMax, tree));
  CertificateChain chain;
  std::size_t count = 0;
  for (const emv::TlvNode& child : tree.children(*tree.roots().begin())) {
    if (child.tag != kTagCertificate) {
      return InvalidArgument("certificate chain: unexpected tag " + emv::TlvTagHex(child.tag));
    }
    Result<Certificate> cert = ParseCertificate(internal::NodeBytes(tree, child));
    if (!cert.ok()) return cert.status().WithContext("certificate chain: tag 7F21");
    if (count == 0) chain.device = std::move(cert).value();
    if (count == 1) chain.operator_cert = std::move(cert).value();
    ++count;
  }
  if (count != 2) {
    return InvalidArgument("certificate chain: expected 2 certificates (7F21: device, operator), got " +
                           std::to_string(count));
  }
  return chain;
}

Result<TransferWithChain> ParseTransferWithChain(ByteView encoded) {
  if (encoded.size() > kOfflineTransferBytesMax + kCertificateChainBytesMax) {
    return OutOfRange("transfer with chain: " + std::to_string(encoded.size()) + " bytes, at most " +
                      std::to_string(kOfflineTransferBytesMax + kCertificateChainBytesMax));
  }
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  Result<emv::TlvTree> tree = emv::DecodeTlv(encoded, options);
  if (!tree.ok()) return tree.status().WithContext("transfer with chain");
  auto it = tree->roots().begin();
  if (it == tree->roots().end() || it->tag != kTagOfflineTransfer) {
    return InvalidArgument("transfer with chain: expected E2 first");
  }
  const emv::TlvNode& transfer_node = *it;
  ++it;
  if (it == tree->roots().end() || it->tag != kTagCertificateChain) {
    return InvalidArgument("transfer with chain: expected E4 after E2");
  }
  const emv::TlvNode& chain_node = *it;
  if (++it != tree->roots().end()) {
    return InvalidArgument("transfer with chain: bytes after E4");
  }
  TransferWithChain out;
  TS_ASSIGN_OR_RETURN(out.transfer, ParseOfflineTransfer(internal::NodeBytes(*tree, transfer_node)));
  TS_ASSIGN_OR_RETURN(out.chain, ParseCertificateChain(internal::NodeBytes(*tree, chain_node)));
  return out;
}

Status VerifyOfflineTransferFromRoot(const OfflineTransfer& transfer, const CertificateChain& chain,
                                     const crypto::PublicKey& root_key, std::int64_t now_unix_s,
                                     const IsRevoked& is_revoked) {
  TS_RETURN_IF_ERROR(
      VerifyChain(root_key, chain.operator_cert, chain.device, now_unix_s, is_revoked));
  TS_RETURN_IF_ERROR(CheckTransferNamesChain(transfer, chain));
  Result<crypto::PublicKey> key = chain.device.PublicKey();
  if (!key.ok()) return CryptoFailure("offline transfer: the payer certificate's key is unusable");
  return VerifyOfflineTransfer(transfer, *key);
}

Status CheckTransferNamesChain(const OfflineTransfer& transfer, const CertificateChain& chain) {
  if (transfer.body.payer_device_id != chain.device.body.subject_id) {
    return CryptoFailure("offline transfer: payer " + transfer.body.payer_device_id +
                         " is not the chain's device " + chain.device.body.subject_id);
  }
  if (transfer.body.payer_certificate_serial != chain.device.body.serial) {
    return CryptoFailure("offline transfer: payer certificate serial (93) is not the chain's");
  }
  return Status::Ok();
}

}  // namespace tapstack::dcep_wire
