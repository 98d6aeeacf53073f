// Sync acknowledgement: the operator's signed answer to a device's upload, carrying the
// revocation list (docs/dcep-offline.md):
//
//   E7 { E8 body { C1 device id | C5 log sequence acknowledged (4) | 9A operator time unix s (8)
//        | C6 revocation list version (4) | C7 revoked devices }
//      | 5F37 signature by the operator key over the complete E8 encoding }
//
// C7 is a primitive tag under BER, so its value is a nested list: one pair
// `42 issuer (operator) id | C1 device id` per revoked device, possibly none. The list is the
// network's (merged across operators, dcep/certificate_authority.h), so each device is named with
// the operator that certified it: device ids are unique per operator only. Issuer ids here use the
// device-id alphabet (operator ids are 1-16 of a-z 0-9). At most kRevokedDevicesMax pairs.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {

inline constexpr emv::TlvTag kTagSyncAck = 0xE7;
inline constexpr emv::TlvTag kTagSyncAckBody = 0xE8;

// A revoked device: the operator that certified it and its id.
struct RevokedDevice {
  std::string issuer_id;
  std::string device_id;
  friend bool operator==(const RevokedDevice&, const RevokedDevice&) = default;
};

struct SyncAckBody {
  std::string device_id;
  std::uint32_t log_sequence_acknowledged = 0;  // every log record up to this one is settled
  std::int64_t operator_time_unix_s = 0;
  std::uint32_t revocation_list_version = 0;
  std::vector<RevokedDevice> revoked;

  friend bool operator==(const SyncAckBody&, const SyncAckBody&) = default;
};

struct SyncAck {
  SyncAckBody body;
  Bytes signed_body;  // the complete E8 encoding
  Bytes signature;
  Bytes encoded;
};

// Errors (kInvalidArgument): device or issuer ids, negative time; kOutOfRange above
// kRevokedDevicesMax.
Result<Bytes> EncodeSyncAckBody(const SyncAckBody& body);
Result<Bytes> IssueSyncAck(const SyncAckBody& body, const crypto::PrivateKey& operator_key);
// Errors (kInvalidArgument) name the tag; kOutOfRange above kSyncAckBytesMax or
// kRevokedDevicesMax devices.
Result<SyncAck> ParseSyncAck(ByteView encoded);
Status VerifySyncAck(const SyncAck& ack, const crypto::PublicKey& operator_key);

}  // namespace tapstack::dcep_wire
