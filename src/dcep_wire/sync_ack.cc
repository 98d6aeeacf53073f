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
constexpr std::string_view kWhat = "sync acknowledgement";

}  // namespace

Result<Bytes> EncodeSyncAckBody(const SyncAckBody& b) {
  TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(b.device_id, "sync acknowledgement device id (C1)"));
  if (b.operator_time_unix_s < 0) return InvalidArgument("sync acknowledgement time (9A): negative");
  if (b.revoked_device_ids.size() > kRevokedDevicesMax) {
    return OutOfRange("sync acknowledgement revoked ids (C7): at most " +
                      std::to_string(kRevokedDevicesMax));
  }
  internal::TlvWriter revoked;
  for (const std::string& id : b.revoked_device_ids) {
    TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(id, "revoked device id (C7/C1)"));
    revoked.PutText(kTagDeviceId, id);
  }
  // C7 { C1 ... }: the list of C1 objects is the value of the primitive C7.
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
  TS_ASSIGN_OR_RETURN(const ByteView list, f.Value(kTagRevoked, "revoked device ids"));
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  Result<emv::TlvTree> ids = emv::DecodeTlv(list, options);
  if (!ids.ok()) return ids.status().WithContext("sync acknowledgement: tag C7 (revoked device ids)");
  for (const emv::TlvNode& node : ids->roots()) {
    if (node.tag != kTagDeviceId) {
      return InvalidArgument("sync acknowledgement: tag C7 holds tag " + emv::TlvTagHex(node.tag) +
                             ", expected only C1");
    }
    if (b.revoked_device_ids.size() >= kRevokedDevicesMax) {
      return OutOfRange("sync acknowledgement: tag C7 lists more than " +
                        std::to_string(kRevokedDevicesMax) + " device ids");
    }
    const std::string id(node.value.begin(), node.value.end());
    Status checked = internal::CheckDeviceIdText(id, "sync acknowledgement: tag C7/C1 (revoked device id)");
    if (!checked.ok()) return checked;
    b.revoked_device_ids.push_back(id);
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
