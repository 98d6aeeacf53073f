#include "dcep_wire/load_order.h"

#include "dcep_wire/internal/tlv_fields.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {

namespace {

constexpr emv::TlvTag kTagDeviceId = 0xC1;
constexpr emv::TlvTag kTagLoadSequence = 0xC4;
constexpr emv::TlvTag kTagAmount = 0x9F02;
constexpr emv::TlvTag kTagCurrency = 0x5F2A;
constexpr emv::TlvTag kTagSerial = 0x93;
constexpr std::string_view kWhat = "load order";

}  // namespace

Result<Bytes> EncodeLoadOrderBody(const LoadOrderBody& b) {
  TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(b.device_id, "load order device id (C1)"));
  if (b.amount_fen <= 0) return InvalidArgument("load order amount (9F02): must be positive");
  internal::TlvWriter w;
  w.PutText(kTagDeviceId, b.device_id);
  w.PutUint(kTagLoadSequence, b.load_sequence, kSequenceBytes);
  w.PutUint(kTagAmount, static_cast<std::uint64_t>(b.amount_fen), kAmountBytes);
  w.PutUint(kTagCurrency, b.currency_numeric, kCurrencyBytes);
  w.PutUint(kTagSerial, b.operator_certificate_serial, kSerialBytes);
  return w.Finish(kTagLoadOrderBody);
}

Result<Bytes> IssueLoadOrder(const LoadOrderBody& body, const crypto::PrivateKey& operator_key) {
  TS_ASSIGN_OR_RETURN(const Bytes signed_body, EncodeLoadOrderBody(body));
  return internal::SignEnvelope(kTagLoadOrder, signed_body, operator_key);
}

Result<LoadOrder> ParseLoadOrder(ByteView encoded) {
  emv::TlvTree tree;
  TS_RETURN_IF_ERROR(internal::DecodeOne(encoded, kTagLoadOrder, kWhat, kLoadOrderBytesMax, tree));
  TS_ASSIGN_OR_RETURN(
      const internal::SignedParts parts,
      internal::ReadSigned(tree, *tree.roots().begin(), kTagLoadOrderBody, kWhat));
  const internal::FieldReader f(tree, *parts.body, kWhat);
  TS_RETURN_IF_ERROR(
      f.CheckTags({kTagDeviceId, kTagLoadSequence, kTagAmount, kTagCurrency, kTagSerial}));
  LoadOrder order;
  LoadOrderBody& b = order.body;
  TS_ASSIGN_OR_RETURN(b.device_id, f.DeviceId(kTagDeviceId, "device id"));
  TS_ASSIGN_OR_RETURN(const std::uint64_t sequence,
                      f.Uint(kTagLoadSequence, "load sequence", kSequenceBytes));
  b.load_sequence = static_cast<std::uint32_t>(sequence);
  TS_ASSIGN_OR_RETURN(b.amount_fen, f.Amount(kTagAmount, "amount"));
  if (b.amount_fen == 0) return InvalidArgument("load order: tag 9F02 (amount) is zero");
  TS_ASSIGN_OR_RETURN(const std::uint64_t currency, f.Uint(kTagCurrency, "currency", kCurrencyBytes));
  b.currency_numeric = static_cast<std::uint16_t>(currency);
  TS_ASSIGN_OR_RETURN(b.operator_certificate_serial,
                      f.Uint(kTagSerial, "operator certificate serial", kSerialBytes));
  order.signed_body.assign(parts.body_bytes.begin(), parts.body_bytes.end());
  order.signature.assign(parts.signature.begin(), parts.signature.end());
  order.encoded.assign(encoded.begin(), encoded.end());
  return order;
}

Status VerifyLoadOrder(const LoadOrder& order, const crypto::PublicKey& operator_key) {
  return internal::VerifyBody(operator_key, order.signed_body, order.signature, kWhat);
}

}  // namespace tapstack::dcep_wire
