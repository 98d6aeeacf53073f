#include "dcep_wire/sync_ack.h"

#include "dcep_wire/internal/tlv_fields.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {

namespace {

constexpr emv::TlvTag kTagDeviceId = 0xC1;
constexpr emv::TlvTag kTagLogSequence = 0xC5;
constexpr emv::TlvTag kTagTime = 0x9A;
constexpr emv::TlvTag kTagListVersion = 0xC6;
constexpr emv::TlvTag kTagRevoked = 0xC7;
constexpr emv::TlvTag kTagIssuerId = 0x42;  // as in certificates
constexpr std::string_view kWhat = "sync acknowledgement";

}  // namespace

Result<Bytes> EncodeSyncAckBody(const SyncAckBody& b) {
  TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(b.device_id, "sync acknowledgement device id (C1)"));
  if (b.operator_time_unix_s < 0) return InvalidArgument("sync acknowledgement time (9A): negative");
  if (b.revoked.size() > kRevokedDevicesMax) {
    return OutOfRange("sync acknowledgement revoked devices (C7): at most " +
                      std::to_string(kRevokedDevicesMax));
  }
  internal::TlvWriter revoked;
  for (const RevokedDevice& d : b.revoked) {
    TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(d.issuer_id, "revoked device issuer id (C7/42)"));
    TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(d.device_id, "revoked device id (C7/C1)"));
    revoked.PutText(kTagIssuerId, d.issuer_id);
    revoked.PutText(kTagDeviceId, d.device_id);
  }
  // C7 { 42 C1 ... }: the list of pairs is the value of the primitive C7.
  TS_ASSIGN_OR_RETURN(const Bytes wrapped, revoked.Finish(kTagRevoked));
  internal::TlvWriter w;
  w.PutText(kTagDeviceId, b.device_id);
  w.PutUint(kTagLogSequence, b.log_sequence_acknowledged, kSequenceBytes);
  w.PutUint(kTagTime, static_cast<std::uint64_t>(b.operator_time_unix_s), kUnixTimeBytes);
  w.PutUint(kTagListVersion, b.revocation_list_version, kSequenceBytes);
  w.PutRaw(wrapped);
  return w.Finish(kTagSyncAckBody);
}

Result<Bytes> IssueSyncAck(const SyncAckBody& body, const crypto::PrivateKey& operator_key) {
  TS_ASSIGN_OR_RETURN(const Bytes signed_body, EncodeSyncAckBody(body));
  return internal::SignEnvelope(kTagSyncAck, signed_body, operator_key);
}

Result<SyncAck> ParseSyncAck(ByteView encoded) {
  emv::TlvTree tree;
  TS_RETURN_IF_ERROR(internal::DecodeOne(encoded, kTagSyncAck, kWhat, kSyncAckBytesMax, tree));
  TS_ASSIGN_OR_RETURN(const internal::SignedParts parts,
                      internal::ReadSigned(tree, *tree.roots().begin(), kTagSyncAckBody, kWhat));
  const internal::FieldReader f(tree, *parts.body, kWhat);
  TS_RETURN_IF_ERROR(
      f.CheckTags({kTagDeviceId, kTagLogSequence, kTagTime, kTagListVersion, kTagRevoked}));
  SyncAck ack;
  SyncAckBody& b = ack.body;
  TS_ASSIGN_OR_RETURN(b.device_id, f.DeviceId(kTagDeviceId, "device id"));
  TS_ASSIGN_OR_RETURN(const std::uint64_t acknowledged,
                      f.Uint(kTagLogSequence, "log sequence acknowledged", kSequenceBytes));
  b.log_sequence_acknowledged = static_cast<std::uint32_t>(acknowledged);
  TS_ASSIGN_OR_RETURN(b.operator_time_unix_s, f.UnixSeconds(kTagTime, "operator time"));
  TS_ASSIGN_OR_RETURN(const std::uint64_t version,
                      f.Uint(kTagListVersion, "revocation list version", kSequenceBytes));
  b.revocation_list_version = static_cast<std::uint32_t>(version);
  TS_ASSIGN_OR_RETURN(const ByteView list, f.Value(kTagRevoked, "revoked devices"));
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  Result<emv::TlvTree> pairs = emv::DecodeTlv(list, options);
  if (!pairs.ok()) return pairs.status().WithContext("sync acknowledgement: tag C7 (revoked devices)");
  std::vector<const emv::TlvNode*> nodes;
  for (const emv::TlvNode& node : pairs->roots()) nodes.push_back(&node);
  if (nodes.size() % 2 != 0) {
    return InvalidArgument("sync acknowledgement: tag C7 holds an odd number of objects, expected "
                           "pairs 42 (issuer id) C1 (device id)");
  }
  if (nodes.size() / 2 > kRevokedDevicesMax) {
    return OutOfRange("sync acknowledgement: tag C7 lists more than " +
                      std::to_string(kRevokedDevicesMax) + " devices");
  }
  for (std::size_t i = 0; i < nodes.size(); i += 2) {
    if (nodes[i]->tag != kTagIssuerId || nodes[i + 1]->tag != kTagDeviceId) {
      return InvalidArgument("sync acknowledgement: tag C7 holds tags " + emv::TlvTagHex(nodes[i]->tag) +
                             " " + emv::TlvTagHex(nodes[i + 1]->tag) +
                             ", expected pairs 42 (issuer id) C1 (device id)");
    }
    RevokedDevice d{std::string(nodes[i]->value.begin(), nodes[i]->value.end()),
                    std::string(nodes[i + 1]->value.begin(), nodes[i + 1]->value.end())};
    TS_RETURN_IF_ERROR(
        internal::CheckDeviceIdText(d.issuer_id, "sync acknowledgement: tag C7/42 (revoked device issuer id)"));
    TS_RETURN_IF_ERROR(
        internal::CheckDeviceIdText(d.device_id, "sync acknowledgement: tag C7/C1 (revoked device id)"));
    b.revoked.push_back(std::move(d));
  }
  ack.signed_body.assign(parts.body_bytes.begin(), parts.body_bytes.end());
  ack.signature.assign(parts.signature.begin(), parts.signature.end());
  ack.encoded.assign(encoded.begin(), encoded.end());
  return ack;
}

Status VerifySyncAck(const SyncAck& ack, const crypto::PublicKey& operator_key) {
  return internal::VerifyBody(operator_key, ack.signed_body, ack.signature, kWhat);
}

}  // namespace tapstack::dcep_wire
