#include "dcep_wire/payment_request.h"

#include "dcep_wire/internal/tlv_fields.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {

namespace {

constexpr emv::TlvTag kTagAmount = 0x9F02;
constexpr emv::TlvTag kTagCurrency = 0x5F2A;
constexpr emv::TlvTag kTagNonce = 0x9F37;
constexpr emv::TlvTag kTagTime = 0x9A;
constexpr std::string_view kWhat = "payment request";

}  // namespace

Result<Bytes> EncodePaymentRequest(const PaymentRequest& r) {
  if (r.amount_fen <= 0) return InvalidArgument("payment request amount (9F02): must be positive");
  if (r.payee_nonce.size() != kNonceBytes) {
    return InvalidArgument("payment request nonce (9F37): expected 16 bytes");
  }
  if (r.time_unix_s < 0) return InvalidArgument("payment request time (9A): negative");
  if (r.payee_device.encoded.empty() || r.payee_operator.encoded.empty()) {
    return InvalidArgument("payment request: the payee's device and operator certificates are required");
  }
  internal::TlvWriter w;
  w.PutUint(kTagAmount, static_cast<std::uint64_t>(r.amount_fen), kAmountBytes);
  w.PutUint(kTagCurrency, r.currency_numeric, kCurrencyBytes);
  w.Put(kTagNonce, r.payee_nonce);
  w.PutUint(kTagTime, static_cast<std::uint64_t>(r.time_unix_s), kUnixTimeBytes);
  w.PutRaw(r.payee_device.encoded);
  w.PutRaw(r.payee_operator.encoded);
  return w.Finish(kTagPaymentRequest);
}

Result<PaymentRequest> ParsePaymentRequest(ByteView encoded) {
  emv::TlvTree tree;
  TS_RETURN_IF_ERROR(
      internal::DecodeOne(encoded, kTagPaymentRequest, kWhat, kPaymentRequestBytesMax, tree));
  const emv::TlvNode& root = *tree.roots().begin();
  PaymentRequest r;
  // Two certificates in order; every other tag at most once.
  std::size_t certificates = 0;
  for (const emv::TlvNode& child : tree.children(root)) {
    if (child.tag != kTagCertificate) continue;
    const ByteView bytes = internal::NodeBytes(tree, child);
    Result<Certificate> cert = ParseCertificate(bytes);
    if (!cert.ok()) return cert.status().WithContext("payment request: tag 7F21");
    if (certificates == 0) r.payee_device = std::move(cert).value();
    if (certificates == 1) r.payee_operator = std::move(cert).value();
    ++certificates;
  }
  if (certificates != 2) {
    return InvalidArgument("payment request: expected 2 certificates (7F21: device, operator), got " +
                           std::to_string(certificates));
  }
  const internal::FieldReader f(tree, root, kWhat);
  // CheckTags refuses repeats, so check the other tags on their own.
  for (const emv::TlvNode& child : tree.children(root)) {
    if (child.tag != kTagCertificate && child.tag != kTagAmount && child.tag != kTagCurrency &&
        child.tag != kTagNonce && child.tag != kTagTime) {
      return InvalidArgument("payment request: unexpected tag " + emv::TlvTagHex(child.tag));
    }
  }
  for (emv::TlvTag tag : {kTagAmount, kTagCurrency, kTagNonce, kTagTime}) {
    std::size_t seen = 0;
    for (const emv::TlvNode& child : tree.children(root)) seen += child.tag == tag ? 1 : 0;
    if (seen > 1) {
      return InvalidArgument("payment request: tag " + emv::TlvTagHex(tag) + " appears twice");
    }
  }
  TS_ASSIGN_OR_RETURN(r.amount_fen, f.Amount(kTagAmount, "amount"));
  if (r.amount_fen == 0) return InvalidArgument("payment request: tag 9F02 (amount) is zero");
  TS_ASSIGN_OR_RETURN(const std::uint64_t currency, f.Uint(kTagCurrency, "currency", kCurrencyBytes));
  r.currency_numeric = static_cast<std::uint16_t>(currency);
  TS_ASSIGN_OR_RETURN(const ByteView nonce, f.Fixed(kTagNonce, "payee nonce", kNonceBytes));
  r.payee_nonce.assign(nonce.begin(), nonce.end());
  TS_ASSIGN_OR_RETURN(r.time_unix_s, f.UnixSeconds(kTagTime, "time"));
  return r;
}

}  // namespace tapstack::dcep_wire
